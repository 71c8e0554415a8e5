// microamp home: progress photos kept on this phone while it is offline, sent when it is back.
//
// capture.js hands a photo it cannot send to `window.microampPhotoQueue.keepFromForm`, and a
// chosen file saved offline is kept here too. Each waits in IndexedDB (a photo is too big for
// localStorage) with the account it was taken for, its view and the day it was taken, and is
// sent on the next page load and on the `online` event, by that account alone: a phone two
// people share never files one's photo on the other's record. Sent again after an answer that
// never arrived, the server finds the photo it kept and keeps no second one. A photo the
// server refuses (422: no face, turned too far, no longer within 30 days) is dropped, never
// resent, and remembered, so the next page says which photo was not kept and why; a 403 (an
// old page's token), a sign-in redirect or no network keeps it for later.
"use strict";

(function () {
  const DB = "microamp-home";
  const STORE = "photos";
  const REFUSED = "microamp-home-photo-refused";
  const DAY_MS = 86400000;
  let flushing = null;

  function openDb() {
    return new Promise((resolve, reject) => {
      const opened = indexedDB.open(DB, 1);
      // each photo keyed by the store itself: an id no other photo of this phone has had
      opened.onupgradeneeded = () => opened.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
      opened.onsuccess = () => resolve(opened.result);
      opened.onerror = () => reject(opened.error);
    });
  }

  // one transaction on the photo store; resolves with the result of the request `work` makes
  function inStore(mode, work) {
    return openDb().then((db) => new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const request = work(t.objectStore(STORE));
      t.oncomplete = () => { db.close(); resolve(request ? request.result : undefined); };
      t.onerror = t.onabort = () => { db.close(); reject(t.error); };
    }));
  }

  function account() { return document.body.dataset.account || ""; }

  function mine() {
    return inStore("readonly", (s) => s.getAll()).then((all) => all.filter((p) => p.account === account()));
  }

  // midnight (as a UTC time) of the phone's own calendar day at `ms`
  function phoneDay(ms) {
    const d = new Date(ms);
    return Date.UTC(d.getFullYear(), d.getMonth(), d.getDate());
  }

  // the day a photo taken now was taken: the day the page was served for, moved on by the days
  // the phone's calendar has turned since (a page opened from the phone's cache is days old)
  function takenOn() {
    const served = Number(document.body.dataset.servedMs);
    const pageDay = Date.parse(document.body.dataset.today + "T00:00:00Z");
    if (!served || Number.isNaN(pageDay)) return new Date(phoneDay(Date.now())).toISOString().slice(0, 10);
    const turned = Math.max(0, Math.round((phoneDay(Date.now()) - phoneDay(served)) / DAY_MS));
    return new Date(pageDay + turned * DAY_MS).toISOString().slice(0, 10);
  }

  function refusals() {
    try { return JSON.parse(localStorage.getItem(REFUSED) || "[]"); } catch (e) { return []; }
  }
  function saveRefusals(list) { localStorage.setItem(REFUSED, JSON.stringify(list)); }

  function dayWords(iso) {
    return new Date(iso + "T00:00:00Z").toLocaleDateString("en-GB", {
      day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
    });
  }
  function viewWords(view) {
    return { front: "front", left45: "left 45°", right45: "right 45°" }[view] || view;
  }
  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  // what the status region at the top of each page says: photos waiting, photos just sent,
  // and each refusal of this account's until she dismisses them
  function show(waiting, sent) {
    const region = document.querySelector("[data-photo-queue]");
    if (!region) return;
    region.replaceChildren();
    region.dataset.waiting = String(waiting);
    const line = (text, kind) => {
      const p = document.createElement("p");
      p.className = "alert" + (kind ? " " + kind : "");
      p.textContent = text;
      region.append(p);
      return p;
    };
    if (sent) line(plural(sent, "photo", "photos") + " saved on this phone while offline " + (sent === 1 ? "is" : "are") + " now kept on your record and measured.", "ok");
    if (waiting) line(plural(waiting, "photo", "photos") + " saved on this phone " + (waiting === 1 ? "waits" : "wait") + " to be sent: " + (waiting === 1 ? "it is" : "they are") + " sent when you are back online.", "ok");
    const refused = refusals().filter((r) => r.account === account());
    refused.forEach((r) => {
      const p = line("Your " + viewWords(r.view) + " photo of " + dayWords(r.taken_on) + ", saved on this phone, was not kept: " + r.label + ": " + r.retake + ". Take it again.");
      p.dataset.testid = "photo-refused";
    });
    if (refused.length) {
      const dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.className = "btn quiet";
      dismiss.textContent = "Dismiss";
      dismiss.addEventListener("click", () => {
        saveRefusals(refusals().filter((r) => r.account !== account()));
        mine().then((left) => show(left.length, 0)).catch(() => show(0, 0));
      });
      region.append(dismiss);
    }
  }

  function send(photo, csrf) {
    const body = new FormData();
    body.set("csrf_token", csrf);
    body.set("view", photo.view);
    body.set("photo_use_consent", "yes");
    body.set("taken_on", photo.taken_on);
    body.set("photo", photo.blob, "capture.jpg");
    return fetch("/photo", {
      method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" },
    });
  }

  function forget(photo) { return inStore("readwrite", (s) => s.delete(photo.id)); }

  // the answer to one photo sent: 1 kept, 0 refused (dropped and remembered), null kept here
  function settle(photo, response) {
    if (response.status === 201) return forget(photo).then(() => 1);
    if (response.status !== 422) return Promise.resolve(null);
    return response.json().catch(() => ({})).then((answer) => {
      saveRefusals(refusals().concat([{
        account: photo.account, view: photo.view, taken_on: photo.taken_on,
        label: answer.label || "Photo", retake: answer.retake || "the server refused it",
      }]));
      return forget(photo).then(() => 0);
    });
  }

  function flushNow() {
    const csrf = document.body.dataset.csrf;
    return mine().then((waiting) => {
      if (!waiting.length || !navigator.onLine || !csrf) return [waiting.length, 0];
      return waiting.reduce((chain, photo) => chain.then((sent) =>
        send(photo, csrf)
          .then((response) => (response.redirected ? null : settle(photo, response)))
          .catch(() => null)
          .then((kept) => sent + (kept || 0))), Promise.resolve(0))
        .then((sent) => mine().then((left) => [left.length, sent]));
    }).then(([waiting, sent]) => {
      show(waiting, sent);
      document.body.dataset.photoFlush = "flushed";
    }).catch(() => { document.body.dataset.photoFlush = "unavailable"; });
  }

  function flush() {
    if (!flushing) flushing = flushNow().finally(() => { flushing = null; });
    return flushing;
  }

  // keep `blob` (a photo of `view`) on this phone; resolves with its id once it is stored
  function keep(blob, view) {
    const photo = { account: account(), view: view, taken_on: takenOn(), blob: blob, kept_at: Date.now() };
    return inStore("readwrite", (s) => s.add(photo))
      .then((id) => mine().then((waiting) => { show(waiting.length, 0); return id; }));
  }

  // a photo for the photo page's `form` kept on this phone (a frame from the camera, or the file
  // chosen): her agreement checked first, with the server's own rule (`data-consent-rule`),
  // the outcome said in the form's status; resolves whether it was kept
  function keepFromForm(form, blob) {
    const status = form.querySelector("[data-capture-status]");
    if (!form.elements.photo_use_consent.checked) {
      status.textContent = "Not kept: Photo-use consent: " + form.dataset.consentRule + ".";
      return Promise.resolve(false);
    }
    return keep(blob, form.elements.view.value).then((id) => {
      form.dataset.queued = String(id);
      status.textContent = "Saved on this phone: it is sent to your record, and measured, when you are back online.";
      return true;
    }).catch((error) => {
      status.textContent = "Not saved on this phone: " + error.message;
      return false;
    });
  }

  // the photo page's "Save the chosen file" offline: the file is kept here instead of a post
  // the browser could only fail
  function keepChosenFileOffline() {
    const form = document.querySelector("form[data-capture-queue]");
    if (!form) return;
    form.addEventListener("submit", (event) => {
      const file = form.elements.photo && form.elements.photo.files[0];
      if (navigator.onLine || !file) return;
      event.preventDefault();
      keepFromForm(form, file);
    });
  }

  window.microampPhotoQueue = { keep: keep, keepFromForm: keepFromForm, flush: flush };
  document.addEventListener("DOMContentLoaded", () => {
    if (!account() || !("indexedDB" in window)) return;
    keepChosenFileOffline();
    flush();
    window.addEventListener("online", flush);
  });
})();
