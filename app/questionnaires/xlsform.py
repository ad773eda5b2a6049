"""XLSForm import and export (pure code, no Flask).

`import_xlsform` turns an .xlsx/.xls XLSForm into a schema `Definition`, reporting every part it cannot
carry over with the sheet, the Excel row and the feature; `export_xlsform` writes a `Definition` as an
XLSForm workbook that pyxform converts and that our import reads back to the same definition. The mapping
is documented in questionnaires/README.md, section "XLSForm import and export".
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from app.questionnaires.xlsform_read import (
    GENERATED_LABELS,
    NA_GENERATED,
    NA_ID,
    NA_OPTIONS,
    NA_TYPE,
    REFERENCE_RE,
    RESERVED_NAMES,
    SCALE_LIST,
    SPECIAL_ANSWERS,
    ImportMessage,
    ImportResult,
    WorkbookError,
    XLSFormImporter,
    read_workbook,
)

if TYPE_CHECKING:
    from openpyxl import Workbook

    from app.questionnaires.schema import Definition

__all__ = ["ImportMessage", "ImportResult", "export_xlsform", "export_xlsform_bytes", "import_xlsform",
           "language_header"]


# ---------------------------------------------------------------------------------------------------------
# Import


def import_xlsform(source: bytes | str | os.PathLike | BinaryIO, filename: str | None = None) -> ImportResult:
    """Import an XLSForm (.xlsx or .xls, detected by content) into a Definition, with every loss reported."""
    result = ImportResult()
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        filename = filename or path.name
        try:
            data = path.read_bytes()
        except OSError as exc:
            result.problems.append(ImportMessage("file", None, "file", f"cannot read {path}: {exc.strerror}"))
            return result
    else:
        data = source.read()
    filename = filename or "form.xlsx"
    try:
        workbook = read_workbook(data)
    except WorkbookError as exc:
        result.problems.append(ImportMessage("file", None, "file format", f"{filename}: {exc}"))
        return result
    XLSFormImporter(workbook, filename, result).run()
    return result


# ---------------------------------------------------------------------------------------------------------
# Export

#: Language names written in headers (`label::Русский (ru)`); other codes are written as `xx (xx)`.
LANGUAGE_DISPLAY = {
    "en": "English", "ru": "Русский", "fr": "Français", "es": "Español", "uk": "Українська", "ar": "العربية",
    "de": "Deutsch", "pt": "Português", "zh": "中文", "kk": "Қазақша", "ky": "Кыргызча", "uz": "Oʻzbek",
    "tg": "Тоҷикӣ", "tk": "Türkmen", "tr": "Türkçe", "fa": "فارسی", "ka": "ქართული", "hy": "Հայերեն",
    "az": "Azərbaycan", "ro": "Română", "sw": "Kiswahili", "it": "Italiano",
}


def language_header(code: str) -> str:
    """The header suffix for a language code: `Русский (ru)`."""
    return f"{LANGUAGE_DISPLAY.get(code, code)} ({code})"


class _Exporter:
    """One export run over a definition dict (Definition.to_dict())."""

    def __init__(self, data: dict):
        self.d = data
        self.languages: list[str] = list(data.get("languages") or ["en"])
        self.default = self.languages[0]
        self.survey: list[dict[str, Any]] = []
        self.choices: list[dict[str, Any]] = []
        self.list_by_content: dict[tuple, str] = {}
        self.list_names: set[str] = set()
        questions = [q for s in data.get("sections", []) for q in s.get("questions", [])]
        taken = {q["id"] for q in questions}
        taken.update(f"{q['id']}__{r['id']}" for q in questions for r in q.get("rows", []))
        #: XLSForm names that differ from our ids (pyxform refuses them, or they clash in XLSForm's single
        #: namespace); the id goes into the na_id column and references are renamed.
        self.written: dict[str, str] = {}
        for question in questions:
            if question["id"] in RESERVED_NAMES:
                self.written[question["id"]] = _free_name(f"{question['id']}_question", taken)
        self.section_names: dict[str, str] = {}
        for section in data.get("sections", []):
            ident = section["id"]
            clash = ident in RESERVED_NAMES or ident in taken
            self.section_names[ident] = _free_name(f"{ident}_section", taken) if clash else ident
            taken.add(self.section_names[ident])

    # -- helpers ------------------------------------------------------------------------------------------

    def _refs(self, text: str) -> str:
        """An expression with references to renamed questions (na_id) written with their XLSForm names."""
        if not self.written:
            return text
        return REFERENCE_RE.sub(lambda m: "${" + self.written.get(m.group(1), m.group(1)) + "}", text)

    def _put_text(self, row: dict, base: str, text: Any) -> None:
        if not text:
            return
        if isinstance(text, str):  # a plain text (the default language) goes into the plain column
            row[base] = self._refs(text) if "${" in text else text
            return
        for lang, value in text.items():
            if value:
                row[f"{base}::{language_header(lang)}"] = self._refs(value) if "${" in value else value

    def _choice_list(self, preferred: str, choices: list[dict]) -> str:
        """The name of a choices-sheet list holding these choices (identical lists are shared)."""
        key = tuple((str(c["value"]), tuple(sorted((c.get("label") or {}).items())) if isinstance(
            c.get("label"), dict) else c.get("label"), c.get("score")) for c in choices)
        if key in self.list_by_content:
            return self.list_by_content[key]
        name, counter = preferred, 2
        while name in self.list_names:
            name = f"{preferred}_{counter}"
            counter += 1
        self.list_names.add(name)
        self.list_by_content[key] = name
        for choice in choices:
            row: dict[str, Any] = {"list_name": name, "name": str(choice["value"])}
            self._put_text(row, "label", choice.get("label"))
            if choice.get("score") is not None:
                row["score"] = choice["score"]
            self.choices.append(row)
        return name

    def _generated(self, key: str) -> dict[str, str]:
        texts = GENERATED_LABELS[key]
        return {lang: texts.get(lang, texts["en"]) for lang in self.languages}

    def _specials(self, question: dict) -> list[dict]:
        return [{"value": s, "label": self._generated(s)} for s in SPECIAL_ANSWERS if question.get(s)]

    def _options(self, question: dict, extra: Iterable[str] = ()) -> str:
        return " ".join([*extra, *(s for s in SPECIAL_ANSWERS if question.get(s))])

    def _scale_list_name(self, question: dict) -> str:
        options = self._options(question)
        return SCALE_LIST + ("__" + options.replace(" ", "_") if options else "")

    def _scale_choices(self) -> list[dict]:
        return [{"value": str(level["level"]), "label": level.get("label")}
                for level in self.d.get("scale", [])]

    # -- sheets -------------------------------------------------------------------------------------------

    def build(self):
        """The workbook: survey, choices, settings, scale and indicators sheets."""
        import openpyxl

        for section in self.d.get("sections", []):
            row: dict[str, Any] = {"type": "begin_group", "name": self.section_names[section["id"]]}
            if row["name"] != section["id"]:
                row[NA_ID] = section["id"]
            self._put_text(row, "label", section.get("title"))
            self._put_text(row, "hint", section.get("description"))
            if section.get("show_if"):
                row["relevant"] = self._refs(section["show_if"])
            self.survey.append(row)
            for question in section.get("questions", []):
                self._question(question)
            self.survey.append({"type": "end_group"})
        book = openpyxl.Workbook()
        survey = book.active
        survey.title = "survey"
        self._write(survey, self.survey, self._columns(self.survey, ["type", "name"], ["type", "name"]))
        choices = book.create_sheet("choices")
        fixed = ["list_name", "name"]
        self._write(choices, self.choices, self._columns(self.choices, fixed, fixed))
        settings = book.create_sheet("settings")
        settings_row = {"form_id": self.d["id"], "form_title": _plain(self.d.get("title"), self.default),
                        "default_language": language_header(self.default),
                        "na_languages": " ".join(self.languages)}
        if isinstance(self.d.get("title"), dict):
            self._put_text(settings_row, "na_title", self.d.get("title"))
        self._put_text(settings_row, "na_description", self.d.get("description"))
        self._write(settings, [settings_row], list(settings_row))
        scale_rows = []
        for level in self.d.get("scale", []):
            row = {"level": level["level"]}
            self._put_text(row, "label", level.get("label"))
            self._put_text(row, "description", level.get("description"))
            scale_rows.append(row)
        self._write(book.create_sheet("scale"), scale_rows, self._columns(scale_rows, ["level"], ["level"]))
        indicator_rows = []
        for area in self.d.get("areas", []):
            first: dict[str, Any] = {"area": area["id"], "area_weight": area.get("weight")}
            self._put_text(first, "area_label", area.get("title"))
            self._put_text(first, "area_description", area.get("description"))
            indicators = area.get("indicators") or [{}]
            for position, indicator in enumerate(indicators):
                row = dict(first) if position == 0 else {"area": area["id"]}
                if indicator:
                    row.update({"indicator": indicator["id"], "target": indicator.get("target"),
                                "weight": indicator.get("weight"),
                                "aggregation": indicator.get("aggregation")})
                    self._put_text(row, "label", indicator.get("title"))
                    self._put_text(row, "description", indicator.get("description"))
                indicator_rows.append(row)
        self._write(book.create_sheet("indicators"), indicator_rows,
                    self._columns(indicator_rows, ["area", "area_label", "area_description", "area_weight",
                                                   "indicator", "label", "description", "target", "weight",
                                                   "aggregation"], ["area", "indicator"]))
        return book

    def _columns(self, rows: list[dict], first: list[str], always: Iterable[str] = ()) -> list[str]:
        """Column order: the fixed ones, then every other key in order of appearance (texts by language)."""
        keys: list[str] = list(always)
        for row in rows:
            for key in row:
                if key not in keys:
                    keys.append(key)
        order = {lang: i for i, lang in enumerate(self.languages)}

        def rank(key: str) -> tuple:
            base, _, lang = key.partition("::")
            code = lang[lang.rfind("(") + 1: -1] if lang.endswith(")") else ""
            if base in first:
                position = first.index(base)
            else:
                position = len(first) + min(keys.index(k) for k in keys if k.partition("::")[0] == base)
            return base.startswith("na_") and base not in first, position, order.get(code, len(order))

        return sorted(keys, key=rank)

    def _write(self, sheet, rows: list[dict], columns: list[str]) -> None:
        sheet.append(columns)
        for row in rows:
            sheet.append([_cell(row.get(c)) for c in columns])
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, even when the text starts with "="

    # -- questions ----------------------------------------------------------------------------------------

    def _common(self, row: dict, question: dict) -> None:
        self._put_text(row, "label", question.get("label"))
        self._put_text(row, "hint", question.get("hint"))
        if question.get("required"):
            row["required"] = "yes"
        self._put_text(row, "required_message", question.get("required_message"))
        if question.get("show_if"):
            row["relevant"] = self._refs(question["show_if"])
        if question.get("constraint"):
            row["constraint"] = self._refs(question["constraint"])
        self._put_text(row, "constraint_message", question.get("constraint_message"))
        default = question.get("default")
        if default is not None:
            values = default if isinstance(default, list) else [default]
            row["default"] = " ".join(_number_text(v) if isinstance(v, float) else str(v) for v in values)
        if question.get("appearance"):
            row["appearance"] = question["appearance"]
        if question.get("indicator"):
            row["indicator"] = question["indicator"]
        if question.get("weight") is not None:
            row["weight"] = question["weight"]

    def _question(self, q: dict) -> None:
        kind = q["type"]
        row: dict[str, Any] = {"name": self.written.get(q["id"], q["id"])}
        if row["name"] != q["id"]:
            row[NA_ID] = q["id"]
        self._common(row, q)
        options = self._options(q, ["other"] if q.get("other") else [])
        if kind in ("single_choice", "multiple_choice"):
            name = self._choice_list(q["id"], [*q.get("choices", []), *self._specials(q)])
            row["type"] = f"{'select_one' if kind == 'single_choice' else 'select_multiple'} {name}"
        elif kind == "yes_no":
            scores = q.get("scores") or {}
            values = ["yes", "partly", "no"] if q.get("partly") else ["yes", "no"]
            choices = [{"value": v, "label": self._generated(v), "score": scores.get(v)} for v in values]
            name = self._choice_list("na_yes_no", [*choices, *self._specials(q)])
            row["type"] = f"select_one {name}"
            row[NA_TYPE] = "yes_no"
        elif kind == "scale":
            name = self._choice_list(self._scale_list_name(q), [*self._scale_choices(), *self._specials(q)])
            row["type"] = f"select_one {name}"
            row[NA_TYPE] = "scale"
        elif kind == "number":
            row["type"] = "integer" if q.get("integer") else "decimal"
            self._bounds(row, q, number=True)
            self._put_text(row, "na_unit", q.get("unit"))
            if q.get("thresholds"):
                row["na_thresholds"] = " ".join(f"{_number_text(t['at_least'])}:{_number_text(t['level'])}"
                                                for t in q["thresholds"])
        elif kind in ("text", "long_text"):
            row["type"] = "text"
            if kind == "long_text":
                row[NA_TYPE] = "long_text"
                row["appearance"] = q.get("appearance") or "multiline"
            if q.get("max_length") is not None:
                row["na_max_length"] = q["max_length"]
        elif kind == "date":
            row["type"] = "date"
            self._bounds(row, q, number=False)
        elif kind == "file":
            row["type"] = "file"
            if q.get("file_types"):
                row["body::accept"] = ",".join(f".{t}" for t in q["file_types"])
            if q.get("max_size_mb") is not None:
                row["na_max_size_mb"] = q["max_size_mb"]
        elif kind == "note":
            row["type"] = "note"
        elif kind == "matrix":
            self._matrix(q)
            return
        else:
            raise ValueError(f"question {q['id']}: type {kind!r} has no XLSForm export")
        if options:
            row[NA_OPTIONS] = options
        self.survey.append(row)

    def _bounds(self, row: dict, q: dict, number: bool) -> None:
        low, high = q.get("min"), q.get("max")
        if low is not None:
            row["na_min"] = low
        if high is not None:
            row["na_max"] = high
        if (low is None and high is None) or q.get("constraint"):
            return

        def literal(value):
            if number:
                return _number_text(value)
            return "today()" if value == "today" else f"date('{value}')"

        parts = []
        if low is not None:
            parts.append(f". >= {literal(low)}")
        if high is not None:
            parts.append(f". <= {literal(high)}")
        row["constraint"] = " and ".join(parts)
        row[NA_GENERATED] = "constraint"

    def _matrix(self, q: dict) -> None:
        group: dict[str, Any] = {"type": "begin_group", "name": self.written.get(q["id"], q["id"]),
                                 NA_TYPE: "matrix"}
        if group["name"] != q["id"]:
            group[NA_ID] = q["id"]
        self._common(group, q)
        required = group.pop("required", None)
        group["appearance"] = q.get("appearance") or "field-list"
        if self._options(q):
            group[NA_OPTIONS] = self._options(q)
        self.survey.append(group)
        if q.get("choices"):
            name = self._choice_list(q["id"], [*q["choices"], *self._specials(q)])
        else:
            name = self._choice_list(self._scale_list_name(q), [*self._scale_choices(), *self._specials(q)])
        for matrix_row in q.get("rows", []):
            row = {"type": f"select_one {name}", "name": f"{group['name']}__{matrix_row['id']}"}
            self._put_text(row, "label", matrix_row.get("label"))
            if required:
                row["required"] = "yes"
            if matrix_row.get("indicator"):
                row["indicator"] = matrix_row["indicator"]
            if matrix_row.get("weight") is not None:
                row["weight"] = matrix_row["weight"]
            self.survey.append(row)
        self.survey.append({"type": "end_group"})


def _number_text(value: Any) -> str:
    """1.0 -> "1", 2.5 -> "2.5"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _cell(value: Any) -> Any:
    """A cell value: whole floats as ints (1 rather than 1.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _free_name(name: str, taken: set[str]) -> str:
    candidate, counter = name, 2
    while candidate in taken:
        candidate = f"{name}_{counter}"
        counter += 1
    taken.add(candidate)
    return candidate


def _plain(text: Any, lang: str) -> str:
    if isinstance(text, dict):
        return text.get(lang) or next(iter(text.values()), "")
    return text or ""


def export_xlsform(definition: Definition | dict) -> Workbook:
    """The definition as an XLSForm workbook (openpyxl): survey, choices, settings, scale, indicators."""
    data = definition.to_dict() if hasattr(definition, "to_dict") else definition
    return _Exporter(data).build()


def export_xlsform_bytes(definition: Definition | dict) -> bytes:
    """The definition as .xlsx file content."""
    buffer = io.BytesIO()
    export_xlsform(definition).save(buffer)
    return buffer.getvalue()
