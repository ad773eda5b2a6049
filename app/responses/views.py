"""The respondent's landing page, a read view of one response, the progress overview and reminders."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.permissions import require_role
from app.campaigns import services as campaigns
from app.core.ids import form_id
from app.directory.models import AGENCY_TYPES
from app.extensions import db
from app.i18n import _, get_locale_code, local_today
from app.questionnaires.forms import tr
from app.questionnaires.rendering import visibility
from app.questionnaires.services import definition_of
from app.responses import files, services
from app.responses.models import RESPONSE_STATUSES
from app.responses.respond import questionnaire_lang

bp = Blueprint("responses", __name__)


def _kind_label(code: str) -> str:
    from app.directory.labels import agency_type_label

    return agency_type_label(code)


@bp.route("/respondent")
@require_role("respondent")
def respondent_home():
    """The questionnaire of the agency and campaign the respondent's link is for: sections and progress."""
    invitation = g.get("invitation")
    if invitation is None:
        return render_template("responses/respondent_home.html", invitation=None)
    return render_home(invitation)


def render_home(invitation, *, reply: dict | None = None) -> str:
    """The respondent's home page. `reply`, after a refused clarification reply: {"id": the request, "text":
    what was typed, "error": why it was refused, "refused": True when the answers can no longer be changed},
    so that the typed text is shown back rather than lost."""

    from app.questionnaires.forms import Context
    from app.responses import answering
    from app.responses.progress import section_states
    from app.responses.respond import _state_labels, current_response

    campaign, agency = invitation.campaign, invitation.agency
    response = current_response(invitation)
    definition = definition_of(response.version)
    lang = questionnaire_lang(definition)
    from app.responses.progress import required_progress

    values = answering.stored_values(response)
    today = local_today()
    states = section_states(definition, values, today)
    required, answered = required_progress(definition, values, today)
    labels = _state_labels(states)
    sections = [(n, s, labels[n - 1]) for n, s in enumerate(definition.sections, start=1)]
    resume = next((n for n, _s, _l in sections if states[n - 1] in ("not_started", "partial")), 1)
    return render_template("responses/respondent_home.html", invitation=invitation, campaign=campaign,
                           agency=agency, response=response, definition=definition, lang=lang,
                           ctx=Context(definition, lang),
                           title=tr(definition.title, lang, definition.languages[0]), sections=sections, resume=resume,
                           days=campaigns.days_to_deadline(campaign), editable=answering.is_editable(response),
                           required=required, answered=answered, clarifications=_clarifications(definition, response),
                           reply=reply or {})


def _clarifications(definition, response):
    """(clarification, section number) of the open requests, for the respondent's home page."""
    from app.review.services import open_clarifications

    numbers = {q.id: n for n, s in enumerate(definition.sections, start=1) for q in s.questions}
    return [(c, numbers.get(c.question_id, 1)) for c in open_clarifications(response)]


def _visible_or_404(response_id: int):
    return services.visible_response(current_user, response_id, g.get("invitation")) or abort(404)


@bp.route("/responses/<int:response_id>")
@require_role("staff", "admin", "expert", "respondent")
def show(response_id: int):
    """One response's answers, read-only, for those allowed to see that agency."""
    from app.responses.display import display

    response = _visible_or_404(response_id)
    definition = definition_of(response.version)
    lang = questionnaire_lang(definition)
    values = services.answer_values(response)
    seen = visibility(definition, values)  # a question skip logic hides "does not apply", whatever is stored
    links = {qid: link["url"] for qid, link in
             files.file_links(seen.values, lambda key: url_for(".file", response_id=response.id, key=key)).items()}
    return render_template("responses/show.html", response=response, definition=definition, lang=lang,
                           values=seen.values, tr=tr, display=display, links=links, hidden=seen.hidden)


@bp.route("/responses/<int:response_id>/print")
@require_role("staff", "admin", "expert", "respondent")
def print_view(response_id: int):
    """The printable copy of a response."""
    from app.responses.respond import render_print

    response = _visible_or_404(response_id)
    definition = definition_of(response.version)
    lang = request.args.get("lang")
    lang = lang if lang in definition.languages else questionnaire_lang(definition)
    return render_print(response, definition, lang, blank=request.args.get("blank") == "1",
                        file_url=lambda key: url_for(".file", response_id=response.id, key=key),
                        back_url=_review_or_show_url(response))


def _review_or_show_url(response) -> str:
    """Where the printable copy and the history lead back to: the response's review page for those who review it
    (the read-only page had no way there), else its read-only page."""
    from app.review import services as review

    try:
        review.reviewable_response(current_user, response.id)
    except review.ReviewError:
        return url_for(".show", response_id=response.id)
    return url_for("review.response", response_id=response.id)


@bp.route("/responses/<int:response_id>/history")
@require_role("staff", "admin", "expert", "respondent")
def history(response_id: int):
    """Every change of a response's answers."""
    from app.responses.respond import render_history

    response = _visible_or_404(response_id)
    definition = definition_of(response.version)
    lang = questionnaire_lang(definition)
    return render_history(response, definition, lang, back_url=_review_or_show_url(response))


@bp.route("/responses/<int:response_id>/files/<key>")
@require_role("staff", "admin", "expert", "respondent")
def file(response_id: int, key: str):
    """An evidence file of a response the person may see."""
    from app.responses.respond import send_evidence

    response = _visible_or_404(response_id)
    return send_evidence(services.answer_values(response), key)


@bp.route("/campaigns/<int:campaign_id>/progress")
@require_role("staff", "admin", "expert")
def progress(campaign_id: int):
    """Countries x agencies: status, progress, invitations and actions."""
    campaign = campaigns.get_campaign(campaign_id)
    if not campaigns.may_see_campaign(current_user, campaign):
        abort(404)
    country = request.args.get("country") or None
    status = request.args.get("status") if request.args.get("status") in RESPONSE_STATUSES else None
    kind = request.args.get("kind") if request.args.get("kind") in AGENCY_TYPES else None
    search = (request.args.get("q") or "").strip()[:200] or None
    overview = services.progress_overview(campaign, current_user, country=country, status=status, kind=kind,
                                          search=search, page=request.args.get("page", 1, type=int),
                                          per_page=services.OVERVIEW_PER_PAGE, lang=get_locale_code())
    filters = {"country": country or "", "status": status or "", "kind": kind or "", "q": search or ""}
    return render_template("responses/progress.html", overview=overview, campaign=campaign,
                           countries=services.overview_countries(campaign, current_user),
                           statuses=RESPONSE_STATUSES, kinds=AGENCY_TYPES, kind_label=_kind_label,
                           max_reminder_days=MAX_REMINDER_DAYS,
                           filters=filters, page_url=lambda number: url_for(
                               ".progress", campaign_id=campaign.id, page=number,
                               **{key: value for key, value in filters.items() if value}),
                           can_act=current_user.role in ("staff", "admin"))


#: The longest minimum interval between two reminders the progress page accepts, in days (its field's max).
MAX_REMINDER_DAYS = 365


@bp.route("/campaigns/<int:campaign_id>/remind", methods=["POST"])
@require_role("staff", "admin")
def remind(campaign_id: int):
    """Remind the contacts of agencies that have not submitted (all, or one agency)."""
    campaign = campaigns.get_campaign(campaign_id) or abort(404)
    agency_id = form_id("agency_id")
    typed = (request.form.get("min_days") or "7").strip()
    if not (typed.isascii() and typed.isdigit()) or int(typed) > MAX_REMINDER_DAYS:
        # before, anything but a number was taken for 7 without a word
        flash(_("The minimum interval is a whole number of days, from 0 to %(max)s. No reminder was sent.",
                max=MAX_REMINDER_DAYS), "error")
        from app.core.urls import safe_next  # back to the page (and filters) it came from, as after a reminder

        return redirect(safe_next(request.form.get("next")) or url_for(".progress", campaign_id=campaign.id))
    min_days = int(typed)
    # The overview's filters (country or regional bodies, type of agency, text) limit "remind every agency" to
    # the agencies that match them, on every page of the overview.
    country = (request.form.get("country") or "").strip().upper() or None
    kind = request.form.get("kind") if request.form.get("kind") in AGENCY_TYPES else None
    search = (request.form.get("q") or "").strip()[:200] or None
    status = request.form.get("status") if request.form.get("status") in RESPONSE_STATUSES else None
    if country and country != "-" and country not in {c.code for c in campaigns.campaign_countries(campaign)}:
        from app.core.urls import safe_next

        flash(_("The campaign asks no agency of the country “%(code)s”. No reminder was sent.", code=country),
              "error")
        return redirect(safe_next(request.form.get("next")) or url_for(".progress", campaign_id=campaign.id))
    agency_ids = [agency_id] if agency_id else None
    if agency_ids is None and (country or kind or search or status):
        agency_ids = [a.id for a in services.overview_agencies(campaign, current_user, country=country, kind=kind,
                                                               search=search, status=status)]
    try:
        outcomes = services.remind(campaign, actor=current_user, min_days=min_days, agency_ids=agency_ids)
    except services.ResponseError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        reminded = sum(1 for o in outcomes if o.action == "reminded")
        too_soon = sum(1 for o in outcomes if o.action == "too soon")
        if too_soon:
            flash(_("%(n)s reminder(s) queued; %(soon)s contact(s) were invited or reminded less than %(days)s days "
                    "ago and are not reminded yet.",
                    n=reminded, soon=too_soon, days=min_days), "success" if reminded else "info")
        else:  # with no interval, or no one reminded lately, there is no "less than 0 days ago" to speak of
            flash(_("%(n)s reminder(s) queued.", n=reminded), "success" if reminded else "info")
        without_link = [o for o in outcomes if o.without_link]
        if without_link:  # a reminder would send a dead link, or none: they need an invitation
            flash(_("%(n)s contact(s) of agencies that have not submitted have no valid link (it expired, was "
                    "revoked or was never sent) and were not reminded: %(who)s. Invite them from the campaign's "
                    "page to send them a new link.", n=len(without_link),
                    who=", ".join(f"{o.contact.email} ({o.agency.acronym})" for o in without_link[:10])
                    + (" …" if len(without_link) > 10 else "")), "warning")
    from app.core.urls import safe_next

    return redirect(safe_next(request.form.get("next")) or url_for(".progress", campaign_id=campaign.id))
