"""The texts of the API document that its reference page shows, marked for the message catalogues so that
the page reads in every interface language (`app.api.reference`). Written by `python -m app.api.reference_texts`
from the document itself; a test checks that the list is still the document's, so a changed docstring or field
description cannot reach the page untranslated."""

# ruff: noqa: E501 - one text per line, as the document has them
from __future__ import annotations

import re
from pathlib import Path

#: The message context of the section names (`section_name`).
SECTION = "API section"


def N_(text: str) -> str:  # noqa: N802 - the usual name of a gettext marker
    """Mark a text for the catalogues; it is translated where the page is built."""
    return text


def NP_(context: str, text: str) -> str:  # noqa: N802 - as N_, with a message context
    """Mark a text with its context for the catalogues."""
    return text


def section_name(name: str) -> str:
    """A section (tag) name of the document in the page's language."""
    from flask_babel import pgettext

    return pgettext(SECTION, name)


SECTIONS = (
    NP_('API section', 'Account'),
    NP_('API section', 'Campaigns'),
    NP_('API section', 'Questionnaires'),
    NP_('API section', 'Directory'),
    NP_('API section', 'Responses'),
    NP_('API section', 'Scores'),
    NP_('API section', 'Reference'),
)


TEXTS = (
    N_('OK'),
    N_('Bad Request'),
    N_('Unauthorized'),
    N_('Forbidden'),
    N_('Not Found'),
    N_('Too Many Requests'),
    N_('Internal Server Error'),
    N_("The token's user and scope"),
    N_('Who the token belongs to, their role and, for an expert, the countries they may see.'),
    N_('Page number, from 1'),
    N_('length'),
    N_('default'),
    N_('query'),
    N_('Items per page'),
    N_('one of %(values)s'),
    N_('Only campaigns in this status'),
    N_('List campaigns'),
    N_("The campaigns the token's user may know of, as on the campaigns page (an expert: those that are not drafts and ask agencies of their countries), oldest first."),
    N_('path'),
    N_('One campaign'),
    N_('List questionnaires and their versions'),
    N_('An expert sees the versions used by campaigns or by the responses they may see.'),
    N_('One questionnaire and its versions'),
    N_('One questionnaire version with its definition'),
    N_('The definition is the frozen, canonical form of the questionnaire file (questions, choices, scores, skip logic, areas and indicators with their targets): see questionnaires/README.md for the format.'),
    N_('List countries'),
    N_('Staff see every country; an expert the countries assigned to them.'),
    N_('One country, by its ISO code'),
    N_('Only the agencies of this country'),
    N_('pattern'),
    N_('Only agencies of this kind'),
    N_('Only the agencies asked in this campaign'),
    N_('Only active (true) or deactivated (false) agencies'),
    N_('List agencies'),
    N_('Staff see every agency, regional bodies included (country null); an expert the agencies of their countries. Filters: country, kind, campaign_id (the agencies a campaign asks), active.'),
    N_('One agency'),
    N_('Only the responses to this campaign'),
    N_('Only the responses of this agency'),
    N_("Only this country's responses"),
    N_('Only responses in this status'),
    N_('List responses (without their answers)'),
    N_('Staff see every response; an expert those of agencies in their countries. Filters: campaign_id, agency_id, country, status.'),
    N_('One response with its answers'),
    N_("Each answer's value is as normalised by its question type (see the questionnaire version). Answers to questions that skip logic hides under the other answers are left out, as in the exports."),
    N_('Only this country'),
    N_('Only this indicator (its id)'),
    N_('Only the indicators of this area (its id)'),
    N_('Scores per country and indicator'),
    N_('The materialized scores of a campaign, one per country and indicator, for the countries the caller may see, ordered by country, area and indicator. Filters: country, indicator, area.'),
    N_('Only this area (its id)'),
    N_('Scores per country and thematic area'),
    N_("The roll-up of each area's indicators, for the countries the caller may see. Filters: country, area."),
    N_('This OpenAPI document'),
    N_('Generated from the code: the routes, their docstrings and the pydantic models.'),
    N_('The reference page (HTML)'),
    N_('This document, rendered as a page for people.'),
    N_('or'),
    N_('One of: interior, prosecutor, fiu, security, border, customs, emergency, justice, foreign_affairs, regional, other'),
    N_('object of %(type)s'),
    N_('The text per language code, e.g. {"en": "...", "ru": "..."}'),
    N_('A national body, or a regional one (country null).'),
    N_('list of %(type)s'),
    N_('any'),
    N_('Depends on the question type: a string, number, list, object or null'),
    N_('1 on the first save, +1 on every change'),
    N_('The stored answer to one question, as normalised by its question type.'),
    N_('A thematic area grouping indicators.'),
    N_('ISO 3166-1 alpha-2 code'),
    N_('One thematic area of one country in one campaign (roll-up of its indicators); every figure is given to 6\ndecimals at most.'),
    N_('The name in every language without one of its own in name_translations'),
    N_('The name in other languages, e.g. {"ru": "..."}'),
    N_("The staff's note on the campaign; null for an expert, who does not see it on the pages either"),
    N_('The last day on which answers are expected'),
    N_('The campaign this one follows up (null when there is none, or when the caller may not see it)'),
    N_('A round of asking agencies one questionnaire version.'),
    N_('An answer option; `score` is its level on the scale (none: not scored).'),
    N_('A whole questionnaire definition.'),
    N_('The HTTP status code, repeated'),
    N_('not_found, invalid_parameter, unauthorized, invalid_token, forbidden, method_not_allowed, rate_limited, server_error, ...'),
    N_('What went wrong. `code` is stable and meant for programs; `title` and `message` are for people.'),
    N_('Where: "query.per_page", "header.Authorization", ...'),
    N_('One problem with the request, e.g. a query parameter out of range.'),
    N_('Every error of the API has this shape.'),
    N_('A capability measured by questions, with its default target level.'),
    N_("Aggregated level of the agencies' answers"),
    N_('The latest expert rating'),
    N_('The expert rating where there is one, else self-assessed'),
    N_('max(0, target - assessed)'),
    N_('gap x indicator weight x area weight'),
    N_('Share of the scorable questions answered (0..1)'),
    N_('The expert level and the self-assessed level both exist and differ by one level of the scale or more'),
    N_('Two or more experts rated this indicator and their latest ratings differ'),
    N_("One indicator of one country in one campaign. Levels are on the questionnaire's scale; every figure is\ngiven to 6 decimals at most."),
    N_('A row of a matrix question; it may score its own indicator.'),
    N_('The countries an expert may see; null for staff and administrators (every country)'),
    N_('The user a token belongs to, and their scope.'),
    N_('Relative links to pages of the same list, with the same filters; null where there is none.'),
    N_('Items in the whole list (with the filters applied)'),
    N_('Number of pages (0 when the list is empty)'),
    N_('Where this page is in the whole list.'),
    N_('One question; which optional fields apply depends on `type`.'),
    N_('A questionnaire and the versions of it the caller may see.'),
    N_('sha256 of the canonical definition'),
    N_('A version with its whole definition (the format of questionnaires/README.md).'),
    N_('The version the response is pinned to'),
    N_('The latest submission'),
    N_('The first submission (earlier than submitted_at when the answers were returned for clarification)'),
    N_('Required questions (visible under the current answers)'),
    N_("An agency's response to a campaign (one per agency and campaign)."),
    N_('One level of the rating scale.'),
    N_('A page of the questionnaire.'),
    N_('A number at or above `at_least` gives `level`.'),
    N_('The token used for this request.'),
    N_('A questionnaire version: /questionnaires/{slug}/versions/{number}.'),
    N_('One frozen version of a questionnaire.'),
    N_('Read-only access to campaigns, questionnaire versions, countries, agencies, responses with their answers, and the materialized scores.'),
    N_('**Authentication.** Every request except this document and its reference page sends a personal API token: `Authorization: Bearer <token>`. Staff, administrators and experts create and revoke tokens on their account page (*API tokens*); a token is shown once, stored only as a hash, and may expire. Respondents answer through their invitation links and have no tokens.'),
    N_('**Scope.** Staff and administrators read everything. An expert reads the countries assigned to them, the agencies of those countries, their responses and scores; anything else answers 404, as if it did not exist.'),
    N_('**Lists** take `page` (from 1) and `per_page` (1 to 100, default 25) and answer `{"data": [...], "meta": {"page", "per_page", "total", "pages"}, "links": {"self", "first", "last", "next", "previous"}}`; a single object is `{"data": {...}}`.'),
    N_('**Errors** (400, 401, 403, 404, 405, 429, 500) all answer `{"error": {"status": 404, "code": "not_found", "title": "Not Found", "message": "...", "details": []}}`; `code` is stable and meant for programs; `title` and `message` are for people, in the language of `Accept-Language`.'),
    N_('**Rate limit.** Each token may make a limited number of requests per minute (429 with `Retry-After` beyond).'),
    N_('Needs Assessment API'),
)


def write() -> int:
    """Write this file again from the current document; the number of texts."""
    from app import create_app
    from app.api.reference import texts
    from app.api.spec import spec

    app = create_app({"TESTING": True, "SECRET_KEY": "reference-texts", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        found, sections = texts(spec.spec)
    path = Path(__file__)
    source = path.read_text(encoding="utf-8")
    for name, lines in (("SECTIONS", "".join(f"    NP_({SECTION!r}, {text!r}),\n" for text in sections)),
                        ("TEXTS", "".join(f"    N_({text!r}),\n" for text in found))):
        source = re.sub(rf"^{name} = \(\n.*?^\)\n", lambda _m, name=name, lines=lines: f"{name} = (\n{lines})\n",
                        source, count=1, flags=re.S | re.M)
    path.write_text(source, encoding="utf-8")
    return len(found) + len(sections)


if __name__ == "__main__":
    print(f"{write()} texts written to {__file__}")
