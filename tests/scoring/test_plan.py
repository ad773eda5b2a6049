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
         "scoring_questionnaire.yaml", ROOT / "tests" / "data" / "small_questionnaire.yaml"]


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
