"""Reading roster CSV files the way Excel writes them: `,` or `;`, UTF-8 with or without BOM."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

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
MAX_FILE_BYTES = 50 * 1024 * 1024


class RosterFileKind(StrEnum):
    """Which roster file a header says this is."""

    people = "people"
    placements = "placements"


class RosterFileError(ValueError):
    """The file as a whole cannot be read (not a single bad row)."""


@dataclass(frozen=True)
class CsvRow:
    """One data row with the line number it starts on, for error messages."""

    line: int
    values: dict[str, str]
    extra_cells: bool = False


@dataclass(frozen=True)
class RosterFile:
    """A parsed roster file: what kind it is and its rows."""

    kind: RosterFileKind
    rows: list[CsvRow]


def read_roster_file(path: Path) -> RosterFile:
    """Read a people or placements CSV; the header tells the two apart."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise RosterFileError(f"cannot read {path}: {error.strerror or error}") from error
    if len(raw) > MAX_FILE_BYTES:
        raise RosterFileError(f"{path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return parse_roster_text(_decode(raw, path))


def parse_roster_text(text: str) -> RosterFile:
    """Parse CSV text whose first line is a people or placements header."""
    text = text.removeprefix("\ufeff")
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise RosterFileError("the file is empty or starts with a blank line; expected a header")
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = tuple(column.strip().lower() for column in next(reader))
    kind = _kind_of(header)
    rows: list[CsvRow] = []
    line = reader.line_num + 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            padded = [*cells, *[""] * (len(header) - len(cells))]
            values = {name: cell.strip() for name, cell in zip(header, padded, strict=False)}
            extra = any(cell.strip() for cell in cells[len(header) :])
            rows.append(CsvRow(line=line, values=values, extra_cells=extra))
        line = reader.line_num + 1
    return RosterFile(kind=kind, rows=rows)


def _decode(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RosterFileError(
            f"{path} is not UTF-8 (byte {error.start}); in Excel choose "
            "'Save as' → 'CSV UTF-8 (comma delimited)'"
        ) from error


def _kind_of(header: tuple[str, ...]) -> RosterFileKind:
    for kind, expected in (
        (RosterFileKind.people, PEOPLE_COLUMNS),
        (RosterFileKind.placements, PLACEMENT_COLUMNS),
    ):
        if set(expected) <= set(header):
            return kind
        if header[:1] == expected[:1]:
            missing = ", ".join(c for c in expected if c not in header)
            raise RosterFileError(f"the {kind} header lacks the column(s): {missing}")
    raise RosterFileError(
        "unrecognised header; expected either\n  "
        + ",".join(PEOPLE_COLUMNS)
        + "\nor\n  "
        + ",".join(PLACEMENT_COLUMNS)
    )
