"""The Excel template and the bulk import, through the CLI and the upload page."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import extract_csrf
from tests.directory.conftest import EN_HEADERS, RU_HEADERS, filled_workbook, sample_rows, snapshot


def count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


def import_events(db_session):
    from app.core.models import AuditEvent

    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == "directory.imported")))


def run_import(app, path, *extra):
    return app.test_cli_runner().invoke(args=["directory", "import", str(path), *extra])


def upload(client, data: bytes, filename: str = "directory.xlsx", check_only: bool = False):
    token = extract_csrf(client.get("/directory/import").get_data(as_text=True))
    form = {"csrf_token": token, "file": FileStorage(io.BytesIO(data), filename=filename)}
    if check_only:
        form["check_only"] = "y"
    # Encoded in memory: the test client would spool a large upload to a temporary file it never closes.
    boundary, body = encode_multipart(form)
    return client.post("/directory/import", data=body, content_type=f'multipart/form-data; boundary="{boundary}"')


# ---------------------------------------------------------------------------------------------------------
# The template


@pytest.mark.parametrize("lang, headers", [("en", EN_HEADERS), ("ru", RU_HEADERS)])
def test_cli_writes_the_template(app_ctx, countries, tmp_path, lang, headers):
    target = tmp_path / "new folder" / f"template-{lang}.xlsx"  # -o creates the folder
    result = app_ctx.test_cli_runner().invoke(args=["directory", "template", "--lang", lang, "-o", str(target)])
    assert result.exit_code == 0, result.output
    for command in (["import", str(target)], ["duplicates"]):  # an unknown message language: a usage error
        refused = app_ctx.test_cli_runner().invoke(args=["directory", *command, "--lang", "xx"])
        assert refused.exit_code == 2 and "'xx' is not one of the interface languages" in refused.output
    book = openpyxl.load_workbook(target)
    agencies, contacts = book.worksheets[1], book.worksheets[2]
    assert [c.value for c in agencies[1]] == headers["agencies"]
    assert [c.value for c in contacts[1]] == headers["contacts"]
    country_list = next(v for v in agencies.data_validations.dataValidation if "A2" in str(v.sqref))
    assert country_list.formula1 == '"KG,KZ,TJ,TM,UZ"'
    lists = book.worksheets[3]
    assert (lists["A3"].value, lists["B3"].value) == ("KZ", "Kazakhstan" if lang == "en" else "Казахстан")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_page_offers_the_template_as_a_download(staff, countries, lang):
    response = staff.get(f"/directory/template.xlsx?lang={lang}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"] == f"attachment; filename=directory-template-{lang}.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[1:3] == (["Agencies", "Contacts"] if lang == "en" else ["Ведомства", "Контакты"])


def test_template_of_an_unknown_language_is_not_found(staff):
    refused = staff.get("/directory/template.xlsx?lang=fr")
    assert refused.status_code == 400 and "There is no template in “fr”: choose en, ru." in refused.get_data(
        as_text=True)


def test_filled_in_template_round_trips(app_ctx, staff, countries, db_session):
    agencies, contacts = sample_rows()
    assert upload(staff, filled_workbook(agencies, contacts)).status_code == 200
    before = snapshot(db_session)
    export = staff.get("/directory/template.xlsx?lang=ru&data=1")
    assert export.headers["Cache-Control"] == "no-store"
    book = openpyxl.load_workbook(io.BytesIO(export.data))
    assert book["Ведомства"].max_row == 21 and book["Контакты"].max_row == 41
    response = upload(staff, export.data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "nothing changed" in page
    assert snapshot(db_session) == before


# ---------------------------------------------------------------------------------------------------------
# A good file


def test_cli_imports_a_filled_in_template_and_again_changes_nothing(app_ctx, countries, db_session, tmp_path):
    from app.directory.models import Agency, Contact

    agencies, contacts = sample_rows()
    path = tmp_path / "directory.xlsx"
    path.write_bytes(filled_workbook(agencies, contacts))
    result = run_import(app_ctx, path)
    assert result.exit_code == 0, result.output
    assert "Agencies: 20 created, 0 updated, 0 unchanged" in result.output
    assert "Contacts: 40 created, 0 updated, 0 unchanged" in result.output
    assert count(db_session, Agency) == 20 and count(db_session, Contact) == 40

    rats = db_session.scalar(select(Agency).where(Agency.acronym == "RATS"))
    assert rats.country_id is None and rats.kind == "regional"
    assert rats.names["ru"] == "Региональная антитеррористическая структура ШОС"
    ivan = db_session.scalar(select(Contact).where(Contact.email == "иван.петров@mvd.kz.example.org"))
    assert ivan.name == "Иван Петров" and ivan.agency.acronym == "MVD" and ivan.agency.country_code == "KZ"
    assert ivan.phone == "77010000000" and ivan.is_focal_point and ivan.locale == "ru"
    plus = db_session.scalar(select(Contact).where(Contact.email == "focal+ct@gp.kz.example.org"))
    assert plus.phone == "+7 701 000 0001" and plus.locale == "en" and not plus.is_focal_point and plus.is_active
    gp = db_session.scalar(select(Agency).where(Agency.acronym == "GP", Agency.country.has(code="KZ")))
    assert gp.is_active is False
    events = import_events(db_session)
    assert len(events) == 1 and events[0].channel == "cli"
    assert events[0].new_value["agencies"] == {"created": 20, "updated": 0, "unchanged": 0}
    assert events[0].new_value["contacts"] == {"created": 40, "updated": 0, "unchanged": 0}

    before = snapshot(db_session)
    again = run_import(app_ctx, path)
    assert again.exit_code == 0, again.output
    assert "Agencies: 0 created, 0 updated, 20 unchanged" in again.output
    assert "Contacts: 0 created, 0 updated, 40 unchanged" in again.output
    assert snapshot(db_session) == before
    assert len(import_events(db_session)) == 1


def test_upload_imports_a_russian_template_and_again_changes_nothing(staff, countries, db_session):
    from app.directory.models import Agency, Contact

    agencies, contacts = sample_rows("ru")
    data = filled_workbook(agencies, contacts, "ru")
    response = upload(staff, data, "справочник.xlsx")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "The file was imported." in page
    assert _result_row(page, "Agencies") == ["20", "0", "0"] and _result_row(page, "Contacts") == ["40", "0", "0"]
    assert count(db_session, Agency) == 20 and count(db_session, Contact) == 40
    event = import_events(db_session)[0]
    assert event.actor_id == staff.user.id and event.channel == "web" and event.new_value["file"] == "справочник.xlsx"

    before = snapshot(db_session)
    again = upload(staff, data)
    page = again.get_data(as_text=True)
    assert again.status_code == 200 and "nothing changed" in page
    assert _result_row(page, "Agencies") == ["0", "0", "20"] and _result_row(page, "Contacts") == ["0", "0", "40"]
    assert snapshot(db_session) == before
    assert len(import_events(db_session)) == 1


def test_english_and_russian_files_hold_the_same_directory(app_ctx, staff, countries, db_session, tmp_path):
    path = tmp_path / "en.xlsx"
    path.write_bytes(filled_workbook(*sample_rows("en"), "en"))
    assert run_import(app_ctx, path).exit_code == 0
    page = upload(staff, filled_workbook(*sample_rows("ru"), "ru")).get_data(as_text=True)
    assert _result_row(page, "Agencies") == ["0", "0", "20"] and _result_row(page, "Contacts") == ["0", "0", "40"]


def _result_row(page: str, label: str) -> list[str]:
    """The Created / Updated / Unchanged cells of one row of the result table."""
    import re

    row = re.search(rf'<th scope="row">{label}</th>(.*?)</tr>', page, re.S)
    assert row, f"no result row {label}"
    return re.findall(r'<td class="num">(\d+)</td>', row.group(1))


def test_changed_rows_are_updated_and_empty_cells_keep_values(app_ctx, countries, db_session, tmp_path):
    from app.directory.models import Agency, Contact

    agencies, contacts = sample_rows()
    path = tmp_path / "directory.xlsx"
    path.write_bytes(filled_workbook(agencies, contacts))
    assert run_import(app_ctx, path).exit_code == 0
    agencies[0][3] = "Ministry of Internal Affairs (renamed)"
    agencies[0][4] = ""  # empty: the Russian name stays
    agencies[1][5] = "yes"  # GP of KZ reactivated
    contacts[0][3] = ""  # empty position: kept
    contacts[0][2] = "Иван Иванович Петров"
    contacts[2][1] = "MVD"  # moved from GP to MVD
    agencies.append(["TJ", "BORDER", "border", "Border Troops", "", ""])
    contacts.append(["TJ", "BORDER", "New Person", "", "new@border.tj.example.org", "", "", "", ""])
    path.write_bytes(filled_workbook(agencies, contacts))
    result = run_import(app_ctx, path)
    assert "Agencies: 1 created, 2 updated, 18 unchanged" in result.output, result.output
    assert "Contacts: 1 created, 2 updated, 38 unchanged" in result.output, result.output
    mvd = db_session.scalar(select(Agency).where(Agency.acronym == "MVD", Agency.country.has(code="KZ")))
    assert mvd.names == {"en": "Ministry of Internal Affairs (renamed)",
                         "ru": "Министерство внутренних дел (Казахстан)"}
    ivan = db_session.scalar(select(Contact).where(Contact.email == "иван.петров@mvd.kz.example.org"))
    assert ivan.name == "Иван Иванович Петров" and ivan.position == "Head of unit"
    moved = db_session.scalar(select(Contact).where(Contact.email == "head1@gp.kz.example.org"))
    assert moved.agency.acronym == "MVD"
    border = db_session.scalar(select(Agency).where(Agency.acronym == "BORDER"))
    assert border.is_active and border.kind == "border"
    assert db_session.scalar(select(Contact).where(Contact.email == "new@border.tj.example.org")).locale == "ru"


def test_contacts_may_refer_to_agencies_already_in_the_directory(app_ctx, countries, make_agency, db_session,
                                                                 tmp_path):
    from app.directory.models import Contact

    make_agency("KZ", "MVD")
    make_agency(None, "RATS", kind="regional")
    path = tmp_path / "contacts.xlsx"
    path.write_bytes(filled_workbook([], [["kz", "mvd", "A", "", "a@example.org", "", "", "", ""],
                                          ["", "RATS", "B", "", "b@example.org", "", "", "", ""]]))
    result = run_import(app_ctx, path)
    assert result.exit_code == 0, result.output
    assert "Contacts: 2 created" in result.output
    assert {c.agency.acronym for c in db_session.scalars(select(Contact))} == {"MVD", "RATS"}


# ---------------------------------------------------------------------------------------------------------
# Dry run


def test_cli_dry_run_reports_and_writes_nothing(app_ctx, countries, db_session, tmp_path):
    from app.directory.models import Agency, Contact

    path = tmp_path / "directory.xlsx"
    path.write_bytes(filled_workbook(*sample_rows()))
    result = run_import(app_ctx, path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Agencies: 20 created" in result.output and "Contacts: 40 created" in result.output
    assert "Dry run: nothing was saved." in result.output
    assert count(db_session, Agency) == 0 and count(db_session, Contact) == 0 and import_events(db_session) == []


def test_check_only_upload_reports_and_writes_nothing(staff, countries, db_session):
    from app.directory.models import Agency, Contact

    response = upload(staff, filled_workbook(*sample_rows()), check_only=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Check only" in page and "Nothing was saved" in page
    assert _result_row(page, "Agencies") == ["20", "0", "0"] and _result_row(page, "Contacts") == ["40", "0", "0"]
    assert count(db_session, Agency) == 0 and count(db_session, Contact) == 0 and import_events(db_session) == []


# ---------------------------------------------------------------------------------------------------------
# Bad files


def import_with_a_contact_email(app_ctx, tmp_path, email: str):
    """Import the sample rows with the contact of row 7 given `email`: the file and the command's result."""
    agencies, contacts = sample_rows()
    contacts[5][4] = email
    path = tmp_path / "bad.xlsx"
    path.write_bytes(filled_workbook(agencies, contacts))
    return path, run_import(app_ctx, path)


def test_one_bad_row_imports_nothing_and_names_the_row(app_ctx, countries, db_session, tmp_path):
    from app.directory.models import Agency, Contact

    path, result = import_with_a_contact_email(app_ctx, tmp_path, "head2@gp@kz.example.org")
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if " row " in line]
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: Contacts row 7, column E-mail: “head2@gp@kz.example.org” is not a valid "
                                  f"e-mail address")
    assert "Nothing was imported" in result.output
    assert count(db_session, Agency) == 0 and count(db_session, Contact) == 0 and import_events(db_session) == []


def test_a_contact_with_the_address_of_a_staff_or_expert_account_is_refused(app_ctx, staff, countries, db_session,
                                                                            tmp_path, make_user):
    """Its personal links could never sign in (the address is a staff or expert account's): it was accepted, and
    invited, and the link opened "This link cannot be used". Refused on import (row and column named) and on the
    contact form, with the typed address kept."""
    from app.directory.models import Agency, Contact

    make_user("expert", email="expert.kz@example.org")
    path, result = import_with_a_contact_email(app_ctx, tmp_path, "Expert.KZ@example.org")
    assert result.exit_code == 1
    assert (f"{path}: Contacts row 7, column E-mail: expert.kz@example.org is the address of a staff or expert "
            "account") in result.output
    assert count(db_session, Agency) == 0 and count(db_session, Contact) == 0
    from app.directory import services

    agency = services.create_agency(country_code="KZ", acronym="MVD", kind="interior", names={"en": "MVD"})
    db_session.commit()
    token = extract_csrf(staff.get(f"/directory/agencies/{agency.id}").get_data(as_text=True))
    page = staff.post(f"/directory/agencies/{agency.id}/contacts/new", data={
        "csrf_token": token, "name": "Expert", "email": staff.user.email, "position": "", "phone": "",
        "locale": "en"})
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and "is the address of a staff or expert account" in text
    assert f'value="{staff.user.email}"' in text


def test_several_kinds_of_bad_rows_are_all_listed(staff, countries, db_session):
    from app.directory.models import Agency, Contact

    agencies, contacts = sample_rows()
    agencies[2][2] = "army"  # row 4
    agencies += [
        ["XX", "NEW1", "other", "Unknown country", "", ""],  # row 22
        ["KG", "mvd", "interior", "Twice", "", ""],  # row 23: KG/MVD is on row 6
        ["KZ", "NEW3", "other", "", "", ""],  # row 24: no name
        ["KZ", "NEW4", "other", "Active?", "", "maybe"],  # row 25
    ]
    contacts[1][4] = "not an address"  # row 3
    contacts += [
        ["KZ", "MVD", "Same mail", "", contacts[0][4].upper(), "", "", "", ""],  # row 42: as on row 2
        ["KZ", "NOPE", "Orphan", "", "orphan@example.org", "", "", "", ""],  # row 43
        ["KZ", "MVD", "Focal", "", "focal@example.org", "", "", "perhaps", ""],  # row 44
        ["KZ", "MVD", "Lang", "", "lang@example.org", "", "de", "", ""],  # row 45
        ["KZ", "MVD", "", "", "noname@example.org", "", "", "", ""],  # row 46
    ]
    response = upload(staff, filled_workbook(agencies, contacts))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    expected = [
        "Agencies row 4, column Type: Unknown agency type “army”",
        "Agencies row 22, column Country: Unknown country “XX”",
        "Agencies row 23, column Acronym: The agency KG / mvd is already on row 6.",
        "Agencies row 24, column Name (en): The agency needs a name in at least one language.",
        "Agencies row 25, column Active: “maybe” is neither yes nor no.",
        "Contacts row 3, column E-mail: “not an address” is not a valid e-mail address",
        "Contacts row 42, column E-mail: The e-mail address иван.петров@mvd.kz.example.org is already on row 2.",
        "Contacts row 43, column Agency acronym: There is no agency KZ / NOPE on the agencies sheet or in the "
        "directory.",
        "Contacts row 44, column Focal point: “perhaps” is neither yes nor no.",
        "Contacts row 45, column Language: Unknown language “de”",
        "Contacts row 46, column Name: This cell must be filled in.",
    ]
    assert f"Nothing was imported: the file has {len(expected)} problems." in page
    for message in expected:
        assert message in page, message
    assert page.count("<li>Agencies row") + page.count("<li>Contacts row") == len(expected)
    assert count(db_session, Agency) == 0 and count(db_session, Contact) == 0


def test_a_contact_of_an_unknown_agency_is_refused_even_when_the_rest_is_fine(app_ctx, countries, tmp_path,
                                                                              db_session):
    from app.directory.models import Agency

    path = tmp_path / "orphans.xlsx"
    path.write_bytes(filled_workbook([["KZ", "MVD", "interior", "Ministry", "", ""]],
                                     [["KZ", "MVD", "A", "", "a@example.org", "", "", "", ""],
                                      ["", "RATS", "B", "", "b@example.org", "", "", "", ""]]))
    result = run_import(app_ctx, path)
    assert result.exit_code == 1
    assert ("Contacts row 3, column Agency acronym: There is no regional body (without a country) with the acronym "
            "“RATS”") in result.output
    assert count(db_session, Agency) == 0


@pytest.mark.parametrize("data, filename, message", [
    (b"Country;Acronym\nKZ;MVD\n", "directory.csv", "The file is not an Excel workbook (.xlsx)."),
    (b"PK\x03\x04garbage that only looks like a zip" * 10, "directory.xlsx", "The workbook is damaged"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "directory.xlsx", "The file is not an Excel workbook (.xlsx)."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 512,
     "protected.xlsx", "The workbook is protected with a password"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024, "old.xls", "This is an old Excel 97–2003 (.xls) file."),
])
def test_files_that_are_not_workbooks_are_refused_cleanly(staff, countries, data, filename, message):
    response = upload(staff, data, filename)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and "Nothing was imported" in page


def test_a_file_over_the_size_limit_is_refused(staff, countries, app_ctx, tmp_path):
    from app.directory.workbooks import MAX_BYTES

    data = filled_workbook(*sample_rows()) + b"\x00" * MAX_BYTES
    response = upload(staff, data)
    assert response.status_code == 422
    assert "The file is larger than 5 MB." in response.get_data(as_text=True)
    path = tmp_path / "big.xlsx"
    path.write_bytes(data)
    result = run_import(app_ctx, path)
    assert result.exit_code == 1 and "The file is larger than 5 MB." in result.output


def test_upload_without_a_file_is_refused(staff):
    token = extract_csrf(staff.get("/directory/import").get_data(as_text=True))
    response = staff.post("/directory/import", data={"csrf_token": token}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose a file to upload." in response.get_data(as_text=True)


def test_cli_refuses_a_garbage_xlsx(app_ctx, countries, tmp_path):
    path = tmp_path / "garbage.xlsx"
    path.write_bytes(b"this is not a spreadsheet")
    result = run_import(app_ctx, path)
    assert result.exit_code == 1
    assert "The file is not an Excel workbook (.xlsx)." in result.output
    assert "Traceback" not in result.output
