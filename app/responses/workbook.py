"""The offline Excel workbook of a response: download it, fill it in without the website, upload it back.

`build_workbook` writes the agency's questionnaire with its current answers; `read_workbook` checks an
uploaded file and turns its answer cells into raw values; `import_workbook` saves them through
`answering.save_answers` (so the same rules apply as on the web form), as a dry run for the preview or for real.

Layout of a section sheet (fixed columns; rows are found again by the question id in column A, so moved
rows, moved sheets and extra rows do not matter):

    A question id (`question_id/row_id` for a matrix row) | B question | C hint | D answer | E allowed answers

Only the answer cells are unlocked. Drop-down lists come from the hidden sheet "Lists" through defined names
(an inline list is limited to 255 characters). The "very hidden" sheet `_meta` holds what the upload needs:
the response, agency, campaign and questionnaire version, the language, the download time and, per question,
the answer's version and a fingerprint of its value at download; it is signed with HMAC-SHA256 over the
application's SECRET_KEY, so a changed or forged sheet is refused.

Text is written so that it comes back exactly: characters XML cannot hold (and the carriage return, which
XML parsers turn into a line feed) are written in the OOXML `_xHHHH_` form that Excel understands and
`openpyxl.utils.escape.unescape` reverses; a text that would start a formula is written as text with Excel's
"quote prefix" (shown as typed, never evaluated, and it stays text when edited).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import math
import re
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from flask import current_app
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.escape import unescape
from openpyxl.workbook import Workbook
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.hyperlink import Hyperlink

from app.core.models import utcnow
from app.extensions import db
from app.i18n import _, force_locale, format_date, format_moment, get_locale_code, interface_locale
from app.questionnaires.forms import tr
from app.questionnaires.qtypes import REGISTRY, SPECIAL, AnswerError
from app.questionnaires.services import definition_of
from app.reports.cells import EXCEL_CELL_LIMIT, FORMULA_PREFIXES, cell_text, excel_text, has_formulas, read_text
from app.responses.answering import is_editable, message_text, questions_by_id, review, save_answers
from app.responses.display import choice_labels, display
from app.responses.models import Response
from app.responses.services import ResponseError

#: Version of the workbook layout and of its metadata; an upload of another format is refused.
FORMAT_VERSION = "1"
#: What the `kind` entry of the metadata says, so that no other signed sheet is taken for this one.
KIND = "response-workbook"
#: Largest upload read, and the most its ZIP may unpack to (a guard against ZIP bombs).
MAX_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
#: Name of the very hidden metadata sheet (not translated: it is found by this name).
META_SHEET = "_meta"

ID_COLUMN, LABEL_COLUMN, HINT_COLUMN, ANSWER_COLUMN, HELP_COLUMN = 1, 2, 3, 4, 5
ANSWER_LETTER = get_column_letter(ANSWER_COLUMN)
COLUMN_WIDTHS = {ID_COLUMN: 16, LABEL_COLUMN: 60, HINT_COLUMN: 36, ANSWER_COLUMN: 40, HELP_COLUMN: 44}

#: Both an old-format .xls and a password-protected .xlsx are OLE2 compound files.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0"
ZIP_MAGIC = b"PK\x03\x04"

#: Question types whose answer cell gets a drop-down list (matrix rows too).
LIST_TYPES = ("single_choice", "yes_no", "scale", "matrix")
#: Question types the workbook shows but never imports.
NOT_IMPORTED = ("note", "file")

#: Excel's limits on sheet titles.
TITLE_LIMIT = 31
FORBIDDEN_IN_TITLES = re.compile(r"[\[\]:*?/\\]")
RESERVED_TITLES = ("history",)
#: What ends a title cut at the limit; the punctuation left before the cut goes.
ELLIPSIS = "…"
TRAILING_PUNCTUATION = " ,;:.-–—("
#: "2 — Partial", "2 - partial": the level at the start of a scale label.
_LEADING_LEVEL = re.compile(r"^\s*(-?\d+)\s*[—–-]")
#: Most texts separated by ";" (or new lines) read from one multiple-choice cell, unless the question has so
#: many answers that it could need more; a cell with more is refused instead of being matched piece by piece.
MAX_CHOICE_PIECES = 1000
#: Excel's limits on data-validation messages.
ERROR_TITLE_LIMIT, ERROR_LIMIT = 32, 255

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
ANSWER_FILL = PatternFill("solid", fgColor="FFF9DB")
INACTIVE_FILL = PatternFill("solid", fgColor="EDEDED")
WRAP = Alignment(wrap_text=True, vertical="top")
UNLOCKED = Protection(locked=False)


# --- results -------------------------------------------------------------------------------------------


@dataclass
class Problem:
    """Something wrong with an uploaded workbook: a refusal of the whole file (`fatal`) or one cell's value."""

    message: str
    #: Sheet name and cell reference ("Agency profile!D7"); empty for a refusal of the whole file.
    sheet: str = ""
    cell: str = ""
    fatal: bool = False

    def __str__(self) -> str:
        place = self.cell or (f"sheet “{self.sheet}”" if self.sheet else "")  # a whole sheet's problem names it
        return f"{place}: {self.message}" if place else self.message


@dataclass
class CellValue:
    """The raw value read for one question, with where it was read."""

    question_id: str
    #: What `save_answers` gets: a code, a list of codes, {row id: code}, a number, a date or text.
    value: Any
    #: "Sheet!D7" (a matrix: its first row read).
    cell: str
    sheet: str
    #: Matrix questions: row id -> cell reference.
    rows: dict[str, str] = field(default_factory=dict)
    #: (cell reference, text) of texts that are neither a label nor a code of the question's answers.
    unknown: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class WorkbookRead:
    """What an uploaded workbook holds, once its metadata is verified (else `problems` says why not)."""

    response: Response | None = None
    #: The verified metadata (strings).
    meta: dict[str, str] = field(default_factory=dict)
    #: question id -> the value read from its answer cell(s).
    values: dict[str, CellValue] = field(default_factory=dict)
    #: question id -> (answer version, value fingerprint) at download.
    at_download: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: question id -> fingerprint of the text its cell held at download, for answers too long for a cell (the
    #: cell held only their beginning).
    cut: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: The answer cells read as empty, as (sheet, row): a formula there may have no saved result
    #: (`_unsaved_formulas`).
    blank_cells: set[tuple[str, int]] = field(default_factory=set)
    #: question id -> (cell, value) of the answer cells of notes and file questions, which are never imported:
    #: what was typed there is named as not read (`WorkbookImport.not_imported`).
    shown: dict[str, tuple[str, Any]] = field(default_factory=dict)
    #: (cell, what the row says) of the answer cells filled in rows that are no question's (a note, a section's
    #: description, a row added by hand): not read, and said so.
    stray: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the workbook was read without any problem."""
        return not self.problems

    @property
    def lang(self) -> str:
        """The questionnaire language the workbook was written in."""
        return self.meta.get("lang", "")

    @property
    def downloaded_at(self) -> datetime | None:
        """When the workbook was downloaded (UTC)."""
        text = self.meta.get("downloaded_at")
        return datetime.fromisoformat(text) if text else None


@dataclass
class WorkbookChange:
    """One answer the workbook changes, as people read it."""

    question_id: str
    #: The question's label in the requested language.
    label: str
    old: str
    new: str
    #: Someone changed the answer on the website after the workbook was downloaded (and the workbook too).
    changed_online_since_download: bool = False
    #: At the confirmation: someone changed the answer after the preview was shown (`old` is their value), so
    #: nothing was saved and the person must confirm again; who did it and when.
    changed_since_preview: bool = False
    changed_by: str = ""
    changed_at: datetime | None = None

    @property
    def changed_online(self) -> bool:
        """Short name of `changed_online_since_download`."""
        return self.changed_online_since_download


@dataclass
class WorkbookImport:
    """What importing a workbook found, and whether it was saved."""

    problems: list[Problem] = field(default_factory=list)
    #: The answers the workbook changes, in questionnaire order (none when there is any problem).
    changes: list[WorkbookChange] = field(default_factory=list)
    #: True when the changes were saved (flushed: the caller commits).
    applied: bool = False
    response: Response | None = None
    #: question id -> version of every stored answer the changes were worked out against. The preview keeps
    #: them with the pending upload and gives them back as `seen_versions` when the person confirms.
    versions: dict[str, int] = field(default_factory=dict)
    #: (question label, cell) of the answers the workbook changes for questions that do not apply given the
    #: other answers (skip logic): not read, and said so rather than dropped without a word.
    not_applicable: list[tuple[str, str]] = field(default_factory=list)
    #: (question label, cell) of the cells of file questions and notes that hold something else than the
    #: workbook was downloaded with: files are added on the website, notes have no answer.
    not_imported: list[tuple[str, str]] = field(default_factory=list)
    #: At the confirmation: the labels of the other answers (not changed by the workbook) that someone changed
    #: on the website after the preview. They can change what the workbook's answers do (a question hidden or
    #: shown by skip logic, a limit), so nothing was saved and the up-to-date preview is shown instead.
    others_changed_since_preview: list[str] = field(default_factory=list)
    #: (question label, message) of the answers that, with the changes, break their rule (the unit's staff above
    #: a total the workbook lowers): saved as the web form saves them, flagged, and submission waits for them.
    flagged: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed_since_preview(self) -> list[WorkbookChange]:
        """The changes whose answer someone changed after the preview: the reason nothing was saved."""
        return [c for c in self.changes if c.changed_since_preview]

    @property
    def preview_outdated(self) -> bool:
        """True when the confirmation found answers changed on the website since the preview (nothing saved)."""
        return bool(self.changed_since_preview or self.others_changed_since_preview)

    @property
    def fatal(self) -> list[Problem]:
        """Refusals of the whole file."""
        return [p for p in self.problems if p.fatal]


# --- text in cells -------------------------------------------------------------------------------------


def _too_long_for_a_cell(value) -> bool:
    return isinstance(value, str) and len(excel_text(value)) > EXCEL_CELL_LIMIT


def _cut_text(value: str) -> str:
    """The beginning of a text too long for one cell, as written into it (escaped, with the cut marker)."""
    return cell_text(value)


def _put(cell, value) -> None:
    """Write a value; texts are escaped and those that look like formulas are kept as text."""
    if isinstance(value, str):
        escaped = excel_text(value)
        cell.value = escaped
        if escaped.startswith(FORMULA_PREFIXES) or value.startswith(FORMULA_PREFIXES):
            cell.data_type = "s"  # openpyxl took "=..." for a formula
            cell.quotePrefix = True
    else:
        cell.value = value


def _cell_text(value) -> str:
    """A cell as text: escapes undone, whole floats without ".0", dates as ISO."""
    return unescape(value) if isinstance(value, str) else read_text(value)


#: Typographic quotes and dashes as the plain ones: Word, LibreOffice's AutoCorrect and Excel on some systems
#: turn "Don't know" into "Don’t know" as it is typed.
_PLAIN_PUNCTUATION = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "“": '"', "”": '"',
                                    "„": '"', "«": '"', "»": '"', "–": "-", "—": "-", "‑": "-"})


def _norm(text: str) -> str:
    """A label compared loosely: case, spacing, ё/е and typographic quotes or dashes do not matter."""
    return " ".join(str(text).replace("ё", "е").replace("Ё", "Е").translate(_PLAIN_PUNCTUATION).split()).casefold()


def shorten(text: str, limit: int) -> str:
    """`text` when it fits in `limit` characters, else cut after a whole word and ended with "…" (cut inside
    the word only when the first word alone is too long)."""
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    cut = text[:room]
    if not text[room].isspace():
        space = max(cut.rfind(" "), 0)
        cut = cut[:space] or cut
    return (cut.rstrip(TRAILING_PUNCTUATION) or cut) + ELLIPSIS


def sheet_title(text: str, taken: set[str], fallback: str) -> str:
    """A valid, unused sheet title made from `text`: forbidden characters removed, at most 31 characters (a
    longer text is cut after a whole word and ends with "…"), unique (Excel compares titles without case) and
    not a reserved name; `taken` holds casefolded titles."""
    title = " ".join(FORBIDDEN_IN_TITLES.sub("", text).split()).strip("'").strip() or fallback
    candidate, number = shorten(title, TITLE_LIMIT), 2
    while candidate.casefold() in taken or candidate.casefold() in RESERVED_TITLES:
        suffix = f" ({number})"
        candidate = shorten(title, TITLE_LIMIT - len(suffix)) + suffix
        number += 1
    taken.add(candidate.casefold())
    return candidate


# --- answers as labels ---------------------------------------------------------------------------------


def _words() -> dict[str, str]:
    """The interface's words for yes/no/partly and the special answers, in the current locale."""
    return {"yes": _("Yes"), "partly": _("Partly"), "no": _("No"),
            "not_applicable": _("Not applicable"), "dont_know": _("Don't know")}


def _options(definition, question, lang: str, words: dict[str, str]) -> list[tuple[str, str]]:
    """(stored value as text, label) of what a choice-like question (or a matrix row) offers, specials last.

    Labels that occur twice get their code appended, so that every label names one answer."""
    if question.type == "yes_no":
        pairs = [(v, words[v]) for v in (("yes", "partly", "no") if question.partly else ("yes", "no"))]
    elif question.type in ("single_choice", "multiple_choice", "scale", "matrix"):
        pairs = list(choice_labels(definition, question, lang).items())
    else:
        pairs = []
    pairs += [(special, words[special]) for special in SPECIAL if getattr(question, special, False)]
    counts = Counter(_norm(label) for _value, label in pairs)
    return [(value, f"{label} ({value})" if counts[_norm(label)] > 1 else label) for value, label in pairs]


def _scale_like(question) -> bool:
    return question.type == "scale" or (question.type == "matrix" and not question.choices)


def _number_text(value) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def fingerprint(value) -> str:
    """A short digest of a stored (normalised) value, to tell later whether a cell still holds it."""
    def canonical(item):
        if isinstance(item, float) and item.is_integer():
            return int(item)
        if isinstance(item, dict):
            return {str(k): canonical(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [canonical(v) for v in item]
        return item

    text = json.dumps(canonical(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


# --- metadata ------------------------------------------------------------------------------------------


def sign(meta: dict[str, str]) -> str:
    """HMAC-SHA256 (hex) of the metadata's canonical serialisation with the application's SECRET_KEY."""
    canonical = json.dumps(meta, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(key, (KIND + "\n" + canonical).encode("utf-8"), hashlib.sha256).hexdigest()


# --- writing -------------------------------------------------------------------------------------------


def build_workbook(response: Response, *, lang: str) -> Workbook:
    """The agency's questionnaire with its current answers, to fill in offline, in `lang`.

    Sheets: instructions, one per section, the hidden lists of the drop-downs and the very hidden, signed
    metadata that `read_workbook` needs."""
    with force_locale(interface_locale(lang)):
        return _Builder(response, lang).build()


class _Builder:
    """Writes one workbook; keeps the lists of the drop-downs and the metadata while the sheets are written."""

    def __init__(self, response: Response, lang: str):
        self.response = response
        self.definition = definition_of(response.version)
        self.lang = lang
        self.default = self.definition.languages[0]
        self.answers = {a.question_id: a for a in response.answers}
        self.words = _words()
        self.now = utcnow()
        self.book = Workbook()
        self.taken: set[str] = {META_SHEET.casefold()}
        self.lists: dict[tuple[str, ...], str] = {}
        self.sheets: list[tuple[str, str]] = []
        #: Data validations of the sheet being written.
        self.validations: list[DataValidation] = []

    def text(self, value) -> str:
        return tr(value, self.lang, self.default)

    def build(self) -> Workbook:
        book = self.book
        instructions = book.active
        instructions.title = sheet_title(_("Instructions"), self.taken, "Instructions")
        # i18n: name of the (hidden) sheet holding the drop-down lists of the offline workbook
        lists_title = sheet_title(_("Lists"), self.taken, "Lists")
        for number, section in enumerate(self.definition.sections, start=1):
            fallback = _("Section %(number)d", number=number)
            sheet = book.create_sheet(sheet_title(self.text(section.title), self.taken, fallback))
            self.sheets.append((sheet.title, self.text(section.title)))
            self.write_section(sheet, section)
        lists = book.create_sheet(lists_title)
        self.write_lists(lists)
        self.write_instructions(instructions)
        meta = book.create_sheet(META_SHEET)
        self.write_meta(meta, instructions.title, lists.title)
        lists.sheet_state = "hidden"
        meta.sheet_state = "veryHidden"
        book.active = 0
        book.security = WorkbookProtection(lockStructure=True)  # no password: guards against slips only
        book.properties.title = self.text(self.definition.title)
        book.properties.creator = current_app.config.get("APP_TITLE", "")
        return book

    # -- instructions

    def write_instructions(self, sheet) -> None:
        response, definition = self.response, self.definition
        sheet.column_dimensions["A"].width = 26
        sheet.column_dimensions["B"].width = 100
        sheet["A1"] = excel_text(self.text(definition.title))
        sheet["A1"].font = Font(bold=True, size=14)
        deadline = response.campaign.deadline
        facts = [
            (_("Agency"), response.agency.name(self.lang)),
            (_("Campaign"), response.campaign.name_in(self.lang)),
            (_("Questionnaire"), self.text(definition.title)),
            (_("Version"), response.version.label),
            # i18n: the campaign has no deadline
            (_("Deadline"), format_date(deadline, "long") if deadline else _("none")),
            (_("Downloaded on"), format_moment(self.now, "medium")),
        ]
        row = 3
        for label, value in facts:
            sheet.cell(row=row, column=1, value=label).font = Font(bold=True)
            _put(sheet.cell(row=row, column=2), value)
            sheet.cell(row=row, column=2).alignment = WRAP
            row += 1
        row += 1
        sheet.cell(row=row, column=1, value=_("How to fill it in")).font = Font(bold=True, size=12)
        row += 1
        for number, line in enumerate(self.instruction_lines(), start=1):
            sheet.cell(row=row, column=1, value=number).alignment = Alignment(horizontal="right", vertical="top")
            cell = sheet.cell(row=row, column=2, value=line)
            cell.alignment = WRAP
            sheet.row_dimensions[row].height = 15 * max(1, math.ceil(len(line) / 95))
            row += 1
        row += 1
        sheet.cell(row=row, column=1, value=_("Sections")).font = Font(bold=True, size=12)
        row += 1
        for title, full_title in self.sheets:
            cell = sheet.cell(row=row, column=2)
            _put(cell, full_title)
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"{quote_sheetname(title)}!A1")
            cell.font = Font(color="0563C1", underline="single")
            row += 1
        sheet.protection.sheet = True

    def instruction_lines(self) -> list[str]:
        quote = "«%s»" if self.lang == "ru" else "“%s”"
        example = next((q for _s, q in self.definition.questions() if q.type == "multiple_choice"), None)
        labels = [label for _v, label in _options(self.definition, example, self.lang, self.words)][:2] \
            if example else []
        example_text = "; ".join(labels) if len(labels) == 2 else _("first answer; second answer")
        lines = [
            _("Each section of the questionnaire is on its own sheet. Write your answers in the column "
              "%(answer)s only (the yellow cells); the other columns are locked.", answer=quote % _("Answer")),
            _("Questions marked with * are required. Some questions only apply depending on earlier answers; "
              "answers to questions that do not apply are not kept."),
            _("Where an answer cell has a drop-down list, choose the answer from the list. The column "
              "%(allowed)s says what each answer cell accepts.", allowed=quote % _("Allowed answers")),
            _("Where several answers may be chosen, write them in one cell separated by a semicolon (;), "
              "for example: %(example)s.", example=example_text),
            _("Where the question allows it, you may answer %(na)s or %(dk)s: choose it from the list or type it.",
              na=quote % self.words["not_applicable"], dk=quote % self.words["dont_know"]),
            _("Write numbers with digits only (for example 12 or 12.5) and dates as YYYY-MM-DD (for example "
              "%(example)s).", example=self.now.date().isoformat()),
            _("Files cannot be attached to this workbook: upload them on the website."),
            _("Emptying an answer cell removes that answer when the workbook is uploaded."),
            _("Do not rename, move or delete the sheets, do not change the column %(id)s and do not change the "
              "hidden information sheet: without it the workbook cannot be uploaded.", id=quote % _("ID")),
            _("When you have finished, save the workbook as an Excel workbook (.xlsx) and upload it on the "
              "website with %(page)s. You will see every change before anything is saved; answers changed on "
              "the website after this workbook was downloaded are pointed out.",
              page=quote % _("Upload a filled workbook")),
            _("The answers are checked with the same rules as on the website. If a cell has a problem, nothing "
              "is saved and the problem is shown with its sheet and cell."),
        ]
        return lines

    # -- sections

    def write_section(self, sheet, section) -> None:
        # i18n: column headings of a questionnaire sheet of the offline workbook
        headings = [_("ID"), _("Question"), _("Hint"), _("Answer"), _("Allowed answers")]
        for column, heading in enumerate(headings, start=1):
            cell = sheet.cell(row=1, column=column, value=heading)
            cell.font, cell.fill, cell.alignment = Font(bold=True), HEADER_FILL, WRAP
        for column, width in COLUMN_WIDTHS.items():
            sheet.column_dimensions[get_column_letter(column)].width = width
        sheet.freeze_panes = "A2"
        self.validations: list[DataValidation] = []
        row = 2
        if section.description:
            self.text_row(sheet, row, self.text(section.description))
            row += 1
        for question in section.questions:
            if question.type == "note":
                self.text_row(sheet, row, self.text(question.label), self.text(question.hint))
                row += 1
            elif question.type == "matrix":
                answer = self.answers.get(question.id)
                values = answer.value if answer is not None and isinstance(answer.value, dict) else {}
                for index, matrix_row in enumerate(question.rows):
                    label = f"{self.text(question.label)} — {self.text(matrix_row.label)}"
                    self.question_row(sheet, row, section, question, f"{question.id}/{matrix_row.id}", label,
                                      values.get(matrix_row.id), hint=index == 0)
                    row += 1
            else:
                answer = self.answers.get(question.id)
                self.question_row(sheet, row, section, question, question.id, self.text(question.label),
                                  answer.value if answer is not None else None)
                row += 1
        for validation in self.validations:
            sheet.add_data_validation(validation)
        sheet.protection.sheet = True
        sheet.protection.formatColumns = False  # people may widen columns and rows
        sheet.protection.formatRows = False

    def text_row(self, sheet, row: int, text: str, hint: str = "") -> None:
        """A row of text to read (a note or a section description): no id, no answer cell."""
        _put(sheet.cell(row=row, column=LABEL_COLUMN), text)
        sheet.cell(row=row, column=LABEL_COLUMN).font = Font(italic=True)
        if hint:
            _put(sheet.cell(row=row, column=HINT_COLUMN), hint)
        for column in (LABEL_COLUMN, HINT_COLUMN):
            sheet.cell(row=row, column=column).alignment = WRAP
        sheet.cell(row=row, column=ANSWER_COLUMN).fill = INACTIVE_FILL
        self.fit_height(sheet, row, {LABEL_COLUMN: text, HINT_COLUMN: hint})

    def question_row(self, sheet, row: int, section, question, ident: str, label: str, value, *,
                     hint: bool = True) -> None:
        """One answer row: id, label (* when required), hint, the answer cell and what it accepts."""
        if question.required:
            label += " *"
        hint_text = self.text(question.hint) if hint else ""
        help_text = self.help_text(question, section)
        id_cell = sheet.cell(row=row, column=ID_COLUMN, value=ident)
        id_cell.font = Font(color="808080", size=8)
        id_cell.alignment = Alignment(vertical="top")
        _put(sheet.cell(row=row, column=LABEL_COLUMN), label)
        sheet.cell(row=row, column=LABEL_COLUMN).font = Font(bold=question.required)
        _put(sheet.cell(row=row, column=HINT_COLUMN), hint_text)
        _put(sheet.cell(row=row, column=HELP_COLUMN), help_text)
        for column in (LABEL_COLUMN, HINT_COLUMN, HELP_COLUMN):
            sheet.cell(row=row, column=column).alignment = WRAP
        cell = sheet.cell(row=row, column=ANSWER_COLUMN)
        cell.alignment = WRAP
        shown = self.cell_value(question, value)
        if question.type == "file":
            _put(cell, shown)  # read-only: files are uploaded on the website
            cell.fill = INACTIVE_FILL
        elif _too_long_for_a_cell(shown):
            # Only its beginning fits (Excel holds 32,767 characters in a cell): shown, locked, and left alone
            # by the import unless changed (`cut:` in the metadata), so that a round trip never cuts the answer.
            cell.value = _cut_text(shown)
            cell.fill = INACTIVE_FILL
        else:
            _put(cell, shown)
            cell.protection, cell.fill = UNLOCKED, ANSWER_FILL
            if question.type == "date":
                cell.number_format = "yyyy-mm-dd"
            elif question.type in ("text", "long_text", "multiple_choice"):
                cell.number_format = "@"
            self.validate(question, cell)
        self.fit_height(sheet, row, {LABEL_COLUMN: label, HINT_COLUMN: hint_text, ANSWER_COLUMN: str(shown or ""),
                                     HELP_COLUMN: help_text})

    @staticmethod
    def fit_height(sheet, row: int, texts: dict[int, str]) -> None:
        """Rows tall enough for their wrapped texts (Excel does not do it for a generated file)."""
        lines = 1
        for column, text in texts.items():
            width = COLUMN_WIDTHS[column] * 1.1
            lines = max(lines, sum(max(1, math.ceil(len(part) / width)) for part in str(text).split("\n")))
        if lines > 1:
            sheet.row_dimensions[row].height = min(409, 15 * lines)

    def cell_value(self, question, value):
        """The stored value as the answer cell shows it: labels, numbers, dates, text, a file's name."""
        if value is None or value == "" or value == [] or value == {}:
            return None
        if isinstance(value, str) and value in SPECIAL:
            return self.words[value]
        options = dict(_options(self.definition, question, self.lang, self.words))
        if question.type in ("single_choice", "yes_no", "scale", "matrix"):
            return options.get(_number_text(value), _number_text(value))
        if question.type == "multiple_choice":
            return "; ".join(options.get(str(v), str(v)) for v in value)
        if question.type == "number":
            return value if isinstance(value, int | float) else _cell_text(value)
        if question.type == "date":
            try:
                return date.fromisoformat(str(value))
            except ValueError:
                return str(value)
        if question.type == "file":
            return display(self.definition, question, value, self.lang)
        return str(value)

    def help_text(self, question, section=None) -> str:
        """What the answer cell accepts, in a sentence or two (and whether it applies, given its section)."""
        parts = []
        specials = [self.words[s] for s in SPECIAL if getattr(question, s, False)]
        kind = question.type
        if kind in LIST_TYPES:
            parts.append(_("Choose an answer from the drop-down list."))
        elif kind == "multiple_choice":
            labels = [label for value, label in _options(self.definition, question, self.lang, self.words)
                      if value not in SPECIAL]
            parts.append(_("One or more of: %(labels)s. Separate several answers with a semicolon (;).",
                           labels="; ".join(labels)))
        elif kind == "number":
            if question.unit:
                # The unit in parentheses, so that a unit ending with a period ("чел.") is not followed by another.
                unit = self.text(question.unit)
                # i18n: %(unit)s is the unit of measurement of a number question, e.g. "million tenge"
                parts.append(_("A whole number (%(unit)s).", unit=unit) if question.integer
                             else _("A number (%(unit)s).", unit=unit))
            else:
                parts.append(_("A whole number.") if question.integer else _("A number."))
            bounds = self.bounds_text(question.min, question.max, _number_text, dates=False)
            if bounds:
                parts.append(bounds)
        elif kind == "date":
            parts.append(_("A date (YYYY-MM-DD)."))
            # i18n: a date limit, as in "not after today"
            bounds = self.bounds_text(question.min, question.max,
                                      lambda v: _("today") if v == "today" else str(v), dates=True)
            if bounds:
                parts.append(bounds)
        elif kind in ("text", "long_text"):
            limit = question.max_length or REGISTRY[kind].default_max
            parts.append(_("Text, at most %(limit)d characters.", limit=limit))
            if _too_long_for_a_cell(self.cell_value(question, (self.answers.get(question.id) and
                                                                self.answers[question.id].value))):
                parts.append(_("The answer is longer than an Excel cell holds: the cell shows its beginning and "
                               "cannot be changed here. Change it on the website."))
        elif kind == "file":
            parts.append(_("Files are uploaded on the website; this cell cannot be changed here."))
        if specials and kind not in LIST_TYPES:
            parts.append(_("Or: %(answers)s.", answers=" / ".join(specials)))
        if section is not None and (section.show_if or question.show_if):
            parts.append(_("Only if it applies (it depends on earlier answers)."))
        return " ".join(parts)

    @staticmethod
    def bounds_text(low, high, show, *, dates: bool) -> str:
        """The limits of a number or a date as a sentence ("" when there is none)."""
        if low is not None and high is not None:
            return _("From %(min)s to %(max)s.", min=show(low), max=show(high))
        if low is not None:
            return _("Not before %(min)s.", min=show(low)) if dates else _("At least %(min)s.", min=show(low))
        if high is not None:
            return _("Not after %(max)s.", max=show(high)) if dates else _("At most %(max)s.", max=show(high))
        return ""

    # -- validations

    def validate(self, question, cell) -> None:
        """Attach the data validation of the question's type to its answer cell."""
        kind = question.type
        specials = any(getattr(question, s, False) for s in SPECIAL)
        # A cell that may also hold "Not applicable" cannot be strictly numeric: warn instead of refusing.
        style = "warning" if specials else "stop"
        if kind in LIST_TYPES:
            labels = tuple(label for _value, label in _options(self.definition, question, self.lang, self.words))
            name = self.list_name(labels)
            self.add(cell, DataValidation(type="list", formula1=name, allow_blank=True, errorStyle="warning"),
                     _("Not in the list"), _("Choose an answer from the drop-down list."))
        elif kind == "number":
            if question.integer:
                low, high = -(2 ** 31) + 1, 2 ** 31 - 1
            else:
                low, high = -1e15, 1e15
            validation = self.range_validation("whole" if question.integer else "decimal", question.min,
                                               question.max, low, high, _number_text, style)
            self.add(cell, validation, _("Not a valid number"), self.help_text(question))
        elif kind == "date":
            def excel_date(value):
                if value == "today":
                    return "TODAY()"
                day = date.fromisoformat(str(value))
                return f"DATE({day.year},{day.month},{day.day})"

            validation = self.range_validation("date", question.min, question.max, "1900-01-01", "9999-12-31",
                                               excel_date, style)
            self.add(cell, validation, _("Not a valid date"), self.help_text(question))
        elif kind in ("text", "long_text") and question.max_length:
            validation = DataValidation(type="textLength", operator="lessThanOrEqual",
                                        formula1=str(question.max_length), allow_blank=True, errorStyle=style)
            self.add(cell, validation, _("Text too long"),
                     _("Text, at most %(limit)d characters.", limit=question.max_length))

    @staticmethod
    def range_validation(kind: str, low, high, default_low, default_high, show, style: str) -> DataValidation:
        if low is not None and high is not None:
            return DataValidation(type=kind, operator="between", formula1=show(low), formula2=show(high),
                                  allow_blank=True, errorStyle=style)
        if low is not None:
            return DataValidation(type=kind, operator="greaterThanOrEqual", formula1=show(low), allow_blank=True,
                                  errorStyle=style)
        if high is not None:
            return DataValidation(type=kind, operator="lessThanOrEqual", formula1=show(high), allow_blank=True,
                                  errorStyle=style)
        return DataValidation(type=kind, operator="between", formula1=show(default_low), formula2=show(default_high),
                              allow_blank=True, errorStyle=style)

    def add(self, cell, validation: DataValidation, title: str, message: str) -> None:
        validation.showErrorMessage = True
        validation.errorTitle = title[:ERROR_TITLE_LIMIT]
        validation.error = message[:ERROR_LIMIT]
        validation.add(cell.coordinate)
        self.validations.append(validation)

    def list_name(self, labels: tuple[str, ...]) -> str:
        """The defined name of a drop-down list (one per distinct list of labels)."""
        if labels not in self.lists:
            self.lists[labels] = f"list_{len(self.lists) + 1}"
        return self.lists[labels]

    def write_lists(self, sheet) -> None:
        """One column per distinct list, each cell range given a defined name the validations refer to."""
        for column, (labels, name) in enumerate(self.lists.items(), start=1):
            letter = get_column_letter(column)
            sheet.cell(row=1, column=column, value=name).font = Font(bold=True)
            for number, label in enumerate(labels, start=2):
                _put(sheet.cell(row=number, column=column), label)
            reference = f"{quote_sheetname(sheet.title)}!${letter}$2:${letter}${len(labels) + 1}"
            self.book.defined_names[name] = DefinedName(name, attr_text=reference)
            sheet.column_dimensions[letter].width = 40
        sheet.protection.sheet = True

    # -- metadata

    def metadata(self, instructions: str, lists: str) -> dict[str, str]:
        response = self.response
        meta = {
            "kind": KIND,
            "format": FORMAT_VERSION,
            "response_id": str(response.id),
            "campaign_id": str(response.campaign_id),
            "agency_id": str(response.agency_id),
            "version_id": str(response.version_id),
            "questionnaire": response.version.questionnaire.slug,
            "version_number": str(response.version.number),
            "lang": self.lang,
            "downloaded_at": self.now.isoformat(),
            "sheet_instructions": instructions,
            "sheet_lists": lists,
        }
        for _section, question in self.definition.questions():
            if question.type == "note":
                continue
            # files too, though never imported: their version tells whether the cell still shows the stored files
            answer = self.answers.get(question.id)
            version, value = (answer.version, answer.value) if answer is not None else (0, None)
            meta[f"answer:{question.id}"] = f"{version}:{fingerprint(value)}"
            shown = self.cell_value(question, value) if question.type != "file" else None
            if _too_long_for_a_cell(shown):  # the cell holds only its beginning: what it reads back as
                meta[f"cut:{question.id}"] = fingerprint(unescape(_cut_text(shown)))
        return meta

    def write_meta(self, sheet, instructions: str, lists: str) -> None:
        meta = self.metadata(instructions, lists)
        for key, value in meta.items():
            sheet.append([key, excel_text(value)])
        sheet.append(["signature", sign(meta)])
        sheet.protection.sheet = True


# --- reading -------------------------------------------------------------------------------------------


def _fatal(message: str) -> Problem:
    return Problem(message, fatal=True)


def _check_container(data: bytes) -> Problem | None:
    """Refuse what cannot be an .xlsx workbook, before opening it."""
    if len(data) > MAX_BYTES:
        return _fatal(_("The file is larger than %(limit)d MB: upload the workbook downloaded from this site.",
                        limit=MAX_BYTES // (1024 * 1024)))
    if data.startswith(OLE2_MAGIC):
        return _fatal(_("The file is protected with a password or saved in the old Excel format (.xls). Save it "
                        "as an Excel workbook (.xlsx) without a password and upload it again."))
    not_workbook = _fatal(_("The file is not an Excel workbook (.xlsx). Upload the workbook downloaded from this "
                            "site, saved as .xlsx."))
    if not data.startswith(ZIP_MAGIC):
        return not_workbook
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return not_workbook
    if "xl/workbook.xml" not in {m.filename for m in members}:
        return not_workbook
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        return _fatal(_("The workbook is too large to be read."))
    return None


def read_workbook(data: bytes, response: Response | None = None) -> WorkbookRead:
    """Check an uploaded workbook and read its answer cells as raw values (with their cell references).

    Refused, with one clear problem, when it is not a readable .xlsx, is larger than MAX_BYTES, lacks the
    signed metadata or has it altered, is for another response than `response` (when given) or for another
    questionnaire version. Without `response` (the CLI), the response is the one the metadata names."""
    result = WorkbookRead()
    problem = _check_container(data)
    if problem:
        result.problems.append(problem)
        return result
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about Excel features it does not keep
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on damaged files
        result.problems.append(_damaged())
        return result
    try:
        problem = _read_meta(book, result)
        if problem is None:
            problem = _find_response(result, response)
        if problem is not None:
            result.problems.append(problem)
            return result
        _read_answers(book, result)
        if result.blank_cells and has_formulas(data):
            _unsaved_formulas(data, result)
    except _Unreadable:
        # A sheet is only parsed when it is read: a damaged one is found here, after part of the file was read.
        result.values, result.at_download = {}, {}
        result.problems = [_damaged()]
    finally:
        book.close()
    return result


def _unsaved_formulas(data: bytes, result: WorkbookRead) -> None:
    """A problem for each answer cell that holds a formula without a saved result: read as empty, it would clear
    the answer. Excel and LibreOffice save the result with the formula; programs that write workbooks may not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        last_row: dict[str, int] = {}  # read no further than the answer cells already read (see the row limit)
        for name, number in result.blank_cells:
            last_row[name] = max(last_row.get(name, 0), number)
        for name in [sheet.title for sheet in book.worksheets if sheet.title in last_row]:
            for number, row in enumerate(_rows(book, name, ANSWER_COLUMN, max_row=last_row[name], cells=True),
                                         start=1):
                cell = row[ANSWER_COLUMN - 1] if len(row) >= ANSWER_COLUMN else None
                if getattr(cell, "data_type", None) == "f" and (name, number) in result.blank_cells:
                    result.problems.append(Problem(
                        _("This cell holds a formula (%(formula)s) whose result was not saved in the file, so "
                          "there is no answer to read. Type the answer itself, or open the workbook in Excel "
                          "or LibreOffice, save it and upload it again.",
                          formula=str(getattr(cell.value, "text", cell.value))[:100]),  # ArrayFormula: .text
                        sheet=name, cell=f"{name}!{ANSWER_LETTER}{number}"))
    finally:
        book.close()


def _damaged() -> Problem:
    return _fatal(_("The workbook is damaged and cannot be read. Upload the workbook downloaded from this site, "
                    "saved as .xlsx."))


class _Unreadable(Exception):
    """A sheet of the workbook cannot be parsed."""


def _rows(book, name: str, max_col: int, *, max_row: int | None = None, cells: bool = False) -> Iterator[tuple]:
    """The cell values (with `cells`, the cells) of a sheet's rows. openpyxl's read-only mode parses a sheet only
    while its rows are read, so a damaged sheet fails here, not when the workbook is opened: any error becomes
    `_Unreadable`."""
    try:
        yield from book[name].iter_rows(min_row=1, max_row=max_row, max_col=max_col, values_only=not cells)
    except Exception as exc:  # XML parse errors, truncated or corrupt ZIP members, bad cell values...
        raise _Unreadable(name) from exc


def _read_meta(book, result: WorkbookRead) -> Problem | None:
    """Read and verify the metadata sheet into `result.meta`."""
    if META_SHEET not in book.sheetnames:
        return _fatal(_("The workbook has no hidden information sheet: only a workbook downloaded from this site "
                        "with “%(link)s” can be uploaded.", link=_("Download to fill in offline (Excel)")))
    meta: dict[str, str] = {}
    signature = ""
    altered = _fatal(_("The hidden information sheet was changed, so the workbook cannot be trusted. Download a "
                       "new workbook and copy your answers into it."))
    for row in _rows(book, META_SHEET, 2):
        key = row[0] if row else None
        if key is None:
            continue
        value = _cell_text(row[1] if len(row) > 1 else None)
        key = str(key)
        if key == "signature":
            signature = value
        elif key in meta:
            return altered
        else:
            meta[key] = value
    if not signature or not hmac.compare_digest(signature.encode("utf-8"), sign(meta).encode("utf-8")):
        return altered
    if meta.get("kind") != KIND or meta.get("format") != FORMAT_VERSION:
        return _fatal(_("This workbook was made by another version of this site. Download a new workbook."))
    result.meta = meta
    for key, value in meta.items():
        if key.startswith("answer:"):
            version, _sep, digest = value.partition(":")
            result.at_download[key[len("answer:"):]] = (int(version), digest)
        elif key.startswith("cut:"):
            result.cut[key[len("cut:"):]] = value
    return None


def _find_response(result: WorkbookRead, response: Response | None) -> Problem | None:
    """The response the workbook is for, checked against the expected one and its version."""
    from app.campaigns.models import Campaign
    from app.directory.models import Agency

    meta = result.meta
    locale = get_locale_code()
    if response is not None and meta["response_id"] != str(response.id):
        if meta["agency_id"] != str(response.agency_id):
            agency = db.session.get(Agency, int(meta["agency_id"]))
            theirs = agency.name(locale) if agency is not None else _("another agency")
            return _fatal(_("This workbook is for %(theirs)s, not for %(yours)s. Upload the workbook downloaded "
                            "for %(yours)s.", theirs=theirs, yours=response.agency.name(locale)))
        campaign = db.session.get(Campaign, int(meta["campaign_id"]))
        theirs = campaign.name_in(locale) if campaign is not None else _("another campaign")
        return _fatal(_("This workbook is for the campaign “%(theirs)s”, not for “%(yours)s”. Download the workbook "
                        "of “%(yours)s” from its questionnaire page and copy your answers into it.", theirs=theirs,
                        yours=response.campaign.name_in(locale)))
    if response is None:
        response = db.session.get(Response, int(meta["response_id"]))
        if response is None:
            return _fatal(_("The answers this workbook was downloaded for no longer exist."))
    result.response = response
    if meta["version_id"] != str(response.version_id):
        theirs = f"{meta['questionnaire']} v{meta['version_number']}"
        return _fatal(_("This workbook is for version %(theirs)s of the questionnaire, but these answers use "
                        "version %(yours)s. Download a new workbook.", theirs=theirs, yours=response.version.label))
    return None


class _Vocabulary:
    """Recognises what people write for a choice: labels in any language of the questionnaire (and of the
    interface for yes/no and the special answers), loosely compared, or the codes."""

    def __init__(self, definition, lang: str):
        self.definition = definition
        self.lang = lang
        languages = [lang] + [x for x in definition.languages if x != lang]
        locales = list(dict.fromkeys([*languages, *current_app.config["LOCALES"]]))
        self.words: dict[str, dict[str, str]] = {}
        for locale in locales:
            if locale in current_app.config["LOCALES"]:
                with force_locale(locale):
                    self.words[locale] = _words()
        self.words.setdefault(lang, _words())
        self.languages = languages
        self.locales = [x for x in locales if x in self.words]
        #: (ID heading, Answer heading) of the questionnaire sheets, loosely compared, in every language the
        #: application has a catalogue for (a workbook may have been downloaded before LOCALES changed)
        self.headings: set[tuple[str, str]] = set()
        catalogues = {path.parent.name for path in (Path(current_app.root_path) / "translations").glob("*/LC_MESSAGES")}
        for locale in {*current_app.config["LOCALES"], *catalogues}:
            with force_locale(locale):
                self.headings.add((_norm(_("ID")), _norm(_("Answer"))))
        self.id_headings = {ident for ident, _answer in self.headings}
        self.specials = {}
        for words in self.words.values():
            for special in SPECIAL:
                self.specials.setdefault(_norm(words[special]), special)
        for special in SPECIAL:
            self.specials[_norm(special)] = special
        self._cache: dict[str, dict[str, str]] = {}

    def index(self, question) -> dict[str, str]:
        """{loosely compared text: code} for a question; the workbook's own labels win, then codes."""
        if question.id in self._cache:
            return self._cache[question.id]
        index: dict[str, str] = {}
        definition = self.definition

        def add(text, code):
            if text:
                index.setdefault(_norm(text), code)

        for value, label in _options(definition, question, self.lang, self.words[self.lang]):
            add(label, value)
        for value, _label in _options(definition, question, self.lang, self.words[self.lang]):
            add(value, value)
        for language in [*self.languages, *self.locales]:
            words = self.words.get(language, self.words[self.lang])
            for value, label in _options(definition, question, language, words):
                add(label, value)
            if _scale_like(question):
                for level in definition.scale:
                    label = tr(level.label, language, definition.languages[0])
                    add(label, _number_text(level.level))
                    add(f"{_number_text(level.level)} — {label}", _number_text(level.level))
        for special in SPECIAL:  # refused later with a clear message when the question does not allow it
            for words in self.words.values():
                add(words[special], special)
        self._cache[question.id] = index
        return index

    def choice(self, question, text: str) -> str | None:
        """The code a text names, or None."""
        code = self.index(question).get(_norm(text))
        if code is None and _scale_like(question):
            match = _LEADING_LEVEL.match(text)
            if match and match.group(1) in self.index(question).values():
                code = match.group(1)
        return code

    def special(self, text: str) -> str | None:
        """"not_applicable" / "dont_know" when the text is one of their labels or codes."""
        return self.specials.get(_norm(text))


#: The rows of a questionnaire sheet in which its heading row is looked for.
HEADING_ROWS = 5


#: Problems listed before a workbook's reading stops.
MAX_PROBLEMS = 200


def _read_answers(book, result: WorkbookRead) -> None:
    """Read the answer cells of every sheet but the instructions, the lists and the metadata."""
    response = result.response
    definition = definition_of(response.version)
    index = questions_by_id(definition)
    vocabulary = _Vocabulary(definition, result.lang or definition.languages[0])
    skip = {META_SHEET, result.meta.get("sheet_instructions"), result.meta.get("sheet_lists")}
    seen: dict[str, str] = {}
    # A downloaded workbook has about one row per question (and matrix row) and a few headings: far more rows,
    # or far more problems, is not a filled copy but a file that would keep the server busy for minutes.
    row_limit = 2 * (len(index) + sum(len(q.rows) for _n, _s, q in index.values() if q.type == "matrix")) + 200
    for name in [sheet.title for sheet in book.worksheets]:  # chart sheets have no cells
        if name in skip:
            continue
        # Whether the heading row (row 1 as downloaded; one of the first HEADING_ROWS, should rows have been
        # inserted above it) has the ID and Answer headings in their columns; None until it is found.
        headings_ok = None
        for number, cells in enumerate(_rows(book, name, ANSWER_COLUMN, cells=True), start=1):
            row = tuple(getattr(cell, "value", None) for cell in cells)
            if headings_ok is None and number <= HEADING_ROWS and row \
                    and _norm(_cell_text(row[ID_COLUMN - 1])) in vocabulary.id_headings:
                headings_ok = len(row) >= ANSWER_COLUMN and (
                    _norm(_cell_text(row[ID_COLUMN - 1])), _norm(_cell_text(row[ANSWER_COLUMN - 1]))) \
                    in vocabulary.headings
            if number > row_limit and headings_ok is None:
                # A sheet of the person's own (figures to copy from): no question heading at the top, and no
                # question id in as many rows as the questionnaire has (one would have been refused above).
                break
            if number > row_limit:
                result.problems.append(Problem(
                    _("This sheet has more than %(limit)d rows, far more than the questionnaire: upload the workbook "
                      "downloaded from this site, with your answers in it.", limit=row_limit), sheet=name))
                return
            if len(result.problems) >= MAX_PROBLEMS:
                result.problems.append(Problem(
                    _("More than %(limit)d problems: the first ones are listed. Correct them and upload the "
                      "workbook again.", limit=MAX_PROBLEMS), sheet=name))
                return
            ident = row[ID_COLUMN - 1] if row else None
            if not isinstance(ident, str) or not ident.strip():
                if headings_ok:
                    _stray(result, name, number, row, "")
                continue
            ident = ident.strip()
            qid, _slash, row_id = ident.partition("/")
            entry = index.get(qid)
            if entry is None:  # extra rows are not answers
                if headings_ok and _norm(ident) not in vocabulary.id_headings:
                    _stray(result, name, number, row, ident)
                continue
            question = entry[2]
            if question.type in NOT_IMPORTED:  # notes and files are not answers: kept to say so if typed in
                if headings_ok and not row_id and qid not in result.shown:
                    result.shown[qid] = (f"{name}!{ANSWER_LETTER}{number}",
                                         row[ANSWER_COLUMN - 1] if len(row) >= ANSWER_COLUMN else None)
                continue
            if (question.type == "matrix") != bool(row_id):
                continue
            if row_id and row_id not in {r.id for r in question.rows}:
                continue
            ref = f"{name}!{ANSWER_LETTER}{number}"
            if not headings_ok:
                # Answers are read from column D: with columns inserted, deleted or moved, hints would become
                # answers and answers would be cleared.
                result.problems.append(Problem(
                    _("The columns of this sheet have been moved: the answers must be in column %(column)s, under "
                      "the heading “%(answer)s”, with the question ids in column A (“%(id)s”). Put the columns "
                      "back as they were, or download the workbook again.",
                      column=ANSWER_LETTER, answer=_("Answer"), id=_("ID")), sheet=name))
                break
            if ident in seen:
                result.problems.append(Problem(
                    _("This question appears twice in the workbook (also in %(cell)s): keep one of the rows.",
                      cell=seen[ident]), sheet=name, cell=ref))
                continue
            seen[ident] = ref
            answer = cells[ANSWER_COLUMN - 1] if len(cells) >= ANSWER_COLUMN else None
            value = row[ANSWER_COLUMN - 1] if len(row) >= ANSWER_COLUMN else None
            if value is None:
                result.blank_cells.add((name, number))
            if getattr(answer, "data_type", None) == "e":  # a formula whose saved result is an error
                result.problems.append(Problem(
                    _("This cell holds an error value (%(error)s), the result of a formula or typed as such, so "
                      "there is no answer to read. Correct the formula, or type the answer itself.",
                      error=str(value)[:20]),
                    sheet=name, cell=ref))
                continue
            if (question.type == "number" and isinstance(value, int | float) and not isinstance(value, bool)
                    and _percent_format(getattr(answer, "number_format", "") or "")):
                # Typed as "52%", Excel stores 0.52 and shows it as a percentage: the number meant is 52
                value = float(Decimal(repr(value)) * 100)
            if question.type == "matrix":
                cell = result.values.setdefault(qid, CellValue(qid, {}, ref, name))
                cell.rows[row_id] = ref
                cell.value[row_id] = _choice_raw(vocabulary, question, value, ref, cell.unknown)
            else:
                cell = CellValue(qid, None, ref, name)
                try:
                    cell.value = _raw(vocabulary, question, value, ref, cell.unknown)
                except _TooManyPieces as exc:
                    result.problems.append(Problem(
                        _("This cell lists %(count)d answers separated by “;” or line breaks, more than the "
                          "%(limit)d that can be read: write each chosen answer once.",
                          count=exc.count, limit=exc.limit), sheet=name, cell=ref))
                    continue
                result.values[qid] = cell


#: Parts of a number format that show text rather than format the number: "quoted", \escaped, [colour].
_FORMAT_TEXT = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')


def _percent_format(number_format: str) -> bool:
    """Whether a cell's number format shows its value as a percentage (a bare %, which multiplies by 100;
    a quoted or escaped % is only text)."""
    return "%" in _FORMAT_TEXT.sub("", number_format)


def _choice_raw(vocabulary: _Vocabulary, question, value, ref: str, unknown: list):
    """A single choice (or a matrix row) as a code; an unknown text is passed on as written (and noted)."""
    if isinstance(value, bool) and question.type == "yes_no":
        return "yes" if value else "no"
    text = _cell_text(value).strip()
    if not text:
        return None
    code = vocabulary.choice(question, text)
    if code is None:
        unknown.append((ref, text))
        return text
    return code


class _TooManyPieces(Exception):
    """A multiple-choice cell holds far more texts than the question has answers."""

    def __init__(self, count: int, limit: int):
        super().__init__(count, limit)
        self.count, self.limit = count, limit


def _split_choices(vocabulary: _Vocabulary, question, text: str) -> list[str]:
    """Texts of a multiple-choice cell separated by ";" or new lines; a label containing ";" stays whole.

    From each piece on, the longest run of pieces that is a known text is taken (else the piece alone). A
    known text holds at most `window - 1` semicolons, so no longer run is tried: the work grows with the
    number of pieces, not with its cube. A cell with far more pieces than the question could ever need
    raises _TooManyPieces."""
    index = vocabulary.index(question)
    window = max((key.count(";") for key in index), default=0) + 1
    limit = max(MAX_CHOICE_PIECES, 2 * window * len(index))
    count = text.count(";") + text.count("\n") + 1
    if count > limit:
        raise _TooManyPieces(count, limit)
    items: list[str] = []
    for chunk in text.split("\n"):
        items.extend(_known_runs(vocabulary, question, chunk, ";", window))
    return items


def _known_runs(vocabulary: _Vocabulary, question, text: str, separator: str, window: int) -> list[str]:
    """`text` split at `separator`, each piece joined to the next ones while together they are a known text
    (the longest such run of at most `window` pieces), so that a label holding the separator stays whole."""
    pieces = text.split(separator)
    items: list[str] = []
    start = 0
    while start < len(pieces):
        for end in range(min(len(pieces), start + window), start, -1):
            candidate = separator.join(pieces[start:end]).strip()
            if end == start + 1 or vocabulary.choice(question, candidate) is not None:
                if candidate:
                    items.append(candidate)
                start = end
                break
    return items


def _raw(vocabulary: _Vocabulary, question, value, ref: str, unknown: list):
    """The raw value of one answer cell, for `save_answers`."""
    kind = question.type
    if kind in ("single_choice", "yes_no", "scale"):
        return _choice_raw(vocabulary, question, value, ref, unknown)
    if kind == "multiple_choice":
        text = _cell_text(value).strip()
        if not text:
            return None
        codes = []
        for item in _split_choices(vocabulary, question, text):
            code = vocabulary.choice(question, item)
            if code is None and "," in item:  # separated by commas (the instructions ask for ";")
                window = max((key.count(",") for key in vocabulary.index(question)), default=0) + 1
                pieces = [vocabulary.choice(question, p) for p in _known_runs(vocabulary, question, item, ",", window)]
                if pieces and all(pieces):
                    codes.extend(pieces)
                    continue
            if code is None:
                unknown.append((ref, item))
            codes.append(code or item)
        return codes
    if kind in ("number", "date"):
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, datetime | date):
            if value.year < 1900:  # a number below 1 in a date cell (Excel has no date before 1900-01-01)
                from openpyxl.utils.datetime import to_excel

                return to_excel(value)
            return value
        if isinstance(value, int | float):
            if kind == "date" and value >= 1:  # 1 is 1900-01-01; Excel has no date before it
                from openpyxl.utils.datetime import from_excel

                try:
                    return from_excel(value)  # a date typed into a cell that lost its date format
                except (ValueError, OverflowError):
                    return value
            return value
        text = _cell_text(value).strip()
        return vocabulary.special(text) or text
    # text, long_text: exactly as written
    if isinstance(value, str):
        text = unescape(value)
        if any(getattr(question, s, False) for s in SPECIAL):
            special = vocabulary.special(text)
            if special and getattr(question, special, False):
                return special
        return text
    return _cell_text(value) if value is not None else None


# --- importing -----------------------------------------------------------------------------------------


def import_workbook(data: bytes, *, response: Response | None = None, actor, lang: str,
                    apply: bool, seen_versions: dict[str, int] | None = None) -> WorkbookImport:
    """Check an uploaded workbook and save its answers with the web form's rules (flushed, never committed).

    The answers go through `save_answers` (channel "workbook", one audit event) inside a SAVEPOINT that is
    rolled back when `apply` is False (the preview) or when any cell has a problem, so nothing is stored
    then. A cell the person left as it was downloaded changes nothing, even when the answer was changed on the
    website since; an answer changed both on the website and in the workbook is listed as such and takes
    the workbook's value. Without `response` (the CLI), the response is the one the workbook names.

    `seen_versions` are the answer versions the preview showed (its `versions`): an answer the workbook
    changes that someone changed since then is not overwritten unseen. Nothing is saved; the changes are
    listed again with both values (`changed_since_preview`) and new `versions`, to be confirmed again."""
    read = read_workbook(data, response)
    outcome = WorkbookImport(response=read.response or response)
    if read.problems:
        outcome.problems = read.problems
        return outcome
    response = read.response
    if not is_editable(response):
        outcome.problems.append(_fatal(_("These answers can no longer be changed: they have been submitted or the "
                                         "campaign is closed.")))
        return outcome
    definition = definition_of(response.version)
    index = questions_by_id(definition)
    before = {a.question_id: (a.version, a.value) for a in response.answers}
    raws: dict[str, Any] = {}
    for qid, cell in read.values.items():
        question = index[qid][2]
        raw = cell.value
        if question.type == "matrix":
            stored = before.get(qid, (0, None))[1]
            if isinstance(stored, dict):  # rows missing from the workbook keep their answers
                raw = {**{k: v for k, v in stored.items() if k not in cell.rows}, **raw}
                cell.value = raw
        if _unchanged_since_download(definition, question, raw, read.at_download.get(qid)):
            continue
        if qid in read.cut:  # the cell held the beginning of a longer answer: only the website changes it
            if not (isinstance(raw, str) and fingerprint(raw) == read.cut[qid]):
                outcome.problems.append(Problem(
                    _("The answer to this question is longer than an Excel cell holds, so the workbook showed only "
                      "its beginning and it cannot be changed here. Change it on the website, or put back the "
                      "cell as it was downloaded."), sheet=cell.sheet, cell=cell.cell))
            continue
        raws[qid] = raw

    outcome.versions = {qid: version for qid, (version, _value) in before.items()}
    base = None if seen_versions is None else {qid: seen_versions.get(qid, 0) for qid in raws}
    if seen_versions is not None:  # the workbook's own answers are compared by save_answers (conflicts)
        moved = {qid for qid in set(before) | set(seen_versions)
                 if before.get(qid, (0, None))[0] != seen_versions.get(qid, 0)} - set(raws)
        outcome.others_changed_since_preview = [
            tr(question.label, lang, definition.languages[0])
            for _section, question in definition.questions() if question.id in moved]
    # (only when the workbook changes something: otherwise no answer can be broken by it)
    flagged_before = {question.id for _n, _s, question, _m in review(response, lang=lang).flagged} if raws else set()
    nested = db.session.begin_nested()
    try:
        result = save_answers(response, raws, actor=actor, channel="workbook", lang=lang, one_audit_event=True,
                              base_versions=base)
    except ResponseError:
        nested.rollback()
        outcome.problems.append(_fatal(_("These answers can no longer be changed: they have been submitted or "
                                         "the campaign is closed.")))
        return outcome
    except BaseException:
        nested.rollback()
        raise
    outcome.not_imported = _typed_in_vain(definition, read, before, lang)
    ignored = set(result.ignored)
    for _section, question in definition.questions():
        qid = question.id
        if qid in ignored and read.values[qid].value not in (None, "", [], {}):  # an emptied cell held nothing
            outcome.not_applicable.append((tr(question.label, lang, definition.languages[0]), read.values[qid].cell))
        if qid in result.errors:
            cell = read.values[qid]
            rows = _refused_rows(definition, question, cell) if question.type == "matrix" and not cell.unknown else []
            for ref, message in rows:  # a table: the cell of each row refused, not the table's first row
                outcome.problems.append(Problem(message, sheet=cell.sheet, cell=ref))
            if not cell.unknown and not rows:
                outcome.problems.append(Problem(result.errors[qid], sheet=cell.sheet, cell=cell.cell))
            for ref, text in cell.unknown:  # each unknown text (a matrix has one cell per row): all at once
                if question.type in LIST_TYPES:  # their column says only "choose from the drop-down list"
                    message = _("“%(value)s” is not one of the allowed answers: choose one from the cell's "
                                "drop-down list.", value=text)
                else:  # the column lists them, under its heading in the workbook's language
                    with force_locale(interface_locale(read.meta.get("lang", ""))):
                        column = _("Allowed answers")
                    message = _("“%(value)s” is not one of the allowed answers (see the column “%(column)s”).",
                                value=text, column=column)
                outcome.problems.append(Problem(message, sheet=ref.rsplit("!", 1)[0], cell=ref))
        elif qid in result.conflicts:  # changed since the preview (save_answers compared the versions)
            conflict = result.conflicts[qid]
            outcome.versions[qid] = conflict.version
            theirs, yours = (display(definition, question, v, lang) for v in (conflict.theirs, conflict.yours))
            outcome.changes.append(WorkbookChange(
                qid, tr(question.label, lang, definition.languages[0]), theirs, yours,
                changed_online_since_download=conflict.version > read.at_download.get(qid, (0, ""))[0],
                changed_since_preview=True, changed_by=conflict.by, changed_at=conflict.at))
        elif qid in result.changed:
            old, new = result.changed[qid]
            outcome.changes.append(WorkbookChange(
                qid, tr(question.label, lang, definition.languages[0]),
                display(definition, question, old, lang), display(definition, question, new, lang),
                changed_online_since_download=before.get(qid, (0, None))[0] > read.at_download.get(qid, (0, ""))[0]))
    if outcome.problems:
        outcome.changes = []  # nothing changes until every cell is right
    elif outcome.changes:  # as the web form flags them once saved: said before the person confirms
        outcome.flagged = [(tr(question.label, lang, definition.languages[0]), message)
                           for _number, _section, question, message in review(response, lang=lang).flagged
                           if question.id not in flagged_before]  # those these changes break
    if outcome.problems or outcome.preview_outdated or not apply:
        nested.rollback()
    else:
        nested.commit()
        outcome.applied = True
    outcome.response = response
    return outcome


def _stray(result: WorkbookRead, sheet: str, number: int, row: tuple, ident: str) -> None:
    """Keep a filled answer cell of a row that is no question's (see `WorkbookRead.stray`)."""
    value = row[ANSWER_COLUMN - 1] if len(row) >= ANSWER_COLUMN else None
    if value is None or not _cell_text(value).strip():
        return
    label = _cell_text(row[LABEL_COLUMN - 1]).strip() if len(row) >= LABEL_COLUMN and row[LABEL_COLUMN - 1] else ""
    result.stray.append((f"{sheet}!{ANSWER_LETTER}{number}", shorten(" ".join(label.split()), 80) or ident))


def _refused_rows(definition, question, cell: CellValue) -> list[tuple[str, str]]:
    """(cell reference, message) of each row of a table answer refused on its own ("Not applicable" where the
    question does not offer it, a value not in its columns), in the order of the table."""
    value = cell.value if isinstance(cell.value, dict) else {}
    refused = []
    for row in question.rows:
        if row.id not in cell.rows or row.id not in value:
            continue
        try:
            REGISTRY["matrix"].normalise(question, {row.id: value[row.id]}, definition=definition)
        except AnswerError as exc:
            refused.append((cell.rows[row.id], message_text(exc)))
    return refused


def _typed_in_vain(definition, read: WorkbookRead, before: dict[str, tuple[int, Any]], lang: str
                   ) -> list[tuple[str, str]]:
    """(label, cell) of the note and file cells that hold something else than they were downloaded with: a note's
    cell is empty, a file question's shows the names of the stored files (compared only while the files are
    those of the download: after an upload on the website the cell shows older names)."""
    out = []
    for _section, question in definition.questions():
        if question.id not in read.shown:
            continue
        cell, value = read.shown[question.id]
        shown = "" if value is None else _norm(_cell_text(value))
        if question.type == "file":
            version, stored = before.get(question.id, (0, None))
            if version != read.at_download.get(question.id, (0, ""))[0]:
                continue
            expected = "" if stored in (None, "", []) else _norm(display(definition, question, stored, read.lang))
        else:
            expected = ""
        if shown != expected:
            out.append((tr(question.label, lang, definition.languages[0]), cell))
    untitled = _("a row without a question id in column A")
    return out + [(label or untitled, cell) for cell, label in read.stray]


def _unchanged_since_download(definition, question, raw, at_download: tuple[int, str] | None) -> bool:
    """Whether a cell still holds the value the answer had when the workbook was downloaded."""
    if at_download is None:
        return False
    try:
        value = REGISTRY[question.type].normalise(question, raw, definition=definition)
    except AnswerError:
        return False
    return fingerprint(value) == at_download[1]
