"""A region file's own attribute names mapped to code / name / level / parent_code (`--map`).

`--map code=WGDM,name=WGMC,level=JB,parent_code=SJDM`: each target names the file's field that holds it. A target
not mapped is looked for under its own name, case-insensitively ("CODE", "Name"), and parent_code also under
"parent_cod" (what a Shapefile's 10-character field names make of it). `level` may instead name a level
(`level=grid`) that every feature of the file then has — unless the file has a field of that name. A level value
may be written in Chinese (区, 街道, 乡镇, 社区, 村, 网格, 微网格…); it is read as the level it names. Every other
field is kept in the region's properties (null values left out; a field whose name is one of the four targets
but which is not mapped to it is kept as NAME_file).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from geo.models import Level

TARGETS = ("code", "name", "level", "parent_code")
_DEFAULT_FIELDS = {"code": ("code",), "name": ("name",), "level": ("level",),
                   "parent_code": ("parent_code", "parent_cod")}
_LEVELS = {level.value: level for level in Level}
LEVEL_NAMES_ZH: dict[str, Level] = {
    **dict.fromkeys(("区", "县", "区县", "县区", "市辖区", "县级市", "旗"), Level.district),
    **dict.fromkeys(("街道", "乡", "镇", "乡镇", "乡镇街道", "街镇", "苏木"), Level.street),
    **dict.fromkeys(("社区", "村", "村居", "社区村", "居委会", "村委会", "嘎查"), Level.community),
    **dict.fromkeys(("网格", "单元网格"), Level.grid),
    **dict.fromkeys(("微网格", "微格"), Level.microgrid),
}


class MappingProblem(ValueError):
    """The --map option or the file's fields do not give the four targets; the message says what to write."""


def _level_constant(value: str) -> Level | None:
    return _LEVELS.get(value.strip().lower()) or LEVEL_NAMES_ZH.get(value.strip())


@dataclass(frozen=True, slots=True)
class AttributeMap:
    """The parsed --map option: target → the field (or, for level, possibly a level) the user wrote."""

    targets: dict[str, str]

    @classmethod
    def parse(cls, text: str | None) -> AttributeMap:
        targets: dict[str, str] = {}
        for part in (text or "").split(","):
            if not part.strip():
                continue
            target, sep, source = part.partition("=")
            target, source = target.strip(), source.strip()
            if not sep or not source:
                raise MappingProblem(f"--map: {part.strip()!r} is not TARGET=FIELD")
            if target not in TARGETS:
                raise MappingProblem(f"--map: unknown target {target!r} (targets: {', '.join(TARGETS)})")
            if target in targets:
                raise MappingProblem(f"--map: {target!r} is mapped twice")
            targets[target] = source
        return cls(targets)

    def bind(self, fields: Sequence[str]) -> BoundMap:
        """Resolve every target against the file's fields; MappingProblem listing them when one is missing."""
        by_lower: dict[str, list[str]] = {}
        for f in fields:
            by_lower.setdefault(f.lower(), []).append(f)

        def find(name: str) -> str | None:
            if name in fields:
                return name
            candidates = by_lower.get(name.lower(), [])
            return candidates[0] if len(candidates) == 1 else None

        listing = ", ".join(fields) or "none"
        sources: dict[str, str] = {}
        level_constant: Level | None = None
        for target in TARGETS:
            wanted = self.targets.get(target)
            if wanted is not None:
                found = find(wanted)
                if found is None and target == "level":
                    level_constant = _level_constant(wanted)
                if found is None and level_constant is None:
                    raise MappingProblem(f"--map {target}={wanted}: the file has no field {wanted!r} "
                                         f"(its fields: {listing})")
            else:
                found = next((f for f in map(find, _DEFAULT_FIELDS[target]) if f is not None), None)
                if found is None and target != "parent_code":
                    raise MappingProblem(f"the file has no {target!r} field: map one with --map {target}=FIELD"
                                         f"{' or a level, e.g. level=grid' if target == 'level' else ''} "
                                         f"(its fields: {listing})")
            if found is not None:
                sources[target] = found
        return BoundMap(sources, level_constant)


@dataclass(frozen=True, slots=True)
class BoundMap:
    """Targets resolved to the file's actual field names."""

    sources: dict[str, str]
    level_constant: Level | None

    def properties(self, row: dict[str, object], skip: frozenset[str] = frozenset()) -> dict[str, object]:
        """One feature's GeoJSON properties: the four targets, then every other non-null field."""
        props: dict[str, object] = {t: _clean(t, row.get(f)) for t, f in self.sources.items()}
        if self.level_constant is not None:
            props["level"] = self.level_constant.value
        used = set(self.sources.values()) | skip
        for name, value in row.items():
            if name in used or value is None:
                continue
            props[f"{name}_file" if name.lower() in TARGETS else name] = value
        return props


def _clean(target: str, value: object) -> object:
    """Codes stored as whole floats become integers; a level written in Chinese or in capitals becomes its name."""
    if target in ("code", "parent_code") and isinstance(value, float) and value.is_integer():
        return int(value)
    if target == "level" and isinstance(value, str):
        level = _level_constant(value)
        return level.value if level is not None else value
    return value
