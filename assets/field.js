// The field page keeps working with a bad network (emergency field page): each tap on a
// household's result is kept on the phone with its own key and the version it was made
// on, and sent to the API in order when the network lets it — sent twice, it is recorded
// once; made on a version someone else changed meanwhile, it is kept as a conflict and
// shown, never written over theirs. A service worker of the incident keeps the page, so
// that it opens again without network, the taps not yet sent shown on it.
(function () {
  var box = document.querySelector("[data-field-queue]");
  var tpl = document.getElementById("field-results");
  if (!box || !tpl || !window.fetch || !window.localStorage) return;
  var api = box.getAttribute("data-api");
  var store = "linli-field:" + location.pathname;
  // The worker keeps this page and what it loads, as loaded now.
  if (navigator.serviceWorker) {
    navigator.serviceWorker.register(box.getAttribute("data-worker")).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      var urls = [location.pathname + location.search];
      Array.prototype.forEach.call(document.querySelectorAll("script[src], link[rel=stylesheet]"), function (e) {
        var u = new URL(e.src || e.href, location.href);
        if (u.origin === location.origin) urls.push(u.pathname + u.search);
      });
      if (reg.active) reg.active.postMessage({ keep: urls });
    }).catch(function () {});
  }

  function kept() {
    try { return JSON.parse(localStorage.getItem(store) || "[]"); } catch (e) { return []; }
  }
  function keep(list) { localStorage.setItem(store, JSON.stringify(list)); }
  function say(name, n) {
    box.textContent = box.getAttribute(name).replace("%{n}", n);
    box.hidden = false;
  }
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function line(check) { return document.querySelector('[data-check="' + check + '"]'); }
  // What became of a household's last tap, under its name on the list.
  function mark(check, text, done) {
    var li = line(check);
    if (!li) return;
    var note = li.querySelector(".field-note");
    if (!note) {
      note = document.createElement("span");
      li.insertBefore(note, li.querySelector(".field-results"));
    }
    note.className = done ? "field-note done" : "field-note";
    note.textContent = text;
  }
  function label(status) {
    var b = tpl.content.querySelector('[data-status="' + status + '"]');
    return b ? b.textContent : status;
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-check]"), function (li) {
    li.appendChild(tpl.content.cloneNode(true));
  });
  kept().forEach(function (item) { mark(item.check, label(item.body.status) + " · " + box.getAttribute("data-waiting")); });
  if (kept().length) say("data-kept", kept().length);

  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-status]");
    var li = b && b.closest("[data-check]");
    if (!li) return;
    var check = li.getAttribute("data-check");
    var list = kept();
    // A second tap on a household whose first is not yet sent is made on the version the
    // first will make.
    var seen = +li.getAttribute("data-version");
    list.forEach(function (i) { if (i.check === check) seen = i.body.seen + 1; });
    list.push({ check: check, body: { status: b.getAttribute("data-status"), needs: [], seen: seen, key: newKey() } });
    keep(list);
    mark(check, b.textContent + " · " + box.getAttribute("data-waiting"));
    say("data-kept", list.length);
    send();
  });

  function post(item, wait) {
    var ctl = window.AbortController ? new AbortController() : null;
    if (ctl) setTimeout(function () { ctl.abort(); }, wait);
    return fetch(api + item.check + "/changes", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "accept": "application/json" },
      body: JSON.stringify(item.body),
      signal: ctl ? ctl.signal : undefined
    }).then(function (r) {
      if (r.status >= 500) throw new Error("server");
      return r.json().then(function (j) { return { status: r.status, body: j }; }, function () { return { status: r.status, body: {} }; });
    });
  }

  var sending = false, sent = 0, conflicts = 0, failed = 0;
  function send() {
    var list = kept();
    if (sending || !list.length) return;
    sending = true;
    var item = list[0];
    post(item, 10000).then(function (answer) {
      // Answered: it leaves the phone, whatever became of it.
      keep(kept().filter(function (i) { return i.body.key !== item.body.key; }));
      var outcome = answer.body.outcome;
      if (answer.status === 201 || (outcome === "repeated" && answer.body.applied)) {
        sent++;
        var li = line(item.check);
        if (li && answer.body.version) li.setAttribute("data-version", answer.body.version);
        mark(item.check, label(item.body.status), true);
      } else if (outcome === "conflict" || outcome === "repeated") {
        conflicts++;
        mark(item.check, box.getAttribute("data-conflict").replace("%{n}", 1));
      } else {
        failed++;
        var e = answer.body.error;
        mark(item.check, (e && e.message) || box.getAttribute("data-failed").replace("%{n}", 1));
      }
      sending = false;
      if (kept().length) return send();
      if (conflicts) say("data-conflict", conflicts);
      else if (failed) say("data-failed", failed);
      else say("data-sent", sent);
      sent = conflicts = failed = 0;
    }, function () {
      sending = false;
      say("data-kept", kept().length);
    });
  }
  window.addEventListener("online", send);
  setInterval(send, 15000);
  send();
})();
