"""A campaign over KZ and TJ agencies in every state, with ratings, a clarification round trip and a comment."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.conftest import extract_csrf, sign_in

QUESTIONNAIRE = Path(__file__).with_name("report_questionnaire.yaml")

ANSWERS = {
    "MVD": {"agency_name": "MVD", "staff_total": 500, "answered_on": "2026-03-15", "has_ct_unit": "yes",
            "ct_unit_staff": 20, "training_topics": ["financing", "digital"], "exchange_channel": "interpol",
            "priorities": "Forensic laboratory"},
    "AFM": {"agency_name": "AFM", "staff_total": 200, "has_ct_unit": "partly", "ct_unit_staff": 5,
            "training_topics": ["rights"], "exchange_channel": "bilateral"},
    "GP": {"agency_name": "GP in progress", "priorities": "Draft answer in progress"},
    "TJ": {"agency_name": "MVD TJ", "staff_total": 300, "has_ct_unit": "no", "exchange_channel": "none",
           "priorities": "Секретный ответ TJ"},
}
RATIONALE = "The unit exists on paper only; no staff were assigned in 2025."
COMMENT = "INTERNAL NOTE: check the staff figure against the 2025 annual report"
CLARIFICATION = "Does 500 include the regional offices?"
REPLY = "No: 350 at headquarters, the rest in the regions."


@pytest.fixture
def report_world(app_ctx, db_session, make_country, make_version, make_agency, make_user):
    """KZ: MVD (submitted after a clarification round trip), AFM (validated), GP (in progress), NB (not
    started); TJ: MVD (submitted); a regional body (not started). An expert rating and a comment on KZ."""
    from app.campaigns import services as campaigns
    from app.responses import answering
    from app.responses.services import ensure_response
    from app.review import services as review

    make_country("KZ", en="Kazakhstan", ru="Казахстан")
    make_country("TJ", en="Tajikistan", ru="Таджикистан")
    version = make_version(QUESTIONNAIRE)
    agencies = {"MVD": make_agency("KZ", "MVD", en="Ministry of Internal Affairs", ru="МВД"),
                "AFM": make_agency("KZ", "AFM", kind="fiu", en="Financial Monitoring Agency"),
                "GP": make_agency("KZ", "GP", kind="prosecutor", en="Prosecutor General's Office"),
                "NB": make_agency("KZ", "NB", kind="security", en="National Security Committee"),
                "TJ": make_agency("TJ", "MVD", en="Ministry of Internal Affairs of Tajikistan"),
                "RATS": make_agency(None, "RATS", kind="regional", en="Regional Anti-Terrorist Structure")}
    people = {"expert": make_user("expert", email="kz.expert@example.org", name="KZ Expert", countries=["KZ"]),
              "staff": make_user("staff", email="staff@example.org", name="Staff Member")}
    campaign = campaigns.create_campaign("Round 1", version, agencies=list(agencies.values()),
                                         target_overrides={"KZ": {"coop_exchange": 3}})
    campaigns.set_status(campaign, "open")
    responses = {}
    for key in ("MVD", "AFM", "GP", "TJ"):
        response = ensure_response(campaign, agencies[key])
        result = answering.save_answers(response, ANSWERS[key], actor=None, channel="cli", lang="en")
        assert result.ok, result.errors
        if key != "GP":
            answering.submit(response, actor=None, lang="en")
        responses[key] = response
    review.validate(responses["AFM"], actor=people["staff"])
    kz = agencies["MVD"].country
    review.add_rating(campaign, kz, "inv_unit", 1, RATIONALE, actor=people["expert"])
    # The clarification round trip: requested, replied, answer changed, resubmitted.
    mvd = responses["MVD"]
    [clarification] = review.request_clarification(mvd, [("staff_total", CLARIFICATION)], actor=people["expert"])
    review.reply_to_clarification(mvd, clarification.id, REPLY, actor=None)
    assert answering.save_answers(mvd, {"staff_total": 350}, actor=None, channel="cli", lang="en").ok
    answering.submit(mvd, actor=None, lang="en")
    review.add_comment(mvd, "staff_total", COMMENT, actor=people["expert"])
    db_session.commit()
    world = {"campaign": campaign.id, "responses": {k: r.id for k, r in responses.items()},
             "countries": {"KZ": kz.id, "TJ": agencies["TJ"].country_id}}
    db_session.rollback()
    return world


def open_workbook(content: bytes):
    """A workbook from bytes, as a user's Excel would read it."""
    return load_workbook(io.BytesIO(content))


def save(workbook) -> bytes:
    """A built workbook as the bytes of a file."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def all_texts(workbook) -> list[str]:
    """Every text of every cell of every sheet."""
    return [cell.value for sheet in workbook for row in sheet.iter_rows() for cell in row
            if isinstance(cell.value, str)]


def xml_parts(content: bytes, prefix: str = "") -> str:
    """Every XML part of the file (sheets, shared strings, charts, properties), or those whose name starts with
    `prefix`, as one text."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "\n".join(archive.read(name).decode("utf-8") for name in archive.namelist()
                         if name.endswith((".xml", ".rels")) and name.startswith(prefix))


def client_for(app, email: str):
    """A test client signed in as `email`, interface in English."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, email)
    client.csrf = extract_csrf(client.get("/review/").get_data(as_text=True))
    return client


def column_of(sheet, title: str, row: int = 1) -> int:
    """The column (1-based) whose header cell says `title`."""
    for cell in sheet[row]:
        if cell.value == title:
            return cell.column
    raise AssertionError(f"no column {title!r} in {sheet.title}")


def rows_by_code(sheet, code_column: int, first_row: int = 2) -> dict[str, int]:
    """{code in the hidden code column: row number}."""
    return {sheet.cell(row=r, column=code_column).value: r for r in range(first_row, sheet.max_row + 1)
            if sheet.cell(row=r, column=code_column).value}
