"""Dashboard pages: campaign progress, country profiles, the regional view and the question explorer.

Every page takes its filters from the query string (campaign, country, kind, area, question), so a view
can be shared by its address, and answers `?format=json` with the same data, limited to the same scope.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from babel import Locale
from babel.dates import get_date_format, get_day_names, get_month_names
from babel.numbers import get_decimal_symbol, get_group_symbol
from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from app.auth.permissions import require_role
from app.campaigns.services import get_campaign, may_see_campaign
from app.core.errors import abort_with_message
from app.core.ids import is_record_id
from app.dashboards import data as dashboard_data
from app.dashboards import figures
from app.directory.models import AGENCY_TYPES
from app.i18n import _, format_date, format_decimal, get_locale_code
from app.questionnaires.services import definition_of
from app.scoring.engine import percent as whole_percent
from app.scoring.engine import round_score

bp = Blueprint("dashboards", __name__, url_prefix="/dashboards")

#: The query-string arguments that make a view (kept in every link between the dashboards).
FILTER_ARGS = ("campaign", "country", "kind", "area", "question")


def _campaign():
    """The campaign of the query string, else the default one; 404 for an unknown id or a campaign the viewer
    may not know of (for an expert: a draft, or one asking no agency of their countries)."""
    raw = request.args.get("campaign")
    if raw:
        campaign = get_campaign(int(raw)) if is_record_id(raw) else None
        return campaign if may_see_campaign(current_user, campaign) else abort(404)
    return dashboard_data.default_campaign(current_user)


def _filters(campaign) -> dashboard_data.Filters:
    """The view's filters; 404 for a country the viewer may not see (an expert's other countries)."""
    definition = definition_of(campaign.version) if campaign else None
    filters = dashboard_data.Filters.from_mapping(request.args, definition)
    if filters.country and campaign is not None and not dashboard_data.may_filter_country(
            campaign, current_user, filters.country):
        abort(404)
    return filters


#: Sent by the filter form only: "<campaign id>:<area id>" of the page the form was on. A filter the new choice
#: makes meaningless (a question of another area or version, a country the new campaign does not ask) is then
#: dropped, and the browser sent on to the clean address; typed into a shared address, the same filter gives 404.
SHOWN_ARG = "shown"


@bp.before_request
def settle_form_filters():
    """Filters sent by the form after the campaign or the area changed: drop what no longer fits, then redirect
    to the view's address without SHOWN_ARG (the address to share)."""
    shown = request.args.get(SHOWN_ARG)
    if shown is None or request.method != "GET" or not current_user.is_authenticated \
            or current_user.role not in dashboard_data.DASHBOARD_ROLES:
        return None
    args = {key: value for key, value in request.args.items() if key in FILTER_ARGS and value}
    campaign = _campaign()
    view_args = dict(request.view_args or {})
    if campaign is not None:
        definition = definition_of(campaign.version)
        old_campaign, _sep, old_area = shown.partition(":")
        if args.get("area") and args["area"] not in {area.id for area in definition.areas}:
            args.pop("area")
        if args.get("question") and (old_campaign != str(campaign.id) or args.get("area", "") != old_area):
            keys = {option["key"] for option in dashboard_data.explorable_questions(
                definition, get_locale_code(), args.get("area"))}
            if args["question"] not in keys:
                args.pop("question")  # the first question of the new choice is shown
        if args.get("country") and not dashboard_data.may_filter_country(campaign, current_user, args["country"]):
            args.pop("country")
        if request.endpoint == "dashboards.country" and view_args.get("country_code") not in {
                c.code for c in dashboard_data.visible_countries(campaign, current_user)}:
            return redirect(url_for("dashboards.index", **args))  # the new campaign does not ask that country
    return redirect(url_for(request.endpoint, **view_args, **args))


def _wants_json() -> bool:
    return request.args.get("format") == "json"


def score(value, places: int = 2) -> str:
    """A level, gap, priority or answered number for people: at most `places` decimals, thousands grouped, in the
    locale's notation ("12 369", "8 586,5" in Russian); "—" for none."""
    if value is None:
        return "—"
    return format_decimal(round_score(value, places), format="#,##0." + "#" * places)


def percent(value) -> str:
    """A share (0..1) as a whole percentage; "—" for none."""
    if value is None:
        return "—"
    return format_decimal(whole_percent(value)) + "%"


def day(iso: str | None) -> str:
    """An ISO date for people, in the locale's notation."""
    return format_date(date.fromisoformat(iso)) if iso else "—"


def plotly_dictionary() -> dict[str, str]:
    """plotly.js's own English texts that our charts can show, in the current language: the image button and the
    hover labels of box plots (keys as plotly.js 3 spells them, colon included; the statistics are named as in
    the question explorer's tables)."""
    return {
        "Download plot as a png": _("Download the chart as an image (PNG)"),
        "Download plot as a PNG": _("Download the chart as an image (PNG)"),  # plotly.js 3 spells it so
        "Preparing image - this may take a few seconds": _("Preparing the image…"),
        "Download plot": _("Download the chart as an image (PNG)"),
        "Double-click to zoom back out": _("Double-click to zoom back out"),
        "min:": _("Lowest") + ":",
        # i18n: hover label of a box plot: the first quartile (a quarter of the values are below it)
        "q1:": _("Lower quartile") + ":",
        "median:": _("Median") + ":",
        # i18n: hover label of a box plot: the third quartile (a quarter of the values are above it)
        "q3:": _("Upper quartile") + ":",
        "max:": _("Highest") + ":",
        "mean:": _("Mean") + ":",
        # i18n: hover label of a box plot: the lowest value that is not an outlier (plotly's "lower fence")
        "lower fence:": _("Lowest without outliers") + ":",
        # i18n: hover label of a box plot: the highest value that is not an outlier (plotly's "upper fence")
        "upper fence:": _("Highest without outliers") + ":",
    }


def plotly_config(lang: str) -> dict:
    """plotly.js options: only the "download as image" button, and labels, months, dates and numbers in `lang`."""
    locale = Locale.parse(lang)
    months = get_month_names("wide", context="stand-alone", locale=locale)
    short_months = get_month_names("abbreviated", context="stand-alone", locale=locale)
    days = get_day_names("wide", context="stand-alone", locale=locale)
    short_days = get_day_names("abbreviated", context="stand-alone", locale=locale)
    week = [6, 0, 1, 2, 3, 4, 5]  # plotly counts from Sunday, babel from Monday
    # Dates on axes and in hover labels: the day before the month where the locale writes it so (1 нояб. 2026),
    # plotly's own order otherwise (Nov 1, 2026).
    pattern = get_date_format("medium", locale=locale).pattern
    day_first = 0 <= pattern.find("d") < pattern.find("M")
    return {
        "displaylogo": False,
        "responsive": True,
        "modeBarButtons": [["toImage"]],
        "locale": lang,
        "locales": {lang: {
            "dictionary": plotly_dictionary(),
            "format": {
                "months": [months[m] for m in range(1, 13)],
                "shortMonths": [short_months[m] for m in range(1, 13)],
                "days": [days[d] for d in week],
                "shortDays": [short_days[d] for d in week],
                "decimal": get_decimal_symbol(locale),
                "thousands": get_group_symbol(locale),
                "year": "%Y",
                "month": "%b %Y",
                "dayMonth": "%-d %b" if day_first else "%b %-d",
                "dayMonthYear": "%-d %b %Y" if day_first else "%b %-d, %Y",
            },
        }},
    }


def _script_json(value: dict) -> Markup:
    """JSON for a <script type="application/json"> element: figure_json leaves no "<", ">" or "&" in it, so
    the text cannot end the element or start markup, and it must not be HTML-escaped (scripts are raw text)."""
    return Markup(figures.figure_json(value))  # noqa: S704


def _render(template: str, data: dict, figure_set: dict, campaign, filters, **context):
    lang = get_locale_code()
    return render_template(
        template, data=data, figures={k: _script_json(v) for k, v in figure_set.items()},
        plotly_config=_script_json(plotly_config(lang)),
        campaign=campaign, filters=filters, campaigns=_choices(campaign),
        countries=dashboard_data.visible_countries(campaign, current_user) if campaign else [],
        definition=definition_of(campaign.version) if campaign else None, kinds=AGENCY_TYPES,
        kind_label=figures.kind_label, status_labels=figures.status_labels(), category_label=figures.category_label,
        score=score, percent=percent, day=day, link=link,
        json_url=link(request.endpoint, request.view_args, format="json"),
        **context)


def _choices(campaign) -> list:
    """The campaigns of the filter form: those listed for the viewer, and the one shown even when it is not
    listed (a draft staff opened by its address), or the form would show another and switch to it on *Show*."""
    listed = dashboard_data.list_campaigns(current_user)
    return listed if campaign is None or campaign in listed else [campaign, *listed]


def link(endpoint: str, view_args: dict | None = None, **changes) -> str:
    """The URL of a dashboard with the current filters, some of them changed (None removes one)."""
    args = {k: request.args.get(k) for k in FILTER_ARGS if request.args.get(k)}
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(endpoint, **(view_args or {}), **args)


def _no_campaign():
    """No campaign to show. An expert is told why in their terms: no country assigned, or none that an open or
    closed campaign asks (a colleague's campaign may well be open)."""
    if _wants_json():
        return jsonify({"campaign": None})
    expert = current_user.role == "expert"
    countries = sorted(c.name(get_locale_code()) for c in current_user.countries) if expert else []
    return render_template("dashboards/no_campaign.html", expert=expert, countries=countries)


@bp.route("/")
@require_role("staff", "admin", "expert")
def index():
    """Choose a campaign and a view."""
    campaign = _campaign()
    if campaign is None:
        return _no_campaign()
    filters = _filters(campaign)
    countries = dashboard_data.visible_countries(campaign, current_user)
    if _wants_json():
        return jsonify({"campaign": dashboard_data.campaign_info(campaign),
                        "countries": [{"code": c.code, "name": c.name(get_locale_code())} for c in countries]})
    return _render("dashboards/index.html", {}, {}, campaign, filters)


@bp.route("/progress")
@require_role("staff", "admin", "expert")
def progress():
    """Responses by status per country; submissions over time against the deadline."""
    campaign = _campaign()
    if campaign is None:
        return _no_campaign()
    filters = _filters(campaign)
    data = dashboard_data.progress_data(campaign, current_user, filters, lang=get_locale_code())
    if _wants_json():
        return jsonify(data)
    return _render("dashboards/progress.html", data, figures.progress_figures(data), campaign, filters)


@bp.route("/countries/<country_code>")
@require_role("staff", "admin", "expert")
def country(country_code: str):
    """One country's profile; 404 for a country the person may not see."""
    campaign = _campaign()
    if campaign is None:
        return _no_campaign()
    filters = _filters(campaign)
    try:
        data = dashboard_data.country_data(campaign, current_user, country_code, filters, lang=get_locale_code())
    except dashboard_data.NotFound:
        abort(404)
    if _wants_json():
        return jsonify(data)
    return _render("dashboards/country.html", data, figures.country_figures(data), campaign, filters)


@bp.route("/region")
@require_role("staff", "admin", "expert")
def regional():
    """Countries x areas gaps, the largest gaps, the spread of agency levels, the regional average."""
    campaign = _campaign()
    if campaign is None:
        return _no_campaign()
    filters = _filters(campaign)
    if filters.country == dashboard_data.REGIONAL_BODIES:  # compares countries: the regional bodies are none
        filters = replace(filters, country=None)
    data = dashboard_data.regional_data(campaign, current_user, filters, lang=get_locale_code())
    if _wants_json():
        return jsonify(data)
    return _render("dashboards/regional.html", data, figures.regional_figures(data), campaign, filters)


@bp.route("/questions")
@require_role("staff", "admin", "expert")
def questions():
    """The distribution of the answers to one question, by country and agency type."""
    campaign = _campaign()
    if campaign is None:
        return _no_campaign()
    filters = _filters(campaign)
    if filters.question and filters.question not in {option["key"] for option in dashboard_data.explorable_questions(
            definition_of(campaign.version), get_locale_code(), None)}:
        # before, another question was shown in its place without a word (a shared link with a mistyped id)
        abort_with_message(404, _("The questionnaire of this campaign has no question “%(key)s” whose answers can "
                                  "be counted.", key=filters.question))
    if filters.question and filters.area and filters.question not in {
            option["key"] for option in dashboard_data.explorable_questions(
                definition_of(campaign.version), get_locale_code(), filters.area)}:
        # the question asked for wins over an area it is not in (another question was shown in its place)
        filters = replace(filters, area=None)
    data = dashboard_data.question_data(campaign, current_user, filters, lang=get_locale_code())
    if _wants_json():
        return jsonify(data)
    return _render("dashboards/questions.html", data, figures.question_figures(data), campaign, filters)
