"""The staff preview shows the demo questionnaire in both languages with skip logic working."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import browser_sign_in

pytestmark = pytest.mark.e2e


def _section_index(definition, question_id: str) -> int:
    for index, section in enumerate(definition.sections, start=1):
        if any(q.id == question_id for q in section.questions):
            return index
    raise AssertionError(question_id)


@pytest.mark.parametrize("lang, yes, no", [("ru", "Да", "Нет"), ("en", "Yes", "No")])
def test_preview_skip_logic_in_both_languages(page, live_app, live_server, lang, yes, no):
    from app.demo.seed import DEMO_PASSWORD
    from app.questionnaires import services

    with live_app.app_context():
        version = services.get_version("ct-capacity-needs-assessment")
        definition = services.definition_of(version)
        dependants = [q.id for _s, q in definition.questions() if q.show_if and "${has_ct_unit}" in q.show_if]
        index = _section_index(definition, "has_ct_unit")
        label = definition.text(definition.question("has_ct_unit").label, lang)
    assert len(dependants) >= 3
    browser_sign_in(page, live_server, "staff@example.org", DEMO_PASSWORD)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/admin/questionnaires/ct-capacity-needs-assessment/v{version.number}/preview"
              f"?section={index}&lang={lang}")
    assert page.locator("html").get_attribute("lang") in ("en", "ru")
    assert page.get_by_text(label).count() >= 1
    box = page.locator("#question-has_ct_unit")
    box.get_by_label(no, exact=True).check()
    for question_id in dependants:
        if _section_index(definition, question_id) == index:
            assert page.locator(f"#question-{question_id}").is_hidden(), question_id
    box.get_by_label(yes, exact=True).check()
    for question_id in dependants:
        if _section_index(definition, question_id) == index:
            assert page.locator(f"#question-{question_id}").is_visible(), question_id
    assert errors == []


def test_every_section_fits_a_375_pixel_phone(browser, live_app, live_server):
    """No section of the demo questionnaire (matrix tables included) makes the page wider than a phone's screen:
    wide tables scroll inside their own box."""
    from app.demo.seed import DEMO_PASSWORD
    from app.questionnaires import services

    with live_app.app_context():
        version = services.get_version("ct-capacity-needs-assessment")
        definition = services.definition_of(version)
        sections = len(definition.sections)
        with_matrix = [n for n, s in enumerate(definition.sections, start=1) if any(q.type == "matrix"
                                                                                    for q in s.questions)]
    assert with_matrix
    context = browser.new_context(viewport={"width": 375, "height": 800})
    try:
        page = context.new_page()
        browser_sign_in(page, live_server, "staff@example.org", DEMO_PASSWORD)
        for number in range(1, sections + 1):
            page.goto(f"{live_server}/admin/questionnaires/ct-capacity-needs-assessment/v{version.number}/preview"
                      f"?section={number}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, (number, width)
    finally:
        context.close()


def test_a_question_hidden_hides_the_questions_that_depend_on_its_answer(page, live_app, live_server):
    """The training survey: "Partly" used what was learned shows the obstacles; "Other" ticked there shows "specify
    the other obstacles" (required). Then "Yes": the obstacles go, and with them "specify the other", although
    "Other" is still ticked in the hidden question (as XLSForm/ODK read it; the page kept it shown, required,
    and out of reach of the tick that would have hidden it)."""
    from app.demo.seed import DEMO_PASSWORD
    from app.questionnaires import services

    with live_app.app_context():
        version = services.get_version("training-needs-survey")
        definition = services.definition_of(version)
        index = _section_index(definition, "barriers")
    assert _section_index(definition, "barriers_other") == _section_index(definition, "applied") == index
    browser_sign_in(page, live_server, "staff@example.org", DEMO_PASSWORD)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/admin/questionnaires/training-needs-survey/v{version.number}/preview"
              f"?section={index}&lang=en")
    applied, barriers, other = (page.locator(f"#question-{q}") for q in ("applied", "barriers", "barriers_other"))
    applied.get_by_label("Partly", exact=True).check()
    barriers.get_by_label("Other", exact=True).check()
    assert barriers.is_visible() and other.is_visible()
    applied.get_by_label("Yes", exact=True).check()
    assert barriers.is_hidden() and other.is_hidden()
    assert other.get_attribute("aria-hidden") == "true"
    applied.get_by_label("Partly", exact=True).check()  # back: "Other" is still ticked, so both come back
    assert barriers.is_visible() and other.is_visible()
    assert errors == []
