// Handing an incident's position to the phone's map app. Our coordinates are WGS-84; AMap (高德) wants
// GCJ-02 and Baidu (百度) BD-09, converted here with gcoord (vendored) so each app lands on the right spot.

import gcoord from "../vendor/gcoord/gcoord.esm-browser.prod.js";

const f6 = (x) => x.toFixed(6);

export function toCrs(lon, lat, crs) {
  if (crs === "wgs84") { return [lon, lat]; }
  return gcoord.transform([lon, lat], gcoord.WGS84, crs === "gcj02" ? gcoord.GCJ02 : gcoord.BD09);
}

// [{ app, crs, href }] — geo: (the system's map chooser, WGS-84), amapuri: (GCJ-02), baidumap: (BD-09).
export function navLinks(lon, lat, name) {
  const label = encodeURIComponent(name || "");
  const [glon, glat] = toCrs(lon, lat, "gcj02");
  const [blon, blat] = toCrs(lon, lat, "bd09");
  return [
    { app: "geo", crs: "WGS-84", href: `geo:${f6(lat)},${f6(lon)}?q=${f6(lat)},${f6(lon)}(${label})` },
    { app: "amap", crs: "GCJ-02",
      href: `amapuri://route/plan/?dlat=${f6(glat)}&dlon=${f6(glon)}&dname=${label}&dev=0&t=0` },
    { app: "baidu", crs: "BD-09",
      href: `baidumap://map/direction?destination=latlng:${f6(blat)},${f6(blon)}|name:${label}`
        + "&coord_type=bd09ll&mode=driving&src=gridcmd.m" },
  ];
}
