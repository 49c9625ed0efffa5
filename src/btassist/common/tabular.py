"""Reading tables the way Excel writes them (CSV with `,` or `;`, UTF-8 with or without BOM),
and typed cells with every problem noted by line."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

MAX_FILE_BYTES = 50 * 1024 * 1024


class CsvFileError(ValueError):
    """The file as a whole cannot be read (not a single bad row)."""


@dataclass(frozen=True)
class CsvRow:
    """One data row with the line number it starts on, for error messages."""

    line: int
    values: dict[str, str]
    extra_cells: bool = False


@dataclass(frozen=True)
class CsvTable:
    """A parsed CSV file: its header (trimmed, lower case) and its non-blank rows."""

    header: tuple[str, ...]
    rows: list[CsvRow]


def read_csv_file(path: Path) -> CsvTable:
    """Read any CSV file Excel may have written, refusing what cannot be a sane upload."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CsvFileError(f"cannot read {path}: {error.strerror or error}") from error
    if len(raw) > MAX_FILE_BYTES:
        raise CsvFileError(f"{path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return parse_csv_text(_decode(raw, path))


def parse_csv_text(text: str) -> CsvTable:
    """Parse CSV text with a header line; the delimiter is whichever of `;` `,` it uses more."""
    text = text.removeprefix("\ufeff")
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise CsvFileError("the file is empty or starts with a blank line; expected a header")
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = tuple(column.strip().lower() for column in next(reader))
    rows: list[CsvRow] = []
    line = reader.line_num + 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            padded = [*cells, *[""] * (len(header) - len(cells))]
            values = {name: cell.strip() for name, cell in zip(header, padded, strict=False)}
            extra = any(cell.strip() for cell in cells[len(header) :])
            rows.append(CsvRow(line=line, values=values, extra_cells=extra))
        line = reader.line_num + 1
    return CsvTable(header=header, rows=rows)


def _decode(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvFileError(
            f"{path} is not UTF-8 (byte {error.start}); in Excel choose "
            "'Save as' → 'CSV UTF-8 (comma delimited)'"
        ) from error


@dataclass(frozen=True, order=True)
class Problem:
    """Why one line of a file cannot be imported."""

    line: int
    message: str


class CellReader:
    """Reads typed cells from one CSV row, noting a problem for each bad cell."""

    def __init__(self, row: CsvRow, problems: list[Problem]) -> None:
        self.row = row
        self.problems = problems
        self.ok = True
        if row.extra_cells:
            self.fail("more cells than header columns (a stray delimiter?)")

    def fail(self, message: str) -> None:
        self.problems.append(Problem(self.row.line, message))
        self.ok = False

    def text(self, column: str, *, required: bool = True) -> str:
        value = self.row.values.get(column, "")
        if required and not value:
            self.fail(f"{column} is empty")
        return value

    def email(self, column: str, *, required: bool = True) -> str | None:
        value = self.text(column, required=required)
        if not value:
            return None
        try:
            return validate_email(value, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            self.fail(f"{column} {value!r} is not an e-mail address")
            return None

    def day(self, column: str, *, required: bool = True) -> date | None:
        value = self.text(column, required=required)
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{column} {value!r} is not a date (use YYYY-MM-DD)")
            return None

    def period(self, start_column: str, end_column: str) -> tuple[date, date] | None:
        start, end = self.day(start_column), self.day(end_column)
        if start is None or end is None:
            return None
        if end < start:
            self.fail(f"{end_column} {end} is before {start_column} {start}")
            return None
        return start, end
