// Device mode: poll her session's state, say Stop and faults in the live region, and send
// Stop without a reload (the form still works without this script).
"use strict";
(function () {
  const box = document.getElementById("device-live");
  if (!box) return;
  const id = box.dataset.live;
  const announce = document.getElementById("device-announce");
  const stop = document.getElementById("stop");
  const form = document.getElementById("stop-form");
  const said = { text: announce.textContent };
  function say(text) {
    if (text && text !== said.text) { announce.textContent = text; said.text = text; }
  }
  function show(s) {
    document.getElementById("device-status").textContent = s.status;
    document.getElementById("device-steps").textContent = s.steps_completed;
    document.getElementById("device-step").textContent = s.step || s.status;
    if (typeof s.level === "number") level(s.level, s.done);
    if (s.error) say("Fault: " + s.error + ". Output is off.");
    if (s.done) {
      box.dataset.done = "true";
      stop.disabled = true;
      stop.textContent = "Stopped: no output";
      if (!s.error) say("Session over: " + s.status + (s.reason ? " (" + s.reason + ")" : "") + ". Output is off.");
    }
  }
  // the level: shown in percent of her own, the two forms set one step down and one step up
  const down = document.getElementById("level-down");
  const up = document.getElementById("level-up");
  const shown = document.getElementById("device-level");
  function level(fraction, done) {
    const pct = Math.round(fraction * 100);
    if (shown.textContent !== String(pct)) shown.textContent = String(pct);
    down.form.elements.level.value = String(Math.max(pct - 10, 10) / 100);
    up.form.elements.level.value = String(Math.min(pct + 10, 100) / 100);
    down.disabled = done || pct <= 10;
    up.disabled = done || pct >= 100;
  }
  for (const button of [down, up]) {
    button.form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      const asked = Math.round(Number(button.form.elements.level.value) * 100);
      try {
        const r = await fetch(button.form.action, { method: "POST", body: new FormData(button.form) });
        if (r.ok) { level(asked / 100, false); say("Level " + asked + "% of your own."); }
        else say("The level was not changed (" + r.status + ").");
      } catch (e) { say("The level was not sent: press Stop if it is too strong."); }
    });
  }
  async function poll() {
    try {
      const r = await fetch("/api/device/" + id, { headers: { Accept: "application/json" } });
      if (r.ok) { const s = await r.json(); show(s); if (s.done) return; }
      else say("The device session cannot be read (" + r.status + "): press Stop.");
    } catch (e) { say("Connection lost: press Stop, or switch the device off."); }
    setTimeout(poll, 500);
  }
  if (form) {
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      say("Stopping…");
      stop.disabled = true;
      try {
        const r = await fetch(form.action, { method: "POST", body: new FormData(form) });
        if (r.ok) say("Stopped. Output is off."); else { stop.disabled = false; say("Stop was not taken (" + r.status + "): press Stop again."); }
      } catch (e) { stop.disabled = false; say("Stop was not sent: press Stop again, or switch the device off."); }
    });
  }
  if (box.dataset.done !== "true") poll();
})();
