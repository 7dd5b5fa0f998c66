// The first wall display: the map of the watched region, its boundaries drawn from vector tiles.
(function () {
  "use strict";
  var auth = window.gridcmd.auth;
  if (!auth.require()) { return; }

  var status = document.getElementById("status");
  var origin = window.location.origin;

  function say(key) { status.textContent = auth.t(key); status.hidden = false; }

  function tick() {
    var locale = document.documentElement.lang;
    document.getElementById("clock").textContent = new Date().toLocaleString(locale, { hour12: false });
  }
  tick();
  window.setInterval(tick, 1000);

  var who = auth.session() || {};
  document.getElementById("user-name").textContent = who.username || "";
  document.getElementById("logout").addEventListener("click", function () { auth.clear(); auth.toLogin(); });

  auth.fetchJSON("/api/v1/screen/config").then(function (config) {
    if (config.region) { document.getElementById("region-name").textContent = config.region.name + " · "; }
    var map = new maplibregl.Map({
      container: "map",
      style: window.gridcmd.screenStyle.build(origin, config),
      bounds: config.bounds || undefined,
      center: config.bounds ? undefined : [118.78, 32.05],
      zoom: config.bounds ? undefined : 10,
      fitBoundsOptions: { padding: { top: 90, bottom: 40, left: 40, right: 40 } },
      attributionControl: false,
      dragRotate: false,
      pitchWithRotate: false,
      // Tiles carry the same bearer token as every API call; other URLs (a base map) go as they are.
      transformRequest: function (url) {
        if (url.indexOf(origin + "/tiles/") === 0) {
          return { url: url, headers: { Authorization: "Bearer " + auth.token() } };
        }
        return { url: url };
      }
    });
    window.gridcmd.map = map;  // for later screens' layers, and for tests
    // The tile server adds finer levels as one zooms in: grey out the legend rows not drawn yet.
    function legend() {
      var z = map.getZoom();
      Object.keys(config.level_min_zoom || {}).forEach(function (level) {
        var row = document.querySelector('.legend-row[data-level="' + level + '"]');
        if (row) { row.classList.toggle("off", z < config.level_min_zoom[level]); }
      });
    }
    map.on("zoomend", legend);
    legend();
    map.on("load", function () {
      if (config.bounds) { status.hidden = true; } else { say("screen.no_regions"); }
    });
    map.on("error", function (ev) {
      if (ev && ev.error && ev.error.status === 401) { auth.clear(); auth.toLogin(); return; }
      if (window.console) { window.console.error("map:", ev && ev.error ? ev.error.message : ev); }
    });
  }).catch(function (e) {
    if (e.status === 403) { say("screen.forbidden"); } else if (e.message !== "not authenticated") { say("login.error"); }
  });
})();
