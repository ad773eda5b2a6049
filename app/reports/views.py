"""Downloads of the Excel reports: a country's gap report and the regional summary of a campaign.

Staff and admins get every country; an expert only the countries assigned to them (another country, or a
campaign or country that does not exist: 404, without telling which); respondents 403.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request
from flask_login import current_user

from app.auth.permissions import require_role
from app.core.downloads import send_workbook
from app.core.errors import abort_with_message
from app.i18n import _, available_locales, get_locale_code
from app.questionnaires.services import definition_of
from app.reports import data
from app.reports.country import build_country_report
from app.reports.regional import build_regional_report

bp = Blueprint("reports", __name__, url_prefix="/reports")



def _lang() -> str:
    """?lang=ru, one of the configured locales; without it, the interface language; any other value is a 400
    naming it and the choices (as the raw data export does), not a report in another language than asked."""
    wanted = request.args.get("lang", "")
    if not wanted:
        return get_locale_code()
    if wanted not in available_locales():
        abort_with_message(400, _("There is no report in “%(value)s”: choose %(choices)s.", value=wanted,
                                  choices=", ".join(available_locales())))
    return wanted


def _branding() -> data.Branding:
    """The branding; a broken branding.yaml is logged and the report made without it (staff see the problem
    above the download buttons, see `branding_problem`; the CLI stops with it)."""
    try:
        return data.load_branding()
    except data.BrandingError as exc:
        current_app.logger.warning("report branding ignored: %s", exc)
        return data.Branding()


def branding_problem() -> str | None:
    """What is wrong with reports/branding.yaml, for staff and admins (None when it is fine, or for others:
    the message names a server path)."""
    if getattr(current_user, "role", None) not in ("staff", "admin"):
        return None
    try:
        data.load_branding()
    except data.BrandingError as exc:
        return str(exc)
    return None


def _questionnaire_languages(campaign) -> list[str]:
    """The languages of a campaign's questionnaire (for the raw data form), from the cached parse."""
    return definition_of(campaign.version).languages


@bp.app_context_processor
def _report_helpers() -> dict:
    return {"branding_problem": branding_problem, "questionnaire_languages": _questionnaire_languages}


@bp.route("/campaigns/<int:campaign_id>/countries/<code>.xlsx")
@require_role(*data.REPORT_ROLES)
def country(campaign_id: int, code: str):
    """The gap report of one country (?lang=en|ru, ?comments=1 to include the internal comments)."""
    try:
        campaign = data.report_campaign(current_user, campaign_id)
        country = data.report_country(current_user, campaign, code)
    except data.NotFound:
        abort(404)
    lang = _lang()
    include_comments = request.args.get("comments", "") in ("1", "on", "true", "yes")
    report = data.country_report_data(campaign, country, include_comments=include_comments,
                                      branding=_branding())
    filename = data.report_filename("country", campaign.id, lang, country.code, report.generated_at)
    return send_workbook(build_country_report(report, lang), filename)


@bp.route("/campaigns/<int:campaign_id>/region.xlsx")
@require_role(*data.REPORT_ROLES)
def region(campaign_id: int):
    """The regional summary of the countries the user may see (?lang=en|ru)."""
    try:
        campaign = data.report_campaign(current_user, campaign_id)
    except data.NotFound:
        abort(404)
    if not data.report_countries(current_user, campaign) and current_user.role not in ("staff", "admin"):
        abort(404)
    lang = _lang()
    report = data.regional_report_data(campaign, current_user, branding=_branding())
    workbook = build_regional_report(report, lang)
    return send_workbook(workbook, data.report_filename("region", campaign.id, lang, now=report.generated_at))
