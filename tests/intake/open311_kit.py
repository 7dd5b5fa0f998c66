"""Shared pieces of the Open311 tests: the published JSON schemas (read from /work/shared/interop, not copied),
a strict XML parser, a client application, and a request as FixMyStreet's Open311 sender posts it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.db import make_sessionmaker
from command.intake.channels import open311_clients

SCHEMAS = Path("/work/shared/interop/open311-georeport-v2")
_FILES = ("service.json", "services.json", "service-definition.json", "request.json", "requests.json")


def _registry() -> Registry:
    return Registry().with_resources(
        (name, Resource.from_contents(json.loads((SCHEMAS / name).read_text()), default_specification=DRAFT7))
        for name in _FILES)


REGISTRY = _registry()
SWAGGER = json.loads((SCHEMAS / "swagger.json").read_text())


def validate(schema_file: str, body: Any) -> None:
    """Raise unless `body` is valid against the published schema `schema_file`."""
    schema = json.loads((SCHEMAS / schema_file).read_text())
    Draft7Validator(schema, registry=REGISTRY, format_checker=FormatChecker()).validate(body)


def validate_swagger(definition: str, body: Any) -> None:
    """Against a definition of the published Swagger description (the POST answer, the token answer)."""
    Draft7Validator(SWAGGER["definitions"][definition]).validate(body)
    for name, prop in SWAGGER["definitions"][definition]["properties"].items():
        if name in body and body[name] is not None:
            assert isinstance(body[name], str), (name, prop)


def parse_xml(content: bytes) -> Element:
    """defusedxml: refuses DTDs, entities and external references; anything malformed raises."""
    return SafeET.fromstring(content, forbid_dtd=True)


def xml_records(root: Element, item: str) -> list[dict[str, str]]:
    return [{child.tag: (child.text or "") for child in node} for node in root.findall(item)]


async def add_client(engine: AsyncEngine, name: str = "fixmystreet", rate_per_min: int = 60) -> str:
    async with make_sessionmaker(engine)() as s, s.begin():
        issued = await open311_clients.issue(s, name=name, rate_per_min=rate_per_min, created_by=None)
    return issued.api_key


def fixmystreet_form(api_key: str, *, lat: float, lon: float, service_code: str = "dispute",
                     jurisdiction: str = "", extra: dict[str, str] | None = None) -> dict[str, str]:
    """The fields FixMyStreet's perllib/Open311.pm `send_service_request` posts (form-encoded): jurisdiction_id
    and api_key first, then lat, long, email, description (title/detail/url), service_code, first_name, last_name,
    phone, media_url, and attribute[…] for the problem's extra fields."""
    description = ("title:  楼道里堆放杂物\n\ndetail: 三单元楼道堆满纸箱，邻居为此争吵多次。\n\n"
                   "url: https://fixmystreet.example/report/1234\n\nSubmitted via FixMyStreet\n")
    form = {"jurisdiction_id": jurisdiction, "api_key": api_key, "lat": repr(lat), "long": repr(lon),
            "email": "jane@example.org", "description": description, "service_code": service_code,
            "first_name": "Jane", "last_name": "Doe", "phone": "07700 900123",
            "media_url": "https://fixmystreet.example/photo/1234.jpeg", "attribute[priority]": "2"}
    form.update(extra or {})
    return form
