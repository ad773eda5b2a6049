"""The raw data export in the reader's language: sheet names, and the codebook's types in words beside the codes
(which stay, for programs). The Russian words are new: until they are in the catalogue, the Russian test serves
the proposed ones (tests.conftest.add_translations) on top of the real catalogue."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from tests.conftest import add_translations

#: The proposed Russian words (as in /tmp/i18n/presfix.json).
PROPOSED = {"Data": "Данные", "Codebook": "Описание столбцов", "Type of question": "Тип вопроса",
            "Yes / no": "Да / нет", "About the response": "Сведения об анкете",
            "Several answers from a list": "Несколько ответов из списка"}


@pytest.fixture
def exported(db_session, make_version, make_agency, make_contact):
    """A campaign of the small questionnaire with one answered response, and its contact's personal link."""
    from app.campaigns import services
    from app.responses import answering
    from app.responses.services import ensure_response

    agency = make_agency("KZ", "MVD", "interior", en="KZ Interior", ru="МВД РК")
    make_contact(agency, email="contact@example.org", locale="ru")
    campaign = services.create_campaign("Round 1", make_version(), agencies=[agency])
    services.set_status(campaign, "open")
    link = services.invite(campaign, send_email=False)[0].link
    response = ensure_response(campaign, agency)
    result = answering.save_answers(response, {"agency_name": "MVD", "staff_total": 120, "has_ct_unit": "yes",
                                               "training_topics": ["financing"]}, actor=None, channel="cli",
                                    lang="en")
    assert result.ok, result.errors
    db_session.commit()
    return {"campaign": campaign, "link": link}


def workbook_of(payload: bytes) -> tuple[list[str], dict[str, list], list]:
    """(sheet names, {column: codebook row}, codebook header) of an XLSX export."""
    book = openpyxl.load_workbook(io.BytesIO(payload))
    names = book.sheetnames
    rows = [[c.value for c in row] for row in book.worksheets[1].iter_rows()]
    book.close()
    return names, {row[0]: row for row in rows[1:]}, rows[0]


def test_the_codebook_names_each_type_and_keeps_its_code(db_session, exported, tmp_path):
    from app.reports import raw

    export = raw.RawExport(exported["campaign"], raw.RawOptions(lang="en"), unrestricted=True)
    raw.write_xlsx(export, str(tmp_path / "raw.xlsx"))
    names, entries, header = workbook_of((tmp_path / "raw.xlsx").read_bytes())
    assert names == ["Data", "Codebook"]
    assert header[3] == "Type" and header[-1] == "Type of question"
    expected = {"_status": ("response", "About the response"), "agency_name": ("text", "Short text"),
                "staff_total": ("number", "Number"), "answered_on": ("date", "Date"),
                "has_ct_unit": ("yes_no", "Yes / no"),
                "training_topics__financing": ("multiple_choice", "Several answers from a list"),
                "skills__interviewing": ("matrix", "Table"), "priorities": ("long_text", "Long text")}
    for column, (code, words) in expected.items():
        assert (entries[column][3], entries[column][-1]) == (code, words), column
    raw.write_csv(export, str(tmp_path / "codebook.csv"), sheet="codebook")
    book = list(csv.reader(io.StringIO((tmp_path / "codebook.csv").read_bytes().decode("utf-8-sig"))))
    assert book[0][-1] == "Type of question"
    assert {row[0]: row[-1] for row in book[1:]}["has_ct_unit"] == "Yes / no"


def test_the_respondents_copy_as_data_is_named_in_russian(app_ctx, exported, monkeypatch):
    add_translations(monkeypatch, "ru", PROPOSED)
    client = app_ctx.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    link = exported["link"]
    assert client.get(link[link.index("/i/"):]).status_code == 302
    response = client.get("/exports/my-response?lang=ru")
    assert response.status_code == 200
    names, entries, header = workbook_of(response.get_data())
    response.close()
    assert names == ["Данные", "Описание столбцов"]  # not "Data", "Codebook"
    assert header[3] == "Тип" and header[-1] == "Тип вопроса"
    assert (entries["has_ct_unit"][3], entries["has_ct_unit"][-1]) == ("yes_no", "Да / нет")
    assert (entries["_status"][3], entries["_status"][-1]) == ("response", "Сведения об анкете")
    assert entries["answered_on"][-1] == "Дата"  # a word the catalogue already has
