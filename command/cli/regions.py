"""`gridcmd import-regions FILE` (any region file geo/region_files.py reads, in one transaction) and
`gridcmd export regions|incidents|resources FILE` (geo/export.py writes the file)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from zoneinfo import ZoneInfo

import shapely
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command.cli.spec import Arg, Command
from command.core.db import make_engine, make_sessionmaker
from command.core.errors import InvalidInput
from command.core.settings import Settings
from geo.errors import GeoInputError
from geo.export import format_of, region_rows, resource_rows, write_features
from geo.region_files import ReadOptions, check_region_file, import_region_file
from geo.validate import describe


def _print_problems(exc: GeoInputError) -> None:
    print(f"error: {exc.message}", file=sys.stderr)
    for problem in exc.details if isinstance(exc.details, list) else []:  # a region file's: one per problem
        print(f"  {describe(problem)}", file=sys.stderr)


def _import_regions(args: argparse.Namespace, settings: Settings) -> int:
    options = ReadOptions(layer=args.layer, encoding=args.encoding, crs=args.crs, attribute_map=args.attribute_map)

    async def run() -> int:
        engine = make_engine(settings, pool_size=1, max_overflow=0)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                if args.check:
                    check = await check_region_file(session, path=args.file, options=options)
                    print("\n".join(check.lines()))
                    if check.problems:
                        raise GeoInputError(f"{len(check.problems)} error(s) in the region file",
                                            details=check.problems)
                    print(f"ok: {check.new} new, {check.updated} updated (nothing written: --check)")
                    return 0
                done = await import_region_file(session, path=args.file, options=options,
                                                progress=not args.no_progress)
        finally:
            await engine.dispose()
        report = done.written
        print("\n".join(done.check.lines()))
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
        _print_problems(exc)
        return 2


_INCIDENTS = text("""
SELECT public_id, category_code, status, priority, channel, region_code, description, created_at, dispatched_at,
       resolved_at, closed_at, ST_AsBinary(geom) AS wkb
FROM incidents WHERE CAST(:since AS timestamptz) IS NULL OR created_at >= :since ORDER BY created_at, id
""")


async def _incident_rows(session: AsyncSession, since: dt.datetime | None) -> list[dict[str, object]]:
    """Incidents as points; the reporter's name and phone stay out (docs/security.md)."""
    result = await session.execute(_INCIDENTS, {"since": since})
    return [{**{k: v for k, v in r._asdict().items() if k != "wkb"}, "geometry": shapely.from_wkb(r.wkb)}
            for r in result]


def _since(value: str | None, settings: Settings) -> dt.datetime | None:
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"--since {value!r} is not a date (YYYY-MM-DD)") from exc
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(settings.timezone))


def _export(args: argparse.Namespace, settings: Settings) -> int:
    try:
        fmt = format_of(args.file, args.format)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    since = _since(args.since, settings)

    async def run() -> int:
        engine = make_engine(settings, pool_size=1, max_overflow=0)
        try:
            async with make_sessionmaker(engine)() as session:
                if args.what == "regions":
                    rows = await region_rows(session, level=args.level)
                elif args.what == "resources":
                    rows = await resource_rows(session, kind=args.kind)
                else:
                    rows = await _incident_rows(session, since)
        finally:
            await engine.dispose()
        count = write_features(args.file, rows, layer=args.what, fmt=fmt)
        print(f"wrote {count} {args.what} to {args.file} ({fmt})")
        return 0

    return asyncio.run(run())


IMPORT_REGIONS = Command(
    "import-regions", "import regions: Shapefile (.shp/.zip), GeoPackage, KML, GeoJSON", _import_regions,
    (Arg("file"), Arg("--no-progress", action="store_true"),
     # Region files as delivered (docs/geo.md "Region files")
     Arg("--map", dest="attribute_map", metavar="code=F,name=F,level=F,parent_code=F",
         help="the file's field for each of code, name, level, parent_code (level may be a level)"),
     Arg("--crs", help="the file's CRS when it has none (or to override it), e.g. EPSG:4528"),
     Arg("--layer", help="the layer to read (GeoPackage, KML, a zip of several Shapefiles)"),
     Arg("--encoding", help="a Shapefile's attribute encoding when no .cpg says it, e.g. GBK"),
     Arg("--check", action="store_true", help="validate and report; write nothing")))
EXPORT = Command(
    "export", "write regions, incidents or resource points as GeoJSON or GeoPackage", _export,
    (Arg("what", choices=["regions", "incidents", "resources"]),
     Arg("file", help="the file to write (.geojson or .gpkg; replaced if it exists)"),
     Arg("--format", choices=["geojson", "gpkg"], help="default: from the file name"),
     Arg("--level", help="regions: only this level"),
     Arg("--kind", help="resources: only this kind"),
     Arg("--since", help="incidents: created on or after this date (YYYY-MM-DD, in GRIDCMD_TIMEZONE)")))
COMMANDS = (IMPORT_REGIONS, EXPORT)
