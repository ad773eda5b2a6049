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

import json
from datetime import UTC, date, datetime

from sqlalchemy import Text, cast, delete, insert, select

from app.campaigns.models import Campaign
from app.core.models import utcnow
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


def _score_rows(definition, response_id: int, values: dict, today: date | None) -> tuple[list[dict], list[dict]]:
    """The response_scores and response_area_scores rows of one response."""
    scores = engine.response_scores(definition, values, today)
    indicator_rows = [{"response_id": response_id, "indicator_id": indicator_id, "level": score.level,
                       "coverage": score.coverage, "answered_weight": score.answered_weight,
                       "total_weight": score.total_weight} for indicator_id, score in scores.items()]
    areas = engine.area_scores(definition, scores)
    area_rows = [{"response_id": response_id, "area_id": area_id, "level": area.level, "coverage": area.coverage}
                 for area_id, area in areas.items()]
    overall = engine.weighted_mean((areas[a.id].level, a.weight) for a in definition.areas)
    coverage = engine.weighted_mean((areas[a.id].coverage, a.weight) for a in definition.areas)
    area_rows.append({"response_id": response_id, "area_id": OVERALL, "level": overall, "coverage": coverage})
    return indicator_rows, area_rows


def refresh_response(response: Response, today: date | None = None) -> None:
    """Replace the response's indicator and area scores (none unless it is submitted or validated)."""
    db.session.execute(delete(ResponseScore).where(ResponseScore.response_id == response.id))
    db.session.execute(delete(ResponseAreaScore).where(ResponseAreaScore.response_id == response.id))
    if response.status not in SCORED_STATUSES:
        return
    definition = definition_of(response.version)
    indicator_rows, area_rows = _score_rows(definition, response.id, answer_values(response), today)
    if indicator_rows:  # a questionnaire without indicators has nothing to score
        db.session.execute(insert(ResponseScore.__table__), indicator_rows)
    if area_rows:
        db.session.execute(insert(ResponseAreaScore.__table__), area_rows)
    db.session.flush()


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes (stored in UTC): make them comparable with aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def refresh_country(campaign: Campaign, country_id: int) -> None:
    """Recompute one country's indicator and area figures in one campaign."""
    country = db.session.get(Country, country_id)
    definition = definition_of(campaign.version)
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
    ratings: dict[str, list[engine.Rating]] = {}
    for rating in db.session.scalars(select(ExpertRating).where(
            ExpertRating.campaign_id == campaign.id, ExpertRating.country_id == country_id)
            .order_by(ExpertRating.created_at, ExpertRating.id)):
        ratings.setdefault(rating.indicator_id, []).append(
            engine.Rating(level=rating.level, at=_aware(rating.created_at), expert=rating.expert_id))
    targets = engine.country_targets(definition, campaign.target_overrides or {}, country.code)
    indicators = engine.country_scores(definition, list(by_response.values()), ratings, targets)
    areas = engine.country_area_scores(definition, indicators)
    area_of = {indicator.id: area.id for area, indicator in definition.indicators()}

    db.session.execute(delete(CountryScore).where(CountryScore.campaign_id == campaign.id,
                                                  CountryScore.country_id == country_id))
    db.session.execute(delete(CountryAreaScore).where(CountryAreaScore.campaign_id == campaign.id,
                                                      CountryAreaScore.country_id == country_id))
    now = utcnow()
    for indicator_id, figure in indicators.items():
        db.session.add(CountryScore(
            campaign_id=campaign.id, country_id=country_id, indicator_id=indicator_id, area_id=area_of[indicator_id],
            self_assessed=figure.self_assessed, expert=figure.expert, assessed=figure.assessed, target=figure.target,
            gap=figure.gap, priority=figure.priority, coverage=figure.coverage, agencies=figure.agencies,
            agencies_with_level=figure.agencies_with_level, ratings=figure.ratings,
            disagreement=figure.disagreement, updated_at=now))
    for area_id, figure in areas.items():
        db.session.add(CountryAreaScore(
            campaign_id=campaign.id, country_id=country_id, area_id=area_id, self_assessed=figure.self_assessed,
            expert=figure.expert, assessed=figure.assessed, target=figure.target, gap=figure.gap,
            coverage=figure.coverage, updated_at=now))
    db.session.flush()


def response_changed(response: Response, today: date | None = None) -> None:
    """After a submission, return or validation: the response's scores and its country's figures."""
    refresh_response(response, today)
    if response.agency.country_id is not None:
        refresh_country(response.campaign, response.agency.country_id)


def rating_changed(campaign: Campaign, country_id: int) -> None:
    """After an expert rating: the country's figures."""
    refresh_country(campaign, country_id)


def _stream_values(response_ids_query, batch: int = 20000):
    """(response id, {question id: value}) for the responses of `response_ids_query`, in id order, read from a
    server-side cursor; each response's values are decoded from JSON in one call."""
    rows = db.session.connection().execute(
        select(Answer.response_id, Answer.question_id, cast(Answer.value, Text))
        .where(Answer.response_id.in_(response_ids_query)).order_by(Answer.response_id)
        .execution_options(yield_per=batch))
    current, ids, texts = None, [], []
    for response_id, question_id, text in rows:
        if response_id != current and current is not None:
            yield current, dict(zip(ids, json.loads("[" + ",".join(texts) + "]"), strict=True))
            ids, texts = [], []
        current = response_id
        ids.append(question_id)
        texts.append(text if text is not None else "null")
    if current is not None:
        yield current, dict(zip(ids, json.loads("[" + ",".join(texts) + "]"), strict=True))


def _rebuild_response_scores(campaign: Campaign, today: date | None) -> int:
    """Every response score of a campaign again, in bulk; the number of scored responses."""
    in_campaign = select(Response.id).where(Response.campaign_id == campaign.id)
    db.session.execute(delete(ResponseScore).where(ResponseScore.response_id.in_(in_campaign)))
    db.session.execute(delete(ResponseAreaScore).where(ResponseAreaScore.response_id.in_(in_campaign)))
    scored = select(Response.id).where(Response.campaign_id == campaign.id, Response.status.in_(SCORED_STATUSES))
    versions = dict(db.session.execute(select(Response.id, Response.version_id).where(Response.id.in_(scored))).all())
    definitions: dict[int, object] = {}
    pending: list[dict] = []
    pending_areas: list[dict] = []

    def write() -> None:
        if pending:
            db.session.execute(insert(ResponseScore.__table__), pending)
            pending.clear()
        if pending_areas:
            db.session.execute(insert(ResponseAreaScore.__table__), pending_areas)
            pending_areas.clear()

    def add(response_id: int, values: dict) -> None:
        version_id = versions[response_id]
        if version_id not in definitions:
            definitions[version_id] = definition_of(db.session.get(QuestionnaireVersion, version_id))
        indicator_rows, area_rows = _score_rows(definitions[version_id], response_id, values, today)
        pending.extend(indicator_rows)
        pending_areas.extend(area_rows)
        if len(pending) >= 20000:
            write()

    seen = set()
    for response_id, values in _stream_values(scored):
        seen.add(response_id)
        add(response_id, values)
    for response_id in versions.keys() - seen:  # scored responses without any answer
        add(response_id, {})
    write()
    return len(versions)


def rebuild(campaign_id: int | None = None, today: date | None = None) -> dict[str, int]:
    """Recompute every score (of one campaign, or all) from the answers; returns counts for the report.

    Gives exactly what the incremental updates give (the same engine), in bulk: the answers of a campaign are
    read once from a server-side cursor and the scores written with multi-row inserts."""
    campaigns = [db.session.get(Campaign, campaign_id)] if campaign_id else list(
        db.session.scalars(select(Campaign).order_by(Campaign.id)))
    counts = {"campaigns": 0, "responses": 0, "countries": 0}
    for campaign in campaigns:
        if campaign is None:
            continue
        counts["campaigns"] += 1
        counts["responses"] += _rebuild_response_scores(campaign, today)
        country_ids = set(db.session.scalars(
            select(Agency.country_id).join(Response, Response.agency_id == Agency.id)
            .where(Response.campaign_id == campaign.id, Agency.country_id.is_not(None))))
        country_ids |= {a.country_id for a in campaign.agencies if a.country_id is not None}
        for country_id in sorted(country_ids):
            refresh_country(campaign, country_id)
        counts["countries"] += len(country_ids)
    db.session.flush()
    return counts
