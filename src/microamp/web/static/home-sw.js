// microamp home: the service worker. Pages are fetched from the network first and kept, so the
// last version of each page the phone saw opens offline; static files are served from the cache
// and refreshed behind. Only GET requests are cached; the session log and a progress photo (both
// POSTs) are queued by the page itself when they cannot be sent.
"use strict";
const CACHE = "microamp-home-v1";
const SHELL = /*SHELL*/[];

// a redirect (to the sign-in, say) is never kept: a page must open as itself
function store(cache, url) {
  return fetch(url, { credentials: "same-origin" })
    .then((response) => (response.ok && !response.redirected ? cache.put(url, response) : null))
    .catch(() => null);
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => Promise.all(SHELL.map((url) => store(cache, url))))
      .then(() => self.skipWaiting())
  );
});

// a page asks for itself and the pages it links to, so they open offline next time
self.addEventListener("message", (event) => {
  const urls = (event.data && event.data.keep) || [];
  const own = urls.filter((u) => typeof u === "string" && u.startsWith("/") && !u.startsWith("//"));
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => Promise.all(own.map((url) => store(cache, url))))
      .then(() => event.source && event.source.postMessage({ kept: own }))
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

function keep(request, response) {
  if (response.ok && response.type === "basic" && !response.redirected) {
    const copy = response.clone();
    caches.open(CACHE).then((cache) => cache.put(request, copy));
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/sw.js") return;
  // a device session is live: never an old copy of its page (offline, the page says so)
  if (url.pathname.startsWith("/device/")) return;
  // her photos stay on the server (the camera page, network-first like every page, opens
  // offline without its ghost, and keeps what it takes on the phone: home-photos.js)
  if (url.pathname.startsWith("/photo/")) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(
      caches.match(request).then((hit) => {
        const fresh = fetch(request).then((r) => keep(request, r)).catch(() => hit);
        return hit || fresh;
      })
    );
    return;
  }
  event.respondWith(
    fetch(request)
      .then((response) => keep(request, response))
      .catch(() => caches.match(request).then((hit) => hit || caches.match("/")))
  );
});
