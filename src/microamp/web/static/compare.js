// The comparison view: a fade slider sets how much of the later (registered) photo shows over
// the first, a flicker button swaps them twice a second, a toggle draws the first photo's
// landmarks over both. Wired from data attributes: the Content-Security-Policy allows no
// inline script.
(function () {
  "use strict";
  const stack = document.querySelector("[data-compare]");
  if (!stack) return;
  const over = stack.querySelector("[data-compare-over]");
  const marks = stack.querySelector("[data-compare-landmarks]");
  const fade = document.querySelector("[data-compare-fade]");
  const flicker = document.querySelector("[data-compare-flicker]");
  const toggle = document.querySelector("[data-compare-toggle-landmarks]");
  let timer = null;

  function setFade() {
    over.style.opacity = String(Number(fade.value) / 100);
  }
  fade.addEventListener("input", setFade);
  setFade();

  flicker.addEventListener("click", function () {
    if (timer !== null) {
      window.clearInterval(timer);
      timer = null;
      flicker.setAttribute("aria-pressed", "false");
      setFade();
      return;
    }
    let shown = false;
    flicker.setAttribute("aria-pressed", "true");
    timer = window.setInterval(function () {
      shown = !shown;
      over.style.opacity = shown ? "1" : "0";
    }, 500);
  });

  toggle.addEventListener("click", function () {
    const showing = marks.hasAttribute("hidden");
    marks.toggleAttribute("hidden", !showing);
    toggle.setAttribute("aria-pressed", showing ? "true" : "false");
  });
})();
