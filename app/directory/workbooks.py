"""The directory workbook: the Excel template staff fill in, and reading it back for the bulk import.

Pure code (openpyxl and email-validator; no Flask, no database). `build_template` makes the workbook;
`read_directory` turns uploaded bytes into agency and contact rows plus every problem found, each located
by sheet, row and column; the services decide what the rows change in the database.

Sheet names, column headings and instructions are written here in English and Russian rather than in the
translation catalogues: they are the file format, and the importer recognises both languages whatever the
interface language is. Labels of codes (countries, agency types, languages) come from the caller, already
translated. Problems carry a code and parameters; the caller turns them into sentences (labels.py).
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname, range_boundaries
from openpyxl.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.xml.functions import iterparse

from app.directory.values import (
    MAX_ACRONYM,
    MAX_AGENCY_NAME,
    MAX_CONTACT_NAME,
    MAX_EMAIL,
    MAX_PHONE,
    MAX_POSITION,
    EmailError,
    clean_text,
    normalise_email,
    parse_yes_no,
)
from app.reports.cells import has_formulas, looks_like_formula, neutralise, read_text, unneutralise

#: Languages the template can be written in (its sheet names, headings and instructions).
TEMPLATE_LANGUAGES = ("en", "ru")
#: Largest file the import reads, and the most its ZIP may unpack to (a guard against ZIP bombs).
MAX_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
#: Most non-blank data rows read per sheet.
MAX_ROWS = 5000
#: Rows of the template that get the drop-down lists (more when it is filled with many rows).
TEMPLATE_ROWS = 1000

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
#: Names of the streams an Office file encrypted with a password is made of (UTF-16 in the OLE2 directory).
ENCRYPTION_MARKERS = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))

SHEET_NAMES = {
    "instructions": {"en": "Instructions", "ru": "Инструкция"},
    "agencies": {"en": "Agencies", "ru": "Ведомства"},
    "contacts": {"en": "Contacts", "ru": "Контакты"},
    "lists": {"en": "Lists", "ru": "Списки"},
}
#: Sheet names the importer accepts (compared after normalising case and spaces).
SHEET_ALIASES = {
    "agencies": ("agencies", "agency", "ведомства", "ведомство", "организации"),
    "contacts": ("contacts", "contact", "контакты", "контактные лица"),
}

#: Column headings written in the template, by column key and language.
HEADINGS = {
    "agencies": {
        "country": {"en": "Country", "ru": "Страна"},
        "acronym": {"en": "Acronym", "ru": "Аббревиатура"},
        "kind": {"en": "Type", "ru": "Тип"},
        "active": {"en": "Active", "ru": "Активно"},
    },
    "contacts": {
        "agency_country": {"en": "Agency country", "ru": "Страна ведомства"},
        "agency_acronym": {"en": "Agency acronym", "ru": "Аббревиатура ведомства"},
        "name": {"en": "Name", "ru": "ФИО"},
        "position": {"en": "Position", "ru": "Должность"},
        "email": {"en": "E-mail", "ru": "Эл. почта"},
        "phone": {"en": "Phone", "ru": "Телефон"},
        "language": {"en": "Language", "ru": "Язык"},
        "focal_point": {"en": "Focal point", "ru": "Основное контактное лицо"},
        "active": {"en": "Active", "ru": "Активен"},
    },
}
#: Agency names have one column per language: "Name (en)", "Название (ru)".
NAME_HEADING = {"en": "Name ({code})", "ru": "Название ({code})"}
NAME_HEADING_RE = re.compile(r"^(?:name|название|наименование)\s*\(\s*([a-z]{2,3})\s*\)$")

#: Further headings the importer accepts, besides those of HEADINGS (after normalising case and spaces).
HEADING_ALIASES = {
    "agencies": {
        "country": ("country code", "код страны"),
        "acronym": ("abbreviation", "short name", "сокращение", "краткое название"),
        "kind": ("agency type", "kind", "тип ведомства"),
        "active": ("активен", "активна", "действует"),
    },
    "contacts": {
        "agency_country": ("country", "страна"),
        "agency_acronym": ("agency", "acronym", "ведомство", "аббревиатура"),
        "name": ("full name", "имя", "ф.и.о."),
        "position": ("job title", "title"),
        "email": ("email", "e-mail address", "email address", "электронная почта", "эл.почта", "e-mail"),
        "phone": ("telephone", "phone number", "номер телефона"),
        "language": ("preferred language", "язык переписки"),
        "focal_point": ("focal", "координатор", "контактное лицо"),
        "active": ("активно", "действует"),
    },
}
#: Columns without which a sheet cannot be read.
REQUIRED_COLUMNS = {
    "agencies": ("country", "acronym"),
    "contacts": ("agency_country", "agency_acronym", "name", "email"),
}

YES_NO = {"en": ("yes", "no"), "ru": ("да", "нет")}

LISTS_HEADINGS = {
    "en": ("Country code", "Country", "Type code", "Type", "Language code", "Language", "Yes / no"),
    "ru": ("Код страны", "Страна", "Код типа", "Тип", "Код языка", "Язык", "Да / нет"),
}
DROPDOWN_ERROR = {
    "en": ("Not in the list", "Choose a value from the list (see the sheet “{lists}”)."),
    "ru": ("Нет в списке", "Выберите значение из списка (см. лист «{lists}»)."),
}

INSTRUCTIONS = {
    "en": {
        "title": "Partner directory: agencies and contacts",
        "lines": [
            "Fill in the sheet “{agencies}” (one row per agency) and the sheet “{contacts}” (one row per contact "
            "person), then upload the file on the Directory › Import page, or run “flask directory import FILE.xlsx”.",
            "An agency is identified by its country and acronym, a contact by their e-mail address. A row that "
            "matches an agency or contact already in the directory updates it; any other row adds a new one. "
            "Nothing is ever deleted: to take an agency or a contact out of use, write “no” under “Active”.",
            "Leave the country empty for a regional body that belongs to no single country (for example RATS SCO).",
            "Required on “{agencies}”: {agency_required}, and a name in at least one language.",
            "Required on “{contacts}”: {contact_required}. The contact's agency must be on the sheet "
            "“{agencies}” or already in the directory.",
            "An empty optional cell leaves the stored value unchanged. New agencies are active unless “Active” says "
            "no; a new contact's language is {default_language} unless “Language” says otherwise.",
            "Countries, agency types and languages are written as codes; the codes are listed on the sheet "
            "“{lists}”. Yes/no columns take yes or no (да or нет).",
            "The file is checked as a whole first: if any row has a problem, nothing is imported, and every problem "
            "is listed with its sheet, row and column. Importing the same file again changes nothing.",
            "Sheet names and column headings may be in English or Russian; do not rename them otherwise. Columns "
            "may be moved; extra columns with a heading of their own are ignored, values under no heading are "
            "refused.",
        ],
    },
    "ru": {
        "title": "Справочник партнёров: ведомства и контактные лица",
        "lines": [
            "Заполните лист «{agencies}» (одна строка на ведомство) и лист «{contacts}» (одна строка на контактное "
            "лицо), затем загрузите файл на странице «Справочник › Импорт» или выполните "
            "«flask directory import ФАЙЛ.xlsx».",
            "Ведомство определяется страной и аббревиатурой, контактное лицо — адресом эл. почты. Строка, "
            "совпадающая с уже имеющимся ведомством или контактом, обновляет его; любая другая строка добавляет "
            "новую запись. Ничего не удаляется: чтобы исключить ведомство или контакт, укажите «нет» в столбце "
            "«Активно» / «Активен».",
            "Для регионального органа, не относящегося к одной стране (например, РАТС ШОС), оставьте страну пустой.",
            "Обязательно на листе «{agencies}»: {agency_required} и название хотя бы на одном языке.",
            "Обязательно на листе «{contacts}»: {contact_required}. Ведомство контактного лица должно быть на "
            "листе «{agencies}» или уже в справочнике.",
            "Пустая необязательная ячейка оставляет сохранённое значение без изменений. Новые ведомства активны, "
            "если в столбце «Активно» не указано «нет»; язык нового контакта — {default_language}, если в столбце "
            "«Язык» не указано иное.",
            "Страны, типы ведомств и языки указываются кодами; коды перечислены на листе «{lists}». В столбцах "
            "«да/нет» пишите да или нет (yes или no).",
            "Сначала проверяется весь файл: если в какой-либо строке есть ошибка, ничего не импортируется, а каждая "
            "ошибка указывается с листом, строкой и столбцом. Повторный импорт того же файла ничего не меняет.",
            "Названия листов и заголовки столбцов могут быть на русском или английском языке; иначе их не "
            "переименовывайте. Столбцы можно переставлять; лишние столбцы со своим заголовком не учитываются, "
            "значения без заголовка столбца не принимаются.",
        ],
    },
}

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_FONT = Font(bold=True)


# ---------------------------------------------------------------------------------------------------------
# Rows and problems


@dataclass
class AgencyRow:
    """An agency as written on the sheet; None means the cell was empty (keep the stored value)."""

    country: str  # ISO code, "" for a regional body
    acronym: str
    kind: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    is_active: bool | None = None
    row: int = 0

    @property
    def key(self) -> tuple[str, str]:
        """(country code, acronym case-folded): how an agency is matched."""
        return agency_key(self.country, self.acronym)


@dataclass
class ContactRow:
    """A contact as written on the sheet; None means the cell was empty (keep the stored value)."""

    agency_country: str
    agency_acronym: str
    name: str
    email: str
    position: str | None = None
    phone: str | None = None
    locale: str | None = None
    is_focal_point: bool | None = None
    is_active: bool | None = None
    row: int = 0

    @property
    def agency_key(self) -> tuple[str, str]:
        """The key of the contact's agency."""
        return agency_key(self.agency_country, self.agency_acronym)


def agency_key(country: str | None, acronym: str) -> tuple[str, str]:
    """The key agencies are matched by: country code ("" for regional bodies) and case-folded acronym."""
    return (country or "").upper(), clean_text(acronym).casefold()


@dataclass
class Problem:
    """One thing wrong with the file: a code with parameters, and where (sheet, row and column as written)."""

    code: str
    sheet: str = ""
    row: int | None = None
    column: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        where = ", ".join(x for x in (self.sheet, f"row {self.row}" if self.row else "",
                                      f"column {self.column}" if self.column else "") if x)
        return f"{where}: {self.code} {self.params}" if where else f"{self.code} {self.params}"


@dataclass
class DirectoryFile:
    """What a workbook holds: its agency and contact rows (when every row is right) and every problem."""

    agencies: list[AgencyRow] = field(default_factory=list)
    contacts: list[ContactRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


# ---------------------------------------------------------------------------------------------------------
# Vocabulary: what codes the cells may hold


def _norm(text: str) -> str:
    """A heading or code compared loosely: case, spaces, invisible characters, a trailing * or :, and ё are
    ignored."""
    text = clean_text(str(text)).replace("ё", "е").replace("Ё", "Е")
    return text.rstrip("*: ").strip().casefold()


class Vocabulary:
    """Known countries, agency types and languages: code -> names or labels also accepted in a cell."""

    def __init__(self, countries: Mapping[str, Iterable[str]], kinds: Mapping[str, Iterable[str]],
                 languages: Mapping[str, Iterable[str]]):
        self.countries = sorted(countries)
        self.kinds = list(kinds)
        self.languages = list(languages)
        self._index = {
            "country": self._build({code.upper(): names for code, names in countries.items()}),
            "kind": self._build(kinds),
            "language": self._build(languages),
        }

    @staticmethod
    def _build(table: Mapping[str, Iterable[str]]) -> dict[str, str]:
        index: dict[str, str] = {}
        for code, aliases in table.items():
            for alias in aliases:
                if alias:
                    index.setdefault(_norm(alias), code)
        for code in table:  # codes win over names
            index[_norm(code)] = code
        return index

    def lookup(self, what: str, text: str) -> str | None:
        """The code a cell names ("country", "kind" or "language"), or None."""
        return self._index[what].get(_norm(text))


# ---------------------------------------------------------------------------------------------------------
# Writing


def agency_headings(lang: str, name_languages: Sequence[str]) -> list[tuple[str, str]]:
    """(column key, heading) of the Agencies sheet; name columns have keys "name:<code>"."""
    h = HEADINGS["agencies"]
    return ([("country", h["country"][lang]), ("acronym", h["acronym"][lang]), ("kind", h["kind"][lang])]
            + [(f"name:{code}", NAME_HEADING[lang].format(code=code)) for code in name_languages]
            + [("active", h["active"][lang])])


def contact_headings(lang: str) -> list[tuple[str, str]]:
    """(column key, heading) of the Contacts sheet."""
    return [(key, text[lang]) for key, text in HEADINGS["contacts"].items()]


def build_template(lang: str, countries: Sequence[tuple[str, str]], kinds: Sequence[tuple[str, str]],
                   locales: Sequence[tuple[str, str]], agencies: Sequence[AgencyRow] = (),
                   contacts: Sequence[ContactRow] = (), default_locale: str = "ru") -> Workbook:
    """The directory template in `lang` (en or ru), optionally filled with agencies and contacts.

    `countries`, `kinds` and `locales` are (code, label) pairs for the drop-down lists and the "Lists"
    sheet; labels should already be in `lang`. Texts that come from people are neutralised.
    """
    lang = lang if lang in TEMPLATE_LANGUAGES else "en"
    names = {key: value[lang] for key, value in SHEET_NAMES.items()}
    name_languages = [code for code, _label in locales]
    name_languages += sorted({code for a in agencies for code in a.names} - set(name_languages))
    yes, no = YES_NO[lang]

    book = Workbook()
    instructions = book.active
    instructions.title = names["instructions"]
    sheet_a = book.create_sheet(names["agencies"])
    sheet_c = book.create_sheet(names["contacts"])
    lists = book.create_sheet(names["lists"])

    a_headings = agency_headings(lang, name_languages)
    c_headings = contact_headings(lang)
    _write_instructions(instructions, lang, names, a_headings, c_headings, default_locale)

    def flag(value: bool | None) -> str:
        return "" if value is None else (yes if value else no)

    a_rows = []
    for agency in agencies:
        row = {"country": agency.country, "acronym": agency.acronym, "kind": agency.kind or "",
               "active": flag(agency.is_active)}
        row.update({f"name:{code}": text for code, text in agency.names.items()})
        a_rows.append([row.get(key, "") for key, _heading in a_headings])
    c_rows = [[c.agency_country, c.agency_acronym, c.name, c.position or "", c.email, c.phone or "", c.locale or "",
               flag(c.is_focal_point), flag(c.is_active)] for c in contacts]
    _write_table(sheet_a, [h for _key, h in a_headings], a_rows)
    _write_table(sheet_c, [h for _key, h in c_headings], c_rows)
    sheet_c.column_dimensions[_letter(c_headings, "phone")].number_format = "@"  # typed numbers stay text

    columns = _write_lists(lists, lang, countries, kinds, locales)
    last_a = max(TEMPLATE_ROWS, len(a_rows) + 200) + 1
    last_c = max(TEMPLATE_ROWS, len(c_rows) + 200) + 1
    error = (DROPDOWN_ERROR[lang][0], DROPDOWN_ERROR[lang][1].format(lists=names["lists"]))
    dropdowns = [
        (sheet_a, _letter(a_headings, "country"), "country", last_a),
        (sheet_a, _letter(a_headings, "kind"), "kind", last_a),
        (sheet_a, _letter(a_headings, "active"), "yes_no", last_a),
        (sheet_c, _letter(c_headings, "agency_country"), "country", last_c),
        (sheet_c, _letter(c_headings, "language"), "language", last_c),
        (sheet_c, _letter(c_headings, "focal_point"), "yes_no", last_c),
        (sheet_c, _letter(c_headings, "active"), "yes_no", last_c),
    ]
    for sheet, letter, what, last in dropdowns:
        values, reference = columns[what]
        _add_dropdown(sheet, f"{letter}2:{letter}{last}", values, reference, error)
    book.active = 0
    return book


def _letter(headings: list[tuple[str, str]], key: str) -> str:
    return get_column_letter([k for k, _h in headings].index(key) + 1)


def _write_table(sheet, headings: list[str], rows: list[list[Any]]) -> None:
    sheet.append(headings)
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=number, column=column, value=value)
            if isinstance(value, str) and looks_like_formula(value):
                # kept as the text it is, shown without the apostrophe people would see if it were part of the
                # value: Excel's own "quote prefix", as when someone types '+7 701 in a cell
                cell.data_type, cell.quotePrefix = "s", True
    sheet.freeze_panes = "A2"
    for index, heading in enumerate(headings, start=1):
        widest = max([len(heading)] + [len(str(r[index - 1] or "")) for r in rows[:500]])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(12, widest + 2), 60)


def _write_instructions(sheet, lang: str, names: dict[str, str], a_headings, c_headings,
                        default_locale: str) -> None:
    text = INSTRUCTIONS[lang]
    a = dict(a_headings)
    c = dict(c_headings)
    quote = "«{}»" if lang == "ru" else "“{}”"
    values = {
        "agencies": names["agencies"], "contacts": names["contacts"], "lists": names["lists"],
        "agency_required": quote.format(a["acronym"]),
        "contact_required": ", ".join(quote.format(c[k]) for k in ("agency_acronym", "name", "email")),
        "default_language": default_locale,
    }
    sheet["A1"] = text["title"]
    sheet["A1"].font = Font(bold=True, size=14)
    for number, line in enumerate(text["lines"], start=3):
        sheet.cell(row=number, column=1, value=f"{number - 2}. " + line.format(**values))
        sheet.cell(row=number, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 120


def _write_lists(sheet, lang: str, countries, kinds, locales) -> dict[str, tuple[list[str], str]]:
    """Write the code lists side by side; return for each list its values and a reference to its cells."""
    sheet.append(list(LISTS_HEADINGS[lang]))
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    tables = {
        "country": (1, [(c.upper(), n) for c, n in countries]),
        "kind": (3, list(kinds)),
        "language": (5, list(locales)),
        "yes_no": (7, [(v, None) for v in YES_NO[lang]]),
    }
    result = {}
    for what, (column, pairs) in tables.items():
        for number, (code, label) in enumerate(pairs, start=2):
            sheet.cell(row=number, column=column, value=neutralise(code))
            if label is not None:
                sheet.cell(row=number, column=column + 1, value=neutralise(str(label)))
        letter = get_column_letter(column)
        reference = f"{quote_sheetname(sheet.title)}!${letter}$2:${letter}${max(2, len(pairs) + 1)}"
        result[what] = ([code for code, _label in pairs], reference)
    for index in range(1, 8):
        sheet.column_dimensions[get_column_letter(index)].width = 14 if index % 2 else 34
    sheet.freeze_panes = "A2"
    return result


def _add_dropdown(sheet, cells: str, values: list[str], reference: str, error: tuple[str, str]) -> None:
    """A list validation: the values written inline when they fit (most portable), else a cell reference."""
    inline = ",".join(values)
    simple = all(re.fullmatch(r"[\w.\- ]+", v) for v in values)
    formula = f'"{inline}"' if values and simple and len(inline) <= 250 else reference
    validation = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True,
                                errorTitle=error[0], error=error[1])
    validation.add(cells)
    sheet.add_data_validation(validation)


# ---------------------------------------------------------------------------------------------------------
# Reading


def check_container(data: bytes) -> Problem | None:
    """Refuse what is not an .xlsx workbook before opening it: too large, empty, encrypted, .xls, other files."""
    if len(data) > MAX_BYTES:
        return Problem("too_large", params={"limit_mb": MAX_BYTES // (1024 * 1024)})
    if not data:
        return Problem("empty_file")
    if data.startswith(OLE2_MAGIC):
        if any(marker in data for marker in ENCRYPTION_MARKERS):
            return Problem("encrypted")
        return Problem("old_format")
    if not data.startswith(ZIP_MAGIC):
        return Problem("not_workbook")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return Problem("damaged")
    names = {m.filename for m in members}
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        return Problem("not_workbook")
    if "xl/workbook.bin" in names and "xl/workbook.xml" not in names:
        return Problem("binary_format")
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        return Problem("too_large_unpacked", params={"limit_mb": MAX_UNPACKED_BYTES // (1024 * 1024)})
    return None


@dataclass
class _Table:
    """A sheet read into memory: its name, headings (column index, text) and non-blank rows."""

    sheet: str
    headings: list[tuple[int, str]]
    rows: list[tuple[int, tuple]]
    #: Number of the headings' row.
    header_row: int = 0
    #: Merged ranges that hide values (a merged range reads as its first cell and empty cells): the column
    #: indexes each covers, and the problem to report when one of them is read.
    merged: list[tuple[range, Problem]] = field(default_factory=list)


def read_directory(data: bytes, vocabulary: Vocabulary, existing_agencies: Collection[tuple[str, str]] = (),
                   account_emails: Collection[str] = ()) -> DirectoryFile:
    """Read and check a directory workbook; every problem is listed, and rows are returned only when there is none.

    `existing_agencies` holds the keys (see `agency_key`) of the agencies already in the directory, which
    contacts may refer to without listing them on the Agencies sheet. `account_emails` are the addresses of
    staff, expert and administrator accounts, which no contact may have (their links could not sign in).
    """
    result = DirectoryFile()
    problem = check_container(data)
    if problem:
        result.problems.append(problem)
        return result
    try:
        tables = _read_tables(data)
    except Exception as exc:  # openpyxl raises many kinds of errors on damaged files
        result.problems.append(Problem("damaged", params={"detail": type(exc).__name__}))
        return result
    if isinstance(tables, list):
        result.problems.extend(tables)
        return result
    reader = _Reader(vocabulary, existing_agencies, result.problems, account_emails)
    agencies = reader.agencies(tables["agencies"]) if "agencies" in tables else []
    contacts = reader.contacts(tables["contacts"]) if "contacts" in tables else []
    if not result.problems:
        result.agencies, result.contacts = agencies, contacts
    return result


def _read_tables(data: bytes) -> dict[str, _Table] | list[Problem]:
    """The Agencies and Contacts sheets, or the problems that stop the file from being read at all."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about Excel features it does not keep
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        found: dict[str, str] = {}
        problems = []
        others = {_norm(SHEET_NAMES[w][lang]) for w in ("instructions", "lists") for lang in TEMPLATE_LANGUAGES}
        for name in book.sheetnames:
            what = next((w for w, aliases in SHEET_ALIASES.items() if _norm(name) in aliases), None)
            if what is None:
                # A table under another name ("Agencies (2)", a copied sheet) would be skipped without a word
                # while the other sheet is read: say so.
                like = None if _norm(name) in others else _looks_like(book[name])
                if like is not None:
                    problems.append(Problem("renamed_sheet", sheet=name, params={
                        "sheet": name, "expected": " / ".join(SHEET_NAMES[like][lang] for lang in TEMPLATE_LANGUAGES)}))
                continue
            if what in found:  # reading only one of them would silently drop the rows of the other
                problems.append(Problem("duplicate_sheet", sheet=name, params={"first": found[what], "sheet": name}))
            else:
                found[what] = name
        if problems:
            return problems
        if not found:
            expected = [SHEET_NAMES[w][lang] for w in ("agencies", "contacts") for lang in TEMPLATE_LANGUAGES]
            return [Problem("no_sheets", params={"expected": ", ".join(expected),
                                                 "found": ", ".join(book.sheetnames)})]
        tables = {}
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for what, name in found.items():
                sheet = book[name]
                table = _read_table(sheet, name, what)
                if isinstance(table, Problem):
                    return [table]
                # openpyxl's path of the sheet's XML part (it resolved the workbook's relationships already)
                table.merged = _merge_problems(table, _merged_ranges(archive, sheet._worksheet_path))
                tables[what] = table
        if has_formulas(data, [book[t.sheet]._worksheet_path for t in tables.values()]):
            problems = _unsaved_formulas(data, book, list(tables.values()))
            if problems:
                return problems
        return tables
    finally:
        book.close()


def _unsaved_formulas(data: bytes, book, tables: list[_Table]) -> list[Problem]:
    """A problem for each cell of the tables holding a formula without a saved result: read as empty, it would
    lose a value without a word (or a whole row). Excel and LibreOffice save the result with the formula;
    programs that write workbooks may not. `book` is the file opened for its values."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        formulas = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    problems = []
    try:
        for table in tables:
            width = (table.headings[-1][0] + 1 if table.headings else 0) + EXTRA_COLUMNS
            headings = dict(table.headings)
            rows = zip(book[table.sheet].iter_rows(max_col=width),
                       formulas[table.sheet].iter_rows(max_col=width), strict=False)
            for number, (results, cells) in enumerate(rows, start=1):
                for index, cell in enumerate(cells):
                    if getattr(cell, "data_type", None) != "f":
                        continue
                    result = results[index] if index < len(results) else None
                    value, kind = getattr(result, "value", None), getattr(result, "data_type", None)
                    formula = str(getattr(cell.value, "text", cell.value))[:100]
                    column = headings.get(index, get_column_letter(index + 1))
                    if kind == "e":  # #N/A, #REF!...: the formula's saved result is an error, not a value
                        problems.append(Problem("formula_error", sheet=table.sheet, row=number, column=column,
                                                params={"formula": formula, "error": str(value)}))
                    # a saved text result that is empty (IF(...; ""; ...)) is written t="str" with an empty value:
                    # an empty cell, not a result left unsaved
                    elif _is_blank(value) and kind != "s" and kind != "str":
                        problems.append(Problem("unsaved_formula", sheet=table.sheet, row=number, column=column,
                                                params={"formula": formula}))
    finally:
        formulas.close()
    return problems


def _looks_like(sheet) -> str | None:
    """"agencies" or "contacts" when the first non-blank row of a sheet (within its first rows and columns) has
    the required headings of that table, else None (also for a chart sheet, which has no cells)."""
    if not hasattr(sheet, "iter_rows"):
        return None
    for values in sheet.iter_rows(max_row=HEADING_SEARCH_ROWS, max_col=HEADING_SEARCH_COLUMNS, values_only=True):
        if all(_is_blank(v) for v in values):
            continue
        found = {_norm(clean_text(str(v))) for v in values if not _is_blank(v)}
        for what in ("agencies", "contacts"):
            keys = {_accepted_headings(what).get(text) for text in found}
            if all(key in keys for key in REQUIRED_COLUMNS[what]):
                return what
        return None
    return None


#: How far `_looks_like` looks for a table's headings on a sheet of another name.
HEADING_SEARCH_ROWS, HEADING_SEARCH_COLUMNS = 20, 40
#: Columns read past the last heading, to find values typed under no heading (`_read_table`).
EXTRA_COLUMNS = 5


def _merged_ranges(archive: zipfile.ZipFile, path: str) -> list[str]:
    """The merged ranges ("A2:A4") of a worksheet, read from its XML: read-only worksheets do not expose them,
    and loading the whole workbook normally for them would take far more memory. Streamed, keeping no rows;
    the XML is parsed only when its bytes mention merged cells at all (a quick scan)."""
    if not _mentions(archive, path, b"mergeCell"):
        return []
    ranges: list[str] = []
    rows_parent = None
    with archive.open(path) as source:
        for event, element in iterparse(source, events=("start", "end")):
            tag = element.tag.rpartition("}")[2]
            if event == "start":
                if tag == "sheetData":
                    rows_parent = element
            elif tag == "mergeCell" and element.get("ref"):
                ranges.append(element.get("ref"))
            elif tag == "row" and rows_parent is not None:
                rows_parent.clear()
    return ranges


def _mentions(archive: zipfile.ZipFile, path: str, needle: bytes) -> bool:
    """Whether the unpacked member holds these bytes (read in chunks)."""
    tail = b""
    with archive.open(path) as source:
        while chunk := source.read(1 << 20):
            if needle in tail + chunk[:len(needle)] or needle in chunk:
                return True
            tail = chunk[-len(needle):]
    return False


def _merge_problems(table: _Table, ranges: Iterable[str]) -> list[tuple[range, Problem]]:
    """A problem for each merged range that hides values of the table, with the columns it covers: Excel keeps
    only the first cell's value, so "KZ" merged over three rows reads as KZ and two empty cells (two regional
    bodies)."""
    if not table.headings:
        return []
    width = table.headings[-1][0] + 1
    headings = dict(table.headings)
    rows = dict(table.rows)
    found = []
    for text in ranges:
        try:
            min_col, min_row, max_col, max_row = range_boundaries(text.replace("$", "").upper())
        except (TypeError, ValueError):
            continue
        if None in (min_col, min_row, max_col, max_row) or (min_col, min_row) == (max_col, max_row):
            continue
        if max_row < table.header_row or min_col > width:
            continue  # above the headings (a title) or right of them (ignored columns)
        if min_row == table.header_row:
            first = headings.get(min_col - 1)
        else:
            values = rows.get(min_row, ())
            first = values[min_col - 1] if min_col - 1 < len(values) else None
        if _is_blank(first):
            continue  # merged empty cells hide nothing
        column = headings.get(min_col - 1, "") if min_col == max_col else ""
        cells = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{max_row}"
        problem = Problem("merged_cells", sheet=table.sheet, row=min_row, column=column, params={"range": cells})
        found.append(((min_row, min_col), range(min_col - 1, max_col), problem))
    return [(columns, problem) for _place, columns, problem in sorted(found, key=lambda item: item[0])]


@cache
def _accepted_headings(what: str) -> dict[str, str]:
    """Normalised heading (in any language, or an alias) -> column key, for "agencies" or "contacts"."""
    accepted: dict[str, str] = {}
    for key, text in HEADINGS[what].items():
        for alias in (*text.values(), *HEADING_ALIASES[what].get(key, ())):
            accepted.setdefault(_norm(alias), key)
    return accepted


def _is_heading(what: str, text: str) -> bool:
    normal = _norm(text)
    return normal in _accepted_headings(what) or (what == "agencies" and NAME_HEADING_RE.match(normal) is not None)


def _read_table(sheet, name: str, what: str) -> _Table | Problem:
    """The headings are the first non-blank row holding one of the table's headings, within the first
    HEADING_SEARCH_ROWS rows: a title above them ("Partner contacts, December 2026") is left out. Without such a
    row, the first non-blank row is taken (and its missing headings are named). Later blank rows are skipped.
    Only the headings' width is read (some files declare 16,000 columns)."""
    header_number, headings, known = 0, [], False
    for number, values in enumerate(sheet.iter_rows(max_row=HEADING_SEARCH_ROWS, values_only=True), start=1):
        if all(_is_blank(v) for v in values):
            continue
        texts = [(i, clean_text(str(v))) for i, v in enumerate(values) if not _is_blank(v)]
        if not headings:
            header_number, headings = number, texts  # the fallback: the first non-blank row
        if any(_is_heading(what, text) for _i, text in texts):
            header_number, headings, known = number, texts, True
            break
    if not headings:
        return _Table(name, [], [])
    width = headings[-1][0] + 1
    headed = {index for index, _heading in headings}
    rows: list[tuple[int, tuple]] = []
    headless: dict[int, int] = {}  # column index -> first row with a value there, under no heading
    for number, values in enumerate(sheet.iter_rows(min_row=header_number + 1, max_col=width + EXTRA_COLUMNS,
                                                    values_only=True), start=header_number + 1):
        for index, value in enumerate(values):
            if index not in headed and not _is_blank(value):
                headless.setdefault(index, number)
        values = tuple(values[:width])
        if all(_is_blank(v) for v in values):
            continue
        rows.append((number, values))
        if len(rows) > MAX_ROWS:
            return Problem("too_many_rows", sheet=name, params={"limit": MAX_ROWS})
    if headless and known:  # values under no heading would be ignored without a word (a column the template
        # lacks); without a single known heading the missing columns are named instead
        index = min(headless)
        return Problem("headless_column", sheet=name, row=headless[index], column=get_column_letter(index + 1),
                       params={"column": get_column_letter(index + 1)})
    return _Table(name, headings, rows, header_row=header_number)


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value) -> str:
    """A cell as text: numbers without a spurious ".0" (phone numbers), dates as ISO, spaces cleaned."""
    return unneutralise(clean_text(read_text(value)))


class _Reader:
    """Turns the rows of both sheets into AgencyRow and ContactRow, appending every problem found."""

    def __init__(self, vocabulary: Vocabulary, existing: Collection[tuple[str, str]], problems: list[Problem],
                 account_emails: Collection[str] = ()):
        self.vocabulary = vocabulary
        self.existing = set(existing)
        self.account_emails = set(account_emails)
        self.problems = problems
        self.file_agencies: dict[tuple[str, str], int] = {}
        #: False when the Agencies sheet could not be read, so contacts are not blamed for its agencies.
        self.agencies_read = True

    def _columns(self, table: _Table, what: str) -> tuple[dict[str, tuple[int, str]], dict[str, tuple[int, str]]]:
        """Column key -> (index, heading), and for agencies language -> (index, heading) of the name columns."""
        accepted = _accepted_headings(what)
        columns: dict[str, tuple[int, str]] = {}
        names: dict[str, tuple[int, str]] = {}
        for index, heading in table.headings:
            normal = _norm(heading)
            match = NAME_HEADING_RE.match(normal) if what == "agencies" else None
            key, target = (match.group(1), names) if match else (accepted.get(normal), columns)
            if key is None:
                continue  # extra columns are allowed (notes and the like)
            if key in target:
                self.problems.append(Problem("duplicate_column", sheet=table.sheet, column=heading,
                                             params={"first": target[key][1]}))
                continue
            target[key] = (index, heading)
        for key in REQUIRED_COLUMNS[what]:
            if key not in columns:
                self.problems.append(Problem("missing_column", sheet=table.sheet,
                                             params={"column": HEADINGS[what][key]["en"],
                                                     "column_ru": HEADINGS[what][key]["ru"]}))
        if what == "agencies" and not names:
            self.problems.append(Problem("missing_name_columns", sheet=table.sheet,
                                         params={"example": NAME_HEADING["en"].format(code="en")}))
        return columns, names

    def _merged(self, table: _Table, read: Iterable[tuple[int, str]]) -> None:
        """Report the merged ranges that cover a column the import reads: their rows cannot be read as the
        person sees them, so the sheet's rows are not checked further."""
        indexes = {index for index, _heading in read}
        self.problems.extend(problem for columns, problem in table.merged if indexes.intersection(columns))

    def agencies(self, table: _Table) -> list[AgencyRow]:
        """Rows of the Agencies sheet."""
        if not table.headings:
            return []  # an empty sheet: nothing to import
        before = len(self.problems)
        columns, names = self._columns(table, "agencies")
        self._merged(table, [*columns.values(), *names.values()])
        if len(self.problems) > before:
            self.agencies_read = False
            return []
        result = []
        for number, values in table.rows:
            cells = _Cells(self, table.sheet, number, values, columns)
            country = cells.code("country", "country", blank="")
            acronym = cells.text("acronym", required=True, limit=MAX_ACRONYM)
            kind = cells.code("kind", "kind")
            row_names = {}
            for lang, (index, heading) in names.items():
                text = cells.text_at(index, heading, limit=MAX_AGENCY_NAME)
                if text:
                    row_names[lang] = text
            if not row_names:
                first = next(iter(names.values()))[1]
                cells.problem("missing_name", first)
            is_active = cells.yes_no("active")
            if country is not None and acronym:
                key = agency_key(country, acronym)
                if key in self.file_agencies:
                    cells.problem("duplicate_agency", columns["acronym"][1], first_row=self.file_agencies[key],
                                  country=country or "—", acronym=acronym)
                else:
                    self.file_agencies[key] = number
            if cells.ok:
                result.append(AgencyRow(country=country or "", acronym=acronym, kind=kind, names=row_names,
                                        is_active=is_active, row=number))
        return result

    def contacts(self, table: _Table) -> list[ContactRow]:
        """Rows of the Contacts sheet (read after the Agencies sheet, whose agencies they may refer to)."""
        if not table.headings:
            return []
        before = len(self.problems)
        columns, _names = self._columns(table, "contacts")
        self._merged(table, columns.values())
        if len(self.problems) > before:
            return []
        seen: dict[str, int] = {}
        result = []
        for number, values in table.rows:
            cells = _Cells(self, table.sheet, number, values, columns)
            country = cells.code("agency_country", "country", blank="")
            acronym = cells.text("agency_acronym", required=True, limit=MAX_ACRONYM)
            if country is not None and acronym:
                key = agency_key(country, acronym)
                if self.agencies_read and key not in self.file_agencies and key not in self.existing:
                    cells.problem("unknown_regional_agency" if not country else "unknown_agency",
                                  columns["agency_acronym"][1], country=country, acronym=acronym)
            name = cells.text("name", required=True, limit=MAX_CONTACT_NAME)
            position = cells.text("position", limit=MAX_POSITION) or None
            email = cells.email("email", seen)
            phone = cells.text("phone", limit=MAX_PHONE) or None
            locale = cells.code("language", "language")
            focal = cells.yes_no("focal_point")
            is_active = cells.yes_no("active")
            if cells.ok:
                result.append(ContactRow(agency_country=country or "", agency_acronym=acronym, name=name,
                                         email=email, position=position, phone=phone, locale=locale,
                                         is_focal_point=focal, is_active=is_active, row=number))
        return result


class _Cells:
    """The cells of one row, read by column key; each problem is recorded with the row and the heading."""

    def __init__(self, reader: _Reader, sheet: str, number: int, values: tuple,
                 columns: dict[str, tuple[int, str]]):
        self.reader, self.sheet, self.number, self.values, self.columns = reader, sheet, number, values, columns
        self.ok = True

    def problem(self, code: str, heading: str, **params) -> None:
        """Record a problem in this row, in the column with this heading."""
        self.ok = False
        self.reader.problems.append(Problem(code, sheet=self.sheet, row=self.number, column=heading, params=params))

    def raw(self, key: str):
        """The cell's value as openpyxl read it (None when the column is absent)."""
        if key not in self.columns:
            return None
        index = self.columns[key][0]
        return self.values[index] if index < len(self.values) else None

    def text_at(self, index: int, heading: str, required: bool = False, limit: int | None = None) -> str:
        """The text of the cell at `index`, checked for presence and length."""
        text = cell_text(self.values[index] if index < len(self.values) else None)
        if required and not text:
            self.problem("required", heading)
        elif limit and len(text) > limit:
            self.problem("too_long", heading, limit=limit, length=len(text))
        return text

    def text(self, key: str, required: bool = False, limit: int | None = None) -> str:
        """The text of a column."""
        if key not in self.columns:
            return ""
        index, heading = self.columns[key]
        return self.text_at(index, heading, required, limit)

    def code(self, key: str, what: str, blank: str | None = None) -> str | None:
        """The code a cell names, or `blank` when empty; an unknown value is a problem (and gives None)."""
        text = self.text(key)
        if not text:
            return blank
        code = self.reader.vocabulary.lookup(what, text)
        if code is None:
            choices = {"country": self.reader.vocabulary.countries, "kind": self.reader.vocabulary.kinds,
                       "language": self.reader.vocabulary.languages}[what]
            self.problem(f"unknown_{what}", self.columns[key][1], value=text, choices=", ".join(choices))
        return code

    def yes_no(self, key: str) -> bool | None:
        """A yes/no cell (None when empty or wrong; wrong is a problem)."""
        value = self.raw(key)
        if isinstance(value, str):
            value = unneutralise(value)
        try:
            return parse_yes_no(value)
        except ValueError:
            self.problem("bad_yes_no", self.columns[key][1], value=cell_text(value))
            return None

    def email(self, key: str, seen: dict[str, int]) -> str:
        """The normalised e-mail address, checked for syntax and for a duplicate earlier in the sheet."""
        text = self.text(key, required=True, limit=MAX_EMAIL)
        if not text:
            return ""
        heading = self.columns[key][1]
        try:
            email = normalise_email(text)
        except EmailError as exc:
            self.problem("bad_email", heading, value=text, reason=exc.reason)
            return ""
        if email in seen:
            self.problem("duplicate_email", heading, value=email, first_row=seen[email])
        else:
            seen[email] = self.number
        if email in self.reader.account_emails:
            self.problem("account_email", heading, value=email)
        return email
