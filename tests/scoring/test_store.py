"""The materialized scores against the pure engine, on the real databases (SQLite and PostgreSQL).

`flask scores rebuild` reads the answers packed per response by the database and scores each distinct
stored value once; the incremental path scores one response from its decoded answers. Both must give what
the item-by-item reference of the engine gives, to the last bit, for many varied responses: skip logic with
stale answers of hidden questions, "not applicable" / "don't know", JSON null, matrices, multiple choice,
numbers, Cyrillic free text and values that need JSON escaping.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
FILES = [ROOT / "questionnaires" / "ct-capacity-needs-assessment.yaml",
         ROOT / "tests" / "data" / "scoring_questionnaire.yaml"]
TODAY = date(2026, 11, 29)


def _varied_answers(definition, rng: random.Random) -> dict:
    from app.demo.answers import generate_answers

    values = generate_answers(definition, rng, completeness=rng.choice([0.0, 0.3, 0.7, 1.0]), today=TODAY)
    # Another agency's full answers: copying some where this one has none leaves stale answers to questions
    # that skip logic hides for this one.
    other = generate_answers(definition, random.Random(rng.random()), completeness=1.0, today=TODAY)
    for _section, question in definition.questions():
        roll = rng.random()
        specials = [s for s in ("not_applicable", "dont_know") if getattr(question, s, False)]
        if roll < 0.08 and specials:
            values[question.id] = rng.choice(specials)
        elif roll < 0.3 and question.id not in values and question.id in other:
            values[question.id] = other[question.id]
        elif roll < 0.32:
            values[question.id] = None  # stored as JSON null
        elif roll < 0.4 and question.type == "text":
            values[question.id] = 'Отдел "Альфа"\n\ttab \u001e\u001f | ; , \\ end'
    return values


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_rebuild_and_incremental_scores_equal_the_engine(app_ctx, make_agency, monkeypatch, path):
    from app.campaigns.models import Campaign
    from app.extensions import db
    from app.questionnaires.loader import load_file
    from app.questionnaires.services import definition_of, get_version, store_definition
    from app.responses.models import Answer, Response
    from app.responses.services import answer_values
    from app.scoring import engine, store
    from app.scoring.models import ResponseAreaScore, ResponseScore

    outcome = store_definition(load_file(path).definition, source=str(path))
    version = get_version(outcome.slug, outcome.number)
    definition = definition_of(version)
    campaign = Campaign(name="Store test", version_id=version.id, status="open", target_overrides={})
    db.session.add(campaign)
    db.session.flush()
    rng = random.Random(11)
    responses = []
    for n in range(36):
        agency = make_agency(["KZ", "KG", "TJ"][n % 3], f"AG{n}")
        campaign.agencies.append(agency)
        status = "submitted" if n % 6 else "in_progress"  # in-progress responses have no scores
        response = Response(campaign=campaign, agency=agency, version_id=version.id, status=status, row_version=1)
        db.session.add(response)
        db.session.flush()
        for question_id, value in _varied_answers(definition, rng).items():
            db.session.add(Answer(response_id=response.id, question_id=question_id, value=value))
        responses.append(response)
    db.session.commit()

    for response in responses:
        store.response_changed(response, TODAY)
    db.session.commit()

    def stored() -> tuple[dict, list]:
        rows = db.session.execute(select(ResponseScore.response_id, ResponseScore.indicator_id, ResponseScore.level,
                                         ResponseScore.coverage, ResponseScore.answered_weight,
                                         ResponseScore.total_weight)).all()
        by_response: dict[int, dict] = {}
        for response_id, indicator_id, *figures in rows:
            by_response.setdefault(response_id, {})[indicator_id] = engine.IndicatorScore(*figures)
        areas = sorted(tuple(r) for r in db.session.execute(select(
            ResponseAreaScore.response_id, ResponseAreaScore.area_id, ResponseAreaScore.level,
            ResponseAreaScore.coverage)))
        db.session.rollback()
        return by_response, areas

    incremental, incremental_areas = stored()
    scored = [r for r in responses if r.status == "submitted"]
    assert set(incremental) == {r.id for r in scored}
    hidden_seen = set()
    for response in scored:
        values = answer_values(response)
        expected = engine.reference_response_scores(definition, values, TODAY)
        assert incremental[response.id] == expected, response.id
        hidden_seen |= {item.status for item in engine.scoring_items(definition, values, TODAY)}
    db.session.rollback()
    # The generated responses do exercise every kind of item the engine knows.
    assert {"level", "hidden", "empty", "not_applicable"} <= hidden_seen

    counts = store.rebuild(campaign.id, TODAY)
    db.session.commit()
    assert counts == {"campaigns": 1, "responses": len(scored), "countries": 3}
    assert stored() == (incremental, incremental_areas)
    # The same when the remembered answers are forgotten every few answers (the bound on memory).
    monkeypatch.setattr(store._Scorer, "MEMO_LIMIT", 7)
    store.rebuild(campaign.id, TODAY)
    db.session.commit()
    assert stored() == (incremental, incremental_areas)
