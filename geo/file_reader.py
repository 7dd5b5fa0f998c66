"""Open a region file with GDAL (through pyogrio) and read one layer as it is: WKB geometries, attribute values,
the CRS GDAL found, nothing reprojected and nothing renamed yet.

Formats: ESRI Shapefile (the .shp, or a .zip holding it, at the root or in a folder), GeoPackage, KML/KMZ and
GeoJSON. GDAL reads others too, but only these are tested, so the rest are refused by name.

Text encodings. GeoPackage, KML and GeoJSON are UTF-8 by their specifications. A Shapefile's .dbf is whatever
the program that wrote it used: GDAL follows the .cpg beside it (e.g. "GBK"), else the language-driver byte in
the .dbf header; with neither it falls back to ISO-8859-1, which turns GBK text into mojibake without any error.
So a Shapefile decoded by that fallback that holds any non-ASCII text is refused until `encoding` names the real
one (`--encoding GBK`); `encoding` always wins over the .cpg.
"""

from __future__ import annotations

import codecs
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import orjson
import pyogrio
from pyogrio import raw
from pyogrio.errors import DataLayerError, DataSourceError

FORMATS = {"ESRI Shapefile": "Shapefile", "GPKG": "GeoPackage", "LIBKML": "KML", "KML": "KML",
           "GeoJSON": "GeoJSON"}
_DATASET_SUFFIXES = (".shp", ".gpkg", ".kml", ".kmz", ".geojson", ".json")
_FALLBACK_ENCODING = "ISO-8859-1"  # what GDAL assumes for a .dbf that names no encoding
# Fields the KML drivers add to every placemark; they describe the KML feature, not the region.
_KML_BUILTIN = frozenset({"id", "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude",
                          "visibility", "drawOrder", "icon", "snippet"})


class FileProblem(ValueError):
    """The file (not one feature of it) cannot be read; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class RawLayer:
    dataset: str  # the path GDAL opened (a /vsizip/ path for a member of a zip)
    format: str  # Shapefile, GeoPackage, KML, GeoJSON
    layer: str
    crs: str | None  # as GDAL names it: "EPSG:4528", or WKT when it knows no code
    encoding: str | None  # the encoding given by the caller, None when the file's own was used
    fields: list[str]
    columns: list[list[object]]  # one list of Python values per field, parallel to `fields`
    wkb: list[bytes | None]

    @property
    def feature_count(self) -> int:
        return len(self.wkb)

    def builtin_fields(self) -> frozenset[str]:
        """Fields the format itself adds (never kept as a region's properties unless mapped)."""
        return _KML_BUILTIN if self.format == "KML" else frozenset()


def _gdal_message(exc: Exception) -> str:
    return str(exc).split("; It might help")[0]  # GDAL's hint about driver prefixes helps nobody here


def _datasets(path: Path) -> list[str]:
    """The datasets GDAL should open: the file itself, or each region file inside a zip."""
    if path.suffix.lower() != ".zip":
        return [str(path)]
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileProblem(f"cannot read {path.name} as a zip archive: {exc}") from exc
    found = [m for m in members if m.lower().endswith(_DATASET_SUFFIXES) and not m.startswith("__MACOSX/")]
    if not found:
        raise FileProblem(f"{path.name} holds no Shapefile, GeoPackage, KML or GeoJSON file")
    return sorted(f"/vsizip/{path.resolve()}/{m}" for m in found)


def _layers(datasets: list[str]) -> list[tuple[str, str, str]]:
    """(dataset, layer, geometry type) for every layer of every dataset."""
    out: list[tuple[str, str, str]] = []
    for dataset in datasets:
        try:
            layers = pyogrio.list_layers(dataset)
        except DataSourceError as exc:
            raise FileProblem(_unreadable(dataset, exc)) from exc
        out.extend((dataset, str(name), str(gtype)) for name, gtype in layers)
    return out


def _unreadable(dataset: str, exc: Exception) -> str:
    name = Path(dataset).name
    if not Path(dataset).exists() and not dataset.startswith("/vsi"):
        return f"cannot read {dataset}: no such file"
    try:
        with open(dataset, "rb") as fh:
            head = fh.read(64).lstrip()
    except OSError:
        head = b""
    if head[:1] in (b"{", b"["):  # GDAL would have taken valid GeoJSON: this is broken JSON
        return f"{name} is not GeoJSON: GDAL cannot parse it ({_gdal_message(exc)})"
    return (f"{name} is not a region file GDAL can read (Shapefile, GeoPackage, KML or GeoJSON): "
            f"{_gdal_message(exc)}")


def _choose_layer(layers: list[tuple[str, str, str]], wanted: str | None) -> tuple[str, str]:
    def listing() -> str:
        return ", ".join(f"{name!r} ({gtype})" for _, name, gtype in layers)

    if wanted is not None:
        matches = [(d, name) for d, name, _ in layers if name == wanted]
        if not matches:
            raise FileProblem(f"no layer {wanted!r}; the file has: {listing()}")
        if len(matches) > 1:
            raise FileProblem(f"layer {wanted!r} is in several files of the archive: "
                              f"{', '.join(d for d, _ in matches)}")
        return matches[0]
    if not layers:
        raise FileProblem("the file holds no layer")
    if len(layers) > 1:
        raise FileProblem(f"the file has {len(layers)} layers: choose one with --layer ({listing()})")
    dataset, name, _ = layers[0]
    return dataset, name


def _values(column: object, is_json: bool) -> list[object]:
    """numpy column → Python values; NaN and NaT become None, JSON-typed text its value."""
    values: list[object] = column.tolist()  # type: ignore[attr-defined]
    out: list[object] = []
    for v in values:
        if isinstance(v, float) and math.isnan(v):
            v = None
        elif isinstance(v, bytes):
            v = v.hex()
        elif is_json and isinstance(v, str):
            try:
                v = orjson.loads(v)
            except orjson.JSONDecodeError:
                pass
        out.append(v)
    return out


def _has_non_ascii(fields: list[str], columns: list[list[object]]) -> bool:
    return any(not f.isascii() for f in fields) or any(
        isinstance(v, str) and not v.isascii() for col in columns for v in col)


def read_layer(path: str | Path, *, layer: str | None = None, encoding: str | None = None) -> RawLayer:
    """Read one layer of a region file; FileProblem when the file, the layer or its text cannot be read."""
    path = Path(path)
    if not path.exists():
        raise FileProblem(f"cannot read {path}: no such file")
    dataset, layer_name = _choose_layer(_layers(_datasets(path)), layer)
    try:
        info = pyogrio.read_info(dataset, layer=layer_name)
    except (DataSourceError, DataLayerError) as exc:
        raise FileProblem(_unreadable(dataset, exc)) from exc
    fmt = FORMATS.get(str(info["driver"]))
    if fmt is None:
        raise FileProblem(f"{path.name} is a {info['driver']} file; region files are Shapefile, GeoPackage, "
                          "KML or GeoJSON (convert it, e.g. with ogr2ogr)")
    if encoding is not None and fmt != "Shapefile":
        raise FileProblem(f"--encoding applies to Shapefiles only: a {fmt} file is UTF-8 by its specification")
    if encoding is not None:
        try:
            codecs.lookup(encoding)  # GDAL (iconv) would only warn and hand back undecoded bytes
        except LookupError as exc:
            raise FileProblem(f"unknown encoding {encoding!r} (e.g. GBK, GB18030, UTF-8)") from exc
    try:
        meta, _, wkb, columns = raw.read(dataset, layer=layer_name, encoding=encoding, force_2d=True)
    except UnicodeDecodeError as exc:
        raise FileProblem(f"the attributes of {path.name} are not valid {encoding or 'UTF-8'} text ({exc.reason} "
                          f"at byte {exc.start}): give the .dbf's encoding with --encoding (GBK, UTF-8…)") from exc
    except Exception as exc:  # pyogrio's errors for a damaged file, and GDAL's for an unknown encoding name
        raise FileProblem(f"cannot read {path.name}: {_gdal_message(exc)}") from exc
    fields = [str(f) for f in meta["fields"]]
    json_fields = {f for f, sub in zip(fields, meta.get("ogr_subtypes") or [], strict=False) if sub == "OFSTJSON"}
    values = [_values(col, f in json_fields) for f, col in zip(fields, columns, strict=True)]
    if (fmt == "Shapefile" and encoding is None and meta.get("encoding") == _FALLBACK_ENCODING
            and _has_non_ascii(fields, values)):
        raise FileProblem(f"{path.name}: the .dbf does not say how its text is encoded (no .cpg beside it) and "
                          "its text is not ASCII: give the encoding with --encoding (GBK for most files from "
                          "Chinese GIS software, UTF-8…)")
    return RawLayer(dataset=dataset, format=fmt, layer=layer_name, crs=meta.get("crs"), encoding=encoding,
                    fields=fields, columns=values, wkb=list(wkb))
