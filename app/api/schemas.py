"""The shapes the API reads and returns, as pydantic models: the OpenAPI document is generated from them.

No Flask and no database access (only the status and kind constants of the models). Query models validate
`?page=&per_page=` and the filters; response models are what the views return (spectree serialises them and
checks them against the document).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from app.campaigns.models import CAMPAIGN_STATUSES
from app.directory.models import AGENCY_TYPES
from app.questionnaires.schema import Definition
from app.responses.models import RESPONSE_STATUSES
from app.scoring.engine import round_score

#: Largest id a path or filter accepts (ids are 32-bit integers in every database).
MAX_ID = 2_147_483_647
#: Items per page: default and maximum.
DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
#: Highest page number accepted (keeps offsets far from integer limits).
MAX_PAGE = 1_000_000


def _utc(value: datetime) -> datetime:
    """Timestamps in UTC, with their offset (SQLite hands back naive UTC values)."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


Timestamp = Annotated[datetime, AfterValidator(_utc)]
#: Decimals of the score figures: enough for any further arithmetic, without the noise of binary floats (a mean
#: of 2.65 and 3 is stored as 2.8249999999999997 and given as 2.825; the pages show 2.83).
FIGURE_PLACES = 6
#: A score figure (level, gap, priority, coverage), rounded half up to FIGURE_PLACES decimals.
Figure = Annotated[float | None, AfterValidator(lambda value: round_score(value, FIGURE_PLACES))]
#: A text in several languages: {"en": "...", "ru": "..."}.
Localized = Annotated[dict[str, str], Field(description='The text per language code, e.g. {"en": "...", "ru": "..."}')]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code", examples=["KZ"])]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
CampaignStatus = Literal[CAMPAIGN_STATUSES]  # type: ignore[valid-type]
ResponseStatus = Literal[RESPONSE_STATUSES]  # type: ignore[valid-type]
AgencyKind = Literal[AGENCY_TYPES]  # type: ignore[valid-type]


def _no_default(schema: dict) -> None:
    schema.pop("default", None)


def _optional(**kwargs: Any):
    """An optional filter: absent means "any" (no `default: null` in the document, which no client can send)."""
    return Field(None, json_schema_extra=_no_default, **kwargs)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors ----------------------------------------------------------------------------------------------


class ErrorDetail(_Out):
    """One problem with the request, e.g. a query parameter out of range."""

    location: str = Field(description='Where: "query.per_page", "header.Authorization", ...')
    message: str


class ErrorBody(_Out):
    """What went wrong. `code` is stable and meant for programs; `title` and `message` are for people."""

    status: int = Field(description="The HTTP status code, repeated")
    code: str = Field(description="not_found, invalid_parameter, unauthorized, invalid_token, forbidden, "
                                  "method_not_allowed, rate_limited, server_error, ...", examples=["not_found"])
    title: str
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(_Out):
    """Every error of the API has this shape."""

    error: ErrorBody


# --- pagination ------------------------------------------------------------------------------------------


class NoQuery(BaseModel):
    """No query parameters: any parameter is refused (400), like an unknown one on lists, so a mistyped filter
    never silently answers the unfiltered list."""

    model_config = ConfigDict(extra="forbid")


class PageQuery(NoQuery):
    """Pagination parameters shared by every list."""

    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1")
    per_page: int = Field(DEFAULT_PER_PAGE, ge=1, le=MAX_PER_PAGE, description="Items per page")


class PageMeta(_Out):
    """Where this page is in the whole list."""

    page: int
    per_page: int
    total: int = Field(description="Items in the whole list (with the filters applied)")
    pages: int = Field(description="Number of pages (0 when the list is empty)")


class PageLinks(_Out):
    """Relative links to pages of the same list, with the same filters; null where there is none."""

    self: str
    first: str
    last: str
    next: str | None
    previous: str | None


class _Page(_Out):
    meta: PageMeta
    links: PageLinks


# --- the caller --------------------------------------------------------------------------------------------


class TokenInfo(_Out):
    """The token used for this request."""

    name: str
    created_at: Timestamp
    expires_at: Timestamp | None


class Me(_Out):
    """The user a token belongs to, and their scope."""

    id: int
    email: str
    name: str
    role: Literal["admin", "staff", "expert"]
    countries: list[CountryCode] | None = Field(
        description="The countries an expert may see; null for staff and administrators (every country)")
    token: TokenInfo


class MeEnvelope(_Out):
    data: Me


# --- campaigns and questionnaires --------------------------------------------------------------------------


class VersionRef(_Out):
    """A questionnaire version: /questionnaires/{slug}/versions/{number}."""

    slug: str
    number: int


class Campaign(_Out):
    """A round of asking agencies one questionnaire version."""

    id: int
    name: str = Field(description="The name in every language without one of its own in name_translations")
    name_translations: dict[str, str] = Field(description='The name in other languages, e.g. {"ru": "..."}')
    description: str | None = Field(description="The staff's note on the campaign; null for an expert, who does "
                                                "not see it on the pages either")
    status: CampaignStatus
    questionnaire: VersionRef
    opens_on: date | None
    deadline: date | None = Field(description="The last day on which answers are expected")
    follow_up_of: int | None = Field(description="The campaign this one follows up (null when there is none, or "
                                                 "when the caller may not see it)")
    created_at: Timestamp
    opened_at: Timestamp | None
    closed_at: Timestamp | None


class CampaignEnvelope(_Out):
    data: Campaign


class CampaignPage(_Page):
    data: list[Campaign]


class CampaignQuery(PageQuery):
    status: SkipJsonSchema[None] | CampaignStatus = _optional(description="Only campaigns in this status")


class VersionSummary(_Out):
    """One frozen version of a questionnaire."""

    number: int
    title: Localized
    content_hash: str = Field(description="sha256 of the canonical definition")
    created_at: Timestamp


class Questionnaire(_Out):
    """A questionnaire and the versions of it the caller may see."""

    slug: str
    versions: list[VersionSummary]


class QuestionnaireEnvelope(_Out):
    data: Questionnaire


class QuestionnairePage(_Page):
    data: list[Questionnaire]


class QuestionnaireVersion(VersionSummary):
    """A version with its whole definition (the format of questionnaires/README.md)."""

    slug: str
    definition: Definition


class QuestionnaireVersionEnvelope(_Out):
    data: QuestionnaireVersion


# --- directory ---------------------------------------------------------------------------------------------


class Country(_Out):
    id: int
    code: CountryCode
    names: Localized


class CountryEnvelope(_Out):
    data: Country


class CountryPage(_Page):
    data: list[Country]


class Agency(_Out):
    """A national body, or a regional one (country null)."""

    id: int
    country: CountryCode | None
    acronym: str
    kind: str = Field(description="One of: " + ", ".join(AGENCY_TYPES))
    names: Localized
    is_active: bool


class AgencyEnvelope(_Out):
    data: Agency


class AgencyPage(_Page):
    data: list[Agency]


CountryFilter = Annotated[str, Field(pattern=r"^[A-Za-z]{2}$", description="Country code (ISO 3166-1 alpha-2)")]


class AgencyQuery(PageQuery):
    country: SkipJsonSchema[None] | CountryFilter = _optional(description="Only the agencies of this country")
    kind: SkipJsonSchema[None] | AgencyKind = _optional(description="Only agencies of this kind")
    campaign_id: SkipJsonSchema[None] | Id = _optional(description="Only the agencies asked in this campaign")
    active: SkipJsonSchema[None] | bool = _optional(description="Only active (true) or deactivated (false) agencies")


# --- responses ---------------------------------------------------------------------------------------------


class Response(_Out):
    """An agency's response to a campaign (one per agency and campaign)."""

    id: int
    campaign_id: int
    agency_id: int
    country: CountryCode | None
    status: ResponseStatus
    questionnaire: VersionRef = Field(description="The version the response is pinned to")
    created_at: Timestamp
    started_at: Timestamp | None
    last_activity_at: Timestamp | None
    submitted_at: Timestamp | None = Field(description="The latest submission")
    first_submitted_at: Timestamp | None = Field(description="The first submission (earlier than submitted_at when "
                                                             "the answers were returned for clarification)")
    returned_at: Timestamp | None
    validated_at: Timestamp | None
    required_total: int = Field(description="Required questions (visible under the current answers)")
    required_answered: int
    percent_required: int


class Answer(_Out):
    """The stored answer to one question, as normalised by its question type."""

    question_id: str
    value: Any = Field(description="Depends on the question type: a string, number, list, object or null")
    version: int = Field(description="1 on the first save, +1 on every change")
    updated_at: Timestamp


class ResponseWithAnswers(Response):
    answers: list[Answer]


class ResponseEnvelope(_Out):
    data: ResponseWithAnswers


class ResponsePage(_Page):
    data: list[Response]


class ResponseQuery(PageQuery):
    campaign_id: SkipJsonSchema[None] | Id = _optional(description="Only the responses to this campaign")
    agency_id: SkipJsonSchema[None] | Id = _optional(description="Only the responses of this agency")
    country: SkipJsonSchema[None] | CountryFilter = _optional(description="Only this country's responses")
    status: SkipJsonSchema[None] | ResponseStatus = _optional(description="Only responses in this status")


# --- scores ------------------------------------------------------------------------------------------------


class IndicatorScore(_Out):
    """One indicator of one country in one campaign. Levels are on the questionnaire's scale; every figure is
    given to 6 decimals at most."""

    campaign_id: int
    country: CountryCode
    indicator_id: str
    area_id: str
    self_assessed: Figure = Field(description="Aggregated level of the agencies' answers")
    expert: Figure = Field(description="The latest expert rating")
    assessed: Figure = Field(description="The expert rating where there is one, else self-assessed")
    target: Figure
    gap: Figure = Field(description="max(0, target - assessed)")
    priority: Figure = Field(description="gap x indicator weight x area weight")
    coverage: Figure = Field(description="Share of the scorable questions answered (0..1)")
    agencies: int
    agencies_with_level: int
    ratings: int
    disagreement: bool = Field(description="The expert level and the self-assessed level both exist and differ by "
                                           "one level of the scale or more")
    experts_disagree: bool = Field(description="Two or more experts rated this indicator and their latest "
                                               "ratings differ")
    updated_at: Timestamp


class IndicatorScorePage(_Page):
    data: list[IndicatorScore]


class AreaScore(_Out):
    """One thematic area of one country in one campaign (roll-up of its indicators); every figure is given to 6
    decimals at most."""

    campaign_id: int
    country: CountryCode
    area_id: str
    self_assessed: Figure
    expert: Figure
    assessed: Figure
    target: Figure
    gap: Figure
    coverage: Figure
    updated_at: Timestamp


class AreaScorePage(_Page):
    data: list[AreaScore]


IdFilter = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]


class ScoreQuery(PageQuery):
    country: SkipJsonSchema[None] | CountryFilter = _optional(description="Only this country")
    indicator: SkipJsonSchema[None] | IdFilter = _optional(description="Only this indicator (its id)")
    area: SkipJsonSchema[None] | IdFilter = _optional(description="Only the indicators of this area (its id)")


class AreaScoreQuery(PageQuery):
    country: SkipJsonSchema[None] | CountryFilter = _optional(description="Only this country")
    area: SkipJsonSchema[None] | IdFilter = _optional(description="Only this area (its id)")
