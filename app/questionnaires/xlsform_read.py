"""The reading side of XLSForm import: workbooks, sheet and column names, languages, types, and the importer.

Pure code (no Flask). The public entry point is `app.questionnaires.xlsform.import_xlsform`. Reading is
lenient (KoboToolbox-like): header case and spelling, `label:English` / `label::English(en)`, misspelled
settings sheets, `.xls` content in a `.xlsx` file. Every cell comes back as a stripped string with its Excel
row number, so that every message about it names the sheet and the row.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openpyxl
import xlrd

from app.questionnaires.idents import ID_RE, make_id, make_slug
from app.questionnaires.loader import one_line

if TYPE_CHECKING:
    from app.questionnaires.schema import Definition

#: A text: {lang: text}, or a plain string meaning the default language (as in schema.Text).
Text = str | dict[str, str]

#: Sheets that our import reads; every other sheet is reported as ignored.
KNOWN_SHEETS = ("survey", "choices", "settings", "indicators", "scale")
#: Misspellings and variants accepted for the standard sheets (after lower-casing and trimming).
SHEET_ALIASES = {
    "survey": ("survey", "surveys", "servey", "survy", "questions"),
    "choices": ("choices", "choice", "choises", "chioces", "options", "choice_lists", "choice lists"),
    "settings": ("settings", "setting", "stettings", "settigns", "setings", "form_settings", "form settings"),
    "indicators": ("indicators",),
    "scale": ("scale",),
}

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


class WorkbookError(ValueError):
    """The file cannot be read as a workbook at all."""


@dataclass
class Row:
    """One non-blank row of a sheet: its Excel row number and its cells by normalised column key."""

    number: int
    cells: dict[str, str]

    def get(self, key: str, default: str = "") -> str:
        """The stripped text of a column (empty string when absent)."""
        return self.cells.get(key, default)


@dataclass
class Column:
    """A parsed header cell: the base column name and its language suffix (raw and as a code)."""

    key: str  # unique key used in Row.cells: base, or base + "::" + raw language
    base: str  # normalised column name, e.g. "label", "constraint_message", "list_name"
    raw: str  # the header as written
    language: str | None = None  # raw language suffix, e.g. "Русский (ru)"
    index: int = 0


@dataclass
class Sheet:
    """A sheet read into memory: its name as written, its columns and its non-blank data rows."""

    name: str
    columns: list[Column] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    header_row: int = 1
    duplicate_headers: list[str] = field(default_factory=list)

    def has(self, base: str) -> bool:
        """Whether the sheet has a column with this normalised base name."""
        return any(c.base == base for c in self.columns)

    def columns_of(self, base: str) -> list[Column]:
        """All columns with this base name (plain and per language), in sheet order."""
        return [c for c in self.columns if c.base == base]


@dataclass
class RawWorkbook:
    """The sheets we read (by canonical name) and the names of all the others."""

    sheets: dict[str, Sheet] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)  # canonical name -> name as written (if different)
    other_sheets: list[str] = field(default_factory=list)
    format: str = "xlsx"


# ---------------------------------------------------------------------------------------------------------
# Columns

#: Column-name aliases (after lower-casing, trimming and turning spaces and hyphens into underscores).
COLUMN_ALIASES = {
    "list name": "list_name",
    "listname": "list_name",
    "caption": "label",
    "relevance": "relevant",
    "bind::relevant": "relevant",
    "readonly": "read_only",
    "calculate": "calculation",
    "jr:constraintmsg": "constraint_message",
    "constraint_msg": "constraint_message",
    "constraining_message": "constraint_message",
    "jr:requiredmsg": "required_message",
    "requiredmsg": "required_message",
    "jr:count": "repeat_count",
    "count": "repeat_count",
    "choice_filters": "choice_filter",
    "value": "name",
    "command": "type",
    "tag": "name",
    "noapperrorstring": "no_app_error_string",
    "jr:noapperrorstring": "no_app_error_string",
    "guidance": "guidance_hint",
}
#: Prefixes that only say where pyxform puts a column (`bind::relevant`, `control::appearance`).
_NAMESPACE_PREFIXES = ("bind", "control", "body")
#: Columns that may carry a language suffix.
TRANSLATABLE = {
    "label", "hint", "guidance_hint", "constraint_message", "required_message", "image", "big-image",
    "audio", "video", "media", "area_label", "description", "area_description", "form_title", "title",
}


def normalise_base(text: str) -> str:
    """A column base name in canonical form: lower case, single underscores, known aliases resolved."""
    base = re.sub(r"\s+", " ", text.strip().lower())
    if base in COLUMN_ALIASES:
        return COLUMN_ALIASES[base]
    base = re.sub(r"[\s\-]+", "_", base)
    return COLUMN_ALIASES.get(base, base)


def parse_header(text: str) -> tuple[str, str | None]:
    """Split a header into (base column, raw language or None): `label::Русский (ru)`, `label:English`."""
    raw = re.sub(r"\s+", " ", str(text).strip())
    if not raw:
        return "", None
    parts = [p.strip() for p in raw.split("::")]
    if len(parts) == 1 and ":" in raw:
        head, _, tail = raw.partition(":")
        if normalise_base(head) in TRANSLATABLE:  # legacy single colon: label:English
            parts = [head.strip(), tail.strip()]
    if len(parts) == 1 and raw.split(":")[0].strip().lower() in _NAMESPACE_PREFIXES:  # bind:relevant
        parts = [raw.split(":")[0], raw.split(":", 1)[1]]
        if parts[1].lower().startswith("jr:"):
            return normalise_base(parts[1]), None
    while len(parts) > 1 and parts[0].strip().lower() in _NAMESPACE_PREFIXES:
        parts = parts[1:]
    if parts[0].lower() == "media" and len(parts) > 1:  # media::image::English
        return "media", "::".join(parts[1:]) or None
    base = normalise_base(parts[0])
    if len(parts) == 1:
        return base, None
    rest = "::".join(parts[1:]).strip()
    if base in ("jr",):  # jr::constraintMsg
        return normalise_base("jr:" + rest), None
    return base, rest or None


# ---------------------------------------------------------------------------------------------------------
# Languages

#: Language names (English and native, lower case) to ISO 639-1 codes (ISO 639-3 where there is no -1).
LANGUAGE_NAMES = {
    "english": "en", "anglais": "en", "inglés": "en", "ingles": "en", "английский": "en", "eng": "en",
    "french": "fr", "français": "fr", "francais": "fr", "francés": "fr", "французский": "fr", "fra": "fr",
    "fre": "fr",
    "russian": "ru", "русский": "ru", "русский язык": "ru", "russe": "ru", "ruso": "ru", "rus": "ru",
    "ukrainian": "uk", "українська": "uk", "український": "uk", "украинский": "uk", "ukr": "uk",
    "spanish": "es", "español": "es", "espanol": "es", "castellano": "es", "espagnol": "es", "spa": "es",
    "arabic": "ar", "العربية": "ar", "عربي": "ar", "arabe": "ar", "ara": "ar",
    "portuguese": "pt", "português": "pt", "portugues": "pt", "por": "pt",
    "german": "de", "deutsch": "de", "deu": "de", "ger": "de",
    "italian": "it", "italiano": "it",
    "chinese": "zh", "中文": "zh", "汉语": "zh", "zho": "zh", "chi": "zh",
    "japanese": "ja", "日本語": "ja",
    "korean": "ko", "한국어": "ko", "kor": "ko",
    "swahili": "sw", "kiswahili": "sw", "swa": "sw",
    "nepali": "ne", "नेपाली": "ne", "nep": "ne",
    "hindi": "hi", "हिन्दी": "hi", "hin": "hi",
    "indonesian": "id", "bahasa indonesia": "id", "bahasa": "id", "ind": "id",
    "amharic": "am", "አማርኛ": "am", "amh": "am",
    "tigrinya": "ti", "tigirigna": "ti", "tigrigna": "ti", "ትግርኛ": "ti",
    "oromo": "om", "oromiffa": "om", "afaan oromoo": "om", "oromifa": "om",
    "somali": "so", "soomaali": "so",
    "dari": "prs", "pashto": "ps", "پښتو": "ps", "persian": "fa", "farsi": "fa", "فارسی": "fa",
    "urdu": "ur", "اردو": "ur", "bengali": "bn", "bangla": "bn", "বাংলা": "bn",
    "turkish": "tr", "türkçe": "tr", "kurdish": "ku", "kurdî": "ku",
    "kyrgyz": "ky", "кыргызча": "ky", "kirghiz": "ky", "kazakh": "kk", "қазақ": "kk", "қазақша": "kk",
    "uzbek": "uz", "oʻzbek": "uz", "o'zbek": "uz", "tajik": "tg", "тоҷикӣ": "tg", "turkmen": "tk",
    "georgian": "ka", "ქართული": "ka", "armenian": "hy", "հայերեն": "hy", "azerbaijani": "az",
    "azərbaycan": "az", "romanian": "ro", "română": "ro", "polish": "pl", "polski": "pl",
    "dutch": "nl", "nederlands": "nl", "greek": "el", "ελληνικά": "el", "hebrew": "he", "עברית": "he",
    "thai": "th", "ไทย": "th", "vietnamese": "vi", "tiếng việt": "vi", "burmese": "my", "myanmar": "my",
    "khmer": "km", "lao": "lo", "tagalog": "tl", "filipino": "fil", "malay": "ms", "bahasa melayu": "ms",
    "hausa": "ha", "yoruba": "yo", "igbo": "ig", "zulu": "zu", "xhosa": "xh", "afrikaans": "af",
    "kinyarwanda": "rw", "kirundi": "rn", "lingala": "ln", "wolof": "wo", "fula": "ff", "fulfulde": "ff",
    "bambara": "bm", "sango": "sg", "malagasy": "mg", "chichewa": "ny", "shona": "sn", "tetun": "tet",
    "tetum": "tet", "haitian creole": "ht", "kreyòl": "ht", "creole": "ht", "serbian": "sr", "српски": "sr",
    "croatian": "hr", "bosnian": "bs", "albanian": "sq", "shqip": "sq", "macedonian": "mk",
    "bulgarian": "bg", "български": "bg", "belarusian": "be", "беларуская": "be", "hungarian": "hu",
    "czech": "cs", "slovak": "sk", "slovenian": "sl", "swedish": "sv", "norwegian": "no", "danish": "da",
    "finnish": "fi", "estonian": "et", "latvian": "lv", "lithuanian": "lt", "mongolian": "mn",
    "монгол": "mn", "sinhala": "si", "tamil": "ta", "telugu": "te", "marathi": "mr", "gujarati": "gu",
    "punjabi": "pa", "sindhi": "sd", "balochi": "bal",
}
_CODE_RE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})?$")
_PAREN_CODE_RE = re.compile(r"\(\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?)\s*\)\s*$")


def language_code(raw: str | None) -> str | None:
    """An ISO language code for a language suffix (`Русский (ru)`, `English(en)`, `French`, `EN`), or None."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFC", re.sub(r"\s+", " ", str(raw).strip()))
    if not text:
        return None
    match = _PAREN_CODE_RE.search(text)
    if match:
        code = match.group(1).replace("_", "-").lower()
        return LANGUAGE_NAMES.get(code, code) if len(code) == 3 else code
    lowered = text.lower()
    if lowered in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[lowered]
    if _CODE_RE.match(lowered) and len(lowered) <= 3:
        return lowered
    lowered_compact = lowered.replace("_", "-")
    if _CODE_RE.match(lowered_compact):
        return lowered_compact
    return None


# ---------------------------------------------------------------------------------------------------------
# Types


@dataclass
class ParsedType:
    """A survey `type` cell: the canonical kind, its choice list, `or_other`, and the text as written."""

    kind: str  # e.g. "select_one", "select_multiple", "begin_group", "end_group", "integer", "" (blank)
    raw: str
    list_name: str | None = None
    or_other: bool = False
    extra: str = ""  # anything after the list name that we did not understand


#: Single-word type aliases (lower case) to canonical kinds.
TYPE_ALIASES = {
    "string": "text", "q string": "text", "add text prompt": "text", "q text": "text",
    "int": "integer", "q int": "integer", "add integer prompt": "integer",
    "q decimal": "decimal", "add decimal prompt": "decimal",
    "q date": "date", "add date prompt": "date",
    "q note": "note", "add note prompt": "note",
    "trigger": "acknowledge", "q acknowledge": "acknowledge", "add acknowledge prompt": "acknowledge",
    "photo": "image", "q image": "image", "q picture": "image", "add image prompt": "image",
    "add photo prompt": "image",
    "add file prompt": "file",
    "q calculate": "calculate", "add calculate prompt": "calculate",
    "q geopoint": "geopoint", "location": "geopoint", "gps": "geopoint", "q location": "geopoint",
    "add location prompt": "geopoint", "q geotrace": "geotrace", "q geoshape": "geoshape",
    "q audio": "audio", "add audio prompt": "audio", "q video": "video", "add video prompt": "video",
    "q barcode": "barcode", "add barcode prompt": "barcode",
    "date time": "datetime", "datetime": "datetime", "q date time": "datetime", "q datetime": "datetime",
    "add date time prompt": "datetime", "add datetime prompt": "datetime",
    "begin": "begin_group", "begin group": "begin_group", "begin_group": "begin_group",
    "end group": "end_group", "end_group": "end_group",
    "begin repeat": "begin_repeat", "begin_repeat": "begin_repeat", "begin lgroup": "begin_repeat",
    "begin looped group": "begin_repeat", "begin looped_group": "begin_repeat",
    "end repeat": "end_repeat", "end_repeat": "end_repeat", "end lgroup": "end_repeat",
    "end looped group": "end_repeat", "end loop": "end_loop", "end_loop": "end_loop",
    "get today": "today", "get start time": "start", "start time": "start", "get end time": "end",
    "end time": "end", "device id": "deviceid", "get device id": "deviceid", "imei": "deviceid",
    "uri:deviceid": "deviceid", "sim id": "simserial", "get sim id": "simserial",
    "uri:simserial": "simserial",
    "subscriber id": "subscriberid", "get subscriber id": "subscriberid", "uri:subscriberid": "subscriberid",
    "phone number": "phonenumber", "get phone number": "phonenumber", "uri:phonenumber": "phonenumber",
    "uri:username": "username", "uri:email": "email",
}
#: Select-type prefixes (lower case, spaces) to canonical kinds; the list name follows.
SELECT_PREFIXES = [
    ("select one from file", "select_one_from_file"),
    ("select multiple from file", "select_multiple_from_file"),
    ("select all that apply from", "select_multiple"),
    ("select multiple from", "select_multiple"),
    ("select multiple using", "select_multiple"),
    ("select one from", "select_one"),
    ("select one using", "select_one"),
    ("add select one prompt using", "select_one"),
    ("add select multiple prompt using", "select_multiple"),
    ("select all that apply", "select_multiple"),
    ("select one external", "select_one_external"),
    ("select multiple external", "select_multiple_external"),
    ("select one", "select_one"),
    ("select multiple", "select_multiple"),
    ("select1", "select_one"),
    ("q select1", "select_one"),
    ("q select", "select_multiple"),
    ("rank", "rank"),
    ("begin loop over", "begin_loop"),
    ("begin loop", "begin_loop"),
    ("begin kobomatrix", "begin_kobomatrix"),
    ("begin score", "begin_score"),
    ("begin rank", "begin_rank"),
    ("score__row", "score_row"),
    ("rank__level", "rank_level"),
]


def parse_type(cell: str) -> ParsedType:
    """Parse a survey `type` cell leniently: `select one  list`, `Select_One list or_other`, ` integer `."""
    raw = cell
    text = re.sub(r"\s+", " ", cell.strip())
    if not text:
        return ParsedType("", raw)
    lowered = text.lower()
    if lowered in TYPE_ALIASES:
        return ParsedType(TYPE_ALIASES[lowered], raw)
    if lowered.replace("_", " ") in TYPE_ALIASES:
        return ParsedType(TYPE_ALIASES[lowered.replace("_", " ")], raw)
    tokens = text.split(" ")
    for k in range(min(len(tokens), 5), 0, -1):
        candidate = "_".join(t.lower() for t in tokens[:k]).replace("-", "_")
        kind = _SELECT_KINDS.get(candidate)
        if kind is None:
            continue
        list_name = tokens[k] if len(tokens) > k else None
        tail = [t.lower() for t in tokens[k + 1:]]
        or_other = False
        if tail[:1] == ["or_other"]:
            or_other, tail = True, tail[1:]
        elif tail[:2] == ["or", "other"]:
            or_other, tail = True, tail[2:]
        extra = " ".join(tokens[len(tokens) - len(tail):]) if tail else ""
        return ParsedType(kind, raw, list_name, or_other, extra)
    word = lowered.split(" ")[0]
    rest = text[len(word):].strip()
    return ParsedType(TYPE_ALIASES.get(word, word), raw, extra=rest)


_SELECT_KINDS = {prefix.replace(" ", "_"): kind for prefix, kind in SELECT_PREFIXES}


# ---------------------------------------------------------------------------------------------------------
# Cells


def cell_text(value) -> str:
    """A cell value as stripped text: 1.0 -> "1", True -> "true", dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = str(value)
    if text.startswith("#") and text.endswith(("!", "?", "/0")):  # Excel error values (#N/A, #REF!, #DIV/0)
        return ""
    return text.replace("\r\n", "\n").replace("\xa0", " ").strip()


def _sheet_from_values(name: str, values_iter) -> Sheet:
    """Build a Sheet from an iterator of row value tuples (row numbers start at 1)."""
    sheet = Sheet(name)
    header: list[str] | None = None
    keys: list[str | None] = []
    for number, values in enumerate(values_iter, start=1):
        if values.count(None) + values.count("") == len(values):  # fast: some sheets declare 1M blank rows
            continue
        values = list(values)
        texts = [cell_text(v) for v in values]
        if header is None:
            if not any(texts):
                continue
            header = texts
            sheet.header_row = number
            seen: set[str] = set()
            for index, head in enumerate(header):
                base, lang = parse_header(head)
                if not base:
                    keys.append(None)
                    continue
                key = base if lang is None else f"{base}::{lang}"
                if key in seen:
                    sheet.duplicate_headers.append(head)
                    keys.append(None)
                    continue
                seen.add(key)
                keys.append(key)
                sheet.columns.append(Column(key, base, head, lang, index))
            continue
        cells = {}
        for index, text in enumerate(texts[: len(keys)]):
            key = keys[index]
            if key is not None and text:
                cells[key] = text
        if cells:
            sheet.rows.append(Row(number, cells))
    return sheet


def canonical_sheet(name: str) -> str | None:
    """Which of our sheets a sheet name means (case, spaces and common misspellings tolerated), or None."""
    lowered = re.sub(r"\s+", " ", name.strip().lower())
    for canonical, aliases in SHEET_ALIASES.items():
        if lowered in aliases or lowered.replace(" ", "_") in aliases:
            return canonical
    return None


def read_workbook(data: bytes) -> RawWorkbook:
    """Read the sheets we use from .xlsx/.xlsm (openpyxl, read-only) or .xls (xlrd) bytes, by magic bytes."""
    if data.startswith(OLE2_MAGIC[:4]):
        return _read_xls(data)
    if data.startswith(ZIP_MAGIC):
        return _read_xlsx(data)
    raise WorkbookError("not an Excel workbook (.xlsx or .xls): the file starts with neither a ZIP nor an "
                        "OLE2 signature")


def _choose(workbook: RawWorkbook, names: list[str]) -> dict[str, str]:
    """Map canonical sheet names to the workbook's sheet names; the rest go to other_sheets."""
    chosen: dict[str, str] = {}
    exact = {n.strip().lower(): n for n in names}
    for canonical in KNOWN_SHEETS:
        if canonical in exact:
            chosen[canonical] = exact[canonical]
    for name in names:
        canonical = canonical_sheet(name)
        if canonical and canonical not in chosen:
            chosen[canonical] = name
    used = set(chosen.values())
    workbook.other_sheets = [n for n in names if n not in used]
    workbook.renamed = {c: n for c, n in chosen.items() if n != c}
    return chosen


def _read_xlsx(data: bytes) -> RawWorkbook:
    workbook = RawWorkbook(format="xlsx")
    try:
        with warnings.catch_warnings():
            # openpyxl warns about Excel features it drops (data validation, extensions): irrelevant here
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                chosen = _choose(workbook, list(book.sheetnames))
                for canonical, name in chosen.items():
                    worksheet = book[name]
                    workbook.sheets[canonical] = _sheet_from_values(name, _xlsx_rows(worksheet))
            finally:
                book.close()
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise WorkbookError(f"cannot read the .xlsx workbook: {exc}") from exc
    except Exception as exc:  # openpyxl raises a variety of errors on damaged files
        raise WorkbookError(f"cannot read the .xlsx workbook: {type(exc).__name__}: {exc}") from exc
    return workbook


def _xlsx_rows(worksheet):
    """Rows of a read-only worksheet, limited to the header's width (some sheets declare 16,000 columns)."""
    header_number = 0
    width = 0
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        filled = [i for i, v in enumerate(values) if v not in (None, "")]
        if filled:
            header_number, width = number, filled[-1] + 1
            break
    if not width:
        return
    for _ in range(header_number - 1):
        yield ()
    for values in worksheet.iter_rows(min_row=header_number, max_col=width, values_only=True):
        yield values


def _read_xls(data: bytes) -> RawWorkbook:
    workbook = RawWorkbook(format="xls")
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True, logfile=io.StringIO(),
                                  ignore_workbook_corruption=True)
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, AssertionError... on damaged files
        raise WorkbookError(f"cannot read the .xls workbook: {type(exc).__name__}: {exc}") from exc
    try:
        chosen = _choose(workbook, list(book.sheet_names()))
        for canonical, name in chosen.items():
            sheet = book.sheet_by_name(name)
            workbook.sheets[canonical] = _sheet_from_values(name, _xls_rows(book, sheet))
    except Exception as exc:
        raise WorkbookError(f"cannot read the .xls workbook: {type(exc).__name__}: {exc}") from exc
    finally:
        book.release_resources()
    return workbook


def _xls_rows(book, sheet):
    for index in range(sheet.nrows):
        row = []
        for cell in sheet.row(index):
            if cell.ctype == xlrd.XL_CELL_DATE:
                try:
                    row.append(xlrd.xldate_as_datetime(cell.value, book.datemode))
                except (ValueError, OverflowError):
                    row.append(cell.value)
            elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                row.append(bool(cell.value))
            elif cell.ctype == xlrd.XL_CELL_ERROR:
                row.append(None)
            else:
                row.append(cell.value)
        yield row


# ---------------------------------------------------------------------------------------------------------
# Results


class ImportMessage(str):
    """A message about one place of the workbook: a string like `survey row 37: ...` with its parts kept."""

    sheet: str
    row: int | None
    feature: str
    text: str

    def __new__(cls, sheet: str, row: int | None, feature: str, text: str) -> ImportMessage:
        """Build `<sheet> row <row>: <text>` (or `<sheet> sheet: <text>` without a row)."""
        where = f"{sheet} row {row}" if row else sheet if sheet == "file" else f"{sheet} sheet"
        text = one_line(text)  # a cell's text quoted in it keeps the message on one line
        message = super().__new__(cls, f"{where}: {text}")
        message.sheet, message.row, message.feature, message.text = sheet, row, feature, text
        return message

    def __getnewargs__(self) -> tuple:  # copy and pickle rebuild the message from its parts
        return self.sheet, self.row, self.feature, self.text


@dataclass
class ImportResult:
    """What an import produced: the definition (None when refused), refusals, skipped parts and notes."""

    definition: Definition | None = None
    problems: list[ImportMessage] = field(default_factory=list)
    skipped: list[ImportMessage] = field(default_factory=list)
    notes: list[ImportMessage] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the import produced a definition."""
        return self.definition is not None and not self.problems


# ---------------------------------------------------------------------------------------------------------
# Vocabulary shared by import and export

#: Special answers (stored values) that a question may offer besides its own choices.
SPECIAL_ANSWERS = ("not_applicable", "dont_know")
#: Our extension columns (pyxform ignores unknown columns): the type we exported and its options.
NA_TYPE, NA_OPTIONS, NA_GENERATED, NA_ID = "na_type", "na_options", "na_generated", "na_id"
#: Names pyxform refuses for a question or group; our export writes another name and the id in `na_id`.
RESERVED_NAMES = {"meta"}
#: The generated choice list holding the questionnaire scale (scale and matrix questions).
SCALE_LIST = "na_scale"
#: The default scale of a foreign XLSForm (it cannot express one): 0-4 maturity levels.
DEFAULT_SCALE_LABELS = [
    {"en": "Not in place", "ru": "Отсутствует", "fr": "Inexistant", "es": "Inexistente", "uk": "Відсутнє"},
    {"en": "Initial", "ru": "Начальный", "fr": "Initial", "es": "Inicial", "uk": "Початковий"},
    {"en": "Partly in place", "ru": "Частично", "fr": "Partiel", "es": "Parcial", "uk": "Частково"},
    {"en": "Largely in place", "ru": "В основном", "fr": "En grande partie", "es": "En gran parte",
     "uk": "Здебільшого"},
    {"en": "Fully in place", "ru": "Полностью", "fr": "Complet", "es": "Completo", "uk": "Повністю"},
]
#: Labels of generated choices, by language (English is the fallback).
GENERATED_LABELS = {
    "yes": {"en": "Yes", "ru": "Да", "fr": "Oui", "es": "Sí", "uk": "Так", "ar": "نعم"},
    "no": {"en": "No", "ru": "Нет", "fr": "Non", "es": "No", "uk": "Ні", "ar": "لا"},
    "partly": {"en": "Partly", "ru": "Частично", "fr": "En partie", "es": "En parte", "uk": "Частково"},
    "not_applicable": {"en": "Not applicable", "ru": "Неприменимо", "fr": "Sans objet", "es": "No aplica",
                       "uk": "Не застосовується"},
    "dont_know": {"en": "Don't know", "ru": "Не знаю", "fr": "Ne sait pas", "es": "No sabe", "uk": "Не знаю"},
    "other": {"en": "Other", "ru": "Другое", "fr": "Autre", "es": "Otro", "uk": "Інше", "ar": "أخرى"},
    "specify_other": {"en": "Specify other", "ru": "Укажите другое", "fr": "Précisez autre",
                      "es": "Especifique otro", "uk": "Вкажіть інше", "ar": "حدد أخرى"},
    "ok": {"en": "OK"},
}

REFERENCE_RE = re.compile(r"\$\{\s*([^}]*?)\s*\}")
_TRUE = {"yes", "true", "true()", "1", "y", "oui", "да"}
_FALSE = {"no", "false", "false()", "0", "n", "non", "нет"}

#: Survey types we skip (question dropped, with a message), by canonical kind: the feature named.
SKIPPED_TYPES = {
    "geopoint": "geo questions (geopoint)",
    "geotrace": "geo questions (geotrace)",
    "geoshape": "geo questions (geoshape)",
    "start-geopoint": "metadata fields (start-geopoint)",
    "background-geopoint": "geo questions (background-geopoint)",
    "audio": "audio questions",
    "background-audio": "audio recording (background-audio)",
    "video": "video questions",
    "barcode": "barcode questions",
    "time": "time questions",
    "datetime": "date-time questions",
    "osm": "OpenStreetMap questions (osm)",
    "rank": "rank questions",
    "select_one_from_file": "external choice lists (select_one_from_file)",
    "select_multiple_from_file": "external choice lists (select_multiple_from_file)",
    "select_one_external": "external choice lists (select_one_external)",
    "select_multiple_external": "external choice lists (select_multiple_external)",
    "xml-external": "external data (xml-external)",
    "csv-external": "external data (csv-external)",
    "hidden": "hidden fields (hidden)",
    "calculate": "calculations (calculate)",
    "start": "metadata fields (start)",
    "end": "metadata fields (end)",
    "today": "metadata fields (today)",
    "deviceid": "metadata fields (deviceid)",
    "subscriberid": "metadata fields (subscriberid)",
    "simserial": "metadata fields (simserial)",
    "phonenumber": "metadata fields (phonenumber)",
    "username": "metadata fields (username)",
    "email": "metadata fields (email)",
    "audit": "metadata fields (audit)",
    "percentage": "percentage questions",
}
#: Group-like blocks that we refuse: the whole form is refused (their content cannot be flattened safely).
REFUSED_BLOCKS = {
    "begin_repeat": "repeat groups (begin_repeat)",
    "begin_loop": "loops (begin_loop)",
    "begin_kobomatrix": "Kobo matrix blocks (begin_kobomatrix)",
    "begin_score": "Kobo score blocks (begin_score)",
    "begin_rank": "Kobo rank blocks (begin_rank)",
}
#: Survey columns that carry nothing we can use: the feature named in the message.
UNSUPPORTED_COLUMNS = {
    "media": "media (image/audio/video) in labels",
    "image": "media (image) in labels",
    "big-image": "media (big-image) in labels",
    "audio": "media (audio) in labels",
    "video": "media (video) in labels",
    "read_only": "read_only",
    "trigger": "triggers (trigger)",
    "guidance_hint": "guidance hints (guidance_hint)",
    "repeat_count": "repeat_count",
    "save_to": "entities (save_to)",
    "instance": "custom instance attributes (instance::)",
    "no_app_error_string": "no_app_error_string",
    "autoplay": "autoplay",
    "rows": "rows",
    "choice_filter": "cascading choices (choice_filter)",
    "calculation": "calculation",
    "parameters": "parameters",
    "trigger_column": "trigger",
}
_SUPPORTED_KINDS = {"select_one", "select_multiple", "integer", "decimal", "range", "text", "date", "note",
                    "acknowledge", "image", "file"}
_SCORABLE = {"single_choice", "multiple_choice", "yes_no", "scale", "number", "matrix"}
_TEXT_COLUMNS = {"label", "hint", "constraint_message", "required_message", "description"}
_TRANSLATED_BASES = _TEXT_COLUMNS | {"area_label", "area_description", "na_title", "na_description",
                                     "na_unit"}
#: Settings that we use or that do not matter for a definition (the rest are reported as ignored).
_SETTINGS_USED = {"form_id", "id_string", "form_title", "title", "default_language", "version",
                  "na_languages", "na_title", "na_description"}


# ---------------------------------------------------------------------------------------------------------
# Import


@dataclass
class _Node:
    """A survey row in the group tree."""

    row: Row
    ptype: ParsedType
    name: str
    children: list[_Node] | None = None  # groups only


@dataclass
class _Skip:
    """A survey element that was not imported (referencing it from logic refuses the form)."""

    row: int
    feature: str


_Condition = tuple[int, str, str]  # (row, column, expression text) of a relevant to AND in


@dataclass
class _Draft:
    """A question being built, with what is needed to finish its expressions."""

    node: _Node | None
    data: dict
    row: int
    conditions: list[tuple[int, str, str]] = field(default_factory=list)  # (row, column, text) to AND
    constraint: tuple[int, str] | None = None
    generated: bool = False


@dataclass
class _SectionDraft:
    """A section being built from a top-level group (or from top-level questions)."""

    row: int
    data: dict
    relevant: tuple[int, str] | None = None
    questions: list[_Draft] = field(default_factory=list)


class XLSFormImporter:
    """One import run: reads the sheets, builds the definition dict, validates it, reports."""

    def __init__(self, workbook: RawWorkbook, filename: str, result: ImportResult):
        self.wb = workbook
        self.filename = filename
        self.result = result
        self.survey: Sheet | None = workbook.sheets.get("survey")
        self.choices: Sheet | None = workbook.sheets.get("choices")
        self.settings_sheet: Sheet | None = workbook.sheets.get("settings")
        self.settings: dict[str, str] = {}
        self.settings_row = 2
        self.lang_of: dict[str, str | None] = {}  # raw language suffix -> code (None: not recognised)
        self.plain_lang = "en"
        self.default_lang = "en"
        self.lang_order: list[str] = []
        self.languages: list[str] = []
        self.lists: dict[str, list[dict]] = {}
        self.list_rows: dict[str, int] = {}
        self.list_names_ci: dict[str, str] = {}
        self.list_scores: dict[str, bool] = {}
        self.used_lists: set[str] = set()
        #: (list, special answer) of the choices turned into a question's special answer, noted once per list
        self.specials_noted: set[tuple[str, str]] = set()
        self.skips: dict[str, _Skip] = {}  # original name -> why it is not imported
        self.ids: dict[str, str] = {}  # original name -> question id
        self.ambiguous: set[str] = set()
        self.taken_ids: set[str] = set()
        self.renamed: list[tuple[int, str, str]] = []  # (row, name, id) for names that are no valid id
        self.duplicates: list[tuple[int, str, str]] = []  # (row, name, id) for names used before
        self.column_uses: dict[str, list[int]] = {}
        self.scale: list[dict] = []
        self.areas: list[dict] = []
        self.indicator_ids: set[str] = set()
        self.kinds: dict[str, str] = {}
        self.row_of_path: dict[tuple[int, int | None], int] = {}
        self.expression_memo: dict[tuple, str | None] = {}
        self.question_names: set[str] = set()
        self.choice_rows: dict[tuple[int, int, int], int] = {}
        self.scale_rows: list[int] = []

    # -- messages -----------------------------------------------------------------------------------------

    def problem(self, sheet: str, row: int | None, feature: str, text: str) -> None:
        """Record a reason that refuses the import."""
        self.result.problems.append(ImportMessage(sheet, row, feature, text))

    def skip(self, sheet: str, row: int | None, feature: str, text: str) -> None:
        """Record a part that was not imported."""
        self.result.skipped.append(ImportMessage(sheet, row, feature, text))

    def note(self, sheet: str, row: int | None, feature: str, text: str) -> None:
        """Record something changed on the way in (names, sheet names, defaults)."""
        self.result.notes.append(ImportMessage(sheet, row, feature, text))

    # -- main ---------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Do the import, filling self.result."""
        if self.survey is None:
            self.problem("survey", None, "survey sheet", f"{self.filename}: the workbook has no survey sheet "
                         f"(sheets: {', '.join(self.wb.other_sheets) or 'none'})")
            return
        for canonical, written in self.wb.renamed.items():
            self.note(written, None, "sheet name", f"read as the {canonical} sheet")
        for name in self.wb.other_sheets:
            self.skip(name, None, "extra sheet", "extra sheet ignored (not part of XLSForm)")
        for sheet in self.wb.sheets.values():
            for header in sheet.duplicate_headers:
                self.skip(sheet.name, sheet.header_row, "duplicate column",
                          f"duplicate column '{header}' ignored (the first one is used)")
        if not self.survey.has("type"):
            self.problem(self.survey.name, self.survey.header_row, "type column",
                         "the survey sheet has no 'type' column")
            return
        self._read_settings()
        self._read_languages()
        self.languages = self._languages()
        self._read_choices()
        self._read_scale()
        self._read_indicators()
        tree = self._read_tree()
        if tree is None:
            return
        self.question_names = {r.get("name") for r in self.survey.rows
                               if not parse_type(r.get("type")).kind.startswith(("begin_", "end_"))}
        sections = self._build_sections(tree)
        self._report_columns()
        if not any(s.questions for s in sections):
            if not self.result.problems:
                self.problem(self.survey.name, self.survey.header_row, "questions",
                             "no question could be imported")
            return
        self._finish_expressions(sections)  # also when refused already: every reason is reported at once
        if self.result.problems:
            return
        data = self._assemble(sections)
        if self.result.problems:
            return
        self._validate(data)

    # -- settings and languages ---------------------------------------------------------------------------

    def _read_settings(self) -> None:
        sheet = self.settings_sheet
        if sheet is None or not sheet.rows:
            return
        first = sheet.rows[0]
        self.settings_row = first.number
        self.settings = dict(first.cells)
        for column in sheet.columns:
            if column.base not in _SETTINGS_USED and first.get(column.key):
                self.skip(sheet.name, first.number, f"setting {column.base}",
                          f"setting '{column.raw}' is not used by this application; ignored")
        if first.get("version"):
            self.note(sheet.name, first.number, "version", f"version '{first.get('version')}' is not kept: "
                      "the application numbers the versions of a questionnaire itself")
        for extra in sheet.rows[1:]:
            self.skip(sheet.name, extra.number, "settings rows", "only the first settings row is read; "
                      "this row is ignored")

    def _setting(self, *names: str) -> str:
        for name in names:
            if self.settings.get(name):
                return self.settings[name]
        return ""

    def _read_languages(self) -> None:
        default_raw = self._setting("default_language")
        code = language_code(default_raw) if default_raw else None
        if default_raw and code is None:
            self.note(self.settings_sheet.name if self.settings_sheet else "settings", self.settings_row,
                      "default_language", f"default_language '{default_raw}' is not a recognised language; "
                      "texts without a language are read as English (en)")
        self.plain_lang = code or "en"
        sheets = [s for s in (self.survey, self.choices, self.settings_sheet, self.wb.sheets.get("scale"),
                              self.wb.sheets.get("indicators")) if s is not None]
        survey_label_first = sorted(self.survey.columns, key=lambda c: (c.base != "label", c.index))
        seen_codes: dict[tuple[str, str, str], str] = {}
        for sheet in sheets:
            columns = survey_label_first if sheet is self.survey else sheet.columns
            for column in columns:
                if column.language is None or column.base in ("media", "instance", "bind", "jr"):
                    continue
                if column.language in self.lang_of:
                    lang = self.lang_of[column.language]
                else:
                    lang = language_code(column.language)
                    self.lang_of[column.language] = lang
                    if lang is None:
                        self.skip(sheet.name, sheet.header_row, "language",
                                  f"columns in language '{column.language}' ignored: the language is not "
                                  "recognised (write it as 'Name (code)', e.g. 'English (en)')")
                if lang is None:
                    continue
                key = (sheet.name, column.base, lang)
                if key in seen_codes and seen_codes[key] != column.language:
                    self.skip(sheet.name, sheet.header_row, "duplicate language column",
                              f"column '{column.raw}' ignored: '{seen_codes[key]}' is the same language "
                              f"({lang})")
                    column.language = None
                    column.base = "__ignored__"
                    continue
                seen_codes[key] = column.language
                if lang not in self.lang_order:
                    self.lang_order.append(lang)
        plain_labels = self.survey.has("label")
        if code:
            self.default_lang = code
        elif plain_labels or not self.lang_order:
            self.default_lang = self.plain_lang
        else:
            self.default_lang = self.lang_order[0]

    def _text(self, sheet: Sheet, row: Row, base: str) -> Text:
        """The text of a column in one row: {lang: text} from `label::English (en)`... columns, or a plain
        string (meaning the default language) when only a plain `label` column has it."""
        out: dict[str, str] = {}
        for column in sheet.columns:
            if column.base != base or column.language is None:
                continue
            value = row.get(column.key)
            lang = self.lang_of.get(column.language)
            if value and lang and lang not in out:
                out[lang] = value
        plain = row.get(base)
        if plain and not out:
            return plain if self.plain_lang == self.default_lang else {self.plain_lang: plain}
        if plain and self.plain_lang not in out:
            out[self.plain_lang] = plain
        return out

    # -- choices, scale, indicators -----------------------------------------------------------------------

    def _read_choices(self) -> None:
        sheet = self.choices
        if sheet is None:
            return
        if not sheet.has("list_name") or not sheet.has("name"):
            missing = [c for c in ("list_name", "name") if not sheet.has(c)]
            self.skip(sheet.name, sheet.header_row, "choices columns",
                      f"the choices sheet has no {' / '.join(missing)} column; no choice list could be read")
            return
        seen: dict[str, set[str]] = {}
        duplicates: dict[str, list[tuple[int, str]]] = {}
        for row in sheet.rows:
            list_name = row.get("list_name")
            name = row.get("name")
            if not list_name or not name:
                if any(k for k in row.cells if k not in ("list_name", "name")) or list_name or name:
                    what = "list_name" if not list_name else "name"
                    self.skip(sheet.name, row.number, "choice without name",
                              f"choice without a {what}; ignored")
                continue
            values = seen.setdefault(list_name, set())
            if name in values:
                duplicates.setdefault(list_name, []).append((row.number, name))
                continue
            values.add(name)
            choice: dict[str, Any] = {"value": name, "label": self._text(sheet, row, "label")}
            if not choice["label"]:
                choice["label"] = {self.default_lang: name}
                self.note(sheet.name, row.number, "choice label",
                          f"choice '{name}' has no label; its name is used")
            score = row.get("score")
            if score:
                number = _number(score)
                if number is None:
                    self.skip(sheet.name, row.number, "score", f"score '{score}' is not a number; ignored")
                else:
                    choice["score"] = number
            choice["_row"] = row.number
            if list_name not in self.lists:
                self.lists[list_name] = []
                self.list_rows[list_name] = row.number
                self.list_names_ci.setdefault(list_name.strip().lower(), list_name)
            self.lists[list_name].append(choice)
        for list_name, rows in duplicates.items():
            names = ", ".join(dict.fromkeys(f"'{name}'" for _, name in rows[:5]))
            self.skip(sheet.name, rows[0][0], "duplicate choices",
                      f"duplicate choice names in list '{list_name}' ignored (the first of each is used): "
                      f"{names}{_in_rows([r for r, _ in rows])}")
        used = {"list_name", "name", "label", "score", "__ignored__"}
        self._report_unused_columns(sheet, used, "extra choice columns serve choice_filter and media, "
                                    "which are not supported")

    def _list(self, name: str | None) -> str | None:
        if not name:
            return None
        if name in self.lists:
            return name
        return self.list_names_ci.get(name.strip().lower())

    def _read_scale(self) -> None:
        sheet = self.wb.sheets.get("scale")
        if sheet is None:
            return
        if not sheet.has("level"):
            self.skip(sheet.name, sheet.header_row, "scale sheet",
                      "the scale sheet has no 'level' column (not our format); ignored, the default "
                      "0-4 scale is used")
            return
        for row in sheet.rows:
            level = _number(row.get("level"))
            if not isinstance(level, int):
                self.problem(sheet.name, row.number, "scale level",
                             f"level '{row.get('level')}' is not a whole number")
                continue
            item: dict[str, Any] = {"level": level, "label": self._text(sheet, row, "label")}
            self.scale_rows.append(row.number)
            description = self._text(sheet, row, "description")
            if description:
                item["description"] = description
            self.scale.append(item)
        self._report_unused_columns(sheet, {"level", "label", "description", "__ignored__"}, "not our format")

    def _read_indicators(self) -> None:
        sheet = self.wb.sheets.get("indicators")
        if sheet is None:
            return
        if not sheet.has("area") or not sheet.has("indicator"):
            self.skip(sheet.name, sheet.header_row, "indicators sheet",
                      "the indicators sheet has no 'area' and 'indicator' columns (not our format); ignored")
            return
        areas: dict[str, dict] = {}
        for row in sheet.rows:
            area_id = row.get("area")
            if not area_id:
                self.problem(sheet.name, row.number, "indicator area", "indicator row without an area")
                continue
            area = areas.get(area_id)
            if area is None:
                area = {"id": area_id, "title": {}, "indicators": []}
                areas[area_id] = area
                self.areas.append(area)
            title = self._text(sheet, row, "area_label")
            if title and not area["title"]:
                area["title"] = title
            description = self._text(sheet, row, "area_description")
            if description and "description" not in area:
                area["description"] = description
            if row.get("area_weight") and "weight" not in area:
                area["weight"] = self._positive(sheet, row, "area_weight")
            indicator_id = row.get("indicator")
            if not indicator_id:
                continue
            indicator: dict[str, Any] = {"id": indicator_id, "title": self._text(sheet, row, "label")}
            description = self._text(sheet, row, "description")
            if description:
                indicator["description"] = description
            target = row.get("target")
            if target:
                indicator["target"] = _number(target)
                if indicator["target"] is None:
                    self.problem(sheet.name, row.number, "indicator target",
                                 f"target '{target}' is not a number (a level of the scale)")
            if row.get("weight"):
                indicator["weight"] = self._positive(sheet, row, "weight")
            if row.get("aggregation"):
                indicator["aggregation"] = row.get("aggregation").lower()
            indicator["_row"] = row.number
            area["indicators"].append(indicator)
            self.indicator_ids.add(indicator_id)
        for area in self.areas:
            if not area["title"]:
                area["title"] = {self.default_lang: area["id"]}
        self._report_unused_columns(sheet, {"area", "area_label", "area_description", "area_weight",
                                            "indicator", "label", "description", "target", "weight",
                                            "aggregation", "__ignored__"}, "not our format")

    def _positive(self, sheet: Sheet, row: Row, column: str) -> int | float | None:
        value = _number(row.get(column))
        if value is None or value <= 0:
            self.skip(sheet.name, row.number, column,
                      f"{column} '{row.get(column)}' is not a positive number; ignored")
            return None
        return value

    def _report_unused_columns(self, sheet: Sheet, used: set[str], why: str) -> None:
        for column in sheet.columns:
            if column.base in used or column.base == "__ignored__":
                continue
            if column.language is not None and self.lang_of.get(column.language) is None \
                    and column.base in _TEXT_COLUMNS:
                continue  # already reported as an unrecognised language
            rows = [r.number for r in sheet.rows if r.get(column.key)]
            if rows:
                feature = UNSUPPORTED_COLUMNS.get(column.base, why)
                self.skip(sheet.name, rows[0], f"column {column.base}",
                          f"column '{column.raw}' ignored ({feature}){_in_rows(rows)}")

    # -- survey tree --------------------------------------------------------------------------------------

    def _read_tree(self) -> list[_Node] | None:
        sheet = self.survey
        assert sheet is not None
        root: list[_Node] = []
        stack: list[_Node] = []
        for row in sheet.rows:
            ptype = parse_type(row.get("type"))
            name = row.get("name")
            if not ptype.kind:
                if name or any(k.startswith(("label", "hint")) for k in row.cells):
                    self.skip(sheet.name, row.number, "row without type", "row without a type; ignored")
                continue
            node = _Node(row, ptype, name)
            siblings = stack[-1].children if stack else root
            if ptype.kind.startswith("begin_"):
                if len(stack) >= _MAX_GROUP_NESTING:  # building the sections recurses once per level
                    self.problem(sheet.name, row.number, "groups", f"groups are nested more than "
                                 f"{_MAX_GROUP_NESTING} deep; the form cannot be imported")
                    return None
                node.children = []
                siblings.append(node)
                stack.append(node)
            elif ptype.kind.startswith("end_"):
                if not stack:
                    self.problem(sheet.name, row.number, "groups",
                                 f"'{ptype.raw.strip()}' without a matching begin_group or begin_repeat")
                    continue
                opened = stack.pop()
                if _block_word(opened.ptype.kind) != _block_word(ptype.kind):
                    self.note(sheet.name, row.number, "groups", f"'{ptype.raw.strip()}' closes "
                              f"'{opened.ptype.raw.strip()}' of row {opened.row.number}")
            else:
                siblings.append(node)
        for opened in stack:
            self.problem(sheet.name, opened.row.number, "groups",
                         f"'{opened.ptype.raw.strip()}' '{opened.name}' has no matching end")
        if self.result.problems:
            return None
        return root

    def _new_id(self, name: str, row: int, fallback: str, taken: set[str], explicit: str = "") -> str:
        if explicit and ID_RE.match(explicit) and explicit not in taken:  # our export: na_id
            taken.add(explicit)
            return explicit
        ident = make_id(name) or fallback
        base, counter = ident, 2
        while ident in taken:
            ident = f"{base}_{counter}"
            counter += 1
        taken.add(ident)
        if ident != name and name and make_id(name) == name:  # a valid name another item has already
            self.duplicates.append((row, name, ident))
        elif ident != name:
            self.renamed.append((row, name, ident))
        return ident

    def _register(self, name: str, row: int, fallback: str, explicit: str = "") -> str:
        """Give a kept question its id and remember the name it had."""
        if name in self.ids or name in self.skips:
            self.ambiguous.add(name)
        ident = self._new_id(name, row, fallback, self.taken_ids, explicit)
        if name and name not in self.ids:
            self.ids[name] = ident
        return ident

    def _skip_node(self, node: _Node, feature: str, text: str) -> None:
        self.skip(self.survey.name, node.row.number, feature, text)
        if node.name:
            if node.name in self.ids or node.name in self.skips:
                self.ambiguous.add(node.name)
            self.skips.setdefault(node.name, _Skip(node.row.number, feature))

    def _refuse_block(self, node: _Node) -> None:
        feature = REFUSED_BLOCKS.get(node.ptype.kind, f"'{node.ptype.kind}' blocks")
        self.problem(self.survey.name, node.row.number, feature, f"{feature} are not supported")

        def mark(nodes: list[_Node]) -> None:
            for child in nodes:
                if child.name:
                    self.skips.setdefault(child.name, _Skip(child.row.number, f"inside {feature}"))
                if child.children:
                    mark(child.children)

        if node.name:
            self.skips.setdefault(node.name, _Skip(node.row.number, feature))
        mark(node.children or [])

    def _build_sections(self, tree: list[_Node]) -> list[_SectionDraft]:
        sections: list[_SectionDraft] = []
        section_ids: set[str] = set()
        default: _SectionDraft | None = None
        for node in tree:
            if node.children is not None and node.ptype.kind == "begin_group" \
                    and node.row.get(NA_TYPE) != "matrix":
                ident = self._new_id(node.name, node.row.number, f"section_{len(sections) + 1}", section_ids,
                                     node.row.get(NA_ID))
                data: dict[str, Any] = {"id": ident, "title": self._text(self.survey, node.row, "label")}
                if not data["title"]:
                    data["title"] = {self.default_lang: node.name or ident}
                description = self._text(self.survey, node.row, "hint")
                if description:
                    data["description"] = description
                relevant = node.row.get("relevant")
                section = _SectionDraft(node.row.number, data,
                                        (node.row.number, relevant) if relevant else None)
                self._group_extras(node, top_level=True)
                self._walk(node.children or [], section, [])
                sections.append(section)
                default = None
                if not section.questions:
                    self.skip(self.survey.name, node.row.number, "empty group",
                              f"group '{node.name}' has no question that could be imported; section dropped")
                continue
            if node.children is not None and node.ptype.kind != "begin_group":
                self._refuse_block(node)
                continue
            if default is None:
                ident = self._new_id("main" if not sections else f"main_{len(sections) + 1}", node.row.number,
                                     "main", section_ids)
                default = _SectionDraft(node.row.number, {"id": ident, "title": None})
                sections.append(default)
            self._walk([node], default, [])
        return [s for s in sections if s.questions]

    def _group_extras(self, node: _Node, top_level: bool) -> None:
        """Report what a group row carries that a section or flattened group cannot keep."""
        appearance = node.row.get("appearance")
        if appearance and appearance.strip().lower() not in ("field-list", "table-list", "compact",
                                                              "minimal"):
            self.skip(self.survey.name, node.row.number, "group appearance",
                      f"group appearance '{appearance}' is not supported; ignored")
        if node.row.get("required") and _boolean(node.row.get("required")):
            self.skip(self.survey.name, node.row.number, "group required",
                      "required on a group has no effect; ignored")

    def _walk(self, nodes: list[_Node], section: _SectionDraft, conditions: list[_Condition]) -> None:
        for node in nodes:
            kind = node.ptype.kind
            if node.children is None:
                self._question(node, section, conditions)
                continue
            if kind != "begin_group":
                self._refuse_block(node)
                continue
            if node.row.get(NA_TYPE) == "matrix":
                self._matrix(node, section, conditions)
                continue
            inner = list(conditions)
            if node.row.get("relevant"):
                inner.append((node.row.number, "relevant", node.row.get("relevant")))
            self._group_extras(node, top_level=False)
            label = self._text(self.survey, node.row, "label")
            if label:
                if node.name in self.question_names:  # the group is named like a question: the question
                    ident = self._new_id(f"{node.name}_group", node.row.number, f"group_{node.row.number}",
                                         self.taken_ids)  # keeps the name (and ${name} references)
                else:
                    ident = self._register(node.name, node.row.number, f"group_{node.row.number}",
                                           node.row.get(NA_ID))
                data: dict[str, Any] = {"id": ident, "type": "note", "label": label}
                hint = self._text(self.survey, node.row, "hint")
                if hint:
                    data["hint"] = hint
                section.questions.append(_Draft(node, data, node.row.number, list(inner)))
            elif node.name:
                self.skips.setdefault(node.name, _Skip(node.row.number, "groups without a label"))
            self._walk(node.children, section, inner)

    # -- questions ----------------------------------------------------------------------------------------

    def _question(self, node: _Node, section: _SectionDraft, conditions: list[_Condition]) -> None:
        sheet, row, kind = self.survey, node.row, node.ptype.kind
        assert sheet is not None
        n = row.number
        label_name = f"'{node.name}'" if node.name else "(no name)"
        if kind in SKIPPED_TYPES:
            feature = SKIPPED_TYPES[kind]
            self._skip_node(node, feature, f"{feature} are not supported; {label_name} skipped")
            return
        if kind not in _SUPPORTED_KINDS:
            self._skip_node(node, f"type {kind}", f"unknown question type '{node.ptype.raw.strip()}'; "
                            f"{label_name} skipped")
            return
        appearance = row.get("appearance")
        if appearance and "search(" in appearance.replace(" ", ""):
            feature = "search() appearances"
            self._skip_node(node, feature, f"{feature} (choices from a CSV file) are not supported; "
                            f"{label_name} skipped")
            return
        na_type = row.get(NA_TYPE)
        options = set(row.get(NA_OPTIONS).split())
        data: dict[str, Any] = {"id": "", "type": ""}
        if kind in ("select_one", "select_multiple"):
            if not self._select(node, data, na_type, options):
                return
        elif kind in ("integer", "decimal"):
            data["type"] = "number"
            if kind == "integer":
                data["integer"] = True
            self._number_extras(row, data)
        elif kind == "range":
            self._range(node, data)
        elif kind == "text":
            multiline = (appearance or "").strip().lower() == "multiline"
            data["type"] = "long_text" if na_type == "long_text" or multiline else "text"
            if multiline:
                appearance = ""
            if row.get("na_max_length"):
                data["max_length"] = _number(row.get("na_max_length"))
        elif kind == "date":
            data["type"] = "date"
            for bound in ("min", "max"):
                if row.get(f"na_{bound}"):
                    data[bound] = row.get(f"na_{bound}")
        elif kind == "note":
            data["type"] = "note"
        elif kind == "acknowledge":
            data["type"] = "single_choice"
            data["choices"] = [{"value": "OK", "label": self._generated_label("ok")}]
            self.note(sheet.name, n, "acknowledge", f"acknowledge {label_name} imported as a single choice "
                      "with the one answer 'OK'")
        elif kind in ("image", "file"):
            data["type"] = "file"
            accept = row.get("accept")
            if accept:
                data["file_types"] = [t.strip().lstrip(".").lower() for t in re.split(r"[,\s]+", accept)
                                      if t.strip().lstrip(".")]
            elif kind == "image":
                data["file_types"] = ["jpg", "png"]
            if row.get("na_max_size_mb"):
                data["max_size_mb"] = _number(row.get("na_max_size_mb"))
        ident = self._register(node.name, n, f"{data['type']}_{n}", row.get(NA_ID))
        data["id"] = ident
        label = self._text(sheet, row, "label")
        hint = self._text(sheet, row, "hint")
        if not label and data["type"] == "note" and hint:
            label, hint = hint, {}
        elif not label:
            label = {self.default_lang: node.name or ident}
            self.note(sheet.name, n, "label", f"{label_name} has no label; its name is used")
        data["label"] = label
        if hint:
            data["hint"] = hint
        self._common(node, data, options, appearance)
        draft = _Draft(node, data, n, list(conditions))
        if row.get("relevant"):
            draft.conditions.append((n, "relevant", row.get("relevant")))
        if row.get("constraint") and "constraint" not in row.get(NA_GENERATED).split():
            draft.constraint = (n, row.get("constraint"))
        section.questions.append(draft)
        if node.ptype.or_other and data["type"] in ("single_choice", "multiple_choice"):
            self._or_other(node, data, section, draft)

    def _select(self, node: _Node, data: dict, na_type: str, options: set[str]) -> bool:
        row, kind = node.row, node.ptype.kind
        n = row.number
        list_name = self._list(node.ptype.list_name)
        if list_name is None:
            if not node.ptype.list_name:
                self.problem(self.survey.name, n, "choice list",
                             f"'{node.ptype.raw.strip()}' names no choice list")
            else:
                self.problem(self.survey.name, n, "choice list",
                             f"choice list '{node.ptype.list_name}' is not on the choices sheet")
            if node.name:
                self.skips.setdefault(node.name, _Skip(n, "choice list missing"))
            return False
        self.used_lists.add(list_name)
        if node.ptype.extra:
            self.skip(self.survey.name, n, "type", f"'{node.ptype.extra}' after the list name ignored")
        if row.get("choice_filter"):
            self.skip(self.survey.name, n, "choice_filter", "cascading choices (choice_filter) are not "
                      f"supported; all choices of '{list_name}' are offered")
        choices = [dict(c) for c in self.lists[list_name]]
        # A choice named not_applicable or dont_know (as many forms, REACH's among them, have) is that special
        # answer: offered as the question's own, exclusive of the others, and scored as none.
        specials = [c for c in choices if c["value"] in SPECIAL_ANSWERS]
        choices = [c for c in choices if c not in specials]
        for special in specials:
            if special["value"] not in options:
                data[special["value"]] = True
                if (list_name, special["value"]) not in self.specials_noted:
                    self.specials_noted.add((list_name, special["value"]))
                    self.note(self.choices.name if self.choices is not None else self.survey.name,
                              special.get("_row"), "choices",
                              f"choice '{special['value']}' of list '{list_name}' is offered as the question's "
                              f"special answer \"{GENERATED_LABELS[special['value']]['en']}\" (exclusive of the other "
                              "answers, scored as no level)")
        if na_type == "yes_no" and kind == "select_one":
            values = [c["value"] for c in choices]
            data["type"] = "yes_no"
            if "partly" in values:
                data["partly"] = True
            scores = {c["value"]: c["score"] for c in choices if "score" in c}
            if scores:
                data["scores"] = scores
            return True
        if na_type == "scale" and kind == "select_one":
            data["type"] = "scale"
            return True
        data["type"] = "single_choice" if kind == "select_one" else "multiple_choice"
        data["choices"] = choices
        if "other" in options and kind == "select_one":
            data["other"] = True
        return True

    def _generated_label(self, key: str) -> dict[str, str]:
        texts = GENERATED_LABELS[key]
        return {lang: texts.get(lang, texts["en"]) for lang in self.languages}

    def _or_other(self, node: _Node, data: dict, section: _SectionDraft, draft: _Draft) -> None:
        n = node.row.number
        if not any(c["value"] == "other" for c in data["choices"]):
            data["choices"].append({"value": "other", "label": self._generated_label("other")})
        other_name = f"{node.name}_other"
        if other_name in self.ids or any(r.get("name") == other_name for r in self.survey.rows):
            self.note(self.survey.name, n, "or_other", f"'{other_name}' exists already; no text question was "
                      "generated for 'or_other'")
            return
        ident = self._register(other_name, n, f"{data['id']}_other")
        other = {"id": ident, "type": "text", "label": self._generated_label("specify_other")}
        generated = _Draft(None, other, n, list(draft.conditions), generated=True)
        generated.conditions.append((n, "or_other", f"selected(${{{node.name}}}, 'other')"))
        section.questions.append(generated)
        self.note(self.survey.name, n, "or_other", f"'or_other': an 'other' choice and the text question "
                  f"'{ident}' (shown when 'other' is selected) were added")

    def _number_extras(self, row: Row, data: dict) -> None:
        for bound in ("min", "max"):
            if row.get(f"na_{bound}"):
                data[bound] = _number(row.get(f"na_{bound}"))
        unit = self._text(self.survey, row, "na_unit")
        if unit:
            data["unit"] = unit
        thresholds = row.get("na_thresholds")
        if thresholds:
            parsed = []
            for part in thresholds.replace(";", " ").split():
                at_least, _, level = part.partition(":")
                parsed.append({"at_least": _number(at_least), "level": _number(level)})
            data["thresholds"] = parsed

    def _range(self, node: _Node, data: dict) -> None:
        row = node.row
        params = _parameters(row.get("parameters"))
        start, end, step = (_number(params.get(k, d)) for k, d in (("start", "1"), ("end", "10"),
                                                                    ("step", "1")))
        levels = [s["level"] for s in self.scale] if self.scale else [0, 1, 2, 3, 4]
        consecutive = levels == list(range(levels[0], levels[-1] + 1))
        if (start, end, step) == (levels[0], levels[-1], 1) and consecutive:
            data["type"] = "scale"
            self.note(self.survey.name, row.number, "range",
                      f"range {start}-{end} imported as a scale question")
            return
        data["type"] = "number"
        if all(isinstance(v, int) for v in (start, end, step)):
            data["integer"] = True
        if start is not None:
            data["min"] = start
        if end is not None:
            data["max"] = end
        if step not in (None, 1):
            self.skip(self.survey.name, row.number, "range step", f"range step {step} is not supported; "
                      f"any number from {start} to {end} is accepted")
        for key in params:
            if key not in ("start", "end", "step"):
                self.skip(self.survey.name, row.number, "parameters",
                          f"range parameter '{key}' is not supported")

    def _common(self, node: _Node, data: dict, options: set[str], appearance: str | None) -> None:
        """Fields every question type may carry: required, messages, default, appearance, scoring."""
        sheet, row = self.survey, node.row
        n = row.number
        kind = node.ptype.kind
        required = row.get("required")
        if required:
            value = _boolean(required)
            if value is None:
                self.skip(sheet.name, n, "conditional required", f"conditional required '{required}' is not "
                          "supported; the question is optional")
            elif value and data["type"] != "note":
                data["required"] = True
        for message in ("required_message", "constraint_message"):
            text = self._text(sheet, row, message)
            if text:
                data[message] = text
        for special in SPECIAL_ANSWERS:
            if special in options:
                data[special] = True
        if appearance:
            data["appearance"] = appearance
        default = row.get("default")
        if default:
            value = self._default(data, default)
            if value is None:
                self.skip(sheet.name, n, "default", f"default '{default}' is not supported for this question "
                          "(dynamic defaults are not supported); ignored")
            else:
                data["default"] = value
        indicator = row.get("indicator")
        if indicator:
            if data["type"] not in _SCORABLE:
                self.skip(sheet.name, n, "indicator", f"indicator '{indicator}' ignored: a {data['type']} "
                          "question cannot be scored")
            elif indicator not in self.indicator_ids:
                self.skip(sheet.name, n, "indicator",
                          f"indicator '{indicator}' ignored: it is not defined on an indicators sheet")
            else:
                data["indicator"] = indicator
        if row.get("weight"):
            weight = self._positive(sheet, row, "weight")
            if weight is not None:
                data["weight"] = weight
        if row.get("calculation") and kind not in ("calculate",):
            self._use(row, "calculation")
        if row.get("parameters") and kind != "range":
            self._use(row, "parameters")

    def _default(self, data: dict, text: str) -> Any:
        if "${" in text or "(" in text:
            return None
        kind = data["type"]
        if kind == "number":
            return _number(text)
        if kind == "scale":
            return _number(text)
        if kind == "multiple_choice":
            values = text.split()
            known = {c["value"] for c in data.get("choices", [])}
            return values if all(v in known for v in values) else None
        if kind == "single_choice":
            return text if text in {c["value"] for c in data.get("choices", [])} else None
        if kind in ("matrix", "file", "note"):
            return None
        return text

    def _use(self, row: Row, column: str) -> None:
        self.column_uses.setdefault(column, []).append(row.number)

    def _matrix(self, node: _Node, section: _SectionDraft, conditions: list[_Condition]) -> None:
        """Rebuild a matrix question that our export wrote as a group of select_one rows."""
        row = node.row
        n = row.number
        ident = self._register(node.name, n, f"matrix_{n}", row.get(NA_ID))
        data: dict[str, Any] = {"id": ident, "type": "matrix", "label": self._text(self.survey, row, "label")}
        hint = self._text(self.survey, row, "hint")
        if hint:
            data["hint"] = hint
        options = set(row.get(NA_OPTIONS).split())
        rows: list[dict] = []
        list_name: str | None = None
        prefix = f"{node.name}__"
        for child in node.children or []:
            if child.children is not None or child.ptype.kind != "select_one":
                self._skip_node(child, "matrix rows",
                                "only select_one rows belong in a matrix group; skipped")
                continue
            list_name = list_name or self._list(child.ptype.list_name)
            row_id = child.name[len(prefix):] if child.name.startswith(prefix) else child.name
            item: dict[str, Any] = {"id": row_id, "label": self._text(self.survey, child.row, "label")}
            if child.row.get("indicator"):
                item["indicator"] = child.row.get("indicator")
            if child.row.get("weight"):
                item["weight"] = _number(child.row.get("weight"))
            rows.append(item)
            self.skips.setdefault(child.name, _Skip(child.row.number, "matrix rows"))
        data["rows"] = rows
        if list_name is None and any(c.ptype.list_name for c in node.children or []):
            self.problem(self.survey.name, n, "choice list",
                         "the matrix rows use a choice list that is not on the choices sheet")
            return
        if list_name and list_name.split("__")[0] != SCALE_LIST:
            data["choices"] = [dict(c) for c in self.lists[list_name]
                               if not (c["value"] in SPECIAL_ANSWERS and c["value"] in options)]
        if list_name:
            self.used_lists.add(list_name)
        appearance = row.get("appearance")
        self._common(node, data, options, "" if appearance == "field-list" else appearance)
        if any(_boolean(c.row.get("required")) for c in node.children or [] if c.children is None):
            data["required"] = True
        draft = _Draft(node, data, n, list(conditions))
        if row.get("relevant"):
            draft.conditions.append((n, "relevant", row.get("relevant")))
        section.questions.append(draft)

    # -- expressions --------------------------------------------------------------------------------------

    def _kind_of(self, data: dict) -> str:
        return {"number": "number", "scale": "number", "multiple_choice": "list", "date": "date",
                "single_choice": "string", "yes_no": "string", "text": "string", "long_text": "string"}.get(
                    data["type"], "any")

    def _finish_expressions(self, sections: list[_SectionDraft]) -> None:
        self.kinds = {d.data["id"]: self._kind_of(d.data) for s in sections for d in s.questions}
        self._finish_text_references(sections)
        for section in sections:
            if section.relevant:
                text = self._expression(section.relevant[0], "relevant", section.relevant[1], None)
                if text:
                    section.data["show_if"] = text
            for draft in section.questions:
                parts = []
                for row, column, raw in draft.conditions:
                    text = self._expression(row, column, raw, None, draft.data["id"])
                    if text:
                        parts.append(text)
                if len(parts) == 1:
                    draft.data["show_if"] = parts[0]
                elif parts:
                    draft.data["show_if"] = " and ".join(f"({p})" for p in parts)
                if draft.constraint:
                    row, raw = draft.constraint
                    text = self._expression(row, "constraint", raw, self.kinds.get(draft.data["id"], "any"))
                    if text:
                        draft.data["constraint"] = text
                    elif "constraint_message" in draft.data:
                        del draft.data["constraint_message"]

    def _finish_text_references(self, sections: list[_SectionDraft]) -> None:
        """`${name}` in labels and hints (ODK piping): renamed when the question was kept, else unwrapped."""
        piped: dict[str, list[int]] = {}
        lost: dict[tuple[str, str], list[int]] = {}
        survey = self.survey.name
        choices = self.choices.name if self.choices is not None else "choices"

        def replace(match: re.Match, sheet: str, row: int) -> str:
            name = match.group(1)
            if name in self.ids and name not in self.ambiguous:
                piped.setdefault(sheet, []).append(row)
                return "${" + self.ids[name] + "}"
            lost.setdefault((sheet, name), []).append(row)
            return f"[{name}]"

        def fixed(text: Text | None, sheet: str, row: int) -> Text | None:
            if isinstance(text, str):
                return REFERENCE_RE.sub(lambda m: replace(m, sheet, row), text) if "${" in text else text
            if not text:
                return text
            return {lang: fixed(value, sheet, row) for lang, value in text.items()}

        def fix(item: dict, keys: Iterable[str], sheet: str, row: int) -> None:
            for key in keys:
                if item.get(key):
                    item[key] = fixed(item[key], sheet, row)

        for section in sections:
            fix(section.data, ("title", "description"), survey, section.row)
            for draft in section.questions:
                keys = ("label", "hint", "constraint_message", "required_message")
                fix(draft.data, keys, survey, draft.row)
                for choice in draft.data.get("choices", []):
                    fix(choice, ("label",), choices, choice.get("_row", draft.row))
                for matrix_row in draft.data.get("rows", []):
                    fix(matrix_row, ("label",), survey, draft.row)
        for sheet, rows in piped.items():
            rows = sorted(set(rows))
            self.skip(sheet, rows[0], "label references", "references to answers in labels (${name}) are not "
                      f"filled in by this application; they are shown as written{_in_rows(rows)}")
        for (sheet, name), rows in lost.items():
            rows = sorted(set(rows))
            self.skip(sheet, rows[0], "label references", f"labels refer to ${{{name}}}, which was not "
                      f"imported; written as [{name}]{_in_rows(rows)}")

    def _expression(self, row: int, column: str, raw: str, current_kind: str | None,
                    own_id: str = "") -> str | None:
        """Our expression for an XLSForm one: references renamed and checked; None when it is left out."""
        key = (row, column, raw, current_kind)
        if key not in self.expression_memo:  # a group's relevant is read once, not once per question inside
            self.expression_memo[key] = self._read_expression(row, column, raw, current_kind)
        text = self.expression_memo[key]
        if text and own_id and column == "relevant" and f"${{{own_id}}}" in text.replace(" ", ""):
            self.skip(self.survey.name, row, "show_if", f"relevant '{_short(raw)}' refers to the question "
                      "itself; relevant ignored")
            return None
        return text

    def _read_expression(self, row: int, column: str, raw: str, current_kind: str | None) -> str | None:
        from app.questionnaires import expressions

        sheet = self.survey.name
        text = raw.strip()
        refused = False
        for name in dict.fromkeys(REFERENCE_RE.findall(text)):
            if name in self.ambiguous:
                self.problem(sheet, row, f"{column} reference",
                             f"{column} refers to ${{{name}}}, a name used by more than one row of the form")
                refused = True
            elif name in self.skips:
                skipped = self.skips[name]
                what = (f"refers to ${{{name}}} (survey row {skipped.row}: {skipped.feature}), "
                        "which was not imported")
                if column == "constraint":
                    self.skip(sheet, row, "constraint", f"constraint {what}; constraint ignored")
                    return None
                self.problem(sheet, row, f"{column} refers to {skipped.feature}", f"{column} {what}")
                refused = True
            elif name not in self.ids:
                # A broken form (pyxform refuses it too): left out, the rule would silently show or accept
                # everything. The YAML loader refuses the same mistake.
                self.problem(sheet, row, f"{column} reference", f"{column} refers to ${{{name}}}, which is not a "
                             "question of this form")
                refused = True
        if refused:
            return None
        text = REFERENCE_RE.sub(lambda m: "${" + self.ids.get(m.group(1), m.group(1)) + "}", text)
        try:
            node = expressions.parse(text)
        except expressions.ExpressionError as exc:
            self.skip(sheet, row, f"{column} syntax", f"{column} '{_short(raw)}' could not be read "
                      f"({exc.message}); {column} ignored")
            return None
        issues = expressions.check(node, self.kinds, current_kind)  # the loader refuses any of them
        if issues:
            self.skip(sheet, row, f"{column} functions", f"{column} '{_short(raw)}' is not supported "
                      f"({issues[0]}); {column} ignored")
            return None
        return text

    def _report_columns(self) -> None:
        sheet = self.survey
        consumed = {"type", "name", "label", "hint", "relevant", "constraint", "constraint_message",
                    "required", "required_message", "default", "appearance", "indicator", "weight", "accept",
                    "calculation", "parameters", "choice_filter", "repeat_count", "__ignored__", NA_TYPE,
                    NA_OPTIONS, NA_GENERATED, NA_ID, "na_min", "na_max", "na_unit", "na_thresholds",
                    "na_max_length", "na_max_size_mb"}
        for column, rows in self.column_uses.items():
            feature = UNSUPPORTED_COLUMNS.get(column, column)
            self.skip(sheet.name, rows[0], column, f"{feature} is not supported; column '{column}' "
                      f"ignored{_in_rows(rows)}")
        self._report_unused_columns(sheet, consumed, "not supported")
        if self.renamed:
            sample = _first_few([f"{old or '(none)'} → {new}" for _, old, new in self.renamed])
            self.note(sheet.name, self.renamed[0][0], "names", f"{len(self.renamed)} name(s) changed into "
                      f"valid ids (lower case letters, digits, _): {sample}")
        if self.duplicates:
            sample = _first_few([f"{old} (row {row}) → {new}" for row, old, new in self.duplicates])
            self.note(sheet.name, self.duplicates[0][0], "names", f"{len(self.duplicates)} name(s) already used "
                      f"by an earlier row, each given an id of its own: {sample}; a rule naming one of "
                      "them is refused, as it cannot tell which is meant")
        unused = [name for name in self.lists if name not in self.used_lists]
        if unused and self.choices is not None:
            self.note(self.choices.name, self.list_rows[unused[0]], "unused lists",
                      f"{len(unused)} choice list(s) used by no imported question: {_first_few(unused)}")

    # -- assembly -----------------------------------------------------------------------------------------

    def _languages(self) -> list[str]:
        """The form's languages: the default first, then every language with some text, in column order."""
        explicit = self._setting("na_languages").split()
        if explicit:
            return explicit
        present: set[str] = set()
        for sheet in self.wb.sheets.values():
            for column in sheet.columns:
                if column.base not in _TRANSLATED_BASES:
                    continue
                lang = self.plain_lang if column.language is None else self.lang_of.get(column.language)
                if lang and lang not in present and any(row.get(column.key) for row in sheet.rows):
                    present.add(lang)
        if self.settings_sheet is not None and self._setting("form_title", "title"):
            present.add(self.default_lang)
        if present and self.default_lang not in present:
            first = next(c for c in [self.plain_lang, *self.lang_order] if c in present)
            sheet = self.settings_sheet.name if self.settings_sheet else "settings"
            self.note(sheet, self.settings_row, "default_language",
                      f"no text in the default language ({self.default_lang}); {first} is used instead")
            self.default_lang = first
        others = [c for c in self.lang_order if c in present and c != self.default_lang]
        plain = self.plain_lang
        if plain in present and plain not in others and plain != self.default_lang:
            others.insert(0, plain)
        return [self.default_lang, *others]

    def _settings_text(self, base: str) -> dict[str, str]:
        sheet = self.settings_sheet
        if sheet is None or not sheet.rows:
            return {}
        return self._text(sheet, sheet.rows[0], base)

    def _assemble(self, sections: list[_SectionDraft]) -> dict:
        stem = re.sub(r"\.(xlsx|xlsm|xls)$", "", Path(self.filename).name, flags=re.IGNORECASE)
        raw_id = self._setting("form_id", "id_string")
        ident = make_slug(raw_id) or make_slug(stem) or "imported-form"
        settings = self.settings_sheet.name if self.settings_sheet is not None else "settings"
        row = self.settings_row if self.settings_sheet is not None else None
        origin = f"made from the file name '{stem}'" if ident == make_slug(stem) else "a default"
        if raw_id and ident == make_slug(raw_id) and ident != raw_id:
            self.note(settings, row, "form_id", f"form_id '{raw_id}' imported as '{ident}'")
        elif raw_id and ident != raw_id:
            self.note(settings, row, "form_id", f"form_id '{raw_id}' cannot be made into an id; the questionnaire "
                      f"id is '{ident}' ({origin})")
        elif not raw_id:
            self.note(settings, row, "form_id", f"no form_id: the questionnaire id is '{ident}' ({origin})")
        title: Text = self._settings_text("na_title") or self._setting("form_title", "title") or stem
        description = self._settings_text("na_description")
        languages = self.languages
        data: dict[str, Any] = {"schema_version": 1, "id": ident, "title": title}
        if description:
            data["description"] = description
        data["languages"] = languages
        if self.scale:
            data["scale"] = self.scale
        else:
            data["scale"] = [{"level": i, "label": {lang: texts.get(lang, texts["en"]) for lang in languages}}
                             for i, texts in enumerate(DEFAULT_SCALE_LABELS)]
            if self.wb.sheets.get("scale") is None:
                self.note(self.survey.name, None, "scale", "no scale sheet: the default 0-4 scale is used")
        data["areas"] = self.areas
        out_sections = []
        for si, section in enumerate(sections):
            if section.data.get("title") is None:
                section.data["title"] = title if isinstance(title, str) else dict(title)
            questions = []
            for qi, draft in enumerate(section.questions):
                questions.append(draft.data)
                self.row_of_path[(si, qi)] = draft.row
                for k, choice in enumerate(draft.data.get("choices") or []):
                    if "_row" in choice:
                        self.choice_rows[(si, qi, k)] = choice["_row"]
            self.row_of_path[(si, None)] = section.row
            out_sections.append({**section.data, "questions": questions})
        data["sections"] = out_sections
        return _clean(data)

    def _validate(self, data: dict) -> None:
        from pydantic import ValidationError

        from app.questionnaires.loader import definition_problems, format_path
        from app.questionnaires.schema import Definition

        try:
            definition = Definition.model_validate(data)
        except ValidationError as exc:
            seen = set()
            for error in exc.errors():
                loc = tuple(p for p in error.get("loc", ()) if not (isinstance(p, str) and p.startswith(
                    ("str", "dict["))))
                message = error.get("msg", "invalid").removeprefix("Value error, ")
                if (loc, message) not in seen:
                    seen.add((loc, message))
                    self._schema_problem(loc, format_path(loc), message)
            return
        # One note per message and sheet: a translation missing from a choice row and from a survey row are two
        # (grouped by message alone, the rows of the second sheet were left out)
        warnings: dict[tuple[str, str], list[int | None]] = {}
        for problem in definition_problems(definition, self.filename):
            loc = _parse_path(problem.path)
            if problem.severity == "error":
                self._schema_problem(loc, problem.path, problem.message)
            else:
                sheet, row = self._where(loc)
                warnings.setdefault((problem.message, sheet), []).append(row)
        for (message, sheet), places in warnings.items():
            rows = sorted({r for r in places if r})
            self.note(sheet, places[0], "check", f"{message}{_in_rows(rows)}")
        if not self.result.problems:
            self.result.definition = definition

    def _where(self, loc: tuple) -> tuple[str, int | None]:
        """The sheet and row a path of the definition came from."""
        survey = self.survey.name
        if len(loc) >= 2 and loc[0] == "sections" and isinstance(loc[1], int):
            qi = loc[3] if len(loc) >= 4 and loc[2] == "questions" and isinstance(loc[3], int) else None
            if qi is not None and len(loc) >= 6 and loc[4] == "choices" and isinstance(loc[5], int):
                row = self.choice_rows.get((loc[1], qi, loc[5]))
                if row:
                    return (self.choices.name if self.choices else "choices"), row
            return survey, self.row_of_path.get((loc[1], qi)) or self.row_of_path.get((loc[1], None))
        if loc and loc[0] == "scale":
            index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
            row = self.scale_rows[index] if index < len(self.scale_rows) else None
            return "scale", row
        if loc and loc[0] == "areas":
            rows = [ind.get("_row") for area in self.areas for ind in area["indicators"]]
            if len(loc) >= 4 and isinstance(loc[1], int) and isinstance(loc[3], int) \
                    and loc[1] < len(self.areas) and loc[3] < len(self.areas[loc[1]]["indicators"]):
                return "indicators", self.areas[loc[1]]["indicators"][loc[3]].get("_row")
            return "indicators", next((r for r in rows if r), None)
        return (self.settings_sheet.name if self.settings_sheet else "settings"), self.settings_row

    def _schema_problem(self, loc: tuple, path: str, message: str) -> None:
        sheet, row = self._where(loc)
        self.problem(sheet, row or 1, f"schema {path}", f"{path}: {message}")


def _parse_path(path: str) -> tuple:
    """'sections[2].questions[5].show_if' -> ('sections', 2, 'questions', 5, 'show_if')."""
    loc: list = []
    for name, index in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]", path):
        loc.append(int(index) if index else name)
    return tuple(loc)


# ---------------------------------------------------------------------------------------------------------
# Helpers


def _first_few(items: list[str], shown: int = 5) -> str:
    """"a, b, c, d, e and 3 more": the first `shown` items of a list a note names."""
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def _number(text: Any) -> int | float | None:
    """A number from cell text ("3", "2.5", "1e3"), int when integral; None when not a number."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        return int(text) if float(text).is_integer() else text
    try:
        value = float(str(text).strip().replace(",", "."))
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    written_as_integer = "." not in str(text) and "e" not in str(text).lower()
    return int(value) if value.is_integer() and written_as_integer else value


def _boolean(text: str) -> bool | None:
    """yes/true/TRUE/1/true() -> True, no/false/0 -> False, anything else (an expression) -> None."""
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE or not lowered:
        return False
    return None


def _parameters(text: str) -> dict[str, str]:
    """`start=0 end=10 step=1` (also with ; or , between) as a dict."""
    out = {}
    for part in re.split(r"[\s;,]+", text.strip()):
        key, sep, value = part.partition("=")
        if sep:
            out[key.strip().lower()] = value.strip()
    return out


#: Groups inside one another that the import accepts (real forms use a handful).
_MAX_GROUP_NESTING = 50


def _block_word(kind: str) -> str:
    word = kind.split("_", 1)[1] if "_" in kind else kind
    return "repeat" if word in ("repeat", "loop") else word


def _in_rows(rows: list[int]) -> str:
    if len(rows) == 1:
        return ""
    shown = ", ".join(str(r) for r in rows[:8])
    return f" in {len(rows)} rows ({shown}{', …' if len(rows) > 8 else ''})"


def _short(text: str, size: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


def _clean(value: Any) -> Any:
    """Drop None values and private keys (starting with _) recursively."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None and not str(k).startswith("_")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value
