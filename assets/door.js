// The door keeps working with a bad network: a code typed or scanned while the phone is
// offline is kept on the phone, with its own key, and sent to the check-in API once the
// connection is back (a scan sent twice is answered once: the key says it is the same).
(function () {
  var box = document.querySelector("[data-door-queue]");
  if (!box || !window.fetch || !window.localStorage) return;
  var form = document.getElementById(box.getAttribute("data-form"));
  if (!form) return;
  var api = box.getAttribute("data-api");
  var store = "linli-door:" + api;
  var code = form.querySelector("[name=code]");
  var key = form.querySelector("[name=scan_key]");

  function kept() {
    try { return JSON.parse(localStorage.getItem(store) || "[]"); } catch (e) { return []; }
  }
  function keep(list) { localStorage.setItem(store, JSON.stringify(list)); }
  function say(text, n) {
    box.textContent = text.replace("%{n}", n);
    box.hidden = false;
  }
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  // Each scan first goes to the API (a phone may say it is online with no signal): answered,
  // the form goes too and the page shows the outcome (the same key: counted once); not
  // answered, it is kept.
  function post(item, wait) {
    var ctl = window.AbortController ? new AbortController() : null;
    if (ctl) setTimeout(function () { ctl.abort(); }, wait);
    return fetch(api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "accept": "application/json" },
      body: JSON.stringify(item),
      signal: ctl ? ctl.signal : undefined
    });
  }
  function hold(item) {
    var list = kept();
    list.push(item);
    keep(list);
    code.value = "";
    say(box.getAttribute("data-kept"), list.length);
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    key.value = newKey();
    var item = { code: code.value.trim(), scan_key: key.value };
    if (!item.code) return form.submit();
    if (!navigator.onLine) return hold(item);
    post(item, 8000).then(function () { form.submit(); }, function () { hold(item); });
  });

  var sending = false;
  function send() {
    var list = kept();
    if (sending || !list.length || !navigator.onLine) return;
    sending = true;
    var sent = 0, failed = 0;
    (function next() {
      var item = list[0];
      if (!item) {
        sending = false;
        say(box.getAttribute(failed ? "data-failed" : "data-sent"), failed || sent);
        if (!failed) setTimeout(function () { location.assign(location.pathname); }, 800);
        return;
      }
      post(item, 15000).then(function (r) {
        if (r.status >= 500) { sending = false; return; }
        // An answer (checked in, or a code that is not this event's): it leaves the queue.
        if (r.ok) sent++; else failed++;
        list.shift();
        keep(list);
        next();
      }, function () { sending = false; });
    })();
  }
  window.addEventListener("online", send);
  setInterval(send, 10000);
  var waiting = kept().length;
  if (waiting) say(box.getAttribute("data-kept"), waiting);
  send();
})();
