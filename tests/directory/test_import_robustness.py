"""The Excel import against workbooks as people really make them: merged cells, a sheet twice, refused e-mail
addresses shown in Russian, and text pasted from a PDF with invisible characters."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from tests.conftest import add_translations
from tests.directory.conftest import RU_HEADERS
from tests.directory.test_import import run_import, upload


def count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


def workbook(agencies=(), contacts=(), change=None, lang: str = "en") -> bytes:
    """The app's template with these rows on its two sheets, changed by `change(book)` as a person would in
    Excel, as .xlsx bytes."""
    from app.directory import services

    book = services.template_workbook(lang)
    names = {"en": ("Agencies", "Contacts"), "ru": ("Ведомства", "Контакты")}[lang]
    for name, rows in zip(names, (agencies, contacts), strict=True):
        for row in rows:
            book[name].append(list(row))
    if change:
        change(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


#: The Russian proposed for the new reasons (as in /tmp/i18n/dirfix.json), until they are in the catalogue.
PROPOSED_RUSSIAN = {
    "it contains characters that are not allowed: %(chars)s": "содержит недопустимые символы: %(chars)s",
    "it contains a space": "содержит пробел",
    "the part after the @ sign is not a domain name such as example.org":
        "часть после знака @ не является доменным именем вида example.org",
}


@pytest.fixture
def proposed_russian(monkeypatch):
    """Serve PROPOSED_RUSSIAN in Russian before the real catalogue (whose words stay the real ones)."""
    add_translations(monkeypatch, "ru", PROPOSED_RUSSIAN)


def read(data: bytes, countries) -> list:
    """The problems `read_directory` finds in a workbook, with the vocabulary the import uses."""
    from app.directory import services
    from app.directory.workbooks import read_directory

    return read_directory(data, services._vocabulary(countries.values())).problems


def problem_lines(output: str) -> list[str]:
    """The problem lines the CLI printed (`FILE: <sheet> ...`), without the file name."""
    return [line.split(": ", 1)[1] for line in output.splitlines() if line.startswith("/") and ": " in line]


# ---------------------------------------------------------------------------------------------------------
# Merged cells


def test_merged_country_cells_are_refused_instead_of_making_regional_bodies(app_ctx, countries, db_session,
                                                                             tmp_path):
    from app.directory.models import Agency

    def merge(book):
        sheet = book["Agencies"]
        sheet.merge_cells("A2:A4")  # "KZ" written once for three agencies
        # Merges that hide nothing the import reads: columns of notes (with a heading: values under none are
        # refused, see test_values_under_no_heading_are_refused), empty cells
        sheet["G1"], sheet["G2"] = "Notes", "checked by the desk officer"
        sheet.merge_cells("G2:G4")
        sheet["I1"], sheet["I2"] = "Remarks", "to be confirmed"
        sheet.merge_cells("I2:K4")
        sheet.merge_cells("B8:D8")

    path = tmp_path / "merged.xlsx"
    path.write_bytes(workbook([["KZ", "MVD", "interior", "Ministry of Internal Affairs", "", ""],
                               ["", "GP", "prosecutor", "Prosecutor General's Office", "", ""],
                               ["", "AFM", "fiu", "Financial Monitoring Agency", "", ""]], change=merge))
    result = run_import(app_ctx, path)
    assert result.exit_code == 1, result.output
    line, = problem_lines(result.output)
    assert line.startswith("Agencies row 2, column Country: ")
    assert "Nothing was imported" in result.output
    assert count(db_session, Agency) == 0
    problem, = read(path.read_bytes(), countries)
    assert (problem.code, problem.params) == ("merged_cells", {"range": "A2:A4"})


def test_merged_type_and_active_cells_are_refused_on_the_upload_page(staff, countries, db_session):
    from app.directory.models import Agency

    def merge(book):
        book["Agencies"].merge_cells("C2:C3")
        book["Agencies"].merge_cells("F2:F3")

    data = workbook([["KZ", "MVD", "interior", "Ministry of Internal Affairs", "", "no"],
                     ["KZ", "MIA", "", "Ministry of Information", "", ""]], change=merge)
    response = upload(staff, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was imported: the file has 2 problems." in page
    assert "Agencies row 2, column Type:" in page and "Agencies row 2, column Active:" in page
    assert count(db_session, Agency) == 0


def test_merged_agency_country_on_contacts_is_named_rather_than_a_missing_regional_body(
        app_ctx, countries, make_agency, db_session, tmp_path):
    from app.directory.models import Contact

    make_agency("KZ", "MVD")
    make_agency("KZ", "GP")
    path = tmp_path / "contacts.xlsx"
    path.write_bytes(workbook(contacts=[["KZ", "MVD", "Ерлан Нурланов", "", "erlan@example.org", "", "", "", ""],
                                        ["", "GP", "Айгуль Серикова", "", "aigul@example.org", "", "", "", ""]],
                              change=lambda book: book["Contacts"].merge_cells("A2:A3")))
    result = run_import(app_ctx, path)
    assert result.exit_code == 1
    line, = problem_lines(result.output)
    assert line.startswith("Contacts row 2, column Agency country: ")
    assert "regional body" not in result.output
    assert count(db_session, Contact) == 0


# ---------------------------------------------------------------------------------------------------------
# A sheet twice


def test_a_second_contacts_sheet_is_refused_rather_than_ignored(app_ctx, countries, db_session, tmp_path):
    from app.directory.models import Agency, Contact

    def second_sheet(book):
        sheet = book.create_sheet("Контакты")
        sheet.append(RU_HEADERS["contacts"])
        sheet.append(["KZ", "MVD", "Айгуль Серикова", "", "aigul@example.org", "", "", "", ""])

    path = tmp_path / "two-sheets.xlsx"
    path.write_bytes(workbook([["KZ", "MVD", "interior", "Ministry of Internal Affairs", "", ""]],
                              [["KZ", "MVD", "Ерлан Нурланов", "", "erlan@example.org", "", "", "", ""]],
                              change=second_sheet))
    result = run_import(app_ctx, path)
    assert result.exit_code == 1, result.output
    line, = problem_lines(result.output)
    assert line.startswith("Контакты: ")
    assert count(db_session, Agency) == 0 and count(db_session, Contact) == 0
    problem, = read(path.read_bytes(), countries)
    assert (problem.code, problem.params) == ("duplicate_sheet", {"first": "Contacts", "sheet": "Контакты"})


def test_merged_cells_and_a_second_sheet_are_explained_in_sentences(app_ctx, countries, tmp_path):
    """Needs the two sentences proposed for labels.PROBLEM_MESSAGES (see the dirfix report)."""
    path = tmp_path / "both.xlsx"
    path.write_bytes(workbook([["KZ", "MVD", "interior", "Ministry of Internal Affairs", "", ""],
                               ["", "GP", "prosecutor", "Prosecutor General's Office", "", ""],
                               ["", "AFM", "fiu", "Financial Monitoring Agency", "", ""]],
                              change=lambda book: book["Agencies"].merge_cells("A2:A4")))
    assert problem_lines(run_import(app_ctx, path).output) == [
        "Agencies row 2, column Country: The cells A2:A4 are merged, so only the first of them can be read. "
        "Unmerge them and fill in every cell."]

    path.write_bytes(workbook(change=lambda book: book.create_sheet("Ведомства")))
    assert problem_lines(run_import(app_ctx, path).output) == [
        "Ведомства: The sheets “Agencies” and “Ведомства” hold the same kind of rows, and only one can be read. "
        "Move all the rows onto one of them and delete the other."]


# ---------------------------------------------------------------------------------------------------------
# Refused e-mail addresses


@pytest.mark.parametrize("address, reason", [
    ("bad@@x", "it contains characters that are not allowed: @"),
    ("ivan.petrov@mvd", "the part after the @ sign is not a domain name such as example.org"),
    ("ivan petrov@mvd.kz", "it contains a space"),
])
def test_a_refused_address_is_explained_without_email_validators_english(staff, countries, db_session, address,
                                                                         reason):
    from app.directory.models import Agency

    data = workbook([["KZ", "MVD", "interior", "Ministry of Internal Affairs", "", ""]],
                    [["KZ", "MVD", "Ерлан Нурланов", "", address, "", "", "", ""]])
    page = upload(staff, data).get_data(as_text=True)
    assert f"Contacts row 2, column E-mail: “{address}” is not a valid e-mail address ({reason})." in page

    staff.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    page = upload(staff, data).get_data(as_text=True)
    assert f"«{address}» не является допустимым адресом электронной почты (" in page
    for english in ("@-sign", "invalid characters", "should have a period", "SPACE"):  # email-validator's words
        assert english not in page
    assert count(db_session, Agency) == 0


def test_the_contact_form_explains_a_refused_address_in_the_pages_language(staff, countries, make_agency):
    from tests.conftest import extract_csrf

    agency = make_agency("KZ", "MVD")
    staff.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    url = f"/directory/agencies/{agency.id}/contacts/new"
    token = extract_csrf(staff.get(url).get_data(as_text=True))
    response = staff.post(url, data={"csrf_token": token, "name": "Ерлан Нурланов", "email": "bad@@x",
                                     "locale": "ru"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "«bad@@x» не является допустимым адресом электронной почты (" in page
    assert "The part after the @-sign" not in page


def test_a_refused_address_is_explained_in_russian(staff, countries, make_agency, proposed_russian):
    from tests.conftest import extract_csrf

    data = workbook([["KZ", "MVD", "interior", "Ministry of Internal Affairs", "", ""]],
                    [["KZ", "MVD", "Ерлан Нурланов", "", "bad@@x", "", "", "", ""],
                     ["KZ", "MVD", "Айгуль Серикова", "", "aigul serikova@mvd.kz", "", "", "", ""]])
    staff.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    page = upload(staff, data).get_data(as_text=True)
    assert "«bad@@x» не является допустимым адресом электронной почты (содержит недопустимые символы: @)." in page
    assert ("«aigul serikova@mvd.kz» не является допустимым адресом электронной почты (содержит пробел)."
            in page)

    agency = make_agency("KZ", "GP")
    url = f"/directory/agencies/{agency.id}/contacts/new"
    token = extract_csrf(staff.get(url).get_data(as_text=True))
    page = staff.post(url, data={"csrf_token": token, "name": "Ерлан Нурланов", "email": "ivan@mvd",
                                 "locale": "ru"}).get_data(as_text=True)
    assert "(часть после знака @ не является доменным именем вида example.org)" in page


# ---------------------------------------------------------------------------------------------------------
# Text pasted from a PDF


def test_invisible_characters_pasted_from_a_pdf_update_the_existing_rows(app_ctx, countries, make_agency,
                                                                         make_contact, db_session, tmp_path):
    from app.directory.models import Agency, Contact

    mvd = make_agency("KZ", "MVD", kind="interior", en="Ministry of Internal Affairs", ru="Министерство")
    make_contact(mvd, name="Дмитрий Ким", email="dmitry.kim@mvd.kz", locale="ru")
    agencies = [
        # a zero-width space in the acronym, non-breaking spaces and a soft hyphen in the name
        ["KZ", "MV\u200bD", "interior", "Ministry\u00a0of\u00a0Inter\u00adnal Affairs", "", ""],
        # a byte order mark and a zero-width joiner; "й" typed as и + combining breve
        ["\ufeffKG", "\u200dGKNB\u200c", "security", "State Committee", "Комитет национальной безопасности", ""],
    ]
    contacts = [
        ["KZ", "MVD\u200b", "Дмитрии\u0306\u00a0Ким", "", "\u200bdmitry.kim@mvd.kz\u00a0", "", "", "", ""],
        ["KG", "GKNB", "Айбек\u200b Усенов", "", "aibek\u2060@gknb.kg", "", "", "", ""],
    ]
    path = tmp_path / "pasted.xlsx"
    path.write_bytes(workbook(agencies, contacts))
    result = run_import(app_ctx, path)
    assert result.exit_code == 0, result.output
    assert "Agencies: 1 created, 0 updated, 1 unchanged" in result.output
    assert "Contacts: 1 created, 0 updated, 1 unchanged" in result.output

    db_session.expire_all()
    stored = {(a.country_code, a.acronym): a for a in db_session.scalars(select(Agency))}
    assert sorted(stored) == [("KG", "GKNB"), ("KZ", "MVD")]
    assert stored["KZ", "MVD"].names["en"] == "Ministry of Internal Affairs"
    contacts_stored = {c.email: c for c in db_session.scalars(select(Contact))}
    assert sorted(contacts_stored) == ["aibek@gknb.kg", "dmitry.kim@mvd.kz"]
    assert contacts_stored["aibek@gknb.kg"].name == "Айбек Усенов"
    assert contacts_stored["aibek@gknb.kg"].agency.acronym == "GKNB"
    assert count(db_session, Contact) == 2


# ---------------------------------------------------------------------------------------------------------
# Rows that would be skipped without a word


@pytest.mark.parametrize("title", ["Agencies (2)", "Organisations KZ"])
def test_a_table_under_another_sheet_name_is_refused_not_skipped(app_ctx, countries, db_session, tmp_path, title):
    """A copied or renamed agencies sheet used to be skipped while the contacts sheet was read, and the import
    said the file had no problem and nothing changed."""
    from app.directory.models import Agency

    def rename(book):
        book["Agencies"].title = title

    data = workbook([["KZ", "NEW", "other", "A new agency", "", ""]], change=rename)
    problem, = read(data, countries)
    assert (problem.code, problem.sheet) == ("renamed_sheet", title)
    path = tmp_path / "renamed.xlsx"
    path.write_bytes(data)
    result = run_import(app_ctx, path)
    assert result.exit_code == 1
    assert f"{title}: The sheet “{title}” has the columns of the sheet Agencies / Ведомства but another name" \
        in result.output
    assert count(db_session, Agency) == 0
    # The template's own other sheets (instructions, lists) are not taken for tables, nor is a chart sheet.
    assert read(workbook([["KZ", "NEW", "other", "A new agency", "", ""]]), countries) == []
    def with_chart(book):
        from openpyxl.chart import BarChart, Reference

        chart = BarChart()
        chart.add_data(Reference(book["Lists"], min_col=1, min_row=1, max_row=3))
        book.create_chartsheet("Chart").add_chart(chart)

    assert read(workbook([["KZ", "NEW", "other", "A new agency", "", ""]], change=with_chart), countries) == []


def test_values_under_no_heading_are_refused(app_ctx, countries, db_session, tmp_path):
    """"no" typed where the filled template has its "Active" column, in the empty template that has no such
    column, was ignored: the agency stayed active and the import said nothing changed."""
    from openpyxl.utils import get_column_letter

    def beyond(book):
        sheet = book["Agencies"]
        column = get_column_letter(sheet.max_column + 1)
        sheet[f"{column}2"] = "no"

    data = workbook([["KZ", "MVD", "interior", "Ministry of Internal Affairs", "", ""]], change=beyond)
    problem, = read(data, countries)
    assert (problem.code, problem.sheet, problem.row) == ("headless_column", "Agencies", 2)
    path = tmp_path / "headless.xlsx"
    path.write_bytes(data)
    result = run_import(app_ctx, path)
    assert result.exit_code == 1 and f"column {problem.column}: Column {problem.column} has values but no heading" \
        in result.output


def test_an_empty_template_says_there_is_nothing_to_import(app_ctx, countries, staff, tmp_path):
    """Uploading the empty template used to say "the file has no problem ... nothing changed"."""
    data = workbook()
    page = upload(staff, data).get_data(as_text=True)
    assert "The file has no rows of agencies or contacts: nothing to import. Was it the empty template?" in page
    path = tmp_path / "empty.xlsx"
    path.write_bytes(data)
    result = run_import(app_ctx, path)
    assert result.exit_code == 0 and "nothing to import. Was it the empty template?" in result.output
    filled = upload(staff, workbook([["KZ", "NEW", "other", "A new agency", "", ""]]),
                    check_only=True).get_data(as_text=True)
    assert "nothing to import" not in filled and "Check only: the file has no problem." in filled
