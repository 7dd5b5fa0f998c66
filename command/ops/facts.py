"""The daily facts' job: one refresh pass (command/reports/daily_facts.py) in its own REPEATABLE READ transaction,
run by the scheduler every `daily_facts_interval_s` and by `gridcmd facts`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from command.core.clock import utcnow
from command.core.settings import Settings
from command.reports import daily_facts


async def refresh_pass(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                       *, max_new_days: int | None = None) -> daily_facts.RefreshResult:
    """Recompute the touched and the missing closed days and move the watermark; commits."""
    async with sessionmaker() as session:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        result = await daily_facts.refresh(
            session, tz=settings.timezone, today=daily_facts.local_today(utcnow(), settings.timezone),
            max_new_days=max_new_days or settings.daily_facts_days_per_pass)
        await session.commit()
        return result
