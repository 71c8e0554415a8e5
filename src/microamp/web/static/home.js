// microamp home: the service worker, the offline session log, reminders, and guide mode.
//
// Guide mode times a routine on the phone for a device microamp does not drive. Cues are Web
// Audio beeps scheduled ahead on the audio clock (a look-ahead loop, so a busy page never makes a
// beep late), with a vibration where the phone has one. Each cue scheduled is pushed to
// `guide.dataset.cues` (planned seconds into the routine), how far ahead it was scheduled to
// `leads` and, when it has sounded, the lateness its end was seen with on the audio clock to
// `heard` (ms), so tests and the bench can count and time them.
"use strict";

(function () {
  const QUEUE = "microamp-home-queue";
  const USED = "microamp-home-used";

  function registerWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(() => navigator.serviceWorker.ready).then((reg) => {
      const keep = [location.pathname];
      document.querySelectorAll("a[data-keep]").forEach((a) => keep.push(a.getAttribute("href")));
      if (reg.active) reg.active.postMessage({ keep: keep });
    }).catch(() => {});
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.kept) document.documentElement.dataset.offlineReady = "true";
    });
  }

  // -- the offline queue of session logs ----------------------------------------------------
  function queued() {
    try { return JSON.parse(localStorage.getItem(QUEUE) || "[]"); } catch (e) { return []; }
  }
  function saveQueue(list) { localStorage.setItem(QUEUE, JSON.stringify(list)); }

  function post(log, csrf) {
    const { account, ...body } = log; // the account it was kept for stays on the phone
    return fetch("/api/sessions", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
  }

  // send what waits on the phone for the account signed in (a phone two people share never
  // files one's session on the other's record; a log kept before logs named their account
  // goes with whoever signs in first, as it always did); a log the server refuses (422) is
  // dropped, never resent
  function flush(csrf) {
    const account = document.body.dataset.account || "";
    const waiting = queued().filter((log) => !log.account || log.account === account);
    const done = (sent) => { document.body.dataset.logFlush = "flushed"; return sent; };
    if (!waiting.length || !navigator.onLine || !csrf) return Promise.resolve(0).then(done);
    return waiting.reduce((chain, log) => chain.then((sent) =>
      post(log, csrf).then((r) => {
        if (r.ok || r.status === 422) saveQueue(queued().filter((l) => l.uuid !== log.uuid));
        return sent + (r.ok ? 1 : 0);
      }).catch(() => sent)), Promise.resolve(0)).then(done);
  }

  function usedToday(day) {
    try { const u = JSON.parse(localStorage.getItem(USED) || "{}"); return u[day] || 0; } catch (e) { return 0; }
  }
  function addUsed(day, seconds) {
    let u = {};
    try { u = JSON.parse(localStorage.getItem(USED) || "{}"); } catch (e) { u = {}; }
    u = { [day]: (u[day] || 0) + seconds };
    localStorage.setItem(USED, JSON.stringify(u));
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  // -- reminders: a notification on planned days where permission is granted -------------
  // Shown by the service worker (it stays in the phone's notification list, and the tag keeps
  // it to one a day); without a push service it can only be shown while the app is open.
  function notifyDue(day) {
    const options = { body: "Your routine is due today.", tag: "due-" + day };
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.ready.then((registration) => registration.showNotification("microamp home", options));
    } else {
      new Notification("microamp home", options);
    }
  }

  function reminders() {
    const button = document.getElementById("remind");
    const status = document.getElementById("remind-status");
    if (!button || !("Notification" in window)) return;
    button.hidden = false;
    const due = document.querySelector(".calendar .day.due");
    function show() {
      if (Notification.permission === "granted") {
        status.textContent = "Reminders are on for this phone.";
        if (due) notifyDue(due.dataset.date);
      } else if (Notification.permission === "denied") {
        status.textContent = "Notifications are blocked: add the plan to your calendar instead.";
      }
    }
    button.addEventListener("click", () => Notification.requestPermission().then(show));
    show();
  }

  // -- guide mode -------------------------------------------------------------------------
  function fmt(s) {
    const t = Math.max(0, Math.floor(s));
    return Math.floor(t / 60) + ":" + String(t % 60).padStart(2, "0");
  }

  function Guide(root, routine) {
    this.root = root;
    this.routine = routine;
    this.cues = [];      // every cue of the routine: {at, step, last}
    this.scheduled = []; // planned seconds of each cue scheduled so far
    this.heard = [];     // lateness in ms of each cue heard, on the audio clock
    this.leads = [];     // ms each cue was scheduled ahead of its time (negative: late)
    this.next = 0;       // index of the next cue to schedule
    this.elapsed = 0;    // seconds of routine done when last paused
    this.base = null;    // clock time at which routine second 0 would have been
    this.state = "ready";
    this.started = null;
    this.pending = [];
    let at = 0;
    routine.steps.forEach((step, i) => {
      step.start_s = at;
      step.cues_s.forEach((c, k) => this.cues.push({ at: at + c, step: i, last: k === step.cues_s.length - 1 }));
      at += step.duration_s;
    });
    this.total = at;
  }

  Guide.prototype.now = function () {
    if (this.audio && this.audio.state === "running") return this.audio.currentTime;
    return performance.now() / 1000;
  };

  Guide.prototype.position = function () {
    if (this.state !== "running") return this.elapsed;
    return Math.min(this.total, this.now() - this.base);
  };

  Guide.prototype.beep = function (when, last, cue) {
    const ctx = this.audio;
    if (ctx && ctx.state === "running") {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = last ? 660 : 880;
      gain.gain.value = 0.2;
      osc.connect(gain).connect(ctx.destination);
      const t = Math.max(when, ctx.currentTime);
      this.leads.push((when - ctx.currentTime) * 1000);
      this.root.dataset.leads = JSON.stringify(this.leads);
      osc.start(t);
      osc.stop(t + 0.12);
      osc.onended = () => { this.heard.push(Math.max(0, (ctx.currentTime - 0.12 - when) * 1000)); this.root.dataset.heard = JSON.stringify(this.heard); };
      this.pending.push(osc);
    }
    const delay = Math.max(0, (when - this.now()) * 1000);
    this.pending.push(setTimeout(() => {
      if (navigator.vibrate) navigator.vibrate(last ? [80, 60, 80] : 80);
    }, delay));
    this.scheduled.push(cue.at);
    this.root.dataset.cues = JSON.stringify(this.scheduled);
  };

  Guide.prototype.tick = function () {
    if (this.state !== "running") return;
    const horizon = this.now() + 0.2;
    while (this.next < this.cues.length && this.base + this.cues[this.next].at <= horizon) {
      const cue = this.cues[this.next];
      this.beep(this.base + cue.at, cue.last, cue);
      this.next += 1;
    }
    const pos = this.position();
    this.show(pos);
    if (pos >= this.total) this.end("completed");
  };

  Guide.prototype.stepAt = function (pos) {
    const steps = this.routine.steps;
    for (let i = 0; i < steps.length; i++) if (pos < steps[i].start_s + steps[i].duration_s) return i;
    return steps.length - 1;
  };

  Guide.prototype.show = function (pos) {
    const i = this.stepAt(pos);
    const step = this.routine.steps[i];
    const local = pos - step.start_s;
    const perSide = step.repetition_s * step.repetitions;
    const side = step.sides[Math.min(step.sides.length - 1, Math.floor(local / perSide))];
    const pass = Math.min(step.repetitions, Math.floor((local % perSide) / step.repetition_s) + 1);
    document.getElementById("elapsed").textContent = fmt(pos);
    if (this.shown !== i + ":" + side + ":" + pass) {
      this.shown = i + ":" + side + ":" + pass;
      document.getElementById("step-label").textContent = step.label + (step.sides.length > 1 || side !== "midline" ? " (" + side + ")" : "");
      document.getElementById("step-cue").textContent = step.cue;
      document.getElementById("pass").textContent = "Step " + (i + 1) + " of " + this.routine.steps.length + ", pass " + pass + " of " + step.repetitions;
      this.root.dataset.step = String(i);
      this.showLevel(step);
      document.querySelectorAll("#map .step").forEach((g) => g.classList.toggle("current", g.dataset.step === String(step.index)));
      document.querySelectorAll("#steps li").forEach((li) => li.classList.toggle("current", li.dataset.step === String(step.index)));
    }
  };

  Guide.prototype.levelOf = function (zone) {
    const level = this.routine.zone_levels[zone];
    return typeof level === "number" ? level : 1;
  };

  Guide.prototype.showLevel = function (step) {
    document.getElementById("level").textContent = step.zone.charAt(0).toUpperCase() + step.zone.slice(1) +
      " at " + Math.round(this.levelOf(step.zone) * 100) + " % of the routine's level";
  };

  // lower the current zone's level by a tenth (never below 10 %), kept for every routine
  Guide.prototype.gentler = function () {
    const step = this.routine.steps[this.stepAt(this.position())];
    const before = this.levelOf(step.zone);
    const level = Math.max(0.1, Math.round((before - 0.1) * 10) / 10);
    const out = document.getElementById("level-status");
    if (level >= before) { out.textContent = "This zone is already at its gentlest, 10 %."; return; }
    this.routine.zone_levels[step.zone] = level;
    this.showLevel(step);
    fetch("/api/levels", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": document.body.dataset.csrf },
      body: JSON.stringify({ zone: step.zone, level: level }),
    }).then((r) => {
      out.textContent = r.ok ? "Kept: the " + step.zone + " zone now starts at " + Math.round(level * 100) + " % in every routine. Turn your device down too."
        : "Not kept (" + r.status + "): lower it in My routine.";
      this.root.dataset.levelSaved = r.ok ? String(level) : "";
    }).catch(() => { out.textContent = "Not kept: no network. Lower it in My routine when you are back online."; });
  };

  Guide.prototype.setState = function (state) {
    this.state = state;
    this.root.dataset.state = state;
    const show = { start: state === "ready", pause: state === "running", resume: state === "paused", finish: state === "running" || state === "paused" };
    Object.keys(show).forEach((id) => { document.getElementById(id).hidden = !show[id]; });
  };

  Guide.prototype.start = function () {
    const left = this.routine.max_daily_s - Math.max(this.routine.used_today_s, usedToday(this.routine.today));
    if (this.total > left) {
      const limit = document.getElementById("limit");
      limit.hidden = false;
      limit.textContent = "Not today: " + Math.round(left / 6) / 10 + " min of today's " + this.routine.max_daily_s / 60 + " min are left [" + this.routine.limit_source + "]";
      return;
    }
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx && !this.audio) this.audio = new Ctx();
    const go = () => {
      this.started = performance.now();
      this.root.dataset.audio = this.audio ? this.audio.state : "none";
      this.base = this.now();
      this.setState("running");
      this.timer = setInterval(() => this.tick(), 25);
      // the auto-off: 20 minutes after Start, paused or not, the routine ends
      this.offTimer = setTimeout(() => this.end("auto-off"), this.routine.max_daily_s * 1000);
      this.tick();
    };
    if (this.audio && this.audio.state !== "running") this.audio.resume().then(go, go);
    else go();
  };

  Guide.prototype.cancelPending = function () {
    const now = this.audio ? this.audio.currentTime : 0;
    this.pending.forEach((p) => {
      if (typeof p === "number") clearTimeout(p);
      else { try { p.stop(now); } catch (e) { /* already ended */ } }
    });
    this.pending = [];
  };

  Guide.prototype.pause = function () {
    this.elapsed = this.position();
    this.setState("paused");
    clearInterval(this.timer);
    // cues scheduled beyond the pause are taken back and scheduled again on resume
    this.cancelPending();
    while (this.next > 0 && this.cues[this.next - 1].at > this.elapsed) { this.next -= 1; this.scheduled.pop(); }
    this.root.dataset.cues = JSON.stringify(this.scheduled);
  };

  Guide.prototype.resume = function () {
    this.base = this.now() - this.elapsed;
    this.setState("running");
    this.timer = setInterval(() => this.tick(), 25);
  };

  Guide.prototype.stepsDone = function (pos) {
    return this.routine.steps.filter((s) => s.start_s < pos).map((s) => ({
      index: s.index, label: s.label, zone: s.zone, side: s.side,
      seconds: Math.round(Math.min(s.duration_s, pos - s.start_s) * 100) / 100,
    }));
  };

  Guide.prototype.end = function (status) {
    if (this.state === "ended") return;
    const pos = this.position();
    clearInterval(this.timer);
    clearTimeout(this.offTimer);
    if (status !== "completed") this.cancelPending();
    this.elapsed = pos;
    this.setState("ended");
    this.root.dataset.state = status;
    this.show(Math.min(pos, this.total - 1e-6));
    const heard = this.scheduled.filter((at) => at <= pos + 1e-6).length;
    const today = new Date().toISOString().slice(0, 10);
    const log = {
      uuid: uuid(), account: document.body.dataset.account || "",
      protocol: this.routine.name, hash: this.routine.hash, mode: "guided",
      on_date: today > this.routine.today ? today : this.routine.today,
      seconds_done: Math.round(pos * 100) / 100, steps_done: this.stepsDone(pos), status: status, cues: heard,
    };
    addUsed(log.on_date, log.seconds_done);
    const q = queued(); q.push(log); saveQueue(q);
    const out = document.getElementById("log-status");
    const words = { completed: "Routine done", stopped: "Ended early", "auto-off": "Auto-off after the day's limit" }[status];
    out.textContent = words + ": saving…";
    flush(document.body.dataset.csrf).then(() => {
      const still = queued().some((l) => l.uuid === log.uuid);
      out.textContent = words + (still ? ". Saved on this phone: it is sent when you are back online (guided, device not connected)." : ". Saved to your record (guided, device not connected).");
      this.root.dataset.logged = still ? "queued" : "sent";
    });
  };

  function guide() {
    const root = document.getElementById("guide");
    const data = document.getElementById("routine-data");
    if (!root || !data) return;
    const g = new Guide(root, JSON.parse(data.textContent));
    window.microampGuide = g;
    document.getElementById("start").addEventListener("click", () => g.start());
    document.getElementById("pause").addEventListener("click", () => g.pause());
    document.getElementById("resume").addEventListener("click", () => g.resume());
    document.getElementById("finish").addEventListener("click", () => g.end("stopped"));
    document.getElementById("gentler").addEventListener("click", () => g.gentler());
    g.showLevel(g.routine.steps[0]);
    root.dataset.ready = "true";
  }

  // signing out takes this phone's copies of the pages with it (a queued log stays until sent)
  function forgetPagesOnSignOut() {
    const form = document.querySelector('form[action="/signout"]');
    if (!form || !("caches" in window)) return;
    form.addEventListener("submit", () => {
      caches.keys().then((keys) => keys.forEach((k) => caches.delete(k)));
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    registerWorker();
    forgetPagesOnSignOut();
    reminders();
    guide();
    const csrf = document.body.dataset.csrf;
    if (csrf) {
      flush(csrf);
      window.addEventListener("online", () => flush(csrf));
    }
  });
})();
