"""The offline Excel workbook: what the downloaded file holds, cell by cell, and importing it back (preview,
apply, refusals, conflicts with the website, exact text), through the functions and the CLI."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from types import SimpleNamespace

import openpyxl
import pytest
from openpyxl.utils.escape import unescape
from sqlalchemy import func, select

from tests.conftest import ROOT

QUESTIONNAIRE = ROOT / "tests" / "data" / "workbook_questionnaire.yaml"
#: Section titles as sheet names: forbidden characters dropped, cut after a word within 31 characters, made unique.
PROFILE = "Agency profile staffbudget 2024"
UNIT, MORE = "Counter-terrorism unit and its…", "Counter-terrorism unit and… (2)"
REGIONS_EN = [
    "Abai Region", "Akmola Region", "Aktobe Region", "Almaty Region", "Atyrau Region", "East Kazakhstan Region",
    "Zhambyl Region", "Zhetysu Region", "West Kazakhstan Region", "Karaganda Region", "Kostanay Region",
    "Kyzylorda Region", "Mangystau Region", "Pavlodar Region", "North Kazakhstan Region", "Turkistan Region",
    "Ulytau Region", "City of Astana, the capital", "City of Almaty", "City of Shymkent",
]
PLAN = {"name": "План действий.pdf", "key": "k3y", "size": 1234}
KAZAKH = "Қазақстан: ә ғ қ ң ө ұ ү һ і — Ә Ғ Қ Ң Ө Ұ Ү Һ І"
MIXED = "Needs 😀 שלום עולם مرحبا " + KAZAKH + " Oʻzbekiston: oʻ gʻ ş"


@pytest.fixture
def world(db_session, make_version, make_agency, make_user):
    """An open campaign (deadline 30 June 2030) over KZ/MVD and KZ/AFM, both responses created, not started."""
    from app.campaigns import services as campaigns
    from app.responses.services import ensure_response

    version = make_version(QUESTIONNAIRE)
    mvd = make_agency("KZ", "MVD", en="Ministry of Internal Affairs", ru="Министерство внутренних дел")
    afm = make_agency("KZ", "AFM", en="Financial Monitoring Agency", ru="Агентство финмониторинга")
    campaign = campaigns.create_campaign("Round 1", version, agencies=[mvd, afm], deadline=date(2030, 6, 30))
    campaigns.set_status(campaign, "open")
    response = ensure_response(campaign, mvd)
    other = ensure_response(campaign, afm)
    db_session.commit()
    return SimpleNamespace(campaign=campaign, version=version, response=response, other=other,
                           user=make_user("staff"))


def answer(world, db_session, **values):
    """Save answers as the web form does, and commit."""
    from app.responses.answering import save_answers

    result = save_answers(world.response, values, actor=world.user, channel="web", lang="en")
    assert result.ok, result.errors
    db_session.commit()


def download(response, lang: str = "en") -> openpyxl.Workbook:
    """The workbook as a person gets it: built, saved to .xlsx and opened again."""
    from app.responses.workbook import build_workbook

    buffer = io.BytesIO()
    build_workbook(response, lang=lang).save(buffer)
    return openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))


def to_bytes(book: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def find(book, ident: str):
    """(sheet, row number) of the row with this id in column A."""
    for sheet in book.worksheets:
        for row in range(1, sheet.max_row + 1):
            if sheet.cell(row=row, column=1).value == ident:
                return sheet, row
    raise AssertionError(f"no row for {ident}")


def answer_cell(book, ident: str):
    sheet, row = find(book, ident)
    return sheet.cell(row=row, column=4)


def ref(book, ident: str) -> str:
    sheet, row = find(book, ident)
    return f"{sheet.title}!D{row}"


def fill(book, **cells) -> openpyxl.Workbook:
    """Write answer cells by id (matrix rows as question__row)."""
    for ident, value in cells.items():
        answer_cell(book, ident.replace("__", "/")).value = value
    return book


def stored(db_session, response) -> dict:
    from app.responses.models import Answer

    db_session.expire_all()
    return {a.question_id: a.value for a in db_session.scalars(select(Answer).where(Answer.response_id ==
                                                                                    response.id))}


def audit_events(db_session) -> list:
    from app.core.models import AuditEvent

    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == "answers.imported")))


def import_(world, data: bytes, *, apply: bool, response="own", lang: str = "en"):
    from app.responses.workbook import import_workbook

    target = world.response if response == "own" else response
    return import_workbook(data, response=target, actor=world.user, lang=lang, apply=apply)


def validations(sheet) -> dict[str, object]:
    """{cell coordinate: data validation} of a sheet."""
    out = {}
    for validation in sheet.data_validations.dataValidation:
        for cell_range in validation.sqref.ranges:
            out[cell_range.coord] = validation
    return out


def list_values(book, validation) -> list[str]:
    """The labels a list validation offers, read from the range its defined name points at."""
    name = book.defined_names[validation.formula1]
    ((title, cells),) = list(name.destinations)
    sheet = book[title]
    return [unescape(row[0].value) for row in sheet[cells.replace("$", "")]]


# --- the downloaded workbook ---------------------------------------------------------------------------


def test_sheets_layout_and_protection(world, db_session):
    from app.core.models import utcnow
    from app.i18n import format_date

    book = download(world.response, "en")
    assert book.sheetnames == ["Instructions", PROFILE, UNIT, MORE, "Lists", "_meta"]
    assert [book[name].sheet_state for name in book.sheetnames] == ["visible"] * 4 + ["hidden", "veryHidden"]
    assert book.active.title == "Instructions"

    for title in (PROFILE, UNIT, MORE):
        sheet = book[title]
        assert sheet.protection.sheet and not sheet.protection.password
        assert sheet.freeze_panes == "A2"
        assert [c.value for c in sheet[1]] == ["ID", "Question", "Hint", "Answer", "Allowed answers"]
        assert sheet.column_dimensions["A"].width < sheet.column_dimensions["B"].width

    sheet, row = find(book, "agency_name")
    assert sheet.title == PROFILE
    cells = [sheet.cell(row=row, column=c) for c in range(1, 6)]
    assert [c.value for c in cells[:3]] == ["agency_name", "Name of the agency *", "As in the founding act"]
    assert [c.protection.locked for c in cells] == [True, True, True, False, True]
    assert cells[1].alignment.wrap_text
    assert find(book, "staff_total")[0].cell(row=find(book, "staff_total")[1], column=2).value == \
        "Total number of staff"  # not required: no mark

    # the section description and the note are text rows: no id, and their answer cell is locked
    profile = book[PROFILE]
    assert profile["B2"].value == "Answer for the whole agency." and profile["A2"].value is None
    assert profile["B3"].value == "Figures are for the last full year." and profile["A3"].value is None
    assert profile["D2"].protection.locked and profile["D3"].protection.locked

    # a matrix: one row per matrix row, question then row label
    sheet, row = find(book, "skills/interviewing")
    assert sheet.cell(row=row, column=2).value == "Rate the unit's skills — Interviewing"
    assert sheet.cell(row=row + 1, column=1).value == "skills/forensics"
    assert sheet.cell(row=row + 1, column=2).value == "Rate the unit's skills — Digital forensics"
    assert not sheet.cell(row=row + 1, column=4).protection.locked
    # a file question is shown but cannot be answered here
    assert answer_cell(book, "plan").protection.locked
    sheet, row = find(book, "plan")
    assert "uploaded on the website" in sheet.cell(row=row, column=5).value

    # every answerable question has exactly one unlocked cell; nothing else is unlocked
    unlocked = {f"{s.title}!{c.coordinate}" for s in book.worksheets for r in s.iter_rows() for c in r
                if c.protection.locked is False}
    assert unlocked == {ref(book, ident) for ident in (
        "agency_name", "staff_total", "budget", "answered_on", "region", "has_ct_unit", "ct_unit_staff", "maturity",
        "training_topics", "skills/interviewing", "skills/forensics", "cooperation/police", "cooperation/customs",
        "priorities", "remarks")}
    instructions = book["Instructions"]
    assert instructions.protection.sheet
    text = "\n".join(str(c.value) for r in instructions.iter_rows() for c in r if c.value is not None)
    for expected in ("Offline workbook example", "Ministry of Internal Affairs", "Round 1", "workbook-example v1",
                     "June 30, 2030", format_date(utcnow().date(), "medium"), "semicolon (;)",
                     "Financing of terrorism; Digital evidence", "“Not applicable”", "“Don't know”",
                     "Do not rename", "hidden information sheet", "Upload a filled workbook"):
        assert expected in text, expected
    links = [c.hyperlink.location for r in instructions.iter_rows() for c in r if c.hyperlink]
    assert links == [f"'{PROFILE}'!A1", f"'{UNIT}'!A1", f"'{MORE}'!A1"]
    meta = {r[0]: r[1] for r in book["_meta"].iter_rows(values_only=True)}
    assert meta["response_id"] == str(world.response.id) and meta["agency_id"] == str(world.response.agency_id)
    assert meta["campaign_id"] == str(world.campaign.id) and meta["version_id"] == str(world.version.id)
    assert meta["questionnaire"] == "workbook-example" and meta["version_number"] == "1" and meta["lang"] == "en"
    assert meta["answer:staff_total"].startswith("0:") and len(meta["signature"]) == 64
    assert meta["answer:plan"].startswith("0:") and "answer:intro" not in meta  # a file: its version only


def test_sheet_titles_are_valid_and_unique():
    from app.responses.workbook import sheet_title

    taken = {"instructions"}
    titles = [sheet_title(text, taken, "Section") for text in (
        "Profile: staff/budget [2024]?*\\", "A" * 40, "A" * 40, "a" * 40, "Instructions", "History", "''", "")]
    assert titles == ["Profile staffbudget 2024", "A" * 30 + "…", "A" * 26 + "… (2)", "a" * 26 + "… (3)",
                      "Instructions (2)", "History (2)", "Section", "Section (2)"]
    assert all(len(t) <= 31 for t in titles)


def test_dropdowns_number_date_and_length_checks(world):
    book = download(world.response, "en")
    profile, unit = validations(book[PROFILE]), validations(book[UNIT])

    def check(ident):
        sheet, row = find(book, ident)
        return validations(sheet).get(f"D{row}")

    region = check("region")
    assert region.type == "list" and region.formula1.startswith("list_")
    assert book.defined_names[region.formula1].attr_text.startswith("'Lists'!$A$2:$A$")
    assert list_values(book, region) == REGIONS_EN
    assert len(",".join(REGIONS_EN)) > 255  # too long for an inline list: hence the Lists sheet
    assert list_values(book, check("has_ct_unit")) == ["Yes", "Partly", "No", "Not applicable"]
    assert list_values(book, check("maturity")) == ["0 — Not in place", "1 — Initial", "2 — Partial",
                                                    "3 — Largely in place", "4 — Fully in place", "Don't know"]
    scale = ["Not in place", "Initial", "Partial", "Largely in place", "Fully in place"]
    assert list_values(book, check("skills/interviewing")) == scale
    assert list_values(book, check("skills/forensics")) == scale
    assert list_values(book, check("cooperation/customs")) == ["Every week", "Every month", "Never", "Not applicable"]
    assert check("skills/interviewing").formula1 == check("skills/forensics").formula1  # one list, shared

    staff = check("staff_total")
    assert (staff.type, staff.operator, staff.formula1, staff.formula2, staff.errorStyle) == \
        ("whole", "between", "1", "100000", "stop")
    budget = check("budget")  # may also hold "Don't know": a warning, not a refusal
    assert (budget.type, budget.operator, budget.formula1, budget.errorStyle) == \
        ("decimal", "greaterThanOrEqual", "0", "warning")
    day = check("answered_on")
    assert (day.type, day.operator, day.formula1, day.formula2) == ("date", "between", "DATE(2020,1,1)", "TODAY()")
    assert answer_cell(book, "answered_on").number_format == "yyyy-mm-dd"
    name = check("agency_name")
    assert (name.type, name.operator, name.formula1) == ("textLength", "lessThanOrEqual", "200")
    assert check("training_topics") is None and check("priorities") is None  # Excel cannot check these

    def help_of(ident):
        sheet, row = find(book, ident)
        return sheet.cell(row=row, column=5).value

    assert help_of("staff_total") == "A whole number. From 1 to 100000."
    assert help_of("budget") == "A number (million tenge). At least 0. Or: Don't know."
    assert help_of("answered_on") == "A date (YYYY-MM-DD). From 2020-01-01 to today."
    assert help_of("agency_name") == "Text, at most 200 characters."
    assert help_of("ct_unit_staff") == "A number. Only if it applies (it depends on earlier answers)."
    sheet, row = find(book, "training_topics")
    help_text = sheet.cell(row=row, column=5).value
    assert "Financing of terrorism; Digital evidence; Human rights; Other" in help_text
    assert "semicolon (;)" in help_text and "Don't know" in help_text
    validated = {f"{PROFILE}!{c}" for c in profile} | {f"{UNIT}!{c}" for c in unit} | \
        {f"{MORE}!{c}" for c in validations(book[MORE])}
    assert validated == {ref(book, ident) for ident in (
        "agency_name", "staff_total", "budget", "answered_on", "region", "has_ct_unit", "ct_unit_staff", "maturity",
        "skills/interviewing", "skills/forensics", "cooperation/police", "cooperation/customs", "remarks")}


def test_russian_workbook_has_russian_sheets_lists_and_prefilled_answers(world, db_session):
    from app.i18n import _, force_locale

    answer(world, db_session, agency_name="МВД РК", staff_total=1200, budget=12.5, answered_on="2024-03-01",
           region="astana", has_ct_unit="partly", ct_unit_staff=40, maturity="dont_know",
           training_topics=["financing", "rights"], skills={"interviewing": 3, "forensics": 1},
           cooperation={"police": "weekly", "customs": "not_applicable"}, plan=PLAN, priorities="Обучение")
    book = download(world.response, "ru")
    assert book.sheetnames[1:4] == ["Сведения о ведомстве…", "Подразделение по…", "Подразделение по… (2)"]
    with force_locale("ru"):
        assert (book.sheetnames[0], book.sheetnames[4]) == (_("Instructions"), _("Lists"))
    assert find(book, "agency_name")[0].cell(row=find(book, "agency_name")[1], column=2).value == \
        "Наименование ведомства *"
    sheet, row = find(book, "has_ct_unit")
    assert list_values(book, validations(sheet)[f"D{row}"]) == ["Да", "Частично", "Нет", "Неприменимо"]

    cells = {ident: answer_cell(book, ident).value for ident in (
        "agency_name", "staff_total", "budget", "answered_on", "region", "has_ct_unit", "ct_unit_staff", "maturity",
        "training_topics", "skills/interviewing", "skills/forensics", "cooperation/police", "cooperation/customs",
        "plan", "priorities", "remarks")}
    assert cells == {
        "agency_name": "МВД РК", "staff_total": 1200, "budget": 12.5, "answered_on": datetime(2024, 3, 1),
        "region": "Город Астана, столица", "has_ct_unit": "Частично", "ct_unit_staff": 40,
        "maturity": "Затрудняюсь ответить", "training_topics": "Финансирование терроризма; Права человека",
        "skills/interviewing": "В основном обеспечено", "skills/forensics": "Начальный уровень",
        "cooperation/police": "Еженедельно", "cooperation/customs": "Неприменимо",
        "plan": "План действий.pdf", "priorities": "Обучение", "remarks": None,
    }
    assert answer_cell(book, "plan").protection.locked  # shown, not importable
    meta = {r[0]: r[1] for r in book["_meta"].iter_rows(values_only=True)}
    assert meta["lang"] == "ru" and meta["answer:staff_total"].startswith("1:")


# --- importing -----------------------------------------------------------------------------------------


def test_round_trip_with_russian_and_english_labels_and_codes(world, db_session):
    from app.responses.models import Response

    book = fill(download(world.response, "en"),
                agency_name="Министерство внутренних дел", staff_total=300, budget="12,5", answered_on="31.12.2023",
                region="  город   АЛМАТЫ ", has_ct_unit="Да", ct_unit_staff=25.0, maturity=3,
                training_topics="Digital evidence; права человека\nfinancing", skills__interviewing="Partial",
                skills__forensics="4 — Полностью обеспечено", cooperation__police="monthly",
                cooperation__customs="Неприменимо", priorities="Three needs", remarks="ok")
    outcome = import_(world, to_bytes(book), apply=True)
    assert outcome.problems == [] and outcome.applied
    db_session.commit()
    assert stored(db_session, world.response) == {
        "agency_name": "Министерство внутренних дел", "staff_total": 300, "budget": 12.5,
        "answered_on": "2023-12-31", "region": "almaty", "has_ct_unit": "yes", "ct_unit_staff": 25, "maturity": 3,
        "training_topics": ["financing", "digital", "rights"], "skills": {"interviewing": 2, "forensics": 4},
        "cooperation": {"police": "monthly", "customs": "not_applicable"}, "priorities": "Three needs",
        "remarks": "ok"}
    changes = {c.question_id: (c.label, c.old, c.new, c.changed_online) for c in outcome.changes}
    assert changes["region"] == ("Region of the headquarters", "", "City of Almaty", False)
    assert changes["training_topics"][2] == "Financing of terrorism; Digital evidence; Human rights"
    assert len(changes) == 13
    (event,) = audit_events(db_session)
    assert event.channel == "workbook" and event.actor_id == world.user.id
    assert set(event.new_value) == set(changes) and event.new_value["staff_total"] == 300
    assert db_session.get(Response, world.response.id).status == "in_progress"


def test_dates_typed_as_dates_and_numbers_as_text(world, db_session):
    book = fill(download(world.response, "ru"), answered_on=datetime(2024, 2, 29), budget=" 1 000,25",
                staff_total="42", has_ct_unit="no", maturity="2 - Partial")
    outcome = import_(world, to_bytes(book), apply=True)
    assert outcome.problems == []
    db_session.commit()
    assert stored(db_session, world.response) == {"answered_on": "2024-02-29", "budget": 1000.25,
                                                  "staff_total": 42, "has_ct_unit": "no", "maturity": 2}


def test_unchanged_workbook_changes_nothing(world, db_session):
    answer(world, db_session, agency_name="=HYPERLINK(\"x\") MVD", staff_total=1200, budget=12.5,
           answered_on="2024-03-01", region="astana", has_ct_unit="partly", ct_unit_staff=40, maturity="dont_know",
           training_topics=["financing", "rights"], skills={"interviewing": 3}, plan=PLAN,
           cooperation={"police": "weekly", "customs": "not_applicable"}, priorities="-5 is a start\n@all")
    before = stored(db_session, world.response)
    for lang in ("en", "ru"):
        outcome = import_(world, to_bytes(download(world.response, lang)), apply=True)
        assert outcome.problems == [] and outcome.changes == [] and outcome.applied
    db_session.commit()
    assert stored(db_session, world.response) == before
    assert audit_events(db_session) == []


def test_dry_run_lists_changes_and_stores_nothing(world, db_session):
    from app.responses.models import Response

    book = fill(download(world.response, "en"), staff_total=300, region="City of Shymkent")
    outcome = import_(world, to_bytes(book), apply=False)
    assert outcome.problems == [] and not outcome.applied
    assert [(c.question_id, c.label, c.old, c.new, c.changed_online) for c in outcome.changes] == [
        ("staff_total", "Total number of staff", "", "300", False),
        ("region", "Region of the headquarters", "", "City of Shymkent", False)]
    db_session.commit()  # whatever the dry run left in the session would be stored now
    assert stored(db_session, world.response) == {}
    assert audit_events(db_session) == []
    assert db_session.get(Response, world.response.id).status == "not_started"
    # the same file, applied: the very same changes
    applied = import_(world, to_bytes(book), apply=True)
    db_session.commit()
    assert applied.changes == outcome.changes
    assert stored(db_session, world.response) == {"staff_total": 300, "region": "shymkent"}


@pytest.mark.parametrize("typed", [-5, 0, 0.5])
@pytest.mark.parametrize("number_format", ["yyyy-mm-dd", "General"])
def test_a_number_before_excels_first_date_in_a_date_cell_is_refused(world, db_session, typed, number_format):
    """A date cell holds the day's number, read back as that date whether or not the cell kept its date format
    (45352 is 2024-03-01); a number below 1 is no date at all (openpyxl would make -5 into 1899-12-25, or 0 into
    a time of day)."""
    def typed_in(value):
        book = fill(download(world.response, "en"), answered_on=value, staff_total=42)
        answer_cell(book, "answered_on").number_format = number_format
        return book

    book = typed_in(typed)
    outcome = import_(world, to_bytes(book), apply=True)
    assert [(p.cell, p.message) for p in outcome.problems] == [
        (ref(book, "answered_on"), "Enter a date as YYYY-MM-DD (or DD.MM.YYYY).")]
    assert not outcome.applied
    book = typed_in(45352)
    outcome = import_(world, to_bytes(book), apply=True)
    assert outcome.problems == []
    db_session.commit()
    assert stored(db_session, world.response) == {"answered_on": "2024-03-01", "staff_total": 42}


def test_bad_values_are_reported_by_cell_and_nothing_is_stored(world, db_session):
    answer(world, db_session, staff_total=300, has_ct_unit="yes")
    book = fill(download(world.response, "en"), budget=-5, region="Atlantis", ct_unit_staff=5000,
                cooperation__police="Sometimes", staff_total=0, answered_on="2019-12-31", maturity=2,
                training_topics="Digital evidence; Cooking", remarks="x" * 51, agency_name="Fine")
    outcome = import_(world, to_bytes(book), apply=True)
    assert not outcome.applied and outcome.changes == []
    problems = {p.cell: p.message for p in outcome.problems}
    assert problems == {
        ref(book, "staff_total"): "The number must be at least 1.",
        ref(book, "budget"): "The number must be at least 0.",
        ref(book, "answered_on"): "The date must not be before 2020-01-01.",
        ref(book, "region"): "“Atlantis” is not one of the allowed answers: choose one from the cell's drop-down "
                             "list.",
        ref(book, "ct_unit_staff"): "At least 1 and not more than the total staff",
        ref(book, "training_topics"): "“Cooking” is not one of the allowed answers (see the column “Allowed "
                                      "answers”).",
        ref(book, "cooperation/police"): "“Sometimes” is not one of the allowed answers: choose one from the "
                                         "cell's drop-down list.",
        ref(book, "remarks"): "The text is too long: 51 characters, at most 50 allowed.",
    }
    assert {p.sheet for p in outcome.problems} == {PROFILE, UNIT, MORE}
    assert str(outcome.problems[0]).startswith(f"{PROFILE}!D")
    db_session.commit()
    assert stored(db_session, world.response) == {"staff_total": 300, "has_ct_unit": "yes"}
    assert audit_events(db_session) == []


def test_hidden_questions_are_not_checked(world, db_session):
    """Skip logic as on the web form: a question that does not apply is not checked and its input not kept."""
    book = fill(download(world.response, "en"), has_ct_unit="No", ct_unit_staff="many", skills__forensics="Wrong")
    outcome = import_(world, to_bytes(book), apply=True)
    assert outcome.problems == []
    db_session.commit()
    assert stored(db_session, world.response) == {"has_ct_unit": "no"}


def test_emptied_cell_clears_the_answer_and_moved_or_extra_rows_are_tolerated(world, db_session):
    answer(world, db_session, remarks="old remark", staff_total=10, skills={"interviewing": 3, "forensics": 1})
    book = download(world.response, "en")
    profile = book[PROFILE]
    profile.insert_rows(2, amount=3)
    profile["A3"], profile["D3"] = "not_a_question", "ignored"
    profile["A4"], profile["D4"] = "intro", "notes are never answers"
    book.move_sheet(MORE, offset=-2)
    fill(book, remarks=None, staff_total=11, skills__forensics=None)
    outcome = import_(world, to_bytes(book), apply=True)
    assert outcome.problems == []
    assert {(c.question_id, c.old, c.new) for c in outcome.changes} == {
        ("remarks", "old remark", ""), ("staff_total", "10", "11"),
        ("skills", "Interviewing: Largely in place; Digital forensics: Initial", "Interviewing: Largely in place")}
    db_session.commit()
    values = stored(db_session, world.response)
    assert values["remarks"] is None and values["staff_total"] == 11 and values["skills"] == {"interviewing": 3}


def _with_saved_result(data: bytes, formula: bytes, result: bytes) -> bytes:
    """The workbook with the result of one formula saved beside it, as Excel and LibreOffice save it."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                content = content.replace(b"<f>" + formula + b"</f><v />", b"<f>" + formula + b"</f><v>" + result +
                                          b"</v>")
            target.writestr(item, content)
    return out.getvalue()


def test_a_formula_without_a_saved_result_is_refused_not_read_as_empty(world, db_session):
    """A program that writes workbooks (not Excel, not LibreOffice) may leave a formula without its result: read as
    an empty cell it would clear the answer, so the cell is named and nothing is stored. A formula whose result
    was saved gives its result."""
    answer(world, db_session, staff_total=10, remarks="old remark", skills={"interviewing": 3, "forensics": 1})
    book = fill(download(world.response, "en"), staff_total="=2*30", skills__forensics='="Initial"',
                budget="=1000*12", remarks=None)
    data = to_bytes(book)
    outcome = import_(world, data, apply=True)
    assert not outcome.applied
    assert {p.cell: p.message for p in outcome.problems} == {
        ref(book, name): f"This cell holds a formula ({formula}) whose result was not saved in the file, so there is "
                         "no answer to read. Type the answer itself, or open the workbook in Excel or LibreOffice, "
                         "save it and upload it again."
        for name, formula in (("staff_total", "=2*30"), ("skills/forensics", '="Initial"'), ("budget", "=1000*12"))}
    db_session.commit()
    assert stored(db_session, world.response)["staff_total"] == 10

    data = to_bytes(fill(download(world.response, "en"), staff_total="=2*30", budget="=1000*12"))
    saved = _with_saved_result(_with_saved_result(data, b"2*30", b"60"), b"1000*12", b"12000")
    outcome = import_(world, saved, apply=True)
    assert outcome.problems == [] and outcome.applied
    db_session.commit()
    values = stored(db_session, world.response)
    assert values["staff_total"] == 60 and values["budget"] == 12000 and values["remarks"] == "old remark"


def test_a_missing_sheet_or_row_leaves_answers_unchanged(world, db_session):
    answer(world, db_session, remarks="kept", staff_total=10, skills={"interviewing": 3, "forensics": 1})
    book = download(world.response, "en")
    book.remove(book[MORE])
    sheet, row = find(book, "skills/forensics")
    sheet.delete_rows(row)
    fill(book, skills__interviewing="Partial")
    outcome = import_(world, to_bytes(book), apply=True)
    assert outcome.problems == [] and [c.question_id for c in outcome.changes] == ["skills"]
    db_session.commit()
    values = stored(db_session, world.response)
    assert values["remarks"] == "kept" and values["skills"] == {"interviewing": 2, "forensics": 1}


def test_a_question_twice_is_a_problem(world, db_session):
    book = download(world.response, "en")
    sheet, row = find(book, "staff_total")
    sheet.cell(row=40, column=1, value="staff_total")
    sheet.cell(row=40, column=4, value=5)
    outcome = import_(world, to_bytes(book), apply=True)
    assert [(p.cell, p.message) for p in outcome.problems] == [
        (f"{PROFILE}!D40", f"This question appears twice in the workbook (also in {PROFILE}!D{row}): keep one of "
                           "the rows.")]
    assert stored(db_session, world.response) == {}


def test_answers_changed_online_after_the_download(world, db_session):
    answer(world, db_session, staff_total=100, region="astana", remarks="first")
    book = download(world.response, "en")
    answer(world, db_session, staff_total=150, region="almaty", remarks="changed online")  # on the website
    fill(book, staff_total=200, remarks="changed online")  # region left as downloaded
    outcome = import_(world, to_bytes(book), apply=False)
    assert outcome.problems == []
    assert [(c.question_id, c.old, c.new, c.changed_online_since_download) for c in outcome.changes] == [
        ("staff_total", "150", "200", True)]  # both values shown; the untouched region keeps the website's
    applied = import_(world, to_bytes(book), apply=True)
    assert applied.applied
    db_session.commit()
    values = stored(db_session, world.response)
    assert values["staff_total"] == 200 and values["region"] == "almaty" and values["remarks"] == "changed online"


def test_exotic_text_round_trips_exactly(world, db_session):
    tricky = "=SUM(A1) " + MIXED + "\r\nline two\ttab \x07 bell \x1f unit \x0b _x0041_ stays literal "
    answer(world, db_session, priorities=tricky, agency_name="+7 " + KAZAKH, remarks="@ שלום 😀")
    book = download(world.response, "en")
    cell = answer_cell(book, "priorities")
    assert cell.data_type == "s" and cell.quotePrefix  # text, never a formula
    assert unescape(cell.value) == tricky.replace("\r\n", "\n")  # line breaks are stored as one LF
    assert unescape(answer_cell(book, "agency_name").value) == "+7 " + KAZAKH
    outcome = import_(world, to_bytes(book), apply=True)
    assert outcome.problems == [] and outcome.changes == []

    # typed in the workbook (Excel writes a control character as _x0007_)
    fill(book, priorities=MIXED + " _x0007_ end", remarks="العربية ✓ Ұ")
    outcome = import_(world, to_bytes(book), apply=True)
    assert outcome.problems == [] and {c.question_id for c in outcome.changes} == {"priorities", "remarks"}
    db_session.commit()
    values = stored(db_session, world.response)
    assert values["priorities"] == MIXED + " \x07 end" and values["remarks"] == "العربية ✓ Ұ"
    assert values["agency_name"] == "+7 " + KAZAKH


# --- refusals ------------------------------------------------------------------------------------------


def _altered(world, book):
    book["_meta"]["B3"] = str(world.other.id)  # response_id
    return to_bytes(book)


def _unsigned(world, book):
    book.remove(book["_meta"])
    return to_bytes(book)


def _ole(world, book):
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000


def _zip_not_workbook(world, book):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _damaged(world, book):
    return to_bytes(book)[:3000]


@pytest.mark.parametrize(("make", "message"), [
    (_altered, "The hidden information sheet was changed, so the workbook cannot be trusted."),
    (_unsigned, "The workbook has no hidden information sheet: only a workbook downloaded from this site"),
    (lambda w, b: b"this is not a spreadsheet at all" * 10, "The file is not an Excel workbook (.xlsx)."),
    (_zip_not_workbook, "The file is not an Excel workbook (.xlsx)."),
    (_damaged, "The file is not an Excel workbook (.xlsx)."),
    (_ole, "The file is protected with a password or saved in the old Excel format (.xls). Save it as an Excel "
           "workbook (.xlsx) without a password and upload it again."),
    (lambda w, b: b"PK\x03\x04" + b"\x00" * (11 * 1024 * 1024), "The file is larger than 10 MB"),
], ids=["altered", "no-metadata", "garbage", "zip", "damaged", "ole", "11MB"])
def test_refused_files(world, db_session, make, message):
    book = fill(download(world.response, "en"), staff_total=300)
    outcome = import_(world, make(world, book), apply=True)
    assert len(outcome.problems) == 1 and outcome.problems[0].fatal and outcome.fatal == outcome.problems
    assert outcome.problems[0].message.startswith(message)
    assert not outcome.applied and outcome.changes == []
    db_session.commit()
    assert stored(db_session, world.response) == {}


def test_workbook_of_another_agency_is_refused(world, db_session):
    book = fill(download(world.other, "en"), staff_total=300)
    outcome = import_(world, to_bytes(book), apply=True)
    assert [p.message for p in outcome.problems] == [
        "This workbook is for Financial Monitoring Agency, not for Ministry of Internal Affairs. Upload the "
        "workbook downloaded for Ministry of Internal Affairs."]
    db_session.commit()
    assert stored(db_session, world.response) == {} and stored(db_session, world.other) == {}


def test_workbook_of_another_campaign_of_the_agency_is_refused_with_what_to_do(world, db_session):
    from app.campaigns import services as campaigns
    from app.responses.services import ensure_response

    follow_up = campaigns.create_campaign("Round 2", world.version, agencies=[world.response.agency])
    campaigns.set_status(follow_up, "open")
    later = ensure_response(follow_up, world.response.agency)
    db_session.commit()
    book = fill(download(world.response, "en"), staff_total=300)  # the agency's workbook of Round 1
    outcome = import_(world, to_bytes(book), apply=True, response=later)
    assert [p.message for p in outcome.problems] == [
        "This workbook is for the campaign “Round 1”, not for “Round 2”. Download the workbook of “Round 2” from "
        "its questionnaire page and copy your answers into it."]
    db_session.commit()
    assert stored(db_session, later) == {} and stored(db_session, world.response) == {}


def test_workbook_of_another_version_is_refused(world, db_session, make_version, tmp_path):
    book = fill(download(world.response, "en"), staff_total=300)
    changed = tmp_path / "v2.yaml"
    changed.write_text(QUESTIONNAIRE.read_text(encoding="utf-8").replace("max_length: 50", "max_length: 60"),
                       encoding="utf-8")
    second = make_version(changed)
    assert second.number == 2
    world.response.version_id = second.id
    db_session.commit()
    outcome = import_(world, to_bytes(book), apply=True)
    assert [p.message for p in outcome.problems] == [
        "This workbook is for version workbook-example v1 of the questionnaire, but these answers use version "
        "workbook-example v2. Download a new workbook."]


def test_submitted_response_is_refused(world, db_session):
    book = fill(download(world.response, "en"), staff_total=300)
    world.response.status = "submitted"
    db_session.commit()
    outcome = import_(world, to_bytes(book), apply=True)
    assert [p.message for p in outcome.problems] == [
        "These answers can no longer be changed: they have been submitted or the campaign is closed."]
    assert not outcome.applied
    db_session.commit()
    assert stored(db_session, world.response) == {}


def test_read_workbook_gives_raw_values_with_their_cells(world, db_session):
    from app.responses.workbook import read_workbook

    book = fill(download(world.response, "ru"), region="Abai Region", training_topics="Другое",
                cooperation__customs="never", staff_total=7)
    read = read_workbook(to_bytes(book))  # no response given: the one the workbook names
    assert read.ok and read.response.id == world.response.id and read.lang == "ru"
    assert isinstance(read.downloaded_at, datetime)
    assert read.values["region"].value == "abai" and read.values["region"].cell == ref(book, "region")
    assert read.values["training_topics"].value == ["other"]
    assert read.values["cooperation"].value == {"police": None, "customs": "never"}
    assert read.values["cooperation"].rows == {"police": ref(book, "cooperation/police"),
                                               "customs": ref(book, "cooperation/customs")}
    assert read.values["staff_total"].value == 7 and read.values["remarks"].value is None
    assert "plan" not in read.values and "intro" not in read.values
    assert read.at_download["staff_total"][0] == 0


# --- the command line ----------------------------------------------------------------------------------


def test_cli_writes_checks_and_imports_a_workbook(app_ctx, world, db_session, tmp_path):
    from app.core.models import AuditEvent

    runner = app_ctx.test_cli_runner()
    path = tmp_path / "not yet a folder" / "mvd.xlsx"  # -o creates the folder
    result = runner.invoke(args=["responses", "workbook", str(world.response.id), "-o", str(path), "--lang", "ru"])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[1] == "Сведения о ведомстве…" and book["_meta"].sheet_state == "veryHidden"

    fill(book, staff_total=0, region="Атлантида").save(path)
    # A language the interface does not have is refused as a usage error, not a traceback.
    result = runner.invoke(args=["responses", "import-workbook", str(path), "--lang", "xx"])
    assert result.exit_code == 2 and "'xx' is not one of the interface languages (en, ru)" in result.output
    # Without --lang: DEFAULT_LOCALE, which need not be English (before, a default of "en" was checked too).
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(app_ctx.config, "LOCALES", ["ru"])
        patch.setitem(app_ctx.config, "DEFAULT_LOCALE", "ru")
        result = runner.invoke(args=["responses", "import-workbook", str(path)])
    assert result.exit_code == 1 and "Число должно быть не меньше 1." in result.output
    result = runner.invoke(args=["responses", "import-workbook", str(path), "--yes"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [f"{ref(book, 'staff_total')}: The number must be at least 1.",
                     f"{ref(book, 'region')}: “Атлантида” is not one of the allowed answers: choose one from the "
                     "cell's drop-down list."]
    assert stored(db_session, world.response) == {}

    fill(book, staff_total=250, region="Город Шымкент").save(path)
    result = runner.invoke(args=["responses", "import-workbook", str(path)])
    assert result.exit_code == 0, result.output
    assert "Total number of staff: (empty) -> 250" in result.output
    assert "Region of the headquarters: (empty) -> City of Shymkent" in result.output
    assert "Nothing was changed: run the command again with --yes" in result.output
    assert stored(db_session, world.response) == {}

    result = runner.invoke(args=["responses", "import-workbook", str(path), "--yes"])
    assert result.exit_code == 0, result.output
    assert "2 answer(s) saved." in result.output
    assert stored(db_session, world.response) == {"staff_total": 250, "region": "shymkent"}
    (event,) = audit_events(db_session)
    assert event.actor_id is None and event.channel == "workbook" and event.object_id == str(world.response.id)
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "answer.changed", AuditEvent.channel == "workbook")) == 0

    result = runner.invoke(args=["responses", "import-workbook", str(path), "--yes"])
    assert result.exit_code == 0 and "nothing to change" in result.output


def test_cli_refuses_an_unknown_response_and_a_foreign_file(app_ctx, world, tmp_path):
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(args=["responses", "workbook", "999999", "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code != 0 and "no response with id 999999" in result.output
    garbage = tmp_path / "old.xls"
    garbage.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    result = runner.invoke(args=["responses", "import-workbook", str(garbage)])
    assert result.exit_code == 1 and "old Excel format (.xls)" in result.output
    assert runner.invoke(args=["campaigns", "remind", "--help"]).exit_code == 0  # still registered


@pytest.fixture
def long_world(db_session, make_version, make_agency, make_user, tmp_path):
    """As `world`, with the main needs allowed 40,000 characters: more than an Excel cell holds (32,767)."""
    from app.campaigns import services as campaigns
    from app.responses.services import ensure_response

    path = tmp_path / "long.yaml"
    text = QUESTIONNAIRE.read_text(encoding="utf-8")
    path.write_text(text.replace("      - id: priorities\n        type: long_text\n",
                                 "      - id: priorities\n        type: long_text\n        max_length: 40000\n"),
                    encoding="utf-8")
    version = make_version(path)
    mvd = make_agency("KZ", "MVD", en="Ministry of Internal Affairs", ru="Министерство внутренних дел")
    campaign = campaigns.create_campaign("Round 1", version, agencies=[mvd], deadline=date(2030, 6, 30))
    campaigns.set_status(campaign, "open")
    response = ensure_response(campaign, mvd)
    db_session.commit()
    return SimpleNamespace(campaign=campaign, version=version, response=response, user=make_user("staff"))


def test_an_answer_longer_than_a_cell_survives_the_round_trip(long_world, db_session):
    """A cell holds 32,767 characters: an answer of 35,000 is shown cut in a locked cell, and the workbook sent back
    unchanged keeps the whole answer (it used to be written whole, which Excel cannot open, and read back as
    changed). A change to that cell is refused with its cell named, and nothing is stored."""
    long_text = ("Needs of the regional offices. " * 1200)[:35_000]
    answer(long_world, db_session, priorities=long_text, staff_total=10)
    book = download(long_world.response, "en")
    cell = answer_cell(book, "priorities")
    assert len(cell.value) == 32_767 and cell.value.endswith(" […]") and long_text.startswith(cell.value[:-4])
    assert cell.protection.locked and cell.fill.fgColor.rgb.endswith("EDEDED")
    sheet, row = find(book, "priorities")
    assert "The answer is longer than an Excel cell holds" in sheet.cell(row=row, column=5).value  # the help

    outcome = import_(long_world, to_bytes(fill(book, staff_total=11)), apply=True)
    assert outcome.problems == [] and outcome.applied and [c.question_id for c in outcome.changes] == ["staff_total"]
    db_session.commit()
    assert stored(db_session, long_world.response)["priorities"] == long_text

    book = download(long_world.response, "en")
    edited = fill(book, priorities=answer_cell(book, "priorities").value[:-4] + " and more")
    outcome = import_(long_world, to_bytes(edited), apply=True)
    assert not outcome.applied and [(p.cell, p.message) for p in outcome.problems] == [(
        ref(edited, "priorities"), "The answer to this question is longer than an Excel cell holds, so the workbook "
                                   "showed only its beginning and it cannot be changed here. Change it on the "
                                   "website, or put back the cell as it was downloaded.")]
    db_session.commit()
    assert stored(db_session, long_world.response)["priorities"] == long_text


def test_a_number_typed_as_text_with_a_comma_before_three_digits_is_refused_at_its_cell(world, db_session):
    """"1,200" typed into a text-formatted cell: 1200 or 1.2? The workbook is refused at that cell, as the form
    refuses it, and nothing of it is stored."""
    book = fill(download(world.response, "en"), staff_total="1,200", region="shymkent")
    outcome = import_(world, to_bytes(book), apply=True)
    assert [(p.cell, p.message) for p in outcome.problems] == [
        (ref(book, "staff_total"), "Write 1200 without the comma: the answer is a whole number.")]
    assert not outcome.applied
    assert stored(db_session, world.response) == {}


def test_typographic_apostrophes_and_quotes_are_read_as_the_plain_ones(world, db_session):
    """Word and LibreOffice's AutoCorrect turn "Don't know" into "Don’t know" as it is typed: the same answer,
    not "Enter a number"."""
    book = fill(download(world.response, "en"), budget="Don’t know", maturity="DON`T KNOW", staff_total=10)
    outcome = import_(world, to_bytes(book), apply=True)
    assert outcome.problems == []
    db_session.commit()
    assert stored(db_session, world.response) == {"budget": "dont_know", "maturity": "dont_know", "staff_total": 10}


def test_an_unknown_answer_points_to_the_column_by_its_heading_in_the_workbooks_language(world, db_session):
    """A workbook downloaded in English, uploaded with the interface in Russian: the message is Russian but names
    the column as the file heads it ("Allowed answers"), not «Допустимые ответы», which the file does not have."""
    from app.i18n import force_locale

    book = fill(download(world.response, "en"), training_topics="Cooking", staff_total=300)
    with force_locale("ru"):
        outcome = import_(world, to_bytes(book), apply=True, lang="ru")
    [problem] = outcome.problems
    assert problem.message == "«Cooking» не является допустимым ответом (см. столбец «Allowed answers»)."
