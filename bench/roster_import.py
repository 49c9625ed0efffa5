"""Time importing 5,000 people and 10,000 placements into a fresh SQLite database.

Target (issue #2): under 10 s in total. Run: `python bench/roster_import.py [--people N]`.
The re-import of the same files (nothing to change) is timed too, as the common case.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from btassist.common.regions import REGION_CODES
from btassist.db.engine import Database
from btassist.db.migrate import upgrade
from btassist.roster.files import PEOPLE_COLUMNS, PLACEMENT_COLUMNS, read_roster_file
from btassist.roster.importer import import_roster

REGIONS = REGION_CODES
KINDS = ("akut", "primarvard", "psykiatri", "valfri")
TARGET_SECONDS = 10.0


def write_files(directory: Path, people: int) -> tuple[Path, Path]:
    """A people file (one supervisor per ten doctors) and two placements per person."""
    supervisors = max(people // 10, 1)
    doctors = people - supervisors
    start = date(2027, 1, 4)
    people_path, placements_path = directory / "people.csv", directory / "placements.csv"
    with people_path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(PEOPLE_COLUMNS)
        for n in range(supervisors):
            writer.writerow(
                [
                    f"handledare{n}@bench.example.org",
                    f"Handledare Ö{n}",
                    "supervisor",
                    REGIONS[n % 6],
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                ]
            )
        for n in range(doctors):
            writer.writerow(
                [
                    f"lakare{n}@bench.example.org",
                    f"Läkare Å{n}",
                    "doctor",
                    REGIONS[n % 6],
                    "",
                    "sv" if n % 2 else "",
                    "block",
                    start.isoformat(),
                    (start + timedelta(days=364)).isoformat(),
                    f"handledare{n % supervisors}@bench.example.org",
                ]
            )
    with placements_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(PLACEMENT_COLUMNS)
        written = 0
        n = 0
        while written < people * 2:
            for half in range(2):
                begin = start + timedelta(days=182 * half)
                writer.writerow(
                    [
                        f"lakare{n % doctors}@bench.example.org",
                        KINDS[half + 2 * (n // doctors % 2)],
                        f"Enhet {n % 40}",
                        begin.isoformat(),
                        (begin + timedelta(days=181)).isoformat(),
                        f"handledare{n % supervisors}@bench.example.org",
                    ]
                )
                written += 1
            n += 1
    return people_path, placements_path


async def timed_import(database: Database, path: Path) -> tuple[float, int, int]:
    began = time.perf_counter()
    result = await import_roster(database, read_roster_file(path))
    elapsed = time.perf_counter() - began
    if not result.ok:
        raise SystemExit(f"benchmark data is invalid: {result.problems[:5]}")
    return elapsed, len(result.created), result.unchanged


async def main(people: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        people_path, placements_path = write_files(directory, people)
        database = Database(f"sqlite:///{directory / 'bench.db'}")
        await upgrade(database)
        t_people, created_people, _ = await timed_import(database, people_path)
        t_places, created_places, _ = await timed_import(database, placements_path)
        t_again_p, _, same_p = await timed_import(database, people_path)
        t_again_pl, _, same_pl = await timed_import(database, placements_path)
        await database.dispose()
    total = t_people + t_places
    print(f"people:     {created_people:6d} created in {t_people:6.2f} s")
    print(f"placements: {created_places:6d} created in {t_places:6.2f} s")
    print(f"total first import: {total:.2f} s (target < {TARGET_SECONDS:.0f} s)")
    print(
        f"re-import unchanged: {same_p} people in {t_again_p:.2f} s, "
        f"{same_pl} placements in {t_again_pl:.2f} s"
    )
    print("PASS" if total < TARGET_SECONDS else "FAIL")
    return 0 if total < TARGET_SECONDS else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    raise SystemExit(asyncio.run(main(parser.parse_args().people)))
