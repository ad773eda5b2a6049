"""Safe cells: every text that came from a person is written as text, never as a formula.

A text starting with `=`, `+`, `-`, `@`, a tab or a carriage return would be taken for a formula by Excel (or
by openpyxl, which stores a string starting with "=" as a formula): it is stored as a string with Excel's
quote prefix, so it shows exactly as typed and is never evaluated. Characters XML cannot hold are escaped the
OOXML way (`openpyxl.utils.escape.unescape` gives them back). Texts longer than Excel's cell limit are cut
with a visible marker (the database and the CSV export keep the full text). Numbers and dates are written
as numbers and dates by the callers, where the question type says so.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from typing import Any

from openpyxl.cell import WriteOnlyCell

#: Texts starting with one of these would be taken for a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Excel's limit on the characters of one cell.
EXCEL_CELL_LIMIT = 32767
#: Added where a text was cut at the cell limit.
DEFAULT_CUT_MARKER = " […]"
#: What `excel_text` escapes: characters XML 1.0 cannot hold, the carriage return, and the underscore of a
#: literal "_xHHHH_" (which would otherwise read back as an escaped character).
_NEEDS_ESCAPE = re.compile(r"[\x00-\x08\x0b\x0c\x0d\x0e-\x1f]|_(?=x[0-9A-Fa-f]{4}_)")


def excel_text(text: str) -> str:
    """A text as written into a cell, such that `openpyxl.utils.escape.unescape` gives it back exactly.

    openpyxl's own `escape` misses \\x1a-\\x1f (an octal typo in its pattern) and does not protect a literal
    "_xHHHH_", hence this version of the same OOXML escaping.
    """
    return _NEEDS_ESCAPE.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)


def looks_like_formula(text: str) -> bool:
    """Whether Excel would take the text for a formula."""
    return text.startswith(FORMULA_PREFIXES)


def neutralise(text: str) -> str:
    """For plain-text outputs (CSV, editable templates): a leading apostrophe when a spreadsheet would take the
    text for a formula; `unneutralise` undoes it."""
    return "'" + text if text and looks_like_formula(text) else text


def unneutralise(text: str) -> str:
    """Drop the apostrophe `neutralise` added."""
    return text[1:] if len(text) > 1 and text[0] == "'" and looks_like_formula(text[1:]) else text


def read_text(value: Any) -> str:
    """A value read from a cell, as text: "" when empty, TRUE/FALSE, whole numbers without ".0" (phone
    numbers typed as numbers), dates and times as ISO; texts as they are (callers undo their own escaping)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def cell_text(text: str, marker: str = DEFAULT_CUT_MARKER) -> str:
    """The escaped text, cut with `marker` when it would not fit in one cell."""
    escaped = excel_text(text)
    if len(escaped) <= EXCEL_CELL_LIMIT:
        return escaped
    return escaped[:EXCEL_CELL_LIMIT - len(marker)] + marker


def put(cell, value: Any, marker: str = DEFAULT_CUT_MARKER) -> None:
    """Write a value into a cell of a normal worksheet: texts safely, anything else as it is."""
    if isinstance(value, str):
        cell.value = cell_text(value, marker)
        if looks_like_formula(value) or looks_like_formula(cell.value):
            cell.data_type = "s"
            cell.quotePrefix = True
        elif cell.data_type == "e":  # "#N/A", "#REF!": openpyxl would store an error value
            cell.data_type = "s"
    else:
        cell.value = value


def write_only_cell(sheet, value: Any, marker: str = DEFAULT_CUT_MARKER, style: str | None = None) -> WriteOnlyCell:
    """A cell for a write-only worksheet, with texts made safe as `put` does."""
    cell = WriteOnlyCell(sheet, value=cell_text(value, marker) if isinstance(value, str) else value)
    if isinstance(value, str):
        if looks_like_formula(value) or looks_like_formula(cell.value):
            cell.data_type = "s"
            cell.quotePrefix = True
        elif cell.data_type == "e":  # "#N/A", "#REF!": openpyxl would store an error value
            cell.data_type = "s"
    if style:
        cell.style = style
    return cell


_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def has_formulas(data: bytes, parts: list[str] | None = None) -> bool:
    """Whether a worksheet of the (already checked) .xlsx file holds a formula: all of them, or only the
    parts named (their paths in the archive, as openpyxl's `sheet._worksheet_path`)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [p.lstrip("/") for p in parts] if parts is not None else [
            m for m in archive.namelist() if m.startswith("xl/worksheets/") and m.endswith(".xml")]
        return any(_FORMULA.search(archive.read(name)) for name in names if name in archive.namelist())
