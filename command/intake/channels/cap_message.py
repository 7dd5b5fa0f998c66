"""A CAP 1.2 message read: validated against the OASIS schema by the `capvalidator` package (its message is the
refusal's), its signature checked, and parsed into plain values (OASIS CAP v1.2, docs/interop.md).

Nothing here touches the database: command.intake.channels.cap acts on what this returns."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib.resources import files

import capvalidator
from lxml import etree

from command.core.errors import InvalidInput

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
MAX_ERRORS = 5


@dataclass(frozen=True, slots=True)
class CapArea:
    desc: str
    polygons: list[list[tuple[float, float]]] = field(default_factory=list)  # rings of (lon, lat)
    circles: list[tuple[float, float, float]] = field(default_factory=list)  # (lon, lat, radius km)
    geocodes: list[tuple[str, str]] = field(default_factory=list)  # (valueName, value)


@dataclass(frozen=True, slots=True)
class CapInfo:
    language: str
    categories: list[str]
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str | None
    description: str | None
    instruction: str | None
    areas: list[CapArea]

    def as_dict(self) -> dict[str, object]:
        """What is kept of every language (the message's XML is kept whole as well)."""
        return {"language": self.language, "categories": self.categories, "event": self.event,
                "urgency": self.urgency, "severity": self.severity, "certainty": self.certainty,
                "headline": self.headline, "description": self.description, "instruction": self.instruction,
                "areas": [a.desc for a in self.areas]}


@dataclass(frozen=True, slots=True)
class CapAlert:
    identifier: str
    sender: str
    sent: datetime
    status: str     # Actual | Exercise | System | Test | Draft
    msg_type: str   # Alert | Update | Cancel | Ack | Error
    scope: str
    references: list[tuple[str, str, str]]  # (sender, identifier, sent) of earlier messages
    references_text: str | None
    infos: list[CapInfo]
    signed: bool
    signature_valid: bool
    validator_message: str
    text: str  # the whole message as text (decoded by its own XML declaration: UTF-8, GBK…)


@cache
def _schema_parser() -> etree.XMLParser:
    """The validator's own schema (the OASIS XSD it ships), built once; no network, no entities."""
    return etree.XMLParser(schema=_schema(), resolve_entities=False, no_network=True, huge_tree=False)


@cache
def _schema() -> etree.XMLSchema:
    """The XSD capvalidator ships (capvalidator.Validator rebuilds it on every call)."""
    with files("capvalidator").joinpath("static/CAP-v1.2-schema.xsd").open("rb") as f:
        return etree.XMLSchema(etree.XML(f.read()))


def _schema_errors(xml: bytes) -> list[str]:
    """The schema's own words for what is wrong (the validator answers only whether it is)."""
    try:
        doc = etree.fromstring(xml, _plain_parser())
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    schema = _schema()
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in list(schema.error_log)[:MAX_ERRORS]]


@cache
def _plain_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _text(node: etree._Element, path: str) -> str | None:
    found = node.find(path, NS)
    return found.text.strip() if found is not None and found.text else None


def _pairs(text: str, what: str) -> list[tuple[float, float]]:
    """CAP's "lat,lon lat,lon …" as (lon, lat)."""
    out = []
    for pair in text.split():
        lat, lon = (float(v) for v in pair.split(","))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidInput(f"{what}: coordinate {pair} out of range", details=[{"field": what}])
        out.append((lon, lat))
    return out


def _area(node: etree._Element) -> CapArea:
    polygons, circles = [], []
    for p in node.findall("cap:polygon", NS):
        ring = _pairs(p.text or "", "polygon")
        if len(ring) < 4 or ring[0] != ring[-1]:
            raise InvalidInput("polygon: CAP needs at least 4 points, the first and last the same",
                               details=[{"field": "polygon"}])
        polygons.append(ring)
    for c in node.findall("cap:circle", NS):
        centre, _, radius = (c.text or "").strip().partition(" ")
        ((lon, lat),) = _pairs(centre, "circle")
        km = float(radius)
        if not 0 < km <= 2000:
            raise InvalidInput(f"circle: radius {radius} km out of range (0, 2000]", details=[{"field": "circle"}])
        circles.append((lon, lat, km))
    geocodes = [(_text(g, "cap:valueName") or "", _text(g, "cap:value") or "") for g in node.findall("cap:geocode", NS)]
    return CapArea(desc=_text(node, "cap:areaDesc") or "", polygons=polygons, circles=circles, geocodes=geocodes)


def _info(node: etree._Element) -> CapInfo:
    return CapInfo(
        language=_text(node, "cap:language") or "en-US",  # CAP's default
        categories=[c.text.strip() for c in node.findall("cap:category", NS) if c.text],
        event=_text(node, "cap:event") or "", urgency=_text(node, "cap:urgency") or "",
        severity=_text(node, "cap:severity") or "", certainty=_text(node, "cap:certainty") or "",
        headline=_text(node, "cap:headline"), description=_text(node, "cap:description"),
        instruction=_text(node, "cap:instruction"), areas=[_area(a) for a in node.findall("cap:area", NS)])


def _references(text: str | None) -> list[tuple[str, str, str]]:
    out = []
    for item in (text or "").split():
        parts = item.split(",")
        if len(parts) != 3:
            raise InvalidInput(f"references: {item!r} is not sender,identifier,sent", details=[{"field": "references"}])
        out.append((parts[0], parts[1], parts[2]))
    return out


def read(xml: bytes, *, require_signature: bool) -> CapAlert:
    """Validate and parse; InvalidInput with the validator's message (and the schema's errors) when invalid."""
    if _DOCTYPE.search(xml):
        raise InvalidInput("a CAP message has no DOCTYPE or entity declarations", details=[{"field": "body"}])
    checked = capvalidator.check_schema(xml)
    if not checked.passed:
        raise InvalidInput(checked.message, details=[{"field": "body", "reason": r} for r in _schema_errors(xml)])
    signature = capvalidator.check_signature(xml)
    if require_signature and not signature.passed:
        raise InvalidInput(signature.message, details=[{"field": "Signature"}])
    root = etree.fromstring(xml, _schema_parser())
    encoding = root.getroottree().docinfo.encoding or "utf-8"
    try:
        infos = [_info(i) for i in root.findall("cap:info", NS)]
    except ValueError as exc:
        raise InvalidInput(f"area: {exc}", details=[{"field": "area"}]) from None
    refs = _text(root, "cap:references")
    return CapAlert(
        identifier=_text(root, "cap:identifier") or "", sender=_text(root, "cap:sender") or "",
        sent=datetime.fromisoformat(_text(root, "cap:sent") or ""), status=_text(root, "cap:status") or "",
        msg_type=_text(root, "cap:msgType") or "", scope=_text(root, "cap:scope") or "",
        references=_references(refs), references_text=refs, infos=infos,
        signed=signature.message != "CAP alert has not been signed.", signature_valid=signature.passed,
        validator_message=checked.message, text=xml.decode(encoding))
