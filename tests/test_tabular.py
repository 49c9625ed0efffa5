"""Reading and writing tables: Excel workbooks read into the same rows as CSV, written files
read back as written, and every unreadable file refused with one clear message."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time

import pytest
from openpyxl import Workbook

from btassist.common import tabular
from btassist.common.language import Language
from btassist.common.tabular import (
    FileFormat,
    Sheet,
    TableFileError,
    TableSource,
    parse_csv_text,
    parse_table,
)


def workbook_bytes(
    *rows: tuple[object, ...], title: str = "People", formats: dict[str, str] | None = None
) -> bytes:
    """A workbook as Excel would save it: typed cells, optional number formats by cell."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for where, number_format in (formats or {}).items():
        sheet[where].number_format = number_format
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_workbook_reads_into_the_same_rows_as_its_csv() -> None:
    data = workbook_bytes(
        ("Email", " Name ", "BT_Start", "Start", "Capacity", "Deadline"),
        (
            "a@x.se",
            "Åsa Öberg",
            datetime(2027, 1, 4),
            datetime(2027, 3, 15, 8, 30),
            20,
            "2027-03-01",
        ),
        (None, None, None, None, None, None),
        ("b@x.se", "Björn", "2027-01-04", "2027-03-15 08:30", "20", datetime(2027, 3, 1)),
        formats={"C2": "yyyy-mm-dd", "D2": "yyyy-mm-dd hh:mm", "F4": "d/m/yyyy"},
    )
    csv = (
        "email,name,bt_start,start,capacity,deadline\n"
        "a@x.se,Åsa Öberg,2027-01-04,2027-03-15 08:30,20,2027-03-01\n"
        ",,,,,\n"
        "b@x.se,Björn,2027-01-04,2027-03-15 08:30,20,2027-03-01\n"
    )

    from_excel = parse_table(data, name="people.xlsx")
    from_csv = parse_csv_text(csv, name="people.csv")

    assert from_excel.header == from_csv.header
    assert from_excel.rows == from_csv.rows
    assert [row.line for row in from_excel.rows] == [2, 4]
    assert from_excel.source == TableSource("people.xlsx", "People")


def test_cells_keep_what_a_person_typed() -> None:
    data = workbook_bytes(
        ("a", "b", "c", "d", "e", "f"),
        (2.5, 3.0, True, time(13, 0), datetime(2027, 3, 15, 8, 29, 59, 999_600), "  x  "),
        formats={"E2": "yyyy-mm-dd hh:mm"},
    )
    (row,) = parse_table(data, name="t.xlsx").rows
    assert row.values == {
        "a": "2.5",
        "b": "3",
        "c": "true",
        "d": "13:00",
        "e": "2027-03-15 08:30",
        "f": "x",
    }


def test_leading_blank_rows_and_values_right_of_the_header() -> None:
    data = workbook_bytes(
        (None,),
        ("email", "name"),
        ("a@x.se", "A", "stray"),
    )
    table = parse_table(data, name="people.xlsx")
    assert table.header == ("email", "name")
    assert table.rows[0].line == 3
    assert table.rows[0].extra_cells


def test_only_the_first_sheet_is_read() -> None:
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.title = "Blad1"
    first.append(("email",))
    first.append(("first@x.se",))
    workbook.create_sheet("Blad2").append(("second@x.se",))
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = parse_table(buffer.getvalue(), name="people.xlsx")
    assert [row.values for row in table.rows] == [{"email": "first@x.se"}]


def test_the_content_decides_not_the_name() -> None:
    data = workbook_bytes(("email",), ("a@x.se",))
    assert parse_table(data, name="renamed.csv").source == TableSource("renamed.csv", "People")


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _compound_file(*stream_names: str) -> bytes:
    """The start of an OLE compound file with directory entries named like Office's own: an
    encrypted workbook holds `EncryptionInfo` and `EncryptedPackage` streams, an .xls `Workbook`."""
    entries = b"".join(name.encode("utf-16-le").ljust(128, b"\0") for name in stream_names)
    return bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504 + entries


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("people.xlsx", b"", "people.xlsx is not an Excel workbook"),
        ("people.xlsx", b"%PDF-1.7\n", "people.xlsx is not an Excel workbook"),
        ("people.xlsx", b"PK\x03\x04broken", "people.xlsx is damaged"),
        (
            "people.xlsx",
            _zip({"word/document.xml": b"<w/>"}),
            "cannot be read as an Excel workbook",
        ),
        (
            "people.xlsx",
            _compound_file("EncryptionInfo", "EncryptedPackage"),
            "people.xlsx is protected with a password",
        ),
        ("people.xls", _compound_file("Workbook"), "people.xls is an old Excel file (.xls)"),
        ("people.csv", "email\nÅsa".encode("cp1252"), "people.csv is not UTF-8"),
        ("people.csv", b"\n", "the file is empty"),
    ],
)
def test_unreadable_files_get_one_clear_error(name: str, data: bytes, message: str) -> None:
    with pytest.raises(TableFileError) as raised:
        parse_table(data, name=name)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_an_empty_sheet_is_refused() -> None:
    with pytest.raises(TableFileError, match="sheet Tomt is empty"):
        parse_table(workbook_bytes((None, None), title="Tomt"), name="people.xlsx")


def test_too_large_files_and_zip_bombs_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = workbook_bytes(("email",), ("a@x.se",))
    monkeypatch.setattr(tabular, "MAX_UNPACKED_BYTES", len(data))
    with pytest.raises(TableFileError, match="unpacks to more than"):
        parse_table(data, name="people.xlsx")
    monkeypatch.setattr(tabular, "MAX_FILE_BYTES", len(data) - 1)
    with pytest.raises(TableFileError, match=r"people\.xlsx is larger than"):
        parse_table(data, name="people.xlsx")


SHEET = Sheet(
    name="Sessions",
    header=("key", "title", "start", "day", "capacity", "note"),
    rows=[
        ("a", "=1+1", datetime(2027, 3, 15, 8, 30), date(2027, 3, 1), 20, None),
        ("b", 'Växjö, "C"', datetime(2027, 3, 15, 23, 59), date(2027, 3, 2), None, "2,5"),
    ],
)


def test_written_files_read_back_as_written() -> None:
    from_xlsx = parse_table(SHEET.encoded(FileFormat.xlsx), name="s.xlsx")
    from_csv = parse_table(SHEET.encoded(FileFormat.csv), name="s.csv")
    assert from_xlsx.rows == from_csv.rows
    assert [row.values for row in from_csv.rows] == [
        {
            "key": "a",
            "title": "=1+1",
            "start": "2027-03-15 08:30",
            "day": "2027-03-01",
            "capacity": "20",
            "note": "",
        },
        {
            "key": "b",
            "title": 'Växjö, "C"',
            "start": "2027-03-15 23:59",
            "day": "2027-03-02",
            "capacity": "",
            "note": "2,5",
        },
    ]
    assert SHEET.encoded(FileFormat.csv).startswith("\ufeff".encode())


def test_control_characters_are_left_out_of_workbooks() -> None:
    sheet = Sheet(name="x", header=("note",), rows=[("bell\x07",)])
    assert parse_table(sheet.xlsx_bytes(), name="x.xlsx").rows[0].values == {"note": "bell"}


def test_workbooks_hold_real_dates_and_never_formulas() -> None:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(SHEET.xlsx_bytes())).active
    assert sheet is not None
    assert sheet.title == "Sessions"
    assert sheet["B2"].data_type == "s"  # "=1+1" is text, not a formula Excel would run
    assert (sheet["C2"].is_date, sheet["C2"].number_format) == (True, "yyyy-mm-dd hh:mm")
    assert (sheet["D2"].is_date, sheet["D2"].number_format) == (True, "yyyy-mm-dd")
    assert sheet["E2"].value == 20
    assert sheet.freeze_panes == "A2"


def test_problems_say_where_for_people_and_for_the_command_line() -> None:
    workbook, csv = TableSource("people.xlsx", "People"), TableSource("people.csv")
    assert workbook.where(7, Language.sv) == "people.xlsx, blad People, rad 7"
    assert workbook.where(7, Language.en) == "people.xlsx, sheet People, row 7"
    assert csv.where(7, Language.sv) == "people.csv, rad 7"
    assert (workbook.at(7), csv.at(7)) == ("people.xlsx:People:7", "people.csv:7")
