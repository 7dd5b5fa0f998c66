"""The two scales the benchmark runs at: the province (Jiangsu, seed 004) and a small one for CI."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scale:
    name: str
    area_km2: float
    # Region counts, top level first: district, street, community, grid, microgrid.
    counts: tuple[int, int, int, int, int]
    workers: int
    fulltime: int  # full-time grid workers (one grid each); the rest are micro-grid liaisons
    cities: int  # dense centres in the density field
    seconds: float  # how long each timed load phase runs
    e2e_rate: float  # alerts per second in the end-to-end phase
    e2e_seconds: float
    socket_workers: int  # workers with a real WebSocket receiver in the end-to-end phase
    position_clients: int  # concurrent worker sockets sending positions
    position_rate: float  # frames per second the senders try to send, at most (bounds the frame count)
    track_rate: float  # frames per second the senders send, paced, in each half of the tracks phase
    track_alert_rate: float  # alerts per second through the whole path meanwhile (the dispatch latency)

    @property
    def regions(self) -> int:
        return sum(self.counts)


# Jiangsu: 105,000 grids, 417,000 micro-grids, ~88,000 full-time and ~415,000 part-time workers,
# ~100,000 km². Districts/streets/communities follow the province's county/township/village counts.
PROVINCE = Scale(
    name="province", area_km2=100_000.0, counts=(96, 1_260, 21_000, 105_000, 417_000),
    workers=500_000, fulltime=88_000, cities=13, seconds=20.0, e2e_rate=500.0, e2e_seconds=60.0,
    socket_workers=3_000, position_clients=200, position_rate=30_000.0, track_rate=12_000.0, track_alert_rate=20.0,
)

SMALL = Scale(
    name="small", area_km2=400.0, counts=(2, 8, 60, 400, 1_600), workers=3_000, fulltime=500,
    cities=1, seconds=2.0, e2e_rate=50.0, e2e_seconds=3.0, socket_workers=100, position_clients=20,
    position_rate=5_000.0, track_rate=2_000.0, track_alert_rate=10.0,
)

SCALES = {s.name: s for s in (PROVINCE, SMALL)}
