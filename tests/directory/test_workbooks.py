"""The directory workbook as pure code: the template's sheets, headings and drop-downs, and reading it back."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from app.directory.workbooks import (
    MAX_BYTES,
    AgencyRow,
    ContactRow,
    Vocabulary,
    build_template,
    cell_text,
    neutralise,
    read_directory,
    unneutralise,
)
from tests.directory.conftest import EN_HEADERS, RU_HEADERS

COUNTRIES = [("KZ", "Kazakhstan"), ("KG", "Kyrgyzstan"), ("TJ", "Tajikistan"), ("TM", "Turkmenistan"),
             ("UZ", "Uzbekistan")]
KINDS = [("interior", "Ministry of internal affairs / police"), ("fiu", "Financial intelligence unit"),
         ("regional", "Regional body"), ("other", "Other")]
LOCALES = [("en", "English"), ("ru", "Русский")]
VOCABULARY = Vocabulary(
    countries={"KZ": ["Kazakhstan", "Казахстан"], "KG": ["Kyrgyzstan"], "TJ": [], "TM": [], "UZ": []},
    kinds={code: [label] for code, label in KINDS},
    languages={"en": ["English"], "ru": ["Русский", "Russian"]},
)


def template(lang="en", **kwargs) -> openpyxl.Workbook:
    return build_template(lang, COUNTRIES, KINDS, LOCALES, **kwargs)


def as_bytes(book: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def reopened(book: openpyxl.Workbook) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(as_bytes(book)))


def filled(agencies=(), contacts=(), lang="en", headers=None) -> bytes:
    book = template(lang)
    names = {"en": ("Agencies", "Contacts"), "ru": ("Ведомства", "Контакты")}[lang]
    for name, rows in zip(names, (agencies, contacts), strict=True):
        for row in rows:
            book[name].append(row)
    return as_bytes(book)


def validations(sheet) -> dict[str, str]:
    """Column letter -> formula of the list validation that covers it (from row 2)."""
    found = {}
    for validation in sheet.data_validations.dataValidation:
        assert validation.type == "list"
        for cell_range in validation.sqref.ranges:
            assert cell_range.min_row == 2 and cell_range.max_row >= 1000
            assert cell_range.min_col == cell_range.max_col
            found[openpyxl.utils.get_column_letter(cell_range.min_col)] = validation.formula1
    return found


@pytest.mark.parametrize("lang, headers, names", [
    ("en", EN_HEADERS, ["Instructions", "Agencies", "Contacts", "Lists"]),
    ("ru", RU_HEADERS, ["Инструкция", "Ведомства", "Контакты", "Списки"]),
])
def test_template_has_the_sheets_and_headings(lang, headers, names):
    book = reopened(template(lang))
    assert book.sheetnames == names
    assert [c.value for c in book[names[1]][1]] == headers["agencies"]
    assert [c.value for c in book[names[2]][1]] == headers["contacts"]
    assert book[names[1]].max_row == 1 and book[names[2]].max_row == 1  # empty, ready to fill in
    instructions = "\n".join(str(c.value) for c in book[names[0]]["A"] if c.value)
    assert names[1] in instructions and names[2] in instructions and "flask directory import" in instructions


@pytest.mark.parametrize("lang, yes_no", [("en", '"yes,no"'), ("ru", '"да,нет"')])
def test_template_has_drop_downs_on_the_right_columns(lang, yes_no):
    book = reopened(template(lang))
    agencies, contacts = book.worksheets[1], book.worksheets[2]
    # Agencies: A country, C type, F active; Contacts: A agency country, G language, H focal point, I active
    assert validations(agencies) == {"A": '"KZ,KG,TJ,TM,UZ"', "C": '"interior,fiu,regional,other"', "F": yes_no}
    assert validations(contacts) == {"A": '"KZ,KG,TJ,TM,UZ"', "G": '"en,ru"', "H": yes_no, "I": yes_no}
    for sheet in (agencies, contacts):
        for validation in sheet.data_validations.dataValidation:
            assert validation.allow_blank  # an empty country is a regional body; other blanks keep values
            assert validation.showErrorMessage


def test_long_lists_are_referenced_on_the_lists_sheet():
    many = [(f"Z{i}", f"Country {i}") for i in range(90)]
    book = reopened(build_template("en", many, KINDS, LOCALES))
    formula = validations(book["Agencies"])["A"]
    assert formula == "'Lists'!$A$2:$A$91"
    assert [c.value for c in book["Lists"]["A"][1:4]] == [many[0][0], many[1][0], many[2][0]]


def test_lists_sheet_has_codes_and_labels():
    book = reopened(template("ru"))
    lists = book["Списки"]
    assert lists["A2"].value == "KZ" and lists["B2"].value == "Kazakhstan"
    assert lists["C2"].value == "interior" and lists["D2"].value == "Ministry of internal affairs / police"
    assert lists["E3"].value == "ru" and lists["F3"].value == "Русский"
    assert lists["G2"].value == "да" and lists["G3"].value == "нет"


def test_phone_column_is_text_formatted():
    book = template("en")
    assert book["Contacts"].column_dimensions["F"].number_format == "@"


def test_values_from_the_database_are_neutralised():
    agencies = [AgencyRow("KZ", "=HYPERLINK(1)", "other", {"en": "+Plus", "ru": "@at", "kk": "-minus"}, True)]
    contacts = [ContactRow("KZ", "=HYPERLINK(1)", "\tTab", "-x@example.org", position="=cmd|' /C calc'!A0",
                           phone="+7 701 000 0000", locale="ru", is_focal_point=False, is_active=True)]
    countries = [("KZ", "=1+1")]
    book = reopened(build_template("en", countries, KINDS, LOCALES, agencies=agencies, contacts=contacts))
    # Texts a spreadsheet would take for formulas are text cells with Excel's quote prefix: shown as they are,
    # without an apostrophe in the value (before, a visible "'+7 701 ..." that people had to clean up).
    row = book["Agencies"][2]
    assert [c.value for c in row] == ["KZ", "=HYPERLINK(1)", "other", "+Plus", "@at", "-minus", "yes"]
    assert [c.quotePrefix for c in row] == [False, True, False, True, True, True, False]
    assert [c.value for c in book["Agencies"][1]][5] == "Name (kk)"  # extra languages get a column
    contact = book["Contacts"][2]
    assert [c.value for c in contact][1:6] == ["=HYPERLINK(1)", "\tTab", "=cmd|' /C calc'!A0", "-x@example.org",
                                               "+7 701 000 0000"]
    assert all(c.quotePrefix and c.data_type == "s" for c in contact[1:6])
    assert book["Lists"]["B2"].value == "'=1+1"
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)


def test_neutralise_round_trip():
    for text in ["=SUM(A1)", "+7 701", "-5", "@x", "\tx", "\rx", "plain", "'quoted", ""]:
        assert unneutralise(neutralise(text)) == text
    assert neutralise("plain") == "plain" and neutralise("=1") == "'=1"


def test_filled_template_reads_back_what_was_written():
    agencies = [AgencyRow("KZ", "MVD", "interior", {"en": "Ministry", "ru": "Министерство", "kk": "ІІМ"}, True),
                AgencyRow("", "RATS", "regional", {"en": "RATS SCO"}, False)]
    contacts = [ContactRow("KZ", "MVD", "Иван", "иван@mvd.kz", position="Head", phone="+7 701", locale="ru",
                           is_focal_point=True, is_active=True)]
    for lang in ("en", "ru"):
        book = build_template(lang, COUNTRIES, KINDS, LOCALES, agencies=agencies, contacts=contacts)
        result = read_directory(as_bytes(book), VOCABULARY)
        assert result.problems == []
        assert [(a.country, a.acronym, a.kind, a.names, a.is_active) for a in result.agencies] == [
            ("KZ", "MVD", "interior", {"en": "Ministry", "ru": "Министерство", "kk": "ІІМ"}, True),
            ("", "RATS", "regional", {"en": "RATS SCO"}, False)]
        contact = result.contacts[0]
        assert (contact.name, contact.email, contact.phone, contact.locale, contact.is_focal_point) == (
            "Иван", "иван@mvd.kz", "+7 701", "ru", True)


def test_cells_are_read_leniently():
    data = filled(
        agencies=[["kz", "MVD", "Ministry of internal affairs / police", "Ministry", None, "YES"],
                  [None, None, None, None, None, None],
                  ["Казахстан", "FIU", "FIU", "  Financial\n  unit ", "", True],
                  [None, "RATS", None, "RATS", None, None]],
        contacts=[["KZ", "mvd", "  A   Person ", None, " A.Person+ct@Example.ORG ", 77011234567, "Russian", "да",
                   "нет"],
                  ["kz", "FIU", "B", "Chief", "b@example.org", 77011234567.0, None, 0, 1]],
    )
    result = read_directory(data, VOCABULARY)
    assert result.problems == []
    mvd, fiu, rats = result.agencies
    assert (mvd.country, mvd.kind, mvd.names, mvd.is_active, mvd.row) == ("KZ", "interior", {"en": "Ministry"}, True, 2)
    assert (fiu.country, fiu.kind, fiu.names, fiu.is_active, fiu.row) == ("KZ", "fiu", {"en": "Financial unit"}, True,
                                                                          4)
    assert (rats.country, rats.kind, rats.is_active, rats.row) == ("", None, None, 5)  # blank row 3 skipped
    first, second = result.contacts
    assert (first.name, first.email, first.phone, first.locale, first.is_focal_point, first.is_active) == (
        "A Person", "a.person+ct@example.org", "77011234567", "ru", True, False)
    assert first.position is None  # empty: keep what is stored
    assert (second.phone, second.locale, second.is_focal_point, second.is_active) == ("77011234567", None, False, True)


def test_russian_sheet_names_and_headings_are_read():
    data = filled(agencies=[["KZ", "MVD", "interior", "Ministry", "Министерство", "да"]],
                  contacts=[["KZ", "MVD", "Иван", "", "ivan@example.org", "", "ru", "да", "да"]], lang="ru")
    result = read_directory(data, VOCABULARY)
    assert result.problems == [] and len(result.agencies) == 1 and len(result.contacts) == 1


def test_columns_may_be_moved_and_extra_columns_are_ignored():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Contacts"
    sheet.append(["Notes", "E-mail", "Name", "Agency acronym", "Agency country"])
    sheet.append(["anything", "x@example.org", "X", "MVD", "KZ"])
    result = read_directory(as_bytes(book), VOCABULARY, existing_agencies={("KZ", "mvd")})
    assert result.problems == []
    assert (result.contacts[0].email, result.contacts[0].agency_key) == ("x@example.org", ("KZ", "mvd"))


@pytest.mark.parametrize("merged", [True, False])
def test_a_title_above_the_headings_is_left_out_and_rows_keep_their_numbers(merged):
    """Most real contact lists start with a title row: the headings are the first row holding one of the table's
    headings (the title was read as the headings, and the real headings' row blamed for a column 'without a
    heading'); problems still name the rows as Excel numbers them."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Contacts"
    sheet.append(["Partner contact list (December 2026)"])
    if merged:
        sheet.merge_cells("A1:G1")
    sheet.append([])
    sheet.append(["Agency country", "Agency acronym", "Name", "Position", "E-mail", "Phone", "Language"])
    sheet.append(["KZ", "MVD", "Ivanov", "head", "ivanov@mvd.kz.example", "", "ru"])
    sheet.append(["KZ", "MVD", "Petrov", "", "not-an-address", "", "ru"])
    result = read_directory(as_bytes(book), VOCABULARY, existing_agencies={("KZ", "mvd")})
    assert codes(result) == [("bad_email", "Contacts", 5, "E-mail")]
    sheet.delete_rows(5)
    result = read_directory(as_bytes(book), VOCABULARY, existing_agencies={("KZ", "mvd")})
    assert result.problems == []
    assert [(c.name, c.email) for c in result.contacts] == [("Ivanov", "ivanov@mvd.kz.example")]


def test_a_sheet_without_any_known_heading_names_the_missing_columns():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Contacts"
    sheet.append(["Partner contact list"])
    sheet.append(["Land", "Kürzel", "Person"])
    result = read_directory(as_bytes(book), VOCABULARY)
    assert {p.code for p in result.problems} == {"missing_column"}


def codes(result) -> list[tuple]:
    return [(p.code, p.sheet, p.row, p.column) for p in result.problems]


def test_every_problem_is_listed_with_its_sheet_row_and_column():
    data = filled(
        agencies=[["KZ", "MVD", "interior", "Ministry", "", "yes"],
                  ["XX", "GP", "interior", "Prosecutor", "", "yes"],
                  ["KZ", "BRD", "border-guards", "Border", "", "yes"],
                  ["KZ", "mvd", "interior", "Ministry again", "", "yes"],
                  ["KZ", "NONAME", "other", "", "", "yes"],
                  ["KZ", "ACT", "other", "Active?", "", "maybe"],
                  ["KZ", "", "other", "No acronym", "", ""]],
        contacts=[["KZ", "MVD", "Good", "", "good@example.org", "", "ru", "yes", "yes"],
                  ["KZ", "MVD", "Bad mail", "", "not-an-address", "", "ru", "", ""],
                  ["KZ", "MVD", "Twice", "", "GOOD@example.org", "", "", "", ""],
                  ["KZ", "NOPE", "Orphan", "", "orphan@example.org", "", "", "", ""],
                  ["", "NOPE", "Regional orphan", "", "orphan2@example.org", "", "", "", ""],
                  ["KZ", "MVD", "", "", "noname@example.org", "", "", "", ""],
                  ["KZ", "MVD", "Lang", "", "lang@example.org", "", "fr", "", ""],
                  ["KZ", "MVD", "Focal", "", "focal@example.org", "", "", "perhaps", ""]],
    )
    result = read_directory(data, VOCABULARY)
    assert result.agencies == [] and result.contacts == []  # nothing to import when anything is wrong
    assert codes(result) == [
        ("unknown_country", "Agencies", 3, "Country"),
        ("unknown_kind", "Agencies", 4, "Type"),
        ("duplicate_agency", "Agencies", 5, "Acronym"),
        ("missing_name", "Agencies", 6, "Name (en)"),
        ("bad_yes_no", "Agencies", 7, "Active"),
        ("required", "Agencies", 8, "Acronym"),
        ("bad_email", "Contacts", 3, "E-mail"),
        ("duplicate_email", "Contacts", 4, "E-mail"),
        ("unknown_agency", "Contacts", 5, "Agency acronym"),
        ("unknown_regional_agency", "Contacts", 6, "Agency acronym"),
        ("required", "Contacts", 7, "Name"),
        ("unknown_language", "Contacts", 8, "Language"),
        ("bad_yes_no", "Contacts", 9, "Focal point"),
    ]
    duplicate = result.problems[2]
    assert duplicate.params["first_row"] == 2
    assert result.problems[7].params == {"value": "good@example.org", "first_row": 2}


def test_contact_may_refer_to_an_agency_already_in_the_directory():
    data = filled(contacts=[["KZ", "MVD", "X", "", "x@example.org", "", "", "", ""]])
    assert codes(read_directory(data, VOCABULARY)) == [("unknown_agency", "Contacts", 2, "Agency acronym")]
    assert read_directory(data, VOCABULARY, existing_agencies={("KZ", "mvd")}).problems == []


def test_missing_columns_are_reported_once_per_sheet():
    book = openpyxl.Workbook()
    book.active.title = "Agencies"
    book.active.append(["Country", "Name (en)"])
    book.active.append(["KZ", "Ministry"])
    contacts = book.create_sheet("Контакты")
    contacts.append(["ФИО", "Эл. почта"])
    contacts.append(["X", "x@example.org"])
    result = read_directory(as_bytes(book), VOCABULARY)
    assert [(p.code, p.sheet, p.params.get("column")) for p in result.problems] == [
        ("missing_column", "Agencies", "Acronym"),
        ("missing_column", "Контакты", "Agency country"),
        ("missing_column", "Контакты", "Agency acronym"),
    ]


def test_a_workbook_without_directory_sheets_is_refused():
    book = openpyxl.Workbook()
    book.active.title = "Sheet1"
    result = read_directory(as_bytes(book), VOCABULARY)
    assert [p.code for p in result.problems] == ["no_sheets"]
    assert "Agencies" in result.problems[0].params["expected"] and result.problems[0].params["found"] == "Sheet1"


def garbage_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<garbage")
        archive.writestr("xl/workbook.xml", "this is not XML at all")
    return buffer.getvalue()


def docx_like_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


ENCRYPTED = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptionInfo".encode("utf-16-le")
             + b"\x00" * 50 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 1000)


@pytest.mark.parametrize("data, code", [
    (b"", "empty_file"),
    (b"name,email\nx,y@example.org\n", "not_workbook"),
    (b"%PDF-1.7 garbage", "not_workbook"),
    (b"PK\x03\x04" + b"\x00garbage" * 100, "damaged"),
    (garbage_zip(), "damaged"),
    (docx_like_zip(), "not_workbook"),
    (ENCRYPTED, "encrypted"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000, "old_format"),
    (b"PK\x03\x04" + b"\x00" * MAX_BYTES, "too_large"),
])
def test_files_that_are_not_readable_workbooks_are_refused(data, code):
    result = read_directory(data, VOCABULARY)
    assert [p.code for p in result.problems] == [code]
    assert result.agencies == [] and result.contacts == []


def test_too_many_rows_are_refused(monkeypatch):
    from app.directory import workbooks

    monkeypatch.setattr(workbooks, "MAX_ROWS", 3)
    rows = [["KZ", f"A{i}", "other", f"Agency {i}", "", ""] for i in range(5)]
    result = read_directory(filled(agencies=rows), VOCABULARY)
    assert [(p.code, p.sheet) for p in result.problems] == [("too_many_rows", "Agencies")]


@pytest.mark.parametrize("value, text", [
    (None, ""), (77011234567, "77011234567"), (77011234567.0, "77011234567"), (1.5, "1.5"), (" a \n b ", "a b"),
    ("'=1+1", "=1+1"), ("'plain", "'plain"),
])
def test_cell_text(value, text):
    assert cell_text(value) == text


def _with_saved_result(data: bytes, cell: str, kind: str, result: str) -> bytes:
    """The workbook with the result of the formula in `cell` saved as type `kind` (t="str" a text, t="e" an
    error), as Excel and LibreOffice save it."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            start = f'<c r="{cell}"><f>'.encode()
            if item.filename.startswith("xl/worksheets/") and start in content:
                head, tail = content.split(start, 1)
                formula, rest = tail.split(b"</f><v />", 1)
                content = head + f'<c r="{cell}" t="{kind}"><f>'.encode() + formula + b"</f><v>" + \
                    result.encode() + b"</v>" + rest
            target.writestr(item, content)
    return out.getvalue()


def test_a_formula_saved_as_an_empty_text_is_an_empty_cell_and_an_error_result_is_refused():
    """IF(...; ""; ...) saved by Excel is an empty text, read as an empty cell (it was refused as a result "not
    saved", which saving again could not cure); a formula whose saved result is #N/A is refused with its cell
    (it was imported as a contact named "#N/A")."""
    from app.directory.labels import problem_text

    data = filled(agencies=[["KZ", "MVD", "interior", "Ministry", "", "yes"]],
                  contacts=[["KZ", "MVD", "Erlan", '=IF(TRUE,"","x")', "erlan@mvd.kz", "", "ru", "", ""]])
    empty = read_directory(_with_saved_result(data, "D2", "str", ""), VOCABULARY)
    assert empty.problems == [] and [(c.name, c.position) for c in empty.contacts] == [("Erlan", None)]
    data = filled(agencies=[["KZ", "MVD", "interior", "Ministry", "", "yes"]],
                  contacts=[["KZ", "MVD", '=VLOOKUP("x",A1:A2,2,FALSE)', "", "erlan@mvd.kz", "", "ru", "", ""]])
    error = read_directory(_with_saved_result(data, "C2", "e", "#N/A"), VOCABULARY)
    assert error.contacts == [] and codes(error) == [("formula_error", "Contacts", 2, "Name")]
    assert problem_text(error.problems[0]) == (
        'Contacts row 2, column Name: This cell holds a formula (=VLOOKUP("x",A1:A2,2,FALSE)) whose result is the '
        "error #N/A, not a value. Correct the formula, or type the value itself.")


def test_a_formula_without_a_saved_result_is_refused_not_read_as_empty():
    """openpyxl (and other programs that write workbooks) leave formulas without their result: read as empty, an
    e-mail made by a formula would be a missing e-mail, and a row of formulas would vanish. Each such cell is
    named; a formula whose result was saved gives its result."""
    data = filled(
        agencies=[["KZ", "MVD", "interior", "Ministry", "", "yes"]],
        contacts=[["KZ", "MVD", "Erlan", "", '=LOWER("ERLAN@MVD.KZ")', "", "ru", "", ""],
                  ['=UPPER("kz")', '=UPPER("mvd")', '="Aigul"', "", '="aigul@mvd.kz"', "", "", "", ""]])
    result = read_directory(data, VOCABULARY)
    assert result.contacts == [] and codes(result) == [
        ("unsaved_formula", "Contacts", 2, "E-mail"), ("unsaved_formula", "Contacts", 3, "Agency country"),
        ("unsaved_formula", "Contacts", 3, "Agency acronym"), ("unsaved_formula", "Contacts", 3, "Name"),
        ("unsaved_formula", "Contacts", 3, "E-mail")]
    assert result.problems[0].params == {"formula": '=LOWER("ERLAN@MVD.KZ")'}
    from app.directory.labels import problem_text

    assert problem_text(result.problems[0]) == (
        'Contacts row 2, column E-mail: This cell holds a formula (=LOWER("ERLAN@MVD.KZ")) whose result was not '
        "saved in the file, so it would be read as empty. Type the value itself, or open the workbook in Excel or "
        "LibreOffice, save it and upload it again.")

    data = filled(agencies=[["KZ", "MVD", "interior", "Ministry", "", "yes"]],
                  contacts=[["KZ", "MVD", "Erlan", "", '=LOWER("ERLAN@MVD.KZ")', "", "ru", "", ""]])
    saved = read_directory(_with_saved_result(data, "E2", "str", "erlan@mvd.kz"), VOCABULARY)
    assert saved.problems == [] and [c.email for c in saved.contacts] == ["erlan@mvd.kz"]
