"""The respondent's questionnaire in a real browser: magic link, language, skip logic, autosave with messages,
reload, submission, concurrent editing in two browsers, and the weight of a 40-question page."""

from __future__ import annotations

import gzip
import itertools

import pytest

pytestmark = pytest.mark.e2e

_counter = itertools.count(1)

QUESTIONNAIRE = """
schema_version: 1
id: e2e-{n}
title: {{en: Browser test questionnaire, ru: Анкета для проверки в браузере}}
languages: [en, ru]
scale:
  - {{level: 0, label: {{en: Not in place, ru: Отсутствует}}}}
  - {{level: 1, label: {{en: Initial, ru: Начальный}}}}
  - {{level: 2, label: {{en: Partial, ru: Частично}}}}
  - {{level: 3, label: {{en: Full, ru: Полностью}}}}
sections:
  - id: profile
    title: {{en: Agency profile, ru: Сведения о ведомстве}}
    questions:
      - id: staff_total
        type: number
        integer: true
        required: true
        min: 1
        max: 100000
        label: {{en: Total number of staff, ru: Общая численность сотрудников}}
      - id: has_unit
        type: yes_no
        required: true
        label: {{en: Is there a dedicated unit?, ru: Есть ли специализированное подразделение?}}
      - id: unit_name
        type: text
        show_if: "${{has_unit}} = 'yes'"
        label: {{en: Name of the unit, ru: Название подразделения}}
      - id: unit_staff
        type: number
        show_if: "${{has_unit}} = 'yes'"
        constraint: ". <= ${{staff_total}}"
        constraint_message: {{en: Not more than the total staff, ru: Не больше общей численности}}
        label: {{en: Staff of the unit, ru: Численность подразделения}}
      - id: unit_tasks
        type: long_text
        show_if: "${{has_unit}} = 'yes'"
        label: {{en: Tasks of the unit, ru: Задачи подразделения}}
  - id: needs
    title: {{en: Needs, ru: Потребности}}
    questions:
      - id: needs_text
        type: long_text
        label: {{en: Main needs, ru: Основные потребности}}
      - id: skills
        type: matrix
        not_applicable: true
        dont_know: true
        label: {{en: Skills of the staff, ru: Навыки сотрудников}}
        rows:
          - {{id: interviewing, label: {{en: Interviewing, ru: Проведение допросов}}}}
          - {{id: forensics, label: {{en: Digital forensics, ru: Цифровая криминалистика}}}}
      - id: evidence
        type: file
        file_types: [pdf]
        max_size_mb: 1
        label: {{en: Supporting document, ru: Подтверждающий документ}}
{big}
"""

BIG_TYPES = ["yes_no", "scale", "number", "text", "single_choice", "multiple_choice", "long_text", "date"]


def big_section() -> str:
    """A section of 40 questions of every common type, with hints and skip logic, as YAML."""
    lines = ["  - id: big", "    title: {en: Forty questions, ru: Сорок вопросов}", "    questions:"]
    for i in range(40):
        kind = BIG_TYPES[i % len(BIG_TYPES)]
        lines += [f"      - id: big_{i}", f"        type: {kind}",
                  f"        label: {{en: 'Question {i} about the capacity of the agency in this area', "
                  f"ru: 'Вопрос {i} о возможностях ведомства в этой области'}}",
                  f"        hint: {{en: 'Explain briefly, with figures where possible ({i})', "
                  f"ru: 'Кратко поясните, по возможности с цифрами ({i})'}}"]
        if kind in ("single_choice", "multiple_choice"):
            lines.append("        choices:")
            for c in range(5):
                lines.append(f"          - {{value: c{c}, label: {{en: 'Choice {c} of question {i}', "
                             f"ru: 'Вариант {c} вопроса {i}'}}}}")
        if i % 5 == 1:
            lines.append("        not_applicable: true")
        if i % 8 == 1:  # after each yes/no question
            lines.append(f"        show_if: \"${{big_{i - 1}}} != 'no'\"")
    return "\n".join(lines)


def make_campaign(live_app, live_server, contacts: int = 1, big: bool = False) -> list[str]:
    """A fresh questionnaire, agency and open campaign in the live app; the contacts' links."""
    from app.campaigns import services as campaigns
    from app.directory import services as directory
    from app.extensions import db
    from app.questionnaires.loader import load_text
    from app.questionnaires.services import get_version, store_definition

    n = next(_counter)
    text = QUESTIONNAIRE.format(n=n, big=big_section() if big else "")
    with live_app.app_context():
        result = load_text(text, "e2e.yaml")
        assert result.definition is not None, result.problems
        outcome = store_definition(result.definition, source="e2e")
        version = get_version(outcome.slug, outcome.number)
        agency = directory.create_agency(country_code="KZ", acronym=f"E2E{n}", kind="other",
                                         names={"en": f"Test Agency {n}", "ru": f"Тестовое ведомство {n}"})
        for c in range(contacts):
            directory.create_contact(agency, name=f"Contact {c}", email=f"contact{c}.e2e{n}@example.org", locale="en")
        campaign = campaigns.create_campaign(f"E2E {n}", version, agencies=[agency])
        campaigns.set_status(campaign, "open")
        issued = campaigns.invite(campaign, send_email=False)
        db.session.commit()
        links = [live_server + i.link[i.link.index("/i/"):] for i in sorted(issued, key=lambda i: i.contact.email)]
    return links


def stored(live_app, acronym_number: int | None = None) -> dict:
    from sqlalchemy import select

    from app.extensions import db
    from app.responses.models import Answer, Response

    with live_app.app_context():
        response = db.session.scalars(select(Response).order_by(Response.id.desc())).first()
        values = {a.question_id: a.value for a in db.session.scalars(select(Answer).where(
            Answer.response_id == response.id))}
        status = response.status
        db.session.remove()
    return {"status": status, **values}


def saving(page, question: str):
    """Wait for the background save of one question (use as a context manager around the action)."""
    return page.expect_response(lambda r: r.url.endswith("/respondent/autosave")
                                and (r.request.post_data_json or {}).get("question") == question)


def wait_saved(page):
    page.wait_for_function("() => document.getElementById('save-status').className.includes('ok')")


def open_section_and_autosave(page, link: str, live_server: str, staff: str = "12") -> None:
    """Open the link, then section 1, type the staff count and wait for its background save."""
    page.goto(link)
    page.goto(live_server + "/respondent/sections/1")
    with saving(page, "staff_total"):
        page.fill("#q__staff_total", staff)
        page.locator("#q__staff_total").blur()
    wait_saved(page)


def test_respondent_answers_in_russian_and_submits(page, live_app, live_server):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    (link,) = make_campaign(live_app, live_server)
    page.goto(link)
    assert page.locator("h1").first.inner_text() == "Browser test questionnaire"

    # Switch the interface (and the questionnaire) to Russian with the language menu.
    page.locator(".language-menu button[value=ru]").click()
    page.wait_for_load_state("networkidle")
    assert "Анкета для проверки в браузере" in page.content()
    page.get_by_role("link", name="Начать").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "ru"

    # Answering "yes" shows three questions; "no" hides them again, without a reload.
    dependants = ["#question-unit_name", "#question-unit_staff", "#question-unit_tasks"]
    for selector in dependants:
        assert page.locator(selector).is_hidden()
    with saving(page, "has_unit"):
        page.locator("#question-has_unit").get_by_label("Да", exact=True).check()
    for selector in dependants:
        assert page.locator(selector).is_visible()
    with saving(page, "unit_name"):
        page.fill("#q__unit_name", "Отдел «Т»")
        page.locator("#q__unit_name").blur()
    page.locator("#question-has_unit").get_by_label("Нет", exact=True).check()
    for selector in dependants:
        assert page.locator(selector).is_hidden()
    wait_saved(page)

    # A required number out of range: the message appears beside the field and the text stays.
    page.fill("#q__staff_total", "250000")
    page.locator("#q__staff_total").blur()
    message = page.locator("#error-staff_total")
    message.wait_for()
    assert "100000" in message.inner_text().replace("\u00a0", "").replace(" ", "")
    assert page.input_value("#q__staff_total") == "250000"
    assert "staff_total" not in stored(live_app)

    page.fill("#q__staff_total", "1200")
    page.locator("#q__staff_total").blur()
    wait_saved(page)
    assert "Сохранено" in page.locator("#save-status").inner_text()
    assert page.locator("#error-staff_total").count() == 0

    # Reload: everything is still there.
    page.reload()
    assert page.input_value("#q__staff_total") == "1200"
    assert page.locator("#question-has_unit").get_by_label("Нет", exact=True).is_checked()
    assert page.locator("#question-unit_name").is_hidden()
    assert stored(live_app) == {"status": "in_progress", "staff_total": 1200, "has_unit": "no",
                                "unit_name": "Отдел «Т»"}

    # Review and submit, with confirmation.
    page.get_by_role("button", name="Далее").click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Проверить и отправить").click()
    page.wait_for_load_state("networkidle")
    page.locator("input[name=confirm]").check()
    page.get_by_role("button", name="Отправить ответы").click()
    page.wait_for_load_state("networkidle")
    assert "ответы отправлены" in page.locator("h1").inner_text()
    assert stored(live_app)["status"] == "submitted"

    # The form is now read-only.
    page.goto(live_server + "/respondent/sections/1")
    assert page.locator("#q__staff_total").get_attribute("readonly") is not None
    assert page.locator("#question-has_unit input[type=radio]").first.is_disabled()
    assert page.locator("form[data-autosave-url]").count() == 0
    assert errors == []


def test_autosave_after_the_session_ended_says_so_and_keeps_the_text(browser, live_app, live_server):
    """Signing out in another tab (or staff revoking the link) ends the session: the next background save is
    refused with 401, the page says it was not saved and why, and the typed text stays in the field."""
    (link,) = make_campaign(live_app, live_server)
    context = browser.new_context()
    page = context.new_page()
    open_section_and_autosave(page, link, live_server)

    other = context.new_page()  # sign out in another tab
    other.goto(live_server + "/respondent")
    other.get_by_role("button", name="Sign out").click()
    other.wait_for_load_state("networkidle")
    with saving(page, "staff_total") as info:
        page.fill("#q__staff_total", "4500")
        page.locator("#q__staff_total").blur()
    assert info.value.status == 401
    # The page reads the answer after it arrives: wait for that, not just for the answer.
    page.wait_for_function("() => document.getElementById('save-status').className.includes('error')")
    assert "session has ended" in page.locator("#save-status").inner_text()
    assert page.input_value("#q__staff_total") == "4500"
    assert stored(live_app)["staff_total"] == 12
    context.close()


def test_two_browsers_of_one_agency(browser, live_app, live_server):
    first_link, second_link = make_campaign(live_app, live_server, contacts=2)
    contexts = [browser.new_context(locale="en-GB"), browser.new_context(locale="en-GB")]
    try:
        first, second = (c.new_page() for c in contexts)
        first.goto(first_link)
        second.goto(second_link)
        first.goto(live_server + "/respondent/sections/2")
        second.goto(live_server + "/respondent/sections/2")

        # The same question: the second save is refused, both values are shown, and the person chooses.
        first.fill("#q__needs_text", "Training in digital forensics")
        first.locator("#q__needs_text").blur()
        wait_saved(first)
        second.fill("#q__needs_text", "Equipment for the border posts")
        second.locator("#q__needs_text").blur()
        conflict = second.locator("#question-needs_text .conflict")
        conflict.wait_for()
        text = conflict.inner_text()
        assert "Training in digital forensics" in text and "Equipment for the border posts" in text
        assert stored(live_app)["needs_text"] == "Training in digital forensics"
        conflict.get_by_role("button", name="Keep my value").click()
        wait_saved(second)
        assert stored(live_app)["needs_text"] == "Equipment for the border posts"

        # Different questions: both kept.
        first.goto(live_server + "/respondent/sections/1")
        second.goto(live_server + "/respondent/sections/1")
        first.fill("#q__staff_total", "300")
        first.locator("#q__staff_total").blur()
        second.locator("#question-has_unit").get_by_label("Yes", exact=True).check()
        wait_saved(first)
        wait_saved(second)
        values = stored(live_app)
        assert values["staff_total"] == 300 and values["has_unit"] == "yes"
        # A whole-page Save from the first browser keeps the second one's answer it did not touch.
        first.get_by_role("button", name="Save", exact=True).click()
        first.wait_for_load_state("networkidle")
        assert stored(live_app)["has_unit"] == "yes"
    finally:
        for context in contexts:
            context.close()


def test_a_forty_question_section_weighs_under_100_kb(page, live_app, live_server):
    """Everything the page loads, gzip-compressed as the recommended nginx set-up serves it (level 6)."""
    (link,) = make_campaign(live_app, live_server, big=True)
    page.goto(link)
    page.wait_for_load_state("networkidle")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})  # a first visit: nothing cached
    loaded = []
    page.on("requestfinished", lambda request: loaded.append(request))
    page.goto(live_server + "/respondent/sections/3")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-question^=big_]").count() == 40
    total = 0
    kinds = set()
    for request in loaded:
        response = request.response()
        if 300 <= response.status < 400:
            continue
        body = response.body()
        headers = sum(len(k) + len(v) + 4 for k, v in response.headers.items())
        total += len(gzip.compress(body, compresslevel=6)) + headers
        kinds.add(response.headers.get("content-type", "").split(";")[0])
    assert {"text/html", "text/css"} <= kinds and any("javascript" in kind for kind in kinds)
    assert "plotly" not in " ".join(r.url for r in loaded)
    print(f"40-question section: {len(loaded)} requests, {total} bytes transferred (gzip)")
    assert total < 100 * 1024


def test_a_special_answer_disables_the_typed_field_until_it_is_unticked(page, live_app, live_server):
    """Ticking "Not applicable" beside a number greys the number out (nothing typed there can be lost behind the
    ticked answer); unticking it gives the field back, and what is typed then is saved."""
    (link,) = make_campaign(live_app, live_server, big=True)
    page.goto(link)
    page.goto(live_server + "/respondent/sections/3")
    box = page.locator("#question-big_26")
    field = box.locator("input.number")
    special = box.get_by_label("Not applicable", exact=True)
    field.fill("12")
    field.blur()
    wait_saved(page)
    assert stored(live_app)["big_26"] == 12
    with saving(page, "big_26"):
        special.check()
    assert field.is_disabled() and field.input_value() == "12"
    wait_saved(page)
    assert stored(live_app)["big_26"] == "not_applicable"
    page.reload()
    assert box.get_by_label("Not applicable", exact=True).is_checked() and field.is_disabled()
    with saving(page, "big_26"):
        special.uncheck()
    assert field.is_enabled()
    field.fill("55")
    with saving(page, "big_26"):
        field.blur()
    wait_saved(page)
    assert stored(live_app)["big_26"] == 55


def test_a_file_over_the_questions_limit_is_refused_before_it_is_sent(page, live_app, live_server):
    """Choosing a file larger than the question accepts shows the limit at once and sends nothing (on a slow line
    a refused upload costs minutes); a file within the limit is saved with the page as before."""
    (link,) = make_campaign(live_app, live_server)
    page.goto(link)
    page.goto(live_server + "/respondent/sections/2")
    page.get_by_label("Main needs").fill("Training for analysts")
    box = page.locator("#question-evidence")
    assert "up to 1 MB" in box.inner_text()
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    box.locator("input[type=file]").set_input_files(
        {"name": "big.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10)})
    alert = box.locator("p.error")
    alert.wait_for()
    assert alert.inner_text() == "The file is larger than 1 MB."
    assert box.locator("input[type=file]").evaluate("el => el.files.length") == 0
    page.wait_for_timeout(300)
    assert not [url for url in posts if "/respondent/sections/" in url]
    assert "evidence" not in stored(live_app)
    with page.expect_navigation():
        box.locator("input[type=file]").set_input_files(
            {"name": "plan.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\nsmall plan"})
    box = page.locator("#question-evidence")
    assert "plan.pdf" in box.locator(".current-file").inner_text()
    assert not box.locator("p.error").count()
    assert stored(live_app)["evidence"]["name"] == "plan.pdf"
    assert page.get_by_label("Main needs").input_value() == "Training for analysts"


def test_times_are_shown_in_the_browsers_time_zone(browser, live_app, live_server):
    """A respondent in Bishkek (UTC+6) reads the time of the submission in Bishkek's time, with the zone named,
    from the very first page: page.js keeps the zone in a cookie and loads that first page once more."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from app.campaigns.models import Campaign
    from app.extensions import db
    from app.responses.services import ensure_response

    (link,) = make_campaign(live_app, live_server)
    with live_app.app_context():
        campaign = db.session.scalars(select(Campaign).order_by(Campaign.id.desc())).first()
        response = ensure_response(campaign, campaign.agencies[0])
        response.status, response.submitted_at = "submitted", datetime(2026, 3, 1, 19, 5, tzinfo=UTC)
        db.session.commit()
        db.session.remove()
    context = browser.new_context(timezone_id="Asia/Bishkek")
    page = context.new_page()
    try:
        loads = []  # pages asked for (the magic link, then the page it leads to)
        page.on("request", lambda r: loads.append(r.url) if r.resource_type == "document" else None)
        page.goto(link)
        banner = page.locator(".flash-success", has_text="UTC+6")
        banner.wait_for()
        assert "submitted on 3/2/26, 1:05\u202fAM UTC+6." in banner.inner_text()
        assert {c["name"]: c["value"] for c in context.cookies()}.get("tz") == "Asia/Bishkek"
        assert page.locator("#zone-guessed").count() == 0
        home = live_server + "/respondent"
        assert loads[1:] == [home, home]  # once in the server's zone, once more with the cookie: no loop
        page.reload()
        assert loads[1:] == [home, home, home] and "UTC+6" in page.locator(".flash-success").inner_text()
    finally:
        context.close()


def test_a_matrix_on_a_phone_lists_each_rows_answers_with_their_labels(browser, live_app, live_server):
    """On a 390-pixel screen a matrix is not a grid wider than the screen: each row lists its answers with their
    labels written out, and tapping a label answers (and saves) that row."""
    (link,) = make_campaign(live_app, live_server)
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    try:
        page.goto(link)
        page.goto(live_server + "/respondent/sections/2")
        box = page.locator("#question-skills")
        sizes = box.locator(".table-wrap").evaluate("w => [w.clientWidth, w.querySelector('table').scrollWidth]")
        assert sizes[1] <= sizes[0], sizes
        row = box.locator("tr", has_text="Digital forensics")
        label = row.get_by_text("Partial", exact=True).bounding_box()
        assert label["width"] > 20 and label["height"] > 8, label  # written out, not only for screen readers
        with saving(page, "skills"):
            row.get_by_text("Partial", exact=True).click()
        wait_saved(page)
        assert row.get_by_label("Digital forensics: Partial").is_checked()
        assert stored(live_app)["skills"] == {"forensics": 2}
    finally:
        context.close()


def test_next_after_an_autosave_is_no_conflict_with_oneself(page, live_app, live_server):
    """The autosave changed the answer's version but not the page's hidden version of it, so "Next" right after
    typing more was refused as a conflict with "someone else" (oneself). The page now follows its autosaves."""
    (link,) = make_campaign(live_app, live_server)
    open_section_and_autosave(page, link, live_server)
    assert page.locator("input[name='v__staff_total']").input_value() == "1"
    page.fill("#q__staff_total", "1250")  # typed, not yet saved in the background
    page.check("input[name='q__has_unit'][value='no']")
    page.get_by_role("button", name="Next").click()
    page.wait_for_load_state("networkidle")
    assert "someone else changed this answer" not in page.content()
    assert "/respondent/sections/1" not in page.url
    assert stored(live_app)["staff_total"] == 1250


def test_an_answer_broken_by_a_change_to_another_is_flagged_at_once(page, live_app, live_server):
    """The unit's staff <= the total: lowering the total below it shows the message beside the unit's staff
    without touching it, raising it again takes the message away; a page opened meanwhile shows it too, and
    correcting the unit's staff clears it."""
    (link,) = make_campaign(live_app, live_server)
    open_section_and_autosave(page, link, live_server, staff="100")
    with saving(page, "has_unit"):
        page.check("input[name='q__has_unit'][value='yes']")
    with saving(page, "unit_staff"):
        page.fill("#q__unit_staff", "40")
        page.locator("#q__unit_staff").blur()
    wait_saved(page)
    message = page.locator("#error-unit_staff")
    assert message.count() == 0

    with saving(page, "staff_total"):
        page.fill("#q__staff_total", "30")
        page.locator("#q__staff_total").blur()
    wait_saved(page)
    assert message.inner_text() == "Not more than the total staff"
    assert page.input_value("#q__unit_staff") == "40"
    with saving(page, "staff_total"):
        page.fill("#q__staff_total", "50")
        page.locator("#q__staff_total").blur()
    wait_saved(page)
    assert message.count() == 0

    with saving(page, "staff_total"):
        page.fill("#q__staff_total", "30")
        page.locator("#q__staff_total").blur()
    wait_saved(page)
    page.reload()
    assert message.inner_text() == "Not more than the total staff"
    assert "Answers to correct" in page.locator("#error-summary").inner_text()
    with saving(page, "unit_staff"):
        page.fill("#q__unit_staff", "20")
        page.locator("#q__unit_staff").blur()
    wait_saved(page)
    assert message.count() == 0
    assert stored(live_app)["unit_staff"] == 20


def test_two_quick_changes_on_a_slow_connection_are_no_conflict_with_oneself(page, live_app, live_server):
    """800 ms each way, and a second click 200 ms after the first: the second save waits for the first one's answer
    (and its version) instead of going out with the version before it, which the server refused as someone
    else's change, naming the person themself."""
    (link,) = make_campaign(live_app, live_server)
    open_section_and_autosave(page, link, live_server)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 800, "downloadThroughput": -1,
                                                    "uploadThroughput": -1})
    saves = []
    page.on("response", lambda r: saves.append(r.status) if r.url.endswith("/respondent/autosave") else None)
    page.check("input[name='q__has_unit'][value='yes']")
    page.wait_for_timeout(200)
    page.check("input[name='q__has_unit'][value='no']")
    for _ in range(100):  # both saves answered (bounded: 10 s)
        if len(saves) >= 2:
            break
        page.wait_for_timeout(100)
    wait_saved(page)
    assert saves == [200, 200]
    assert page.locator(".conflict").count() == 0
    assert stored(live_app)["has_unit"] == "no"


def _slow(page, latency: int = 800):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": latency, "downloadThroughput": -1,
                                                    "uploadThroughput": -1})


def test_a_save_that_failed_offline_is_sent_when_the_connection_is_back(page, live_app, live_server):
    """A choice made while the connection is down failed to save; it was never sent again, and the next save of
    another question made the page say "Saved" while it was lost. It is kept and sent when the connection comes
    back, and the page says "Saved" only once nothing is left unsaved."""
    (link,) = make_campaign(live_app, live_server)
    open_section_and_autosave(page, link, live_server)
    page.context.set_offline(True)
    page.check("input[name='q__has_unit'][value='yes']")
    page.wait_for_function("() => document.getElementById('save-status').className.includes('error')")
    assert "has_unit" not in stored(live_app)
    with saving(page, "has_unit"):
        page.context.set_offline(False)  # the browser's "online" event
    wait_saved(page)
    assert stored(live_app)["has_unit"] == "yes"


def test_a_failed_save_does_not_let_a_later_one_say_saved(page, live_app, live_server):
    (link,) = make_campaign(live_app, live_server)
    open_section_and_autosave(page, link, live_server)
    page.route("**/respondent/autosave", lambda route: route.fulfill(status=502, body="Bad gateway"))
    page.check("input[name='q__has_unit'][value='yes']")
    page.wait_for_function("() => document.getElementById('save-status').className.includes('error')")
    page.unroute("**/respondent/autosave")
    # the failed one is sent again after the next save that works
    with saving(page, "has_unit"), saving(page, "staff_total"):
        page.fill("#q__staff_total", "20")
        page.locator("#q__staff_total").blur()
    wait_saved(page)
    assert {k: v for k, v in stored(live_app).items() if k in ("staff_total", "has_unit")} == {
        "staff_total": 20, "has_unit": "yes"}


def _typed_while_a_save_is_on_its_way(page, live_app, live_server, saved: str, typed: str) -> None:
    """On a slow connection (800 ms each way): the staff total's background save of `saved` sent, then `typed`
    typed into the field while that save is on its way."""
    (link,) = make_campaign(live_app, live_server)
    open_section_and_autosave(page, link, live_server)
    _slow(page)
    with page.expect_request(lambda r: r.url.endswith("/respondent/autosave")):
        page.fill("#q__staff_total", saved)
        page.locator("#q__staff_total").blur()
    page.fill("#q__staff_total", typed)


def test_next_while_a_background_save_is_on_its_way_waits_for_it(page, live_app, live_server):
    """On a slow connection, "Next" pressed while the background save of the same answer was on its way sent the
    page with the version before that save, and the person's own save was refused as someone else's change."""
    _typed_while_a_save_is_on_its_way(page, live_app, live_server, "30", "31")
    page.check("input[name='q__has_unit'][value='no']")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/respondent/sections/2", timeout=15000)
    assert "someone else changed this answer" not in page.content()
    assert stored(live_app)["staff_total"] == 31


def test_switching_the_language_while_a_save_is_on_its_way_keeps_the_newest_text(page, live_app, live_server):
    _typed_while_a_save_is_on_its_way(page, live_app, live_server, "40", "41")
    page.locator(".language-menu button[value=ru]").click()
    page.wait_for_function("() => document.documentElement.lang === 'ru'", timeout=15000)
    assert page.input_value("#q__staff_total") == "41"
    assert stored(live_app)["staff_total"] == 41


def test_a_message_shown_with_the_page_goes_once_the_answer_is_saved(page, live_app, live_server):
    """A value refused by Save comes back with its message, aria-invalid and a line in the summary; correcting it
    in the background left all three on the page beside "Saved"."""
    (link,) = make_campaign(live_app, live_server)
    open_section_and_autosave(page, link, live_server)
    page.route("**/respondent/autosave", lambda route: route.abort())  # the page's Save, not the background
    page.fill("#q__staff_total", "abc")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state()
    page.unroute("**/respondent/autosave")
    assert page.locator("#error-staff_total").count() == 1
    assert page.get_attribute("#q__staff_total", "aria-invalid") == "true"
    with saving(page, "staff_total"):
        page.fill("#q__staff_total", "15")
        page.locator("#q__staff_total").blur()
    wait_saved(page)
    assert page.locator("#error-staff_total").count() == 0
    assert page.get_attribute("#q__staff_total", "aria-invalid") is None
    assert page.locator("#error-summary").count() == 0
    assert stored(live_app)["staff_total"] == 15


def test_the_printable_copy_fits_a_phone_screen(browser, live_app, live_server):
    """At 360 pixels the print view's matrix made the whole page scroll sideways; it now scrolls in its own box,
    and the page itself fits the screen."""
    (link,) = make_campaign(live_app, live_server)
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    try:
        page.goto(link)
        page.goto(live_server + "/respondent/print")
        assert page.locator("table.matrix").count() == 1
        width = page.evaluate("() => [document.documentElement.clientWidth, document.documentElement.scrollWidth]")
        assert width[1] <= width[0], width
    finally:
        context.close()


def test_switching_the_language_with_an_answer_still_unsaved_asks_first(page, live_app, live_server):
    """The save of a choice keeps failing (the server answers 502): switching the language would reload the page
    without it. The page tries it once more, then the browser asks before leaving; staying keeps the choice."""
    (link,) = make_campaign(live_app, live_server)
    open_section_and_autosave(page, link, live_server)
    page.route("**/respondent/autosave", lambda route: route.fulfill(status=502, body="Bad gateway"))
    page.check("input[name='q__has_unit'][value='yes']")
    page.wait_for_function("() => document.getElementById('save-status').className.includes('error')")
    asked = []

    def stay(dialog):
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    with page.expect_request(lambda r: r.url.endswith("/respondent/autosave")):  # tried once more first
        page.locator(".language-menu button[value=ru]").click()
    page.wait_for_timeout(1500)
    assert asked == ["beforeunload"]
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.is_checked("input[name='q__has_unit'][value='yes']")
    assert "has_unit" not in stored(live_app)
