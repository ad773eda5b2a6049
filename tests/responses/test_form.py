"""The respondent's questionnaire through the test client: sections, saving, skip logic on the server,
conflicts, autosave, review and submission, print, history, files and scope."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import extract_csrf, form_as_browser_sends, post_multipart

FILE_QUESTIONNAIRE = """
schema_version: 1
id: evidence-example
title: {en: Evidence, ru: Подтверждения}
languages: [en, ru]
scale:
  - {level: 0, label: {en: None, ru: Нет}}
  - {level: 1, label: {en: Some, ru: Есть}}
sections:
  - id: docs
    title: {en: Documents, ru: Документы}
    questions:
      - id: plan
        type: file
        label: {en: The action plan, ru: План действий}
        file_types: [pdf, docx]
        max_size_mb: 1
        not_applicable: true
      - id: comment
        type: text
        label: {en: Comment, ru: Комментарий}
"""


def open_link(client, link: str):
    response = client.get(link[link.index("/i/"):])
    assert response.status_code == 302, response.get_data(as_text=True)
    client.csrf = extract_csrf(client.get("/respondent").get_data(as_text=True))
    return client


@pytest.fixture
def agency_world(app_ctx, db_session, make_country, make_version, make_agency, make_contact):
    """An open campaign over KZ/MVD (two contacts) and KZ/AFM (one contact), with their links."""
    from app.campaigns import services as campaigns

    def build(version=None):
        make_country("KZ", en="Kazakhstan", ru="Казахстан")
        version = version or make_version()
        mvd = make_agency("KZ", "MVD", en="Ministry of Internal Affairs", ru="Министерство внутренних дел")
        afm = make_agency("KZ", "AFM", en="Financial Monitoring Agency", ru="Агентство финмониторинга")
        make_contact(mvd, email="first@mvd.example.org", name="Erlan First", locale="en")
        make_contact(mvd, email="second@mvd.example.org", name="Aigul Second", locale="ru")
        make_contact(afm, email="afm@example.org", name="Other Agency", locale="en")
        campaign = campaigns.create_campaign("Round 1", version, agencies=[mvd, afm])
        campaigns.set_status(campaign, "open")
        links = {i.contact.email: i.link for i in campaigns.invite(campaign, send_email=False)}
        db_session.commit()
        return campaign, links

    return build


@pytest.fixture
def world(agency_world):
    return agency_world()


def new_client(app_ctx, lang="en"):
    client = app_ctx.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    return client


@pytest.fixture
def first(app_ctx, world):
    return open_link(new_client(app_ctx), world[1]["first@mvd.example.org"])


@pytest.fixture
def second(app_ctx, world):
    return open_link(new_client(app_ctx, "ru"), world[1]["second@mvd.example.org"])


def stored(db_session) -> dict:
    from app.responses.models import Answer, Response

    db_session.rollback()
    response = db_session.scalar(select(Response).where(Response.agency.has(acronym="MVD")))
    values = {a.question_id: a.value for a in db_session.scalars(select(Answer).where(Answer.response_id ==
                                                                                       response.id))}
    db_session.rollback()
    return values


def versions_on(page: str) -> dict[str, str]:
    """The hidden fields a section page sends back: each answer's version (v__) and value fingerprint (o__)."""
    return {m.group(1): m.group(2) for m in re.finditer(r'name="([vo]__[a-z_]+)" value="([^"]*)"', page)}


def post_section(client, number: int, data: dict, page: str | None = None, action: str = "save"):
    page = page if page is not None else client.get(f"/respondent/sections/{number}").get_data(as_text=True)
    form = {"csrf_token": client.csrf, "action": action}
    form.update(versions_on(page))
    form.update(data)
    return client.post(f"/respondent/sections/{number}", data=form)


def test_home_lists_sections_with_states_and_progress(first):
    page = first.get("/respondent").get_data(as_text=True)
    assert "Agency profile" in page and "Counter-terrorism unit" in page
    assert page.count("Not started") == 2
    assert "0 / 2" in page  # required questions visible: agency_name, has_ct_unit


def test_saving_a_section_and_moving_on(first, db_session):
    response = post_section(first, 1, {"q__agency_name": "МВД РК", "q__staff_total": "1200",
                                       "q__answered_on": "2026-11-20"}, action="next")
    assert response.status_code == 302 and response.headers["Location"].endswith("/respondent/sections/2")
    assert stored(db_session) == {"agency_name": "МВД РК", "staff_total": 1200, "answered_on": "2026-11-20"}
    home = first.get("/respondent").get_data(as_text=True)
    assert "Complete" in home and "1 / 2" in home
    page = first.get("/respondent/sections/1").get_data(as_text=True)
    assert 'value="МВД РК"' in page and 'value="1200"' in page


def test_a_refused_value_is_shown_beside_the_field_with_the_text_kept(first, db_session):
    response = post_section(first, 1, {"q__agency_name": "MVD", "q__staff_total": "abc"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="error-staff_total"' in page and "Enter a number" in page
    assert 'value="abc"' in page
    assert 'href="#question-staff_total"' in page  # the error summary links to the field
    # The valid answer of the same page is saved; the refused one is not.
    assert stored(db_session) == {"agency_name": "MVD"}

    response = post_section(first, 1, {"q__agency_name": "MVD", "q__staff_total": "0"})
    assert response.status_code == 422 and "Between 1 and 100,000" in response.get_data(as_text=True)


def test_a_number_with_a_comma_before_three_digits_is_asked_about_not_guessed(first, second, db_session):
    """"1,200" is 1200 to an English reader and 1.2 to a Russian one: either guess would store a wrong figure
    for someone, so the answer is refused with both readings and the text stays on screen."""
    response = post_section(first, 1, {"q__agency_name": "MVD", "q__staff_total": "1,200"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="1,200"' in page
    # a whole number is asked for: 1.2 is no answer, so the one reading left is said
    assert "Write 1200 without the comma: the answer is a whole number." in page
    assert "staff_total" not in stored(db_session)
    response = post_section(second, 1, {"q__agency_name": "МВД", "q__staff_total": "2,000"})
    assert response.status_code == 422
    assert "Что означает 2,000: 2000 или 2? Напишите 2000 без запятой или 2." in response.get_data(as_text=True)
    response = post_section(second, 1, {"q__agency_name": "МВД", "q__staff_total": "1,200"})
    assert "Напишите 1200 без запятой: ответом должно быть целое число." in response.get_data(as_text=True)
    # written either way, the figure is taken
    assert post_section(first, 1, {"q__agency_name": "MVD", "q__staff_total": "1200"}).status_code == 302
    assert stored(db_session)["staff_total"] == 1200


def test_russian_decimal_comma_and_russian_messages(second, db_session):
    post_section(second, 1, {"q__agency_name": "МВД", "q__staff_total": "100"})
    page = second.get("/respondent/sections/2").get_data(as_text=True)
    assert "Имеется ли в ведомстве специализированное подразделение?" in page
    response = post_section(second, 2, {"q__has_ct_unit": "yes", "q__ct_unit_staff": "12,5"}, page=page)
    assert response.status_code == 302
    assert stored(db_session)["ct_unit_staff"] == 12.5
    response = post_section(second, 2, {"q__has_ct_unit": "yes", "q__ct_unit_staff": "500"})
    assert response.status_code == 422
    assert "Не менее 1 и не более общей численности" in response.get_data(as_text=True)
    # a date after its limit (today): the limit is written as a Russian reader writes dates (it was YYYY-MM-DD)
    from datetime import date, timedelta

    tomorrow = date.today() + timedelta(days=1)
    response = post_section(second, 1, {"q__agency_name": "МВД", "q__staff_total": "100",
                                        "q__answered_on": tomorrow.strftime("%d.%m.%Y")})
    assert response.status_code == 422
    assert f"Дата не может быть позднее {date.today():%d.%m.%Y}." in response.get_data(as_text=True)


def test_today_of_date_limits_is_the_projects_time_zone_not_the_servers(first, app_ctx, db_session, monkeypatch):
    """A server keeps UTC's date, which in Central Asia is yesterday until 05:00: an answer dated today there was
    refused as in the future. "today" is TIMEZONE's date. A zone whose date differs from the server's now is
    taken (UTC+14 or UTC-11: at any hour one of them does)."""
    from datetime import date, datetime, timedelta
    from zoneinfo import ZoneInfo

    zone = next(z for z in ("Pacific/Kiritimati", "Pacific/Pago_Pago")
                if datetime.now(ZoneInfo(z)).date() != date.today())
    monkeypatch.setitem(app_ctx.config, "BABEL_DEFAULT_TIMEZONE", zone)
    there = datetime.now(ZoneInfo(zone)).date()
    response = post_section(first, 1, {"q__agency_name": "MVD", "q__staff_total": "100",
                                       "q__answered_on": (there + timedelta(days=1)).isoformat()})
    assert response.status_code == 422 and f"not be after {there.isoformat()}" in response.get_data(as_text=True)
    response = post_section(first, 1, {"q__agency_name": "MVD", "q__staff_total": "100",
                                       "q__answered_on": there.isoformat()})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert stored(db_session)["answered_on"] == there.isoformat()


def test_hidden_questions_are_not_checked_and_their_answers_are_kept(first, db_session):
    post_section(first, 1, {"q__agency_name": "MVD", "q__staff_total": "100"})
    post_section(first, 2, {"q__has_ct_unit": "yes", "q__ct_unit_staff": "10",
                            "q__skills__interviewing": "2", "q__skills__forensics": "1"})
    # "no" hides the unit's staff and skills: a bad value there is ignored, the stored ones stay.
    response = post_section(first, 2, {"q__has_ct_unit": "no", "q__ct_unit_staff": "not a number"})
    assert response.status_code == 302
    values = stored(db_session)
    assert values["has_ct_unit"] == "no" and values["ct_unit_staff"] == 10
    assert values["skills"] == {"interviewing": 2, "forensics": 1}


def test_unusual_text_is_stored_and_shown_exactly(first, db_session):
    text = "Ünïcödé 😀 עברית مرحبا әғқңөұүһі o‘zbek\u0007 — " + "x" * 300
    response = post_section(first, 1, {"q__agency_name": text})
    assert response.status_code == 302
    assert stored(db_session)["agency_name"] == text
    page = first.get("/respondent/sections/1").get_data(as_text=True)
    assert text.replace("\u0007", "&#7;") in page or text in page
    long_answer = "Абзац. " * 2000
    response = post_section(first, 2, {"q__has_ct_unit": "no", "q__priorities": long_answer})
    assert response.status_code == 302 and stored(db_session)["priorities"] == long_answer


def test_too_long_text_is_refused_and_kept(first, db_session):
    response = post_section(first, 1, {"q__agency_name": "y" * 501})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The text is too long: 501 characters" in page and "y" * 501 in page
    assert "agency_name" not in stored(db_session)


def test_two_contacts_saving_the_same_question_get_a_conflict(first, second, db_session):
    first_page = first.get("/respondent/sections/1").get_data(as_text=True)
    second_page = second.get("/respondent/sections/1").get_data(as_text=True)
    assert post_section(second, 1, {"q__agency_name": "Name by the second"}, page=second_page).status_code == 302
    response = post_section(first, 1, {"q__agency_name": "Name by the first"}, page=first_page)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Name by the second" in page and "Name by the first" in page and "Aigul Second" in page
    assert stored(db_session)["agency_name"] == "Name by the second"
    # Without JavaScript, the saved value is one link away (reloading would post the form again).
    link = re.search(r'<a href="([^"]+)">Use the saved value instead', page)
    assert link and link.group(1) == "/respondent/sections/1#question-agency_name"
    assert 'value="Name by the second"' in first.get(link.group(1)).get_data(as_text=True)
    # Saving again from the conflict page keeps the first contact's value.
    assert post_section(first, 1, {"q__agency_name": "Name by the first"}, page=page).status_code == 302
    assert stored(db_session)["agency_name"] == "Name by the first"


def test_two_contacts_saving_different_questions_both_keep_their_answers(first, second, db_session):
    first_page = first.get("/respondent/sections/1").get_data(as_text=True)
    second_page = second.get("/respondent/sections/1").get_data(as_text=True)
    assert post_section(second, 1, {"q__staff_total": "300"}, page=second_page).status_code == 302
    assert post_section(first, 1, {"q__agency_name": "MVD"}, page=first_page).status_code == 302
    assert stored(db_session) == {"agency_name": "MVD", "staff_total": 300}


def test_saving_again_after_a_conflict_never_puts_a_stale_value_over_a_colleagues(first, second, db_session):
    """Both open section 1 with staff 100. The second contact changes the staff to 300 and the name; the first
    changes only the name and gets a conflict for it. The conflict page used to show the first contact's stale
    staff (100) with the stored version, so saving again as the page invited put 100 over 300 without a word.
    It now shows the stored 300 there, and saving again as a browser does keeps it."""
    assert post_section(first, 1, {"q__agency_name": "MVD", "q__staff_total": "100"}).status_code == 302
    first_page = first.get("/respondent/sections/1").get_data(as_text=True)
    second_page = second.get("/respondent/sections/1").get_data(as_text=True)
    assert post_section(second, 1, {"q__agency_name": "Name by the second", "q__staff_total": "300"},
                        page=second_page).status_code == 302
    fields = form_as_browser_sends(first_page)
    fields["q__agency_name"] = ["Name by the first"]
    conflict = first.post("/respondent/sections/1", data={**fields, "action": ["save"]})
    page = conflict.get_data(as_text=True)
    assert conflict.status_code == 409
    again = form_as_browser_sends(page)
    assert again["q__staff_total"] == ["300"] and again["q__agency_name"] == ["Name by the first"]
    assert first.post("/respondent/sections/1", data={**again, "action": ["save"]}).status_code == 302
    assert stored(db_session) == {"agency_name": "Name by the first", "staff_total": 300}


def test_line_breaks_compare_equal_from_the_form_and_the_autosave(first, db_session):
    """A textarea posts CR LF, the autosave LF: the same text saved both ways is one value (no conflict, no new
    version, no history entry), stored with LF."""
    from app.core.models import AuditEvent

    assert autosave(first, "priorities", {"q__priorities": ["Dept A\nDept B"]}).status_code == 200
    assert post_section(first, 2, {"q__priorities": "Dept A\r\nDept B"}).status_code == 302
    db_session.rollback()
    assert stored(db_session)["priorities"] == "Dept A\nDept B"
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "answer.changed")) == 1


def autosave(client, question: str, fields: dict, base: int = 0):
    return client.post("/respondent/autosave", json={"question": question, "fields": fields, "base_version": base},
                       headers={"X-CSRFToken": client.csrf})


def test_respondent_pages_are_not_kept_and_an_expired_form_says_which_refusal_it_is(first):
    """Shown again by Back from the browser's cache, a section carried the versions of before its own saves (a
    save from it was taken for someone else's change); the background save tells a refused form token by its
    code, so that the page says so in its own language."""
    for path in ("/respondent", "/respondent/sections/1", "/respondent/review"):
        assert first.get(path).headers["Cache-Control"] == "no-store", path
    refused = first.post("/respondent/autosave", json={"question": "agency_name", "fields": {}, "base_version": 0},
                         headers={"X-CSRFToken": "stale", "Accept": "application/json"})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "form_expired"


def test_autosave_saves_refuses_and_detects_conflicts(first, second, db_session):
    response = autosave(first, "agency_name", {"q__agency_name": ["MVD"]})
    assert response.status_code == 200 and response.json["version"] == 1 and response.json["saved_at"]
    assert stored(db_session)["agency_name"] == "MVD"
    response = autosave(first, "staff_total", {"q__staff_total": ["lots"]})
    assert response.status_code == 422 and "Enter a number" in response.json["error"]
    # The second contact still has version 0 of agency_name on screen.
    response = autosave(second, "agency_name", {"q__agency_name": ["МВД"]}, base=0)
    assert response.status_code == 409
    conflict = response.json["conflict"]
    assert conflict["yours_display"] == "МВД" and conflict["theirs_display"] == "MVD" and conflict["version"] == 1
    assert autosave(second, "agency_name", {"q__agency_name": ["МВД"]}, base=1).status_code == 200
    assert stored(db_session)["agency_name"] == "МВД"


def test_autosave_of_a_question_a_colleague_just_hid_says_it_was_not_saved(first, second, db_session):
    """The second contact's page still shows the unit's staff; the first answered that there is no unit. The
    value is not stored (the question no longer applies), and the answer says so instead of "Saved at ..."."""
    assert autosave(first, "has_ct_unit", {"q__has_ct_unit": ["no"]}).status_code == 200
    response = autosave(second, "ct_unit_staff", {"q__ct_unit_staff": ["5"]})
    assert response.status_code == 422 and "вопрос больше не задаётся" in response.json["error"]  # in Russian
    assert "saved_at" not in response.json and "ct_unit_staff" not in stored(db_session)


def test_autosave_answers_odd_json_without_an_error_page(first, db_session):
    """JSON no page sends: nested deeper than the parser goes is "not valid" (400); a base version past any
    integer (1e999) is taken as none, like any other unreadable one. Neither is a server error."""
    headers = {"X-CSRFToken": first.csrf, "Content-Type": "application/json"}
    nested = first.post("/respondent/autosave", data="[" * 100_000 + "]" * 100_000, headers=headers)
    assert nested.status_code == 400 and nested.json["error"]["message"] == "The request is not valid."
    huge = first.post("/respondent/autosave", headers=headers,
                      data='{"question": "agency_name", "fields": {"q__agency_name": ["MVD"]}, "base_version": 1e999}')
    assert huge.status_code == 200 and stored(db_session)["agency_name"] == "MVD"


def test_autosave_refuses_unknown_questions_and_needs_the_csrf_token(first, db_session):
    assert autosave(first, "no_such_question", {}).status_code == 404
    response = first.post("/respondent/autosave", json={"question": "agency_name", "fields": {}})
    assert response.status_code == 400
    assert stored(db_session) == {}


def test_autosave_after_signing_out_is_a_401_in_json_and_a_page_goes_to_sign_in(first, db_session):
    """The background save asks for JSON: once the session has ended it gets 401 with a message (before, the
    redirect to the sign-in page ended on a 200 that the page took for a save); a page still redirects."""
    assert autosave(first, "agency_name", {"q__agency_name": ["MVD"]}).status_code == 200
    first.post("/sign-out", data={"csrf_token": first.csrf})
    response = first.post("/respondent/autosave", json={"question": "agency_name",
                                                         "fields": {"q__agency_name": ["Changed"]}},
                          headers={"X-CSRFToken": first.csrf, "Accept": "application/json"})
    assert response.status_code == 401
    assert "session has ended" in response.json["error"]["message"]
    assert stored(db_session)["agency_name"] == "MVD"
    page = first.post("/respondent/sections/1", data={"csrf_token": first.csrf, "q__agency_name": "Changed"})
    assert page.status_code == 302 and "/sign-in" in page.headers["Location"]
    assert stored(db_session)["agency_name"] == "MVD"


def test_autosave_after_the_link_was_revoked_is_a_401_in_json(second, db_session):
    """Staff revoking the link signs the contact out on their next request: for the background save, a 401
    with the reason in JSON (before, a redirect to the sign-in page that the page took for a success)."""
    from app.campaigns import services as campaigns
    from app.campaigns.models import Invitation
    from app.directory.models import Contact

    contact = db_session.scalar(select(Contact).where(Contact.email == "second@mvd.example.org"))
    campaigns.revoke_contact_links(db_session.scalar(select(Invitation).where(Invitation.contact_id == contact.id)))
    db_session.commit()
    response = second.post("/respondent/autosave", json={"question": "agency_name",
                                                          "fields": {"q__agency_name": ["МВД"]}},
                           headers={"X-CSRFToken": second.csrf, "Accept": "application/json"})
    assert response.status_code == 401
    assert "персональная ссылка больше не действительна" in response.json["error"]["message"]
    assert "agency_name" not in stored(db_session)


def test_every_change_is_in_the_history_with_its_channel(first, db_session):
    from app.core.models import AuditEvent

    # Before any change the history says so, rather than that no answer was given (answers may have come in
    # without a recorded change, e.g. imported ones).
    empty = first.get("/respondent/history").get_data(as_text=True)
    assert "No change to the answers has been recorded yet." in empty and "No answer has been given" not in empty

    autosave(first, "agency_name", {"q__agency_name": ["MVD"]})
    post_section(first, 1, {"q__agency_name": "MVD of Kazakhstan", "q__staff_total": "100"})
    db_session.rollback()
    events = list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == "answer.changed")
                                     .order_by(AuditEvent.id)))
    assert [(e.channel, e.old_value, e.new_value) for e in events] == [
        ("autosave", {"agency_name": None}, {"agency_name": "MVD"}),
        ("web", {"agency_name": "MVD"}, {"agency_name": "MVD of Kazakhstan"}),
        ("web", {"staff_total": None}, {"staff_total": 100}),
    ]
    # The first answer also started the response, once, by that person and channel.
    from app.auth.models import User

    started = list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == "response.started")))
    assert [(e.channel, e.old_value, e.new_value, db_session.get(User, e.actor_id).email) for e in started] == [
        ("autosave", {"status": "not_started"}, {"status": "in_progress"}, "first@mvd.example.org")]
    db_session.rollback()
    page = first.get("/respondent/history").get_data(as_text=True)
    assert "MVD of Kazakhstan" in page and "web form (automatic save)" in page and "Erlan First" in page


def complete(client):
    post_section(client, 1, {"q__agency_name": "MVD", "q__staff_total": "100"})
    post_section(client, 2, {"q__has_ct_unit": "not_applicable"})


def test_review_lists_missing_questions_and_submission_is_refused_until_complete(first, db_session):
    post_section(first, 1, {"q__staff_total": "100"})
    page = first.get("/respondent/review").get_data(as_text=True)
    assert "Required questions without an answer" in page
    assert "Name of the agency" in page and "Does the agency have a dedicated CT unit?" in page
    assert 'href="/respondent/sections/1?check=1#question-agency_name"' in page
    response = first.post("/respondent/review", data={"csrf_token": first.csrf, "confirm": "1"})
    assert response.status_code == 422 and "cannot be submitted yet" in response.get_data(as_text=True)
    check = first.get("/respondent/sections/1?check=1").get_data(as_text=True)
    assert 'id="error-agency_name"' in check and "Answer this question before you submit." in check


def test_submission_confirms_records_sends_a_receipt_and_locks_the_answers(first, second, db_session):
    from app.core.models import AuditEvent
    from app.mail.models import OutboxMessage
    from app.responses.models import Response

    complete(first)
    response = first.post("/respondent/review", data={"csrf_token": first.csrf})
    assert response.status_code == 422 and "Tick the box" in response.get_data(as_text=True)
    response = first.post("/respondent/review", data={"csrf_token": first.csrf, "confirm": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/respondent/submitted")
    page = first.get("/respondent/submitted").get_data(as_text=True)
    assert "the answers are submitted" in page

    db_session.rollback()
    saved = db_session.scalar(select(Response).where(Response.agency.has(acronym="MVD")))
    assert saved.status == "submitted" and saved.submitted_at is not None
    receipt = db_session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "receipt"))
    assert receipt.recipient == "first@mvd.example.org" and "Ministry of Internal Affairs" in receipt.body_text
    assert "Required questions answered: 2 of 2" in receipt.body_text and "Small example" in receipt.subject
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "response.submitted")) is not None
    db_session.rollback()

    # Read-only for every contact of the agency, through every channel.
    before = stored(db_session)
    refused = post_section(second, 1, {"q__agency_name": "changed"})
    assert refused.status_code == 409 and "Ничего не сохранено" in refused.get_data(as_text=True)
    assert autosave(second, "agency_name", {"q__agency_name": ["changed"]}, base=1).status_code == 403
    assert stored(db_session) == before
    page = second.get("/respondent/sections/1").get_data(as_text=True)
    assert "больше нельзя изменить" in page and "readonly" in page and "data-autosave-url" not in page


def test_a_save_or_submission_overtaken_by_a_colleagues_submission_is_refused_not_an_error(first, second,
                                                                                          db_session, monkeypatch):
    """A save checks that the answers can still be changed, then waits for the response's lock; a colleague's
    submission (or the campaign's closing) that commits meanwhile made the check under the lock refuse it, and
    that refusal was a server error: autosave said "check your connection" and retried, Save showed the error
    page and lost the typed text, and the second tab's Submit said answers were missing. Here the check before
    the lock is made to pass, as it does in that moment, and the response is already submitted."""
    from app.responses import answering, respond

    complete(first)
    assert first.post("/respondent/review", data={"csrf_token": first.csrf, "confirm": "1"}).status_code == 302
    before = stored(db_session)
    db_session.rollback()
    real = answering.is_editable
    passes = {"left": 0}

    def looked_at_before_the_lock(response):
        if passes["left"]:
            passes["left"] -= 1
            return True
        return real(response)

    monkeypatch.setattr(respond.answering, "is_editable", looked_at_before_the_lock)
    passes["left"] = 1
    saved = autosave(second, "agency_name", {"q__agency_name": ["МВД Казахстана"]}, base=1)
    assert saved.status_code == 403 and saved.get_json()["error"]["message"] == "Ваши ответы больше нельзя изменить."
    passes["left"] = 1
    page = post_section(second, 1, {"q__agency_name": "МВД Казахстана"})
    html = page.get_data(as_text=True)
    assert page.status_code == 409 and "Ничего не сохранено" in html and "МВД Казахстана" in html
    passes["left"] = 1
    again = first.post("/respondent/review", data={"csrf_token": first.csrf, "confirm": "1"})
    assert again.status_code == 302 and again.headers["Location"].endswith("/respondent/submitted")
    assert stored(db_session) == before


def test_closing_the_campaign_makes_answers_read_only(first, world, db_session):
    from app.campaigns import services as campaigns

    campaign = world[0]
    db_session.rollback()
    campaigns.set_status(db_session.merge(campaign), "closed")
    db_session.commit()
    assert autosave(first, "agency_name", {"q__agency_name": ["MVD"]}).status_code == 403
    assert "campaign is closed" in first.get("/respondent").get_data(as_text=True)
    # Saving a page opened before the campaign closed: nothing is saved, the typed text comes back read-only.
    before = stored(db_session)
    page = post_section(first, 1, {"q__agency_name": "Typed while it closed"})
    html = page.get_data(as_text=True)
    assert page.status_code == 409 and "Nothing was saved: the answers can no longer be changed" in html
    assert re.search(r'name="q__agency_name" value="Typed while it closed"[^>]*readonly', html)
    assert 'value="save"' not in html and "data-autosave-url" not in html
    db_session.rollback()
    assert stored(db_session) == before
    # Moving between read-only sections takes plain links: a GET form put every answer and the form's token in
    # the address (a long answer made it too long for the server: "URI Too Long").
    page = first.get("/respondent/sections/1").get_data(as_text=True)
    assert "formmethod" not in page and 'name="action"' not in page
    assert re.search(r'<a class="button primary" href="/respondent/sections/2">Next →</a>', page)
    last = first.get("/respondent/sections/2").get_data(as_text=True)
    assert re.search(r'<a class="button" href="/respondent/sections/1">← Previous</a>', last)


def test_print_view_with_answers_and_blank(first, db_session):
    complete(first)
    page = first.get("/respondent/print").get_data(as_text=True)
    assert "Ministry of Internal Affairs" in page and "Small example" in page and "v1" in page
    assert "☒ Not applicable" in page and "MVD" in page
    # the icon is linked (no 404 in the console)
    assert "print.css" in page and re.search(r'rel="icon" href="/static/favicon.svg\?v=[0-9a-f]{12}"', page)
    assert re.search(r'<p class="screen-only"><a href="/respondent">', page)  # a way back, not printed
    blank = first.get("/respondent/print?blank=1").get_data(as_text=True)
    assert "☒" not in blank and "Blank copy" in blank
    # The language menu switches the interface and the questionnaire.
    first.post("/language", data={"csrf_token": first.csrf, "locale": "ru"})
    page = first.get("/respondent/print").get_data(as_text=True)
    assert "Небольшой пример" in page and "Министерство внутренних дел" in page


def test_a_respondent_reaches_only_their_own_agency(first, db_session):
    from app.responses.models import Response
    from app.responses.services import ensure_response

    complete(first)
    db_session.rollback()
    mvd = db_session.scalar(select(Response).where(Response.agency.has(acronym="MVD")))
    campaign = mvd.campaign
    afm = ensure_response(campaign, next(a for a in campaign.agencies if a.acronym == "AFM"))
    db_session.commit()
    ids = (mvd.id, afm.id)
    db_session.rollback()
    assert first.get(f"/responses/{ids[0]}").status_code == 200
    for url in (f"/responses/{ids[1]}", f"/responses/{ids[1]}/print", f"/responses/{ids[1]}/history",
                f"/responses/{ids[1]}/files/anything", "/responses/999999", "/respondent/sections/99",
                "/respondent/files/not-a-key"):
        assert first.get(url).status_code == 404, url


def test_evidence_files(agency_world, app_ctx, tmp_path, db_session, make_version):
    path = tmp_path / "evidence.yaml"
    path.write_text(FILE_QUESTIONNAIRE, encoding="utf-8")
    _campaign, links = agency_world(make_version(path))
    client = open_link(new_client(app_ctx), links["first@mvd.example.org"])

    def upload(name: str, data: bytes, comment: str = "kept"):
        page = client.get("/respondent/sections/1").get_data(as_text=True)
        form = {"csrf_token": client.csrf, "action": "save", "q__comment": comment, "q__plan": (data, name)}
        form.update(versions_on(page))
        return post_multipart(client, "/respondent/sections/1", form)

    response = upload("plan.exe", b"MZ...")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "are not accepted; allowed: PDF, DOCX" in page
    assert 'value="kept"' in page
    response = upload("big.pdf", b"%PDF" + b"0" * (1024 * 1024))
    assert response.status_code == 422 and "larger than 1 MB" in response.get_data(as_text=True)
    assert stored(db_session) == {"comment": "kept"}
    uploads = Path(app_ctx.instance_path) / "uploads"
    files_before = sorted(uploads.iterdir()) if uploads.exists() else []
    for name, data in (("plan.pdf", b"MZ\x90\x00 a program renamed"), ("plan.docx", b"%PDF-1.4 a PDF renamed")):
        response = upload(name, data)
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and f"“{name}” is not a {name[5:].upper()} file inside" in page
        assert 'value="kept"' in page
    # A zip archive renamed .docx (it starts with the same "PK" bytes as a Word file) is not a Word document.
    renamed_zip, word = io.BytesIO(), io.BytesIO()
    with zipfile.ZipFile(renamed_zip, "w") as archive:
        archive.writestr("setup.exe", b"MZ\x90\x00 a program")
    with zipfile.ZipFile(word, "w") as archive:  # the parts every .docx has
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    response = upload("plan.docx", renamed_zip.getvalue())
    assert response.status_code == 422 and "“plan.docx” is not a DOCX file inside" in response.get_data(as_text=True)
    assert stored(db_session) == {"comment": "kept"}
    assert (sorted(uploads.iterdir()) if uploads.exists() else []) == files_before  # nothing stored
    assert upload("plan.docx", word.getvalue()).status_code == 302
    assert stored(db_session)["plan"]["name"] == "plan.docx"

    # A real PDF whose name is longer than the 200 characters kept: shortened before ".pdf", not refused.
    long_name = "Постановление Правительства об утверждении Программы " * 5 + "(редакция 2026 года).pdf"
    assert upload(long_name, b"%PDF-1.4 the decree").status_code == 302
    kept = stored(db_session)["plan"]["name"]
    assert len(kept) == 200 and kept.endswith("….pdf") and kept.startswith("Постановление Правительства")
    assert upload("План действий.pdf", b"%PDF-1.4 the plan").status_code == 302
    value = stored(db_session)["plan"]
    assert value["name"] == "План действий.pdf" and value["size"] == len(b"%PDF-1.4 the plan")
    assert (uploads / value["key"]).read_bytes() == b"%PDF-1.4 the plan"
    page = client.get("/respondent/sections/1").get_data(as_text=True)
    assert "План действий.pdf" in page
    url = re.search(r'href="(/respondent/files/[^"]+)"', page).group(1)
    download = client.get(url)
    data = download.data
    download.close()
    assert data == b"%PDF-1.4 the plan"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment")
    # Another agency's contact cannot fetch it, even knowing the key.
    other = open_link(new_client(app_ctx), links["afm@example.org"])
    assert other.get(url).status_code == 404
    # An upload refused as a conflict (the page was out of date) leaves no file behind.
    kept_files = sorted(uploads.iterdir())
    stale = {"csrf_token": client.csrf, "action": "save", "q__comment": "kept", "q__plan": (b"%PDF-1.4 old", "x.pdf")}
    stale.update({k: ("0" if k.startswith("v__") else v) for k, v in versions_on(
        client.get("/respondent/sections/1").get_data(as_text=True)).items()})
    assert post_multipart(client, "/respondent/sections/1", stale).status_code == 409
    assert sorted(uploads.iterdir()) == kept_files
    # Saving the page again without a new file keeps the stored one.
    assert upload("", b"", comment="again").status_code == 302
    assert stored(db_session)["plan"]["name"] == "План действий.pdf"
    # A new file replaces it: the old one is deleted from the server.
    assert upload("plan-v2.pdf", b"%PDF-1.4 the second plan").status_code == 302
    second = stored(db_session)["plan"]
    assert second["name"] == "plan-v2.pdf" and not (uploads / value["key"]).exists()
    # "Remove this file" clears the answer and deletes the file (a document that may not be shared).
    page = client.get("/respondent/sections/1").get_data(as_text=True)
    assert 'name="q__plan__remove"' in page and "Remove this file" in page
    form = {"csrf_token": client.csrf, "action": "save", "q__comment": "again", "q__plan__remove": "y"}
    form.update(versions_on(page))
    assert post_multipart(client, "/respondent/sections/1", form).status_code == 302
    assert stored(db_session).get("plan") is None and not (uploads / second["key"]).exists()
    assert "Remove this file" not in client.get("/respondent/sections/1").get_data(as_text=True)
    # Ticking the box in a browser saves at once (autosave) and deletes the file as well.
    assert upload("plan-v3.pdf", b"%PDF-1.4 the third plan").status_code == 302
    third = stored(db_session)["plan"]
    version = int(re.search(r'name="v__plan" value="(\d+)"',
                            client.get("/respondent/sections/1").get_data(as_text=True)).group(1))
    saved = client.post("/respondent/autosave", json={"question": "plan", "fields": {"q__plan__remove": ["y"]},
                                                      "base_version": version}, headers={"X-CSRFToken": client.csrf})
    assert saved.status_code == 200
    assert stored(db_session).get("plan") is None and not (uploads / third["key"]).exists()


def test_workbook_through_the_pages_stores_what_the_web_form_stores(app_ctx, world, db_session):
    """One agency answers in the web form, another fills the downloaded workbook with the same values and
    uploads it: after the preview and the confirmation both responses hold the same answers."""
    import io

    import openpyxl

    from app.responses.models import Answer, Response
    from tests.responses.test_workbook import fill

    _campaign, links = world
    web = open_link(new_client(app_ctx), links["first@mvd.example.org"])
    post_section(web, 1, {"q__agency_name": "Агентство 😀", "q__staff_total": "120", "q__answered_on": "2026-11-01"})
    saved = post_section(web, 2, {"q__has_ct_unit": "partly", "q__ct_unit_staff": "12,5",
                                  "q__training_topics": ["financing", "digital"], "q__skills__interviewing": "2",
                                  "q__skills__forensics": "3", "q__priorities": "Training\nEquipment"})
    assert saved.status_code == 302

    offline = open_link(new_client(app_ctx, "ru"), links["afm@example.org"])
    download = offline.get("/respondent/workbook.xlsx")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    book = openpyxl.load_workbook(io.BytesIO(download.data))
    # First with "no" unit but a number of its staff: the page says that answer is not read.
    fill(book, has_ct_unit="Нет", ct_unit_staff="12,5", staff_total=120)
    buffer = io.BytesIO()
    book.save(buffer)
    page = post_multipart(offline, "/respondent/workbook", {"csrf_token": offline.csrf,
                                                            "file": (buffer.getvalue(), "filled.xlsx")})
    not_read = re.search(r'<div class="flash flash-warning" id="not-read">.*?</div>', page.get_data(as_text=True),
                         re.S)
    assert not_read and "Staff of the unit" in not_read.group(0)  # labels as in the other rows of the preview
    fill(book, agency_name="Агентство 😀", staff_total=120, answered_on="01.11.2026", has_ct_unit="Частично",
         ct_unit_staff="12,5", training_topics="Financing of terrorism; Цифровые доказательства",
         skills__interviewing="2 — Partial", skills__forensics="3", priorities="Training\nEquipment")
    buffer = io.BytesIO()
    book.save(buffer)

    preview = post_multipart(offline, "/respondent/workbook", {"csrf_token": offline.csrf,
                                                               "file": (buffer.getvalue(), "filled.xlsx")})
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    assert "Name of the agency" in page and "Агентство 😀" in page and 'id="not-read"' not in page
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    db_session.rollback()
    assert db_session.scalar(select(Answer).join(Response).where(Response.agency.has(acronym="AFM"))) is None
    confirm = offline.post("/respondent/workbook", data={"csrf_token": offline.csrf, "token": token})
    assert confirm.status_code == 302

    db_session.rollback()
    by_agency = {}
    for response in db_session.scalars(select(Response)):
        by_agency[response.agency.acronym] = {a.question_id: a.value for a in response.answers}
    assert by_agency["AFM"] == by_agency["MVD"]
    assert by_agency["MVD"]["ct_unit_staff"] == 12.5 and by_agency["MVD"]["skills"] == {"interviewing": 2,
                                                                                          "forensics": 3}
    # The confirmation token is used up: sent again (the button pressed twice), nothing is imported again and
    # the person is told the answers are saved, not that the upload expired.
    again = offline.post("/respondent/workbook", data={"csrf_token": offline.csrf, "token": token})
    assert again.status_code == 302 and again.headers["Location"].endswith("/respondent")


def test_uploading_a_workbook_of_another_agency_or_garbage_is_refused(app_ctx, world, db_session):
    _campaign, links = world
    mvd = open_link(new_client(app_ctx), links["first@mvd.example.org"])
    afm = open_link(new_client(app_ctx), links["afm@example.org"])
    data = mvd.get("/respondent/workbook.xlsx").data
    response = post_multipart(afm, "/respondent/workbook", {"csrf_token": afm.csrf, "file": (data, "mvd.xlsx")})
    assert response.status_code == 422 and "Ministry of Internal Affairs" in response.get_data(as_text=True)
    response = post_multipart(afm, "/respondent/workbook", {"csrf_token": afm.csrf, "file": (b"garbage", "x.xlsx")})
    assert response.status_code == 422 and "Nothing was saved" in response.get_data(as_text=True)
    response = post_multipart(afm, "/respondent/workbook", {"csrf_token": afm.csrf,
                                                            "file": (b"\xd0\xcf\x11\xe0" + b"\0" * 600, "p.xlsx")})
    assert response.status_code == 422 and "password" in response.get_data(as_text=True)


FLAGS_QUESTIONNAIRE = """
schema_version: 1
id: flags-example
title: {en: Staff, ru: Штат}
languages: [en, ru]
scale:
  - {level: 0, label: {en: None, ru: Нет}}
  - {level: 1, label: {en: Some, ru: Есть}}
sections:
  - id: staff
    title: {en: Staff, ru: Штат}
    questions:
      - id: total
        type: number
        label: {en: Total staff, ru: Всего сотрудников}
      - id: analysts
        type: number
        label: {en: Analysts, ru: Аналитики}
        constraint: ". <= ${total}"
        constraint_message: {en: Not more than the total staff, ru: Не больше общей численности}
"""


def test_an_answer_that_breaks_its_constraint_after_another_changed_is_flagged_beside_it(
        app_ctx, tmp_path, make_version, agency_world):
    """Analysts <= total staff, and the total lowered afterwards: the analysts' answer, untouched, is flagged beside
    its field at once (the autosave's reply) and on the section page, until one of the two is corrected."""
    path = tmp_path / "flags.yaml"
    path.write_text(FLAGS_QUESTIONNAIRE, encoding="utf-8")
    _campaign, links = agency_world(make_version(path))
    client = open_link(new_client(app_ctx), links["first@mvd.example.org"])
    assert autosave(client, "total", {"q__total": ["100"]}).json["flags"] == {"analysts": ""}
    saved = autosave(client, "analysts", {"q__analysts": ["40"]})
    assert saved.status_code == 200 and saved.json["flags"] == {}
    page = client.get("/respondent/sections/1").get_data(as_text=True)
    assert "error-summary" not in page and 'id="error-analysts"' not in page

    lowered = autosave(client, "total", {"q__total": ["30"]}, base=1)
    assert lowered.status_code == 200 and lowered.json["flags"] == {"analysts": "Not more than the total staff"}
    page = client.get("/respondent/sections/1").get_data(as_text=True)
    assert re.search(r'<h2>Answers to correct</h2>\s*<ul>\s*<li><a href="#question-analysts">Analysts</a>: '
                     r'Not more than the total staff</li>', page)
    assert '<p class="error" id="error-analysts" data-flag="1">Not more than the total staff</p>' in page
    assert re.search(r'id="q__analysts"[^>]*aria-invalid="true"', page) and 'id="error-total"' not in page
    review = client.get("/respondent/review").get_data(as_text=True)
    assert "Answers to correct" in review and "You can submit once" in review

    raised = autosave(client, "total", {"q__total": ["50"]}, base=2)
    assert raised.json["flags"] == {"analysts": ""}
    page = client.get("/respondent/sections/1").get_data(as_text=True)
    assert "error-summary" not in page and 'id="error-analysts"' not in page
