"""Expert review in a real browser: request a clarification with the page's own form (its fields sit beside each
question), keep the typed request while adding a comment, the respondent sees the highlighted question and
answers, resubmits, and the expert sees old -> new."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest

from tests.e2e.conftest import browser_sign_in
from tests.e2e.test_respondent import make_campaign, stored

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "demo-password-2026"


@contextmanager
def staff_review_page(browser, live_server, response_id: int):
    """A staff member's browser, in English, on the review page of a response (closed afterwards)."""
    context = browser.new_context(locale="en-GB")
    try:
        page = context.new_page()
        browser_sign_in(page, live_server, "staff@example.org", DEMO_PASSWORD)
        page.click("button[name=locale][value=en]")  # another test may have left the account in Russian
        page.wait_for_load_state("networkidle")
        page.goto(f"{live_server}/review/responses/{response_id}")
        yield page
    finally:
        context.close()


def dismissed_dialogs(page) -> list[str]:
    """The messages of the dialogs (confirmations) the page opens from now on, each answered "no"."""
    messages: list[str] = []

    def dismiss(dialog):
        messages.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return messages


def _submitted_response(live_app) -> int:
    """Answer and submit the campaign's response as the agency would have (id of the response)."""
    from sqlalchemy import select

    from app.campaigns.models import Campaign
    from app.extensions import db
    from app.responses import answering
    from app.responses.services import ensure_response

    with live_app.app_context():
        campaign = db.session.scalars(select(Campaign).order_by(Campaign.id.desc())).first()
        response = ensure_response(campaign, campaign.agencies[0])
        result = answering.save_answers(response, {"staff_total": 1200, "has_unit": "no"}, actor=None,
                                        channel="cli", lang="en")
        assert result.ok, result.errors
        answering.submit(response, actor=None, lang="en")
        db.session.commit()
        response_id = response.id
        db.session.remove()
    return response_id


def test_clarification_round_trip_in_the_browser(browser, live_app, live_server):
    (link,) = make_campaign(live_app, live_server)
    agency = browser.new_context(locale="en-GB")
    expert = browser.new_context(locale="en-GB")
    errors: list[str] = []
    try:
        respondent = agency.new_page()
        respondent.goto(link)  # signs the agency's contact in
        response_id = _submitted_response(live_app)

        page = expert.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        browser_sign_in(page, live_server, "expert@example.org", DEMO_PASSWORD)  # expert of KZ
        page.click("button[name=locale][value=en]")  # another test may have left the account in Russian
        page.wait_for_load_state("networkidle")
        page.goto(f"{live_server}/review/responses/{response_id}")
        page.locator("#review-staff_total input[name=clarify]").check()
        page.fill("#message-staff_total", "Does 1200 include the regional offices?")

        # An internal comment on another question reloads the page: the request typed so far stays.
        comment = page.locator("#review-has_unit details").last
        comment.locator("summary").click()
        comment.locator("textarea").fill("Check the unit with the ministry.")
        comment.get_by_role("button", name="Add the comment").click()
        page.wait_for_load_state("networkidle")
        assert "Check the unit with the ministry." in page.locator("#review-has_unit").inner_text()
        assert page.locator("#review-staff_total input[name=clarify]").is_checked()
        assert page.input_value("#message-staff_total") == "Does 1200 include the regional offices?"

        page.get_by_role("button", name="Return to the agency").click()
        page.wait_for_load_state("networkidle")
        assert "returned to the agency" in page.locator(".flash").first.inner_text()
        assert stored(live_app)["status"] == "returned"

        # The agency sees exactly that question highlighted with the message, answers and submits again.
        respondent.goto(live_server + "/respondent")
        assert "Does 1200 include the regional offices?" in respondent.locator("#clarifications").inner_text()
        assert "Check the unit" not in respondent.content()  # internal comments never reach the agency
        respondent.locator("#clarifications a").first.click()
        respondent.wait_for_load_state("networkidle")
        highlighted = respondent.locator(".highlighted")
        assert highlighted.count() == 1
        assert "Does 1200 include the regional offices?" in respondent.locator(
            "#question-staff_total .clarification").inner_text()
        respondent.fill("#q__staff_total", "950")
        respondent.locator("#q__staff_total").blur()
        respondent.wait_for_function(
            "() => document.getElementById('save-status').className.includes('ok')")
        respondent.goto(live_server + "/respondent")
        respondent.fill("#clarifications textarea", "1200 with the regions; 950 at headquarters.")
        respondent.get_by_role("button", name="Save the reply").click()
        respondent.wait_for_load_state("networkidle")
        respondent.goto(live_server + "/respondent/review")
        respondent.locator("input[name=confirm]").check()
        respondent.get_by_role("button", name="Submit the answers").click()
        respondent.wait_for_load_state("networkidle")
        assert stored(live_app)["status"] == "submitted"

        # The expert sees what changed since the request: old -> new, with the reply; the draft is gone.
        page.goto(f"{live_server}/review/responses/{response_id}")
        row = page.locator("tr.clarification-row").first.inner_text()
        assert re.search(r"1[,\u00a0 ]?200", row) and "950" in row and "changed" in row
        assert "950 at headquarters" in row
        assert page.input_value("#message-staff_total") == ""
        assert not page.locator("#review-staff_total input[name=clarify]").is_checked()
        assert errors == []
    finally:
        agency.close()
        expert.close()


def test_a_refused_comment_brings_the_focus_to_its_message(browser, live_app, live_server):
    """An empty comment far down the page is refused: the page comes back with the focus on the message beside
    that question (not at the top of a long page), and closing a campaign asks first."""
    from sqlalchemy import select

    from app.extensions import db
    from app.responses.models import Response

    with live_app.app_context():
        response = db.session.scalars(select(Response).where(Response.status == "submitted")
                                      .order_by(Response.id)).first()
        response_id, campaign_id = response.id, response.campaign_id
        db.session.remove()
    with staff_review_page(browser, live_server, response_id) as page:
        last = page.locator(".review-question").last
        last.locator("details").last.locator("summary").click()
        last.get_by_role("button", name="Add the comment").click()
        page.wait_for_load_state("networkidle")
        focused = page.evaluate("document.activeElement.className + '|' + document.activeElement.textContent")
        assert focused.startswith("error|") and "Write a comment first" in focused
        assert page.evaluate("document.activeElement.getBoundingClientRect().top") < 800  # in view

        page.goto(f"{live_server}/campaigns/{campaign_id}")
        dialogs = dismissed_dialogs(page)
        page.get_by_role("button", name="Close the campaign").click()
        page.wait_for_load_state("networkidle")
        assert dialogs and "Close the campaign?" in dialogs[0]
        assert page.get_by_role("button", name="Close the campaign").count() == 1  # still open


def test_leaving_a_page_with_text_not_yet_saved_asks_first(browser, live_app, live_server):
    """A reply typed on the respondent's page, or a comment on the review page, is not lost by following a link:
    the browser asks first (staying keeps the text); nothing typed, or the text saved, leaves without a word."""
    from sqlalchemy import select

    from app.auth.models import User
    from app.extensions import db
    from app.responses.models import Response
    from app.review.services import request_clarification

    (link,) = make_campaign(live_app, live_server)
    agency = browser.new_context(locale="en-GB")
    expert = browser.new_context(locale="en-GB")
    dialogs: list[str] = []
    leave = []

    def stay(dialog):
        dialogs.append(dialog.type)
        if leave:
            dialog.accept()  # "Leave the page"
        else:
            dialog.dismiss()  # "Stay on the page"

    def asked(page) -> bool:
        for _ in range(40):  # the dialog comes from the browser, after the click has returned
            if dialogs:
                return True
            page.wait_for_timeout(50)
        return False

    try:
        respondent = agency.new_page()
        respondent.on("dialog", stay)
        respondent.goto(link)
        response_id = _submitted_response(live_app)
        with live_app.app_context():
            request_clarification(db.session.get(Response, response_id),
                                  [("staff_total", "Does 1200 include the regional offices?")],
                                  actor=db.session.scalar(select(User).where(User.email == "expert@example.org")))
            db.session.commit()
            db.session.remove()

        respondent.goto(live_server + "/respondent")
        respondent.locator("#clarifications a").first.click()  # nothing typed: no question
        respondent.wait_for_load_state("networkidle")
        assert "/respondent/sections/" in respondent.url and dialogs == []

        respondent.goto(live_server + "/respondent")
        respondent.fill("#clarifications textarea", "1200 with the regions.")
        respondent.locator("#clarifications a").first.click()
        assert asked(respondent) and dialogs == ["beforeunload"]
        assert respondent.url.endswith("/respondent")
        assert respondent.input_value("#clarifications textarea") == "1200 with the regions."
        respondent.get_by_role("button", name="Save the reply").click()  # sending the form is not leaving it
        respondent.wait_for_load_state("networkidle")
        assert respondent.input_value("#clarifications textarea") == "1200 with the regions."
        respondent.locator("#clarifications a").first.click()  # saved: leaves without a question
        respondent.wait_for_load_state("networkidle")
        assert "/respondent/sections/" in respondent.url and dialogs == ["beforeunload"]

        dialogs.clear()
        page = expert.new_page()
        page.on("dialog", stay)
        browser_sign_in(page, live_server, "staff@example.org", DEMO_PASSWORD)
        page.click("button[name=locale][value=en]")
        page.wait_for_load_state("networkidle")
        page.goto(f"{live_server}/review/responses/{response_id}")
        comment = page.locator("#review-has_unit details").last
        comment.locator("summary").click()
        comment.locator("textarea").fill("Check the unit with the ministry.")
        page.get_by_role("link", name="History of changes").click()
        assert asked(page) and dialogs == ["beforeunload"]
        assert f"/review/responses/{response_id}" in page.url
        assert comment.locator("textarea").input_value() == "Check the unit with the ministry."

        # A rating refused by the server comes back with its text, which is not saved either.
        from app.questionnaires.services import definition_of
        from tests.e2e.test_accessibility import _demo_campaign

        demo = _demo_campaign(live_app)
        with live_app.app_context():
            indicator = next(i.id for _area, i in definition_of(db.session.merge(demo).version).indicators())
            db.session.remove()
        leave.append(True)
        page.goto(f"{live_server}/review/campaigns/{demo.id}/KZ/ratings/{indicator}")  # leaving, as asked
        assert dialogs == ["beforeunload", "beforeunload"]
        leave.clear()
        dialogs.clear()
        page.fill("#rationale", "Two trained analysts only.")
        page.get_by_role("button", name="Save the rating").click()  # no level chosen: refused
        page.wait_for_load_state("networkidle")
        assert page.locator(".error-summary").count() == 1 and dialogs == []
        assert page.input_value("#rationale") == "Two trained analysts only."
        page.get_by_role("link", name="History of changes").or_(page.locator("main a").first).first.click()
        assert asked(page) and dialogs == ["beforeunload"]
    finally:
        agency.close()
        expert.close()


def test_a_pasted_text_over_the_limit_is_never_cut_but_said_and_refused_whole(browser, live_app, live_server):
    """Each box had a maxlength: a pasted comment of 10,500 characters was cut to 10,000 without a word, and the
    cut text was saved. Now the whole text stays in the box, a note says how long it is, and sending it is
    refused with the text kept, until it is shortened; then it is saved whole."""
    from sqlalchemy import select

    from app.extensions import db
    from app.responses.models import Response
    from app.review.models import Comment

    with live_app.app_context():
        response_id = db.session.scalars(select(Response).where(Response.status == "submitted")
                                         .order_by(Response.id)).first().id
        db.session.remove()
    text = "Figures to check. " * 583  # 10,494 characters
    with staff_review_page(browser, live_server, response_id) as page:
        question = page.locator(".review-question").first
        question.locator("details").last.locator("summary").click()
        box = question.locator("textarea[name=body]")
        box.fill(text)
        assert len(box.input_value()) == len(text)  # nothing cut
        note = page.locator(".limit-note")
        assert note.inner_text() == "10,494 characters: at most 10,000 can be sent. Shorten the text."
        question.get_by_role("button", name="Add the comment").click()
        page.wait_for_load_state("networkidle")
        kept = page.locator("textarea[aria-invalid=true]")
        assert kept.input_value() == text and page.locator(".limit-note").count() == 1
        kept.fill(text[:9_000])
        assert page.locator(".limit-note").count() == 0
        kept.locator("xpath=ancestor::form").get_by_role("button", name="Add the comment").click()
        page.wait_for_load_state("networkidle")
        with live_app.app_context():
            saved = db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()
            assert saved.body == text[:9_000].strip()
            db.session.remove()


def test_validating_asks_first_and_names_a_clarification_request_being_written(browser, live_app, live_server):
    """*Validate* locked the response at once, with no question, and dropped the clarification request the expert
    had ticked and written beside the questions. It now asks, and says so when a request is being written;
    answering no leaves the response and the request as they were."""

    from app.extensions import db
    from app.responses.models import Response

    make_campaign(live_app, live_server)
    response_id = _submitted_response(live_app)
    with staff_review_page(browser, live_server, response_id) as page:
        dialogs = dismissed_dialogs(page)
        page.get_by_role("button", name="Validate").click()
        page.locator("[form=clarify-form][type=checkbox]").first.check()
        page.locator("textarea[form=clarify-form]").first.fill("Is this the total of every office?")
        page.get_by_role("button", name="Validate").click()
        page.wait_for_timeout(300)
        assert dialogs[0].startswith("Validate this response? The agency can no longer change it")
        assert dialogs[1].startswith("Validate this response and drop the clarification request you have started")
        assert page.locator("textarea[form=clarify-form]").first.input_value() == "Is this the total of every office?"
        with live_app.app_context():
            assert db.session.get(Response, response_id).status == "submitted"
            db.session.remove()


def test_line_breaks_of_review_texts_are_shown(browser, live_app, live_server):
    """A comment or a rationale written on several lines ("Points to check:", "1. ...", "2. ...") showed as one
    run-on line: the texts kept their line breaks, the page dropped them."""
    from sqlalchemy import select

    from app.campaigns.models import Campaign
    from app.demo.campaign import DEMO_CAMPAIGN
    from app.extensions import db
    from app.questionnaires.services import definition_of

    make_campaign(live_app, live_server)
    response_id = _submitted_response(live_app)
    with live_app.app_context():  # the demo campaign's questionnaire has indicators to rate
        campaign = db.session.scalar(select(Campaign).where(Campaign.name == DEMO_CAMPAIGN))
        campaign_id = campaign.id
        indicator = next(indicator.id for _area, indicator in definition_of(campaign.version).indicators())
        db.session.remove()
    written = "Points to check:\n1. the total\n2. the regional offices"
    with staff_review_page(browser, live_server, response_id) as page:
        question = page.locator(".review-question").first
        question.locator("details").last.locator("summary").click()
        question.locator("textarea[name=body]").fill(written)
        question.get_by_role("button", name="Add the comment").click()
        page.wait_for_load_state("networkidle")
        assert page.locator(".comment .answer-text").first.inner_text() == written
        page.goto(f"{live_server}/review/campaigns/{campaign_id}/KZ/ratings/{indicator}")
        page.locator("input[name=level]").nth(1).check()
        page.fill("#rationale", written)
        page.get_by_role("button", name="Save the rating").click()
        page.wait_for_load_state("networkidle")
        page.goto(f"{live_server}/review/campaigns/{campaign_id}/KZ/ratings/{indicator}")
        assert written in page.locator("article .answer-text").first.inner_text()
