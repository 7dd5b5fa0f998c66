"""`gridcmd import-regions FILE`: load a region FeatureCollection through geo.imports, in one transaction."""

from __future__ import annotations

import argparse
import asyncio
import sys

from command.cli import command
from command.db import make_engine, make_sessionmaker
from command.settings import Settings
from geo.errors import GeoInputError
from geo.imports import import_regions, load_collection
from geo.validate import describe


@command("import-regions")
def _import_regions(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> int:
        collection = load_collection(args.file)
        engine = make_engine(settings, pool_size=1, max_overflow=0)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                report = await import_regions(session, collection=collection, progress=not args.no_progress)
        finally:
            await engine.dispose()
        rate = report.total / report.seconds if report.seconds else 0.0
        print(f"imported {report.total} regions from {args.file}: {report.inserted} new, {report.updated} updated, "
              f"{len(report.repaired)} repaired, {report.descendants_repathed} descendants re-pathed "
              f"({report.seconds:.1f} s, {rate:.0f}/s)")
        for code in report.repaired:
            print(f"  repaired invalid polygon of {code} (area kept within 0.1%)")
        return 0

    try:
        return asyncio.run(run())
    except GeoInputError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        for problem in exc.details or []:  # type: ignore[union-attr]
            print(f"  {describe(problem)}", file=sys.stderr)
        return 2
