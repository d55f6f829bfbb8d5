// The service worker of one incident's field page (assets/field.js registers it, served
// within the incident's path so that it keeps nothing else): the page as last loaded and
// the assets it uses, so that it opens again without network. The page is asked of the
// network first (a few seconds on a weak one), the kept copy answering when it fails;
// assets carry their version in their address and are kept as they are.
var KEPT = "linli-field";

self.addEventListener("install", function () { self.skipWaiting(); });
// The page tells what it loaded: kept, so that it opens without network.
self.addEventListener("message", function (e) {
  var urls = (e.data && e.data.keep) || [];
  e.waitUntil(caches.open(KEPT).then(function (c) {
    return Promise.all(urls.map(function (u) { return c.add(u).catch(function () {}); }));
  }));
});
self.addEventListener("activate", function (e) { e.waitUntil(self.clients.claim()); });

function keep(request, response) {
  if (response && response.ok) {
    var copy = response.clone();
    caches.open(KEPT).then(function (c) { c.put(request, copy); });
  }
  return response;
}

function network(request, wait) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("slow")); }, wait);
    fetch(request).then(function (r) { clearTimeout(timer); resolve(r); }, function (e) { clearTimeout(timer); reject(e); });
  });
}

self.addEventListener("fetch", function (e) {
  var request = e.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/assets/") === 0) {
    e.respondWith(caches.match(request).then(function (hit) {
      return hit || fetch(request).then(function (r) { return keep(request, r); });
    }));
  } else if (/\/field$/.test(url.pathname)) {
    e.respondWith(network(request, 4000).then(function (r) { return keep(request, r); }, function () {
      return caches.match(request).then(function (hit) { return hit || Response.error(); });
    }));
  }
});
