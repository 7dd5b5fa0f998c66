"""Erasing a resident's personal data (PIPL) while the statistics stay what they were.

What is erased: the reporter's name and phone on the incident, every Chinese mobile number and the reporter's
name and phone wherever they appear in the incident's description and its events' texts (the event log's
payloads carry the description), and the photos the resident uploaded (the file; the row stays, marked, since
events name photos by id). What stays: the incident itself — category, place, region, channel, times, states —
and every event's kind, times and states, so every figure computed from them (command.reports) is unchanged.

The event log is otherwise append-only; an erasure is the one legal exception, and it only ever replaces text.
The Redis event stream keeps its copy of recent events until it is trimmed (event_stream_maxlen, about a day)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.clock import utcnow
from command.core.errors import InvalidInput
from command.core.models import Erasure, Event, Incident, Upload
from command.core.settings import Settings

ERASED = "[已删除]"
MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d){8}(?!\d)")


@dataclass
class Erased:
    incidents: int = 0
    events: int = 0
    photos: int = 0
    positions: int = 0

    def add(self, other: Erased) -> None:
        self.incidents += other.incidents
        self.events += other.events
        self.photos += other.photos
        self.positions += other.positions

    @property
    def anything(self) -> bool:
        return bool(self.incidents or self.events or self.photos or self.positions)


def normalise_phone(phone: str) -> str:
    """Digits only, without the country code: the form incidents are matched on."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not 3 <= len(digits) <= 20:
        raise InvalidInput("phone must have 3-20 digits")
    return digits


def subject_hash(settings: Settings, phone: str) -> str:
    """A keyed hash of the phone: the erasure record names the resident without keeping the number."""
    return hmac.new(settings.secret_key.encode(), normalise_phone(phone).encode(), hashlib.sha256).hexdigest()


def scrub_text(text: str, words: list[str]) -> str:
    """Every mobile number and every given word (a name, a phone) replaced."""
    text = MOBILE.sub(ERASED, text)
    for word in sorted({w for w in words if w and len(w) >= 2}, key=len, reverse=True):
        text = text.replace(word, ERASED)
    return text


def scrub_value(value: Any, words: list[str]) -> Any:
    if isinstance(value, str):
        return scrub_text(value, words)
    if isinstance(value, list):
        return [scrub_value(v, words) for v in value]
    if isinstance(value, dict):
        return {k: scrub_value(v, words) for k, v in value.items()}
    return value


async def scrub_incidents(session: AsyncSession, incident_ids: list[int], *, extra_words: Sequence[str] = (),
                          erase_reporter: bool = True) -> Erased:
    """Erase the reporter of these incidents and their traces in the incidents' and events' texts (with
    erase_reporter=False only the texts: incidents someone else reported that mention the resident)."""
    done = Erased()
    if not incident_ids:
        return done
    now = utcnow()
    rows = (await session.execute(select(Incident.id, Incident.description, Incident.reporter_name,
                                         Incident.reporter_phone).where(Incident.id.in_(incident_ids)))).all()
    words_of: dict[int, list[str]] = {}
    incident_rows: list[dict[str, Any]] = []
    for incident_id, description, name, phone in rows:
        words = list(extra_words)
        if erase_reporter:
            words += [w for w in (name, phone, re.sub(r"\D", "", phone or "")) if w]
        words_of[incident_id] = words
        values: dict[str, Any] = {"id": incident_id, "description": scrub_text(description or "", words)}
        if erase_reporter:
            values |= {"reporter_name": None, "reporter_phone": None, "reporter_erased_at": now}
        incident_rows.append(values)
    if incident_rows:  # one executemany by primary key, not a statement per row
        await session.execute(update(Incident), incident_rows)
    done.incidents = len(incident_rows)
    events = (await session.execute(select(Event.id, Event.incident_id, Event.payload, Event.reason)
                                    .where(Event.incident_id.in_(incident_ids)))).all()
    event_rows: list[dict[str, Any]] = []
    for event_id, incident_id, payload, reason in events:
        words = words_of.get(incident_id, [])
        new_payload, new_reason = scrub_value(payload or {}, words), scrub_text(reason, words) if reason else reason
        if new_payload != payload or new_reason != reason:
            event_rows.append({"id": event_id, "payload": new_payload, "reason": new_reason})
    if event_rows:
        await session.execute(update(Event), event_rows)
    done.events = len(event_rows)
    return done


def _unlink_all(upload_dir: str, paths: list[str]) -> None:
    root = Path(upload_dir).resolve()
    for path in paths:
        target = (root / path).resolve()
        if target.is_relative_to(root):  # a path that leads out of the upload directory is never followed
            target.unlink(missing_ok=True)


async def delete_photos(session: AsyncSession, uploads: list[Upload], *, upload_dir: str) -> int:
    """Delete the files and mark the rows (they stay: events name photos by id). Files go first: a
    transaction that then fails leaves rows pointing at nothing, never a photo that should be gone."""
    await asyncio.to_thread(_unlink_all, upload_dir, [u.path for u in uploads])
    now = utcnow()
    for upload in uploads:
        upload.erased_at = now
    return len(uploads)


async def erase_resident(session: AsyncSession, *, settings: Settings, phone: str,
                         requested_by: int | None) -> Erased:
    """A resident's request: every incident they reported (by phone), every mention of the phone in any
    incident's description, and their photos. Recorded in `erasures` by a keyed hash of the phone."""
    digits = normalise_phone(phone)
    stored = func.regexp_replace(func.coalesce(Incident.reporter_phone, ""), r"\D", "", "g")
    reported = select(Incident.id).where(or_(stored == digits, stored == "86" + digits))
    # A mention in someone else's report, however it was written (spaces, dashes): a full scan, for a rare request.
    mentioned = select(Incident.id).where(
        func.regexp_replace(Incident.description, r"\D", "", "g").contains(digits))
    ids = sorted(set((await session.scalars(reported)).all()))
    others = sorted(set((await session.scalars(mentioned)).all()) - set(ids))
    done = await scrub_incidents(session, ids, extra_words=[digits])
    done.add(await scrub_incidents(session, others, extra_words=[digits], erase_reporter=False))
    if ids:  # the resident's own photos: uploaded anonymously (the resident page) to their incidents
        photos = list(await session.scalars(select(Upload).where(
            Upload.incident_id.in_(select(Incident.id).where(Incident.id.in_(ids))), Upload.uploaded_by.is_(None),
            Upload.erased_at.is_(None))))
        done.photos = await delete_photos(session, photos, upload_dir=settings.upload_dir)
    session.add(Erasure(kind="resident", subject_hash=subject_hash(settings, digits), requested_by=requested_by,
                        incidents=done.incidents, events=done.events, photos=done.photos))
    await session.flush()
    return done
