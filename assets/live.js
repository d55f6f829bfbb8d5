// Live updates, on the pages that show live data (a ticket list, a ticket, the inbox):
// when news comes, the part marked data-live-reload is fetched again and a note appears.
//
// A browser keeps at most six connections to a site, and a page in its back/forward
// cache keeps its own; a stream per page would soon leave none for the next page to load.
// So there is one stream per browser: it lives in a shared worker that every page of the
// site talks to. A page lets go of it when it is hidden away (pagehide, also into the
// back/forward cache) and takes it again when it comes back (pageshow). Where a browser
// has no shared workers, a page keeps a stream of its own only while it is on screen.
(function () {
  // Forms that ask for a place can use the phone's location.
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-locate]");
    if (!b || !navigator.geolocation) return;
    navigator.geolocation.getCurrentPosition(function (p) {
      var f = b.closest("form");
      f.querySelector("[name=lat]").value = p.coords.latitude.toFixed(6);
      f.querySelector("[name=lng]").value = p.coords.longitude.toFixed(6);
    });
  });

  // "All" in a list of lines to pick picks (or unpicks) every line.
  document.addEventListener("change", function (e) {
    if (!e.target.matches("[data-pick-all]")) return;
    e.target.form.querySelectorAll(".pick-line input[type=checkbox], .pick-row input[type=checkbox]").forEach(function (b) {
      b.checked = e.target.checked;
    });
  });

  // A button that spends or cannot be undone asks first, in a sheet at the foot of the
  // screen that says what it will do (without script the form simply posts).
  document.addEventListener("submit", function (e) {
    var f = e.target;
    var b = e.submitter || f.querySelector("[data-confirm]");
    var ask = b && b.getAttribute("data-confirm");
    var sheet = document.getElementById("confirm-sheet");
    if (!ask || !sheet || f.dataset.confirmed) return;
    e.preventDefault();
    sheet.querySelector("p").textContent = ask;
    sheet.returnValue = "";
    sheet.onclose = function () {
      if (sheet.returnValue !== "ok") return;
      f.dataset.confirmed = "1";
      if (f.requestSubmit) f.requestSubmit(b.form === f ? b : null); else f.submit();
      // Back from the next page (the back/forward cache), the form asks again.
      delete f.dataset.confirmed;
    };
    sheet.showModal();
  });

  var user = document.body.dataset.signedIn;
  if (!user || !window.EventSource || !document.querySelector("[data-live-reload]")) return;
  var here = document.currentScript && document.currentScript.src;

  function news(n) {
    var live = document.getElementById("live");
    if (live && window.htmx) {
      htmx.ajax("GET", location.pathname + location.search, { target: "#live", select: "#live", swap: "outerHTML" });
    }
    var toast = document.createElement("a");
    toast.className = "live-toast";
    toast.textContent = (n && n.text) || "有新的工单动态";
    toast.href = "/inbox";
    document.body.appendChild(toast);
    setTimeout(function () { toast.remove(); }, 5000);
  }

  var connect, disconnect;
  if (window.SharedWorker && here) {
    var port = null;
    connect = function () {
      if (port) return;
      var worker = new SharedWorker(here.replace("/live.js", "/live-worker.js"), { name: "linli-live-" + user });
      port = worker.port;
      port.onmessage = function (e) { news(e.data); };
      port.start();
      port.postMessage("open");
    };
    disconnect = function () {
      if (!port) return;
      port.postMessage("close");
      port.close();
      port = null;
    };
  } else {
    var source = null;
    connect = function () {
      if (source || document.hidden) return;
      source = new EventSource("/events");
      source.addEventListener("news", function (e) {
        try { news(JSON.parse(e.data)); } catch (_) { news(null); }
      });
    };
    disconnect = function () {
      if (source) { source.close(); source = null; }
    };
    document.addEventListener("visibilitychange", function () {
      if (document.hidden) disconnect(); else connect();
    });
  }
  window.addEventListener("pagehide", disconnect);
  window.addEventListener("pageshow", connect);
  connect();
})();
