// The live session console: server-sent events in, face map, cue, countdown and chart out.
(function () {
  "use strict";
  const root = document.getElementById("live");
  if (!root) return;
  const id = root.dataset.live;
  const csrf = root.dataset.csrf;
  const steps = JSON.parse(document.getElementById("steps-data").textContent);
  const $ = (name) => document.getElementById(name);
  const HIGHLIGHT = "#e11d48";
  const KEEP = 480;
  const samples = [];
  let paused = false;
  let finished = false;
  let drawPending = false;
  // the operator's own change wins over the stream until the server has had time to take it
  let levelTouchedAt = 0;
  let levelTimer = null;
  const LEVEL_HOLD_MS = 1500;
  // a reading older than this is no reading: never show a stale current as if it flowed now
  const FRESH_MS = 1000;
  const NO_READING = "no reading";
  let lastFrameAt = 0;

  function fmt(value, digits) {
    if (value === null || value === undefined || !isFinite(value)) return "–";
    // measurement noise around zero reads as 0, not "-0"
    return value.toFixed(digits).replace(/^-(0(\.0+)?)$/, "$1");
  }

  function highlight(index) {
    const groups = document.querySelectorAll("#facemap g.step");
    groups.forEach((g) => {
      const on = Number(g.dataset.step) === index;
      g.setAttribute("opacity", on ? "1" : "0.3");
      g.querySelectorAll("polyline").forEach((p) => {
        if (!p.dataset.stroke) p.dataset.stroke = p.getAttribute("stroke");
        p.setAttribute("stroke", on ? HIGHLIGHT : p.dataset.stroke);
        p.setAttribute("stroke-width", on ? "4" : "2.2");
      });
      g.querySelectorAll("circle").forEach((c) => {
        if (!c.dataset.fill) c.dataset.fill = c.getAttribute("fill");
        c.setAttribute("fill", on ? HIGHLIGHT : c.dataset.fill);
      });
      if (on) g.parentNode.appendChild(g);
    });
  }

  // Said once per event: pause, resume and level changes politely, faults and stops at once.
  // Each announcement is a new node in its live region, so the same words said twice are
  // still heard twice; the oldest are dropped.
  function announce(text, urgent) {
    const region = $(urgent ? "announce-urgent" : "announce-polite");
    const said = document.createElement("p");
    said.textContent = text;
    region.appendChild(said);
    while (region.children.length > 20) region.removeChild(region.firstChild);
  }

  function log(text, cls) {
    const li = document.createElement("li");
    li.textContent = text;
    if (cls) li.className = cls;
    const list = $("events");
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 200) list.removeChild(list.lastChild);
  }

  function setStatus(status) {
    const badge = $("status");
    badge.textContent = status;
    badge.className = "badge " + status;
    paused = status === "paused";
    const label = paused ? "Resume" : "Pause";
    if ($("pause").textContent !== label) $("pause").textContent = label;
  }

  function onEvent(e) {
    const t = "t=" + fmt(e.t_s, 1) + " s: ";
    switch (e.kind) {
      case "precheck":
        log(t + "precheck " + e.check + (e.ok ? " passed" : " refused: " + e.reasons.join("; ")));
        break;
      case "refused":
        $("cue").textContent = "No current: " + e.reasons.join("; ");
        $("fault").hidden = false;
        $("fault").textContent = "The session was refused before any current: " + e.reasons.join("; ");
        announce($("fault").textContent, true);
        log(t + "refused", "bad");
        break;
      case "step_skipped":
        log(t + "skipped step " + (e.step + 1) + ": " + e.reason);
        break;
      case "step_started": {
        highlight(e.step);
        const step = steps.find((s) => s.index === e.step) || {};
        $("step-label").textContent = (e.position + 1) + ". " + e.label;
        $("step-count").textContent = " · " + e.zone + ", " + e.side + ", " + e.technique;
        $("step-where").textContent = "Step " + (e.step + 1) + ": " + (step.label || e.label) + " (" + e.zone + ")";
        showCurrent(e.effective_ua, e.cap_reason);
        log(t + "step " + (e.step + 1) + " " + e.label);
        break;
      }
      case "cue":
        if (e.reason !== "move") $("cue").textContent = e.text;
        else flash();
        break;
      case "intensity_changed":
        showCurrent(e.amplitude_ua, e.cap_reason);
        announce("Intensity " + Math.round(e.level * 100) + " %: " + fmt(e.amplitude_ua, 0) + " µA" +
          (e.cap_reason ? ". " + sentence(e.cap_reason) : "."), false);
        log(t + "intensity " + Math.round(e.level * 100) + " %: " + fmt(e.amplitude_ua, 0) + " µA" +
          (e.cap_reason ? ", " + e.cap_reason : "") + (e.on_resume ? " (on resume)" : "") +
          (e.operator ? " by " + e.operator.name : ""));
        break;
      case "intensity_adjusted":
        log(t + "intensity adjusted: " + e.reason);
        break;
      case "paused":
      case "resumed":
        announce(e.kind === "paused" ? "Paused: no current." : "Resumed.", false);
        log(t + e.kind + (e.operator ? " by " + e.operator.name : ""));
        break;
      case "fault":
        $("fault").hidden = false;
        $("fault").textContent = "Output stopped: " + e.message;
        announce($("fault").textContent, true);
        log(t + "fault " + e.code + ": " + e.message, "bad");
        break;
      case "ended":
        log(t + "ended: " + e.status + " (" + e.reason + "), " + fmt(e.delivered_charge_uc, 1) + " µC");
        $("cue").textContent = e.status === "completed" ? "Session complete. Remove the probes." : "Session " + e.status + ": " + e.reason;
        announce(e.status === "completed" ? "Session complete." : "Session " + e.status + ": " + e.reason + ".",
          e.status !== "completed");
        break;
      default:
        break;
    }
  }

  const REDUCED_MOTION = window.matchMedia("(prefers-reduced-motion: reduce)");

  // the cue blinks when it is time to move the probes, unless motion is to be kept down
  function flash() {
    if (REDUCED_MOTION.matches) return;
    const cue = $("cue");
    cue.style.opacity = "0.35";
    setTimeout(() => { cue.style.opacity = "1"; }, 180);
  }

  function sentence(text) {
    return text ? text.charAt(0).toUpperCase() + text.slice(1) + "." : "";
  }

  // the step's peak at the chosen level, and the limit that holds it down (if one does)
  function showCurrent(amplitude, reason) {
    $("amplitude").textContent = fmt(amplitude, 0);
    const note = $("cap-reason");
    note.textContent = sentence(reason);
    note.hidden = !reason;
  }

  // a current reading: noise around zero is 0, never a negative current; none is "no reading"
  function showDelivered(value) {
    const none = value === null || value === undefined || !isFinite(value);
    $("delivered").textContent = none ? NO_READING : fmt(Math.max(0, value), 0);
  }

  // said once when the skin starts holding the current down, not at every new reading
  function showHolding(text) {
    const note = $("holding");
    if (text && note.hidden) announce(sentence(text), false);
    note.textContent = sentence(text);
    note.hidden = !text;
  }

  function staleCheck() {
    if (Date.now() - lastFrameAt > FRESH_MS) {
      showDelivered(null);
      $("impedance").textContent = NO_READING;
      showHolding("");
    }
  }
  setInterval(staleCheck, 250);

  function showLevel(level) {
    const pct = Math.round(level * 100) + " %";
    $("intensity-value").textContent = pct;
    slider.setAttribute("aria-valuetext", pct);
  }

  // the visit's checklist (checklist.js) shows the microcurrent step as the session is
  function tellChecklist(status, ended) {
    document.dispatchEvent(new CustomEvent("microamp:session", { detail: { status: status, ended: ended } }));
  }

  function onState(s) {
    setStatus(s.status);
    tellChecklist(s.status, false);
    if (s.step) showCurrent(s.step.amplitude_ua, s.step.cap_reason);
    if (s.delivered_ua === null) showDelivered(null);
    showHolding(s.holding || "");
    if (Date.now() - levelTouchedAt > LEVEL_HOLD_MS && document.activeElement !== slider) {
      slider.value = String(s.intensity);
      showLevel(s.intensity);
    }
    $("progress").style.width = (100 * s.progress).toFixed(1) + "%";
    $("remaining").textContent = Math.ceil(s.remaining_s) + " s";
    $("countdown").textContent = s.step ? Math.ceil(s.step.remaining_s) : "–";
  }

  function onTelemetry(f) {
    samples.push([f.t_s, Math.max(0, f.delivered_ua), f.impedance_ohm]);
    if (samples.length > KEEP) samples.shift();
    lastFrameAt = Date.now();
    showDelivered(f.delivered_ua);
    $("impedance").textContent = f.impedance_ohm === null ? NO_READING : fmt(f.impedance_ohm / 1000, 1);
    if (!drawPending) {
      drawPending = true;
      requestAnimationFrame(draw);
    }
  }

  function line(values, t0, span, max, color) {
    let d = "";
    let pen = "M";
    values.forEach(([t, v]) => {
      if (v === null || !isFinite(v)) { pen = "M"; return; }
      const x = 40 + ((t - t0) / span) * 590;
      const y = 185 - (Math.min(v, max) / max) * 170;
      d += pen + x.toFixed(1) + "," + y.toFixed(1) + " ";
      pen = "L";
    });
    return '<path d="' + d + '" fill="none" stroke="' + color + '" stroke-width="1.8"/>';
  }

  function draw() {
    drawPending = false;
    if (samples.length < 2) return;
    const t0 = samples[0][0];
    const span = Math.max(samples[samples.length - 1][0] - t0, 1);
    const cur = samples.map((s) => [s[0], s[1]]);
    const imp = samples.map((s) => [s[0], s[2] === null ? null : s[2] / 1000]);
    const maxCur = Math.max(50, ...cur.map((c) => c[1] || 0)) * 1.1;
    const finiteImp = imp.map((c) => c[1]).filter((v) => v !== null && isFinite(v));
    const maxImp = Math.max(1, ...finiteImp) * 1.1;
    $("chart").innerHTML =
      '<rect x="40" y="15" width="590" height="170" fill="#fff" stroke="#dde4e2"/>' +
      '<text x="4" y="24" font-size="11" fill="#2c6e68">' + maxCur.toFixed(0) + ' µA</text>' +
      '<text x="636" y="24" font-size="11" fill="#c2410c" text-anchor="end">' + maxImp.toFixed(1) + ' kΩ</text>' +
      '<text x="40" y="198" font-size="11" fill="#5b6b70">' + t0.toFixed(0) + ' s</text>' +
      '<text x="630" y="198" font-size="11" fill="#5b6b70" text-anchor="end">' + (t0 + span).toFixed(0) + ' s</text>' +
      line(cur, t0, span, maxCur, "#2c6e68") + line(imp, t0, span, maxImp, "#c2410c");
  }

  function post(action, form) {
    const headers = { "X-CSRF-Token": csrf };
    if (form) headers["Content-Type"] = "application/x-www-form-urlencoded";
    return fetch("/live/" + id + "/" + action, {
      method: "POST",
      headers: headers,
      body: form ? new URLSearchParams(form).toString() : undefined,
      credentials: "same-origin",
    });
  }

  const WHAT = { stop: "Stop", pause: "Pause", resume: "Resume", intensity: "The intensity change" };
  const WHY = {
    403: "the page's security token was refused; reload the page",
    404: "the session is not known any more",
    409: "the session refused it",
    503: "the device's station did not answer",
  };

  // Every control is answered by the station that runs the session; one that fails is said
  // at once (a Stop that did not take must never pass unnoticed), and the button stays usable.
  // A busy server (503 with Retry-After: every connection to the records taken) is asked
  // again by itself, after the time it names, a few times; a Stop first says it is retrying.
  const RETRIES = 5;
  function control(action, form, attempt) {
    attempt = attempt || 0;
    return post(action, form).then((r) => {
      if (r.ok) return true;
      const wait = Number(r.headers.get("Retry-After"));
      if (r.status === 503 && wait > 0 && attempt < RETRIES) {
        if (attempt === 0) log(WHAT[action] + ": the server is busy, asking again", "bad");
        return new Promise((done) => setTimeout(done, Math.min(wait, 5) * 1000))
          .then(() => control(action, form, attempt + 1));
      }
      failed(action, WHY[r.status] || "the server answered " + r.status);
      return false;
    }, () => {
      failed(action, "the server could not be reached");
      return false;
    });
  }

  function failed(action, why) {
    const text = WHAT[action] + " did not take effect: " + why + ".";
    const urgent = action === "stop";
    if (urgent) {
      $("fault").hidden = false;
      $("fault").textContent = text + " Press STOP again, or lift the probes.";
    }
    announce(urgent ? $("fault").textContent : text, urgent);
    log(text, "bad");
  }

  // a slider dragged across its range sends its last position, not every one it passed
  function sendLevel() {
    levelTouchedAt = Date.now();
    showLevel(Number(slider.value));
    clearTimeout(levelTimer);
    levelTimer = setTimeout(() => {
      levelTouchedAt = Date.now();
      if (!finished) control("intensity", { level: slider.value });
    }, 120);
  }

  function nudge(steps) {
    if (steps < 0) slider.stepDown(-steps); else slider.stepUp(steps);
    sendLevel();
  }

  const slider = $("intensity");
  slider.addEventListener("input", sendLevel);
  // the slider moves in 1 % steps (the lowest level stays under 2 %); the buttons by 5 %
  $("intensity-down").addEventListener("click", () => nudge(-5));
  $("intensity-up").addEventListener("click", () => nudge(5));
  $("intensity-form").addEventListener("submit", (ev) => { ev.preventDefault(); sendLevel(); });

  $("pause").addEventListener("click", () => control(paused ? "resume" : "pause"));
  $("stop").addEventListener("click", () => control("stop"));
  document.addEventListener("keydown", (ev) => {
    if (finished) return;
    if (ev.key === "Escape") { ev.preventDefault(); control("stop"); }
    const tag = (ev.target.tagName || "").toLowerCase();
    if (ev.key === " " && tag !== "button" && tag !== "a" && tag !== "input") {
      ev.preventDefault();
      control(paused ? "resume" : "pause");
    }
  });

  const source = new EventSource("/live/" + id + "/events");
  source.addEventListener("event", (m) => onEvent(JSON.parse(m.data)));
  source.addEventListener("telemetry", (m) => onTelemetry(JSON.parse(m.data)));
  source.addEventListener("state", (m) => onState(JSON.parse(m.data)));
  source.addEventListener("end", (m) => {
    const end = JSON.parse(m.data);
    finished = true;
    source.close();
    lastFrameAt = 0;
    staleCheck();
    setStatus(end.status);
    tellChecklist(end.status, true);
    $("pause").disabled = true;
    $("stop").disabled = true;
    ["intensity", "intensity-down", "intensity-up"].forEach((name) => { $(name).disabled = true; });
    $("record-link").hidden = false;
    $("record-link").focus();
    if (end.error) {
      $("fault").hidden = false;
      $("fault").textContent = end.error;
      announce(end.error, true);
    }
  });
})();
