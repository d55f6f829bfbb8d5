// One stream of live news for all the pages of this site open in the browser (live.js):
// open while at least one page wants it, closed when the last one lets go.
var ports = [];
var source = null;

function open() {
  if (source) return;
  source = new EventSource("/events");
  source.addEventListener("news", function (e) {
    var news;
    try { news = JSON.parse(e.data); } catch (_) { return; }
    ports.forEach(function (p) { p.postMessage(news); });
  });
}

function close() {
  if (source) { source.close(); source = null; }
}

onconnect = function (e) {
  var port = e.ports[0];
  port.onmessage = function (m) {
    if (m.data === "open") {
      if (ports.indexOf(port) < 0) ports.push(port);
      open();
    } else if (m.data === "close") {
      ports = ports.filter(function (p) { return p !== port; });
      if (!ports.length) close();
    }
  };
  port.start();
};
