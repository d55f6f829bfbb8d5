// The grid maps over the deployment's tile server (body[data-tiles]), drawn with the
// embedded Leaflet. Each map's own drawing stays in the page for when tiles cannot load.
(function () {
  "use strict";
  function draw(svg) {
    if (svg.dataset.drawn || !window.L) return;
    svg.dataset.drawn = "1";
    var geo = JSON.parse(svg.dataset.geo || "{}");
    var box = document.createElement("div");
    box.className = "basemap";
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", svg.getAttribute("aria-label") || "");
    svg.parentNode.insertBefore(box, svg);
    var map = L.map(box, { scrollWheelZoom: false, attributionControl: true });
    var body = document.body.dataset;
    L.tileLayer(body.tiles, { subdomains: "01234567", maxZoom: 18, attribution: body.tilesCredit || "" }).addTo(map);
    var bounds = L.latLngBounds([]);
    (geo.shapes || []).forEach(function (s) {
      var p = L.polygon(s.rings, { color: s.on ? "#d6081f" : "#1568c4", weight: s.on ? 3 : 2, fillOpacity: 0.12 });
      p.bindTooltip(s.label, { permanent: true, direction: "center", className: "basemap-label" });
      if (s.href) p.on("click", function () { location.href = s.href; });
      p.addTo(map);
      bounds.extend(p.getBounds());
    });
    (geo.markers || []).forEach(function (m) {
      var c = L.circleMarker([m.lat, m.lng], { radius: 6, className: "marker " + (m.cls || "") });
      c.bindTooltip(m.title);
      if (m.href) c.on("click", function () { location.href = m.href; });
      c.addTo(map);
      bounds.extend(c.getLatLng());
    });
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12] });
    svg.classList.add("map-under");
  }
  function all() {
    if (!document.body.dataset.tiles) return;
    document.querySelectorAll("svg.map[data-geo]").forEach(draw);
  }
  document.addEventListener("DOMContentLoaded", all);
  document.addEventListener("htmx:afterSettle", all);
})();
