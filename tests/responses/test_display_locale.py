"""Answers on the staff pages in the reader's notation: numbers with the locale's decimal sign and thousands
separator, dates as the rest of the interface writes them (never "9.6" or "2025-09-12" on a Russian page)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.conftest import sign_in


@pytest.fixture
def answered(db_session, make_version, make_agency, make_user):
    """A response with a total staff of 12369, a unit of 9.6 people and an answer dated 12 September 2025,
    changed once (so its history has an old and a new value); and a staff user."""
    from app.campaigns import services
    from app.responses import answering
    from app.responses.services import ensure_response

    agency = make_agency("KZ", "MVD", "interior", en="KZ Interior", ru="МВД РК")
    campaign = services.create_campaign("Round 1", make_version(), agencies=[agency])
    services.set_status(campaign, "open")
    response = ensure_response(campaign, agency)
    first = {"agency_name": "MVD", "staff_total": 1200, "answered_on": "2025-09-01", "has_ct_unit": "yes",
             "ct_unit_staff": 12.5}
    second = {"staff_total": 12369, "answered_on": "2025-09-12", "ct_unit_staff": 9.6}
    for values in (first, second):
        result = answering.save_answers(response, values, actor=None, channel="cli", lang="en",
                                        today=date(2026, 1, 15))
        assert result.ok, result.errors
    db_session.commit()
    return {"response": response.id, "staff": make_user("staff").email}


def spaced(text: str) -> str:
    """The text with the locale's no-break spaces ("12\xa0369", "2025\u202fг.") as plain spaces."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


def answers_of(html: str) -> dict[str, str]:
    """{question label: answer} of the response page."""
    return {m.group(1).strip(): spaced(m.group(2).strip())
            for m in re.finditer(r"<dt>([^<]*)</dt>\s*<dd>([^<]*)</dd>", html)}


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", {"Total number of staff": "12,369", "Staff of the unit": "9.6", "Date of the answer": "Sep 12, 2025"}),
    ("ru", {"Общая штатная численность": "12 369", "Численность подразделения": "9,6",
            "Дата заполнения": "12 сент. 2025 г."}),
])
def test_the_response_page_writes_numbers_and_dates_in_the_readers_notation(client, answered, lang, expected):
    sign_in(client, answered["staff"])
    page = client.get(f"/responses/{answered['response']}", headers={"Accept-Language": lang})
    assert page.status_code == 200
    answers = answers_of(page.get_data(as_text=True))
    for label, text in expected.items():
        assert answers[label] == text, label


def test_the_history_shows_old_and_new_values_in_russian_notation(client, answered):
    sign_in(client, answered["staff"])
    html = spaced(client.get(f"/responses/{answered['response']}/history",
                             headers={"Accept-Language": "ru"}).get_data(as_text=True))
    for old, new in (("1 200", "12 369"), ("1 сент. 2025 г.", "12 сент. 2025 г."), ("12,5", "9,6")):
        assert old in html and new in html, (old, new)
    assert "2025-09-12" not in html and "9.6" not in html and "12369" not in html


@pytest.mark.parametrize(("lang", "big", "huge"), [("en", "12,345,678,901,234", "100,000,000,000,000,000,000,000,000"),
                                                 ("ru", "12 345 678 901 234", "100 000 000 000 000 000 000 000 000")])
def test_numbers_of_14_digits_and_more_stored_before_the_limit_are_shown_in_full(client, db_session, answered, lang,
                                                                                  big, huge):
    """Numbers that large are refused now, but an answer (and its history) stored before the limit still shows,
    on every page that writes answers, instead of failing: Babel needs more than the default 28 digits for them."""
    from sqlalchemy import select

    from app.core.models import AuditEvent
    from app.responses.models import Answer

    answer = db_session.scalar(select(Answer).where(Answer.response_id == answered["response"],
                                                    Answer.question_id == "staff_total"))
    answer.value = 12345678901234
    db_session.add(AuditEvent(action="answer.changed", object_type="response", object_id=str(answered["response"]),
                              channel="web", old_value={"staff_total": 1e26},
                              new_value={"staff_total": 12345678901234}))
    db_session.commit()
    sign_in(client, answered["staff"])
    base = f"/responses/{answered['response']}"
    for path in (base, base + "/history", base + "/print", f"/review/responses/{answered['response']}"):
        page = client.get(path, headers={"Accept-Language": lang})
        assert page.status_code == 200, path
        html = spaced(page.get_data(as_text=True))
        assert spaced(big) in html, path
        if path.endswith("/history"):
            assert spaced(huge) in html


def test_choice_codes_still_find_their_labels_and_other_numbers_are_localised(app_ctx, make_version):
    """The look-up keys stay the stored codes (a level 3.0 is still "Largely in place"); a number that is no level
    is written in the reader's notation."""
    from app.i18n import force_locale
    from app.questionnaires.services import definition_of
    from app.responses.display import display

    definition = definition_of(make_version())
    matrix = definition.question("skills")
    with force_locale("ru"):
        assert display(definition, matrix, {"interviewing": 3.0, "forensics": 2.5}, "ru") == (
            "Проведение допросов: В основном обеспечено; Цифровая криминалистика: 2,5")


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", ["3", "2", "mean", "3", "1", "mean"]),
    ("ru", ["3", "2", "среднее", "3", "1", "среднее"]),
])
def test_the_version_page_names_aggregations_and_writes_targets_as_numbers(client, make_version, make_user, lang,
                                                                             expected):
    """Targets and weights as the number filter writes them ("3", not "3.0"); "mean" as the country report says."""
    version = make_version()
    sign_in(client, make_user("staff").email)
    html = client.get(f"/admin/questionnaires/{version.questionnaire.slug}/v{version.number}",
                      headers={"Accept-Language": lang}).get_data(as_text=True)
    rows = re.findall(r"<tr><td>[^<]*</td><td>[^<]*<code>[^<]*</code></td>((?:<td[^>]*>[^<]*</td>)+)</tr>", html)
    cells = [text for row in rows for text in re.findall(r"<td[^>]*>([^<]*)</td>", row)]
    assert cells == expected


@pytest.mark.parametrize(("lang", "expected"), [("en", "12.5 million tenge"), ("ru", "12,5 млн тенге")])
def test_a_number_is_shown_with_its_unit_on_every_staff_page(client, db_session, make_version, make_agency,
                                                             make_user, lang, expected):
    """The respondent typed 12.5 beside "million tenge": the staff's response page, its print view and the
    review page show the unit too (before, "12.5" alone, whose meaning depends on the unit)."""
    from app.campaigns import services
    from app.questionnaires.services import definition_of
    from app.responses import answering
    from app.responses.display import display
    from app.responses.services import ensure_response
    from tests.conftest import ROOT

    version = make_version(ROOT / "tests" / "data" / "workbook_questionnaire.yaml")
    agency = make_agency("KZ", "MVD", "interior", en="KZ Interior", ru="МВД РК")
    campaign = services.create_campaign("Round 1", version, agencies=[agency])
    services.set_status(campaign, "open")
    response = ensure_response(campaign, agency)
    assert answering.save_answers(response, {"budget": 12.5}, actor=None, channel="cli", lang="en").ok
    db_session.commit()
    sign_in(client, make_user("staff").email)
    for path in (f"/responses/{response.id}", f"/responses/{response.id}/print", f"/review/responses/{response.id}"):
        html = spaced(client.get(path + f"?lang={lang}", headers={"Accept-Language": lang}).get_data(as_text=True))
        assert expected in html, path
    definition = definition_of(version)
    budget = definition.question("budget")
    assert display(definition, budget, "dont_know", "en") == "Don't know"  # a special answer takes no unit
    percent = budget.model_copy(update={"unit": {"en": "%", "ru": "%"}})
    assert [display(definition, percent, 62, code) for code in ("en", "ru")] == ["62%", "62\xa0%"]
