"""The worker app's own actions beside accept/decline/resolve (web.api.orders): arrival on the scene and
progress notes with photos on an order, and a patrol finding (巡查发现上报) with photos through the one intake;
and the liaison console's department card.

Every action takes an Idempotency-Key (made on the phone when the action is created), so a retried one is
applied once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response
from pydantic import Field
from sqlalchemy import select

from command.assign.field_notes import MAX_TEXT, add_worker_note
from command.core.errors import NotFound
from command.core.events import Actor
from command.core.models import Department
from command.core.summaries import incident_summary, order_summary
from command.intake.attachments import attach_photos
from command.intake.intake import AlertIn, stored_key, submit_alert
from command.orders.uploads import check_photos
from web.deps import LiaisonOnly, RedisDep, SessionDep, SettingsDep, Worker
from web.idempotency import IDEMPOTENT
from web.openapi_errors import errors, replayed
from web.request_models import Body, FindingIn, Photos
from web.request_types import Id64, IdempotencyKey, SafeText

router = APIRouter(prefix="/api/v1", tags=["worker app"])


class NoteIn(Body):
    text: SafeText | None = Field(None, max_length=MAX_TEXT)
    photos: Photos = Field(default_factory=list)


def _event_out(event: object) -> dict:
    return {"event_id": event.id, "kind": event.kind, "order_id": event.order_id}  # type: ignore[attr-defined]


@router.post("/orders/{order_id}/arrive", status_code=201, dependencies=[IDEMPOTENT])
async def arrive(order_id: Id64, body: NoteIn, principal: Worker,
                 session: SessionDep) -> dict:
    """到场: once per order, with an optional note and photos."""
    return _event_out(await add_worker_note(session, order_id=order_id, principal=principal, text=body.text,
                                            photos=body.photos, arrived=True))


@router.post("/orders/{order_id}/notes", status_code=201, dependencies=[IDEMPOTENT])
async def note(order_id: Id64, body: NoteIn, principal: Worker,
               session: SessionDep) -> dict:
    return _event_out(await add_worker_note(session, order_id=order_id, principal=principal, text=body.text,
                                            photos=body.photos))


@router.post("/workers/me/findings", status_code=201, responses=replayed() | errors(409))
async def finding(body: FindingIn, response: Response, principal: Worker, session: SessionDep,
                  redis: RedisDep, settings: SettingsDep,
                  idempotency_key: Annotated[IdempotencyKey | None, Header(alias="Idempotency-Key")] = None) -> dict:
    """巡查发现上报: a new incident on the patrol channel with its photos; the same Idempotency-Key scope as
    POST /api/v1/alerts (the intake's own), so a retry answers 200 with the same incident."""
    scope = f"u{principal.user_id}"
    photos = await check_photos(session, body.photos, uploaded_by=principal.user_id,  # before intake: a bad id
                                replay_key=stored_key(scope, idempotency_key))  # changes nothing
    actor = Actor(principal.username, principal.user_id)
    result = await submit_alert(
        session, redis, settings=settings, actor=actor, idempotency_key=idempotency_key, key_scope=scope,
        alert=AlertIn(category=body.category, description=body.description, lon=body.lon, lat=body.lat,
                      channel="patrol", crs=body.crs.value, priority=body.priority))
    if result.created:
        await attach_photos(session, incident=result.incident, photos=photos, actor=actor,
                            uploaded_by=principal.user_id)
    else:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return {**incident_summary(result.incident), "replayed": not result.created,
            "orders": [order_summary(o) for o in result.orders]}


@router.get("/departments/mine", responses=errors(404))
async def my_department(principal: LiaisonOnly,
                        session: SessionDep) -> dict:
    """The liaison's own department (name, kind, jurisdiction) for the console's title."""
    dep = await session.scalar(select(Department).where(Department.code == principal.department_code))
    if dep is None:
        raise NotFound("this liaison account has no department")
    return {"code": dep.code, "name": dep.name, "kind": dep.kind, "region_code": dep.region_code}
