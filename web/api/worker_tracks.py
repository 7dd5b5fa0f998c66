"""A worker's day on the map (巡查轨迹回放): GET /api/v1/workers/{worker_id}/track?date= (operators and supervisors
within their region; a worker outside it is not found)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from command.reports.track_replay import replay
from web.deps import Operator, ReadSessionDep, SettingsDep
from web.request_types import Day, Id32

router = APIRouter(prefix="/api/v1/workers", tags=["workers"])


@router.get("/{worker_id}/track")
async def worker_track(worker_id: Id32, principal: Operator, session: ReadSessionDep, settings: SettingsDep,
                       day: Annotated[Day, Query(alias="date")]) -> dict[str, Any]:
    """Every position report of the local day ([unix time, lon, lat], thinned evenly above 20,000), time on duty,
    distance, grids passed through and the incidents the worker reported on the way."""
    return await replay(session, principal=principal, worker_id=worker_id, day=day, tz=settings.timezone)
