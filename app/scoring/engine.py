"""The scoring and gap engine: answers -> levels -> indicator, area and country scores, gaps and priorities.

Pure functions on plain data: no Flask, no database, no app context. The inputs are a questionnaire
`Definition` (app.questionnaires.schema), the stored answers of a response (`values`: question id -> value
as normalised by the question-type registry, app.questionnaires.qtypes), expert ratings and targets. The
outputs are frozen dataclasses (`IndicatorScore`: a named tuple) holding plain floats, ints, bools and None
(`dataclasses.asdict` / `_asdict` give a row to store). Computations keep full float precision; round only
for display or storage, with `round_score`.

Public API
----------

Per response (one agency's answers):

- ``scoring_items(definition, values, today=None) -> list[ItemScore]``
    Every scoring item of the definition, in questionnaire order, with its level or the reason it has
    none (`status`). An item is one (question, indicator) pair, or one (matrix question, row) pair; the
    per-type answer -> level rules are those of ``REGISTRY[type].scores`` (see "Levels" below).
- ``response_scores(definition, values, today=None) -> dict[indicator_id, IndicatorScore]``
    One ``IndicatorScore(level, coverage, answered_weight, total_weight)`` for every indicator of the
    definition (in definition order), whether or not anything scored it.
- ``area_scores(definition, indicator_scores) -> dict[area_id, AreaScore]``
    ``AreaScore(level, coverage, indicators_with_level, indicators)`` for every area.

Per country (the responses of its agencies, plus expert ratings and targets):

- ``country_targets(definition, overrides=None, country=None) -> dict[indicator_id, float]``
    The target of every indicator for one country: the campaign's override
    (``overrides = {country code: {indicator id: target}}``) or else the indicator's default `target`.
- ``latest_rating(ratings) -> Rating | None``
    The rating with the latest `at` (on equal timestamps, the one that comes last in the list).
- ``country_scores(definition, agency_scores, expert_ratings=None, targets=None, *,
  disagreement_threshold=1.0) -> dict[indicator_id, CountryIndicator]``
    ``agency_scores`` is one ``response_scores`` result per agency; ``expert_ratings`` maps an indicator id
    to its ``Rating(level, at, expert)`` list for this country; ``targets`` maps indicator ids to this
    country's targets (e.g. ``country_targets(...)``; missing indicators use the definition's default).
    Gives ``CountryIndicator(self_assessed, expert, assessed, target, gap, priority, coverage, agencies,
    agencies_with_level, disagreement, expert_at, expert_by, ratings)`` for every indicator.
- ``country_area_scores(definition, country_indicators) -> dict[area_id, CountryArea]``
    ``CountryArea(self_assessed, expert, assessed, target, gap, coverage, indicators_with_level,
    indicators)`` for every area.
- ``ranked_priorities(definition, country_indicators, limit=None) -> list[tuple[indicator_id,
  CountryIndicator]]``
    Indicators with a gap above 0, largest priority first (ties: larger gap, then definition order).

Helpers: ``weighted_mean(pairs)``, ``gap(target, level)``, ``priority(gap, indicator_weight, area_weight)``,
``round_score(value, places=2)``.

Levels (per answer; implemented by the question-type registry, ``REGISTRY[type].scores``)
---------------------------------------------------------------------------------------------

- single_choice: the chosen choice's `score`; a choice without a score gives no level.
- yes_no: yes / partly / no -> the question's `scores`, else highest / middle (lower middle) / lowest level.
- scale: the chosen level.
- multiple_choice: lowest + share x (highest - lowest), where share = ticked scored choices / scored choices
  (a "scored" choice is one with a `score`, whatever its value); no scored choice: no level.
- number: the level of the last threshold whose `at_least` the answer reaches; below the first one, or no
  thresholds: no level.
- matrix: one item per row that has an indicator (its own, else the question's). Weight of a row with its
  own indicator: the row's weight; of a row feeding the question's indicator: row weight x question
  weight (as questionnaires/README.md section 11 says). A row's level is the chosen scale level, or the
  chosen column's `score` when the matrix has its own choices.
- every other item: weight = the question's `weight`.

Status of an item (``ItemScore.status``)
----------------------------------------

- ``"level"``: the answer gave a level.
- ``"not_applicable"`` / ``"dont_know"``: the special answer (of the question, or of the matrix row).
- ``"empty"``: the question (or matrix row) is visible but unanswered.
- ``"no_level"``: answered, but the answer gives no level (a choice without a score, a number below the
  first threshold or without thresholds, a multiple choice without scored choices).
- ``"hidden"``: the question is not shown to this respondent: its section's `show_if` or its own `show_if`
  does not hold under the response's `values` (evaluated on `values` as given, like
  app.responses.progress). A stored value of a hidden question is ignored.

Indicator level and coverage (per response)
-------------------------------------------

Over the items of an indicator that are *not hidden*:

- ``total_weight`` = sum of their weights; ``answered_weight`` = sum of the weights of those with status
  "level";
- ``level`` = weighted mean of the levels of the items with a level (None when there is none);
- ``coverage`` = answered_weight / total_weight: the share, by weight, of the indicator's applicable
  scoring items that gave a level. Not applicable, don't know, empty and no-level answers lower it; they
  are never counted as a zero level.
- **Hidden items are excluded from both weights**: skip logic decided that the question does not apply to
  this agency, so it neither gives a level nor lowers coverage.
- When the indicator has no applicable item (no question scores it, or all are hidden): total_weight 0,
  level None and coverage **None** (nothing was asked), as opposed to coverage 0 (asked, nothing scored,
  e.g. every answer "not applicable").

Area level (per response): weighted mean (indicator `weight`) of the levels of its indicators that have a
level; area coverage: weighted mean (indicator `weight`) of the coverages of its indicators whose coverage
is not None (None when there is none).

Country figures
---------------

For each indicator, over the agencies (the ``agency_scores`` list):

- ``self_assessed``: the agencies' levels (those that have one) combined with the indicator's `aggregation`:
  `mean` (unweighted: every agency counts once), `max` or `min`. None when no agency has a level.
- ``expert``: the level of the latest expert rating (``latest_rating``); ``expert_at`` / ``expert_by`` say
  when and by whom; ``ratings`` is how many ratings exist. None when there is no rating.
- ``assessed``: the expert level when there is one, else the self-assessed level. Both are kept.
- ``disagreement``: True when both an expert and a self-assessed level exist and they differ by at least
  ``disagreement_threshold`` scale levels (default 1).
- ``coverage``: pooled over agencies: sum of answered_weight / sum of total_weight (None when the sum of
  total_weight is 0). ``agencies``: agencies for which the indicator had an applicable item
  (total_weight > 0); ``agencies_with_level``: agencies with a level.
- ``target``: the country's target (override, else the default).
- ``gap`` = max(0, target - assessed), None when there is no assessed level or no target.
- ``priority`` = gap x indicator weight x area weight (None when gap is None).

Country area: ``self_assessed`` / ``expert`` / ``assessed`` are weighted means (indicator `weight`) of the
corresponding indicator figures, each over the indicators that have that figure. ``target`` is the weighted
mean of the targets of the indicators counted in ``assessed``, and ``gap`` = max(0, target - assessed) on
the same indicators (None without an assessed level). ``coverage`` as for a response's area.

Rounding
--------

``round_score(value, places=2)``: the value's shortest decimal representation (``repr``) rounded half up
(away from zero) to `places` decimals with ``decimal.ROUND_HALF_EVEN, ROUND_HALF_UP``, returned as a float (None stays
None). So 2.675 -> 2.68 and 0.125 -> 0.13, where the built-in ``round`` gives 2.67 and 0.12. Use it only
to display or store; never feed rounded values back into computations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from typing import Any, NamedTuple

from app.questionnaires import expressions
from app.questionnaires.qtypes import REGISTRY, is_special
from app.questionnaires.rendering import visibility

#: The values of `ItemScore.status`.
ITEM_STATUSES = ("level", "not_applicable", "dont_know", "empty", "no_level", "hidden")
#: The values of an indicator's `aggregation`.
AGGREGATIONS = ("mean", "max", "min")
#: Tolerance for float comparisons of levels (disagreement threshold).
_EPSILON = 1e-9


@dataclass(frozen=True)
class ItemScore:
    """One scoring item of a response: a question (or a matrix row) feeding an indicator."""

    question_id: str
    row_id: str | None
    indicator_id: str
    weight: float
    level: float | None
    status: str


class IndicatorScore(NamedTuple):
    """An indicator's score for one response (agency). A named tuple, not a dataclass like the other results:
    a rebuild makes one per response and indicator, and a tuple is several times cheaper to make."""

    level: float | None
    coverage: float | None
    answered_weight: float
    total_weight: float


@dataclass(frozen=True)
class AreaScore:
    """An area's score for one response (agency)."""

    level: float | None
    coverage: float | None
    indicators_with_level: int
    indicators: int


@dataclass(frozen=True)
class Rating:
    """An expert's rating of an indicator for a country; `at` orders ratings (latest wins)."""

    level: float
    at: datetime
    expert: Any = None


@dataclass(frozen=True)
class CountryIndicator:
    """An indicator's figures for one country."""

    self_assessed: float | None
    expert: float | None
    assessed: float | None
    target: float | None
    gap: float | None
    priority: float | None
    coverage: float | None
    agencies: int
    agencies_with_level: int
    disagreement: bool
    expert_at: datetime | None = None
    expert_by: Any = None
    ratings: int = 0


@dataclass(frozen=True)
class CountryArea:
    """An area's figures for one country."""

    self_assessed: float | None
    expert: float | None
    assessed: float | None
    target: float | None
    gap: float | None
    coverage: float | None
    indicators_with_level: int
    indicators: int


# --- helpers -------------------------------------------------------------------------------------------


def weighted_mean(pairs: Iterable[tuple[float | None, float]]) -> float | None:
    """Weighted mean of (value, weight) pairs, skipping None values; None when nothing is left (or weight 0)."""
    products, weights = [], []
    for value, weight in pairs:
        if value is not None:
            weight = float(weight)
            products.append(float(value) * weight)
            weights.append(weight)
    return _mean_of(products, weights)


def _mean_of(products: list[float], weights: list[float]) -> float | None:
    """fsum(products) / fsum(weights): the weighted mean from its prepared terms (None without weight)."""
    total = math.fsum(weights)
    if not weights or total <= 0:
        return None
    return math.fsum(products) / total


def gap(target: float | None, level: float | None) -> float | None:
    """max(0, target - level); None when either is None."""
    if target is None or level is None:
        return None
    return max(0.0, float(target) - float(level))


def priority(gap_value: float | None, indicator_weight: float, area_weight: float = 1.0) -> float | None:
    """gap x indicator weight x area weight; None when the gap is None."""
    if gap_value is None:
        return None
    return gap_value * float(indicator_weight) * float(area_weight)


def round_score(value: float | None, places: int = 2) -> float | None:
    """`value` rounded half up to `places` decimals (via Decimal on its repr), for display and storage only.

    None stays None. 2.675 -> 2.68, 0.125 -> 0.13, 2.5 (places=0) -> 3.0, -1.005 -> -1.01. The noise of binary
    arithmetic is taken off first (the value is read to 9 decimals): a mean of 2.65 and 3, computed as
    2.8249999999999997, is the 2.825 it stands for and shows as 2.83, as on every page, report and dashboard.
    """
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"cannot round {value!r}")
    if 0 <= places <= NOISE_PLACES:
        # Fast path: a value clearly away from a half (in units of the last decimal kept) rounds the same way
        # half up, half even, with or without the noise; Python's round() gives it. Only values near a half go
        # through Decimal. (Dashboards round thousands of figures per view.)
        scaled = abs(number) * _POWERS[places]
        if scaled < 1e9 and abs(scaled % 1.0 - 0.5) > _WINDOW[places]:
            return round(number, places)
    exact = Decimal(repr(number))
    if abs(number) >= 1e15:  # beyond the default context's 28 digits once 9 decimals are added
        with localcontext(prec=400):
            return _rounded(exact, places)
    return _rounded(exact, places)


#: Decimals of the priorities and gaps compared when indicators are ranked: two figures that differ only by the
#: noise of binary arithmetic (3.777777777777778 and 3.777777777777777) tie, and the tie is broken as documented.
RANK_PLACES = 4


def rank_key(priority: float | None, gap: float | None) -> tuple:
    """The sort key of an indicator in a ranking: largest priority first, then larger gap; without a priority
    last. The same on the dashboards and in the reports."""
    return (priority is None, -(round_score(priority, RANK_PLACES) or 0.0), -(round_score(gap, RANK_PLACES) or 0.0))


def percent(share: float | None) -> int | None:
    """A share (0..1) as a whole percentage, rounded half up as every figure is (0.925 -> 93, as Excel shows
    0.925 in a "0%" cell); None stays None."""
    if share is None:
        return None
    return int(round_score(100 * float(share), 0))


def _rounded(exact: Decimal, places: int) -> float:
    if places < NOISE_PLACES:
        exact = exact.quantize(_QUANTA[NOISE_PLACES], rounding=ROUND_HALF_EVEN)
    quantum = _QUANTA[places] if places in _QUANTA else Decimal(1).scaleb(-places)
    return float(exact.quantize(quantum, rounding=ROUND_HALF_UP))


#: Decimals beyond which a score's digits are the noise of binary floating point (see `round_score`).
NOISE_PLACES = 9
_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(NOISE_PLACES + 1)}
_POWERS = {places: 10.0 ** places for places in range(NOISE_PLACES + 1)}
#: How near a half (in units of the last decimal kept) a value must be to need the exact path: wider than what
#: the noise step and the float multiplication can move it.
_WINDOW = {places: max(1e-6, 4 * 10.0 ** (places - NOISE_PLACES)) for places in range(NOISE_PLACES + 1)}


def _aggregate(levels: list[float], aggregation: str) -> float | None:
    if not levels:
        return None
    if aggregation == "max":
        return max(levels)
    if aggregation == "min":
        return min(levels)
    if aggregation == "mean":
        return math.fsum(levels) / len(levels)
    raise ValueError(f"unknown aggregation {aggregation!r} (expected one of {', '.join(AGGREGATIONS)})")


# --- per response --------------------------------------------------------------------------------------


def _status(level, answer) -> str:
    if level is not None:
        return "level"
    if is_special(answer):
        return answer
    if answer is None or (isinstance(answer, str) and answer.strip() == "") or answer == [] or answer == {}:
        return "empty"
    return "no_level"


def _question_items(question, value, definition, visible: bool) -> list[ItemScore]:
    qtype = REGISTRY[question.type]
    if not qtype.scorable:
        return []
    triples = qtype.scores(question, value, definition)
    if question.type == "matrix":
        rows = [row for row in question.rows if row.indicator or question.indicator]
        if len(rows) != len(triples):  # pragma: no cover - the registry gives one triple per scored row
            raise RuntimeError(f"matrix {question.id}: rows and scores do not match")
        cells = value if isinstance(value, Mapping) else None
        answers = [cells.get(row.id) if cells is not None else value for row in rows]
        row_ids: list[str | None] = [row.id for row in rows]
    else:
        answers = [value] * len(triples)
        row_ids = [None] * len(triples)
    items = []
    for (indicator_id, level, weight), answer, row_id in zip(triples, answers, row_ids, strict=True):
        if visible:
            item = ItemScore(question.id, row_id, indicator_id, float(weight),
                             None if level is None else float(level), _status(level, answer))
        else:
            item = ItemScore(question.id, row_id, indicator_id, float(weight), None, "hidden")
        items.append(item)
    return items


def scoring_items(definition, values: Mapping[str, Any], today: date | None = None) -> list[ItemScore]:
    """Every scoring item of the definition under `values`, in questionnaire order (hidden ones included)."""
    values = dict(values)
    hidden = visibility(definition, values, today).hidden
    items: list[ItemScore] = []
    for section in definition.sections:
        for question in section.questions:
            items.extend(_question_items(question, values.get(question.id), definition, question.id not in hidden))
    return items


def _indicator_score(items: list[ItemScore]) -> IndicatorScore:
    applicable = [item for item in items if item.status != "hidden"]
    total = math.fsum(item.weight for item in applicable)
    answered = math.fsum(item.weight for item in applicable if item.level is not None)
    level = weighted_mean((item.level, item.weight) for item in applicable)
    coverage = answered / total if total > 0 else None
    return IndicatorScore(level=level, coverage=coverage, answered_weight=answered, total_weight=total)


def response_scores(definition, values: Mapping[str, Any], today: date | None = None) -> dict[str, IndicatorScore]:
    """{indicator id: IndicatorScore} for every indicator of the definition, from one response's answers.

    Computed with the definition's compiled `ScoringPlan` (same rules and results as grouping
    `scoring_items` by indicator, which `reference_response_scores` does and the tests compare)."""
    return plan_for(definition).response_scores(values, today)


def reference_response_scores(definition, values: Mapping[str, Any],
                              today: date | None = None) -> dict[str, IndicatorScore]:
    """`response_scores` computed item by item from `scoring_items` (the readable reference)."""
    by_indicator: dict[str, list[ItemScore]] = {indicator.id: [] for _area, indicator in definition.indicators()}
    for item in scoring_items(definition, values, today):
        if item.indicator_id in by_indicator:
            by_indicator[item.indicator_id].append(item)
    return {indicator_id: _indicator_score(items) for indicator_id, items in by_indicator.items()}


class ScoringPlan:
    """A definition prepared for scoring many responses.

    - Skip-logic rules parsed once (`hidden(values)` gives the scoring questions they hide; `referenced` are
      the questions the rules read).
    - For single-valued choice-like questions (single choice, yes/no, scale) and multiple choice, a table of
      value -> level, so an answer's level is a look-up.
    - `contributions(question_id, value)`: what one answer adds to its indicators, as (indicator index,
      weight, level x weight) for each of its items that gives a level. Unanswered, special and no-level
      items add nothing there: they only count in the total weight, which depends on skip logic alone
      (`totals(hidden)`).
    - `scores(entries, hidden)`: the indicator scores from those contributions.

    Sums are `math.fsum` (exactly rounded, whatever the order), so scoring from contributions gives exactly
    what the item-by-item reference gives; `store.rebuild` uses the same pieces on answers streamed from the
    database, with the contributions memoized per (question, stored value)."""

    _LOOKUP_TYPES = ("single_choice", "yes_no", "scale")

    def __init__(self, definition):
        self.definition = definition
        self.indicators = [indicator.id for _area, indicator in definition.indicators()]
        self._index = index = {indicator_id: n for n, indicator_id in enumerate(self.indicators)}
        self._questions: dict[str, tuple] = {}
        #: (parsed rule, ids of the scoring questions it hides when it does not hold)
        self.rules: list[tuple[Any, tuple[str, ...]]] = []
        referenced: set[str] = set()
        item_weights: dict[str, list[tuple[int, float]]] = {}
        for section in definition.sections:
            section_questions = []
            for question in section.questions:
                qtype = REGISTRY[question.type]
                if not qtype.scorable:
                    continue
                lookup = None
                if question.type in self._LOOKUP_TYPES and question.indicator:
                    lookup = {value: qtype.level(question, value, definition)
                              for value in self._possible_values(question, qtype)}
                elif question.type == "multiple_choice" and question.indicator:
                    # MultipleChoiceType.level: lowest + share of the scored choices ticked x (highest - lowest)
                    lookup = _MultipleChoiceLevels(question, definition)
                if lookup is not None and question.indicator not in index:
                    continue  # an indicator the definition does not have scores nothing
                self._questions[question.id] = (question, qtype, lookup, float(question.weight))
                items = self._items(question, None)
                item_weights[question.id] = [(ind, weight) for ind, weight, _lw in items]
                section_questions.append(question.id)
                if question.show_if:
                    rule = expressions.parse(question.show_if)
                    referenced |= expressions.references(rule)
                    self.rules.append((rule, (question.id,)))
            if section.show_if and section_questions:
                rule = expressions.parse(section.show_if)
                referenced |= expressions.references(rule)
                self.rules.append((rule, tuple(section_questions)))
        # The questions those rules read may be hidden by rules of their own, and a hidden question's answer counts
        # as empty (rendering.visibility): their rules ("gates") are evaluated first, and so on up the chain.
        where = {q.id: (section, q) for section in definition.sections for q in section.questions}
        #: (parsed rule, (id of the question it hides,)) for each rule of a question the rules read
        self.gates: list[tuple[Any, tuple[str, ...]]] = []
        pending, gated = set(referenced), set()
        while pending:
            question_id = pending.pop()
            if question_id in gated or question_id not in where:
                continue
            gated.add(question_id)
            gate_section, gate_question = where[question_id]
            for text in (gate_section.show_if, gate_question.show_if):
                if text:
                    rule = expressions.parse(text)
                    self.gates.append((rule, (question_id,)))
                    reads = expressions.references(rule)
                    referenced |= reads
                    pending |= reads - gated
        self._gate_reads = [tuple(sorted(expressions.references(rule))) for rule, _ids in self.gates]
        self.referenced = frozenset(referenced)
        #: (area id, [(indicator id, weight)]) in definition order, for `area_scores`
        self.area_members = [(area.id, [(indicator.id, float(indicator.weight)) for indicator in area.indicators])
                             for area in definition.areas]
        self._rule_reads = [tuple(sorted(expressions.references(rule))) for rule, _ids in self.rules]
        self._outcomes: dict[tuple, bool] = {}
        #: the questions whose answers give levels
        self.scoring_questions = frozenset(self._questions)
        self._item_weights = item_weights
        self._totals: dict[frozenset, list[float]] = {}

    def _possible_values(self, question, qtype) -> list:
        if question.type == "scale":
            return [level.level for level in self.definition.scale]
        return list(qtype.values(question, self.definition))

    def _items(self, question, value) -> list[tuple[int, float, float | None]]:
        """(indicator index, weight, level x weight or None) for every item of the question under `value`."""
        _question, qtype, lookup, weight = self._questions[question.id]
        index = self._index
        if lookup is not None:
            level = lookup.get(value) if isinstance(value, str | int | float | list) else None
            return [(index[question.indicator], weight, None if level is None else float(level) * weight)]
        items = []
        for indicator_id, level, item_weight in qtype.scores(question, value, self.definition):
            if indicator_id not in index:
                continue
            item_weight = float(item_weight)
            items.append((index[indicator_id], item_weight, None if level is None else float(level) * item_weight))
        return items

    def contributions(self, question_id: str, value) -> tuple[tuple[int, float, float], ...]:
        """What an answer adds to its indicators: (indicator index, weight, level x weight) per item that
        gives a level; () for a question that does not score, or an answer without a level."""
        entry = self._questions.get(question_id)
        if entry is None:
            return ()
        return tuple((ind, weight, lw) for ind, weight, lw in self._items(entry[0], value) if lw is not None)

    def hidden(self, values: Mapping[str, Any], today: date | None = None,
               stored: Mapping[str, Any] | None = None) -> frozenset[str]:
        """The scoring questions that skip logic hides under `values` (which need only hold `referenced`).

        `stored`, when given, maps the same question ids to a hashable stored form of their values (the JSON
        text): each rule's outcome is then remembered per today and stored forms of the questions it reads,
        so that scoring many responses evaluates each rule once per distinct combination.

        The answers of questions hidden themselves (`gates`) count as empty, as `rendering.visibility` has it."""
        if self.gates:
            masked: set[str] = set()
            shown_values, shown_stored = values, stored
            for _round in range(len(self.gates) + 1):
                now = set()
                for n, (rule, question_ids) in enumerate(self.gates):
                    if not self._holds(("gate", n), rule, self._gate_reads[n], shown_values, shown_stored, today):
                        now.update(question_ids)
                if now == masked:
                    break
                masked = now
                shown_values = {key: value for key, value in values.items() if key not in masked}
                shown_stored = None if stored is None else {key: text for key, text in stored.items()
                                                            if key not in masked}
            values, stored = shown_values, shown_stored
        hidden: set[str] = set()
        for n, (rule, question_ids) in enumerate(self.rules):
            if not self._holds(n, rule, self._rule_reads[n], values, stored, today):
                hidden.update(question_ids)
        return frozenset(hidden)

    def _holds(self, name, rule, reads: tuple[str, ...], values: Mapping[str, Any],
               stored: Mapping[str, Any] | None, today: date | None) -> bool:
        """Whether a rule holds, remembered per (rule, today, stored forms of what it reads) when `stored`."""
        if stored is None:
            return expressions.truthy(expressions.evaluate(rule, values, today=today))
        key = (name, today or expressions.current_date(), *(stored.get(question_id) for question_id in reads))
        shown = self._outcomes.get(key)
        if shown is None:
            shown = expressions.truthy(expressions.evaluate(rule, values, today=today))
            if len(self._outcomes) > 100_000:
                self._outcomes.clear()
            self._outcomes[key] = shown
        return shown

    def totals(self, hidden: frozenset[str]) -> list[float]:
        """The total weight of each indicator's applicable items (all but the hidden ones), in index order."""
        cached = self._totals.get(hidden)
        if cached is None:
            weights: list[list[float]] = [[] for _ in self.indicators]
            for question_id, items in self._item_weights.items():
                if question_id not in hidden:
                    for ind, weight in items:
                        weights[ind].append(weight)
            cached = [math.fsum(w) for w in weights]
            if len(self._totals) > 4096:
                self._totals.clear()
            self._totals[hidden] = cached
        return cached

    def scores(self, entries: Iterable[tuple], hidden: frozenset[str]) -> list[IndicatorScore]:
        """Indicator scores (in index order) from one response's answers, given as tuples whose first two
        fields are (question id, contributions)."""
        answered: list[list[float]] = [[] for _ in self.indicators]
        weighted: list[list[float]] = [[] for _ in self.indicators]
        for entry in entries:
            if hidden and entry[0] in hidden:
                continue
            for ind, weight, level_weight in entry[1]:
                answered[ind].append(weight)
                weighted[ind].append(level_weight)
        out = []
        for total, weights, levels in zip(self.totals(hidden), answered, weighted, strict=True):
            answered_weight = math.fsum(weights)
            level = math.fsum(levels) / answered_weight if weights and answered_weight > 0 else None
            out.append(IndicatorScore(level, answered_weight / total if total > 0 else None, answered_weight, total))
        return out

    def response_scores(self, values: Mapping[str, Any], today: date | None = None) -> dict[str, IndicatorScore]:
        entries = [(question_id, self.contributions(question_id, value)) for question_id, value in values.items()]
        scores = self.scores(entries, self.hidden(values, today) if self.rules else frozenset())
        return dict(zip(self.indicators, scores, strict=True))


class _MultipleChoiceLevels:
    """`get(value)`: the level of a multiple-choice answer, as MultipleChoiceType.level gives it."""

    def __init__(self, question, definition):
        self.scored = {c.value for c in question.choices if c.score is not None}
        self.count = len(self.scored)
        self.low, self.high = definition.min_level, definition.max_level

    def get(self, value):
        if not isinstance(value, list) or not value or not self.count:
            return None
        share = len(self.scored.intersection(value)) / self.count
        return self.low + share * (self.high - self.low)


_PLANS: dict[int, tuple[Any, ScoringPlan]] = {}


def plan_for(definition) -> ScoringPlan:
    """The compiled plan of a definition (cached while the definition object lives)."""
    cached = _PLANS.get(id(definition))
    if cached is not None and cached[0] is definition:
        return cached[1]
    plan = ScoringPlan(definition)
    if len(_PLANS) > 64:
        _PLANS.clear()
    _PLANS[id(definition)] = (definition, plan)
    return plan


def area_scores(definition, indicator_scores: Mapping[str, IndicatorScore]) -> dict[str, AreaScore]:
    """{area id: AreaScore} for every area, from one response's indicator scores."""
    out: dict[str, AreaScore] = {}
    for area_id, members in plan_for(definition).area_members:
        # weighted_mean of the levels, and of the coverages, of the indicators that have one
        level_products, level_weights, coverage_products, coverage_weights = [], [], [], []
        for indicator_id, weight in members:
            score = indicator_scores.get(indicator_id)
            if score is None:
                continue
            if score.level is not None:
                level_products.append(float(score.level) * weight)
                level_weights.append(weight)
            if score.coverage is not None:
                coverage_products.append(float(score.coverage) * weight)
                coverage_weights.append(weight)
        out[area_id] = AreaScore(level=_mean_of(level_products, level_weights),
                                 coverage=_mean_of(coverage_products, coverage_weights),
                                 indicators_with_level=len(level_weights), indicators=len(members))
    return out


# --- per country ---------------------------------------------------------------------------------------


def country_targets(definition, overrides: Mapping[str, Mapping[str, float | None]] | None = None,
                    country: str | None = None) -> dict[str, float]:
    """{indicator id: target} for `country`: the campaign's override when given (not None), else the default.

    `overrides` is the campaign's {country code: {indicator id: target}}; unknown indicator ids are ignored.
    """
    own = {}
    if overrides and country is not None:
        own = overrides.get(country) or {}
    targets = {}
    for _area, indicator in definition.indicators():
        value = own.get(indicator.id)
        targets[indicator.id] = float(indicator.target if value is None else value)
    return targets


def latest_rating(ratings: Iterable[Rating] | None) -> Rating | None:
    """The rating with the latest `at`; on equal timestamps the one that comes last. None for no rating."""
    latest = None
    for rating in ratings or ():
        if latest is None or rating.at >= latest.at:
            latest = rating
    return latest


def country_scores(definition, agency_scores: Iterable[Mapping[str, IndicatorScore]],
                   expert_ratings: Mapping[str, Iterable[Rating]] | None = None,
                   targets: Mapping[str, float | None] | None = None, *,
                   disagreement_threshold: float = 1.0) -> dict[str, CountryIndicator]:
    """{indicator id: CountryIndicator} for every indicator of the definition, for one country."""
    agencies = list(agency_scores)
    expert_ratings = expert_ratings or {}
    targets = targets or {}
    out: dict[str, CountryIndicator] = {}
    for area, indicator in definition.indicators():
        scores = [scores.get(indicator.id) for scores in agencies]
        scores = [s for s in scores if s is not None]
        levels = [s.level for s in scores if s.level is not None]
        self_assessed = _aggregate(levels, indicator.aggregation)
        total = math.fsum(s.total_weight for s in scores)
        answered = math.fsum(s.answered_weight for s in scores)
        ratings = list(expert_ratings.get(indicator.id) or ())
        rating = latest_rating(ratings)
        expert = None if rating is None else float(rating.level)
        assessed = expert if expert is not None else self_assessed
        target = targets.get(indicator.id)
        target = float(indicator.target if target is None else target)
        gap_value = gap(target, assessed)
        disagreement = (expert is not None and self_assessed is not None
                        and abs(expert - self_assessed) >= disagreement_threshold - _EPSILON)
        out[indicator.id] = CountryIndicator(
            self_assessed=self_assessed, expert=expert, assessed=assessed, target=target, gap=gap_value,
            priority=priority(gap_value, indicator.weight, area.weight),
            coverage=answered / total if total > 0 else None,
            agencies=sum(1 for s in scores if s.total_weight > 0), agencies_with_level=len(levels),
            disagreement=disagreement, expert_at=None if rating is None else rating.at,
            expert_by=None if rating is None else rating.expert, ratings=len(ratings))
    return out


def country_area_scores(definition, country_indicators: Mapping[str, CountryIndicator]) -> dict[str, CountryArea]:
    """{area id: CountryArea} for every area, from one country's indicator figures."""
    out: dict[str, CountryArea] = {}
    for area in definition.areas:
        pairs = [(indicator, country_indicators.get(indicator.id)) for indicator in area.indicators]
        pairs = [(i, c) for i, c in pairs if c is not None]

        def mean(field: str, pairs=pairs) -> float | None:
            return weighted_mean((getattr(c, field), i.weight) for i, c in pairs)

        assessed = mean("assessed")
        target = weighted_mean((c.target, i.weight) for i, c in pairs if c.assessed is not None)
        out[area.id] = CountryArea(
            self_assessed=mean("self_assessed"), expert=mean("expert"), assessed=assessed, target=target,
            gap=gap(target, assessed), coverage=mean("coverage"),
            indicators_with_level=sum(1 for _i, c in pairs if c.assessed is not None),
            indicators=len(area.indicators))
    return out


def ranked_priorities(definition, country_indicators: Mapping[str, CountryIndicator],
                      limit: int | None = None) -> list[tuple[str, CountryIndicator]]:
    """Indicators with a gap above 0, largest priority first (then larger gap, then definition order)."""
    order = {indicator.id: n for n, (_area, indicator) in enumerate(definition.indicators())}
    ranked = [(indicator_id, c) for indicator_id, c in country_indicators.items()
              if indicator_id in order and c.gap is not None and c.gap > 0]
    ranked.sort(key=lambda pair: (*rank_key(pair[1].priority, pair[1].gap), order[pair[0]]))
    return ranked if limit is None else ranked[:limit]
