"""Tables the way coordinators keep them, in and out: Excel CSV (`,` or `;`, UTF-8 with or without
BOM) and Excel workbooks (`.xlsx`, first sheet). Both read into the same rows, so every import
checks them alike and notes each problem by line (a workbook's row number)."""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from btassist.common.language import Language
from btassist.i18n.catalogue import t

MAX_FILE_BYTES = 50 * 1024 * 1024
# A workbook is a zip: its parts may unpack to far more than the file's size (a "zip bomb").
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ZIP_SIGNATURE = b"PK\x03\x04"
# Old .xls files and password-protected workbooks are both OLE compound files.
_OLE_SIGNATURE = bytes.fromhex("d0cf11e0a1b11ae1")
_ENCRYPTED_MARK = "EncryptionInfo".encode("utf-16-le")
_SAVE_AGAIN = (
    "in Excel choose 'Save as' → 'Excel Workbook (.xlsx)' or 'CSV UTF-8 (comma delimited)'"
)


class TableFileError(ValueError):
    """The file as a whole cannot be read (not a single bad row)."""


@dataclass(frozen=True)
class TableSource:
    """Where a table was read from: the file's name and, for a workbook, the sheet."""

    name: str
    sheet: str | None = None

    @property
    def label(self) -> str:
        """`people.csv` or `people.xlsx:People` (a sheet name cannot contain `:`)."""
        return self.name if self.sheet is None else f"{self.name}:{self.sheet}"

    def at(self, line: int) -> str:
        """The command line's `file:line` (`people.xlsx:People:7`)."""
        return f"{self.label}:{line}"

    def where(self, line: int, language: Language) -> str:
        """A line for people: `people.xlsx, blad People, rad 7`."""
        if self.sheet is None:
            return t("tables.where_row", language, file=self.name, row=line)
        return t("tables.where_sheet_row", language, file=self.name, sheet=self.sheet, row=line)


@dataclass(frozen=True)
class TableRow:
    """One data row with the line (or workbook row) it starts on, for error messages."""

    line: int
    values: dict[str, str]
    extra_cells: bool = False


@dataclass(frozen=True)
class Table:
    """A read file: its header (trimmed, lower case), its non-blank rows and where it came from."""

    header: tuple[str, ...]
    rows: list[TableRow]
    source: TableSource


# The names these had when only CSV was read; modules not yet moved to the new names use them.
CsvFileError = TableFileError
CsvRow = TableRow
CsvTable = Table


def read_table(path: Path) -> Table:
    """Read a CSV file or an Excel workbook, refusing what cannot be a sane upload."""
    return parse_table(read_file_bytes(path), name=str(path))


def read_file_bytes(path: Path) -> bytes:
    """A file's bytes, but no more than one byte past the size limit `parse_table` enforces."""
    try:
        with path.open("rb") as file:
            return file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise TableFileError(f"cannot read {path}: {error.strerror or error}") from error


def parse_table(data: bytes, *, name: str) -> Table:
    """A CSV file or a workbook from its bytes (a file from disk or one sent to the bot);
    the content decides which, so a renamed file is still read right."""
    if len(data) > MAX_FILE_BYTES:
        raise TableFileError(f"{name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    if data.startswith(_ZIP_SIGNATURE):
        return _parse_workbook(data, name)
    if data.startswith(_OLE_SIGNATURE):
        if _ENCRYPTED_MARK in data:
            raise TableFileError(
                f"{name} is protected with a password; save a copy without one "
                "(File → Info → Protect Workbook → Encrypt with Password, empty it)"
            )
        raise TableFileError(f"{name} is an old Excel file (.xls); {_SAVE_AGAIN}")
    if Path(name).suffix.lower() in {".xlsx", ".xlsm"}:
        raise TableFileError(f"{name} is not an Excel workbook; {_SAVE_AGAIN}")
    return parse_csv_text(_decode(data, name), name=name)


def parse_csv_text(text: str, *, name: str) -> Table:
    """Parse CSV text with a header line; the delimiter is whichever of `;` `,` it uses more."""
    text = text.removeprefix("\ufeff")
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise TableFileError("the file is empty or starts with a blank line; expected a header")
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = _header(next(reader))

    def numbered() -> Iterator[tuple[int, list[str]]]:
        line = reader.line_num + 1
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1

    return Table(header=header, rows=_rows(header, numbered()), source=TableSource(name))


def _header(cells: list[str]) -> tuple[str, ...]:
    return tuple(cell.strip().lower() for cell in cells)


def _rows(header: tuple[str, ...], numbered: Iterable[tuple[int, list[str]]]) -> list[TableRow]:
    """Rows as column → trimmed text, blank rows left out; cells beyond the header are noted."""
    rows: list[TableRow] = []
    for line, cells in numbered:
        if any(cell.strip() for cell in cells):
            padded = [*cells, *[""] * (len(header) - len(cells))]
            values = {name: cell.strip() for name, cell in zip(header, padded, strict=False)}
            extra = any(cell.strip() for cell in cells[len(header) :])
            rows.append(TableRow(line=line, values=values, extra_cells=extra))
    return rows


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TableFileError(
            f"{name} is not UTF-8 (byte {error.start}); in Excel choose "
            "'Save as' → 'CSV UTF-8 (comma delimited)' or 'Excel Workbook (.xlsx)'"
        ) from error


def _parse_workbook(data: bytes, name: str) -> Table:
    """The first sheet of a workbook: its first non-blank row is the header."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile as error:
        raise TableFileError(f"{name} is damaged (not a readable zip); {_SAVE_AGAIN}") from error
    if unpacked > MAX_UNPACKED_BYTES:
        raise TableFileError(
            f"{name} unpacks to more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MB"
        )
    # Imported here, not at the top: openpyxl is some 5 MB of memory that a server process only
    # needs when someone sends or asks for a workbook.
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            # openpyxl warns about parts it drops (styles, data validation); values are all we read.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                if not workbook.worksheets:
                    raise TableFileError(f"{name} has no sheet with cells")
                sheet = workbook.worksheets[0]
                sheet.reset_dimensions()  # a stale <dimension> would cut rows off or pad them
                numbered = [
                    (line, [_cell_text(cell) for cell in cells])
                    for line, cells in enumerate(sheet.iter_rows(), start=1)
                ]
                title = sheet.title
            finally:
                workbook.close()
    except TableFileError:
        raise
    except Exception as error:  # a damaged workbook raises whatever its parts trip over
        raise TableFileError(
            f"{name} cannot be read as an Excel workbook ({type(error).__name__}); {_SAVE_AGAIN}"
        ) from error
    while numbered and not any(cell.strip() for cell in numbered[0][1]):
        numbered.pop(0)
    if not numbered:
        raise TableFileError(f"{name}: sheet {title} is empty; expected a header row")
    header = _header(numbered[0][1])
    return Table(header=header, rows=_rows(header, numbered[1:]), source=TableSource(name, title))


def _cell_text(cell: Any) -> str:
    """A cell as the text a CSV file would hold: dates ISO, whole numbers without `.0`."""
    from openpyxl.styles.numbers import is_datetime  # loaded by `_parse_workbook` already

    value = cell.value
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = (value + timedelta(microseconds=500_000)).replace(microsecond=0)  # float days
        if is_datetime(cell.number_format) == "date":
            return value.date().isoformat()
        return _moment_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _moment_text(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S" if value.second else "%Y-%m-%d %H:%M")


# --- problems -----------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Problem:
    """Why one line of a file cannot be imported."""

    line: int
    message: str


class CellReader:
    """Reads typed cells from one row, noting a problem for each bad cell."""

    def __init__(self, row: TableRow, problems: list[Problem]) -> None:
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
        # Imported with the first address read, like openpyxl with the first workbook.
        from email_validator import EmailNotValidError, validate_email

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


# --- writing ------------------------------------------------------------------------------------

Cell = str | int | float | date | datetime | None


class FileFormat(StrEnum):
    """The formats tables are handed out in."""

    csv = "csv"
    xlsx = "xlsx"

    @property
    def media_type(self) -> str:
        """The MIME type to send the file with."""
        return "text/csv" if self is FileFormat.csv else XLSX_MEDIA_TYPE


@dataclass(frozen=True)
class Sheet:
    """A table to hand out: sheet name, header and rows of typed cells (local, naive times)."""

    name: str
    header: tuple[str, ...]
    rows: Sequence[tuple[Cell, ...]]

    def csv_text(self) -> str:
        """The table as CSV text, dates ISO and times `YYYY-MM-DD HH:MM`, as the readers take."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.header)
        writer.writerows([cell_text(value) for value in row] for row in self.rows)
        return buffer.getvalue()

    def xlsx_bytes(self) -> bytes:
        """The table as a workbook of one sheet: real Excel dates, a bold frozen header, filters."""
        from openpyxl import Workbook  # imported on first use, as in `_parse_workbook`
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None  # a new workbook has one sheet
        sheet.title = _sheet_title(self.name)
        sheet.append(self.header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in self.rows:
            sheet.append([_xlsx_cell(value) for value in row])
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                if isinstance(cell.value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(cell.value, date):
                    cell.number_format = "yyyy-mm-dd"
                elif isinstance(cell.value, str):
                    cell.data_type = "s"  # text starting with "=" stays text, never a formula
        for index, column in enumerate(self.header, start=1):
            longest = max((len(cell_text(row[index - 1])) for row in self.rows), default=0)
            width = min(max(longest, len(column)) + 2, 60)
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    def encoded(self, file_format: FileFormat) -> bytes:
        """The file's bytes; CSV starts with a BOM so Excel shows å, ä and ö right."""
        if file_format is FileFormat.xlsx:
            return self.xlsx_bytes()
        return ("\ufeff" + self.csv_text()).encode("utf-8")

    def as_file(self, file_format: FileFormat, *, stem: str) -> ExportedFile:
        """The table as a file named `stem.csv` or `stem.xlsx`."""
        return ExportedFile(
            name=f"{stem}.{file_format}", data=self.encoded(file_format), rows=len(self.rows)
        )


@dataclass(frozen=True)
class ExportedFile:
    """A file to hand to a person (saved by the CLI, sent in Teams): name, bytes, row count."""

    name: str
    data: bytes
    rows: int

    @property
    def media_type(self) -> str:
        """The MIME type to send it with."""
        return FileFormat(Path(self.name).suffix.removeprefix(".")).media_type


def cell_text(value: Cell) -> str:
    """A cell as CSV holds it (and the readers take it): dates ISO, times without seconds."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _moment_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_cell(value: Cell) -> Cell:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # loaded by `Sheet.xlsx_bytes` already

    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters are not valid XML
    return value


def _sheet_title(name: str) -> str:
    """Excel allows 31 characters and none of `: \\ / ? * [ ]` in a sheet name."""
    return re.sub(r"[:\\/?*\[\]]", " ", name)[:31] or "Sheet1"
