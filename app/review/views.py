"""The experts' review workspace: campaigns and countries in scope, a response with comments and clarification
requests, validation, side-by-side comparison of one question, and expert ratings of indicators."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.auth.models import User
from app.auth.permissions import require_role
from app.campaigns import services as campaigns
from app.core.ids import form_id
from app.extensions import db
from app.i18n import _, format_decimal
from app.questionnaires.forms import tr
from app.questionnaires.rendering import rule_inputs, visibility
from app.questionnaires.services import definition_of
from app.responses import answering, files
from app.responses.display import display
from app.responses.models import RESPONSE_STATUSES
from app.responses.respond import questionnaire_lang
from app.review import services
from app.review.services import ReviewError
from app.scoring.engine import percent as whole_percent
from app.scoring.engine import round_score
from app.scoring.models import CountryAreaScore, CountryScore, ResponseAreaScore
from app.scoring.store import OVERALL

bp = Blueprint("review", __name__, url_prefix="/review")

REVIEWERS = ("staff", "admin", "expert")


@bp.record_once
def _share_limits(state) -> None:
    """The services' length limits as the boxes' maxlength, in every template (the agency's reply box too)."""
    state.app.jinja_env.globals["review_limits"] = {
        "text": services.TEXT_LIMIT, "evidence": services.EVIDENCE_LIMIT, "message": services.MESSAGE_LIMIT,
        "reason": services.REASON_LIMIT}


def _or_404(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except ReviewError as exc:
        if exc.not_found:
            abort(404)
        raise


def _campaign_or_404(campaign_id: int):
    """A campaign the reviewer may know of (never a draft; for an expert, one asking agencies of their
    countries), else 404."""
    campaign = campaigns.get_campaign(campaign_id)
    if campaign is None or campaign.status == "draft" or not campaigns.may_see_campaign(current_user, campaign):
        abort(404)
    return campaign


def _country_of(campaign, code: str):
    """A country in the reviewer's scope that the campaign asks, else 404 (a country the campaign does not ask
    has nothing to review, nor to rate)."""
    country = _or_404(services.reviewable_country, current_user, code)
    if country.id not in {c.id for c in campaigns.campaign_countries(campaign)}:
        abort(404)
    return country


@bp.route("/")
@require_role(*REVIEWERS)
def index():
    """Campaigns with the countries in the reviewer's scope and their responses per status."""
    rows = []
    for campaign in campaigns.list_campaigns():
        if campaign.status == "draft":
            continue
        countries = services.visible_countries(current_user, campaign)
        regional = services.regional_bodies(current_user, campaign)
        if not countries and not regional:
            continue
        counts = services.status_counts(campaign)
        regional_counts = Counter(r.status for r in services.regional_responses(campaign)) if regional else None
        if regional_counts is not None:
            regional_counts["not_started"] += max(0, len(regional) - sum(regional_counts.values()))
        rows.append((campaign, [(country, *counts.get(country.id, (Counter(), 0))) for country in countries],
                     (regional_counts, len(regional)) if regional else None))
    return render_template("review/index.html", rows=rows, statuses=RESPONSE_STATUSES)


@bp.route("/campaigns/<int:campaign_id>/regional")
@require_role("staff", "admin")  # an expert's scope is their countries
def regional(campaign_id: int):
    """The regional bodies of a campaign (agencies without a country): their status and coverage, and the way
    to each response's review page (staff)."""
    campaign = _campaign_or_404(campaign_id)
    bodies = services.regional_bodies(current_user, campaign)
    if not bodies:
        abort(404)
    responses = {r.agency_id: r for r in services.regional_responses(campaign)}
    coverage = dict(db.session.execute(select(ResponseAreaScore.response_id, ResponseAreaScore.coverage).where(
        ResponseAreaScore.response_id.in_([r.id for r in responses.values()]),
        ResponseAreaScore.area_id == OVERALL)).all()) if responses else {}
    agencies = [(agency, responses.get(agency.id),
                 whole_percent(coverage.get(responses[agency.id].id)) if agency.id in responses else None)
                for agency in bodies]
    return render_template("review/regional.html", campaign=campaign, agencies=agencies)


def _score_rows(model, campaign, country):
    return {row.indicator_id if model is CountryScore else row.area_id: row for row in db.session.scalars(
        select(model).where(model.campaign_id == campaign.id, model.country_id == country.id))}


@bp.route("/campaigns/<int:campaign_id>/<code>")
@require_role(*REVIEWERS)
def country(campaign_id: int, code: str):
    """A country in a campaign: its agencies with status and coverage, and its indicators (self-assessed,
    expert, assessed, target, gap, priority) with the experts' ratings."""
    campaign = _campaign_or_404(campaign_id)
    country = _country_of(campaign, code)
    definition = definition_of(campaign.version)
    lang = questionnaire_lang(definition)
    responses = {r.agency_id: r for r in services.country_responses(campaign, country)}
    # Each agency's coverage as the scores define it (weighted by indicator and area: the overall row), the same
    # figure as everywhere else; none for a response that is not scored (in progress, returned).
    coverage = dict(db.session.execute(select(ResponseAreaScore.response_id, ResponseAreaScore.coverage).where(
        ResponseAreaScore.response_id.in_([r.id for r in responses.values()]),
        ResponseAreaScore.area_id == OVERALL)).all()) if responses else {}
    agencies = []
    for agency in sorted((a for a in campaign.agencies if a.country_id == country.id), key=lambda a: a.acronym):
        response = responses.get(agency.id)
        agencies.append((agency, response, whole_percent(coverage.get(response.id)) if response else None))
    scores = _score_rows(CountryScore, campaign, country)
    areas = _score_rows(CountryAreaScore, campaign, country)
    ratings = services.ratings_of(campaign, country)
    questions = [(q.id, tr(q.label, lang, definition.languages[0])) for _s, q in definition.questions()
                 if q.type != "note"]
    return render_template("review/country.html", campaign=campaign, country=country, definition=definition,
                           lang=lang, tr=tr, agencies=agencies, scores=scores, areas=areas, ratings=ratings,
                           disagreements=services.disagreements(ratings), questions=questions, r=round_score,
                           percent=whole_percent)


@bp.route("/responses/<int:response_id>")
@require_role(*REVIEWERS)
def response(response_id: int):
    """One response's answers by section in the reviewer's language, with comments and clarification requests."""
    response = _or_404(services.reviewable_response, current_user, response_id)
    return _render_response(response)


def _render_response(response, status: int = 200, errors: dict | None = None):
    definition = definition_of(response.version)
    lang = questionnaire_lang(definition)
    values = answering.stored_values(response)
    seen = visibility(definition, values)
    clarifications = services.all_clarifications(response)
    open_ids = {c.question_id for c in clarifications if c.closed_at is None}
    links = {qid: link["url"] for qid, link in files.file_links(
        values, lambda key: url_for("responses.file", response_id=response.id, key=key)).items()}
    unlocked = services.last_unlock(response)
    unlocked_by = db.session.get(User, unlocked.actor_id) if unlocked and unlocked.actor_id else None
    return render_template(
        "review/response.html", response=response, definition=definition, lang=lang, tr=tr, values=values,
        display=display, comments=services.comments_by_question(response), clarifications=clarifications,
        open_ids=open_ids, errors=errors or {}, form=request.form, unlocked=unlocked, unlocked_by=unlocked_by,
        links=links,
        visible=lambda _section, question: seen.shown(question)), status


@bp.route("/responses/<int:response_id>/comments", methods=["POST"])
@require_role(*REVIEWERS)
def comment(response_id: int):
    """Add a comment (or a reply) to a question."""
    response = _or_404(services.reviewable_response, current_user, response_id)
    question_id = request.form.get("question", "")
    try:
        _or_404(services.add_comment, response, question_id, request.form.get("body", ""), actor=current_user,
                parent_id=form_id("parent"))
    except ReviewError as exc:
        db.session.rollback()
        return _render_response(response, 422, {f"comment-{question_id}": str(exc)})
    db.session.commit()
    return redirect(url_for(".response", response_id=response.id) + f"#review-{question_id}")


@bp.route("/responses/<int:response_id>/clarify", methods=["POST"])
@require_role(*REVIEWERS)
def clarify(response_id: int):
    """Return the response to the agency with questions to clarify."""
    response = _or_404(services.reviewable_response, current_user, response_id)
    chosen = list(dict.fromkeys(request.form.getlist("clarify")))  # a question named twice is asked once
    items = [(qid, request.form.get(f"message-{qid}", "")) for qid in chosen]
    definition = definition_of(response.version)
    if response.status == "submitted" and response.campaign.status != "open":
        # said first, rather than after the reviewer has put the ticks right (the service checks it again under
        # the campaign's lock)
        return _render_response(response, 422, _clarify_errors(definition, services.closed_campaign_refusal(), []))
    if response.status == "submitted" and not response.agency.is_active:
        return _render_response(response, 422, _clarify_errors(
            definition, services.inactive_agency_refusal(response.agency), []))
    # A message written beside a question that is not ticked would be lost without a word: refuse, keep it.
    unticked = [definition.question(key.removeprefix("message-")) for key, text in request.form.items()
                if key.startswith("message-") and text.strip() and key.removeprefix("message-") not in chosen]
    unticked = [question for question in unticked if question is not None]
    missing = [definition.question(qid) for qid, message in items if not (message or "").strip()]
    missing = [question for question in missing if question is not None]
    too_long = [(definition.question(qid), len(services.typed(message))) for qid, message in items
                if len(services.typed(message)) > services.MESSAGE_LIMIT]
    too_long = [(question, length) for question, length in too_long if question is not None]
    without_message = _("Write your message to the agency about this question.")
    if unticked or too_long:  # with the other problems, if any: every problem at once, the typed text kept
        parts = []
        if unticked:
            parts.append(_("Some messages are beside questions that are not ticked: tick “Ask to clarify” to send "
                           "them, or clear them."))
        if too_long:
            parts.append(_("Some messages are longer than 5,000 characters: shorten them."))
        if missing:
            parts.append(_("Write a message for each question to clarify."))
        parts.append(_("Nothing was sent."))
        not_sent = _("This message would not be sent: tick “Ask to clarify”, or clear the message.")
        return _render_response(response, 422, _clarify_errors(
            definition, " ".join(parts),
            [(q, not_sent) for q in unticked] + [(q, without_message) for q in missing]
            + [(q, _("This message has %(length)s characters; at most 5,000 are sent. Shorten it.",
                     length=format_decimal(length))) for q, length in too_long]))
    try:
        _or_404(services.request_clarification, response, items, actor=current_user,
                seen_version=request.form.get("row_version", type=int))
    except ReviewError as exc:
        db.session.rollback()
        return _render_response(response, 422, _clarify_errors(
            definition, str(exc), [(q, without_message) for q in missing]))
    db.session.commit()
    if services.reachable_contacts(response.agency):
        flash(_("The response was returned to the agency with your questions; its contacts were e-mailed."),
              "success")
    else:
        flash(_("The response was returned to the agency with your questions, but nobody was e-mailed: the agency "
                "has no active contact. Add one in the directory, then send them a link from the campaign's "
                "page."), "warning")
    return redirect(url_for(".response", response_id=response.id))


def _clarify_errors(definition, summary: str, problems: list[tuple]) -> dict:
    """The errors of a refused clarification request: the summary, the questions it lists in the questionnaire's
    order (linked to their message fields) and the message shown beside each of them; `problems` are (question,
    message) pairs."""
    order = {q.id: n for n, (_section, q) in enumerate(definition.questions())}
    problems = sorted(problems, key=lambda problem: order.get(problem[0].id, len(order)))
    return {"clarify": summary, "missing": [q for q, _message in problems],
            **{f"message-{q.id}": message for q, message in problems}}


@bp.route("/responses/<int:response_id>/validate", methods=["POST"])
@require_role(*REVIEWERS)
def validate(response_id: int):
    """Validate a submitted response (it becomes locked)."""
    response = _or_404(services.reviewable_response, current_user, response_id)
    try:
        services.validate(response, actor=current_user, seen_version=request.form.get("row_version", type=int))
    except ReviewError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("The response is validated."), "success")
    return redirect(url_for(".response", response_id=response.id))


@bp.route("/responses/<int:response_id>/unlock", methods=["POST"])
@require_role("staff", "admin")
def unlock(response_id: int):
    """Unlock a validated response, with a reason (staff)."""
    response = _or_404(services.reviewable_response, current_user, response_id)
    seen = request.form.get("row_version", type=int)
    try:
        services.unlock(response, request.form.get("reason", ""), actor=current_user, seen_version=seen)
    except ReviewError as exc:
        db.session.rollback()  # and the response is read again
        if response.status == "validated":  # the form is still there (with the row version as it is now)
            return _render_response(response, 422, {"unlock": str(exc)})
        flash(str(exc), "error")  # a colleague acted meanwhile: the page as it is now, with why nothing was done
        return redirect(url_for(".response", response_id=response.id))
    db.session.commit()
    flash(_("The response is unlocked."), "success")
    return redirect(url_for(".response", response_id=response.id))


@bp.route("/campaigns/<int:campaign_id>/<code>/compare")
@require_role(*REVIEWERS)
def compare(campaign_id: int, code: str):
    """One question's answers across all agencies of a country, side by side."""
    campaign = _campaign_or_404(campaign_id)
    country = _country_of(campaign, code)
    definition = definition_of(campaign.version)
    lang = questionnaire_lang(definition)
    questions = [(s, q) for s, q in definition.questions() if q.type != "note"]
    question_id = request.args.get("question") or (questions[0][1].id if questions else "")
    found = next(((s, q) for s, q in questions if q.id == question_id), None)
    if found is None:
        abort(404)
    section, question = found
    rows = []
    responses = {r.agency_id: r for r in services.country_responses(campaign, country)}
    # the question's answers and those its skip logic (and its section's) reads, down the whole chain of rules
    read = rule_inputs(definition, [question.id])
    stored = services.answers_to(list(responses.values()), read)
    for agency in sorted((a for a in campaign.agencies if a.country_id == country.id), key=lambda a: a.acronym):
        response = responses.get(agency.id)
        values = stored[response.id] if response else {}
        shown = answering.visible(definition, section, question, values) if response else True
        rows.append((agency, response, display(definition, question, values.get(question.id), lang), shown))
    return render_template("review/compare.html", campaign=campaign, country=country, definition=definition,
                           lang=lang, tr=tr, question=question, rows=rows,
                           questions=[(q.id, tr(q.label, lang, definition.languages[0])) for _s, q in questions])


@bp.route("/campaigns/<int:campaign_id>/<code>/ratings/<indicator_id>", methods=["GET", "POST"])
@require_role(*REVIEWERS)
def rate(campaign_id: int, code: str, indicator_id: str):
    """An expert's rating of one indicator for one country, beside the self-assessment and earlier ratings."""
    campaign = _campaign_or_404(campaign_id)
    country = _country_of(campaign, code)
    definition = definition_of(campaign.version)
    if definition.indicator(indicator_id) is None:
        abort(404)
    error = None
    status = 200
    if request.method == "POST":
        try:
            _or_404(services.add_rating, campaign, country, indicator_id, request.form.get("level", ""),
                    request.form.get("rationale", ""), evidence=request.form.get("evidence", ""),
                    actor=current_user)
        except ReviewError as exc:
            db.session.rollback()
            error, status = str(exc), 422
        else:
            db.session.commit()
            flash(_("Your rating is saved."), "success")
            return redirect(url_for(".country", campaign_id=campaign.id, code=country.code) + f"#ind-{indicator_id}")
    lang = questionnaire_lang(definition)
    score = db.session.scalar(select(CountryScore).where(
        CountryScore.campaign_id == campaign.id, CountryScore.country_id == country.id,
        CountryScore.indicator_id == indicator_id))
    ratings = services.ratings_of(campaign, country).get(indicator_id, [])
    return render_template("review/rate.html", campaign=campaign, country=country, definition=definition, lang=lang,
                           tr=tr, indicator=definition.indicator(indicator_id), score=score, ratings=ratings,
                           error=error, form=request.form, r=round_score), status
