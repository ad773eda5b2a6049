"""Keeping the materialized scores up to date (the database side of the pure engine).

- `refresh_response(response)`: the response's per-indicator scores (only submitted and validated responses
  count: an answer in progress, or returned to the agency, is not a finding yet; others have no rows).
- `refresh_country(campaign, country_id)`: the country's indicator and area figures from its agencies'
  response scores, the experts' ratings and the campaign's targets.
- `response_changed(response)`: both, called in the same transaction as submission, return and validation;
  `rating_changed(campaign, country_id)` after an expert rating.
- `rebuild(campaign_id=None)`: everything again from the answers (`flask scores rebuild`); gives exactly
  what the incremental updates gave.
"""

from __future__ import annotations

import gc
import json
from datetime import date

from sqlalchemy import DateTime, Text, case, cast, delete, func, insert, literal, select

from app.campaigns.models import Campaign
from app.campaigns.services import campaign_countries, lock_campaign
from app.core.models import as_utc, utcnow
from app.directory.models import Agency, Country
from app.extensions import db
from app.questionnaires.models import QuestionnaireVersion
from app.questionnaires.services import definition_of
from app.responses.models import Answer, Response
from app.responses.services import answer_values
from app.review.models import ExpertRating
from app.scoring import engine
from app.scoring.models import CountryAreaScore, CountryScore, ResponseAreaScore, ResponseScore

#: Responses whose answers count in the scores.
SCORED_STATUSES = ("submitted", "validated")


#: The area id of a response's overall level in response_area_scores.
OVERALL = "*"


def _score_rows(definition, response_id: int, scores: dict[str, engine.IndicatorScore]
                ) -> tuple[list[tuple], list[tuple]]:
    """The response_scores and response_area_scores rows (tuples in RESPONSE_COLUMNS / AREA_COLUMNS order) of
    one response's indicator scores."""
    indicator_rows = [(response_id, indicator_id, score.level, score.coverage, score.answered_weight,
                       score.total_weight) for indicator_id, score in scores.items()]
    areas = engine.area_scores(definition, scores)
    area_rows = [(response_id, area_id, area.level, area.coverage) for area_id, area in areas.items()]
    overall = engine.weighted_mean((areas[a.id].level, a.weight) for a in definition.areas)
    coverage = engine.weighted_mean((areas[a.id].coverage, a.weight) for a in definition.areas)
    area_rows.append((response_id, OVERALL, overall, coverage))
    return indicator_rows, area_rows


RESPONSE_COLUMNS = ("response_id", "indicator_id", "level", "coverage", "answered_weight", "total_weight")
AREA_COLUMNS = ("response_id", "area_id", "level", "coverage")
COUNTRY_COLUMNS = ("campaign_id", "country_id", "indicator_id", "area_id", "self_assessed", "expert", "assessed",
                   "target", "gap", "priority", "coverage", "agencies", "agencies_with_level", "ratings",
                   "disagreement", "updated_at")
COUNTRY_AREA_COLUMNS = ("campaign_id", "country_id", "area_id", "self_assessed", "expert", "assessed", "target",
                        "gap", "coverage", "updated_at")


def _insert(table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert many rows (tuples in `columns` order) in the session's transaction with the driver's fastest
    bulk path: executemany on SQLite, COPY on PostgreSQL."""
    if not rows:
        return
    connection = db.session.connection()
    driver = connection.connection.driver_connection
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    elif connection.dialect.name == "sqlite":
        # Datetimes as SQLAlchemy itself writes them (its text form; sqlite3's own adapter is deprecated);
        # the other values (floats, ints, strings, bools) the driver stores as SQLAlchemy would.
        dialect = connection.dialect
        processors = [(n, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
                      for n, name in enumerate(columns) if isinstance(table.c[name].type, DateTime)]
        if processors:
            rows = [_processed(row, processors) for row in rows]
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # noqa: S608 - our own table and columns
        driver.cursor().executemany(sql, rows)
    else:  # pragma: no cover - the two supported databases are above
        connection.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


def _processed(row: tuple, processors: list) -> tuple:
    values = list(row)
    for n, process in processors:
        if values[n] is not None:
            values[n] = process(values[n])
    return tuple(values)


_SCORE_MODELS = (ResponseScore, ResponseAreaScore, CountryScore, CountryAreaScore)


def _forget_loaded_scores() -> None:
    """Drop score objects the session holds: their rows were just replaced behind the ORM's back (table-level
    deletes, driver-level inserts), so a later `session.get` must read the new rows."""
    for instance in [i for i in db.session.identity_map.values() if isinstance(i, _SCORE_MODELS)]:
        db.session.expunge(instance)


def refresh_response(response: Response, today: date | None = None) -> None:
    """Replace the response's indicator and area scores (none unless it is submitted or validated)."""
    for table in (ResponseScore.__table__, ResponseAreaScore.__table__):
        db.session.execute(delete(table).where(table.c.response_id == response.id))
    if response.status not in SCORED_STATUSES:
        _forget_loaded_scores()
        return
    definition = definition_of(response.version)
    scores = engine.response_scores(definition, answer_values(response), today)
    indicator_rows, area_rows = _score_rows(definition, response.id, scores)
    db.session.flush()
    _insert(ResponseScore.__table__, RESPONSE_COLUMNS, indicator_rows)
    _insert(ResponseAreaScore.__table__, AREA_COLUMNS, area_rows)
    _forget_loaded_scores()


def _ratings(campaign_id: int, country_id: int | None = None) -> dict[int, dict[str, list[engine.Rating]]]:
    """{country id: {indicator id: ratings, oldest first}} of a campaign (or of one of its countries)."""
    query = select(ExpertRating).where(ExpertRating.campaign_id == campaign_id)
    if country_id is not None:
        query = query.where(ExpertRating.country_id == country_id)
    out: dict[int, dict[str, list[engine.Rating]]] = {}
    for rating in db.session.scalars(query.order_by(ExpertRating.created_at, ExpertRating.id)):
        out.setdefault(rating.country_id, {}).setdefault(rating.indicator_id, []).append(
            engine.Rating(level=rating.level, at=as_utc(rating.created_at), expert=rating.expert_id))
    return out


def _country_rows(campaign: Campaign, definition, country: Country,
                  agency_scores: list[dict[str, engine.IndicatorScore]],
                  ratings: dict[str, list[engine.Rating]]) -> tuple[list[tuple], list[tuple]]:
    """The country_scores and country_area_scores rows of one country (COUNTRY_COLUMNS / COUNTRY_AREA_COLUMNS)."""
    targets = engine.country_targets(definition, campaign.target_overrides or {}, country.code)
    indicators = engine.country_scores(definition, agency_scores, ratings, targets)
    areas = engine.country_area_scores(definition, indicators)
    area_of = {indicator.id: area.id for area, indicator in definition.indicators()}
    now = utcnow()
    rows = [(campaign.id, country.id, indicator_id, area_of[indicator_id], f.self_assessed, f.expert, f.assessed,
             f.target, f.gap, f.priority, f.coverage, f.agencies, f.agencies_with_level, f.ratings, f.disagreement,
             now) for indicator_id, f in indicators.items()]
    area_rows = [(campaign.id, country.id, area_id, f.self_assessed, f.expert, f.assessed, f.target, f.gap,
                  f.coverage, now) for area_id, f in areas.items()]
    return rows, area_rows


def figure_countries(campaign: Campaign) -> set[int]:
    """The countries that have figures in a campaign: those of every response (whatever its status) and of every
    agency asked."""
    country_ids = set(db.session.scalars(
        select(Agency.country_id).join(Response, Response.agency_id == Agency.id)
        .where(Response.campaign_id == campaign.id, Agency.country_id.is_not(None))))
    return country_ids | {country.id for country in campaign_countries(campaign)}


def refresh_country(campaign: Campaign, country_id: int) -> None:
    """Recompute one country's indicator and area figures in one campaign."""
    lock_campaign(campaign.id)
    country = db.session.get(Country, country_id)
    rows = db.session.connection().execute(
        select(ResponseScore.response_id, ResponseScore.indicator_id, ResponseScore.level, ResponseScore.coverage,
               ResponseScore.answered_weight, ResponseScore.total_weight)
        .join(Response, Response.id == ResponseScore.response_id)
        .join(Agency, Agency.id == Response.agency_id)
        .where(Response.campaign_id == campaign.id, Agency.country_id == country_id,
               Response.status.in_(SCORED_STATUSES))
        .order_by(ResponseScore.response_id))
    by_response: dict[int, dict[str, engine.IndicatorScore]] = {}
    for response_id, indicator_id, level, coverage, answered, total in rows:
        by_response.setdefault(response_id, {})[indicator_id] = engine.IndicatorScore(
            level=level, coverage=coverage, answered_weight=answered, total_weight=total)
    indicator_rows, area_rows = _country_rows(campaign, definition_of(campaign.version), country,
                                              list(by_response.values()), _ratings(campaign.id, country_id).get(
                                                  country_id, {}))
    delete_country_scores(campaign.id, country_id)
    db.session.flush()
    _insert(CountryScore.__table__, COUNTRY_COLUMNS, indicator_rows)
    _insert(CountryAreaScore.__table__, COUNTRY_AREA_COLUMNS, area_rows)
    _forget_loaded_scores()


def delete_country_scores(campaign_id: int, country_id: int | None = None) -> None:
    """Delete a campaign's country figures (of one country, or all)."""
    for table in (CountryScore.__table__, CountryAreaScore.__table__):
        query = delete(table).where(table.c.campaign_id == campaign_id)
        if country_id is not None:
            query = query.where(table.c.country_id == country_id)
        db.session.execute(query)
    _forget_loaded_scores()


def response_changed(response: Response, today: date | None = None) -> None:
    """After a submission, return or validation: the response's scores and its country's figures."""
    refresh_response(response, today)
    if response.agency.country_id is not None:
        refresh_country(response.campaign, response.agency.country_id)


def rating_changed(campaign: Campaign, country_id: int) -> None:
    """After an expert rating: the country's figures."""
    refresh_country(campaign, country_id)


#: Separators of the packed answers of a response: they cannot occur in a question id (an identifier) nor in
#: stored JSON text (JSON escapes control characters).
_ITEM, _FIELD = "\x1e", "\x1f"


#: Responses fetched at a time by a rebuild.
_FETCH = 500


def _stored_answers(campaign_id: int, question_ids: list[str]):
    """Batches of (response id, packed answers) of a campaign's scored responses: one row per response with
    its answers to `question_ids` packed as "question id _FIELD stored JSON text" items joined by _ITEM.

    Packing in the database returns one row per response instead of one per answer, which is what makes
    reading every answer once cheap in Python; read with the driver's own cursor (server-side on PostgreSQL)
    in the session's transaction."""
    connection = db.session.connection()
    postgres = connection.dialect.name == "postgresql"
    text = cast(Answer.value, Text)
    if not postgres:
        # SQLite stores JSON numbers in a NUMERIC column as numbers, and CAST(real AS TEXT) keeps only 15
        # significant digits: write reals with 17 (enough to give back the same double).
        text = case((func.typeof(Answer.value) == "real", func.printf("%!.17g", Answer.value)), else_=text)
    item = Answer.question_id + literal(_FIELD) + func.coalesce(text, literal("null"))
    packed = func.string_agg(item, literal(_ITEM)) if postgres else func.group_concat(item, literal(_ITEM))
    query = (select(Response.id, packed).join(Answer, Answer.response_id == Response.id)
             # question_id || '' rather than question_id: an expression, so that SQLite walks each response's
             # answers instead of looking every listed question up in the (response, question) index
             .where(Response.campaign_id == campaign_id, Response.status.in_(SCORED_STATUSES),
                    (Answer.question_id + literal("")).in_(question_ids))
             .group_by(Response.id))
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    driver = connection.connection.driver_connection
    cursor = driver.cursor(name=f"scores_rebuild_{campaign_id}") if postgres else driver.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(_FETCH):
            yield rows
    finally:
        cursor.close()


class _Scorer:
    """Scores the packed answers of responses to one questionnaire version: each (question, stored value) is
    decoded and turned into contributions once (`engine.ScoringPlan.contributions`), then looked up."""

    def __init__(self, definition, today: date | None):
        self.definition = definition
        self.plan = engine.plan_for(definition)
        self.today = today
        #: packed answer -> (question id, contributions, decoded value or _UNREAD, stored JSON text); filled by
        #: `_entry`
        self._memo: dict[str, tuple] = {}

    #: Bound on remembered answers: questions with free numbers can have as many distinct values as responses.
    MEMO_LIMIT = 500_000

    def _entry(self, item: str) -> tuple:
        question_id, _sep, text = item.partition(_FIELD)
        value = json.loads(text)
        if len(self._memo) >= self.MEMO_LIMIT:
            self._memo.clear()
        found = self._memo[item] = (question_id, self.plan.contributions(question_id, value),
                                    value if question_id in self.plan.referenced else _UNREAD, text)
        return found

    def scores(self, packed: str | None) -> dict[str, engine.IndicatorScore]:
        """The indicator scores of one response from its packed answers (see `_stored_answers`)."""
        memo, entry = self._memo, self._entry
        entries = [memo.get(item) or entry(item) for item in packed.split(_ITEM)] if packed else []
        hidden = frozenset()
        if self.plan.rules:
            read = [e for e in entries if e[2] is not _UNREAD]
            hidden = self.plan.hidden({e[0]: e[2] for e in read}, self.today, stored={e[0]: e[3] for e in read})
        return dict(zip(self.plan.indicators, self.plan.scores(entries, hidden), strict=True))


_UNREAD = object()


#: Response score rows kept before they are written during a rebuild.
_WRITE_EVERY = 20000


def _rebuild_campaign(campaign: Campaign, today: date | None) -> tuple[int, int]:
    """Every score of a campaign again from its answers, in bulk: (scored responses, countries)."""
    lock_campaign(campaign.id)
    in_campaign = select(Response.id).where(Response.campaign_id == campaign.id)
    for table in (ResponseScore.__table__, ResponseAreaScore.__table__):
        db.session.execute(delete(table).where(table.c.response_id.in_(in_campaign)))
    delete_country_scores(campaign.id)
    responses = {response_id: (version_id, country_id) for response_id, version_id, country_id in db.session.execute(
        select(Response.id, Response.version_id, Agency.country_id).join(Agency, Agency.id == Response.agency_id)
        .where(Response.campaign_id == campaign.id, Response.status.in_(SCORED_STATUSES)))}
    db.session.flush()
    scorers: dict[int, _Scorer] = {}
    by_country: dict[int, list[dict[str, engine.IndicatorScore]]] = {}
    pending: list[tuple] = []
    pending_areas: list[tuple] = []
    for version_id in sorted({version_id for version_id, _country in responses.values()}):
        scorers[version_id] = _Scorer(definition_of(db.session.get(QuestionnaireVersion, version_id)), today)
    question_ids = sorted({question_id for scorer in scorers.values()
                           for question_id in scorer.plan.scoring_questions | scorer.plan.referenced})

    def score(response_id: int, packed: str | None) -> None:
        scorer = scorers[responses[response_id][0]]
        scores = scorer.scores(packed)
        indicator_rows, area_rows = _score_rows(scorer.definition, response_id, scores)
        pending.extend(indicator_rows)
        pending_areas.extend(area_rows)
        country_id = responses[response_id][1]
        if country_id is not None:
            by_country.setdefault(country_id, []).append(scores)

    def write() -> None:
        _insert(ResponseScore.__table__, RESPONSE_COLUMNS, pending)
        _insert(ResponseAreaScore.__table__, AREA_COLUMNS, pending_areas)
        pending.clear()
        pending_areas.clear()

    seen: set[int] = set()
    for rows in _stored_answers(campaign.id, question_ids) if question_ids else ():
        for response_id, packed in rows:
            seen.add(response_id)
            score(response_id, packed)
        if len(pending) >= _WRITE_EVERY:
            write()  # the driver's cursor keeps reading meanwhile (server-side on PostgreSQL)
    for response_id in sorted(responses.keys() - seen):  # scored responses without any answer read
        score(response_id, None)
    write()

    definition = definition_of(campaign.version)
    country_ids = figure_countries(campaign)
    ratings = _ratings(campaign.id)
    country_rows: list[tuple] = []
    area_rows: list[tuple] = []
    for country in db.session.scalars(select(Country).where(Country.id.in_(country_ids)).order_by(Country.id)):
        rows, areas = _country_rows(campaign, definition, country, by_country.get(country.id, []),
                                    ratings.get(country.id, {}))
        country_rows.extend(rows)
        area_rows.extend(areas)
    _insert(CountryScore.__table__, COUNTRY_COLUMNS, country_rows)
    _insert(CountryAreaScore.__table__, COUNTRY_AREA_COLUMNS, area_rows)
    _forget_loaded_scores()
    return len(responses), len(country_ids)


def rebuild(campaign_id: int | None = None, today: date | None = None) -> dict[str, int]:
    """Recompute every score (of one campaign, or all) from the answers; returns counts for the report.

    Gives exactly what the incremental updates give (the same engine and the same exact sums), in bulk:
    the answers of a campaign are read once with the driver's cursor, each distinct (question, stored
    value) is scored once, and the scores are written with the driver's bulk path."""
    campaigns = [db.session.get(Campaign, campaign_id)] if campaign_id else list(
        db.session.scalars(select(Campaign).order_by(Campaign.id)))
    counts = {"campaigns": 0, "responses": 0, "countries": 0}
    collecting = gc.isenabled()
    gc.disable()  # millions of short-lived tuples and no cycles: the cyclic collector would only slow it down
    try:
        for campaign in campaigns:
            if campaign is None:
                continue
            responses, countries = _rebuild_campaign(campaign, today)
            counts["campaigns"] += 1
            counts["responses"] += responses
            counts["countries"] += countries
    finally:
        if collecting:
            gc.enable()
    return counts
