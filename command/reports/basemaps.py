"""Base maps used in China, as presets the pages' map style picks (issue 17 item 5, docs/interop.md).

- `tianditu`: 天地图 (the national platform of the Ministry of Natural Resources), vector map `vec_w` with its
  annotation layer `cva_w`; `tianditu-img`: imagery `img_w` with `cia_w`. The Web Mercator ("_w") WMTS layers,
  read as XYZ tiles through their KVP GetTile URL, t0-t7 load-balanced, with the installation's `tk` key. 天地图
  tiles are on CGCS2000, which agrees with WGS-84 to centimetres: gridcmd's WGS-84 coordinates go on them unchanged
  (unlike GCJ-02 maps, which need GRIDCMD_BASEMAP_CRS=gcj02).
- `intranet`: an XYZ template of the installation's own tile server (GRIDCMD_BASEMAP_URL), in GRIDCMD_BASEMAP_CRS.
- none (the default): no base map, unless GRIDCMD_BASEMAP_URL names one (the setting before presets); the demo works
  with region outlines alone and fetches nothing from another host."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from command.core.settings import Settings

TIANDITU_HOSTS = tuple(f"https://t{i}.tianditu.gov.cn" for i in range(8))
_TIANDITU_LAYERS = {"tianditu": ("vec", "cva"), "tianditu-img": ("img", "cia")}
TIANDITU_ATTRIBUTION = "天地图 © 国家地理信息公共服务平台"


@dataclass(frozen=True, slots=True)
class BaseLayer:
    id: str
    tiles: list[str]       # XYZ templates ({z}/{x}/{y}); several = the same tiles from several hosts
    labels: bool = False   # an annotation layer drawn above the base layer


def tianditu_tiles(layer: str, tk: str) -> list[str]:
    """One 天地图 Web Mercator layer (vec, cva, img, cia…) as XYZ templates over its eight hosts."""
    return [f"{host}/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default"
            f"&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={tk}"
            for host in TIANDITU_HOSTS]


def layers(settings: Settings) -> list[BaseLayer]:
    """The configured base map's layers, bottom first (none: no base map)."""
    preset = settings.basemap_preset
    if preset in _TIANDITU_LAYERS:
        base, labels = _TIANDITU_LAYERS[preset]
        return [BaseLayer(f"tianditu-{base}", tianditu_tiles(base, settings.tianditu_tk)),
                BaseLayer(f"tianditu-{labels}", tianditu_tiles(labels, settings.tianditu_tk), labels=True)]
    if settings.basemap_url:  # intranet, or a URL set without a preset
        return [BaseLayer("basemap", [settings.basemap_url])]
    return []


def crs(settings: Settings) -> str:
    """The datum of the base map's tiles: 天地图 is CGCS2000, taken as WGS-84 (see the module's doc)."""
    return "wgs84" if settings.basemap_preset.startswith("tianditu") else settings.basemap_crs


def describe(settings: Settings) -> dict[str, Any] | None:
    """The base map as the pages' style reads it (GET /api/v1/screen/config `basemap`), or None."""
    found = layers(settings)
    if not found:
        return None
    tianditu = settings.basemap_preset.startswith("tianditu")
    return {"preset": settings.basemap_preset or "custom", "crs": crs(settings),
            "attribution": TIANDITU_ATTRIBUTION if tianditu else None,
            "layers": [{"id": b.id, "tiles": b.tiles, "labels": b.labels} for b in found]}


def first_tiles(settings: Settings) -> str:
    """The bottom layer's first template, for a page that draws one raster layer (the resident's pin map)."""
    found = layers(settings)
    return found[0].tiles[0] if found else ""


def origins(settings: Settings) -> list[str]:
    """The scheme://host[:port] of every tile URL: the only other origins a page may load (its CSP)."""
    out: list[str] = []
    for b in layers(settings):
        for template in b.tiles:
            parts = urlsplit(template.replace("{", "").replace("}", ""))
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in out:
                out.append(origin)
    return out
