"""Personal data (PIPL): every reading of a reporter's phone is on record; a resident's erasure request and the
retention job leave no phone, name or photo of theirs in PostgreSQL, the uploads or the logs, and the statistics of
the period unchanged."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.clock import utcnow
from command.core.events import Actor, append_event
from command.core.models import Upload
from command.core.summaries import incident_payload
from command.ops.logs import JsonFormatter
from command.ops.privacy import normalise_phone, scrub_text, subject_hash
from command.ops.retention import run_retention
from dispatch import keys
from tests import loop_world as w
from tests.environment import make_test_settings
from tests.procs import ROOT

pytestmark = pytest.mark.timeout(120)
NAME, PHONE = "李女士", "13912345678"
OTHER_NAME, OTHER_PHONE = "王先生", "13700001111"


@pytest.fixture
async def app(clean_db: AsyncEngine, tmp_path):
    settings = make_test_settings(upload_dir=str(tmp_path / "uploads"))
    async with w.loop_app(clean_db, settings) as app:
        yield app


async def _incident(app, *, name: str, phone: str, description: str, photo: bool = False, **kw: object) -> int:
    async with app.sessionmaker() as s, s.begin():
        inc = await w.incident(s, status=kw.pop("status", "dispatched"), reporter_name=name, reporter_phone=phone,
                               description=description, **kw)
        await append_event(s, kind="incident.created", actor=Actor.system("test"), incident=inc,
                           payload=incident_payload(inc), reason=f"来电 {phone}")
        if photo:
            folder = Path(app.settings.upload_dir) / "ab"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{inc.id}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32))
            s.add(Upload(content_type="image/png", size=40, sha256="0" * 64, path=f"ab/{inc.id}.png",
                         uploaded_by=None, incident_id=inc.id))
        return inc.id


async def _traces(app, *needles: str) -> list[str]:
    """Where any needle still is: incidents (name, phone, description), events (payload, reason), outbox."""
    found = []
    async with app.sessionmaker() as s:
        for needle in needles:
            like = f"%{needle}%"
            for table, where in (
                    ("incidents", "coalesce(reporter_name,'') || coalesce(reporter_phone,'') || description LIKE :n"),
                    ("events", "payload::text || coalesce(reason, '') LIKE :n"),
                    ("hotline_outbox", "payload::text LIKE :n"), ("erasures", "coalesce(subject_hash,'') LIKE :n")):
                if await s.scalar(text(f"SELECT count(*) FROM {table} WHERE {where}"), {"n": like}):
                    found.append(f"{needle} in {table}")
    return found


async def _stats(app) -> dict:
    now = utcnow()
    r = await app.client.get("/api/v1/stats", headers=await app.as_("op1"), params={
        "from": (now - timedelta(days=300)).isoformat(), "to": (now + timedelta(days=1)).isoformat(),
        "group": "category"})
    assert r.status_code == 200, r.text
    return r.json()


async def test_reading_a_reporter_is_on_record(app) -> None:
    incident_id = await _incident(app, name=NAME, phone=PHONE, description="路灯坏了")
    r = await app.client.get(f"/api/v1/incidents/{incident_id}",
                             headers={**await app.as_("op1"), "X-Request-ID": "view-check-01"})
    assert r.json()["reporter"]["phone"] == PHONE
    assert (await app.client.get(f"/api/v1/incidents/{incident_id}", headers=await app.as_("w1"))).status_code in (
        200, 404)  # a worker never gets the reporter, so nothing is recorded for them
    r = await app.client.get("/api/v1/admin/reporter-views", headers=await app.as_("admin"),
                             params={"incident_id": incident_id})
    assert r.status_code == 200, r.text
    [view] = r.json()
    assert (view["username"], view["role"], view["via"], view["request_id"]) == (
        "op1", "operator", "incident_detail", "view-check-01")
    assert (await app.client.get("/api/v1/admin/reporter-views", headers=await app.as_("op1"))).status_code == 403
    assert (await app.client.get("/api/v1/admin/reporter-views", headers=await app.as_("admin"),
                                 params={"limit": 0})).status_code == 422


def _logged(caplog: pytest.LogCaptureFixture, *needles: str) -> list[str]:
    """The lines, as the production formatter writes them, of every record captured so far that hold a needle."""
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert lines, "nothing was logged: the check would be hollow"
    return [line for line in lines if any(needle in line for needle in needles)]


async def test_a_residents_erasure_leaves_nothing_of_them_and_the_statistics_as_they_were(app, caplog) -> None:
    caplog.set_level(logging.DEBUG)  # every record of the flow, whatever the configured levels
    mine = [await _incident(app, name=NAME, phone=PHONE, description=f"{NAME}反映楼道堆物，回电{PHONE}", photo=True),
            await _incident(app, name=NAME, phone="+86 139-1234-5678", description="井盖缺失", status="closed")]
    mention = await _incident(app, name=OTHER_NAME, phone=OTHER_PHONE, description=f"邻居电话{PHONE}也反映过")
    other = await _incident(app, name=OTHER_NAME, phone=OTHER_PHONE, description="噪声扰民", photo=True)
    before = await _stats(app)
    assert await _traces(app, PHONE, NAME)

    admin = await app.as_("admin")
    for bad in ({"phone": "12"}, {"phone": "call me"}, {}, {"phone": PHONE, "extra": 1}):
        r = await app.client.post("/api/v1/admin/erasures", headers=admin, json=bad)
        assert r.status_code == 422, r.text
    assert (await app.client.post("/api/v1/admin/erasures", headers=await app.as_("op1"),
                                  json={"phone": PHONE})).status_code == 403
    assert await _traces(app, PHONE, NAME)  # refused: nothing changed

    r = await app.client.post("/api/v1/admin/erasures", headers=admin, json={"phone": "+86 139 1234 5678"})
    assert r.status_code == 200, r.text
    assert r.json() == {"incidents": 3, "events": 3, "photos": 1}
    assert await _traces(app, PHONE, NAME, "139-1234-5678") == []
    assert not list((Path(app.settings.upload_dir) / "ab").glob(f"{mine[0]}.*"))  # the photo file is gone
    assert (Path(app.settings.upload_dir) / "ab" / f"{other}.png").exists()  # another resident's is not
    async with app.sessionmaker() as s:
        rows = (await s.execute(text("SELECT id, reporter_name, reporter_phone, reporter_erased_at IS NOT NULL, "
                                     "category_code, status, region_code FROM incidents ORDER BY id"))).all()
        by_id = {r[0]: r for r in rows}
        erasure = (await s.execute(text("SELECT kind, subject_hash, requested_by FROM erasures"))).one()
    assert all(by_id[i][1:4] == (None, None, True) for i in mine)
    assert by_id[mention][1:3] == (OTHER_NAME, OTHER_PHONE)  # only the mention of the phone went
    assert by_id[other][1:4] == (OTHER_NAME, OTHER_PHONE, False)
    assert erasure == ("resident", subject_hash(app.settings, PHONE), app.world.users["admin"])
    assert await _stats(app) == before  # every figure of the period unchanged
    assert _logged(caplog, PHONE, "139-1234-5678", "139 1234 5678", NAME) == []  # nor in the logs


async def test_retention_erases_what_is_past_its_time(app, redis, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    old = utcnow() - timedelta(days=200)
    expired = await _incident(app, name=NAME, phone=PHONE, description=f"回电{PHONE}", status="closed",
                              created_at=old, photo=True)
    recent = await _incident(app, name=OTHER_NAME, phone=OTHER_PHONE, description="路灯", status="closed")
    still_open = await _incident(app, name=OTHER_NAME, phone="13600002222", description="漏水", status="dispatched",
                                 created_at=old)
    async with app.sessionmaker() as s, s.begin():
        await s.execute(text("UPDATE uploads SET created_at = :t"), {"t": old})
    now = time.time()
    await redis.zadd(keys.SEEN, {"901": now - 40 * 86400, "902": now - 60})
    await redis.geoadd(keys.POSITIONS, [118.78, 32.04, "901", 118.79, 32.05, "902"])
    before = await _stats(app)

    settings = app.settings.model_copy(update={"retain_reporter_days": 180, "retain_photos_days": 180,
                                               "retain_tracks_days": 30})
    erased = await run_retention(app.sessionmaker, redis, settings)
    assert (erased.incidents, erased.photos, erased.positions) == (1, 1, 1)
    assert await _traces(app, PHONE, NAME) == []
    async with app.sessionmaker() as s:
        kept = dict((await s.execute(text("SELECT id, reporter_phone FROM incidents"))).all())
        assert await s.scalar(text("SELECT count(*) FROM uploads WHERE erased_at IS NOT NULL")) == 1
        assert (await s.execute(text("SELECT kind, incidents, photos, positions FROM erasures"))).one() == (
            "retention", 1, 1, 1)
    assert kept == {expired: None, recent: OTHER_PHONE, still_open: "13600002222"}  # finished and old only
    assert await redis.zrange(keys.SEEN, 0, -1) == ["902"]
    assert await redis.geopos(keys.POSITIONS, "901") == [None]
    assert await _stats(app) == before
    assert (await run_retention(app.sessionmaker, redis, settings)).anything is False  # nothing left to do
    assert _logged(caplog, PHONE, NAME) == []  # nor in this process's logs

    env = {**os.environ, "DATABASE_URL": app.settings.database_url, "REDIS_URL": app.settings.redis_url,
           "GRIDCMD_SECRET_KEY": app.settings.secret_key}
    out = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "command.cli", "retention", "run"], cwd=ROOT,
                                  capture_output=True, text=True, env=env)
    assert out.returncode == 0 and out.stdout.startswith("erased: incidents 0"), out.stdout + out.stderr
    assert PHONE not in out.stdout + out.stderr and NAME not in out.stdout + out.stderr  # nor in the command's


def test_texts_and_phones() -> None:
    assert scrub_text("张三 13912345678 或 139-1234-5678 或 +86 13912345678", ["张三"]) == \
        "[已删除] [已删除] 或 [已删除] 或 [已删除]"
    assert normalise_phone("+86 139 1234 5678") == normalise_phone("13912345678") == "13912345678"
    with pytest.raises(Exception, match="3-20 digits"):
        normalise_phone("12")
