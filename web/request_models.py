"""Request bodies and fields several routers share, defined once (the field types are web.request_types').

Every body refuses unknown fields (`Body`). An incident reported with what and where (`WhatAndWhere`, `Report`) reads
the same whichever router takes it: the operator's alert, the resident's request, the worker's finding (on a patrol
visit or not). A reason or a note is the same field wherever an action asks for one."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from command.intake.intake import MAX_DESCRIPTION
from command.orders.uploads import MAX_PHOTOS
from geo.coords import Crs
from web.request_types import Integer, Lat, Lon, SafeLine, SafeText, UploadId, VisibleText

MAX_REASON = 4000

Reason = Annotated[VisibleText, Field(min_length=1, max_length=MAX_REASON)]
OptionalReason = Annotated[SafeText | None, Field(max_length=MAX_REASON)]
Photos = Annotated[list[UploadId], Field(max_length=MAX_PHOTOS)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class WhatAndWhere(Body):
    category: SafeLine = Field(min_length=1, max_length=64)
    description: VisibleText = Field(min_length=1, max_length=MAX_DESCRIPTION)
    lon: Lon
    lat: Lat
    crs: Crs = Field(Crs.wgs84, description="wgs84 for a phone's GPS; the map's own for a pin")


def service_item_field() -> Any:
    """A request filed from the service catalogue names its item (command.intake.service_items)."""
    return Field(None, min_length=1, max_length=32, description=(
        "the code of the catalogue item (GET /api/v1/public/catalogue) the request is filed from; "
        "its category must be the request's"))


class Report(WhatAndWhere):
    """What and where, and how urgent (a trained reporter's call; the category's default otherwise)."""

    priority: Integer | None = Field(None, ge=1, le=4)


class FindingIn(Report):
    """What a grid worker finds on their rounds (on a patrol visit or not), with photos."""

    photos: Photos = Field(default_factory=list)


class ReasonIn(Body):
    reason: Reason
