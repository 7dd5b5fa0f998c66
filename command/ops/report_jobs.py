"""The scheduler's part in published reports (通报): for every region and kind with subscribers, generate the
latest closed period's report if it is not stored yet, and push each released report to the region's subscribers
as a notice; a half-monthly analysis is pushed when a supervisor releases it. Safe with several schedulers: the
unique (kind, period, region) row makes the second insert a no-op, and only the process that stored it pushes."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from command.admin.report_notices import push_report
from command.core.clock import utcnow
from command.core.security import Principal
from command.realtime import publish
from command.reports import published
from command.reports import published_figures as pf

log = logging.getLogger("gridcmd.reports")


@dataclass
class Generated:
    ids: list[int] = field(default_factory=list)
    pushed: int = 0


async def push(session: AsyncSession, report: dict, *, released_by: int | None) -> int | None:  # type: ignore[type-arg]
    """Send a released report to its region's subscribers as a notice; returns the notice id."""
    users = await published.subscribers(session, report["region_code"], report["kind"])
    path = await session.scalar(text("SELECT path FROM regions WHERE code = :c"), {"c": report["region_code"]})
    title = f"{report['region_name']}{report['title']}（{pf.period_label(report['figures']['period'])}）"
    body = (f"{title}已发布，请在督查考核页面下载 PDF / XLSX。受理 {report['figures']['total']['received']} 件，"
            f"办结 {report['figures']['total']['resolved']} 件。")
    notice_id = await push_report(session, user_ids=users, title=title, body=body, region_path=list(path or []),
                                  released_by=released_by)
    await published.set_notice(session, report["id"], notice_id)
    return notice_id


_SYSTEM = Principal(user_id=0, username="scheduler", role="admin")


async def run_due(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, *, tz: str,
                  now: datetime | None = None) -> Generated:
    """Generate (and push) every subscribed region's latest closed report of each kind that is missing."""
    now = now or utcnow()
    today = now.astimezone(ZoneInfo(tz)).date()
    out = Generated()
    async with sessionmaker() as session:
        targets = await published.subscribed_targets(session)
    for region, kind in targets:
        target = pf.Target(kind, region, pf.last_closed(kind, today))
        async with sessionmaker() as session:
            if await published.exists(session, target):
                continue
            rid = await published.generate(session, target, tz=tz, now=now)
            if rid is not None:
                out.ids.append(rid)
                if not published.needs_release(kind):
                    out.pushed += await push(session, await published.get(session, _SYSTEM, rid),
                                             released_by=None) is not None
            await publish.commit_and_publish(session, redis)
    if out.ids:
        log.info("published reports generated: %s", out.ids)
    return out


async def release(session: AsyncSession, principal: Principal, report_id: int, *, tz: str) -> dict:  # type: ignore[type-arg]
    """A supervisor releases a half-monthly analysis: it is final and reaches its subscribers' notice lists."""
    report = await published.mark_released(session, principal, report_id, tz=tz)
    report["notice_id"] = await push(session, report, released_by=principal.user_id or None)
    return report
