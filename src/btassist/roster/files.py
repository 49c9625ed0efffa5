"""The roster's two kinds of file, people and placements (CSV or Excel), told apart by header."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from btassist.common.tabular import (
    Table,
    TableFileError,
    TableRow,
    TableSource,
    parse_csv_text,
    parse_table,
    read_table,
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


RosterFileError = TableFileError  # the name the roster import has always raised


@dataclass(frozen=True)
class RosterFile:
    """A read roster file: what kind it is, its rows and where it came from."""

    kind: RosterFileKind
    rows: list[TableRow]
    source: TableSource

    def emails(self) -> list[str]:
        """Whom the rows are about: the people's, or the placements' doctors', e-mails."""
        column = "email" if self.kind is RosterFileKind.people else "doctor_email"
        return [row.values.get(column, "") for row in self.rows]


def read_roster_file(path: Path) -> RosterFile:
    """Read a people or placements file, CSV or `.xlsx`; the header tells the two apart."""
    return roster_of_table(read_table(path))


def parse_roster_file(data: bytes, *, name: str) -> RosterFile:
    """A people or placements file from its bytes (a file sent to the bot), CSV or `.xlsx`."""
    return roster_of_table(parse_table(data, name=name))


def parse_roster_text(text: str, *, name: str = "roster.csv") -> RosterFile:
    """Parse CSV text whose first line is a people or placements header."""
    return roster_of_table(parse_csv_text(text, name=name))


def roster_of_table(table: Table) -> RosterFile:
    """A read table as a people or placements file; its header decides which."""
    return RosterFile(kind=_kind_of(table.header), rows=table.rows, source=table.source)


def _kind_of(header: tuple[str, ...]) -> RosterFileKind:
    for kind, expected in (
        (RosterFileKind.people, PEOPLE_COLUMNS),
        (RosterFileKind.placements, PLACEMENT_COLUMNS),
    ):
        if set(expected) <= set(header):
            return kind
        if header[:1] == expected[:1]:
            missing = ", ".join(c for c in expected if c not in header)
            raise TableFileError(f"the {kind} header lacks the column(s): {missing}")
    raise TableFileError(
        "unrecognised header; expected either\n  "
        + ",".join(PEOPLE_COLUMNS)
        + "\nor\n  "
        + ",".join(PLACEMENT_COLUMNS)
    )
