"""Validation of a region FeatureCollection. Every problem is collected, each naming the feature and the reason.

The file-level checks need no database; `check_tree` takes what the database already holds as a mapping, so the
importer can look that up in one query and every rule stays testable without PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import MultiPolygon, Polygon

from geo.errors import GeoInputError
from geo.models import Level
from geo.shapes import BBox, ShapeError, bbox_of, looks_swapped, parse_polygonal, to_valid_multipolygon

RESERVED = ("code", "name", "level", "parent_code")
MAX_CODE = 64
WHOLE_DEPLOYMENT = "*"  # not a region: reports and subscriptions use it for everything (全域)
MAX_NAME = 200
_LEVELS = {level.value: level for level in Level}


@dataclass(slots=True)
class RegionFeature:
    index: int
    code: str | None
    name: str | None
    level: Level | None
    parent_code: str | None
    properties: dict[str, Any] = field(default_factory=dict)
    raw_geom: Polygon | MultiPolygon | None = None
    geom: MultiPolygon | None = None
    repaired: bool = False


@dataclass(frozen=True, slots=True)
class ValidRegion:
    """A feature that passed every check: all it needs to be stored."""

    index: int
    code: str
    name: str
    level: Level
    parent_code: str | None
    properties: dict[str, Any]
    geom: MultiPolygon
    repaired: bool

    @classmethod
    def of(cls, feat: RegionFeature) -> ValidRegion:
        """Every missing part of a feature is a problem of the file, so after `raise_if_any` none is missing."""
        if feat.code is None or feat.name is None or feat.level is None or feat.geom is None:
            raise ValueError(f"feature #{feat.index} was not validated")
        return cls(feat.index, feat.code, feat.name, feat.level, feat.parent_code, feat.properties, feat.geom,
                   feat.repaired)


class Problems:
    """The collected errors, in the shape GeoInputError carries: {"feature", "code", "reason"}."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, index: int | None, code: str | None, reason: str) -> None:
        self.items.append({"feature": index, "code": code, "reason": reason})

    def raise_if_any(self, what: str = "region file") -> None:
        if self.items:
            self.items.sort(key=lambda p: (p["feature"] is not None, p["feature"] or 0))
            raise GeoInputError(f"{len(self.items)} error(s) in the {what}; nothing was imported",
                                details=self.items)


def describe(problem: dict[str, Any]) -> str:
    """One line a person can act on: which feature, which code, what is wrong."""
    if problem["feature"] is None:
        return str(problem["reason"])
    code = f" (code {problem['code']!r})" if problem.get("code") else ""
    return f"feature #{problem['feature']}{code}: {problem['reason']}"


def _ident(value: object) -> str | None:
    """Codes may arrive as numbers (administrative division codes); bools and blanks are not codes."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _read_properties(index: int, feature: object, problems: Problems) -> RegionFeature | None:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        problems.add(index, None, "not a GeoJSON Feature")
        return None
    props = feature.get("properties")
    if not isinstance(props, dict):
        problems.add(index, None, "missing properties (code, name, level, parent_code)")
        return None
    code = _ident(props.get("code"))
    if code is None:
        problems.add(index, None, "missing or empty 'code'")
    elif len(code) > MAX_CODE:
        problems.add(index, code[:MAX_CODE], f"code longer than {MAX_CODE} characters")
        code = None
    elif code == WHOLE_DEPLOYMENT:
        problems.add(index, code, f"code {WHOLE_DEPLOYMENT!r} is reserved for the whole deployment (全域)")
        code = None
    name = props.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add(index, code, "missing or empty 'name'")
        name = None
    elif len(name) > MAX_NAME:
        problems.add(index, code, f"name longer than {MAX_NAME} characters")
    raw_level = props.get("level")
    level = _LEVELS.get(raw_level) if isinstance(raw_level, str) else None
    if level is None:
        problems.add(index, code, f"unknown level {raw_level!r} (expected one of: {', '.join(Level)})")
    raw_parent = props.get("parent_code")
    parent = _ident(raw_parent)
    if parent is None and raw_parent not in (None, ""):
        problems.add(index, code, f"parent_code {raw_parent!r} is not a code")
    extra = {k: v for k, v in props.items() if k not in RESERVED}
    return RegionFeature(index, code, name, level, parent, extra)


def parse_collection(collection: object) -> tuple[list[RegionFeature], Problems]:
    """Structure, properties, geometry, coordinate range and axis order, repair, duplicate codes."""
    problems = Problems()
    if not isinstance(collection, dict) or "type" not in collection:
        problems.add(None, None, "not GeoJSON: expected a JSON object with a 'type'")
        return [], problems
    if collection.get("type") != "FeatureCollection" or not isinstance(collection.get("features"), list):
        problems.add(None, None, f"not a FeatureCollection (type {collection.get('type')!r})")
        return [], problems

    features: list[RegionFeature] = []
    boxes: dict[int, BBox] = {}
    for index, raw in enumerate(collection["features"]):
        feat = _read_properties(index, raw, problems)
        if feat is None:
            continue
        features.append(feat)
        try:
            feat.raw_geom = parse_polygonal(raw.get("geometry"))
            boxes[index] = bbox_of(feat.raw_geom)
        except ShapeError as exc:
            problems.add(index, feat.code, str(exc))

    _check_coordinates(features, boxes, problems)
    _check_duplicates(features, problems)
    return features, problems


def _check_coordinates(features: list[RegionFeature], boxes: dict[int, BBox], problems: Problems) -> None:
    file_box: BBox | None = None
    for feature_box in boxes.values():
        file_box = feature_box if file_box is None else file_box.union(feature_box)
    swapped_file_box = file_box if file_box is not None and looks_swapped(file_box) else None
    for feat in features:
        box = boxes.get(feat.index)
        if box is None or feat.raw_geom is None:
            continue
        if swapped_file_box is not None:
            problems.add(feat.index, feat.code, "longitude and latitude are swapped: the file's bounding box "
                         f"({swapped_file_box.describe()}) only makes sense with the axes exchanged")
        elif looks_swapped(box):
            problems.add(feat.index, feat.code, "longitude and latitude are swapped: its bounding box "
                         f"({box.describe()}) only makes sense with the axes exchanged")
        elif not box.in_range():
            problems.add(feat.index, feat.code, f"coordinates out of range ({box.describe()}): "
                         "longitude must be within ±180 and latitude within ±90")
        else:
            try:
                feat.geom, feat.repaired = to_valid_multipolygon(feat.raw_geom)
            except ShapeError as exc:
                problems.add(feat.index, feat.code, str(exc))
        feat.raw_geom = None  # only the valid geometry is kept


def _check_duplicates(features: list[RegionFeature], problems: Problems) -> None:
    first: dict[str, int] = {}
    for feat in features:
        if feat.code is None:
            continue
        if feat.code in first:
            problems.add(feat.index, feat.code, f"duplicate code: already used by feature #{first[feat.code]}")
        else:
            first[feat.code] = feat.index


def check_tree(features: list[RegionFeature], existing_levels: Mapping[str, str], problems: Problems) -> None:
    """Parents exist (in the file or the database) and sit at a shallower level than their children.

    `existing_levels` maps the codes of parents not defined in the file to their stored level."""
    in_file = {f.code: f.level for f in features if f.code is not None}
    for feat in features:
        parent = feat.parent_code
        if parent is None:
            continue
        if parent == feat.code:
            problems.add(feat.index, feat.code, "a region cannot be its own parent")
            continue
        if parent in in_file:
            parent_level = in_file[parent]
        elif parent in existing_levels:
            parent_level = Level(existing_levels[parent])
        else:
            problems.add(feat.index, feat.code, f"unknown parent {parent!r}: neither in the file nor in the database")
            continue
        if feat.level is not None and parent_level is not None and feat.level.depth <= parent_level.depth:
            problems.add(feat.index, feat.code, f"level {feat.level.value!r} is not deeper than its parent "
                         f"{parent!r} ({parent_level.value})")


def check_existing_children(features: list[RegionFeature], children: list[tuple[str, str, str]],
                            problems: Problems) -> None:
    """A re-imported region whose level changes must stay above the stored children the file does not move.

    `children` holds (child code, child level, parent code) for stored children of codes in the file."""
    by_code = {f.code: f for f in features if f.code is not None}
    for child_code, child_level, parent_code in children:
        if child_code in by_code:
            continue  # the file re-imports the child too; check_tree already judged it
        parent = by_code.get(parent_code)
        if parent is not None and parent.level is not None and Level(child_level).depth <= parent.level.depth:
            problems.add(parent.index, parent.code, f"level {parent.level.value!r} is not above its stored child "
                         f"{child_code!r} ({child_level})")
