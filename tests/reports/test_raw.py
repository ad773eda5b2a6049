"""The raw data export: real XLSX and CSV files reopened and checked cell by cell (columns and codebook, the
same values in both formats, labels and codes, languages, multiple-choice layouts, typed numbers and dates,
formula-like texts, the cell limit, the byte-order mark), who gets which rows, the CLI, and streaming."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import date, datetime

import openpyxl
import pytest
from openpyxl.utils.escape import unescape
from sqlalchemy import select

from tests.conftest import extract_csrf, sign_in

QUESTIONNAIRE = """
schema_version: 1
id: raw-export-test
title: {en: Raw export test, ru: Тест выгрузки}
languages: [en, ru]
scale:
  - {level: 0, label: {en: Not in place, ru: Отсутствует}}
  - {level: 1, label: {en: Initial, ru: Начальный}}
  - {level: 2, label: {en: Partial, ru: Частично}}
  - {level: 3, label: {en: Largely, ru: В основном}}
  - {level: 4, label: {en: Fully, ru: Полностью}}
areas:
  - id: inv
    title: {en: Investigation, ru: Расследование}
    indicators:
      - {id: unit, title: {en: CT unit, ru: Подразделение}, target: 3}
      - {id: skills, title: {en: Skills, ru: Навыки}, target: 3}
sections:
  - id: profile
    title: {en: Profile, ru: Профиль}
    questions:
      - id: intro
        type: note
        label: {en: Read this first, ru: Прочтите}
      - id: name
        type: text
        label: {en: Name of the agency, ru: Наименование}
      - id: details
        type: long_text
        max_length: 50000
        label: {en: Details, ru: Подробности}
      - id: staff
        type: number
        integer: true
        label: {en: Staff, ru: Численность}
      - id: budget
        type: number
        label: {en: Budget share, ru: Доля бюджета}
      - id: founded
        type: date
        label: {en: Founded on, ru: Дата создания}
      - id: region
        type: single_choice
        label: {en: Region, ru: Регион}
        choices:
          - {value: north, label: {en: North, ru: Север}}
          - {value: south, label: {en: South, ru: Юг}}
          - {value: odd, label: {en: "=1+1", ru: "=1+1"}}
  - id: unit
    title: {en: Unit, ru: Подразделение}
    questions:
      - id: has_unit
        type: yes_no
        partly: true
        not_applicable: true
        indicator: unit
        label: {en: Is there a CT unit?, ru: Есть ли подразделение?}
      - id: level
        type: scale
        dont_know: true
        indicator: unit
        label: {en: Level of the unit, ru: Уровень подразделения}
      - id: topics
        type: multiple_choice
        dont_know: true
        indicator: skills
        show_if: "${has_unit} != 'no'"
        label: {en: Training topics, ru: Темы обучения}
        choices:
          - {value: financing, label: {en: Financing, ru: Финансирование}, score: 1}
          - {value: digital, label: {en: Digital evidence, ru: Цифровые доказательства}, score: 1}
          - {value: rights, label: {en: Human rights, ru: Права человека}, score: 1}
      - id: skills
        type: matrix
        indicator: skills
        label: {en: Skills, ru: Навыки}
        rows:
          - {id: interviewing, label: {en: Interviewing, ru: Допросы}}
          - {id: forensics, label: {en: Forensics, ru: Криминалистика}, indicator: unit}
      - id: partners
        type: matrix
        label: {en: Work with partners, ru: Работа с партнёрами}
        choices:
          - {value: often, label: {en: Often, ru: Часто}}
          - {value: rarely, label: {en: Rarely, ru: Редко}}
        rows:
          - {id: eu, label: {en: European Union, ru: Европейский союз}}
          - {id: un, label: {en: United Nations, ru: ООН}}
      - id: evidence
        type: file
        label: {en: Strategy document, ru: Документ стратегии}
"""

INJECTIONS = ['=HYPERLINK("http://x","click")', "+1+1", "@SUM(A1)", "-2", "\tTAB", "\rCR", "#N/A"]
LONG = "Щ" * 40000
EMOJI = "Needs 😀 Қазақстан \x01\x1f end_x0041_ here"

ANSWERS = {
    "MVD": {"name": "MVD", "details": "Первая строка\nвторая строка", "staff": 500, "budget": "12.5",
            "founded": "2001-09-11", "region": "north", "has_unit": "yes", "level": 3,
            "topics": ["financing", "digital"], "skills": {"interviewing": 3, "forensics": 1},
            "partners": {"eu": "often", "un": "rarely"},
            "evidence": {"name": "=plan.pdf", "key": "k1", "size": 10}},
    "AFM": {"name": INJECTIONS[0], "details": LONG, "staff": 7, "region": "odd", "has_unit": "not_applicable",
            "level": "dont_know", "topics": "dont_know", "skills": {"interviewing": 0}},
    "TJ": {"name": "Секретный ответ", "has_unit": "partly", "topics": ["rights"]},
}

META = ["_response_id", "_agency_acronym", "_agency_name", "_country_code", "_agency_type", "_status",
        "_submitted_at", "_questionnaire_version"]
QUESTION_COLUMNS = ["name", "details", "staff", "budget", "founded", "region", "has_unit", "level",
                    "topics__financing", "topics__digital", "topics__rights", "topics__dont_know",
                    "skills__interviewing", "skills__forensics", "partners__eu", "partners__un", "evidence"]


@pytest.fixture
def raw_world(app_ctx, db_session, make_country, make_agency, make_contact, make_user):
    """A campaign over KZ/MVD (submitted), KZ/AFM (hostile texts, in progress) and TJ/MVD (submitted); a second
    campaign with one response; people of every role."""
    from app.campaigns import services as campaigns
    from app.questionnaires.loader import load_text
    from app.questionnaires.services import get_version, store_definition
    from app.responses import answering
    from app.responses.services import ensure_response

    make_country("KZ", en="Kazakhstan", ru="Казахстан")
    make_country("TJ", en="Tajikistan", ru="Таджикистан")
    make_country("UZ", en="Uzbekistan", ru="Узбекистан")
    result = load_text(QUESTIONNAIRE, "raw.yaml")
    assert result.definition is not None, result.problems
    outcome = store_definition(result.definition, source="raw.yaml")
    db_session.commit()
    version = get_version(outcome.slug, outcome.number)
    agencies = {"MVD": make_agency("KZ", "MVD", kind="interior", en="Ministry of Internal Affairs",
                                   ru="Министерство внутренних дел"),
                "AFM": make_agency("KZ", "AFM", kind="fiu", en="Financial Monitoring Agency"),
                "TJ": make_agency("TJ", "MVD", kind="interior", en="Ministry of Internal Affairs of Tajikistan")}
    make_contact(agencies["AFM"], email="afm@example.org", locale="en")
    campaign = campaigns.create_campaign("Round 1", version, agencies=list(agencies.values()))
    campaigns.set_status(campaign, "open")
    links = {i.contact.email: i.link for i in campaigns.invite(campaign, send_email=False)}
    responses = {}
    for key, agency in agencies.items():
        response = ensure_response(campaign, agency)
        saved = answering.save_answers(response, ANSWERS[key], actor=None, channel="cli", lang="en")
        assert saved.ok, saved.errors
        if key != "AFM":
            answering.submit(response, actor=None, lang="en")
        responses[key] = response.id
    other = campaigns.create_campaign("Round 2", version, agencies=[agencies["MVD"]])
    campaigns.set_status(other, "open")
    other_response = ensure_response(other, agencies["MVD"])
    assert answering.save_answers(other_response, {"name": "Other round"}, actor=None, channel="cli",
                                  lang="en").ok
    db_session.commit()
    make_user("expert", email="kz.expert@example.org", countries=["KZ"])
    make_user("expert", email="uz.expert@example.org", countries=["UZ"])
    make_user("staff", email="staff@example.org")
    return {"campaign": campaign.id, "other": other.id, "responses": responses, "links": links}


def _campaign(db_session, campaign_id):
    from app.campaigns.models import Campaign

    return db_session.get(Campaign, campaign_id)


def export_of(db_session, campaign_id, **options):
    from app.reports import raw

    return raw.RawExport(_campaign(db_session, campaign_id), raw.RawOptions(**options), unrestricted=True)


def files(db_session, tmp_path, campaign_id, **options):
    """(xlsx data rows, xlsx codebook rows, csv data rows, csv codebook rows, raw CSV bytes) of one export."""
    from app.reports import raw

    export = export_of(db_session, campaign_id, **options)
    raw.write_xlsx(export, str(tmp_path / "raw.xlsx"))
    raw.write_csv(export, str(tmp_path / "raw.csv"))
    raw.write_csv(export, str(tmp_path / "codebook.csv"), sheet="codebook")
    workbook = openpyxl.load_workbook(tmp_path / "raw.xlsx")
    # The two sheets are named in the export's language.
    assert workbook.sheetnames == (["Данные", "Описание столбцов"] if options.get("lang") == "ru"
                                   else ["Data", "Codebook"])
    data = [list(row) for row in workbook.worksheets[0].iter_rows()]
    codebook = [[c.value for c in row] for row in workbook.worksheets[1].iter_rows()]
    workbook.close()
    payload = (tmp_path / "raw.csv").read_bytes()
    rows = list(csv.reader(io.StringIO(payload.decode("utf-8-sig"), newline="")))
    book = list(csv.reader(io.StringIO((tmp_path / "codebook.csv").read_bytes().decode("utf-8-sig"), newline="")))
    return data, codebook, rows, book, payload


def by_response(data, header):
    """{response id: {column name: cell}} of the XLSX data rows."""
    return {row[0].value: dict(zip(header, row, strict=True)) for row in data[1:]}


def csv_by_response(rows):
    header = rows[0]
    return {int(row[0]): dict(zip(header, row, strict=True)) for row in rows[1:]}


def same(cell, text: str, name: str) -> bool:
    """Whether an XLSX cell and a CSV field hold the same value (the CSV's rules: ISO dates, `'` before
    formula-like texts, the full text where the XLSX cut it)."""
    from app.reports.cells import DEFAULT_CUT_MARKER, EXCEL_CELL_LIMIT, FORMULA_PREFIXES

    value = cell.value
    if value is None:
        return text == ""
    if isinstance(value, datetime):
        expected = value.isoformat(sep=" ") if name == "_submitted_at" else value.date().isoformat()
        return cell.is_date and text == expected
    if isinstance(value, int | float):
        return cell.data_type == "n" and float(text) == value
    assert cell.data_type == "s", (cell.coordinate, value)
    value = unescape(value)
    full = text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES) else text
    if text.startswith(FORMULA_PREFIXES):
        return False  # a formula-like text in the CSV without its apostrophe
    if len(cell.value) == EXCEL_CELL_LIMIT and value.endswith(DEFAULT_CUT_MARKER):
        return full.startswith(value[:-len(DEFAULT_CUT_MARKER)]) and len(full) > len(value)
    return full == value


def test_columns_match_the_codebook(db_session, raw_world, tmp_path):
    data, codebook, rows, book, _payload = files(db_session, tmp_path, raw_world["campaign"])
    header = [c.value for c in data[0]]
    assert header == META + QUESTION_COLUMNS == rows[0]
    assert [row[0] for row in codebook[1:]] == header
    assert book == [[v or "" for v in row] for row in codebook]
    assert codebook[0] == ["Column", "Question id", "Label", "Type", "Values", "Choices", "Indicator", "Shown if",
                           "Type of question"]
    entries = {row[0]: row for row in codebook[1:]}
    assert entries["topics__digital"][1:5] == ["topics", "Training topics: Digital evidence", "multiple_choice", "0/1"]
    assert entries["topics__digital"][6:] == ["skills", "${has_unit} != 'no'", "Several answers from a list"]
    assert entries["skills__forensics"][2] == "Skills: Forensics" and entries["skills__forensics"][6] == "unit"
    assert entries["skills__interviewing"][6] == "skills"
    assert entries["has_unit"][5] == "yes = Yes\nno = No\npartly = Partly\nnot_applicable = Not applicable"
    assert entries["level"][5].splitlines()[3] == "3 = 3 — Largely"
    assert entries["region"][5] == "north = North\nsouth = South\nodd = =1+1"
    assert entries["staff"][4] == "number" and entries["founded"][4] == "date" and entries["name"][4] == "text"
    assert entries["_submitted_at"][4] == "date and time"
    assert "intro" not in header  # notes have no column
    # Codes: the scale is numbers; joined multiple choice: one column.
    data, codebook, rows, _book, _payload = files(db_session, tmp_path, raw_world["campaign"], codes=True,
                                                  multi="joined")
    header = [c.value for c in data[0]]
    assert header[header.index("level") + 1:header.index("skills__interviewing")] == ["topics"]
    assert [row[0] for row in codebook[1:]] == header == rows[0]
    # the scale offers "don't know": its code is a text among the numbers, and the codebook says so (it said
    # "number", and a program reading the types from it failed on the cell)
    assert {row[0]: row[4] for row in codebook[1:]}["level"] == "number, or the code of a special answer (text)"


@pytest.mark.parametrize("options", [{}, {"codes": True}, {"lang": "ru"}, {"codes": True, "multi": "joined"},
                                     {"lang": "ru", "multi": "joined"}])
def test_csv_and_xlsx_hold_the_same_values(db_session, raw_world, tmp_path, options):
    data, _codebook, rows, _book, _payload = files(db_session, tmp_path, raw_world["campaign"], **options)
    header = rows[0]
    assert len(data) == len(rows) == 4
    for xlsx_row, csv_row in zip(data, rows, strict=True):
        assert len(xlsx_row) == len(csv_row) == len(header)
        for cell, text, name in zip(xlsx_row, csv_row, header, strict=True):
            assert same(cell, text, name), (cell.coordinate, cell.value, text)


def test_labels_and_codes_in_two_languages(db_session, raw_world, tmp_path):
    mvd = raw_world["responses"]["MVD"]
    data, *_rest = files(db_session, tmp_path, raw_world["campaign"])
    row = by_response(data, [c.value for c in data[0]])[mvd]
    assert [row[k].value for k in ("_agency_acronym", "_agency_name", "_country_code", "_agency_type", "_status")] == [
        "MVD", "Ministry of Internal Affairs", "KZ", "Ministry of internal affairs / police", "submitted"]
    assert row["_questionnaire_version"].value == "raw-export-test v1"
    assert [row[k].value for k in ("region", "has_unit", "level", "skills__interviewing", "skills__forensics",
                                   "partners__eu", "partners__un")] == [
        "North", "Yes", "3 — Largely", "Largely", "Initial", "Often", "Rarely"]
    data, *_rest = files(db_session, tmp_path, raw_world["campaign"], lang="ru")
    row = by_response(data, [c.value for c in data[0]])[mvd]
    assert [row[k].value for k in ("_agency_name", "_status", "region", "has_unit", "level", "skills__interviewing",
                                   "partners__eu")] == [
        "Министерство внутренних дел", "представлена", "Север", "Да", "3 — В основном", "В основном", "Часто"]
    data, *_rest = files(db_session, tmp_path, raw_world["campaign"], codes=True, lang="ru")
    row = by_response(data, [c.value for c in data[0]])[mvd]
    assert [row[k].value for k in ("_agency_type", "_status", "region", "has_unit", "level", "skills__interviewing",
                                   "skills__forensics", "partners__eu")] == [
        "interior", "submitted", "north", "yes", 3, 3, 1, "often"]
    afm = by_response(data, [c.value for c in data[0]])[raw_world["responses"]["AFM"]]
    assert [afm[k].value for k in ("has_unit", "level", "region")] == ["not_applicable", "dont_know", "odd"]
    data, *_rest = files(db_session, tmp_path, raw_world["campaign"], lang="en")
    afm = by_response(data, [c.value for c in data[0]])[raw_world["responses"]["AFM"]]
    assert [afm[k].value for k in ("has_unit", "level")] == ["Not applicable", "Don't know"]
    # A choice label that looks like a formula is text, in every row it appears in.
    assert afm["region"].value == "=1+1" and afm["region"].data_type == "s"


def test_multiple_choice_as_columns_and_joined(db_session, raw_world, tmp_path):
    ids = raw_world["responses"]
    data, _codebook, rows, *_rest = files(db_session, tmp_path, raw_world["campaign"])
    header = [c.value for c in data[0]]
    cells = by_response(data, header)
    flags = ["topics__financing", "topics__digital", "topics__rights", "topics__dont_know"]
    assert [cells[ids["MVD"]][k].value for k in flags] == [1, 1, 0, 0]
    assert [cells[ids["AFM"]][k].value for k in flags] == [None, None, None, 1]
    assert [cells[ids["TJ"]][k].value for k in flags] == [0, 0, 1, 0]
    assert all(cells[ids["MVD"]][k].data_type == "n" for k in flags)
    assert [csv_by_response(rows)[ids["AFM"]][k] for k in flags] == ["", "", "", "1"]
    data, _codebook, rows, *_rest = files(db_session, tmp_path, raw_world["campaign"], multi="joined")
    cells = by_response(data, [c.value for c in data[0]])
    assert [cells[ids[k]]["topics"].value for k in ("MVD", "AFM", "TJ")] == [
        "Financing; Digital evidence", "Don't know", "Human rights"]
    assert csv_by_response(rows)[ids["MVD"]]["topics"] == "Financing; Digital evidence"
    data, *_rest = files(db_session, tmp_path, raw_world["campaign"], multi="joined", codes=True)
    cells = by_response(data, [c.value for c in data[0]])
    assert [cells[ids[k]]["topics"].value for k in ("MVD", "AFM", "TJ")] == ["financing; digital", "dont_know",
                                                                             "rights"]


def test_an_answer_skip_logic_hides_is_left_out_as_everywhere(db_session, raw_world, tmp_path):
    """TJ's MVD answered "partly" and ticked a topic, then "no": the topics no longer apply, so its stored ticks
    are left out of the export (blank, as an unanswered question), as the pages, the reports and the scores
    leave them out (an analyst counted them from the export)."""
    from sqlalchemy import update

    from app.responses.models import Answer

    ids = raw_world["responses"]
    db_session.execute(update(Answer).where(Answer.response_id == ids["TJ"], Answer.question_id == "has_unit")
                       .values(value="no"))
    db_session.commit()
    data, _codebook, rows, *_rest = files(db_session, tmp_path, raw_world["campaign"])
    cells = by_response(data, [c.value for c in data[0]])
    flags = ["topics__financing", "topics__digital", "topics__rights", "topics__dont_know"]
    assert [cells[ids["TJ"]][k].value for k in flags] == [None, None, None, None]
    assert [csv_by_response(rows)[ids["TJ"]][k] for k in flags] == ["", "", "", ""]
    assert [cells[ids["MVD"]][k].value for k in flags] == [1, 1, 0, 0]  # shown where it applies
    joined, *_rest = files(db_session, tmp_path, raw_world["campaign"], multi="joined")
    assert by_response(joined, [c.value for c in joined[0]])[ids["TJ"]]["topics"].value is None


def test_numbers_and_dates_are_typed(db_session, raw_world, tmp_path):
    data, _codebook, rows, *_rest = files(db_session, tmp_path, raw_world["campaign"])
    mvd = raw_world["responses"]["MVD"]
    cells = by_response(data, [c.value for c in data[0]])[mvd]
    assert (cells["staff"].value, cells["staff"].data_type) == (500, "n")
    assert (cells["budget"].value, cells["budget"].data_type) == (12.5, "n")
    assert cells["_response_id"].data_type == "n"
    assert cells["founded"].is_date and cells["founded"].value.date() == date(2001, 9, 11)
    assert cells["founded"].number_format == "yyyy-mm-dd"
    assert cells["_submitted_at"].is_date and isinstance(cells["_submitted_at"].value, datetime)
    fields = csv_by_response(rows)[mvd]
    assert (fields["staff"], fields["budget"], fields["founded"]) == ("500", "12.5", "2001-09-11")
    assert fields["_submitted_at"] == cells["_submitted_at"].value.isoformat(sep=" ")
    assert csv_by_response(rows)[raw_world["responses"]["AFM"]]["_submitted_at"] == ""


def test_a_whole_decimal_answer_reads_the_same_on_both_databases(db_session, raw_world, tmp_path):
    """52 typed into a decimal question is stored as 52.0: PostgreSQL gave it back so and the CSV said "52.0"
    (",0" with semicolons), SQLite gave 52 and the CSV said "52"."""
    from app.responses.models import Answer

    mvd = raw_world["responses"]["MVD"]
    answer = db_session.scalar(select(Answer).where(Answer.response_id == mvd, Answer.question_id == "budget"))
    answer.value = 52.0
    db_session.commit()
    data, _codebook, rows, *_rest = files(db_session, tmp_path, raw_world["campaign"])
    assert csv_by_response(rows)[mvd]["budget"] == "52"
    assert by_response(data, [c.value for c in data[0]])[mvd]["budget"].value == 52


def test_formula_like_texts_stay_text(db_session, raw_world, tmp_path):
    from app.responses.models import Answer

    afm = raw_world["responses"]["AFM"]
    answer = db_session.scalar(select(Answer).where(Answer.response_id == afm, Answer.question_id == "details"))
    originals = {}
    for text in INJECTIONS:
        answer.value = text
        db_session.commit()
        data, _codebook, rows, _book, _payload = files(db_session, tmp_path, raw_world["campaign"])
        cells = by_response(data, [c.value for c in data[0]])[afm]
        cell = cells["details"]
        assert cell.data_type == "s", text
        assert unescape(cell.value) == text
        if text.startswith(("=", "+", "-", "@", "\t", "\r")):
            assert cell.quotePrefix, text
        fields = csv_by_response(rows)[afm]
        expected = text if text == "#N/A" else "'" + text
        assert fields["details"] == expected
        originals[text] = fields["details"]
        # The first injection is also the agency's name (a text question), and a file name starting with "=".
        assert cells["name"].value == INJECTIONS[0] and cells["name"].data_type == "s"
        assert fields["name"] == "'" + INJECTIONS[0]
    mvd = by_response(data, [c.value for c in data[0]])[raw_world["responses"]["MVD"]]
    assert mvd["evidence"].value == "=plan.pdf" and mvd["evidence"].data_type == "s"
    assert len(originals) == len(INJECTIONS)


def test_long_text_is_cut_in_xlsx_and_full_in_csv(db_session, raw_world, tmp_path):
    from app.reports.cells import DEFAULT_CUT_MARKER, EXCEL_CELL_LIMIT

    afm = raw_world["responses"]["AFM"]
    data, _codebook, rows, *_rest = files(db_session, tmp_path, raw_world["campaign"])
    cell = by_response(data, [c.value for c in data[0]])[afm]["details"]
    assert len(cell.value) == EXCEL_CELL_LIMIT and cell.value.endswith(DEFAULT_CUT_MARKER)
    assert cell.value.startswith("Щ" * 1000)
    assert csv_by_response(rows)[afm]["details"] == LONG


def test_emoji_and_control_characters_are_readable(db_session, raw_world, tmp_path):
    from app.responses.models import Answer

    mvd = raw_world["responses"]["MVD"]
    answer = db_session.scalar(select(Answer).where(Answer.response_id == mvd, Answer.question_id == "name"))
    answer.value = EMOJI
    db_session.commit()
    data, _codebook, rows, *_rest = files(db_session, tmp_path, raw_world["campaign"])
    cell = by_response(data, [c.value for c in data[0]])[mvd]["name"]
    assert unescape(cell.value) == EMOJI
    assert csv_by_response(rows)[mvd]["name"] == EMOJI
    details = by_response(data, [c.value for c in data[0]])[mvd]["details"]
    assert details.value == "Первая строка\nвторая строка"


def test_csv_starts_with_a_byte_order_mark(db_session, raw_world, tmp_path):
    *_rest, payload = files(db_session, tmp_path, raw_world["campaign"], lang="ru")
    assert payload.startswith(b"\xef\xbb\xbf_response_id,")
    assert "Министерство внутренних дел" in payload.decode("utf-8")


def test_the_fast_text_path_gives_the_cells_of_write_only_cell(tmp_path):
    """Texts that cannot be taken for a formula are passed as strings; the file is the same as with
    cells.write_only_cell for every text."""
    from openpyxl import Workbook

    from app.reports.cells import write_only_cell
    from app.reports.raw import XlsxValues

    texts = ["plain", "Кириллица", *INJECTIONS, "a=b", " =x", "\x01x", "_x0041_", "x" * 40000, "", "#REF!", "\n"]
    paths = []
    for fast in (True, False):
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("s")
        values = XlsxValues(sheet)
        for text in texts:
            sheet.append([values.text(text) if fast else write_only_cell(sheet, text)])
        paths.append(tmp_path / f"{fast}.xlsx")
        workbook.save(paths[-1])
    fast, reference = (openpyxl.load_workbook(p)["s"] for p in paths)
    for a, b, text in zip(fast.iter_rows(), reference.iter_rows(), texts, strict=True):
        a, b = a[0], b[0]
        assert (a.value, a.quotePrefix) == (b.value, b.quotePrefix), text
        assert a.data_type == "s" or (a.value is None and text == "")
        if b.data_type != "e":  # write_only_cell leaves "#REF!" as an error value; the export keeps it as text
            assert a.data_type == b.data_type


def test_questions_of_an_older_version_are_kept(db_session, raw_world, tmp_path):
    """Responses stay pinned to the version they were started on: a question the campaign's new version
    dropped is added after the others, with its answers."""
    from app.questionnaires.loader import load_text
    from app.questionnaires.services import get_version, store_definition

    text = QUESTIONNAIRE.replace("      - id: budget\n", "      - id: budget_share\n")
    result = load_text(text, "raw-v2.yaml")
    outcome = store_definition(result.definition, source="raw-v2.yaml")
    campaign = _campaign(db_session, raw_world["campaign"])
    campaign.version_id = get_version(outcome.slug, outcome.number).id
    db_session.commit()
    data, codebook, rows, *_rest = files(db_session, tmp_path, raw_world["campaign"])
    header = [c.value for c in data[0]]
    assert header == META + [c.replace("budget", "budget_share") for c in QUESTION_COLUMNS] + ["budget"] == rows[0]
    mvd = by_response(data, header)[raw_world["responses"]["MVD"]]
    assert mvd["budget"].value == 12.5 and mvd["budget_share"].value is None
    assert mvd["_questionnaire_version"].value == "raw-export-test v1"
    assert codebook[-1][:4] == ["budget", "budget", "Budget share", "number"]


# --- who gets which rows --------------------------------------------------------------------------------


def client_for(app_ctx, email: str):
    client = app_ctx.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, email)
    return client


def download(client, url: str):
    response = client.get(url)
    try:
        return response.status_code, response.headers, response.get_data()
    finally:
        response.close()


def xlsx_rows(payload: bytes) -> list[list]:
    workbook = openpyxl.load_workbook(io.BytesIO(payload))
    rows = [list(row) for row in workbook["Data"].iter_rows(values_only=True)]
    workbook.close()
    return rows


def test_semicolon_csv_for_excel_in_russian_holds_the_same_values(app_ctx, db_session, raw_world, tmp_path):
    """Excel in Russian opens a CSV file split at semicolons and reads numbers with a decimal comma: the
    csv-semicolon format is the same table written that way (texts, dates and the rest unchanged)."""
    _data, _codebook, rows, book, _payload = files(db_session, tmp_path, raw_world["campaign"], lang="ru")
    staff = client_for(app_ctx, "staff@example.org")
    status, headers, payload = download(staff, f"/exports/campaigns/{raw_world['campaign']}/raw"
                                               "?format=csv-semicolon&lang=ru")
    assert status == 200 and headers["Content-Type"].startswith("text/csv") and ".csv" in \
        headers["Content-Disposition"]
    text = payload.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("_response_id;_agency_acronym;")
    semicolon = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    mvd = raw_world["responses"]["MVD"]
    assert csv_by_response(semicolon)[mvd]["budget"] == "12,5" and csv_by_response(rows)[mvd]["budget"] == "12.5"
    assert [[field.replace(",", ".") if name == "budget" else field for field, name in zip(row, rows[0],
                                                                                           strict=True)]
            for row in semicolon] == rows
    _status, _headers, payload = download(staff, f"/exports/campaigns/{raw_world['campaign']}/raw"
                                                 "?format=csv-semicolon&lang=ru&sheet=codebook")
    assert list(csv.reader(io.StringIO(payload.decode("utf-8-sig"), newline=""), delimiter=";")) == book
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(args=["reports", "raw", str(raw_world["campaign"]), "--format", "csv-semicolon",
                                 "--lang", "ru", "-o", str(tmp_path / "cli.csv")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli.csv").read_bytes().decode("utf-8-sig") == text


def test_staff_get_every_response_and_experts_their_countries(app_ctx, raw_world):
    ids, campaign = raw_world["responses"], raw_world["campaign"]
    staff = client_for(app_ctx, "staff@example.org")
    status, headers, payload = download(staff, f"/exports/campaigns/{campaign}/raw")
    assert status == 200 and headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in headers["Content-Disposition"] and ".xlsx" in headers["Content-Disposition"]
    rows = xlsx_rows(payload)
    assert [row[0] for row in rows[1:]] == sorted(ids.values())
    status, headers, payload = download(staff, f"/exports/campaigns/{campaign}/raw?format=csv&codes=1&lang=ru"
                                               f"&multi=joined")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    text = payload.decode("utf-8-sig")
    assert "Секретный ответ" in text and "financing; digital" in text

    expert = client_for(app_ctx, "kz.expert@example.org")
    for fmt in ("xlsx", "csv"):
        status, _headers, payload = download(expert, f"/exports/campaigns/{campaign}/raw?format={fmt}")
        assert status == 200
        if fmt == "xlsx":
            rows = xlsx_rows(payload)
            assert [row[0] for row in rows[1:]] == sorted([ids["MVD"], ids["AFM"]])
            assert {row[3] for row in rows[1:]} == {"KZ"}
        else:
            rows = list(csv.reader(io.StringIO(payload.decode("utf-8-sig"))))
            assert sorted(int(row[0]) for row in rows[1:]) == sorted([ids["MVD"], ids["AFM"]])
            assert b"TJ" not in payload
        assert "Секретный ответ".encode() not in payload
    status, _headers, payload = download(expert, f"/exports/campaigns/{campaign}/raw?format=csv&sheet=codebook")
    assert status == 200 and payload.decode("utf-8-sig").startswith("Column,Question id,")
    # An expert of no country of the campaign, an unknown campaign, bad options.
    uzbek = client_for(app_ctx, "uz.expert@example.org")
    assert download(uzbek, f"/exports/campaigns/{campaign}/raw")[0] == 404
    assert download(staff, "/exports/campaigns/999999/raw")[0] == 404
    for query in ("format=pdf", "lang=de", "multi=rows", "sheet=secret", "codes=7"):
        assert download(staff, f"/exports/campaigns/{campaign}/raw?{query}")[0] == 400, query


def test_a_respondent_gets_only_their_own_response(app_ctx, raw_world):
    client = app_ctx.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    link = raw_world["links"]["afm@example.org"]
    assert client.get(link[link.index("/i/"):]).status_code == 302
    status, _headers, payload = download(client, "/exports/my-response")
    assert status == 200
    rows = xlsx_rows(payload)
    assert len(rows) == 2 and rows[1][0] == raw_world["responses"]["AFM"] and rows[1][1] == "AFM"
    status, _headers, payload = download(client, "/exports/my-response?format=csv&codes=1")
    rows = list(csv.reader(io.StringIO(payload.decode("utf-8-sig"))))
    assert status == 200 and [int(row[0]) for row in rows[1:]] == [raw_world["responses"]["AFM"]]
    assert "Секретный ответ" not in payload.decode("utf-8-sig")
    assert download(client, f"/exports/campaigns/{raw_world['campaign']}/raw")[0] == 403


def test_the_download_forms_are_on_the_campaign_and_review_pages(app_ctx, raw_world):
    campaign = raw_world["campaign"]
    staff = client_for(app_ctx, "staff@example.org")
    page = staff.get(f"/campaigns/{campaign}").get_data(as_text=True)
    assert f'action="/exports/campaigns/{campaign}/raw"' in page and 'name="multi"' in page
    expert = client_for(app_ctx, "kz.expert@example.org")
    page = expert.get("/review/").get_data(as_text=True)
    assert f'action="/exports/campaigns/{campaign}/raw"' in page
    extract_csrf(page)  # the page is a normal page of the layout


def test_scoped_responses_refuse_what_is_not_in_scope(db_session, raw_world):
    from types import SimpleNamespace

    from app.reports import raw

    campaign = _campaign(db_session, raw_world["campaign"])
    with pytest.raises(raw.ExportError) as refused:
        raw.RawExport(campaign)
    assert refused.value.not_found
    other_invitation = SimpleNamespace(campaign_id=raw_world["other"], agency_id=0)
    with pytest.raises(raw.ExportError):
        raw.RawExport(campaign, actor=SimpleNamespace(role="respondent"), invitation=other_invitation)
    with pytest.raises(raw.ExportError, match="not in 'de'"):
        raw.RawExport(campaign, raw.RawOptions(lang="de"), unrestricted=True)
    other = export_of(db_session, raw_world["other"])
    assert [r[0] for r in other.responses] != [] and all(r[1] == "MVD" for r in other.responses)


# --- command line --------------------------------------------------------------------------------------


def test_cli_writes_the_file_with_and_without_output(app_ctx, raw_world, tmp_path):
    from pathlib import Path

    runner = app_ctx.test_cli_runner()
    campaign = raw_world["campaign"]
    result = runner.invoke(args=["reports", "raw", str(campaign)])
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())
    assert path.parent == Path(app_ctx.instance_path) / "reports"
    assert path.name.startswith(f"raw-campaign{campaign}-labels-en-") and path.suffix == ".xlsx"
    assert len(xlsx_rows(path.read_bytes())) == 4
    path.unlink()
    target = tmp_path / "out.csv"
    result = runner.invoke(args=["reports", "raw", str(campaign), "--codes", "--lang", "ru", "--format", "csv",
                                 "--multi", "joined", "-o", str(target)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8-sig"))))
    assert len(rows) == 4 and "topics" in rows[0] and "financing; digital" in rows[1] + rows[2] + rows[3]
    codebook = (tmp_path / "out-codebook.csv").read_bytes().decode("utf-8-sig")
    assert "topics" in codebook
    result = runner.invoke(args=["reports", "raw", "999999"])
    assert result.exit_code == 1 and "no campaign with id 999999" in result.output
    result = runner.invoke(args=["reports", "raw", str(campaign), "--lang", "de"])
    assert result.exit_code == 1 and "not in 'de'" in result.output


# --- streaming -----------------------------------------------------------------------------------------


def test_answers_are_read_from_a_server_side_cursor_a_batch_at_a_time(app_ctx, db_session, raw_world):
    """The first row comes out after one batch of answers has been read, not the whole campaign: with 2 MB of
    answers, making it allocates a small part of that. Reading every answer at once (`.all()` instead of the
    cursor) fails this test."""
    from sqlalchemy import event, insert

    from app.extensions import db
    from app.reports import raw
    from app.responses.models import Answer, Response

    campaign = _campaign(db_session, raw_world["campaign"])
    big = "x" * 2000
    # 1,000 answers of 2,000 characters in the two later responses (question ids unknown to the questionnaire
    # are read and skipped like any other answer).
    for key in ("AFM", "TJ"):
        db_session.execute(insert(Answer), [{"response_id": raw_world["responses"][key], "question_id": f"zz_{n:04d}",
                                             "value": big, "version": 1} for n in range(500)])
    db_session.commit()
    assert db_session.scalar(select(Response.id).where(Response.campaign_id == campaign.id).limit(1))
    seen = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        if "FROM answers" in statement:
            seen.append((dict(context.execution_options), type(cursor).__name__))

    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        export = raw.RawExport(campaign, unrestricted=True, batch=20)
        rows = export.rows(raw.CsvValues())
        tracemalloc.start()
        first = next(rows)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rest = list(rows)
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)
    assert first[0] == min(raw_world["responses"].values()) and len(rest) == 2
    assert [options.get("yield_per") for options, _cursor in seen] == [20], seen
    if db.engine.dialect.name == "postgresql":  # a named cursor: the server sends the rows a batch at a time
        assert seen[0][1] == "ServerCursor", seen
    assert peak < 500_000, f"{peak:,} bytes allocated for the first row of 2 MB of answers"


def test_the_cli_writes_the_format_the_file_name_says_and_refuses_a_name_that_says_another(app_ctx, raw_world,
                                                                                            tmp_path):
    """`-o data.csv` wrote a workbook under a .csv name (it opened as garbage); a report or workbook named .csv is
    refused, naming the extension to use, and nothing is written."""
    runner = app_ctx.test_cli_runner()
    campaign = str(raw_world["campaign"])
    result = runner.invoke(args=["reports", "raw", campaign, "-o", str(tmp_path / "data.csv")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data.csv").read_bytes().decode("utf-8-sig").startswith("_response_id,")
    assert (tmp_path / "data-codebook.csv").exists()
    result = runner.invoke(args=["reports", "raw", campaign, "-o", str(tmp_path / "data.xlsx")])
    assert result.exit_code == 0 and (tmp_path / "data.xlsx").read_bytes()[:2] == b"PK"
    for args, message in (
            (["reports", "raw", campaign, "--format", "xlsx", "-o", str(tmp_path / "x.csv")],
             "x.csv: the file written is XLSX, not CSV; name it x.xlsx"),
            (["reports", "raw", campaign, "--format", "csv", "-o", str(tmp_path / "y.xlsx")],
             "y.xlsx: the file written is CSV, not XLSX; name it y.csv"),
            (["reports", "country", campaign, "KZ", "-o", str(tmp_path / "z.csv")],
             "z.csv: the file written is XLSX, not CSV; name it z.xlsx"),
            (["reports", "region", campaign, "-o", str(tmp_path / "w.json")],
             "w.json: the file written is XLSX, not JSON; name it w.xlsx")):
        result = runner.invoke(args=args)
        assert result.exit_code == 2 and message in result.output, args
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data-codebook.csv", "data.csv", "data.xlsx"]
