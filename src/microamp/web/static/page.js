// Behaviour every page may use, wired from data attributes (the Content-Security-Policy allows
// no inline script or on* handler): a [data-print] button prints the page; a range input with
// data-output="ID" shows its value in that <output>.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-print]");
    if (button) window.print();
  });
  document.addEventListener("input", function (event) {
    const input = event.target;
    const id = input.getAttribute && input.getAttribute("data-output");
    const output = id ? document.getElementById(id) : null;
    if (output) output.value = input.value;
  });
})();
