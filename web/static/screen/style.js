// The wall display's map style, inline: no glyphs, no sprites, no host but this one (and an optional,
// configured base map). Region outlines come as vector tiles built by PostGIS; one line layer per level.
(function () {
  "use strict";
  // Colours per level, shared with the legend in screen.css.
  var LEVELS = [
    { level: "microgrid", color: "#27435f", width: [12, 0.3, 16, 1.0], minzoom: 11.5 },
    { level: "grid", color: "#3b6a94", width: [10, 0.5, 16, 1.6], minzoom: 10 },
    { level: "community", color: "#46b0d6", width: [10, 1.0, 16, 2.6], minzoom: 0 },
    { level: "street", color: "#f0c04a", width: [10, 1.8, 16, 4.0], minzoom: 0 },
    { level: "district", color: "#8fe9ff", width: [10, 2.6, 16, 5.0], minzoom: 0 }
  ];

  function build(origin, config) {
    var sources = {
      regions: {
        type: "vector",
        tiles: [origin + config.tiles.regions],
        minzoom: 0,
        maxzoom: 16,
        bounds: config.bounds || [-180, -85, 180, 85]
      }
    };
    var layers = [{ id: "background", type: "background", paint: { "background-color": "#07101c" } }];
    if (config.basemap_url) {
      sources.basemap = { type: "raster", tiles: [config.basemap_url], tileSize: 256 };
      layers.push({ id: "basemap", type: "raster", source: "basemap",
                    paint: { "raster-opacity": 0.55, "raster-saturation": -0.6, "raster-brightness-max": 0.6 } });
    }
    // A faint fill so the city reads as a shape; the enclave street's colour shows the hole.
    layers.push({ id: "district-fill", type: "fill", source: "regions", "source-layer": "regions",
                  filter: ["==", ["get", "level"], "district"],
                  paint: { "fill-color": "#0f2944", "fill-opacity": 0.55 } });
    layers.push({ id: "street-fill", type: "fill", source: "regions", "source-layer": "regions",
                  filter: ["==", ["get", "level"], "street"],
                  paint: { "fill-color": ["match", ["%", ["to-number", ["get", "code"], 0], 6],
                                          0, "#163a63", 1, "#124545", 2, "#2a2d5c", 3, "#1b4330", 4, "#3b2f4f",
                                          "#3a3524"],
                           "fill-opacity": 0.55 } });
    LEVELS.forEach(function (l) {
      if (l.level === "district") {  // a soft glow under the district edge
        layers.push({ id: "district-glow", type: "line", source: "regions", "source-layer": "regions",
                      filter: ["==", ["get", "level"], "district"],
                      paint: { "line-color": l.color, "line-width": 9, "line-blur": 6, "line-opacity": 0.35 } });
      }
      layers.push({
        id: "line-" + l.level, type: "line", source: "regions", "source-layer": "regions", minzoom: l.minzoom,
        filter: ["==", ["get", "level"], l.level],
        layout: { "line-join": "round", "line-cap": "round" },
        paint: { "line-color": l.color,
                 "line-width": ["interpolate", ["linear"], ["zoom"], l.width[0], l.width[1], l.width[2], l.width[3]] }
      });
    });
    return { version: 8, name: "gridcmd-screen", sources: sources, layers: layers };
  }

  window.gridcmd = window.gridcmd || {};
  window.gridcmd.screenStyle = { build: build, levels: LEVELS };
})();
