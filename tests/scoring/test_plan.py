"""The compiled scoring plan gives exactly what the item-by-item reference gives, on many generated responses
of the demo questionnaire and the test questionnaires (skip logic, specials, partial answers, matrices)."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

from app.demo.answers import generate_answers
from app.questionnaires.loader import load_file
from app.scoring import engine

ROOT = Path(__file__).resolve().parents[2]
FILES = [ROOT / "questionnaires" / "ct-capacity-needs-assessment.yaml", ROOT / "tests" / "data" /
         "scoring_questionnaire.yaml", ROOT / "tests" / "data" / "small_questionnaire.yaml",
         ROOT / "tests" / "data" / "chained_questionnaire.yaml"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_plan_equals_the_reference(path):
    definition = load_file(path).definition
    assert definition is not None
    today = date(2026, 11, 29)
    compared = 0
    for seed in range(40):
        rng = random.Random(seed)
        values = generate_answers(definition, rng, completeness=rng.choice([0.2, 0.6, 1.0]), today=today)
        # Special answers, and stale answers of questions hidden by skip logic, must be treated alike by both.
        for _section, question in list(definition.questions())[seed % 7::9]:
            allowed = [s for s in ("not_applicable", "dont_know") if getattr(question, s, False)]
            if question.id not in values and allowed:
                values[question.id] = rng.choice(allowed)
            elif question.id not in values and question.type == "scale":
                values[question.id] = definition.scale[-1].level
        assert engine.response_scores(definition, values, today) == \
            engine.reference_response_scores(definition, values, today)
        compared += 1
    assert compared == 40


def test_a_rule_on_a_hidden_questions_answer_reads_it_as_empty():
    """Chained skip logic, counted by hand (tests/data/chained_questionnaire.yaml): no dedicated unit, so the unit's
    size is hidden; its stale answer "large" must not show the training section, whose stale answers would
    otherwise give training a level of 2 (one of two scored choices on a 0-4 scale)."""
    definition = load_file(FILES[-1]).definition
    stale = {"ct_mandate": "yes", "has_unit": "no", "unit_size": "large", "unit_trained": ["forensics", "other"],
             "trained_other": "Languages"}
    for scores in (engine.response_scores(definition, stale), engine.reference_response_scores(definition, stale)):
        assert scores["unit"] == engine.IndicatorScore(level=0.0, coverage=1.0, answered_weight=1.0, total_weight=1.0)
        assert scores["training"] == engine.IndicatorScore(None, None, 0.0, 0.0)  # the whole section is skipped
    plan = engine.plan_for(definition)
    assert plan.hidden(stale) == {"unit_size", "unit_trained"}
    # The same through the remembered outcomes the rebuild uses (stored forms: the JSON texts).
    stored = {key: repr(value) for key, value in stale.items()}
    assert plan.hidden(stale, stored=stored) == plan.hidden(stale, stored=stored) == {"unit_size", "unit_trained"}
    shown = dict(stale, has_unit="partly")
    assert engine.response_scores(definition, shown)["training"].level == 2.0
    assert engine.response_scores(definition, shown) == engine.reference_response_scores(definition, shown)
