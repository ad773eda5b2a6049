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
from sqlalchemy import delete, insert, select, update

ROOT = Path(__file__).resolve().parents[2]
FILES = [ROOT / "questionnaires" / "ct-capacity-needs-assessment.yaml",
         ROOT / "tests" / "data" / "scoring_questionnaire.yaml",
         ROOT / "tests" / "data" / "chained_questionnaire.yaml"]  # rules reading answers other rules hide
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

    # Stored scores damaged every way a rebuild must repair: levels lost and levels invented (NULL against a
    # value both ways), rows missing, rows of a response that is not scored and of an indicator that does not
    # exist. A second campaign's scores stay as they are.
    other_campaign = Campaign(name="Other", version_id=version.id, status="open", target_overrides={})
    db.session.add(other_campaign)
    db.session.flush()
    elsewhere = Response(campaign=other_campaign, agency=responses[1].agency, version_id=version.id,
                         status="submitted", row_version=1)
    db.session.add(elsewhere)
    db.session.flush()
    store.response_changed(elsewhere, TODAY)
    db.session.commit()
    before_rebuild = stored()
    elsewhere_scores = before_rebuild[0].pop(elsewhere.id)
    elsewhere_areas = [row for row in before_rebuild[1] if row[0] == elsewhere.id]
    assert len(elsewhere_scores) == len(list(definition.indicators())) and elsewhere_areas
    unscored = next(r for r in responses if r.status != "submitted")
    with_level = next(r for r in scored if any(s.level is not None for s in incremental[r.id].values()))
    without_level = next(r for r in scored if r is not with_level and any(
        s.level is None for s in incremental[r.id].values()))
    damage = [
        update(ResponseScore).where(ResponseScore.response_id == with_level.id, ResponseScore.level.is_not(None))
        .values(level=None),
        update(ResponseScore).where(ResponseScore.response_id == without_level.id, ResponseScore.level.is_(None))
        .values(level=9.0, coverage=None),
        update(ResponseScore).where(ResponseScore.response_id == scored[2].id)
        .values(total_weight=ResponseScore.total_weight + 1),
        delete(ResponseScore).where(ResponseScore.response_id == scored[3].id),
        delete(ResponseAreaScore).where(ResponseAreaScore.response_id == scored[4].id),
        update(ResponseAreaScore).where(ResponseAreaScore.response_id == scored[5].id).values(level=-1.0),
        insert(ResponseScore).values(response_id=unscored.id, indicator_id="stray", level=1.0, coverage=1.0,
                                     answered_weight=1.0, total_weight=1.0),
        insert(ResponseScore).values(response_id=scored[6].id, indicator_id="gone", level=1.0, coverage=1.0,
                                     answered_weight=1.0, total_weight=1.0),
        insert(ResponseAreaScore).values(response_id=unscored.id, area_id="stray", level=1.0),
    ]
    for statement in damage:
        changed = db.session.execute(statement).rowcount
        assert changed > 0 or statement.is_insert, str(statement)  # each update and delete did change something
    db.session.commit()
    store.rebuild(campaign.id, TODAY)
    db.session.commit()
    repaired, repaired_areas = stored()
    assert repaired.pop(elsewhere.id) == elsewhere_scores
    assert [row for row in repaired_areas if row[0] == elsewhere.id] == elsewhere_areas
    assert (repaired, [row for row in repaired_areas if row[0] != elsewhere.id]) == (incremental, incremental_areas)


EXTRA_SECTION = """
  - id: extra
    title: Extra
    show_if: "today() >= '2026-06-01'"
    questions:
      - id: org_note
        type: text
        label: A note
      - id: note_rule
        type: yes_no
        indicator: equipment
        show_if: "${org_note} != ''"
        label: Shown when a note was written
      - id: budget
        type: number
        indicator: equipment
        label: Share of the budget
        thresholds:
          - {at_least: 0, level: 1}
          - {at_least: 10, level: 4}
"""
NOTES = ["", 'Отдел "Альфа"\n\ttab \u001e\u001f | ; , \\ end', "x", None]
BUDGETS = [9.999999999999998, 10, 10.0, 0.1 + 0.2, 1e300, 5, -1]


def test_rebuild_edge_cases_equal_the_engine(app_ctx, make_agency, monkeypatch, tmp_path):
    """Two versions in one campaign, a rule that reads a text question (with separators and escapes in its
    answers), a rule on today(), numbers that need all 17 digits, answers to questions no version has, and
    rows written while the answers are still being read."""
    from app.campaigns.models import Campaign
    from app.extensions import db
    from app.questionnaires.loader import load_file
    from app.questionnaires.services import definition_of, get_version, store_definition
    from app.responses.models import Answer, Response
    from app.responses.services import answer_values
    from app.scoring import engine, store
    from app.scoring.models import ResponseScore

    text = (ROOT / "tests" / "data" / "scoring_questionnaire.yaml").read_text(encoding="utf-8") + EXTRA_SECTION
    versions = []
    for n, source in enumerate((text, text.replace("weight: 0.5", "weight: 1.5"))):
        path = tmp_path / f"v{n}.yaml"
        path.write_text(source, encoding="utf-8")
        result = load_file(path)
        assert result.definition is not None, result.problems
        outcome = store_definition(result.definition, source=str(path))
        versions.append(get_version(outcome.slug, outcome.number))
    assert versions[0].id != versions[1].id
    campaign = Campaign(name="Edge cases", version_id=versions[0].id, status="open", target_overrides={})
    db.session.add(campaign)
    db.session.flush()
    rng = random.Random(5)
    responses = []
    for n in range(28):
        agency = make_agency(["KZ", "UZ"][n % 2], f"EA{n}")
        campaign.agencies.append(agency)
        version = versions[n % 2]
        response = Response(campaign=campaign, agency=agency, version_id=version.id, status="submitted",
                            row_version=1)
        db.session.add(response)
        db.session.flush()
        values = _varied_answers(definition_of(version), rng)
        values.update({"org_note": NOTES[n % len(NOTES)], "budget": BUDGETS[n % len(BUDGETS)],
                       "note_rule": rng.choice(["yes", "no"]), "ghost": "yes", "ghost_list": ["a", "b"]})
        for question_id, value in values.items():
            db.session.add(Answer(response_id=response.id, question_id=question_id, value=value))
        responses.append(response)
    db.session.commit()

    def stored() -> dict:
        rows = db.session.execute(select(ResponseScore.response_id, ResponseScore.indicator_id, ResponseScore.level,
                                         ResponseScore.coverage, ResponseScore.answered_weight,
                                         ResponseScore.total_weight)).all()
        db.session.rollback()
        return {(r[0], r[1]): tuple(r[2:]) for r in rows}

    for today in (TODAY, date(2026, 1, 15)):  # the extra section is shown on the first day, hidden on the second
        for response in responses:
            store.response_changed(response, today)
        db.session.commit()
        incremental = stored()
        for response in responses:
            definition = definition_of(response.version)
            values = answer_values(response)
            for indicator_id, score in engine.reference_response_scores(definition, values, today).items():
                assert incremental[(response.id, indicator_id)] == tuple(score), (response.id, indicator_id)
        db.session.rollback()
        monkeypatch.setattr(store, "_FETCH", 3)
        monkeypatch.setattr(store, "_WRITE_EVERY", 5)
        store.rebuild(campaign.id, today)
        db.session.commit()
        assert stored() == incremental
    # The number just below the threshold kept all its digits: level 1 there, 4 at exactly 10.
    below = [r for n, r in enumerate(responses) if BUDGETS[n % len(BUDGETS)] == 9.999999999999998]
    assert below and all(answer_values(r)["budget"] == 9.999999999999998 for r in below)


def test_rebuild_keeps_what_the_incremental_path_keeps(app_ctx, make_agency, make_version):
    """Country figures exist for the country of every response, even one not counted (in progress) of an
    agency since taken out of the campaign; and score objects already loaded in the session are not
    served stale after a rebuild rewrote their rows."""
    from app.campaigns.models import Campaign
    from app.extensions import db
    from app.responses.models import Answer, Response
    from app.scoring import store
    from app.scoring.models import CountryScore, ResponseScore

    version = make_version(ROOT / "tests" / "data" / "scoring_questionnaire.yaml")
    campaign = Campaign(name="Kept", version_id=version.id, status="open", target_overrides={})
    kz, tj = make_agency("KZ", "AFM"), make_agency("TJ", "MVD")
    campaign.agencies.extend([kz, tj])
    db.session.add(campaign)
    db.session.flush()
    submitted = Response(campaign=campaign, agency=kz, version_id=version.id, status="submitted", row_version=1)
    started = Response(campaign=campaign, agency=tj, version_id=version.id, status="in_progress", row_version=1)
    db.session.add_all([submitted, started])
    db.session.flush()
    db.session.add(Answer(response_id=submitted.id, question_id="equipment_state", value=4))
    db.session.commit()
    for response in (submitted, started):
        store.response_changed(response)
    campaign.agencies.remove(tj)
    db.session.commit()

    def countries() -> set[str]:
        found = {score.country_id for score in db.session.scalars(select(CountryScore))}
        db.session.rollback()
        return found

    before = countries()
    assert before == {kz.country_id, tj.country_id}
    loaded = db.session.get(ResponseScore, (submitted.id, "equipment"))
    assert loaded.level == 4.0
    db.session.execute(Answer.__table__.update().where(Answer.response_id == submitted.id).values(value=1))
    store.rebuild(campaign.id)
    assert db.session.get(ResponseScore, (submitted.id, "equipment")).level == 1.0
    db.session.commit()
    assert countries() == before


def test_editing_a_campaign_keeps_the_country_figures_in_step(app_ctx, make_agency, make_version):
    """A new target for a country changes its stored targets and gaps at once (not only after a rebuild); an
    agency that answered cannot be taken out; taking out one that did not, or adding one, updates the figures
    of its country; every time the stored figures equal what `flask scores rebuild` gives."""
    from app.campaigns import services as campaigns
    from app.extensions import db
    from app.responses.models import Answer, Response
    from app.scoring import store
    from app.scoring.models import CountryAreaScore, CountryScore

    version = make_version(ROOT / "tests" / "data" / "scoring_questionnaire.yaml")
    mvd, afm, kg = make_agency("KZ", "MVD"), make_agency("KZ", "AFM"), make_agency("KG", "MVD")
    campaign = campaigns.create_campaign("Edited", version, agencies=[mvd, afm])
    campaigns.set_status(campaign, "open")
    response = Response(campaign=campaign, agency=mvd, version_id=version.id, status="submitted", row_version=1)
    db.session.add(response)
    db.session.flush()
    db.session.add(Answer(response_id=response.id, question_id="equipment_state", value=2))
    db.session.flush()
    store.response_changed(response)
    db.session.commit()

    def figures() -> dict:
        rows = {(r.country_id, r.indicator_id): (r.target, r.gap, r.priority, r.agencies)
                for r in db.session.scalars(select(CountryScore).where(CountryScore.campaign_id == campaign.id))}
        rows |= {(r.country_id, r.area_id): (r.target, r.gap) for r in db.session.scalars(
            select(CountryAreaScore).where(CountryAreaScore.campaign_id == campaign.id))}
        return rows

    def same_as_rebuild() -> dict:
        kept = figures()
        store.rebuild(campaign.id)
        assert figures() == kept
        db.session.rollback()
        return kept

    def edit(agencies, targets=None):
        campaigns.update_campaign(campaign, name=campaign.name, version=version, agencies=agencies,
                                  opens_on=None, deadline=None, target_overrides=targets)
        db.session.commit()

    before = same_as_rebuild()
    default_target = before[(mvd.country_id, "equipment")][0]
    edit([mvd, afm], {"KZ": {"equipment": 4}})
    after = same_as_rebuild()
    assert default_target != 4 and after[(mvd.country_id, "equipment")][0] == 4
    assert after[(mvd.country_id, "equipment")][1] == 4 - 2  # gap = target - level, at once

    with pytest.raises(campaigns.CampaignError, match="KZ/MVD already answered"):
        edit([afm], {"KZ": {"equipment": 4}})
    db.session.rollback()
    edit([mvd, afm, kg], {"KZ": {"equipment": 4}})
    assert {country for country, _key in same_as_rebuild()} == {mvd.country_id, kg.country_id}
    edit([mvd], {"KZ": {"equipment": 4}})
    assert {country for country, _key in same_as_rebuild()} == {mvd.country_id}
    assert same_as_rebuild()[(mvd.country_id, "equipment")][3] == 1  # one agency asked in KZ now

    # A country whose only response is of an agency no longer asked (it opened its link, then was taken out)
    # keeps its figures; a new target for it changes them at once, as a rebuild does (it waited for a rebuild).
    edit([mvd, kg], {"KZ": {"equipment": 4}})
    db.session.add(Response(campaign=campaign, agency=kg, version_id=version.id, status="not_started",
                            row_version=1))
    db.session.commit()
    edit([mvd], {"KZ": {"equipment": 4}})
    assert kg.country_id in {country for country, _key in same_as_rebuild()}
    edit([mvd], {"KZ": {"equipment": 4}, "KG": {"equipment": 1}})
    assert same_as_rebuild()[(kg.country_id, "equipment")][0] == 1


def test_a_new_campaign_has_each_country_target_before_any_submission(app_ctx, make_agency, make_version):
    """A campaign created for KZ and TJ shows their targets (the campaign's override for TJ) and "no level"
    before anybody answers, exactly what `flask scores rebuild` writes; changing its questionnaire version
    while a draft rewrites them. Before, a country had no figures until its first submission, and a rebuild
    then changed them."""
    from app.campaigns import services as campaigns
    from app.extensions import db
    from app.scoring import store
    from app.scoring.models import CountryAreaScore, CountryScore

    version = make_version(ROOT / "tests" / "data" / "scoring_questionnaire.yaml")
    kz, tj = make_agency("KZ", "MVD"), make_agency("TJ", "MVD")
    indicator = version.definition["areas"][0]["indicators"][0]["id"]
    campaign = campaigns.create_campaign("New", version, agencies=[kz, tj],
                                         target_overrides={"TJ": {indicator: 1}})
    db.session.commit()

    def figures() -> tuple:
        rows = sorted((r.country_id, r.indicator_id, r.target, r.gap, r.self_assessed, r.agencies)
                      for r in db.session.scalars(select(CountryScore).where(CountryScore.campaign_id == campaign.id)))
        areas = sorted((r.country_id, r.area_id, r.target) for r in db.session.scalars(
            select(CountryAreaScore).where(CountryAreaScore.campaign_id == campaign.id)))
        db.session.rollback()
        return rows, areas

    created = figures()
    targets = {(country, ind): target for country, ind, target, _gap, _level, _n in created[0]}
    assert {country for country, _ind in targets} == {kz.country_id, tj.country_id}
    assert targets[(tj.country_id, indicator)] == 1
    assert targets[(kz.country_id, indicator)] == indicator_default(version, indicator)
    assert all(level is None and gap is None and agencies == 0 for *_x, gap, level, agencies in created[0])
    store.rebuild(campaign.id)
    db.session.commit()
    assert figures() == created

    campaigns.update_campaign(campaign, name="New", version=version, agencies=[kz, tj], opens_on=None, deadline=None)
    db.session.commit()
    other = make_version(ROOT / "tests" / "data" / "chained_questionnaire.yaml")
    campaigns.update_campaign(campaign, name="New", version=other, agencies=[kz, tj], opens_on=None, deadline=None)
    db.session.commit()
    changed = figures()
    assert {ind for _c, ind, *_rest in changed[0]} == {i["id"] for a in other.definition["areas"]
                                                      for i in a["indicators"]}
    store.rebuild(campaign.id)
    db.session.commit()
    assert figures() == changed


def indicator_default(version, indicator_id: str) -> float:
    return next(i["target"] for a in version.definition["areas"] for i in a["indicators"] if i["id"] == indicator_id)
