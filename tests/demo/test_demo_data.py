"""The demo directory data and the demo answer generator (pure: no app, no database)."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import date

import pytest
from email_validator import validate_email

from app.demo.answers import generate_answers
from app.demo.directory_data import AGENCIES
from app.directory.models import AGENCY_TYPES
from app.questionnaires import expressions
from app.questionnaires.loader import load_file
from app.questionnaires.qtypes import REGISTRY, is_special
from app.questionnaires.rendering import is_visible
from app.responses.progress import required_progress
from tests.conftest import ROOT

COUNTRIES = {"KZ": "+7 ", "KG": "+996 ", "TJ": "+992 ", "TM": "+993 ", "UZ": "+998 "}
TODAY = date(2026, 3, 1)
SEEDS = range(8)


@pytest.fixture(scope="module")
def definition():
    result = load_file(ROOT / "questionnaires" / "ct-capacity-needs-assessment.yaml")
    assert result.definition is not None, result.problems
    return result.definition


# ---------------------------------------------------------------- directory

def contacts():
    return [contact for agency in AGENCIES for contact in agency["contacts"]]


def test_every_country_has_four_to_six_agencies_and_one_regional_body():
    per_country = Counter(agency["country"] for agency in AGENCIES)
    assert set(per_country) == set(COUNTRIES) | {None}
    assert all(4 <= per_country[code] <= 6 for code in COUNTRIES)
    regional = [agency for agency in AGENCIES if agency["country"] is None]
    assert len(regional) == 1
    assert regional[0]["kind"] == "regional"
    assert regional[0]["acronym"] == "RATS SCO"


@pytest.mark.parametrize("agency", AGENCIES, ids=lambda a: f"{a['country'] or '--'}/{a['acronym']}")
def test_agency_fields(agency):
    assert agency["kind"] in AGENCY_TYPES
    assert re.fullmatch(r"[A-Za-z][A-Za-z ]*[A-Za-z]", agency["acronym"])
    assert agency["names"]["en"].strip() and agency["names"]["ru"].strip()
    assert re.search(r"[А-Яа-яЁё]", agency["names"]["ru"])
    assert 1 <= len(agency["contacts"]) <= 3
    assert sum(1 for contact in agency["contacts"] if contact["is_focal_point"]) == 1
    for contact in agency["contacts"]:
        assert set(contact) == {"name", "position", "email", "phone", "locale", "is_focal_point"}
        assert contact["name"].strip() and contact["position"].strip()
        assert contact["locale"] in ("ru", "en")
        assert re.fullmatch(r"\+\d{1,3}( \d{2,4})+", contact["phone"])
        if agency["country"]:
            assert contact["phone"].startswith(COUNTRIES[agency["country"]])


def test_acronyms_are_unique_within_a_country():
    keys = [(agency["country"], agency["acronym"]) for agency in AGENCIES]
    assert len(keys) == len(set(keys))


def test_emails_are_valid_unique_and_on_example_domains_only():
    normalised = []
    for contact in contacts():
        result = validate_email(contact["email"], check_deliverability=False)
        assert result.normalized == contact["email"]
        domain = result.domain.lower()
        assert domain == "example.org" or domain.endswith((".example", ".example.org")), contact["email"]
        normalised.append(result.normalized.lower())
    assert len(normalised) == len(set(normalised))


def test_unusual_addresses_are_shown():
    emails = [contact["email"] for contact in contacts()]
    assert any("+" in email.split("@")[0] for email in emails)
    assert any(re.search(r"[а-яё]", email.split("@")[0]) for email in emails)


def test_some_contacts_use_english():
    assert 0 < sum(1 for contact in contacts() if contact["locale"] == "en") < len(contacts()) / 2


# ---------------------------------------------------------------- answers

def visible(definition, answers):
    """Question ids visible under the answers."""
    return {question.id for section, question in definition.questions()
            if is_visible(section.show_if, answers, TODAY) and is_visible(question.show_if, answers, TODAY)}


@pytest.mark.parametrize("seed", SEEDS)
def test_complete_answers_are_valid_and_answer_every_required_question(definition, seed):
    answers = generate_answers(definition, random.Random(seed), completeness=1.0, today=TODAY)
    total, answered = required_progress(definition, answers, today=TODAY)
    assert total > 0
    assert (total, answered) == (total, total)
    assert set(answers) <= visible(definition, answers), "an answer to a hidden question"
    for question_id, value in answers.items():
        question = definition.question(question_id)
        assert question.type not in ("note", "file")
        qtype = REGISTRY[question.type]
        assert not qtype.is_empty(question, value)
        assert qtype.normalise(question, value, definition=definition, today=TODAY) == value
        if question.constraint and not is_special(value):
            tree = expressions.parse(question.constraint)
            assert expressions.truthy(expressions.evaluate(tree, answers, current=value, today=TODAY)), question_id


def test_complete_answers_answer_every_visible_question(definition):
    answers = generate_answers(definition, random.Random(3), today=TODAY)
    answerable = {question.id for _section, question in definition.questions()
                  if question.type not in ("note", "file")}
    assert visible(definition, answers) & answerable == set(answers)


def test_same_seed_same_answers(definition):
    first = generate_answers(definition, random.Random(42), completeness=0.6, today=TODAY)
    second = generate_answers(definition, random.Random(42), completeness=0.6, today=TODAY)
    assert first == second
    assert first != generate_answers(definition, random.Random(43), completeness=0.6, today=TODAY)


@pytest.mark.parametrize("seed", SEEDS)
def test_lower_completeness_gives_fewer_answers(definition, seed):
    full = generate_answers(definition, random.Random(seed), completeness=1.0, today=TODAY)
    partial = generate_answers(definition, random.Random(seed), completeness=0.3, today=TODAY)
    assert 0 < len(partial) < len(full)
    assert set(partial) <= visible(definition, partial)
    total, answered = required_progress(definition, partial, today=TODAY)
    assert answered < total
    assert generate_answers(definition, random.Random(seed), completeness=0.0, today=TODAY) == {}


def test_ratings_lean_towards_the_lower_middle_and_specials_are_rare(definition):
    levels, specials, answered = [], 0, 0
    for seed in range(30):
        answers = generate_answers(definition, random.Random(seed), today=TODAY)
        for question_id, value in answers.items():
            question = definition.question(question_id)
            answered += 1
            specials += is_special(value)
            if question.type == "scale" and not is_special(value):
                levels.append(value)
    assert levels
    assert 1 <= sum(levels) / len(levels) <= 2.5
    assert 0 < specials < answered * 0.1


def test_fixed_answers_are_kept_and_drive_the_rules(definition):
    answers = generate_answers(definition, random.Random(5), today=TODAY,
                               fixed={"agency_type": "fiu", "agency_country": "kz"})
    assert answers["agency_type"] == "fiu" and answers["agency_country"] == "kz"
    assert "fiu_str_analysis" in answers
    assert "cft_fiu_exchange" not in answers
    assert required_progress(definition, answers, today=TODAY)[1] == required_progress(definition, answers,
                                                                                       today=TODAY)[0]


def test_text_answers_are_in_the_default_language(definition):
    answers = generate_answers(definition, random.Random(7), today=TODAY)
    assert definition.default_language == "ru"
    assert re.search(r"[А-Яа-яЁё]", answers["agency_mandate"])
    assert re.search(r"[А-Яа-яЁё]", answers["priority_need_1"])
