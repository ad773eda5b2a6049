"""Raw data export of a campaign: one row per response, one column per question, as XLSX or CSV.

Layout
- The response's metadata come first: _response_id, _agency_acronym, _agency_name, _country_code, _agency_type,
  _status, _submitted_at (UTC) and _questionnaire_version (a leading "_", which no question id has); then the
  questions in questionnaire order (notes have no column). A generated name equal to an earlier one (an option
  column `q__x` and a question `q__x`) gets a suffix ("q__x_2").
- multiple_choice: by default one 0/1 column per option, named `question__option` (plus
  `question__not_applicable` / `question__dont_know` where the question offers them), all blank when the question
  was not answered; with `multi="joined"` one column holding the selected options joined by "; ".
- matrix: one column per row, named `question__row`.
- Values: choice labels in the chosen language, or the stored codes (`codes=True`). Numbers are numbers and
  dates are dates (real date cells in XLSX, ISO YYYY-MM-DD in CSV); _submitted_at is a date-time in UTC.
- The *Codebook* (a second sheet of the XLSX; `sheet="codebook"` in CSV) describes every column: its name,
  question id, label, type (the questionnaire file's code, such as `single_choice`, or `response` for the
  metadata), kind of values, choices with codes and labels, indicator, show_if, and last the type in words.
  The codes stay in their columns so that a program can rely on them whatever the language (the titles are
  translated: a program reads the codebook by position); the words are added after the others so that no
  column moves.
- Both sheets are named in the export's language ("Data" and "Codebook", «Данные» and «Описание столбцов»).
- Responses pinned to other questionnaire versions are exported with the campaign's version: a question that
  only an older version has is added after the others, and the options and matrix rows of every version are
  offered (labels from the campaign's version where it has them).

Safety
- XLSX: every text is a safe cell (app.reports.cells): a text Excel would take for a formula is stored as a
  string with the quote prefix (`cells.write_only_cell`), characters XML cannot hold are escaped, a text longer
  than Excel's cell limit is cut with a visible marker. A text that cannot be mistaken for a formula is passed
  to openpyxl as the already escaped string, which gives the same cell as `write_only_cell` without creating a
  cell object for it (this keeps the export close to openpyxl's own speed; a test checks the equivalence).
  Texts Excel would read as an error value ("#N/A", "#REF!"...) are kept as text too.
- CSV: UTF-8 with a byte-order mark (so Excel opens Cyrillic correctly), comma-separated, every text in full
  (no cut). A text starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe `'`
  so that a spreadsheet opening the file shows it as text instead of evaluating a formula (CSV injection). This
  applies to every text column, also to a typed "-2"; numbers are written as numbers and never prefixed.
  Otherwise the CSV holds exactly the values of the XLSX.

Memory
- The answers are read from a server-side cursor (`yield_per`, which streams results on PostgreSQL), as plain
  Core rows on the session's connection, ordered by response and question, one response at a time; each row is
  written as soon as its response is complete, so memory stays flat however large the campaign is. Only the
  responses' metadata (one small tuple per response) are loaded at once. Every column has a writer precomputed
  from the questionnaire (labels translated once), so the per-answer work is a dictionary look-up and a store.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import groupby
from operator import itemgetter
from types import SimpleNamespace
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Font
from sqlalchemy import Select, Text, cast, func, select, type_coerce

from app.campaigns.models import Campaign
from app.directory.models import Agency, Country
from app.extensions import db
from app.i18n import _, force_locale
from app.questionnaires.forms import tr
from app.questionnaires.models import QuestionnaireVersion
from app.questionnaires.qtypes import SPECIAL
from app.questionnaires.rendering import SkipLogic
from app.questionnaires.services import definition_of
from app.reports.cells import FORMULA_PREFIXES, cell_text, neutralise, write_only_cell
from app.responses.display import choice_labels, special_label
from app.responses.models import Answer, Response
from app.responses.services import expert_country_ids

#: csv: comma-separated with decimal points (statistics programs, scripts); csv-semicolon: separated by semicolons
#: with decimal commas, as Excel in Russian (and most continental European languages) opens a CSV file.
FORMATS = ("xlsx", "csv", "csv-semicolon")
CSV_FORMATS = ("csv", "csv-semicolon")
MULTI_LAYOUTS = ("columns", "joined")
SHEETS = ("data", "codebook")
#: Separator of the options of a multiple-choice answer in one column.
JOIN = "; "
#: Answers fetched per round trip from the server-side cursor.
BATCH = 5000
#: Names of the metadata columns, in order.
#: They start with "_", which no question id can (as in KoboToolbox's exports), so they never collide with one.
META_COLUMNS = ("_response_id", "_agency_acronym", "_agency_name", "_country_code", "_agency_type", "_status",
                "_submitted_at", "_questionnaire_version")
#: Byte-order mark written at the start of a CSV file.
BOM = "\ufeff"


class ExportError(ValueError):
    """An export was refused; `not_found` when the campaign is outside the actor's scope."""

    def __init__(self, message: str, *, not_found: bool = False):
        super().__init__(message)
        self.not_found = not_found


@dataclass(frozen=True)
class RawOptions:
    """What the person chose: labels or codes, the language, the layout of multiple-choice questions."""

    codes: bool = False
    lang: str | None = None
    multi: str = "columns"


@dataclass
class Column:
    """One column of the export, as the codebook describes it."""

    name: str
    question_id: str
    label: str
    type: str
    #: What the cells hold: "number", "text", "date", "datetime" or "flag" (0/1).
    kind: str
    choices: str = ""
    indicator: str = ""
    show_if: str = ""


# --- how values become cells --------------------------------------------------------------------------


class XlsxValues:
    """Values as cells of a write-only worksheet: texts safe (see the module docstring), dates as dates."""

    def __init__(self, sheet):
        self.sheet = sheet

    def text(self, value: str):
        """A safe text cell: the escaped string, or a string cell with the quote prefix when it looks like a
        formula (or an error value)."""
        escaped = cell_text(value)
        if escaped.startswith(FORMULA_PREFIXES) or value.startswith(FORMULA_PREFIXES) or escaped in ERROR_CODES:
            return write_only_cell(self.sheet, value)
        return escaped

    def date(self, value: str):
        """A stored ISO date as a date cell (an invalid one, or one before 1900 that Excel cannot show, as text)."""
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return self.text(value)
        return day if day.year >= 1900 else self.text(day.isoformat())

    @staticmethod
    def moment(value: datetime | None):
        """A date-time in UTC to the second, without time zone (Excel has none)."""
        return _utc(value)


class CsvValues:
    """Values as CSV fields: texts in full with formula-like ones prefixed by `'`, dates in ISO."""

    @staticmethod
    def text(value: str) -> str:
        """The text, with a leading apostrophe when a spreadsheet would take it for a formula."""
        return neutralise(value)

    def date(self, value: str) -> str:
        """A stored ISO date, checked (an invalid one as text)."""
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            return self.text(value)

    @staticmethod
    def moment(value: datetime | None) -> str | None:
        """A date-time in UTC to the second, ISO 8601 without time zone (as in the XLSX)."""
        value = _utc(value)
        return value.isoformat(sep=" ") if value is not None else None


def _utc(value: datetime | None) -> datetime | None:
    """A stored time (naive UTC, or aware) as naive UTC to the second."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0)


def _other(values, value) -> Any:
    """A value of an unexpected shape (e.g. from an older questionnaire version), as text."""
    if isinstance(value, str):
        return values.text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return values.text(json.dumps(value, ensure_ascii=False))


# --- the questions of every version, merged ------------------------------------------------------------


@dataclass
class _Question:
    """A question as exported: the campaign version's definition of it, with the options and rows of every
    version."""

    question: Any
    definition: Any
    choices: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    not_applicable: bool = False
    dont_know: bool = False
    partly: bool = False

    @property
    def id(self) -> str:
        return self.question.id

    @property
    def type(self) -> str:
        return self.question.type


def _merged_questions(definitions: list) -> list[_Question]:
    """Every answerable question of the definitions (the first is the campaign's), in order, merged by id."""
    merged: dict[str, _Question] = {}
    for definition in definitions:
        for _section, question in definition.questions():
            if question.type == "note":
                continue
            item = merged.get(question.id)
            if item is None:
                item = merged[question.id] = _Question(question, definition)
            known = {c.value for c in item.choices}
            item.choices += [c for c in question.choices or [] if c.value not in known]
            known_rows = {r.id for r in item.rows}
            item.rows += [r for r in question.rows or [] if r.id not in known_rows]
            item.not_applicable |= question.not_applicable
            item.dont_know |= question.dont_know
            item.partly |= question.partly
    return list(merged.values())


# --- the export ----------------------------------------------------------------------------------------


Writer = Callable[[list, Any], None]


def _type_labels() -> dict[str, str]:
    """The codebook's types in words, in the current language (call under force_locale); notes have no column."""
    # i18n: types of question in the codebook of the raw data export ("response": a column about the response,
    # such as its status, not an answer)
    return {"response": _("About the response"), "single_choice": _("One answer from a list"),
            "multiple_choice": _("Several answers from a list"), "yes_no": _("Yes / no"),
            "scale": _("Rating scale"), "number": _("Number"), "text": _("Short text"),
            "long_text": _("Long text"), "date": _("Date"), "matrix": _("Table"), "file": _("File")}


def scoped_responses(campaign: Campaign, actor=None, invitation=None, *, unrestricted: bool = False) -> Select:
    """Ids of the campaign's responses the caller may see: everything for staff (and the CLI, `unrestricted`),
    the agencies of their countries for an expert, the own agency of a respondent's invitation."""
    query = select(Response.id).where(Response.campaign_id == campaign.id)
    role = getattr(actor, "role", None)
    if unrestricted or role in ("staff", "admin"):
        return query
    if role == "expert":
        countries = expert_country_ids(actor)
        # As on the review pages: never a draft, and only campaigns with agencies of the expert's countries.
        if campaign.status == "draft" or not any(agency.country_id in countries for agency in campaign.agencies):
            raise ExportError("not found", not_found=True)
        return query.join(Agency, Agency.id == Response.agency_id).where(Agency.country_id.in_(countries))
    if role == "respondent" and invitation is not None and invitation.campaign_id == campaign.id:
        return query.where(Response.agency_id == invitation.agency_id)
    raise ExportError("not found", not_found=True)


class RawExport:
    """The raw data of one campaign as one actor may see it, with the chosen options; write it with
    `write_xlsx`, `write_csv` or `iter_csv`."""

    def __init__(self, campaign: Campaign, options: RawOptions | None = None, *, actor=None, invitation=None,
                 unrestricted: bool = False, batch: int = BATCH):
        options = options or RawOptions()
        if options.multi not in MULTI_LAYOUTS:
            raise ExportError(f"unknown multiple-choice layout {options.multi!r} (choose {', '.join(MULTI_LAYOUTS)})")
        self.campaign = campaign
        self.definition = definition_of(campaign.version)
        lang = options.lang or self.definition.default_language
        if lang not in self.definition.languages:
            raise ExportError(f"the questionnaire is in {', '.join(self.definition.languages)}, not in {lang!r}")
        self.options = RawOptions(codes=options.codes, lang=lang, multi=options.multi)
        self.lang = lang
        self.batch = batch
        self._scope = scoped_responses(campaign, actor, invitation, unrestricted=unrestricted)
        self.responses = self._load_responses()
        versions = {version_id for *_rest, version_id in self.responses} - {campaign.version_id}
        older = sorted(db.session.scalars(select(QuestionnaireVersion).where(QuestionnaireVersion.id.in_(versions))),
                       key=lambda v: -v.number)
        definitions = [self.definition] + [definition_of(v) for v in older]
        #: version id -> its skip logic: a hidden question's answer is left out, as everywhere
        self._skip_logic = {version_id: SkipLogic(definition) for version_id, definition in zip(
            [campaign.version_id, *(v.id for v in older)], definitions, strict=True)}
        self.questions = _merged_questions(definitions)
        self._version_labels = dict(db.session.execute(
            select(QuestionnaireVersion.id, QuestionnaireVersion.number).where(
                QuestionnaireVersion.id.in_(versions | {campaign.version_id}))).all())
        self._slug = campaign.version.questionnaire.slug
        #: The session the answers are read with (a view streaming a CSV after its request gives its own).
        self.session = db.session
        with force_locale(lang):
            self._texts = self._translated()
            self._label_maps = {item.id: self._choice_labels(item) for item in self.questions
                                if item.type in ("single_choice", "yes_no", "scale", "multiple_choice", "matrix")}
            self.columns = self._columns()

    # --- preparation ---

    def _load_responses(self) -> list[tuple]:
        """(id, acronym, names, country code, kind, status, submitted at, version id) per response, by id."""
        return [tuple(row) for row in db.session.execute(
            select(Response.id, Agency.acronym, Agency.names, Country.code, Agency.kind, Response.status,
                   Response.submitted_at, Response.version_id)
            .join(Agency, Agency.id == Response.agency_id).outerjoin(Country, Country.id == Agency.country_id)
            .where(Response.id.in_(self._scope)).order_by(Response.id))]

    def _translated(self) -> dict[str, Any]:
        """Every interface text the export needs, in the export's language (taken once, in force_locale)."""
        from app.directory.labels import agency_type_labels

        return {
            "specials": {code: special_label(code) for code in SPECIAL},
            "statuses": {"not_started": _("not started"), "in_progress": _("in progress"),
                         "submitted": _("submitted"), "returned": _("returned"), "validated": _("validated")},
            "agency_types": agency_type_labels(),
            "meta": dict(zip(META_COLUMNS, (
                _("Response number"), _("Agency (short name)"), _("Agency"), _("Country code"), _("Type of agency"),
                _("Status of the response"), _("Submitted at (UTC)"), _("Questionnaire version")), strict=True)),
            "values": {"number": _("number"), "text": _("text"), "date": _("date"), "datetime": _("date and time"),
                       "flag": _("0/1"),
                       # a number column of a question that offers "not applicable" / "don't know": their codes
                       # are texts in it
                       "number_or_code": _("number, or the code of a special answer (text)")},
            "selected": _("1 = selected, 0 = not selected, blank = not answered"),
            "codebook": [_("Column"), _("Question id"), _("Label"), _("Type"), _("Values"), _("Choices"),
                         _("Indicator"), _("Shown if"), _("Type of question")],
            # i18n: names of the two sheets of the raw data export (one row per response; one row per column)
            "sheets": {"data": _("Data"), "codebook": _("Codebook")},
            "types": _type_labels(),
        }

    def _choice_labels(self, item: _Question) -> dict[str, str]:
        """{stored value as text: label} of a choice-like question over every version's options, as the
        response pages show them (call under force_locale: yes/no labels are interface texts)."""
        shape = SimpleNamespace(type=item.type, partly=item.partly, choices=item.choices)
        return choice_labels(item.definition, shape, self.lang)

    def _labels(self, item: _Question) -> dict[str, str]:
        """The labels of a choice-like question in the export's language (taken once, at the start)."""
        return self._label_maps[item.id]

    def _tr(self, item: _Question, text) -> str:
        return tr(text, self.lang, item.definition.default_language)

    def _specials(self, item: _Question) -> list[str]:
        return [code for code in SPECIAL if getattr(item, code)]

    def _choice_text(self, item: _Question, labels: dict[str, str]) -> str:
        lines = [f"{code} = {label}" for code, label in labels.items()]
        lines += [f"{code} = {self._texts['specials'][code]}" for code in self._specials(item)]
        return "\n".join(lines)

    def _columns(self) -> list[Column]:
        """Every column in order; also fixes each question's first column (`self._starts`)."""
        texts = self._texts
        columns = [Column(name, "", texts["meta"][name], "response", kind) for name, kind in zip(META_COLUMNS, (
            "number", "text", "text", "text", "text", "text", "datetime", "text"), strict=True)]
        taken = set(META_COLUMNS)

        def unique(name: str) -> str:
            base, n = name, 1
            while name in taken:
                n += 1
                name = f"{base}_{n}"
            taken.add(name)
            return name

        self._starts: dict[str, int] = {}
        for item in self.questions:
            q = item.question
            self._starts[q.id] = len(columns)
            label = self._tr(item, q.label)
            common = {"question_id": q.id, "type": q.type, "indicator": q.indicator or "", "show_if": q.show_if or ""}
            kind = item.type
            if kind == "multiple_choice" and self.options.multi == "columns":
                for choice in item.choices:
                    columns.append(Column(unique(f"{q.id}__{choice.value}"), label=f"{label}: "
                                          f"{self._tr(item, choice.label)}", kind="flag", choices=texts["selected"],
                                          **common))
                for code in self._specials(item):
                    columns.append(Column(unique(f"{q.id}__{code}"), label=f"{label}: {texts['specials'][code]}",
                                          kind="flag", choices=texts["selected"], **common))
            elif kind == "matrix":
                labels = self._labels(item)
                values = "number" if self.options.codes and not item.choices else "text"
                if values == "number" and self._specials(item):
                    values = "number_or_code"
                for row in item.rows:
                    columns.append(Column(unique(f"{q.id}__{row.id}"), label=f"{label}: {self._tr(item, row.label)}",
                                          kind=values, choices=self._choice_text(item, labels),
                                          **{**common, "indicator": row.indicator or q.indicator or ""}))
            else:
                values = {"number": "number", "date": "date"}.get(kind, "text")
                if kind == "scale" and self.options.codes:
                    values = "number"
                if values == "number" and self._specials(item):
                    values = "number_or_code"
                choices = ""
                if kind in ("single_choice", "yes_no", "scale", "multiple_choice"):
                    choices = self._choice_text(item, self._labels(item))
                elif self._specials(item):
                    choices = "\n".join(f"{code} = {texts['specials'][code]}" for code in self._specials(item))
                columns.append(Column(unique(q.id), label=label, kind=values, choices=choices, **common))
        return columns

    # --- writers ---

    def _writers(self, values) -> dict[str, Writer]:
        """{question id: writer(row, value)} that puts a stored value into the row, as `values` makes cells."""
        codes = self.options.codes
        specials_text = self._texts["specials"]
        writers: dict[str, Writer] = {}
        for item in self.questions:
            start = self._starts[item.id]
            specials = {code: values.text(code if codes else specials_text[code]) for code in SPECIAL}
            kind = item.type
            if kind in ("single_choice", "yes_no", "scale"):
                labels = self._labels(item)
                if kind == "scale":
                    table = {int(k): (int(k) if codes else values.text(v)) for k, v in labels.items()}
                else:
                    table = {k: values.text(k if codes else v) for k, v in labels.items()}
                writers[item.id] = _lookup_writer(start, {**table, **specials}, values)
            elif kind == "number":
                writers[item.id] = _number_writer(start, specials, values)
            elif kind == "date":
                writers[item.id] = _text_writer(start, specials, values, values.date)
            elif kind == "multiple_choice" and self.options.multi == "columns":
                writers[item.id] = _flags_writer(start, [c.value for c in item.choices], self._specials(item), values)
            elif kind == "multiple_choice":
                labels = self._labels(item)
                names = {k: (k if codes else v) for k, v in labels.items()}
                writers[item.id] = _joined_writer(start, names, specials, values)
            elif kind == "matrix":
                labels = self._labels(item)
                if item.choices:
                    table = {k: values.text(k if codes else v) for k, v in labels.items()}
                else:
                    table = {int(k): (int(k) if codes else values.text(v)) for k, v in labels.items()}
                writers[item.id] = _matrix_writer({row.id: start + i for i, row in enumerate(item.rows)},
                                                  {**table, **specials}, values)
            elif kind == "file":
                writers[item.id] = _file_writer(start, specials, values)
            else:
                writers[item.id] = _text_writer(start, specials, values, values.text)
        return writers

    def header(self) -> list[str]:
        """The column names."""
        return [column.name for column in self.columns]

    def rows(self, values) -> Iterator[list]:
        """One list of cells per response (made by `values`: XlsxValues or CsvValues), in response id order,
        while the answers are read from the server-side cursor."""
        writers = self._writers(values)
        texts = self._texts
        codes = self.options.codes
        blank = [None] * (len(self.columns) - len(META_COLUMNS))
        statuses = {k: values.text(k if codes else v) for k, v in texts["statuses"].items()}
        kinds = {k: values.text(k if codes else v) for k, v in texts["agency_types"].items()}
        version_labels = {k: values.text(f"{self._slug} v{n}") for k, n in self._version_labels.items()}
        groups = self._answer_groups()
        pending, exhausted = None, False
        try:
            for response_id, acronym, names, country, kind, status, submitted_at, version_id in self.responses:
                names = names or {}
                name = names.get(self.lang) or names.get("en") or names.get("ru") or acronym
                row = [response_id, values.text(acronym), values.text(name), values.text(country or ""),
                       kinds.get(kind) or values.text(kind or ""), statuses.get(status) or values.text(status),
                       values.moment(submitted_at), version_labels.get(version_id), *blank]
                # The next response's answers are read only when its row is made (never one response ahead);
                # answers of a response that appeared after the metadata were read are skipped.
                while not exhausted and (pending is None or pending[0] < response_id):
                    pending = next(groups, None)
                    exhausted = pending is None
                if pending is not None and pending[0] == response_id:
                    _rid, ids, answer_texts = pending
                    pending = None
                    decoded = json.loads("[" + ",".join(map(str, answer_texts)) + "]")
                    skip_logic = self._skip_logic[version_id]
                    hidden = (skip_logic.hidden(dict(zip(ids, decoded, strict=True))) if skip_logic.reads
                              else frozenset())
                    for qid, writer, value in zip(ids, map(writers.get, ids), decoded):  # noqa: B905 - equal
                        if writer is not None and value is not None and qid not in hidden:
                            writer(row, value)
                yield row
        finally:
            groups.close()

    def _answer_groups(self) -> Iterator[tuple[int, tuple[str, ...], tuple]]:
        """(response id, question ids, values as JSON texts) per response, from a server-side cursor.

        Executed on the session's connection as a Core statement: the rows are plain tuples (the ORM's result
        processing would cost more than the rest of the export's own work). On SQLite the JSON column is read as
        it is stored, without a CAST: the column's numeric affinity gives numbers for number values, which are
        their own JSON text once passed through `str`."""
        connection = self.session.connection()
        value = type_coerce(Answer.value, Text) if connection.dialect.name == "sqlite" else cast(Answer.value, Text)
        result = connection.execute(
            select(Answer.response_id, Answer.question_id, func.coalesce(value, "null"))
            .where(Answer.response_id.in_(self._scope))
            .order_by(Answer.response_id, Answer.question_id)
            .execution_options(yield_per=self.batch))
        try:
            for response_id, rows in groupby(result, key=itemgetter(0)):
                _ids, question_ids, texts = zip(*rows, strict=True)
                yield response_id, question_ids, texts
        finally:
            result.close()

    def codebook_header(self) -> list[str]:
        """The codebook's column titles in the export's language."""
        return list(self._texts["codebook"])

    def codebook_rows(self) -> list[list[str]]:
        """One row per column of the data: name, question id, label, type, values, choices, indicator, show_if,
        and the type in words."""
        kinds, types = self._texts["values"], self._texts["types"]
        return [[c.name, c.question_id, c.label, c.type, kinds[c.kind], c.choices, c.indicator, c.show_if,
                 types.get(c.type, c.type)] for c in self.columns]

    def sheet_name(self, sheet: str) -> str:
        """The name of a sheet of the XLSX ("data" or "codebook") in the export's language."""
        return self._texts["sheets"][sheet]

    def filename(self, extension: str, sheet: str = "data", now: datetime | None = None) -> str:
        """A file name saying what and when (UTC), e.g. raw-campaign1-labels-en-2026-11-29T0912.xlsx."""
        stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H%M")
        what = "codebook" if sheet == "codebook" else "raw"
        values = "codes" if self.options.codes else "labels"
        return f"{what}-campaign{self.campaign.id}-{values}-{self.lang}-{stamp}.{extension}"


# --- per-type writers (closures over the column position: no per-cell decisions left) -------------------


def _lookup_writer(position: int, table: dict, values) -> Writer:
    def write(row: list, value) -> None:
        try:
            row[position] = table[value]
        except (KeyError, TypeError):
            row[position] = _other(values, value)

    return write


def _number_writer(position: int, specials: dict, values) -> Writer:
    def write(row: list, value) -> None:
        if value.__class__ is int:
            row[position] = value
        elif value.__class__ is float:
            # 52.0 as 52: PostgreSQL gives back the stored 52.0, SQLite 52; the same answer reads the same in CSV
            row[position] = int(value) if value.is_integer() and abs(value) < 2**53 else value
        elif value.__class__ is str and value in specials:
            row[position] = specials[value]
        else:
            row[position] = _other(values, value)

    return write


def _text_writer(position: int, specials: dict, values, convert: Callable[[str], Any]) -> Writer:
    def write(row: list, value) -> None:
        if value.__class__ is str:
            row[position] = specials[value] if value in specials else convert(value)
        else:
            row[position] = _other(values, value)

    return write


def _file_writer(position: int, specials: dict, values) -> Writer:
    def write(row: list, value) -> None:
        if isinstance(value, dict):
            row[position] = values.text(str(value.get("name", "")))
        elif value.__class__ is str and value in specials:
            row[position] = specials[value]
        else:
            row[position] = _other(values, value)

    return write


def _flags_writer(start: int, options: list[str], special_codes: list[str], values) -> Writer:
    index = {code: start + i for i, code in enumerate(options)}
    special_index = {code: start + len(options) + i for i, code in enumerate(special_codes)}
    option_positions = list(index.values())
    special_positions = list(special_index.values())
    everything = option_positions + special_positions

    def write(row: list, value) -> None:
        if value.__class__ is list:
            for position in everything:
                row[position] = 0
            for code in value:
                position = index.get(code) if code.__class__ is str else None
                if position is not None:
                    row[position] = 1
        elif value.__class__ is str and value in special_index:
            for position in special_positions:
                row[position] = 0
            row[special_index[value]] = 1
        elif everything:
            row[start] = _other(values, value)

    return write


def _joined_writer(position: int, names: dict[str, str], specials: dict, values) -> Writer:
    cache: dict[tuple, Any] = {}

    def write(row: list, value) -> None:
        if value.__class__ is list:
            key = tuple(str(code) for code in value)
            cell = cache.get(key)
            if cell is None:
                cell = cache[key] = values.text(JOIN.join(names.get(code, code) for code in key))
            row[position] = cell
        elif value.__class__ is str and value in specials:
            row[position] = specials[value]
        else:
            row[position] = _other(values, value)

    return write


def _matrix_writer(positions: dict[str, int], table: dict, values) -> Writer:
    first = min(positions.values()) if positions else None

    def write(row: list, value) -> None:
        if value.__class__ is str and value in SPECIAL:
            # "Not applicable" / "don't know" for the whole table: the answer of every row, as the scores count it
            for position in positions.values():
                row[position] = table[value]
        elif value.__class__ is dict:
            for row_id, cell in value.items():
                position = positions.get(row_id)
                if position is None or cell is None:
                    continue
                try:
                    row[position] = table[cell]
                except (KeyError, TypeError):
                    row[position] = _other(values, cell)
        elif first is not None:
            row[first] = _other(values, value)

    return write


# --- files ---------------------------------------------------------------------------------------------


def write_xlsx(export: RawExport, target: str | IO[bytes]) -> None:
    """Write the export as an XLSX workbook (a Data and a Codebook sheet) in openpyxl's write-only mode."""
    workbook = Workbook(write_only=True)
    data = workbook.create_sheet(export.sheet_name("data"))
    codebook = workbook.create_sheet(export.sheet_name("codebook"))
    bold = Font(bold=True)

    def header(sheet, titles: list[str]) -> list:
        cells = []
        for title in titles:
            cell = XlsxValues(sheet).text(title)
            cell = cell if isinstance(cell, Cell) else WriteOnlyCell(sheet, value=cell)
            cell.font = bold
            cells.append(cell)
        return cells

    data.freeze_panes = "A2"
    data.append(header(data, export.header()))
    values = XlsxValues(data)
    for row in export.rows(values):
        data.append(row)
    codebook.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHI", (28, 20, 60, 16, 12, 50, 16, 30, 24), strict=True):
        codebook.column_dimensions[letter].width = width
    codebook.append(header(codebook, export.codebook_header()))
    book_values = XlsxValues(codebook)
    for row in export.codebook_rows():
        codebook.append([book_values.text(v) if v else None for v in row])
    workbook.save(target)


def _decimal_comma(row: list) -> list:
    return [repr(v).replace(".", ",") if isinstance(v, float) else v for v in row]


def iter_csv(export: RawExport, sheet: str = "data", rows_per_chunk: int = 200, *,
             semicolons: bool = False) -> Iterator[bytes]:
    """The data (or the codebook) as CSV: UTF-8 with a byte-order mark, in chunks of bytes for streaming;
    with `semicolons`, fields separated by ";" and numbers with a decimal comma (Excel in Russian)."""
    if sheet not in SHEETS:
        raise ExportError(f"unknown sheet {sheet!r} (choose {', '.join(SHEETS)})")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if semicolons else ",")
    values = CsvValues()
    buffer.write(BOM)
    if sheet == "codebook":
        writer.writerow([values.text(v) for v in export.codebook_header()])
        writer.writerows([[values.text(v) for v in row] for row in export.codebook_rows()])
        yield buffer.getvalue().encode("utf-8")
        return
    writer.writerow([values.text(v) for v in export.header()])
    for n, row in enumerate(export.rows(values), 1):
        writer.writerow(_decimal_comma(row) if semicolons else row)
        if n % rows_per_chunk == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def write_csv(export: RawExport, target: str | IO[bytes], sheet: str = "data", *, semicolons: bool = False) -> None:
    """Write the data (or the codebook) as a CSV file (see `iter_csv`)."""
    if isinstance(target, str):
        with open(target, "wb") as handle:
            for chunk in iter_csv(export, sheet, semicolons=semicolons):
                handle.write(chunk)
        return
    for chunk in iter_csv(export, sheet, semicolons=semicolons):
        target.write(chunk)
