// Live updates: the server sends news of tickets that concern the signed-in user.
// A page that shows such a list or ticket reloads that part; elsewhere a note appears.
(function () {
  if (!window.EventSource || !document.body.dataset.signedIn) return;
  var source = new EventSource("/events");
  source.addEventListener("ticket", function (e) {
    var news = {};
    try { news = JSON.parse(e.data); } catch (_) {}
    var live = document.getElementById("live");
    if (live && live.hasAttribute("data-live-reload") && window.htmx) {
      htmx.ajax("GET", location.pathname + location.search, { target: "#live", select: "#live", swap: "outerHTML" });
    }
    var toast = document.createElement("a");
    toast.className = "live-toast";
    toast.textContent = news.text || "有新的工单动态";
    toast.href = "/inbox";
    document.body.appendChild(toast);
    setTimeout(function () { toast.remove(); }, 5000);
  });
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
})();
