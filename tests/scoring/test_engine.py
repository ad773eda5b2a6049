"""The scoring and gap engine on hand-computed cases (questionnaire: tests/data/scoring_questionnaire.yaml).

Scale 0-4. Areas and indicators (weight, target, aggregation):
  legal (area weight 2): law (1, 3, max), strategy (2, 3, mean)
  ops   (area weight 1): unit (1, 4, min), training (1, 3, mean), digital (2, 3, mean), equipment (1, 2, mean)
Scoring items (weight):
  law_status -> law (1); has_strategy -> strategy (2); strategy_plan -> strategy (1, shown after yes/partly);
  unit_functions -> unit (1); analysts -> unit (0.5);
  skills (question weight 2): documents -> training (1 x 2 = 2), interviews -> training (3 x 2 = 6),
                              forensics -> digital (own indicator: row weight 2 only);
  digital_sop -> digital (1); equipment_state, equipment_plan -> equipment (1 each);
  fiu_analysis -> training (1), in a section shown to FIUs only.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import pytest

from app.questionnaires.loader import load_file
from app.questionnaires.qtypes import REGISTRY
from app.scoring import (
    AreaScore,
    IndicatorScore,
    Rating,
    area_scores,
    country_area_scores,
    country_scores,
    country_targets,
    gap,
    latest_rating,
    priority,
    ranked_priorities,
    response_scores,
    round_score,
    scoring_items,
    weighted_mean,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "scoring_questionnaire.yaml"
INDICATORS = ["law", "strategy", "unit", "training", "digital", "equipment"]


def approx(value):
    return pytest.approx(value, rel=1e-12, abs=1e-12)


@pytest.fixture(scope="module")
def definition():
    result = load_file(DATA)
    assert result.problems == []
    return result.definition


def answers(definition, **raw):
    """The values as the application stores them: every raw answer goes through the registry's normalise."""
    values = {}
    for question_id, value in raw.items():
        question = definition.question(question_id)
        values[question_id] = REGISTRY[question.type].normalise(question, value, definition=definition)
    return values


def items_of(definition, values, question_id):
    return [item for item in scoring_items(definition, values) if item.question_id == question_id]


def level_of(definition, question_id, value, **others):
    (item,) = items_of(definition, answers(definition, **{question_id: value}, **others), question_id)
    return item.level


# --- agencies used by the country tests ----------------------------------------------------------------


@pytest.fixture(scope="module")
def agency_a(definition):
    """A police agency that answered everything (equipment: N/A and don't know)."""
    return answers(definition, agency_type="police", law_status="adopted", has_strategy="partly",
                   strategy_plan="yes", unit_functions=["investigation", "other"], analysts=7,
                   skills={"documents": 3, "interviews": 1, "forensics": 4}, digital_sop="no",
                   equipment_state="not_applicable", equipment_plan="dont_know")


@pytest.fixture(scope="module")
def agency_b(definition):
    """An FIU: sees the fiu section; some don't know / N/A / empty answers."""
    return answers(definition, agency_type="fiu", law_status="enforced", has_strategy="yes", strategy_plan="no",
                   unit_functions=["investigation", "analysis", "prevention"], analysts="dont_know",
                   skills={"documents": 4, "interviews": "not_applicable"}, digital_sop="yes",
                   equipment_state="not_applicable", equipment_plan="not_applicable", fiu_analysis=2)


@pytest.fixture(scope="module")
def agency_c(definition):
    """A border agency with stale answers to hidden questions (strategy_plan, fiu_analysis)."""
    return answers(definition, agency_type="border", law_status="draft", has_strategy="no", strategy_plan="yes",
                   analysts=12, skills="not_applicable", equipment_state="dont_know", fiu_analysis=4)


# --- answer -> level -----------------------------------------------------------------------------------


def test_single_choice_gives_the_choice_score(definition):
    assert level_of(definition, "law_status", "none") == 0
    assert level_of(definition, "law_status", "draft") == 1
    assert level_of(definition, "law_status", "adopted") == 3
    assert level_of(definition, "law_status", "enforced") == 4


def test_a_choice_without_score_gives_no_level_and_lowers_coverage(definition):
    values = answers(definition, law_status="other")
    (item,) = items_of(definition, values, "law_status")
    assert (item.level, item.status) == (None, "no_level")
    score = response_scores(definition, values)["law"]
    # the only item (weight 1) gave no level: level None, coverage 0 / 1 = 0
    assert score == IndicatorScore(level=None, coverage=0.0, answered_weight=0.0, total_weight=1.0)


def test_yes_no_partly_default_scores(definition):
    # no `scores`: yes = highest (4), partly = middle of 0..4 (2), no = lowest (0)
    assert level_of(definition, "has_strategy", "yes") == 4
    assert level_of(definition, "has_strategy", "partly") == 2
    assert level_of(definition, "has_strategy", "no") == 0


def test_yes_no_own_scores(definition):
    # scores: {yes: 3, no: 1}; strategy_plan is shown after has_strategy = yes
    assert level_of(definition, "strategy_plan", "yes", has_strategy="yes") == 3
    assert level_of(definition, "strategy_plan", "no", has_strategy="yes") == 1


def test_multiple_choice_share_of_scored_choices(definition):
    # 3 scored choices (investigation, analysis, prevention; "other" has no score); level = 0 + share x (4 - 0)
    assert level_of(definition, "unit_functions", ["investigation"]) == approx(4 / 3)  # 1/3 x 4 = 1.3333
    assert level_of(definition, "unit_functions", ["investigation", "analysis"]) == approx(8 / 3)  # 2/3 x 4
    # prevention has score 0 but counts like any scored choice: 1/3 x 4
    assert level_of(definition, "unit_functions", ["prevention"]) == approx(4 / 3)
    assert level_of(definition, "unit_functions", ["investigation", "analysis", "prevention", "other"]) == 4
    # only the unscored "other": share 0/3 -> level 0 (an answer, not "no level")
    assert level_of(definition, "unit_functions", ["other"]) == 0


def test_number_thresholds(definition):
    # thresholds 1 -> 1, 5 -> 2, 10 -> 4: the last line reached
    assert level_of(definition, "analysts", 1) == 1
    assert level_of(definition, "analysts", 4) == 1
    assert level_of(definition, "analysts", 5) == 2
    assert level_of(definition, "analysts", 9) == 2
    assert level_of(definition, "analysts", 10) == 4
    assert level_of(definition, "analysts", 250) == 4
    # below the first threshold: no level (answered, so status no_level)
    (item,) = items_of(definition, answers(definition, analysts=0), "analysts")
    assert (item.level, item.status) == (None, "no_level")


def test_scale_gives_the_level(definition):
    assert level_of(definition, "equipment_state", 3) == 3


def test_matrix_rows_feed_their_own_or_the_question_indicator(definition):
    values = answers(definition, skills={"documents": 3, "interviews": 1, "forensics": 4})
    items = items_of(definition, values, "skills")
    assert [(i.row_id, i.indicator_id, i.weight, i.level) for i in items] == [
        ("documents", "training", 2.0, 3.0),    # row weight 1 x question weight 2
        ("interviews", "training", 6.0, 1.0),   # row weight 3 x question weight 2
        ("forensics", "digital", 2.0, 4.0),     # own indicator: the row's weight only
    ]
    scores = response_scores(definition, values)
    # training = (3 x 2 + 1 x 6) / (2 + 6) = 12 / 8 = 1.5; fiu_analysis is hidden (agency_type is not fiu)
    assert scores["training"] == IndicatorScore(level=1.5, coverage=1.0, answered_weight=8.0, total_weight=8.0)
    # digital = forensics 4 (weight 2); digital_sop unanswered (weight 1): coverage 2 / 3
    assert scores["digital"].level == 4
    assert scores["digital"].coverage == approx(2 / 3)


def test_question_weights_in_the_indicator_level(definition):
    values = answers(definition, has_strategy="partly", strategy_plan="yes")
    # strategy = (has_strategy 2 x weight 2 + strategy_plan 3 x weight 1) / 3 = 7 / 3 = 2.3333
    score = response_scores(definition, values)["strategy"]
    assert score.level == approx(7 / 3)
    assert (score.coverage, score.answered_weight, score.total_weight) == (1.0, 3.0, 3.0)


# --- no level: N/A, don't know, empty, hidden -----------------------------------------------------------


def test_not_applicable_and_dont_know_give_no_level_and_lower_coverage(definition):
    values = answers(definition, unit_functions="not_applicable", analysts=7)
    (item,) = items_of(definition, values, "unit_functions")
    assert (item.level, item.status) == (None, "not_applicable")
    # unit: analysts 7 -> 2 (weight 0.5) is the only level; coverage 0.5 / (1 + 0.5) = 1/3 (not a zero level)
    assert response_scores(definition, values)["unit"] == IndicatorScore(
        level=2.0, coverage=approx(1 / 3), answered_weight=0.5, total_weight=1.5)

    values = answers(definition, unit_functions=["investigation", "analysis", "prevention"], analysts="dont_know")
    (item,) = items_of(definition, values, "analysts")
    assert (item.level, item.status) == (None, "dont_know")
    # unit: 4 (weight 1); coverage 1 / 1.5 = 2/3
    score = response_scores(definition, values)["unit"]
    assert (score.level, score.coverage) == (4.0, approx(2 / 3))


def test_special_answer_of_a_matrix_row_or_of_the_whole_matrix(definition):
    values = answers(definition, skills={"documents": 4, "interviews": "not_applicable"})
    statuses = [(i.row_id, i.status) for i in items_of(definition, values, "skills")]
    assert statuses == [("documents", "level"), ("interviews", "not_applicable"), ("forensics", "empty")]
    # training = 4 (weight 2); coverage 2 / (2 + 6) = 0.25
    training = response_scores(definition, values)["training"]
    assert (training.level, training.coverage) == (4.0, 0.25)

    values = answers(definition, skills="not_applicable")
    assert {i.status for i in items_of(definition, values, "skills")} == {"not_applicable"}
    training = response_scores(definition, values)["training"]
    assert training == IndicatorScore(level=None, coverage=0.0, answered_weight=0.0, total_weight=8.0)


def test_empty_answers_give_no_level_and_lower_coverage(definition):
    values = answers(definition, law_status="", unit_functions=[], analysts=None)
    assert [i.status for i in scoring_items(definition, values) if i.question_id in ("law_status", "analysts",
                                                                                     "unit_functions")] == [
        "empty", "empty", "empty"]
    scores = response_scores(definition, values)
    assert scores["law"] == IndicatorScore(level=None, coverage=0.0, answered_weight=0.0, total_weight=1.0)
    assert scores["unit"] == IndicatorScore(level=None, coverage=0.0, answered_weight=0.0, total_weight=1.5)


def test_nothing_answered_every_indicator_has_an_entry(definition):
    scores = response_scores(definition, {})
    assert list(scores) == INDICATORS
    assert all(s.level is None for s in scores.values())
    # strategy: strategy_plan is hidden (has_strategy unanswered), so only has_strategy (weight 2) counts
    assert scores["strategy"].total_weight == 2.0
    # training: documents 2 + interviews 6; fiu_analysis hidden (section shown to FIUs only)
    assert scores["training"].total_weight == 8.0
    assert all(s.coverage == 0.0 for s in scores.values())


def test_hidden_questions_give_no_level_and_do_not_count_in_coverage(definition, agency_c):
    # agency C: has_strategy "no" hides strategy_plan, whose stale answer "yes" is ignored;
    # the fiu section is hidden (border agency), so fiu_analysis's stale 4 is ignored too.
    hidden = {(i.question_id, i.status, i.level) for i in scoring_items(definition, agency_c)
              if i.status == "hidden"}
    assert hidden == {("strategy_plan", "hidden", None), ("fiu_analysis", "hidden", None)}
    scores = response_scores(definition, agency_c)
    # strategy = has_strategy "no" -> 0 (weight 2) only; coverage 2 / 2 = 1 (the hidden question is excluded)
    assert scores["strategy"] == IndicatorScore(level=0.0, coverage=1.0, answered_weight=2.0, total_weight=2.0)
    # training: the whole skills matrix is N/A (2 + 6), fiu_analysis hidden: no level, coverage 0 / 8
    assert scores["training"] == IndicatorScore(level=None, coverage=0.0, answered_weight=0.0, total_weight=8.0)


def test_a_hidden_section_is_counted_when_shown(definition, agency_b):
    (item,) = items_of(definition, agency_b, "fiu_analysis")
    assert (item.status, item.level, item.weight) == ("level", 2.0, 1.0)


def test_indicator_without_applicable_items_has_coverage_none(definition):
    # a definition where the only question of "training" outside the matrix is hidden and the matrix is gone
    result = load_file(DATA)
    data = result.definition.model_dump()
    data["sections"][2]["questions"] = [q for q in data["sections"][2]["questions"] if q["id"] != "skills"]
    trimmed = type(result.definition).model_validate(data)
    score = response_scores(trimmed, {"agency_type": "police"})["training"]
    # nothing applicable: total weight 0 -> level None, coverage None (not asked), not 0 (asked, no answer)
    assert score == IndicatorScore(level=None, coverage=None, answered_weight=0.0, total_weight=0.0)


# --- per agency: every indicator and area ---------------------------------------------------------------


def test_agency_a_indicator_scores(definition, agency_a):
    scores = response_scores(definition, agency_a)
    assert scores["law"] == IndicatorScore(level=3.0, coverage=1.0, answered_weight=1.0, total_weight=1.0)
    # strategy = (2 x 2 + 3 x 1) / 3 = 7/3
    assert scores["strategy"].level == approx(7 / 3)
    # unit = (functions 1/3 x 4 = 4/3, weight 1 + analysts 7 -> 2, weight 0.5) / 1.5 = (4/3 + 1) / 1.5 = 14/9
    assert scores["unit"].level == approx(14 / 9)
    # training = (3 x 2 + 1 x 6) / 8 = 1.5
    assert scores["training"].level == 1.5
    # digital = (forensics 4 x 2 + digital_sop no 0 x 1) / 3 = 8/3
    assert scores["digital"].level == approx(8 / 3)
    # equipment: N/A + don't know: the all-N/A indicator has no level and coverage 0
    assert scores["equipment"] == IndicatorScore(level=None, coverage=0.0, answered_weight=0.0, total_weight=2.0)


def test_agency_a_area_scores(definition, agency_a):
    areas = area_scores(definition, response_scores(definition, agency_a))
    # legal = (law 3 x 1 + strategy 7/3 x 2) / 3 = (3 + 14/3) / 3 = 23/9 = 2.5556
    assert areas["legal"] == AreaScore(level=approx(23 / 9), coverage=1.0, indicators_with_level=2, indicators=2)
    # ops = (unit 14/9 x 1 + training 1.5 x 1 + digital 8/3 x 2) / (1 + 1 + 2), equipment (no level) left out
    #     = (28/18 + 27/18 + 96/18) / 4 = 151/72 = 2.0972
    # coverage = (1 x 1 + 1 x 1 + 1 x 2 + 0 x 1) / 5 = 0.8
    assert areas["ops"] == AreaScore(level=approx(151 / 72), coverage=0.8, indicators_with_level=3, indicators=4)


def test_area_without_any_level(definition):
    areas = area_scores(definition, response_scores(definition, {}))
    assert areas["legal"] == AreaScore(level=None, coverage=0.0, indicators_with_level=0, indicators=2)


def test_agency_b_and_c_indicator_scores(definition, agency_b, agency_c):
    b = response_scores(definition, agency_b)
    assert b["law"].level == 4
    assert b["strategy"].level == approx(3.0)  # (yes 4 x 2 + no 1 x 1) / 3 = 9/3
    # unit: functions 3/3 -> 4 (weight 1); analysts don't know (0.5): coverage 1 / 1.5
    assert (b["unit"].level, b["unit"].coverage) == (4.0, approx(2 / 3))
    # training = (documents 4 x 2 + fiu_analysis 2 x 1) / 3 = 10/3; interviews N/A (6): coverage 3 / 9
    assert (b["training"].level, b["training"].coverage) == (approx(10 / 3), approx(1 / 3))
    # digital: forensics empty (2), digital_sop yes 4 (1): level 4, coverage 1/3
    assert (b["digital"].level, b["digital"].coverage) == (4.0, approx(1 / 3))
    assert (b["equipment"].level, b["equipment"].coverage) == (None, 0.0)

    c = response_scores(definition, agency_c)
    assert c["law"].level == 1
    # unit: functions empty (1), analysts 12 -> 4 (0.5): level 4, coverage 0.5 / 1.5
    assert (c["unit"].level, c["unit"].coverage) == (4.0, approx(1 / 3))
    assert (c["digital"].level, c["digital"].coverage, c["digital"].total_weight) == (None, 0.0, 3.0)


# --- per country ----------------------------------------------------------------------------------------

T1 = datetime(2024, 3, 1, 10, 0)
T2 = datetime(2024, 5, 1, 9, 30)


@pytest.fixture(scope="module")
def country(definition, agency_a, agency_b, agency_c):
    agencies = [response_scores(definition, values) for values in (agency_a, agency_b, agency_c)]
    ratings = {
        # given latest first: the timestamp decides, not the order
        "strategy": [Rating(3.0, T2, "expert2"), Rating(1.0, T1, "expert1")],
        "law": [Rating(3.5, T1, "expert1")],
        "equipment": [Rating(1.0, T2, "expert1")],
    }
    targets = country_targets(definition, {"KZ": {"strategy": 4, "unit": 3, "digital": 4},
                                           "KG": {"law": 1}}, "KZ")
    return country_scores(definition, agencies, ratings, targets)


def test_country_targets_override_or_default(definition):
    overrides = {"KZ": {"strategy": 4, "unit": 3, "digital": 4, "removed_indicator": 2}, "KG": {"law": 1}}
    assert country_targets(definition, overrides, "KZ") == {
        "law": 3.0, "strategy": 4.0, "unit": 3.0, "training": 3.0, "digital": 4.0, "equipment": 2.0}
    assert country_targets(definition, overrides, "KG")["law"] == 1.0
    defaults = {"law": 3.0, "strategy": 3.0, "unit": 4.0, "training": 3.0, "digital": 3.0, "equipment": 2.0}
    assert country_targets(definition, overrides, "TJ") == defaults
    assert country_targets(definition) == defaults


def test_country_aggregation_max_mean_min(country):
    # law (max): A 3, B 4, C 1 -> 4
    assert country["law"].self_assessed == 4
    # strategy (mean): (A 7/3 + B 3 + C 0) / 3 = 16/9 = 1.7778
    assert country["strategy"].self_assessed == approx(16 / 9)
    # unit (min): A 14/9, B 4, C 4 -> 14/9
    assert country["unit"].self_assessed == approx(14 / 9)
    # training (mean over agencies with a level): (A 1.5 + B 10/3) / 2 = 29/12 = 2.4167; C has none
    assert country["training"].self_assessed == approx(29 / 12)
    assert (country["training"].agencies, country["training"].agencies_with_level) == (3, 2)
    # digital (mean): (A 8/3 + B 4) / 2 = 10/3
    assert country["digital"].self_assessed == approx(10 / 3)


def test_country_coverage_is_pooled_by_weight(country):
    # law: 1 + 1 + 1 of 3
    assert country["law"].coverage == 1.0
    # unit: answered A 1.5 + B 1 + C 0.5 = 3 of totals 1.5 x 3 = 4.5 -> 2/3
    assert country["unit"].coverage == approx(2 / 3)
    # training: answered A 8 + B 3 + C 0 = 11 of totals A 8 + B 9 (fiu_analysis shown) + C 8 = 25 -> 0.44
    assert country["training"].coverage == approx(11 / 25)
    # digital: answered A 3 + B 1 + C 0 = 4 of 9
    assert country["digital"].coverage == approx(4 / 9)


def test_expert_rating_overrides_the_assessed_level(country):
    strategy = country["strategy"]
    # two ratings: the latest (T2, 3.0) wins over the earlier (T1, 1.0); both figures are kept
    assert (strategy.expert, strategy.expert_by, strategy.expert_at, strategy.ratings) == (3.0, "expert2", T2, 2)
    assert strategy.self_assessed == approx(16 / 9)
    assert strategy.assessed == 3.0
    # |3 - 16/9| = 11/9 = 1.22 >= 1 level: flagged
    assert strategy.disagreement is True
    # law: expert 3.5 vs self 4: |0.5| < 1, not flagged; assessed 3.5
    assert (country["law"].assessed, country["law"].disagreement) == (3.5, False)
    # no rating: assessed = self-assessed
    assert (country["unit"].expert, country["unit"].assessed, country["unit"].ratings) == (None, approx(14 / 9), 0)
    assert country["unit"].disagreement is False


def test_expert_rating_of_an_indicator_without_self_assessment(country):
    equipment = country["equipment"]
    # no agency has a level (all N/A / don't know / empty): self None, coverage 0; the expert's 1 is assessed
    assert (equipment.self_assessed, equipment.coverage, equipment.agencies_with_level) == (None, 0.0, 0)
    assert (equipment.expert, equipment.assessed, equipment.disagreement) == (1.0, 1.0, False)
    # gap = max(0, target 2 - 1) = 1; priority = 1 x indicator weight 1 x area weight 1 = 1
    assert (equipment.gap, equipment.priority) == (1.0, 1.0)


def test_gap_and_priority_with_country_targets(country):
    # law: max(0, 3 - 3.5) = 0; priority 0 x 1 x 2 = 0
    assert (country["law"].target, country["law"].gap, country["law"].priority) == (3.0, 0.0, 0.0)
    # strategy: target overridden to 4: gap 4 - 3 = 1; priority 1 x 2 x 2 = 4
    assert (country["strategy"].target, country["strategy"].gap, country["strategy"].priority) == (4.0, 1.0, 4.0)
    # unit: target overridden to 3: gap 3 - 14/9 = 13/9 = 1.4444; priority 13/9 x 1 x 1
    assert country["unit"].target == 3.0
    assert (country["unit"].gap, country["unit"].priority) == (approx(13 / 9), approx(13 / 9))
    # training: default target 3: gap 3 - 29/12 = 7/12 = 0.5833; priority 7/12 x 1 x 1
    assert (country["training"].gap, country["training"].priority) == (approx(7 / 12), approx(7 / 12))
    # digital: target overridden to 4: gap 4 - 10/3 = 2/3; priority 2/3 x 2 x 1 = 4/3
    assert (country["digital"].gap, country["digital"].priority) == (approx(2 / 3), approx(4 / 3))


def test_all_na_indicator_has_no_level_no_gap(definition, agency_a, agency_b):
    result = country_scores(definition, [response_scores(definition, v) for v in (agency_a, agency_b)])
    equipment = result["equipment"]
    # A: N/A + don't know; B: N/A + N/A -> no level anywhere, coverage 0 / 4 = 0, no gap, no priority
    assert (equipment.self_assessed, equipment.assessed, equipment.coverage) == (None, None, 0.0)
    assert (equipment.gap, equipment.priority, equipment.target) == (None, None, 2.0)
    assert (equipment.agencies, equipment.agencies_with_level, equipment.disagreement) == (2, 0, False)


def test_country_without_agencies(definition):
    result = country_scores(definition, [])
    assert result["law"].self_assessed is None
    assert result["law"].coverage is None
    assert (result["law"].agencies, result["law"].gap) == (0, None)


def test_ranked_priorities(definition, country):
    ranked = ranked_priorities(definition, country)
    # strategy 4, unit 13/9 = 1.44, digital 4/3 = 1.33, equipment 1, training 7/12 = 0.58; law (gap 0) left out
    assert [indicator_id for indicator_id, _c in ranked] == ["strategy", "unit", "digital", "equipment", "training"]
    assert [i for i, _c in ranked_priorities(definition, country, limit=2)] == ["strategy", "unit"]


def test_country_area_scores(definition, country):
    areas = country_area_scores(definition, country)
    legal = areas["legal"]
    # self: (law 4 x 1 + strategy 16/9 x 2) / 3 = (4 + 32/9) / 3 = 68/27 = 2.5185
    assert legal.self_assessed == approx(68 / 27)
    # expert and assessed: (3.5 x 1 + 3 x 2) / 3 = 9.5 / 3 = 19/6 = 3.1667
    assert (legal.expert, legal.assessed) == (approx(19 / 6), approx(19 / 6))
    # target (3 x 1 + 4 x 2) / 3 = 11/3; gap = 11/3 - 19/6 = 3/6 = 0.5
    assert (legal.target, legal.gap) == (approx(11 / 3), approx(0.5))
    assert (legal.coverage, legal.indicators_with_level, legal.indicators) == (1.0, 2, 2)

    ops = areas["ops"]
    # self: (unit 14/9 + training 29/12 + digital 10/3 x 2) / 4 (equipment has no self level)
    #     = (56/36 + 87/36 + 240/36) / 4 = 383/144 = 2.6597
    assert ops.self_assessed == approx(383 / 144)
    # expert: only equipment rated (1)
    assert ops.expert == 1.0
    # assessed: (383/36 + equipment 1 x 1) / 5 = (419/36) / 5 = 419/180 = 2.3278
    assert ops.assessed == approx(419 / 180)
    # target: (3 + 3 + 4 x 2 + 2) / 5 = 16/5; gap = 16/5 - 419/180 = 576/180 - 419/180 = 157/180 = 0.8722
    assert (ops.target, ops.gap) == (approx(16 / 5), approx(157 / 180))
    # coverage: (unit 2/3 + training 11/25 + digital 4/9 x 2 + equipment 0) / 5 = (449/225) / 5 = 449/1125
    assert ops.coverage == approx(449 / 1125)
    assert (ops.indicators_with_level, ops.indicators) == (4, 4)


def test_outputs_are_plain_values_to_store(country):
    row = dataclasses.asdict(country["strategy"])
    assert set(row) == {"self_assessed", "expert", "assessed", "target", "gap", "priority", "coverage", "agencies",
                        "agencies_with_level", "disagreement", "expert_at", "expert_by", "ratings"}
    assert all(isinstance(v, float | int | bool | str | datetime | None) for v in row.values())


# --- helpers --------------------------------------------------------------------------------------------


def test_latest_rating():
    assert latest_rating([]) is None
    assert latest_rating(None) is None
    first, second = Rating(2.0, T1, "a"), Rating(3.0, T2, "b")
    assert latest_rating([second, first]) is second
    # equal timestamps: the one that comes last
    same = Rating(1.0, T2, "c")
    assert latest_rating([first, second, same]) is same


def test_disagreement_threshold(definition):
    agencies = [{"law": IndicatorScore(level=2.0, coverage=1.0, answered_weight=1.0, total_weight=1.0)}]
    ratings = {"law": [Rating(3.0, T1)]}
    # |3 - 2| = 1: flagged at the default threshold 1, not at 1.5
    assert country_scores(definition, agencies, ratings)["law"].disagreement is True
    assert country_scores(definition, agencies, ratings, disagreement_threshold=1.5)["law"].disagreement is False


def test_gap_priority_weighted_mean():
    assert gap(3, 1.5) == 1.5
    assert gap(3, 3.5) == 0.0
    assert gap(None, 2) is None
    assert gap(3, None) is None
    assert priority(1.5, 2, 2) == 6.0
    assert priority(None, 2, 2) is None
    # (4 x 2 + 1 x 1) / 3 = 3; None values are skipped
    assert weighted_mean([(4, 2), (1, 1), (None, 5)]) == 3.0
    assert weighted_mean([(None, 1)]) is None
    assert weighted_mean([]) is None


def test_round_score_half_up():
    assert round_score(None) is None
    assert round_score(2.675) == 2.68  # round(2.675, 2) gives 2.67 (binary); half up on the decimal gives 2.68
    assert round_score(0.125) == 0.13  # round() gives 0.12 (half to even)
    assert round_score(2.665) == 2.67
    assert round_score(7 / 3) == 2.33
    assert round_score(14 / 9) == 1.56
    assert round_score(2 / 3) == 0.67
    assert round_score(4) == 4.0
    assert round_score(2.5, 0) == 3.0
    assert round_score(1.0005, 3) == 1.001
    assert round_score(-1.005) == -1.01  # half away from zero
    # The weighted mean of 0 (weight 1) and 0.3 (weight 3) is 0.225, computed as 0.22499999999999998: binary
    # noise is not a digit, so it shows as 0.23, also when rounded to 4 places first (as the dashboards do).
    noisy = weighted_mean([(0.0, 1), (0.3, 3)])
    assert noisy != 0.225 and round_score(noisy) == 0.23 and round_score(round_score(noisy, 4)) == 0.23
    assert round_score(0.2249999) == 0.22  # a real digit, well above the noise
    assert round_score(1e300) == 1e300 and round_score(-123456789012345678901234.5, 0) == -1.2345678901234569e23
    with pytest.raises(ValueError):
        round_score(float("nan"))


def test_round_score_fast_path_equals_the_exact_rounding():
    """round_score skips Decimal for values clearly away from a half; on values near and far from halves, with and
    without binary noise, it equals the exact rule: noise off at 9 decimals, then half up on the decimal."""
    import random
    from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

    def exact(x: float, places: int) -> float:
        value = Decimal(repr(x)).quantize(Decimal("1e-9"), rounding=ROUND_HALF_EVEN)
        return float(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))

    rng = random.Random(3)
    values = [rng.uniform(-5, 5) for _ in range(3000)]
    values += [k / 1000 + d for k in range(-3000, 3000, 7) for d in (0.0, 1e-12, -1e-12, 4.4e-16, -4.4e-16)]
    values += [weighted_mean([(a / 20, 1), (b / 20, w)]) for a in range(0, 81, 3) for b in range(0, 81, 3)
               for w in (3, 0.5, 2)]
    for value in values:
        for places in (0, 1, 2, 4):
            assert round_score(value, places) == exact(value, places), (value, places)
