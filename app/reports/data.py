"""What the Excel reports need, gathered from the database as plain data, limited to what the actor may see.

- `report_campaign(actor, campaign_id)` and `report_country(actor, campaign, code)`: the campaign and the
  country of a report, or `NotFound` (the view answers 404 either way; the CLI names what was not found).
  `actor=None` is the command line, which sees everything.
- `report_countries(actor, campaign)`: the countries of the campaign's agencies that the actor may see.
- `country_report_data(campaign, country, include_comments=...)` -> `CountryReportData`
- `regional_report_data(campaign, actor)` -> `RegionalReportData` (only the countries the actor may see)
- `load_branding(path=None)`: the branding and fixed texts of `reports/branding.yaml`.
- `report_filename(kind, campaign_id, lang, code=None, now=None)`: "country-KZ-campaign1-en-2026-11-29T0912.xlsx".

Figures come from the materialized scores (app.scoring.models), never recomputed; only the Answers sheet reads
the raw answers. Only submitted and validated responses count as findings (app.scoring.store.SCORED_STATUSES).
The builders (app.reports.country, app.reports.regional) turn these dataclasses into workbooks and touch no
database.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.auth.models import User
from app.campaigns.models import Campaign
from app.campaigns.services import campaign_countries
from app.directory.models import Agency, Country
from app.extensions import db
from app.questionnaires.schema import Definition
from app.questionnaires.services import definition_of
from app.responses.models import Answer, Response
from app.review.models import Clarification, Comment, ExpertRating
from app.review.services import disagreements, may_review_country, ratings_of
from app.scoring import engine
from app.scoring.models import CountryAreaScore, CountryScore, ResponseScore
from app.scoring.store import SCORED_STATUSES

#: Roles that may download reports (respondents never do).
REPORT_ROLES = ("staff", "admin", "expert")
#: File name of the branding, in the top-level `reports/` folder.
BRANDING_FILE = "branding.yaml"
#: Keys of branding.yaml that hold a text per language.
BRANDING_TEXTS = ("project_name", "funder_statement", "confidentiality", "author")


class NotFound(LookupError):
    """The campaign or country does not exist, or the actor may not see it; `what` names it for the CLI."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


class BrandingError(ValueError):
    """branding.yaml cannot be read; the message names the file and the problem."""


# --- scope ---------------------------------------------------------------------------------------------


def _sees_everything(actor) -> bool:
    return actor is None or getattr(actor, "role", None) in ("staff", "admin")


def report_campaign(actor, campaign_id: int) -> Campaign:
    """The campaign of a report; experts never see drafts (as on the review pages)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or (not _sees_everything(actor) and campaign.status == "draft"):
        raise NotFound(f"no campaign with id {campaign_id}")
    return campaign


def report_countries(actor, campaign: Campaign) -> list[Country]:
    """The countries of the campaign's agencies that the actor may see, by code."""
    return [c for c in campaign_countries(campaign) if _sees_everything(actor) or may_review_country(actor, c)]


def report_country(actor, campaign: Campaign, code: str) -> Country:
    """A country of the campaign that the actor may see."""
    code = (code or "").upper()
    country = db.session.scalar(select(Country).where(Country.code == code))
    if country is None:
        raise NotFound(f"no country with code {code!r}")
    if country not in report_countries(actor, campaign):
        raise NotFound(f"country {code} has no agency in campaign {campaign.id}")
    return country


# --- plain data ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignInfo:
    """The campaign as the reports name it."""

    id: int
    name: str
    status: str
    deadline: date | None
    version_label: str
    questionnaire_title: Any
    target_overrides: dict
    #: {"ru": ...}: the name in other languages (see Campaign.name_translations)
    name_translations: dict = field(default_factory=dict)

    def name_in(self, lang: str) -> str:
        """The name in `lang`, else the one name."""
        return self.name_translations.get(lang) or self.name


@dataclass(frozen=True)
class CountryInfo:
    """A country: code and names by language."""

    code: str
    names: dict


@dataclass(frozen=True)
class Figures:
    """One indicator's or area's materialized figures (None where the table has no value or no row)."""

    self_assessed: float | None = None
    expert: float | None = None
    assessed: float | None = None
    target: float | None = None
    gap: float | None = None
    priority: float | None = None
    coverage: float | None = None
    agencies: int = 0
    agencies_with_level: int = 0
    ratings: int = 0
    disagreement: bool = False


@dataclass(frozen=True)
class RatingInfo:
    """The latest expert rating of an indicator."""

    level: float
    rationale: str
    evidence: str
    expert: str
    at: datetime


@dataclass
class AgencyInfo:
    """One agency of the country asked in the campaign, with its response (if any)."""

    acronym: str
    names: dict
    kind: str
    status: str
    submitted_at: datetime | None = None
    validated_at: datetime | None = None
    percent_required: int = 0
    #: {indicator id: level} from ResponseScore (submitted and validated responses only; else empty).
    levels: dict[str, float | None] = field(default_factory=dict)
    #: The stored answers of a submitted or validated response (None otherwise), and its definition.
    values: dict[str, Any] | None = None
    definition: Definition | None = None


@dataclass(frozen=True)
class ClarificationInfo:
    """A clarification request, the agency's reply and the answer before and after."""

    agency: str
    question_id: str
    message: str
    requested_by: str
    requested_at: datetime | None
    reply: str
    replied_at: datetime | None
    closed_at: datetime | None
    value_before: Any
    value_after: Any
    definition: Definition


@dataclass(frozen=True)
class CommentInfo:
    """An internal comment of the reviewers (depth: 0 for a thread's start, 1 for a reply, ...)."""

    agency: str
    question_id: str
    body: str
    author: str
    at: datetime | None
    depth: int
    definition: Definition
    #: For a reply: its parent's author and the start of the parent's text ("" for a thread's start).
    reply_to: str = ""


@dataclass(frozen=True)
class Branding:
    """Branding and fixed texts of the reports (texts by language); `logo` is an absolute path or None."""

    project_name: dict = field(default_factory=dict)
    funder_statement: dict = field(default_factory=dict)
    confidentiality: dict = field(default_factory=dict)
    author: dict = field(default_factory=dict)
    logo: Path | None = None

    def text(self, key: str, lang: str) -> str:
        """One text in `lang`, else English, else any language ("" when the key is empty)."""
        texts = getattr(self, key) or {}
        return texts.get(lang) or texts.get("en") or next(iter(texts.values()), "")


@dataclass
class CountryReportData:
    """Everything the country gap report shows."""

    campaign: CampaignInfo
    country: CountryInfo
    definition: Definition
    generated_at: datetime
    branding: Branding
    areas: dict[str, Figures]
    indicators: dict[str, Figures]
    rationales: dict[str, RatingInfo]
    #: {indicator id: {expert: latest level}} where two or more experts' latest levels differ
    experts_differ: dict[str, dict[str, float]]
    agencies: list[AgencyInfo]
    clarifications: list[ClarificationInfo]
    #: None unless internal comments were asked for.
    comments: list[CommentInfo] | None
    #: {indicator id: (default target, this country's override or None)}
    targets: dict[str, tuple[float, float | None]]


@dataclass(frozen=True)
class ResponseRate:
    """How many agencies of a country (code None: the regional bodies) were asked and answered."""

    code: str | None
    names: dict
    asked: int
    statuses: Counter

    @property
    def answered(self) -> int:
        """Submitted or validated."""
        return self.statuses["submitted"] + self.statuses["validated"]

    @property
    def rate(self) -> float | None:
        """answered / asked (None when nobody was asked)."""
        return self.answered / self.asked if self.asked else None


@dataclass
class RegionalReportData:
    """Everything the regional summary shows (only countries the actor may see)."""

    campaign: CampaignInfo
    definition: Definition
    generated_at: datetime
    branding: Branding
    countries: list[CountryInfo]
    #: {country code: {area id: Figures}} and {country code: {indicator id: Figures}}
    areas: dict[str, dict[str, Figures]]
    indicators: dict[str, dict[str, Figures]]
    response_rates: list[ResponseRate]
    #: {country code: {indicator id: (default target, override or None)}}
    targets: dict[str, dict[str, tuple[float, float | None]]]


# --- loaders -------------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _campaign_info(campaign: Campaign, definition: Definition) -> CampaignInfo:
    return CampaignInfo(id=campaign.id, name=campaign.name, status=campaign.status, deadline=campaign.deadline,
                        version_label=campaign.version.label, questionnaire_title=definition.title,
                        target_overrides=dict(campaign.target_overrides or {}),
                        name_translations=dict(campaign.name_translations or {}))


def _person(user: User | None) -> str:
    return (user.name or user.email) if user is not None else ""


def _targets(definition: Definition, campaign: Campaign, code: str) -> dict[str, tuple[float, float | None]]:
    overrides = (campaign.target_overrides or {}).get(code, {})
    return {indicator.id: (float(indicator.target),
                           float(overrides[indicator.id]) if overrides.get(indicator.id) is not None else None)
            for _area, indicator in definition.indicators()}


def _figures(definition: Definition, campaign: Campaign, country: Country):
    """({area id: Figures}, {indicator id: Figures}) from the materialized tables; an indicator without a row
    (nothing submitted yet) still shows the country's target."""
    targets = engine.country_targets(definition, campaign.target_overrides or {}, country.code)
    indicators = {indicator.id: Figures(target=targets.get(indicator.id)) for _a, indicator in definition.indicators()}
    for row in db.session.scalars(select(CountryScore).where(CountryScore.campaign_id == campaign.id,
                                                             CountryScore.country_id == country.id)):
        indicators[row.indicator_id] = Figures(
            self_assessed=row.self_assessed, expert=row.expert, assessed=row.assessed, target=row.target,
            gap=row.gap, priority=row.priority, coverage=row.coverage, agencies=row.agencies,
            agencies_with_level=row.agencies_with_level, ratings=row.ratings, disagreement=row.disagreement)
    areas = {area.id: Figures() for area in definition.areas}
    for row in db.session.scalars(select(CountryAreaScore).where(CountryAreaScore.campaign_id == campaign.id,
                                                                 CountryAreaScore.country_id == country.id)):
        areas[row.area_id] = Figures(self_assessed=row.self_assessed, expert=row.expert, assessed=row.assessed,
                                     target=row.target, gap=row.gap, coverage=row.coverage)
    return areas, indicators


def _rationales(ratings: dict[str, list[ExpertRating]]) -> dict[str, RatingInfo]:
    """The latest rating of each indicator (ratings newest first, as `ratings_of` gives them)."""
    return {indicator_id: RatingInfo(level=rating.level, rationale=rating.rationale, evidence=rating.evidence,
                                     expert=_person(rating.expert), at=rating.created_at)
            for indicator_id, (rating, *_older) in ratings.items()}


def country_report_data(campaign: Campaign, country: Country, *, include_comments: bool = False,
                        branding: Branding | None = None, now: datetime | None = None) -> CountryReportData:
    """The data of one country's gap report (internal comments only with `include_comments`)."""
    definition = definition_of(campaign.version)
    areas, indicators = _figures(definition, campaign, country)
    ratings = ratings_of(campaign, country)
    responses = {r.agency_id: r for r in db.session.scalars(
        select(Response).join(Agency, Agency.id == Response.agency_id)
        .where(Response.campaign_id == campaign.id, Agency.country_id == country.id))}
    scored_ids = [r.id for r in responses.values() if r.status in SCORED_STATUSES]
    levels: dict[int, dict[str, float | None]] = {}
    values: dict[int, dict[str, Any]] = {}
    if scored_ids:
        for row in db.session.scalars(select(ResponseScore).where(ResponseScore.response_id.in_(scored_ids))):
            levels.setdefault(row.response_id, {})[row.indicator_id] = row.level
        for answer in db.session.scalars(select(Answer).where(Answer.response_id.in_(scored_ids))):
            values.setdefault(answer.response_id, {})[answer.question_id] = answer.value
    definitions: dict[int, Definition] = {campaign.version_id: definition}

    def definition_for(response: Response) -> Definition:
        if response.version_id not in definitions:
            definitions[response.version_id] = definition_of(response.version)
        return definitions[response.version_id]

    agencies = []
    for agency in sorted((a for a in campaign.agencies if a.country_id == country.id), key=lambda a: a.acronym):
        response = responses.get(agency.id)
        info = AgencyInfo(acronym=agency.acronym, names=dict(agency.names or {}), kind=agency.kind,
                          status=response.status if response else "not_started")
        if response is not None:
            info.submitted_at, info.validated_at = response.submitted_at, response.validated_at
            info.percent_required = response.percent_required
            if response.status in SCORED_STATUSES:
                info.levels = levels.get(response.id, {})
                info.values = values.get(response.id, {})
                info.definition = definition_for(response)
        agencies.append(info)

    by_id = {r.id: r for r in responses.values()}
    clarifications = []
    comments: list[CommentInfo] | None = None
    if by_id:
        for c in db.session.scalars(select(Clarification).where(Clarification.response_id.in_(by_id))
                                    .order_by(Clarification.requested_at, Clarification.id)):
            response = by_id[c.response_id]
            clarifications.append(ClarificationInfo(
                agency=response.agency.acronym, question_id=c.question_id, message=c.message,
                requested_by=_person(c.requested_by), requested_at=c.requested_at, reply=c.reply or "",
                replied_at=c.replied_at, closed_at=c.closed_at, value_before=c.value_before,
                value_after=c.value_after, definition=definition_for(response)))
    if include_comments:
        comments = []
        if by_id:
            comments = _comments(by_id, definition_for)
    return CountryReportData(
        campaign=_campaign_info(campaign, definition), country=CountryInfo(country.code, dict(country.names or {})),
        definition=definition, generated_at=now or _now(), branding=branding or load_branding(), areas=areas,
        indicators=indicators, rationales=_rationales(ratings), agencies=agencies,
        experts_differ={i: d.levels for i, d in disagreements(ratings).items()},
        clarifications=clarifications, comments=comments, targets=_targets(definition, campaign, country.code))


def _comments(by_id: dict[int, Response], definition_for) -> list[CommentInfo]:
    """The comments of these responses, by agency, then thread order (each reply under its parent)."""
    rows = list(db.session.scalars(select(Comment).where(Comment.response_id.in_(by_id))
                                   .order_by(Comment.created_at, Comment.id)))
    children: dict[int | None, list[Comment]] = {}
    for comment in rows:
        children.setdefault(comment.parent_id, []).append(comment)
    out: list[CommentInfo] = []

    def walk(comment: Comment, depth: int, parent: Comment | None = None) -> None:
        response = by_id[comment.response_id]
        reply_to = ""
        if parent is not None:
            start = " ".join(parent.body.split())
            reply_to = f"{_person(parent.author)}: “{start[:60]}{'…' if len(start) > 60 else ''}”"
        out.append(CommentInfo(agency=response.agency.acronym, question_id=comment.question_id, body=comment.body,
                               author=_person(comment.author), at=comment.created_at, depth=depth,
                               definition=definition_for(response), reply_to=reply_to))
        for child in children.get(comment.id, []):
            walk(child, depth + 1, comment)

    for root in sorted(children.get(None, []), key=lambda c: (by_id[c.response_id].agency.acronym, c.created_at,
                                                              c.id)):
        walk(root, 0)
    return out


def regional_report_data(campaign: Campaign, actor, *, branding: Branding | None = None,
                         now: datetime | None = None) -> RegionalReportData:
    """The data of the regional summary: the countries the actor may see (`actor=None`: all); the regional
    bodies' response rate only for those who see everything."""
    definition = definition_of(campaign.version)
    countries = report_countries(actor, campaign)
    areas, indicators, targets = {}, {}, {}
    for country in countries:
        areas[country.code], indicators[country.code] = _figures(definition, campaign, country)
        targets[country.code] = _targets(definition, campaign, country.code)
    statuses = dict(db.session.execute(select(Response.agency_id, Response.status)
                                       .where(Response.campaign_id == campaign.id)).all())
    rates = []
    groups: list[tuple[str | None, dict, list[Agency]]] = [
        (c.code, dict(c.names or {}), [a for a in campaign.agencies if a.country_id == c.id]) for c in countries]
    regional = [a for a in campaign.agencies if a.country_id is None]
    if _sees_everything(actor) and regional:
        groups.append((None, {}, regional))
    for code, names, members in groups:
        counts = Counter(statuses.get(a.id, "not_started") for a in members)
        rates.append(ResponseRate(code=code, names=names, asked=len(members), statuses=counts))
    return RegionalReportData(
        campaign=_campaign_info(campaign, definition), definition=definition, generated_at=now or _now(),
        branding=branding or load_branding(), countries=[CountryInfo(c.code, dict(c.names or {})) for c in countries],
        areas=areas, indicators=indicators, response_rates=rates, targets=targets)


# --- branding and file names ---------------------------------------------------------------------------


def reports_folder() -> Path:
    """The top-level `reports/` folder (content staff edit)."""
    return Path(current_app.root_path).parent / "reports"


def load_branding(path: Path | str | None = None) -> Branding:
    """The branding of `reports/branding.yaml` (a missing file gives empty texts and no logo; a logo that does
    not exist is ignored, as the builders ignore one they cannot embed)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    path = Path(path) if path else reports_folder() / BRANDING_FILE
    if not path.exists():
        return Branding()
    try:
        raw = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    except (YAMLError, UnicodeDecodeError) as exc:
        raise BrandingError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise BrandingError(f"{path}: expected keys such as project_name, funder_statement, logo")
    unknown = set(raw) - {*BRANDING_TEXTS, "logo"}
    if unknown:
        raise BrandingError(f"{path}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    texts = {}
    for key in BRANDING_TEXTS:
        value = raw.get(key)
        if value is None:
            texts[key] = {}
        elif isinstance(value, str):
            texts[key] = {"en": value}
        elif isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
            texts[key] = {str(k): v for k, v in value.items()}
        else:
            raise BrandingError(f"{path}: '{key}' must be a text or a text per language ({{en: ..., ru: ...}})")
    logo = None
    if raw.get("logo"):
        candidate = (path.parent / str(raw["logo"])).resolve()
        logo = candidate if candidate.is_file() else None
    return Branding(logo=logo, **texts)


def report_filename(kind: str, campaign_id: int, lang: str, code: str | None = None,
                    now: datetime | None = None) -> str:
    """A file name saying what and when (UTC), e.g. country-KZ-campaign1-en-2026-11-29T0912.xlsx."""
    stamp = (now or _now()).strftime("%Y-%m-%dT%H%M")
    what = f"{kind}-{code}" if code else kind
    return f"{what}-campaign{campaign_id}-{lang}-{stamp}.xlsx"
