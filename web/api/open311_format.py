"""Open311 GeoReport v2 wire formats: the same records as JSON (arrays of objects) or XML (the spec's element
names), and the spec's error list, `[{"code": 400, "description": "…"}]` / `<errors><error>…</error></errors>`."""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from xml.etree import ElementTree as ET

from fastapi.responses import Response

from command.intake.channels.open311_services import Attribute, Service

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"


def service_record(s: Service) -> dict[str, Any]:
    return {"service_code": s.service_code, "service_name": s.service_name, "description": s.description,
            "metadata": s.metadata, "type": s.type, "keywords": s.keywords, "group": s.group}


def attribute_record(a: Attribute) -> dict[str, Any]:
    return {"variable": a.variable, "code": a.code, "datatype": a.datatype, "required": a.required,
            "datatype_description": a.datatype_description, "order": a.order, "description": a.description,
            "values": [{"key": v.key, "name": v.name} for v in a.values]}


def definition_record(s: Service) -> dict[str, Any]:
    return {"service_code": s.service_code, "attributes": [attribute_record(a) for a in s.attributes]}


def request_record(r: object) -> dict[str, Any]:
    out: dict[str, Any] = dataclasses.asdict(r)  # type: ignore[call-overload]
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# In XML a list's items are named by their parent: <attributes><attribute>, <values><value>, <formats><format>.
_ITEM = {"attributes": "attribute", "values": "value", "formats": "format", "endpoints": "endpoint"}


def _fill(parent: ET.Element, record: dict[str, Any]) -> None:
    for name, value in record.items():
        child = ET.SubElement(parent, name)
        if isinstance(value, list):
            for item in value:
                node = ET.SubElement(child, _ITEM.get(name, "item"))
                if isinstance(item, dict):
                    _fill(node, item)
                else:
                    node.text = _text(item)
        elif isinstance(value, dict):
            _fill(child, value)
        else:
            child.text = _text(value)


def to_xml(root: str, item: str | None, body: list[dict[str, Any]] | dict[str, Any]) -> bytes:
    """`<root><item>…</item>…</root>` for a list, `<root>…</root>` for one record."""
    top = ET.Element(root)
    if isinstance(body, list):
        for record in body:
            _fill(ET.SubElement(top, item or "item"), record)
    else:
        _fill(top, body)
    # The declaration as the spec's examples write it (ElementTree's own uses single quotes).
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="unicode").encode()


def render(fmt: str, root: str, item: str | None, body: list[dict[str, Any]] | dict[str, Any],
           status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if fmt == "xml":
        return Response(to_xml(root, item, body), status_code=status, media_type=XML_TYPE, headers=headers)
    return Response(json.dumps(body, ensure_ascii=False).encode(), status_code=status, media_type=JSON_TYPE,
                    headers=headers)


def errors(fmt: str, status: int, descriptions: list[str], headers: dict[str, str] | None = None) -> Response:
    """The spec's error list: one entry per problem, each with the HTTP status as its code."""
    return render(fmt, "errors", "error", [{"code": status, "description": d} for d in descriptions], status,
                  headers)
