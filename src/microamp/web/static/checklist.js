// The visit's checklist: a timer that counts while its step runs, controls posted in the
// background with the step the server sends back swapped in, each change said once in the
// live region. The state is the server's (a reload shows the same); the microcurrent step
// follows the live session's own events (console.js).
(function () {
  "use strict";
  const root = document.getElementById("checklist");
  if (!root) return;
  const region = document.getElementById("checklist-announce");
  const loadedAt = Date.now();
  // where the focus goes after a control: to the control that undoes it, else the products
  const NEXT_FOCUS = { start: "pause", pause: "start", done: "products", skip: "products", reopen: "start",
    products: "products" };
  const LABELS = { running: "Running", paused: "Paused", completed: "Completed", stopped: "Stopped",
    aborted: "Aborted", interrupted: "Interrupted", refused: "Refused" };

  function announce(text) {
    const said = document.createElement("p");
    said.textContent = text;
    region.appendChild(said);
    while (region.children.length > 10) region.removeChild(region.firstChild);
  }

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  // the time taken as the server counted it when the step arrived, plus the time since
  function tick() {
    root.querySelectorAll("li.visit-step").forEach((li) => {
      if (li.dataset.running !== "true") return;
      const arrived = Number(li.dataset.arrived || loadedAt);
      const taken = Number(li.dataset.taken) + (Date.now() - arrived) / 1000;
      li.querySelector(".step-timer").textContent = clock(taken);
    });
  }
  setInterval(tick, 1000);

  function nameOf(li) {
    return li.querySelector("h3").textContent.replace(/^\d+\.\s*/, "");
  }

  function said(action, li) {
    const name = nameOf(li);
    const taken = li.querySelector(".step-timer").textContent;
    return {
      start: name + " started.",
      pause: name + " paused at " + taken + ".",
      done: name + " done, " + taken + " taken.",
      skip: name + " skipped.",
      reopen: name + " reopened: it can be resumed or done again.",
      products: "Products used in " + name + " saved.",
    }[action];
  }

  // ``sent``: the products the request carried; what was typed after it is kept, not lost
  function swap(li, html, sent) {
    const box = document.createElement("template");
    box.innerHTML = html.trim();
    const fresh = box.content.querySelector("li.visit-step");
    if (!fresh) return null;
    fresh.dataset.arrived = String(Date.now());
    const typing = li.querySelector("input[name=products]");
    const field = fresh.querySelector("input[name=products]");
    if (typing && field && sent !== undefined && typing.value !== sent) field.value = typing.value;
    li.replaceWith(fresh);
    return fresh;
  }

  function settle(li, focusFor, ok, action) {
    if (ok) {
      announce(said(action, li));
    } else {
      const why = li.querySelector("[data-testid=step-refused], .field-error");
      announce(why ? why.textContent : nameOf(li) + " did not change.");
    }
    const want = NEXT_FOCUS[focusFor];
    const target = !ok ? li.querySelector("[aria-invalid=true]") || li.querySelector("h3")
      : want === "products" ? li.querySelector("input[name=products]")
      : li.querySelector('button[value="' + want + '"]') || li.querySelector("h3");
    target.focus();
  }

  function failed(why) {
    announce("The step did not change: " + why + ".");
  }

  function send(form, action) {
    const li = form.closest("li.visit-step");
    const body = new URLSearchParams(new FormData(form));
    body.set("action", action);
    const sent = body.get("products") || "";
    // not form.action: its buttons are named "action", and a named control shadows the property
    fetch(form.getAttribute("action"), {
      method: "POST",
      headers: { "X-Checklist": "1", "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
      credentials: "same-origin",
    }).then((r) => r.text().then((html) => {
      if (r.status !== 200 && r.status !== 409 && r.status !== 422) return failed("the server answered " + r.status);
      // someone typing in the products field while the answer came keeps typing there
      const typing = document.activeElement && document.activeElement.name === "products" &&
        li.contains(document.activeElement);
      const fresh = swap(li, html, sent);
      if (fresh) settle(fresh, typing ? "products" : action, r.status === 200, action);
      else failed("the server answered " + r.status);
    }), () => failed("the server could not be reached"));
  }

  root.addEventListener("submit", (ev) => {
    const form = ev.target.closest("form[data-checklist-form]");
    if (!form) return;
    ev.preventDefault();
    const button = ev.submitter;
    send(form, button && button.name === "action" ? button.value : "products");
  });

  // the microcurrent step is the live session: its badge follows the session's state, and
  // when it ends the step is asked for again (times, the record's link)
  function deviceStep() {
    return root.querySelector('li.visit-step[data-kind="microcurrent"]');
  }

  function refresh(li) {
    const back = root.querySelector("input[name=back]");
    const url = "/visits/" + root.dataset.appointment + "/steps/" + li.dataset.number +
      "?back=" + encodeURIComponent(back ? back.value : "");
    fetch(url, { headers: { "X-Checklist": "1" }, credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : null))
      .then((html) => { if (html) swap(li, html); }, () => {});
  }

  document.addEventListener("microamp:session", (ev) => {
    const li = deviceStep();
    if (!li) return;
    const status = ev.detail.status;
    const badge = li.querySelector("[data-testid=step-status]");
    if (LABELS[status] && badge.textContent !== LABELS[status]) {
      badge.textContent = LABELS[status];
      badge.className = "badge " + status;
    }
    li.dataset.running = status === "running" ? "true" : "false";
    if (ev.detail.ended) refresh(li);
  });
})();
