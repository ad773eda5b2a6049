"""Expert review: scope, comments, the clarification round trip, validation and unlocking, expert ratings, and
materialized scores that equal a rebuild."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.conftest import extract_csrf
from tests.review.conftest import client_for, respondent


def snapshot(db_session) -> dict:
    from app.scoring.models import CountryAreaScore, CountryScore, ResponseAreaScore, ResponseScore

    db_session.rollback()
    out = {
        "response": sorted((r.response_id, r.indicator_id, r.level, r.coverage, r.answered_weight, r.total_weight)
                           for r in db_session.scalars(select(ResponseScore))),
        "country": sorted((r.campaign_id, r.country_id, r.indicator_id, r.self_assessed, r.expert, r.assessed,
                           r.target, r.gap, r.priority, r.coverage, r.agencies, r.agencies_with_level, r.ratings,
                           r.disagreement) for r in db_session.scalars(select(CountryScore))),
        "response_area": sorted((r.response_id, r.area_id, r.level, r.coverage)
                                for r in db_session.scalars(select(ResponseAreaScore))),
        "area": sorted((r.campaign_id, r.country_id, r.area_id, r.self_assessed, r.expert, r.assessed, r.target,
                        r.gap, r.coverage) for r in db_session.scalars(select(CountryAreaScore))),
    }
    db_session.rollback()
    return out


def test_expert_sees_assigned_countries_only(app_ctx, review_world):
    expert = client_for(app_ctx, "kz.expert@example.org")
    campaign, responses = review_world["campaign"], review_world["responses"]
    index = expert.get("/review/").get_data(as_text=True)
    assert "Kazakhstan" in index and "Tajikistan" not in index
    country = expert.get(f"/review/campaigns/{campaign}/KZ").get_data(as_text=True)
    assert "MVD" in country and "AFM" in country and "Dedicated CT unit" in country
    assert expert.get(f"/review/responses/{responses['MVD']}").status_code == 200
    for url in (f"/review/campaigns/{campaign}/TJ", f"/review/responses/{responses['TJ']}",
                f"/review/campaigns/{campaign}/TJ/compare", f"/review/campaigns/{campaign}/TJ/ratings/inv_unit",
                f"/responses/{responses['TJ']}", f"/responses/{responses['TJ']}/print",
                f"/responses/{responses['TJ']}/history", f"/review/campaigns/{campaign}/XX"):
        response = expert.get(url)
        assert response.status_code == 404, url
        assert "Секретный ответ" not in response.get_data(as_text=True)
    for url, data in ((f"/review/responses/{responses['TJ']}/comments", {"question": "agency_name", "body": "x"}),
                      (f"/review/responses/{responses['TJ']}/clarify", {"clarify": "agency_name"}),
                      (f"/review/responses/{responses['TJ']}/validate", {}),
                      (f"/review/campaigns/{campaign}/TJ/ratings/inv_unit", {"level": "1", "rationale": "x"})):
        assert expert.post(url, data={"csrf_token": expert.csrf, **data}).status_code == 404, url
    staff = client_for(app_ctx, "staff@example.org")
    assert "Секретный ответ" in staff.get(f"/review/responses/{responses['TJ']}").get_data(as_text=True)


def test_compare_agencies_side_by_side(app_ctx, review_world):
    expert = client_for(app_ctx, "kz.expert@example.org")
    page = expert.get(f"/review/campaigns/{review_world['campaign']}/KZ/compare?question=has_ct_unit")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    rows = re.findall(r'<tr><th scope="row">.*?</tr>', text, re.S)
    assert len(rows) == 2 and "Yes" in rows[1] and "Partly" in rows[0]  # AFM then MVD
    assert expert.get(f"/review/campaigns/{review_world['campaign']}/KZ/compare?question=nope").status_code == 404


def test_compare_marks_a_question_skip_logic_hides(app_ctx, review_world, db_session):
    """AFM's answer to "has a CT unit" becomes "no": the unit's staff, asked only of agencies with a unit, does not
    apply to AFM any more, and its stale stored answer is not shown; MVD's stays."""
    from sqlalchemy import update

    from app.responses.models import Answer

    db_session.execute(update(Answer).where(Answer.response_id == review_world["responses"]["AFM"],
                                            Answer.question_id == "has_ct_unit").values(value="no"))
    db_session.commit()
    expert = client_for(app_ctx, "kz.expert@example.org")
    text = expert.get(f"/review/campaigns/{review_world['campaign']}/KZ/compare?question=ct_unit_staff",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    afm, mvd = re.findall(r'<tr><th scope="row">.*?</tr>', text, re.S)
    assert "Does not apply to this agency" in afm and ">5<" not in afm
    assert "Does not apply" not in mvd and "20" in mvd


def test_compare_follows_a_chain_of_skip_rules_as_the_response_page_does(app_ctx, db_session, make_country,
                                                                          make_version, make_agency, make_user):
    """unit_size is asked when has_unit is yes, itself asked when ct_mandate is yes: the compare view reads the
    whole chain (it read only has_unit, hidden for want of ct_mandate, and said "does not apply" to everyone)."""
    from app.campaigns import services as campaigns
    from app.responses import answering
    from app.responses.services import ensure_response
    from tests.conftest import ROOT

    make_country("KZ", en="Kazakhstan")
    version = make_version(ROOT / "tests" / "data" / "chained_questionnaire.yaml")
    agency = make_agency("KZ", "MVD")
    campaign = campaigns.create_campaign("Chained", version, agencies=[agency])
    campaigns.set_status(campaign, "open")
    response = ensure_response(campaign, agency)
    saved = answering.save_answers(response, {"ct_mandate": "yes", "has_unit": "yes", "unit_size": "large",
                                              "unit_trained": ["other"], "trained_other": "Bomb disposal"},
                                   actor=None, channel="cli", lang="en")
    assert saved.ok, saved.errors
    answering.submit(response, actor=None, lang="en")
    db_session.commit()
    make_user("staff", email="staff@example.org")
    staff = client_for(app_ctx, "staff@example.org")
    for question, shown in (("unit_size", "Large"), ("trained_other", "Bomb disposal")):
        text = staff.get(f"/review/campaigns/{campaign.id}/KZ/compare?question={question}",
                         headers={"Accept-Language": "en"}).get_data(as_text=True)
        (row,) = re.findall(r'<tr><th scope="row">.*?</tr>', text, re.S)
        assert shown in row and "Does not apply" not in row, row


def test_comments_are_threaded_and_internal(app_ctx, review_world, db_session):
    expert = client_for(app_ctx, "kz.expert@example.org")
    url = f"/review/responses/{review_world['responses']['MVD']}"
    response = expert.post(url + "/comments", data={"csrf_token": expert.csrf, "question": "staff_total",
                                                    "body": "Includes civilian staff?"})
    assert response.status_code == 302
    parent = re.search(r'name="parent" value="(\d+)"', expert.get(url).get_data(as_text=True)).group(1)
    other = client_for(app_ctx, "second.expert@example.org")
    other.post(url + "/comments", data={"csrf_token": other.csrf, "question": "staff_total", "parent": parent,
                                        "body": "Yes, per the 2025 report."})
    page = expert.get(url).get_data(as_text=True)
    assert page.index("Includes civilian staff?") < page.index("Yes, per the 2025 report.")
    assert "Second Expert" in page and "margin-left: 1.5rem" in page
    # A reply to a comment that cannot exist (an id past the database's integers, or not a number) is a 404,
    # not a server error nor a new comment at the top.
    for bad in ("99999999999999999999", "12abc", "²"):
        assert other.post(url + "/comments", data={"csrf_token": other.csrf, "question": "staff_total",
                                                   "parent": bad, "body": "Lost reply"}).status_code == 404
    assert "Lost reply" not in expert.get(url).get_data(as_text=True)
    refused = expert.post(url + "/comments", data={"csrf_token": expert.csrf, "question": "staff_total",
                                                   "body": "  "})
    assert refused.status_code == 422 and "Write a comment first." in refused.get_data(as_text=True)
    assert re.search(r'<textarea id="comment-staff_total" name="body" rows="2" data-limit="10000" aria-invalid="true"',
                     refused.get_data(as_text=True))
    # A refused reply comes back in its own reply box, under the comment it answers (so that sending it again
    # is still a reply), not in the box for a new comment.
    long_reply = "Civilian staff are counted. " * 400
    refused = other.post(url + "/comments", data={"csrf_token": other.csrf, "question": "staff_total",
                                                  "parent": parent, "body": long_reply})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "The comment is too long" in html
    assert f'aria-describedby="reply-error-{parent}">{long_reply}</textarea>' in html
    assert re.search(r'<textarea id="comment-staff_total" name="body" rows="2" data-limit="10000"></textarea>', html)
    # The agency never sees internal comments.
    agency = respondent(app_ctx, review_world["links"]["contact@mvd.kz.example.org"])
    for path in ("/respondent", "/respondent/sections/1", "/respondent/print", "/respondent/history",
                 f"/responses/{review_world['responses']['MVD']}"):
        assert "Includes civilian staff?" not in agency.get(path).get_data(as_text=True), path


def test_clarification_round_trip(app_ctx, review_world, db_session):
    from app.core.models import AuditEvent
    from app.mail.models import OutboxMessage
    from app.responses.models import Response

    expert = client_for(app_ctx, "kz.expert@example.org")
    response_id = review_world["responses"]["MVD"]
    url = f"/review/responses/{response_id}"
    # The request form carries its own CSRF token (its fields sit beside each question, tied to it by form=).
    page = expert.get(url).get_data(as_text=True)
    form = re.search(r'<form [^>]*id="clarify-form"[^>]*>(.*?)</form>', page, re.S)
    assert form and 'name="csrf_token"' in form.group(1)
    # A request without a message is refused, keeps what was ticked and says which question lacks one.
    refused = expert.post(url + "/clarify", data={"csrf_token": extract_csrf(form.group(1)),
                                                  "clarify": ["staff_total", "ct_unit_staff"],
                                                  "message-ct_unit_staff": "Full-time posts?"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Write a message for each question" in html
    assert re.search(r'<li><a href="#message-staff_total"', html) and 'href="#message-ct_unit_staff"' not in html
    assert 'aria-describedby="message-error-staff_total"' in html and "Full-time posts?" in html
    assert re.search(r'value="staff_total" form="clarify-form"[^>]*checked', html)
    # A message written beside a question left unticked is not dropped in silence: nothing is sent, the page
    # says which message would be lost, and every typed message and tick stays.
    unticked = expert.post(url + "/clarify", data={
        "csrf_token": expert.csrf, "clarify": ["staff_total"], "message-staff_total": "Regional offices too?",
        "message-ct_unit_staff": "Full-time posts?", "message-priorities": "  "})
    html = unticked.get_data(as_text=True)
    assert unticked.status_code == 422 and "Nothing was sent." in html
    assert re.search(r'<li><a href="#message-ct_unit_staff"', html) and 'href="#message-staff_total"' not in html
    assert 'aria-describedby="message-error-ct_unit_staff"' in html and "message-error-priorities" not in html
    assert "Full-time posts?" in html and "Regional offices too?" in html
    assert re.search(r'value="staff_total" form="clarify-form"[^>]*checked', html)
    db_session.rollback()
    assert db_session.get(Response, response_id).status == "submitted"
    response = expert.post(url + "/clarify", data={
        "csrf_token": expert.csrf, "clarify": ["staff_total", "ct_unit_staff"],
        "message-staff_total": "Is 500 the total including regional offices?",
        "message-ct_unit_staff": "Please give the staff of the unit in full-time posts."})
    assert response.status_code == 302
    db_session.rollback()
    assert db_session.get(Response, response_id).status == "returned"
    mails = list(db_session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "clarification")))
    assert sorted(m.recipient for m in mails) == ["contact@mvd.kz.example.org", "deputy@mvd.kz.example.org"]
    english = next(m for m in mails if m.locale == "en")
    assert "Is 500 the total including regional offices?" in english.body_text
    assert re.search(r"/i/[A-Za-z0-9_-]{40,}", english.body_text)
    db_session.rollback()

    # The respondent sees exactly those questions highlighted with the message, and answers.
    agency = respondent(app_ctx, review_world["links"]["contact@mvd.kz.example.org"])
    home = agency.get("/respondent").get_data(as_text=True)
    assert "Questions from the project" in home and "Please give the staff of the unit" in home
    section1 = agency.get("/respondent/sections/1").get_data(as_text=True)
    assert section1.count("highlighted") == 1 and "Is 500 the total including regional offices?" in section1
    assert re.search(r'question-number highlighted"\s+id="question-staff_total"', section1)
    clarification_id = re.search(r'/respondent/clarifications/(\d+)', home).group(1)
    assert f'id="reply-{clarification_id}" name="reply" rows="2" data-limit="10000"' in home
    # A reply over the limit is refused beside its box, and the typed text stays in the box.
    too_long = "Regional offices: " + "x" * 10_000
    refused = agency.post(f"/respondent/clarifications/{clarification_id}", data={
        "csrf_token": agency.csrf, "reply": too_long})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "The reply is too long" in html
    assert re.search(rf'aria-describedby="reply-error-{clarification_id}">{too_long}</textarea>', html)
    agency.post(f"/respondent/clarifications/{clarification_id}", data={
        "csrf_token": agency.csrf, "reply": "500 includes regional offices; 350 at headquarters."})
    assert agency.post("/respondent/autosave", json={"question": "staff_total", "fields": {"q__staff_total": ["350"]},
                                                     "base_version": 1},
                       headers={"X-CSRFToken": agency.csrf}).status_code == 200
    # The page before submission lists the open requests: answer changed or not, reply written or not.
    before = agency.get("/respondent/review", headers={"Accept-Language": "en"}).get_data(as_text=True)
    items = {re.search(r'#question-(\w+)"', item).group(1): item for item in re.findall(
        r"<li>(.*?)</li>", before.split('<ul class="requests">')[1].split("</ul>")[0], re.S)}
    shown = {key: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)) for key, item in items.items()}
    assert set(shown) == {"staff_total", "ct_unit_staff"}
    assert "answer changed; reply written" in shown["staff_total"]
    assert "Is 500 the total including regional offices?" in shown["staff_total"]
    assert "answer not changed; no reply (write one)" in shown["ct_unit_staff"]
    reply_box = re.search(r'href="/respondent#(reply-\d+)"', items["ct_unit_staff"]).group(1)
    assert reply_box != f"reply-{clarification_id}" and f'id="{reply_box}" name="reply"' in home
    assert agency.post("/respondent/review", data={"csrf_token": agency.csrf, "confirm": "1"}).status_code == 302
    assert '<ul class="requests">' not in agency.get("/respondent/review").get_data(as_text=True)
    # A reply sent from a page opened before the submission is not saved, and is shown back to be copied.
    late = agency.post(f"/respondent/clarifications/{clarification_id}", data={
        "csrf_token": agency.csrf, "reply": "One more detail: 12 regional offices."})
    html = late.get_data(as_text=True)
    assert late.status_code == 409 and "Your reply was not saved" in html
    assert re.search(r'<textarea id="refused-reply" rows="4" readonly>One more detail: 12 regional offices.</textarea>',
                     html)

    # The expert sees what changed since the request: old -> new, with the reply.
    page = expert.get(url).get_data(as_text=True)
    rows = re.findall(r'<tr class="clarification-row">.*?</tr>', page, re.S)
    staff_row = next(r for r in rows if "Is 500 the total" in r)
    unit_row = next(r for r in rows if "full-time posts" in r)
    assert "500" in staff_row and "350" in staff_row and "changed" in staff_row and "headquarters" in staff_row
    assert "unchanged" in unit_row
    db_session.rollback()
    actions = [e.action for e in db_session.scalars(select(AuditEvent).where(AuditEvent.object_type == "response",
                                                                             AuditEvent.object_id == str(response_id))
                                                    .order_by(AuditEvent.id))]
    assert actions[-4:] == ["response.returned", "clarification.replied", "answer.changed", "response.submitted"]


def test_a_refused_clarification_request_names_every_problem_at_once(app_ctx, review_world, db_session):
    """A ticked question without a message and a message beside an unticked question: both are listed, in the
    questionnaire's order, each with its own message beside the field, and the typed text stays."""
    expert = client_for(app_ctx, "kz.expert@example.org")
    url = f"/review/responses/{review_world['responses']['MVD']}"
    refused = expert.post(url + "/clarify", data={"csrf_token": expert.csrf, "clarify": ["ct_unit_staff"],
                                                  "message-staff_total": "Regional offices too?"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Nothing was sent." in html and "Write a message for each" in html
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    assert re.findall(r'href="#message-(\w+)"', summary) == ["staff_total", "ct_unit_staff"]
    beside = dict(re.findall(r'<p class="error" id="message-error-(\w+)">([^<]*)</p>', html))
    assert beside == {"staff_total": "This message would not be sent: tick “Ask to clarify”, or clear the message.",
                      "ct_unit_staff": "Write your message to the agency about this question."}
    # The summary says which problem each listed question has, as the message beside it does.
    listed = dict(re.findall(r'<li><a href="#message-(\w+)"[^>]*>[^<]*</a>: ([^<]*)</li>', summary))
    assert listed == beside
    assert "Regional offices too?" in html


def test_a_long_clarification_message_is_refused_not_cut(app_ctx, review_world, db_session):
    """A message over 5,000 characters used to be cut without a word before it reached the agency: it is refused,
    named beside its box with its length, and kept; a message of exactly 5,000 characters (its line breaks typed
    as CR LF counted once, as the box's length note counts them) is sent whole."""
    from app.mail.models import OutboxMessage
    from app.responses.models import Response
    from app.review import services
    from app.review.models import Clarification

    expert = client_for(app_ctx, "kz.expert@example.org")
    response_id = review_world["responses"]["MVD"]
    url = f"/review/responses/{response_id}"
    page = expert.get(url).get_data(as_text=True)
    assert re.search(r'<textarea id="message-staff_total" name="message-staff_total"[^>]*data-limit="5000"', page)
    long_message = "Please list the regional offices. " * 150  # 5,100 characters
    refused = expert.post(url + "/clarify", data={
        "csrf_token": expert.csrf, "clarify": ["staff_total", "ct_unit_staff"], "message-staff_total": long_message,
        "message-ct_unit_staff": "Full-time posts?"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Some messages are longer than 5,000 characters" in html
    assert "Nothing was sent." in html
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    assert re.findall(r'href="#message-(\w+)"', summary) == ["staff_total"]
    beside = dict(re.findall(r'<p class="error" id="message-error-(\w+)">([^<]*)</p>', html))
    assert beside == {"staff_total": "This message has 5,099 characters; at most 5,000 are sent. Shorten it."}
    assert f'aria-describedby="message-error-staff_total">{long_message}</textarea>' in html
    assert "Full-time posts?" in html
    db_session.rollback()
    assert db_session.get(Response, response_id).status == "submitted"
    assert db_session.scalar(select(func.count()).select_from(Clarification)) == 0
    # The service refuses it too (another caller than this page).
    try:
        services.request_clarification(db_session.get(Response, response_id), [("staff_total", long_message)],
                                       actor=None)
    except services.ReviewError as exc:
        assert "too long (at most 5,000 characters)" in str(exc)
    else:
        raise AssertionError("a message over the limit was accepted")
    db_session.rollback()
    over = "Line one.\r\n" + "y" * 4991  # 5,001 characters with the line break counted once: refused
    refused = expert.post(url + "/clarify", data={"csrf_token": expert.csrf, "clarify": ["staff_total"],
                                                  "message-staff_total": over})
    assert refused.status_code == 422 and "This message has 5,001 characters" in refused.get_data(as_text=True)
    exact = "Line one.\r\n" + "y" * 4990  # 5,000 characters with the line break counted once: sent whole
    sent = expert.post(url + "/clarify", data={"csrf_token": expert.csrf, "clarify": ["staff_total"],
                                               "message-staff_total": exact})
    assert sent.status_code == 302
    db_session.rollback()
    [stored] = db_session.scalars(select(Clarification))
    assert stored.message == "Line one.\n" + "y" * 4990 and len(stored.message) == 5000
    mail = db_session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "clarification")).first()
    assert "y" * 4990 in mail.body_text


def test_a_response_is_not_returned_while_its_campaign_is_closed(app_ctx, review_world, db_session):
    """The agency could not answer a closed campaign: the request is refused with the typed messages kept, no
    e-mail goes out, the response and its scores stay; the page offers no "Return" until the campaign reopens."""
    from app.campaigns import services as campaigns
    from app.campaigns.models import Campaign
    from app.mail.models import OutboxMessage
    from app.responses.models import Response
    from app.scoring.models import ResponseScore

    response_id = review_world["responses"]["MVD"]
    url = f"/review/responses/{response_id}"
    expert = client_for(app_ctx, "kz.expert@example.org")
    page = expert.get(url).get_data(as_text=True)  # opened while the campaign is open
    assert "Return to the agency" in page
    campaigns.set_status(db_session.get(Campaign, review_world["campaign"]), "closed")
    db_session.commit()
    mails = db_session.scalar(select(func.count()).select_from(OutboxMessage))
    refused = expert.post(url + "/clarify", data={"csrf_token": expert.csrf, "clarify": ["staff_total"],
                                                  "message-staff_total": "Is 500 the total?"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "The campaign is closed" in html and "Is 500 the total?" in html
    db_session.rollback()
    assert db_session.get(Response, response_id).status == "submitted"
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == mails
    assert db_session.scalar(select(func.count()).select_from(ResponseScore).where(
        ResponseScore.response_id == response_id)) > 0
    page = expert.get(url).get_data(as_text=True)
    assert "Return to the agency" not in page and 'id="clarify-form"' not in page
    assert "open it again to return the response" in page
    # Said first, before any other problem of the request (a message beside an unticked question here).
    stray = expert.post(url + "/clarify", data={"csrf_token": expert.csrf, "message-staff_total": "Kept?"})
    html = stray.get_data(as_text=True)
    assert stray.status_code == 422 and "The campaign is closed" in html and "not ticked" not in html
    assert "Kept?" in html


def test_a_response_of_a_deactivated_agency_is_not_returned(app_ctx, review_world, db_session):
    """An agency deactivated in the directory gets no e-mail and its links open nothing: returned, its response
    stayed "returned" for good, out of the scores, and the page said "no active contact". The request is refused
    with the typed message kept and the agency named; the page offers no "Return"; reactivated, it is returned."""
    from app.directory.models import Agency
    from app.mail.models import OutboxMessage
    from app.responses.models import Response
    from app.review import services
    from app.review.services import ReviewError

    response_id = review_world["responses"]["MVD"]
    url = f"/review/responses/{response_id}"
    expert = client_for(app_ctx, "kz.expert@example.org")
    assert "Return to the agency" in expert.get(url).get_data(as_text=True)
    agency = db_session.get(Response, response_id).agency
    agency.is_active = False
    db_session.commit()
    mails = db_session.scalar(select(func.count()).select_from(OutboxMessage))
    refused = expert.post(url + "/clarify", data={"csrf_token": expert.csrf, "clarify": ["staff_total"],
                                                  "message-staff_total": "Is 500 the total?"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "MVD is deactivated in the directory" in html
    assert "Is 500 the total?" in html
    db_session.rollback()
    assert db_session.get(Response, response_id).status == "submitted"
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == mails
    page = expert.get(url).get_data(as_text=True)
    assert "Return to the agency" not in page and "reactivate it to return the response" in page
    with pytest.raises(ReviewError, match="deactivated"):  # the service refuses too (a page opened before)
        services.request_clarification(db_session.get(Response, response_id), [("staff_total", "Total?")],
                                       actor=None)
    db_session.rollback()
    db_session.get(Agency, agency.id).is_active = True
    db_session.commit()
    sent = expert.post(url + "/clarify", data={"csrf_token": expert.csrf, "clarify": ["staff_total"],
                                               "message-staff_total": "Is 500 the total?"})
    assert sent.status_code == 302
    db_session.rollback()
    assert db_session.get(Response, response_id).status == "returned"


def test_validation_locks_and_staff_unlock_with_a_reason(app_ctx, review_world, db_session, make_user):
    from app.core.models import AuditEvent
    from app.responses.models import Response

    response_id = review_world["responses"]["MVD"]
    url = f"/review/responses/{response_id}"
    expert = client_for(app_ctx, "kz.expert@example.org")
    assert expert.post(url + "/validate", data={"csrf_token": expert.csrf}).status_code == 302
    db_session.rollback()
    assert db_session.get(Response, response_id).status == "validated"
    db_session.rollback()
    refused = expert.post(url + "/clarify", data={"csrf_token": expert.csrf, "clarify": ["staff_total"],
                                                  "message-staff_total": "?"})
    assert refused.status_code == 422
    assert expert.post(url + "/unlock", data={"csrf_token": expert.csrf, "reason": "x"}).status_code == 403
    agency = respondent(app_ctx, review_world["links"]["contact@mvd.kz.example.org"])
    assert agency.post("/respondent/autosave", json={"question": "staff_total", "fields": {"q__staff_total": ["1"]},
                                                     "base_version": 1},
                       headers={"X-CSRFToken": agency.csrf}).status_code == 403

    staff = client_for(app_ctx, "staff@example.org")
    make_user("staff", email="colleague@example.org")
    colleague = client_for(app_ctx, "colleague@example.org")
    page = staff.get(url).get_data(as_text=True)
    seen = re.search(r'action="[^"]*/unlock".*?name="row_version" value="(\d+)"', page, re.S).group(1)
    assert f'name="row_version" value="{seen}"' in colleague.get(url).get_data(as_text=True)  # opened by both
    empty = staff.post(url + "/unlock", data={"csrf_token": staff.csrf, "reason": " ", "row_version": seen})
    assert empty.status_code == 422 and "Give the reason for unlocking." in empty.get_data(as_text=True)
    # Too long for the audit log: refused whole, with the text kept (the first 2,000 characters were kept).
    long_reason = "Validated by mistake. " + "x" * 1990
    too_long = staff.post(url + "/unlock", data={"csrf_token": staff.csrf, "reason": long_reason,
                                                 "row_version": seen})
    text = too_long.get_data(as_text=True)
    assert too_long.status_code == 422 and "The reason is too long (at most 2,000 characters)" in text
    assert f'value="{long_reason}"' in text and 'data-limit="2000"' in text
    assert staff.post(url + "/unlock", data={"csrf_token": staff.csrf, "reason": "Validated by mistake",
                                             "row_version": seen}).status_code == 302
    db_session.rollback()
    assert db_session.get(Response, response_id).status == "submitted"
    # Who unlocked it, when and why is on the page from then on.
    note = re.search(r'<p class="hint unlock-note">(.*?)</p>', expert.get(url).get_data(as_text=True), re.S).group(1)
    assert "by Staff Member" in note and "Validated by mistake" in note
    # A colleague's page, opened before, unlocks too: refused, and the page as it is now says why.
    stale = colleague.post(url + "/unlock", data={"csrf_token": colleague.csrf, "reason": "Me too",
                                                  "row_version": seen}, follow_redirects=True)
    html = stale.get_data(as_text=True)
    assert stale.status_code == 200 and "The response has changed since you opened the page" in html
    assert f'action="/review/responses/{response_id}/unlock"' not in html
    # Validated again meanwhile: the same stale unlock is refused beside the form, with the reason kept.
    assert staff.post(url + "/validate", data={"csrf_token": staff.csrf}).status_code == 302
    again = colleague.post(url + "/unlock", data={"csrf_token": colleague.csrf, "reason": "Me too",
                                                  "row_version": seen})
    html = again.get_data(as_text=True)
    assert again.status_code == 422 and "The response has changed since you opened the page" in html
    assert re.search(r'id="reason" name="reason"[^>]* value="Me too"', html)
    db_session.rollback()
    assert db_session.get(Response, response_id).status == "validated"
    unlocked = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "response.unlocked"))
    assert unlocked.details == "Validated by mistake" and unlocked.actor_id == review_world["people"]["staff"].id


def test_expert_ratings_override_and_disagreement(app_ctx, review_world, db_session):
    from app.scoring.models import CountryScore

    campaign = review_world["campaign"]
    url = f"/review/campaigns/{campaign}/KZ/ratings/inv_unit"

    def figure():
        db_session.rollback()
        row = db_session.scalar(select(CountryScore).where(CountryScore.campaign_id == campaign,
                                                           CountryScore.indicator_id == "inv_unit",
                                                           CountryScore.country_id == _kz_id(db_session)))
        result = (row.self_assessed, row.expert, row.assessed, row.ratings, row.disagreement)
        db_session.rollback()
        return result

    self_assessed = figure()[0]
    assert self_assessed is not None and figure()[1:3] == (None, self_assessed)

    expert = client_for(app_ctx, "kz.expert@example.org")
    refused = expert.post(url, data={"csrf_token": expert.csrf, "level": "9", "rationale": "Too high"})
    assert refused.status_code == 422 and "Choose a level of the scale." in refused.get_data(as_text=True)
    between = expert.post(url, data={"csrf_token": expert.csrf, "level": "2.5", "rationale": "Between levels"})
    assert between.status_code == 422 and "Choose a level of the scale." in between.get_data(as_text=True)
    # A rationale over the limit is refused, not cut, and stays in the box to be shortened.
    long_text = "Detailed reasons. " * 600
    too_long = expert.post(url, data={"csrf_token": expert.csrf, "level": "2", "rationale": long_text})
    html = too_long.get_data(as_text=True)
    assert too_long.status_code == 422 and "The rationale is too long" in html and long_text.strip() in html
    assert 'Too high' in refused.get_data(as_text=True)  # the typed rationale is kept
    assert expert.post(url, data={"csrf_token": expert.csrf, "level": "1",
                                  "rationale": "The unit exists on paper only."}).status_code == 302
    assert figure()[1:4] == (1.0, 1.0, 1)
    other = client_for(app_ctx, "second.expert@example.org")
    assert other.post(url, data={"csrf_token": other.csrf, "level": "3",
                                 "rationale": "Visited the unit: well staffed."}).status_code == 302
    assert figure()[1:4] == (3.0, 3.0, 2)  # the latest rating counts; both are kept
    page = expert.get(f"/review/campaigns/{campaign}/KZ").get_data(as_text=True)
    assert "experts disagree" in page and "KZ Expert 1" in page and "Second Expert 3" in page
    history = expert.get(url).get_data(as_text=True)
    assert "The unit exists on paper only." in history and "Visited the unit: well staffed." in history
    # 10,000 characters as the box counts them (each line break one; the browser sends CR LF): accepted.
    at_limit = ("x" * 99 + "\r\n") * 100
    assert expert.post(url, data={"csrf_token": expert.csrf, "level": "2", "rationale": at_limit}).status_code == 302


def _kz_id(db_session) -> int:
    from app.directory.models import Country

    return db_session.scalar(select(Country.id).where(Country.code == "KZ"))


def test_incremental_scores_equal_a_rebuild(app_ctx, review_world, db_session):
    from app.extensions import db
    from app.scoring import store

    campaign_id, responses = review_world["campaign"], review_world["responses"]
    expert = client_for(app_ctx, "kz.expert@example.org")
    expert.post(f"/review/campaigns/{campaign_id}/KZ/ratings/inv_training",
                data={"csrf_token": expert.csrf, "level": "2", "rationale": "Training is irregular."})
    expert.post(f"/review/responses/{responses['AFM']}/validate", data={"csrf_token": expert.csrf})
    expert.post(f"/review/responses/{responses['MVD']}/clarify", data={
        "csrf_token": expert.csrf, "clarify": ["priorities"], "message-priorities": "Which laboratory?"})
    incremental = snapshot(db_session)
    assert incremental["response"] and incremental["country"] and incremental["area"]
    assert {row[0] for row in incremental["response_area"]} == {responses["AFM"], responses["TJ"]}
    # The returned MVD response no longer counts; AFM (validated) and TJ (submitted) do.
    assert {row[0] for row in incremental["response"]} == {responses["AFM"], responses["TJ"]}

    store.rebuild()
    db.session.commit()
    assert snapshot(db_session) == incremental
    result = app_ctx.test_cli_runner().invoke(args=["scores", "rebuild", "--campaign", str(campaign_id)])
    assert result.exit_code == 0 and "1 campaign(s), 2 scored response(s)" in result.output
    assert snapshot(db_session) == incremental
    assert app_ctx.test_cli_runner().invoke(args=["scores", "rebuild", "--campaign", "999"]).exit_code == 1


def test_the_review_index_lists_countries_by_name_in_the_readers_language(app_ctx, review_world, make_agency,
                                                                         make_country, db_session):
    """Listed by code, Kyrgyzstan (KG) came before Kazakhstan (KZ)."""
    from sqlalchemy import insert

    from app.campaigns.models import campaign_agencies

    make_country("KG", en="Kyrgyzstan", ru="Кыргызстан")
    db_session.execute(insert(campaign_agencies).values(campaign_id=review_world["campaign"],
                                                        agency_id=make_agency("KG", "MVD").id))
    db_session.commit()
    page = client_for(app_ctx, "staff@example.org").get("/review/").get_data(as_text=True)
    names = re.findall(r">(Kazakhstan|Kyrgyzstan|Tajikistan)</a></th>", page)
    assert names == ["Kazakhstan", "Kyrgyzstan", "Tajikistan"]


def test_review_index_counts_each_countrys_agencies_by_status(app_ctx, review_world, db_session, make_agency):
    """Kazakhstan: three agencies asked (one without a response yet), one response validated, one submitted;
    Tajikistan is not the KZ expert's, so only staff see its row."""
    import re

    from sqlalchemy import insert

    from app.campaigns.models import campaign_agencies
    from app.responses.models import RESPONSE_STATUSES, Response

    db_session.execute(insert(campaign_agencies).values(campaign_id=review_world["campaign"],
                                                        agency_id=make_agency("KZ", "CUST").id))
    db_session.get(Response, review_world["responses"]["AFM"]).status = "validated"
    db_session.commit()

    def row(page: str, country: str) -> dict[str, int]:
        found = re.search(rf">{country}</a></th>(.*?)</tr>", page, re.S)
        assert found, country
        numbers = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', found.group(1))]
        return dict(zip(["agencies", *RESPONSE_STATUSES], numbers, strict=True))

    # Agencies that opened their link (a response, not started) and were then taken out of the campaign are not
    # counted: the statuses added up to more than the agencies asked, and the progress pages said otherwise.
    for acronym in ("DRUG", "FIRE"):
        gone = make_agency("KZ", acronym)
        db_session.add(Response(campaign_id=review_world["campaign"], agency_id=gone.id, status="not_started",
                                version_id=db_session.get(Response, review_world["responses"]["AFM"]).version_id,
                                row_version=1))
    db_session.commit()
    expert = client_for(app_ctx, "kz.expert@example.org").get("/review/").get_data(as_text=True)
    kz = row(expert, "Kazakhstan")
    assert (kz["agencies"], kz["not_started"], kz["submitted"], kz["validated"]) == (3, 1, 1, 1)
    assert sum(kz.values()) - kz["agencies"] == 3
    assert "Tajikistan" not in expert
    staff = client_for(app_ctx, "staff@example.org").get("/review/").get_data(as_text=True)
    tj = row(staff, "Tajikistan")
    assert (tj["agencies"], tj["submitted"], sum(tj.values()) - tj["agencies"]) == (1, 1, 1)


def test_switching_language_on_a_refused_form_goes_back_to_the_page_of_the_form(app_ctx, review_world):
    """A refused comment is shown at the address the form was sent to, which only takes POST: the language menu
    there leads back to the response's page (in the new language), not to a 405."""
    expert = client_for(app_ctx, "kz.expert@example.org")
    url = f"/review/responses/{review_world['responses']['MVD']}"
    refused = expert.post(url + "/comments", data={"csrf_token": expert.csrf, "question": "staff_total", "body": " "},
                          headers={"Referer": f"http://localhost{url}"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    menu = re.search(r'<form class="language-menu".*?</form>', html, re.S).group(0)
    assert f'name="next" value="http://localhost{url}"' in menu
    switched = expert.post("/language", data={"csrf_token": expert.csrf, "locale": "ru",
                                              "next": f"http://localhost{url}"})
    assert switched.status_code == 302 and switched.headers["Location"].endswith(url)
    assert '<html lang="ru">' in expert.get(url).get_data(as_text=True)
    # Asked to come back to an address that takes no GET (an older page's form), it uses the page it came from.
    back = expert.post("/language", data={"csrf_token": expert.csrf, "locale": "en", "next": url + "/comments"},
                       headers={"Referer": f"http://localhost{url}"})
    assert back.headers["Location"].endswith(url)
    home = expert.post("/language", data={"csrf_token": expert.csrf, "locale": "en", "next": url + "/comments"})
    assert home.headers["Location"] in ("/", "http://localhost/")


def test_the_read_only_page_says_a_hidden_question_does_not_apply(app_ctx, review_world, db_session):
    """TJ has no CT unit; a stale answer about the unit's staff is still stored: the read-only page says the
    question does not apply, as the review page and the printable copy do (it showed the stale 9)."""
    from app.responses.models import Answer

    db_session.add(Answer(response_id=review_world["responses"]["TJ"], question_id="ct_unit_staff", value=9))
    db_session.commit()
    staff = client_for(app_ctx, "staff@example.org")
    page = staff.get(f"/responses/{review_world['responses']['TJ']}").get_data(as_text=True)
    answer = re.search(r"<dt>Staff of the unit</dt>\s*<dd>(.*?)</dd>", page, re.S).group(1)
    assert "Does not apply to this agency" in answer and "9" not in answer


def test_messages_of_a_return_refused_after_a_colleague_validated_stay_on_the_page(app_ctx, review_world):
    """The expert typed messages; a colleague validated meanwhile: the return is refused and the form is gone,
    so the messages typed are shown, not sent, to copy (they vanished, and the browser draft with them)."""
    expert = client_for(app_ctx, "kz.expert@example.org")
    url = f"/review/responses/{review_world['responses']['MVD']}"
    seen = re.search(r'name="row_version" value="(\d+)"', expert.get(url).get_data(as_text=True)).group(1)
    colleague = client_for(app_ctx, "second.expert@example.org")
    assert colleague.post(url + "/validate", data={"csrf_token": colleague.csrf,
                                                   "row_version": seen}).status_code == 302
    refused = expert.post(url + "/clarify", data={
        "csrf_token": expert.csrf, "row_version": seen, "clarify": ["staff_total", "ct_unit_staff"],
        "message-staff_total": "Does the total include civilian staff?", "message-ct_unit_staff": "Really 20?"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="clarify-form"' not in page
    unsent = re.search(r'<section class="unsent-messages".*?</section>', page, re.S).group(0)
    assert "Does the total include civilian staff?" in unsent and "Really 20?" in unsent


def test_a_question_the_agency_does_not_see_cannot_be_asked_about(app_ctx, review_world, db_session):
    """TJ has no CT unit, so its form does not show the unit's staff: no "Ask to clarify" beside it, and a
    request naming it is refused with the typed messages kept; the response stays submitted."""
    from app.responses.models import Response

    staff = client_for(app_ctx, "staff@example.org")
    url = f"/review/responses/{review_world['responses']['TJ']}"
    page = staff.get(url).get_data(as_text=True)
    assert 'value="staff_total" form="clarify-form"' in page
    assert 'value="ct_unit_staff" form="clarify-form"' not in page
    refused = staff.post(url + "/clarify", data={"csrf_token": staff.csrf, "clarify": ["ct_unit_staff", "staff_total"],
                                                 "message-ct_unit_staff": "How many?", "message-staff_total": "Sure?"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "“Staff of the unit” does not apply to this agency (its other answers hide it)" in text
    assert ">Sure?</textarea>" in text
    assert db_session.get(Response, review_world["responses"]["TJ"]).status == "submitted"


def test_an_answer_hidden_since_the_request_counts_as_changed_to_empty(app_ctx, review_world, db_session):
    """Asked about the unit's staff (20), the agency answers it has no unit after all: the question no longer
    applies, so before submitting the agency reads "answer changed" and the expert then sees 20 → — changed
    (it said unchanged, 20 → 20, with "does not apply" beneath)."""
    from app.review.models import Clarification

    expert = client_for(app_ctx, "kz.expert@example.org")
    mvd = review_world["responses"]["MVD"]
    assert expert.post(f"/review/responses/{mvd}/clarify", data={
        "csrf_token": expert.csrf, "clarify": ["ct_unit_staff"],
        "message-ct_unit_staff": "Really 20?"}).status_code == 302
    agency = respondent(app_ctx, review_world["links"]["contact@mvd.kz.example.org"])
    saved = agency.post("/respondent/autosave", json={"question": "has_ct_unit", "fields": {"q__has_ct_unit": ["no"]},
                                                     "base_version": 1}, headers={"X-CSRFToken": agency.csrf})
    assert saved.status_code == 200, saved.get_json()
    before = agency.get("/respondent/review").get_data(as_text=True)
    assert "answer changed" in before and "answer not changed" not in before
    assert agency.post("/respondent/review", data={"csrf_token": agency.csrf, "confirm": "1"}).status_code == 302
    db_session.rollback()
    from app.mail.models import OutboxMessage

    receipt = db_session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "receipt"))
    assert "2. Counter-terrorism unit: 3 answers" in receipt.body_text  # the unit's staff no longer counts
    (request,) = db_session.query(Clarification).filter_by(response_id=mvd).all()
    assert (request.value_before, request.value_after) == (20, None)
    row = re.search(r'<tr class="clarification-row">.*?</tr>', expert.get(f"/review/responses/{mvd}")
                    .get_data(as_text=True), re.S).group(0)
    assert "changed</span>" in row and "unchanged" not in row


def test_returning_an_agency_without_an_active_contact_says_nobody_was_emailed(app_ctx, review_world, db_session):
    from app.mail.models import OutboxMessage

    expert = client_for(app_ctx, "kz.expert@example.org")
    page = expert.post(f"/review/responses/{review_world['responses']['AFM']}/clarify", data={
        "csrf_token": expert.csrf, "clarify": ["staff_total"], "message-staff_total": "Total?"},
        follow_redirects=True).get_data(as_text=True)
    assert "nobody was e-mailed: the agency has no active contact" in page and "contacts were e-mailed" not in page
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.kind == "clarification")) == 0
    mvd = expert.post(f"/review/responses/{review_world['responses']['MVD']}/clarify", data={
        "csrf_token": expert.csrf, "clarify": ["staff_total"], "message-staff_total": "Total?"},
        follow_redirects=True).get_data(as_text=True)
    assert "its contacts were e-mailed" in mvd


FILE_QUESTIONNAIRE = """\
schema_version: 1
id: file-example
title: {en: File example, ru: Файл}
languages: [en, ru]
scale:
  - {level: 0, label: {en: None, ru: Нет}}
  - {level: 4, label: {en: Full, ru: Полностью}}
areas:
  - id: a
    title: {en: A, ru: А}
    indicators:
      - {id: i, title: {en: I, ru: И}, target: 3}
sections:
  - id: s
    title: {en: S, ru: С}
    questions:
      - {id: has_plan, type: yes_no, indicator: i, label: {en: Is there a plan?, ru: Есть ли план?}}
      - {id: plan_file, type: file, label: {en: The plan, ru: План}}
"""


def test_an_evidence_file_opens_from_the_review_page_and_the_printable_copy(
        app_ctx, db_session, make_country, make_version, make_agency, make_user, tmp_path):
    """The review page and the printable copy link the uploaded file (they showed its name only, and the only
    way to it was the read-only page behind the printable copy's "Back")."""
    from app.campaigns import services as campaigns
    from app.responses import answering
    from app.responses.files import upload_dir
    from app.responses.services import ensure_response

    make_country("KZ", en="Kazakhstan")
    path = tmp_path / "file.yaml"
    path.write_text(FILE_QUESTIONNAIRE, encoding="utf-8")
    agency = make_agency("KZ", "MVD")
    campaign = campaigns.create_campaign("Files", make_version(path), agencies=[agency])
    campaigns.set_status(campaign, "open")
    response = ensure_response(campaign, agency)
    upload_dir().mkdir(parents=True, exist_ok=True)
    (upload_dir() / "planfilekey").write_bytes(b"%PDF-1.4 test")
    saved = answering.save_answers(response, {"has_plan": "yes", "plan_file": {
        "name": "plan.pdf", "key": "planfilekey", "size": 13, "content_type": "application/pdf"}},
        actor=None, channel="cli", lang="en")
    assert saved.ok, saved.errors
    answering.submit(response, actor=None, lang="en")
    db_session.commit()
    make_user("expert", email="files.expert@example.org", countries=["KZ"])
    expert = client_for(app_ctx, "files.expert@example.org")
    link = f'<a href="/responses/{response.id}/files/planfilekey">plan.pdf</a>'
    assert link in expert.get(f"/review/responses/{response.id}").get_data(as_text=True)
    assert link in expert.get(f"/responses/{response.id}/print").get_data(as_text=True)
    download = expert.get(f"/responses/{response.id}/files/planfilekey")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 test"
    download.close()


def test_staff_reach_the_responses_of_regional_bodies_from_review(app_ctx, review_world, db_session, make_agency):
    """A regional body (no country) submitted: Review lists "Regional bodies" with its counts, and that page
    links to its review page, where it can be validated (it was reachable only by typing the address). An
    expert, whose scope is their countries, sees neither."""
    from app.campaigns.models import Campaign
    from app.responses import answering
    from app.responses.services import ensure_response

    campaign = db_session.get(Campaign, review_world["campaign"])
    rats = make_agency(None, "RATS", kind="regional", en="Regional anti-terrorist structure")
    campaign.agencies.append(rats)
    response = ensure_response(campaign, rats)
    assert answering.save_answers(response, {"agency_name": "RATS", "staff_total": 40, "has_ct_unit": "no"},
                                  actor=None, channel="cli", lang="en").ok
    answering.submit(response, actor=None, lang="en")
    db_session.commit()
    staff = client_for(app_ctx, "staff@example.org")
    index = staff.get("/review/").get_data(as_text=True)
    regional_row = re.search(r'<tr><th scope="row"><a href="(/review/campaigns/\d+/regional)">Regional bodies</a>'
                             r'</th>(.*?)</tr>', index, re.S)
    assert regional_row, "no Regional bodies row"
    cells = re.findall(r'<td class="num">(\d+)</td>', regional_row.group(2))
    assert cells[0] == "1" and cells[1 + 2] == "1"  # one agency; submitted (the statuses' third column)
    page = staff.get(regional_row.group(1)).get_data(as_text=True)
    assert f'href="/review/responses/{response.id}">RATS</a>' in page
    assert staff.post(f"/review/responses/{response.id}/validate", data={"csrf_token": staff.csrf}).status_code == 302
    expert = client_for(app_ctx, "kz.expert@example.org")
    assert "Regional bodies" not in expert.get("/review/").get_data(as_text=True)
    assert expert.get(regional_row.group(1)).status_code == 403


def test_two_experts_with_the_same_name_who_disagree_are_shown_apart(app_ctx, review_world, make_user):
    """Two accounts named alike rate 0 and 4: the country page says the experts disagree, each with their
    address (it grouped ratings by name and saw one expert agreeing with themselves)."""
    make_user("expert", email="a.same@example.org", name="Aigerim Sultanova", countries=["KZ"])
    make_user("expert", email="b.same@example.org", name="Aigerim Sultanova", countries=["KZ"])
    url = f"/review/campaigns/{review_world['campaign']}/KZ"
    for email, level in (("a.same@example.org", "0"), ("b.same@example.org", "4")):
        client = client_for(app_ctx, email)
        assert client.post(url + "/ratings/inv_unit", data={"csrf_token": client.csrf, "level": level,
                                                            "rationale": "Seen"}).status_code == 302
    row = re.search(r'<tr id="ind-inv_unit">.*?</tr>', client.get(url).get_data(as_text=True), re.S).group(0)
    assert "experts disagree" in row
    assert "Aigerim Sultanova (a.same@example.org) 0" in row and "Aigerim Sultanova (b.same@example.org) 4" in row


def test_a_question_ticked_twice_in_a_crafted_request_is_asked_once(app_ctx, review_world, db_session):
    from app.review.models import Clarification

    expert = client_for(app_ctx, "kz.expert@example.org")
    mvd = review_world["responses"]["MVD"]
    assert expert.post(f"/review/responses/{mvd}/clarify", data={
        "csrf_token": expert.csrf, "clarify": ["staff_total", "staff_total"],
        "message-staff_total": "Total?"}).status_code == 302
    db_session.rollback()
    assert [c.question_id for c in db_session.query(Clarification).filter_by(response_id=mvd)] == ["staff_total"]


def test_a_nul_character_in_any_form_or_address_is_refused_with_a_400_that_says_so(app_ctx, review_world,
                                                                                   db_session):
    """No keyboard types a NUL character; PostgreSQL cannot store one in a text (a rationale, a comment or an
    unlock reason holding one failed there as a server error) and SQLite kept it invisible. Refused before any
    view reads it, in pages, background saves and the API alike, with nothing stored."""
    from app.review.models import Comment, ExpertRating

    expert = client_for(app_ctx, "kz.expert@example.org")
    response_url = f"/review/responses/{review_world['responses']['MVD']}"
    message = "The request holds a NUL character (code 0), which cannot be stored."
    for url, data in ((f"/review/campaigns/{review_world['campaign']}/KZ/ratings/inv_unit",
                       {"level": "2", "rationale": "x\x00y"}),
                      (response_url + "/comments", {"question": "staff_total", "body": "\x00"}),
                      (response_url + "/comments", {"question": "staff\x00total", "body": "fine"})):
        refused = expert.post(url, data={"csrf_token": expert.csrf, **data})
        assert refused.status_code == 400 and message in refused.get_data(as_text=True), url
    assert expert.get("/dashboards/region?country=K\x00Z").status_code == 400
    agency = respondent(app_ctx, review_world["links"]["contact@mvd.kz.example.org"])
    background = agency.post("/respondent/autosave", json={"question": "agency_name",
                                                           "fields": {"q__agency_name": ["M\x00VD"]}},
                             headers={"X-CSRFToken": agency.csrf, "Accept": "application/json"})
    assert background.status_code == 400 and background.get_json()["error"]["message"].startswith(message)
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(ExpertRating)) == 0
    assert db_session.scalar(select(func.count()).select_from(Comment)) == 0
    # the same texts without it are taken, and so is the text "\u0000" itself (six characters, sent escaped)
    assert expert.post(response_url + "/comments", data={"csrf_token": expert.csrf, "question": "staff_total",
                                                         "body": "xy"}).status_code == 302
    typed = agency.post("/respondent/autosave", json={"question": "agency_name",
                                                      "fields": {"q__agency_name": ["JSON writes NUL as \\u0000"]}},
                        headers={"X-CSRFToken": agency.csrf, "Accept": "application/json"})
    assert typed.status_code != 400, typed.get_json()


def test_a_comment_sent_after_the_session_ended_is_shown_back_to_copy(app_ctx, review_world):
    """Signed out in another tab, an expert sends a long comment: it went to the sign-in page, or (its form
    token gone) said "nothing was saved, sign in again", and the text was gone (Back led to the sign-in page).
    Both refusals now show what was written, to copy, and no other field of the form."""
    expert = client_for(app_ctx, "kz.expert@example.org")
    url = f"/review/responses/{review_world['responses']['MVD']}"
    expert.post("/sign-out", data={"csrf_token": expert.csrf})
    written = "The total seems to leave out\nthe regional offices: please check."
    own_page = {"Accept-Language": "en", "Origin": "http://localhost"}  # sent from the site's own page
    refused = expert.post(url + "/comments", data={"csrf_token": expert.csrf, "question": "staff_total",
                                                   "body": written}, headers=own_page)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 401 and "You are not signed in" in page
    assert "What you wrote, not saved" in page and written in page
    assert "staff_total" not in page.split("What you wrote")[1]  # the question's id is no text of the person
    still_in = client_for(app_ctx, "kz.expert@example.org")
    stale = still_in.post(url + "/comments", data={"csrf_token": "stale", "question": "staff_total",
                                                   "body": "Kept?"}, headers=own_page)
    assert stale.status_code == 400 and "Kept?" in stale.get_data(as_text=True)
    # a form another site posts here is refused without its text: it would make a believable page of this site
    forged = app_ctx.test_client().post("/sign-in", data={"body": "Your account is locked: call +7 000"},
                                        headers={"Accept-Language": "en", "Origin": "https://evil.example"})
    assert forged.status_code == 400 and "call +7 000" not in forged.get_data(as_text=True)


def test_the_printable_copy_and_the_history_lead_back_to_the_review_page(app_ctx, review_world):
    """From the review page, *Printable copy* led back to the read-only page of the response, which has no way to
    the review page, and *History of changes* had no way back at all."""
    response_id = review_world["responses"]["MVD"]
    expert = client_for(app_ctx, "kz.expert@example.org")
    review_url = f"/review/responses/{response_id}"
    for path in (f"/responses/{response_id}/print", f"/responses/{response_id}/history"):
        page = expert.get(path).get_data(as_text=True)
        assert f'href="{review_url}"' in page, path
    respondent_client = respondent(app_ctx, review_world["links"]["contact@mvd.kz.example.org"])
    home = respondent_client.get("/respondent/history").get_data(as_text=True)
    assert 'href="/respondent"' in home and review_url not in home


def test_a_rounds_requests_are_listed_in_the_questionnaires_order(app_ctx, review_world, db_session):
    """The expert's table of requests listed one round's questions in reverse (newest id first), while the agency
    sees them in the questionnaire's order; rounds stay newest first."""
    from app.responses.models import Response
    from app.review import services

    response = db_session.get(Response, review_world["responses"]["MVD"])
    services.request_clarification(response, [("staff_total", "Total?"), ("ct_unit_staff", "Full-time?")],
                                   actor=review_world["people"]["expert"])
    db_session.commit()
    assert [c.question_id for c in services.all_clarifications(response)] == ["staff_total", "ct_unit_staff"]
    page = client_for(app_ctx, "kz.expert@example.org").get(f"/review/responses/{response.id}")
    html = page.get_data(as_text=True)
    assert html.index("Full-time?") > html.index("Total?")


def test_the_clarification_email_gives_the_deadline_and_keeps_the_messages_lines(app_ctx, review_world,
                                                                                 db_session):
    """The invitation and the reminders give the deadline, the clarification e-mail did not; its HTML part ran a
    message written on several lines into one. A deadline already passed is not given (returns often come
    after it)."""
    from datetime import date

    from app.campaigns.models import Campaign
    from app.mail.models import OutboxMessage
    from app.responses import answering
    from app.responses.models import Response
    from app.review import services

    def clarify(deadline: date) -> dict:
        db_session.get(Campaign, review_world["campaign"]).deadline = deadline
        response = db_session.get(Response, review_world["responses"]["MVD"])
        services.request_clarification(response, [("staff_total", "Two points:\n1. the total\n2. the offices")],
                                       actor=review_world["people"]["expert"])
        db_session.commit()
        mails = {m.locale: m for m in db_session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "clarification").order_by(OutboxMessage.id))}  # the latest of each language
        answering.submit(db_session.get(Response, response.id), actor=None, lang="en")  # back for the next round
        db_session.commit()
        return mails

    mails = clarify(date(2031, 3, 31))
    for part in (mails["en"].body_text, mails["en"].body_html):
        assert "Please send your answers by March 31, 2031." in part
    assert "Просим направить ответы не позднее 31 марта 2031\u202fг." in mails["ru"].body_text
    assert 'white-space: pre-wrap;">Two points:\n1. the total\n2. the offices</span>' in mails["en"].body_html
    late = clarify(date(2020, 1, 31))
    assert "Two points:" in late["en"].body_text and "Please send your answers by" not in late["en"].body_text



def test_direction_overrides_are_taken_out_of_review_texts(app_ctx, review_world, db_session):
    """A right-to-left override (U+202E) in a comment or a reply shows the text in another order than it is stored
    (a hidden address, a reversed figure), on pages, in e-mails and reports; such controls are removed."""
    from app.responses.models import Response
    from app.review import services
    from app.review.models import Comment

    response = db_session.get(Response, review_world["responses"]["MVD"])
    services.add_comment(response, "staff_total", "Total \u202e005\u202c staff \u2067here\u2069",
                         actor=review_world["people"]["expert"])
    db_session.commit()
    assert db_session.scalars(select(Comment)).one().body == "Total 005 staff here"
