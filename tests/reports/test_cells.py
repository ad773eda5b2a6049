"""Safe cells: texts a person typed come back from the saved workbook exactly, as text, in both writing modes."""

from __future__ import annotations

import io

import openpyxl
import pytest

from app.reports.cells import EXCEL_CELL_LIMIT, put, write_only_cell

TEXTS = ['=HYPERLINK("http://x","click")', "+1+1", "-2", "@SUM(A1)", "\tindented", "\rreturn", "#N/A", "#REF!",
         "plain", "emoji 😀 and \x07 bell", "_x0041_ literal"]


def reopen(book) -> openpyxl.Workbook:
    buffer = io.BytesIO()
    book.save(buffer)
    return openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))


@pytest.mark.parametrize("write_only", [False, True])
def test_texts_come_back_as_text(write_only):
    from openpyxl.utils.escape import unescape

    if write_only:
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet()
        for text in TEXTS:
            sheet.append([write_only_cell(sheet, text)])
    else:
        book = openpyxl.Workbook()
        for row, text in enumerate(TEXTS, start=1):
            put(book.active.cell(row=row, column=1), text)
    cells = [row[0] for row in reopen(book).active.iter_rows()]
    assert [c.data_type for c in cells] == ["s"] * len(TEXTS)
    assert [unescape(c.value) for c in cells] == TEXTS


def test_long_text_is_cut_with_a_marker_and_numbers_stay_numbers():
    book = openpyxl.Workbook()
    put(book.active["A1"], "x" * 40000)
    put(book.active["A2"], 12.5)
    sheet = reopen(book).active
    assert len(sheet["A1"].value) == EXCEL_CELL_LIMIT and sheet["A1"].value.endswith(" […]")
    assert sheet["A2"].value == 12.5 and sheet["A2"].data_type == "n"
