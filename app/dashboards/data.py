"""The data of each dashboard, as plain dicts and lists, limited to what the actor may see.

One function per view; each reads the materialized scores (app.scoring.models), never raw answers, except
`question_data` (the answers of the one question being explored) and the "priorities" texts of
`country_data`:

- `progress_data(campaign, actor, filters, lang=..., today=...)`: responses by status per country, submissions
  over time and the deadline;
- `country_data(campaign, actor, country_code, filters, lang=...)`: one country's area and indicator figures,
  its agencies' indicator levels, coverage and the agencies' priorities in their own words;
- `regional_data(campaign, actor, filters, lang=...)`: countries x areas gaps, the largest gaps of the region,
  the spread of agency levels per country, and an anonymous regional average;
- `question_data(campaign, actor, filters, lang=...)`: the distribution of the answers to one question by
  country and by agency type.

Scope: staff and admins see every country and the regional bodies; an expert sees only the countries
assigned to them (never a regional body): other countries' data never appears in the result, except folded
into the anonymous regional average (no name, no code) when `DASHBOARD_REGIONAL_AVERAGE` is on (default).
A country the actor may not see raises `NotFound` (the view answers 404, as for a country that does not
exist); other roles raise `PermissionError`.

Only submitted and validated responses count (app.scoring.store.SCORED_STATUSES), as in the scores: an
answer in progress, or returned to the agency, is not a finding yet.

"Priorities" questions (shown on the country profile, grouped by agency): the free-text questions (`text`
or `long_text`) whose id contains "priorit", and the `long_text` questions of a section whose id contains
"priorit" (e.g. section `priorities`, questions `priority_need_1`, `priorities`).

The agency type filter applies to what is counted per agency (progress, the agencies x indicators heatmap,
the spread of agency levels, the priorities, the question explorer); country figures (area and indicator
levels, gaps) combine all of a country's agencies and the experts' ratings, so they are never filtered by
agency type. The area filter limits areas and indicators everywhere.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import and_, select

from app.campaigns.models import Campaign, campaign_agencies
from app.campaigns.services import campaign_countries, campaigns_for, days_to_deadline
from app.directory.models import AGENCY_TYPES, Agency, Country
from app.extensions import db
from app.i18n import local_day
from app.questionnaires.qtypes import SPECIAL, is_special
from app.questionnaires.rendering import SkipLogic
from app.questionnaires.services import definition_of
from app.responses.models import RESPONSE_STATUSES, Answer, Response
from app.responses.services import expert_country_ids, may_see_agency
from app.scoring import engine
from app.scoring.models import CountryAreaScore, CountryScore, ResponseAreaScore, ResponseScore
from app.scoring.store import OVERALL, SCORED_STATUSES

#: Roles that see dashboards (respondents never do).
DASHBOARD_ROLES = ("staff", "admin", "expert")
#: Pseudo country code of the regional bodies (agencies of no single country); staff and admins only.
REGIONAL_BODIES = "-"
#: Question types whose answers the question explorer can count (or, for numbers, summarise).
EXPLORABLE_TYPES = ("single_choice", "multiple_choice", "yes_no", "scale", "number", "matrix")
#: How many of the largest gaps the regional view lists.
TOP_GAPS = 10


class NotFound(LookupError):
    """The country does not exist or the actor may not see it (the view answers 404 either way)."""


@dataclass(frozen=True)
class Filters:
    """The filters of a dashboard, as kept in the URL's query string (the campaign is chosen apart)."""

    #: ISO code of a country, or REGIONAL_BODIES; None: every country the actor may see.
    country: str | None = None
    #: One of AGENCY_TYPES; None: every type.
    kind: str | None = None
    #: An area id of the campaign's questionnaire; None: every area.
    area: str | None = None
    #: Question explorer: a question id, or "question_id/row_id" for a row of a matrix question.
    question: str | None = None

    @classmethod
    def from_mapping(cls, args: Mapping[str, str], definition=None) -> Filters:
        """Filters from query-string arguments; unknown values are dropped (never an error)."""
        country = (args.get("country") or "").strip().upper() or None
        if country and country != REGIONAL_BODIES and (len(country) != 2 or not country.isalpha()):
            country = None
        kind = args.get("kind") if args.get("kind") in AGENCY_TYPES else None
        area = args.get("area") or None
        if area and definition is not None and area not in {a.id for a in definition.areas}:
            area = None
        question = (args.get("question") or "").strip()[:170] or None
        return cls(country=country, kind=kind, area=area, question=question)

    def as_dict(self) -> dict:
        """The filters as a dict (None values included)."""
        return asdict(self)


# --- scope and common parts ----------------------------------------------------------------------------


def _scope(actor) -> set[int] | None:
    """Country ids the actor may see; None means every country (and the regional bodies)."""
    role = getattr(actor, "role", None)
    if role in ("staff", "admin"):
        return None
    if role == "expert":
        return expert_country_ids(actor)
    raise PermissionError("dashboards are for staff and experts")


def regional_average_enabled() -> bool:
    """Whether the regional view shows the anonymous regional average (config DASHBOARD_REGIONAL_AVERAGE)."""
    return bool(current_app.config.get("DASHBOARD_REGIONAL_AVERAGE", True))


def regional_average_allowed(campaign: Campaign, actor) -> bool:
    """Whether this viewer may see the anonymous regional average: enabled, and (for an expert) at least
    DASHBOARD_AVERAGE_MIN_OTHERS countries outside the expert's scope have figures, so no single hidden
    country can be worked out from the average and the expert's own countries."""
    if not regional_average_enabled():
        return False
    scope = _scope(actor)
    if scope is None:
        return True
    with_figures = set(db.session.scalars(select(CountryAreaScore.country_id).where(
        CountryAreaScore.campaign_id == campaign.id, CountryAreaScore.assessed.is_not(None)).distinct()))
    return not _too_few_others(scope, with_figures)


def _too_few_others(scope: set[int] | None, country_ids: Iterable[int]) -> bool:
    """Whether an average over figures of these countries would give away a country outside the viewer's
    scope: fewer than DASHBOARD_AVERAGE_MIN_OTHERS of them lie outside it (never for staff)."""
    if scope is None:
        return False
    minimum = int(current_app.config.get("DASHBOARD_AVERAGE_MIN_OTHERS", 2))
    return len(set(country_ids) - set(scope)) < minimum


def list_campaigns(actor) -> list[Campaign]:
    """Campaigns to choose from, newest first: those the actor may know of, drafts left out."""
    return [c for c in campaigns_for(actor) if c.status != "draft"]


def default_campaign(actor) -> Campaign | None:
    """The newest open campaign, else the newest one that is not a draft (of those the actor may know of)."""
    campaigns = list_campaigns(actor)
    return next((c for c in campaigns if c.status == "open"), campaigns[0] if campaigns else None)


def visible_countries(campaign: Campaign, actor) -> list[Country]:
    """The countries of the campaign's agencies that the actor may see, by code."""
    scope = _scope(actor)
    return [c for c in campaign_countries(campaign) if scope is None or c.id in scope]


def may_filter_country(campaign: Campaign, actor, code: str) -> bool:
    """Whether the actor may narrow a view to this country (or the regional bodies): staff, any; an expert, only
    their own countries; either, only a country the campaign asks (or its regional bodies, when it asks some). A
    filter outside that is refused (404) rather than shown as a view with no data, which would pass for a country
    without answers."""
    if code == REGIONAL_BODIES:
        return _scope(actor) is None and any(a.country_id is None for a in campaign.agencies)
    return code in {c.code for c in visible_countries(campaign, actor)}


def _visible_agencies(campaign: Campaign, actor, filters: Filters) -> list[Agency]:
    """The campaign's agencies the actor may see, narrowed by the country and agency type filters."""
    _scope(actor)
    agencies = [a for a in campaign.agencies if may_see_agency(actor, a)]
    if filters.country:
        agencies = [a for a in agencies if (a.country_code or REGIONAL_BODIES) == filters.country]
    if filters.kind:
        agencies = [a for a in agencies if a.kind == filters.kind]
    return agencies


def campaign_info(campaign: Campaign) -> dict:
    """The campaign's id, name, status and dates (ISO), as every view's data gives them."""
    return {"id": campaign.id, "name": campaign.shown_name, "status": campaign.status,
            "opens_on": _iso(campaign.opens_on), "deadline": _iso(campaign.deadline)}


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None


def _agency_info(agency: Agency, lang: str) -> dict:
    return {"id": agency.id, "acronym": agency.acronym, "name": agency.name(lang), "kind": agency.kind,
            "country": agency.country_code or None}


def _round(value: float | None, places: int = 2) -> float | None:
    """A figure for the data of a view as the pages show it: two decimals, half up and without binary noise
    (`engine.round_score`), the same figure as on the review pages and in the reports. Rounded once, from the
    stored value: a figure kept with more decimals and rounded again for the page could show 1.55 for a level
    of 1.544973 (1.5450, then 1.55). Rankings and statistics are worked out on the stored values first."""
    return engine.round_score(value, places)


def _areas(definition, filters: Filters, lang: str) -> list[dict]:
    return [{"id": a.id, "title": definition.text(a.title, lang), "weight": a.weight}
            for a in definition.areas if not filters.area or a.id == filters.area]


def _indicators(definition, filters: Filters, lang: str) -> list[dict]:
    return [{"id": i.id, "title": definition.text(i.title, lang), "area_id": a.id,
             "area_title": definition.text(a.title, lang), "weight": i.weight}
            for a, i in definition.indicators() if not filters.area or a.id == filters.area]


def _scored_responses(campaign: Campaign, agency_ids: Iterable[int]) -> dict[int, int]:
    """{response id: agency id} of the submitted and validated responses of these agencies."""
    ids = list(agency_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Response.id, Response.agency_id).where(
        Response.campaign_id == campaign.id, Response.status.in_(SCORED_STATUSES),
        Response.agency_id.in_(ids))).all())


def _response_scores(response_ids: Iterable[int]) -> dict[int, dict[str, engine.IndicatorScore]]:
    """{response id: {indicator id: IndicatorScore}} from the materialized response scores."""
    ids = list(response_ids)
    out: dict[int, dict[str, engine.IndicatorScore]] = {}
    if not ids:
        return out
    rows = db.session.execute(select(ResponseScore.response_id, ResponseScore.indicator_id, ResponseScore.level,
                                     ResponseScore.coverage, ResponseScore.answered_weight,
                                     ResponseScore.total_weight).where(ResponseScore.response_id.in_(ids)))
    for response_id, indicator_id, level, coverage, answered, total in rows:
        out.setdefault(response_id, {})[indicator_id] = engine.IndicatorScore(
            level=level, coverage=coverage, answered_weight=answered or 0.0, total_weight=total or 0.0)
    return out


def _mean(values: Iterable[float | None]) -> float | None:
    kept = [float(v) for v in values if v is not None]
    return math.fsum(kept) / len(kept) if kept else None


# --- campaign progress ---------------------------------------------------------------------------------


def progress_data(campaign: Campaign, actor, filters: Filters = Filters(), *, lang: str = "en",
                  today: date | None = None) -> dict:
    """Responses by status per country, and the cumulative submissions over time against the deadline: each
    agency once, on the day it first submitted (one whose answers were returned for clarification keeps its day,
    rather than leaving the curve until it submits again)."""
    agencies = _visible_agencies(campaign, actor, filters)
    ids = [a.id for a in agencies]
    responses = {agency_id: (status, submitted_at) for agency_id, status, submitted_at in db.session.execute(
        select(Response.agency_id, Response.status, Response.first_submitted_at).where(
            Response.campaign_id == campaign.id, Response.agency_id.in_(ids or [-1])))}
    blocks: dict[str, dict] = {}
    days: Counter = Counter()
    for agency in sorted(agencies, key=lambda a: (a.country_code or "~", a.acronym)):
        status, submitted_at = responses.get(agency.id, ("not_started", None))
        code = agency.country_code or REGIONAL_BODIES
        block = blocks.setdefault(code, {"code": code, "name": agency.country.name(lang) if agency.country else "",
                                         "counts": dict.fromkeys(RESPONSE_STATUSES, 0), "total": 0})
        block["counts"][status] = block["counts"].get(status, 0) + 1
        block["total"] += 1
        if submitted_at is not None:  # on the reader's calendar, as the response's page gives its time
            days[local_day(submitted_at)] += 1
    cumulative = 0
    submissions = []
    for day in sorted(days):
        cumulative += days[day]
        submissions.append({"date": day.isoformat(), "count": days[day], "cumulative": cumulative})
    totals = dict.fromkeys(RESPONSE_STATUSES, 0)
    for block in blocks.values():
        for status, n in block["counts"].items():
            totals[status] += n
    return {
        "view": "progress",
        "campaign": campaign_info(campaign),
        "filters": filters.as_dict(),
        "statuses": list(RESPONSE_STATUSES),
        "countries": list(blocks.values()),
        "totals": totals,
        "agencies": len(agencies),
        "submitted": sum(totals[s] for s in SCORED_STATUSES),
        "submissions": submissions,
        "days_to_deadline": days_to_deadline(campaign, today),
    }


# --- country profile -----------------------------------------------------------------------------------


def country_of(campaign: Campaign, actor, code: str) -> Country:
    """The country with this ISO code if the campaign asks it and the actor may see it, else NotFound (a country
    the campaign does not ask would show as one without answers)."""
    country = next((c for c in visible_countries(campaign, actor) if c.code == (code or "").upper()), None)
    if country is None:
        raise NotFound(code)
    return country


def is_priorities_question(section, question) -> bool:
    """The rule for the "priorities" free-text questions (see the module docstring)."""
    if question.type not in ("text", "long_text"):
        return False
    return "priorit" in question.id or (question.type == "long_text" and "priorit" in section.id)


def country_data(campaign: Campaign, actor, country_code: str, filters: Filters = Filters(), *,
                 lang: str = "en") -> dict:
    """One country: area levels, indicators ranked by priority, agencies x indicators, coverage, priorities."""
    country = country_of(campaign, actor, country_code)
    definition = definition_of(campaign.version)
    areas = _areas(definition, filters, lang)
    indicators = _indicators(definition, filters, lang)
    indicator_ids = [i["id"] for i in indicators]
    order = {indicator_id: n for n, indicator_id in enumerate(indicator_ids)}

    area_rows = {row.area_id: row for row in db.session.scalars(select(CountryAreaScore).where(
        CountryAreaScore.campaign_id == campaign.id, CountryAreaScore.country_id == country.id))}
    area_figures = []
    for area in areas:
        row = area_rows.get(area["id"])
        area_figures.append({**area, **{k: _round(getattr(row, k)) if row else None for k in (
            "self_assessed", "expert", "assessed", "target", "gap", "coverage")}})

    indicator_rows = {row.indicator_id: row for row in db.session.scalars(select(CountryScore).where(
        CountryScore.campaign_id == campaign.id, CountryScore.country_id == country.id))}
    ranked = []
    for indicator in indicators:
        row = indicator_rows.get(indicator["id"])
        figures = {k: _round(getattr(row, k)) if row else None for k in (
            "self_assessed", "expert", "assessed", "target", "gap", "priority", "coverage")}
        figures.update({k: getattr(row, k) if row else 0 for k in ("agencies", "agencies_with_level", "ratings")})
        figures["disagreement"] = bool(row.disagreement) if row else False
        ranked.append({**indicator, **figures})
    def stored(indicator_id: str, name: str) -> float | None:
        row = indicator_rows.get(indicator_id)
        return getattr(row, name) if row else None

    ranked.sort(key=lambda i: (*engine.rank_key(stored(i["id"], "priority"), stored(i["id"], "gap")), order[i["id"]]))
    for rank, item in enumerate(ranked, start=1):
        item["rank"] = rank

    agencies = _visible_agencies(campaign, actor, Filters(country=country.code, kind=filters.kind))
    statuses = dict(db.session.execute(select(Response.agency_id, Response.status).where(
        Response.campaign_id == campaign.id, Response.agency_id.in_([a.id for a in agencies] or [-1]))).all())
    responses = _scored_responses(campaign, [a.id for a in agencies])
    scores = _response_scores(responses)
    by_agency = {agency_id: response_id for response_id, agency_id in responses.items()}
    heat_agencies = [a for a in agencies if a.id in by_agency]
    levels = []
    for agency in heat_agencies:
        own = scores.get(by_agency[agency.id], {})
        levels.append([_round(own[i].level) if i in own else None for i in indicator_ids])
    # The country's coverage as its areas give it (each area's coverage weighted by the area's weight), so the
    # headline agrees with the areas beneath it and with how an agency's coverage is weighted; pooling the raw
    # question weights let one large table outweigh whole areas.
    weight_of = {area.id: area.weight for area in definition.areas}
    overall = engine.weighted_mean((area_rows[a["id"]].coverage, weight_of[a["id"]]) for a in areas
                                   if a["id"] in area_rows)

    return {
        "view": "country",
        "campaign": campaign_info(campaign),
        "filters": filters.as_dict(),
        "country": {"code": country.code, "name": country.name(lang)},
        "scale": {"min": definition.min_level, "max": definition.max_level},
        "areas": area_figures,
        "indicators": ranked,
        "heatmap": {
            "agencies": [_agency_info(a, lang) for a in heat_agencies],
            "indicators": [{"id": i["id"], "title": i["title"]} for i in indicators],
            "levels": levels,
        },
        "coverage": {
            "agencies": len(agencies),
            "responded": len(responses),
            "statuses": {s: sum(1 for a in agencies if statuses.get(a.id, "not_started") == s)
                         for s in RESPONSE_STATUSES},
            "overall": _round(overall),  # rounded once, as the other figures
        },
        "priorities": _priorities(definition, heat_agencies, by_agency, lang),
    }


def _priorities(definition, agencies: list[Agency], by_agency: dict[int, int], lang: str) -> list[dict]:
    """The agencies' answers to the "priorities" questions, grouped by agency (agencies without any left out)."""
    questions = [(s, q) for s, q in definition.questions() if is_priorities_question(s, q)]
    if not questions or not agencies:
        return []
    labels = {q.id: definition.text(q.label, lang) for _s, q in questions}
    # Skip logic: a text the agency's later answers hide is no longer its answer (the response's page says "does
    # not apply"), so it is left out, as everywhere else.
    skip_logic = SkipLogic(definition, list(labels))
    values: dict[int, dict[str, object]] = {}
    for response_id, question_id, value in db.session.execute(select(
            Answer.response_id, Answer.question_id, Answer.value).where(
            Answer.response_id.in_(list(by_agency.values())),
            Answer.question_id.in_(list({*labels, *skip_logic.reads})))):
        values.setdefault(response_id, {})[question_id] = value
    answers: dict[int, dict[str, str]] = {}
    for response_id, given in values.items():
        hidden = skip_logic.hidden(given)
        for question_id, value in given.items():
            if question_id in labels and question_id not in hidden and isinstance(value, str) and value.strip() \
                    and not is_special(value):
                answers.setdefault(response_id, {})[question_id] = value.strip()
    out = []
    for agency in agencies:
        given = answers.get(by_agency[agency.id], {})
        if given:
            out.append({"agency": _agency_info(agency, lang),
                        "answers": [{"question_id": q.id, "label": labels[q.id], "text": given[q.id]}
                                    for _s, q in questions if q.id in given]})
    return out


# --- regional view -------------------------------------------------------------------------------------


def regional_data(campaign: Campaign, actor, filters: Filters = Filters(), *, lang: str = "en") -> dict:
    """Countries x areas gaps, the largest gaps in the region, the spread of agency levels per country, and
    (when enabled) an anonymous regional average computed over every country of the campaign; for an expert,
    each average figure is left out (None) unless at least DASHBOARD_AVERAGE_MIN_OTHERS countries outside
    their scope are in it."""
    definition = definition_of(campaign.version)
    areas = _areas(definition, filters, lang)
    indicators = {i["id"]: i for i in _indicators(definition, filters, lang)}
    order = {indicator_id: n for n, indicator_id in enumerate(indicators)}
    countries = visible_countries(campaign, actor)
    if filters.country:
        countries = [c for c in countries if c.code == filters.country]
    shown = {c.id for c in countries}
    scope = _scope(actor)
    with_average = regional_average_allowed(campaign, actor)
    kind_withheld = scope is not None and bool(filters.kind)

    gaps: dict[int, dict[str, float | None]] = {}
    for country_id, area_id, gap in db.session.execute(select(
            CountryAreaScore.country_id, CountryAreaScore.area_id, CountryAreaScore.gap).where(
            CountryAreaScore.campaign_id == campaign.id)):
        if country_id in shown or with_average:
            gaps.setdefault(country_id, {})[area_id] = gap
    heat_rows = [[_round(gaps.get(c.id, {}).get(a["id"])) for a in areas] for c in countries]
    average_row = None
    if with_average:
        # Each cell is checked on its own: an area where only one country outside the expert's scope has a
        # gap would give that country's gap away (the expert knows their own countries' gaps).
        average_row = []
        for a in areas:
            given = {country_id: g[a["id"]] for country_id, g in gaps.items() if g.get(a["id"]) is not None}
            average_row.append(None if _too_few_others(scope, given) else _round(_mean(given.values())))
        if all(value is None for value in average_row):
            average_row = None

    top = []
    if shown:
        # Largest priority first: the rows of the top ten (with every row tied with the tenth on the priority
        # compared as rankings compare it, `engine.rank_key`), then ranked: priority, gap, country, indicator.
        rows = db.session.execute(select(
            CountryScore.country_id, CountryScore.indicator_id, CountryScore.gap, CountryScore.priority,
            CountryScore.target, CountryScore.assessed).where(
            CountryScore.campaign_id == campaign.id, CountryScore.country_id.in_(shown), CountryScore.gap > 0,
            CountryScore.indicator_id.in_(list(indicators)))
            .order_by(CountryScore.priority.desc(), CountryScore.gap.desc()))
        candidates = []
        for row in rows:
            if len(candidates) >= TOP_GAPS and engine.round_score(row.priority, engine.RANK_PLACES) < \
                    engine.round_score(candidates[TOP_GAPS - 1].priority, engine.RANK_PLACES):
                break
            candidates.append(row)
        rows.close()
        by_id = {c.id: c for c in countries}
        ranked = sorted(candidates, key=lambda r: (
            *engine.rank_key(r.priority, r.gap), by_id[r.country_id].code, order[r.indicator_id]))
        for country_id, indicator_id, gap, priority, target, assessed in ranked[:TOP_GAPS]:
            indicator = indicators[indicator_id]
            top.append({"country": by_id[country_id].code, "country_name": by_id[country_id].name(lang),
                        "indicator_id": indicator_id, "indicator": indicator["title"],
                        "area_id": indicator["area_id"], "area": indicator["area_title"],
                        "gap": _round(gap), "priority": _round(priority), "target": _round(target),
                        "assessed": _round(assessed)})

    # Agency levels: the actor's countries, plus (for the anonymous average only) every other country. Read as
    # plain rows (one per scored response with a level), not as Agency objects: a campaign may ask thousands.
    names = [Agency.names[key].as_string() for key in dict.fromkeys((lang, "en", "ru"))]
    query = (select(Agency.country_id, Agency.acronym, Agency.kind, ResponseAreaScore.level, *names)
             .join(campaign_agencies, (campaign_agencies.c.agency_id == Agency.id)
                   & (campaign_agencies.c.campaign_id == campaign.id))
             .join(Response, (Response.agency_id == Agency.id) & (Response.campaign_id == campaign.id))
             .join(ResponseAreaScore, (ResponseAreaScore.response_id == Response.id)
                   & (ResponseAreaScore.area_id == (filters.area or OVERALL)))
             .where(Response.status.in_(SCORED_STATUSES), Agency.country_id.is_not(None),
                    ResponseAreaScore.level.is_not(None)))
    if not with_average or kind_withheld:
        query = query.where(Agency.country_id.in_(shown))
    if filters.kind:
        query = query.where(Agency.kind == filters.kind)
    spread: dict[int, list[dict]] = {c.id: [] for c in countries}
    levels_of: dict[int, list[float]] = {c.id: [] for c in countries}  # as stored, for the statistics
    all_levels: list[float] = []
    averaged_countries: set[int] = set()
    for country_id, acronym, kind, level, *localised in db.session.execute(query):
        all_levels.append(level)
        averaged_countries.add(country_id)
        if country_id in spread:  # the name as Agency.name gives it: in `lang`, else English, Russian, acronym
            levels_of[country_id].append(level)
            spread[country_id].append({"acronym": acronym, "name": next((n for n in localised if n), acronym),
                                       "kind": kind, "level": _round(level)})

    return {
        "view": "regional",
        "campaign": campaign_info(campaign),
        "filters": filters.as_dict(),
        "scale": {"min": definition.min_level, "max": definition.max_level},
        "areas": areas,
        "countries": [{"code": c.code, "name": c.name(lang)} for c in countries],
        "heatmap": {"gaps": heat_rows, "average": average_row},
        "top_gaps": top,
        "spread": [{"code": c.code, "name": c.name(lang),
                    "agencies": sorted(spread[c.id], key=lambda a: a["acronym"]),
                    "summary": _summary(levels_of[c.id])} for c in countries],
        # Checked on the agencies actually averaged (after the area filter), for the same reason as the heatmap's
        # average row. Never for one type of agency for an expert: the averages over each type and over all of
        # them, less the expert's own agencies, would give away the agencies of a country outside their scope
        # (or a single agency) by subtraction, however many countries each average holds.
        "average": ({"level": _round(_mean(all_levels)), "agencies": len(all_levels)}
                    if with_average and not kind_withheld and not _too_few_others(scope, averaged_countries)
                    else None),
        "average_withheld_for_kind": with_average and kind_withheld,
        # For an expert: how many countries outside their own an average figure needs before it is shown.
        "average_min_others": (int(current_app.config.get("DASHBOARD_AVERAGE_MIN_OTHERS", 2))
                               if scope is not None and regional_average_enabled() else None),
    }


def quantile(ordered: list[float], share: float) -> float:
    """The `share` quantile of sorted numbers as the box plots draw it (plotly.js's "linear" quartile method,
    Hyndman and Fan's method 5: position share x n - 0.5, interpolated), so a table beside a box plot gives
    the box's own quartiles."""
    position = share * len(ordered) - 0.5
    if position <= 0:
        return ordered[0]
    if position >= len(ordered) - 1:
        return ordered[-1]
    low = math.floor(position)
    fraction = position - low
    return fraction * ordered[low + 1] + (1 - fraction) * ordered[low] if fraction else ordered[low]


def _summary(values: list[float | None]) -> dict:
    """n, min, quartiles (as the box plots draw them: `quantile`), median, max and mean of numbers (None values
    skipped)."""
    kept = sorted(float(v) for v in values if v is not None)
    if not kept:
        return {"n": 0, "min": None, "q1": None, "median": None, "q3": None, "max": None, "mean": None}
    q1, median, q3 = (quantile(kept, share) for share in (0.25, 0.5, 0.75))
    return {"n": len(kept), "min": _round(kept[0]), "q1": _round(q1), "median": _round(median), "q3": _round(q3),
            "max": _round(kept[-1]), "mean": _round(math.fsum(kept) / len(kept))}


# --- question explorer ---------------------------------------------------------------------------------


def explorable_questions(definition, lang: str, area: str | None = None) -> list[dict]:
    """The questions whose answers can be counted (one entry per row of a matrix), in questionnaire order;
    with an area, only those that score one of its indicators."""
    in_area = {i.id for a, i in definition.indicators() if a.id == area} if area else None
    out = []
    for section, question in definition.questions():
        if question.type not in EXPLORABLE_TYPES:
            continue
        base = {"section": definition.text(section.title, lang), "type": question.type}
        label = definition.text(question.label, lang)
        if question.type == "matrix":
            for row in question.rows:
                indicator = row.indicator or question.indicator
                if in_area is None or indicator in in_area:
                    out.append({**base, "key": f"{question.id}/{row.id}",
                                "label": f"{label} — {definition.text(row.label, lang)}"})
        elif in_area is None or question.indicator in in_area:
            out.append({**base, "key": question.id, "label": label})
    return out


def _categories(definition, question, lang: str) -> list[dict]:
    """The answers a choice-like question offers, in order, then the special answers it allows."""
    if question.type == "yes_no":
        values = ["yes", "partly", "no"] if question.partly else ["yes", "no"]
        items = [{"value": v, "label": None} for v in values]
    elif question.type == "scale" or (question.type == "matrix" and not question.choices):
        items = [{"value": str(level.level), "label": f"{level.level} — {definition.text(level.label, lang)}"}
                 for level in definition.scale]
    else:
        items = [{"value": c.value, "label": definition.text(c.label, lang)} for c in question.choices or []]
    specials = [s for s in SPECIAL if getattr(question, s, False)]
    return items + [{"value": s, "label": None} for s in specials]


def _answer_items(question, row_id: str | None, value) -> list[str]:
    """The category values one stored answer counts in (none when unanswered)."""
    if row_id is not None:
        # "not applicable" / "don't know" for the whole table is every row's answer, as the scores count it
        value = value.get(row_id) if isinstance(value, dict) else (value if is_special(value) else None)
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return [str(value)]


def question_data(campaign: Campaign, actor, filters: Filters = Filters(), *, lang: str = "en") -> dict:
    """The distribution of the answers to one question (filters.question, else the first one that can be
    explored) by country and by agency type, over the submitted and validated responses the actor may see."""
    definition = definition_of(campaign.version)
    options = explorable_questions(definition, lang, filters.area)
    keys = [o["key"] for o in options]
    key = filters.question if filters.question in keys else (keys[0] if keys else None)
    base = {"view": "questions", "campaign": campaign_info(campaign), "filters": filters.as_dict(),
            "questions": options, "question": None}
    agencies = _visible_agencies(campaign, actor, filters)
    if key is None:
        return {**base, "categories": [], "by_country": [], "by_kind": [], "responses": 0}
    question_id, _sep, row_id = key.partition("/")
    question = definition.question(question_id)
    numeric = question.type == "number"
    agency_of = {a.id: a for a in agencies}
    rows = db.session.execute(
        select(Response.id, Response.agency_id, Answer.value).select_from(Response)
        .outerjoin(Answer, and_(Answer.response_id == Response.id, Answer.question_id == question_id))
        .where(Response.campaign_id == campaign.id, Response.status.in_(SCORED_STATUSES),
               Response.agency_id.in_(list(agency_of) or [-1]))).all()
    # Skip logic: a response whose answers hide the question was never asked it ("does not apply", as the
    # review pages, the reports and the scores have it), which is not the same as leaving it unanswered.
    skip_logic = SkipLogic(definition, [question_id])
    read_values: dict[int, dict] = {response_id: {question_id: value} for response_id, _a, value in rows}
    if skip_logic.reads and rows:
        for response_id, other_id, value in db.session.execute(
                select(Answer.response_id, Answer.question_id, Answer.value)
                .where(Answer.response_id.in_(list(read_values)), Answer.question_id.in_(skip_logic.reads))):
            read_values[response_id][other_id] = value
    skipped = {response_id for response_id, values in read_values.items()
               if question_id in skip_logic.hidden(values)}

    categories = [] if numeric else _categories(definition, question, lang)
    known = {c["value"] for c in categories}
    groups: dict[tuple[str, str], dict] = {}

    kind_names: dict[str, str] = {}

    def kind_name(code: str) -> str:
        """The agency type's name in `lang`, as the page shows it (the code is the group's "code")."""
        if code not in kind_names:
            from app.directory.labels import agency_type_label
            from app.i18n import force_locale

            with force_locale(lang):
                kind_names[code] = agency_type_label(code)
        return kind_names[code]

    def group(kind: str, code: str, name: str) -> dict:
        if (kind, code) not in groups:
            groups[(kind, code)] = {"code": code, "name": name, "responses": 0, "answered": 0, "skipped": 0,
                                    "counts": {}, "values": []}
        return groups[(kind, code)]

    for response_id, agency_id, value in sorted(rows, key=lambda r: r[1]):
        agency = agency_of[agency_id]
        code = agency.country_code or REGIONAL_BODIES
        targets = (group("country", code, agency.country.name(lang) if agency.country else ""),
                   group("kind", agency.kind, kind_name(agency.kind)))
        items = [] if response_id in skipped else _answer_items(question, row_id or None, value)
        for target in targets:
            target["responses"] += 1
            target["answered"] += bool(items)
            target["skipped"] += response_id in skipped
        for item in items:
            number = None
            if numeric and not is_special(item):
                try:
                    number = float(item)
                except ValueError:
                    number = None
            for target in targets:
                if number is not None:
                    target["values"].append(number)
                else:
                    target["counts"][item] = target["counts"].get(item, 0) + 1
            if number is None and item not in known:
                known.add(item)
                categories.append({"value": item, "label": item})
    if numeric:
        categories = [{"value": s, "label": None} for s in SPECIAL if getattr(question, s, False)]

    def finish(kind: str) -> list[dict]:
        out = []
        for (group_kind, _code), g in sorted(groups.items(), key=lambda kv: (kv[0][1] == REGIONAL_BODIES, kv[0][1])):
            if group_kind != kind:
                continue
            g["counts"] = {c["value"]: g["counts"].get(c["value"], 0) for c in categories}
            if numeric:
                g["summary"] = _summary(g["values"])
                g["values"] = sorted(g["values"])
            else:
                del g["values"]
            out.append(g)
        return out

    label = next(o["label"] for o in options if o["key"] == key)
    return {**base, "question": {"key": key, "id": question_id, "row": row_id or None, "label": label,
                                 "type": question.type, "numeric": numeric},
            "categories": categories, "by_country": finish("country"), "by_kind": finish("kind"),
            "responses": len(rows)}
