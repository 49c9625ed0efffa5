"""The roster's two kinds of file, people and placements, told apart by their header."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from btassist.common.tabular import (
    CsvFileError,
    CsvRow,
    parse_csv_text,
    read_csv_file,
)

PEOPLE_COLUMNS = (
    "email",
    "name",
    "role",
    "region",
    "aad_object_id",
    "language",
    "bt_type",
    "bt_start",
    "bt_end",
    "main_supervisor_email",
)
PLACEMENT_COLUMNS = ("doctor_email", "kind", "unit", "start", "end", "supervisor_email")


class RosterFileKind(StrEnum):
    """Which roster file a header says this is."""

    people = "people"
    placements = "placements"


RosterFileError = CsvFileError  # the name the roster import has always raised


@dataclass(frozen=True)
class RosterFile:
    """A parsed roster file: what kind it is and its rows."""

    kind: RosterFileKind
    rows: list[CsvRow]


def read_roster_file(path: Path) -> RosterFile:
    """Read a people or placements CSV; the header tells the two apart."""
    table = read_csv_file(path)
    return RosterFile(kind=_kind_of(table.header), rows=table.rows)


def parse_roster_text(text: str) -> RosterFile:
    """Parse CSV text whose first line is a people or placements header."""
    table = parse_csv_text(text)
    return RosterFile(kind=_kind_of(table.header), rows=table.rows)


def _kind_of(header: tuple[str, ...]) -> RosterFileKind:
    for kind, expected in (
        (RosterFileKind.people, PEOPLE_COLUMNS),
        (RosterFileKind.placements, PLACEMENT_COLUMNS),
    ):
        if set(expected) <= set(header):
            return kind
        if header[:1] == expected[:1]:
            missing = ", ".join(c for c in expected if c not in header)
            raise CsvFileError(f"the {kind} header lacks the column(s): {missing}")
    raise CsvFileError(
        "unrecognised header; expected either\n  "
        + ",".join(PEOPLE_COLUMNS)
        + "\nor\n  "
        + ",".join(PLACEMENT_COLUMNS)
    )
