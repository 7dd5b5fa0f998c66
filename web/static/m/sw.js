// The worker app's service worker (served by web/field_pages.py, which fills in the version and the shell).
// The app shell is cached, so the app opens with no network; the page itself is network first (fresh strings
// and code when online), cache second. API calls and the socket are never cached: the outbox handles them.

const VERSION = "__VERSION__";
const SHELL = "__SHELL__";
const CACHE = "gridcmd-m-" + VERSION;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(["/m", ...SHELL])).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("gridcmd-m-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname === "/m") {
    event.respondWith(fetch(event.request).then((response) => {
      if (response.ok) { const copy = response.clone(); caches.open(CACHE).then((c) => c.put("/m", copy)); }
      return response;
    }).catch(() => caches.match("/m")));
    return;
  }
  if (SHELL.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(event.request)));
  }
});
