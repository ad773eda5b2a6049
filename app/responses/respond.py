"""The respondent's questionnaire: sections, autosave, review and submission, print, history, files and the
offline workbook. Every view works on the one response the respondent's link is for (g.invitation); no
route takes a response id, so there is nothing of another agency to ask for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_time
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import CombinedMultiDict, FileStorage, MultiDict

from app.auth.permissions import require_role
from app.core.downloads import send_workbook
from app.core.models import utcnow
from app.extensions import db
from app.i18n import _, force_locale, get_locale_code, interface_locale, local_today
from app.questionnaires.forms import (
    ADAPTERS,
    REMOVE_FILE,
    SPECIAL,
    Context,
    build_section_form,
    field_name,
    raw_values,
    tr,
)
from app.questionnaires.qtypes import AnswerError
from app.questionnaires.rendering import expression_trees, visibility
from app.questionnaires.services import definition_of
from app.responses import answering, files
from app.responses.display import display
from app.responses.models import Response
from app.responses.progress import section_states
from app.responses.services import NotEditable, ResponseError, ensure_response, response_for

bp = Blueprint("respond", __name__, url_prefix="/respondent")


@bp.after_app_request
def not_kept(response):
    """The respondent's pages (/respondent and below) are never kept by the browser: shown again by Back they
    would carry the answers' versions of before the page's own saves (and a save from them be taken for someone
    else's change), and on a shared computer they would show the agency's answers after the session ended."""
    if request.path == "/respondent" or request.path.startswith("/respondent/"):
        response.headers["Cache-Control"] = "no-store"
    return response


@dataclass
class Scope:
    """What every respondent page works on."""

    invitation: Any
    response: Response
    definition: Any
    lang: str

    @property
    def ctx(self) -> Context:
        return Context(self.definition, self.lang)


def questionnaire_lang(definition) -> str:
    """The interface language when the questionnaire has it, else the questionnaire's default language."""
    return definition.language_for(get_locale_code())


def current_response(invitation) -> Response:
    """The agency's response in the invitation's campaign, created on first use (safe when two contacts of the
    agency open it at the same moment)."""
    response = response_for(invitation.campaign, invitation.agency)
    if response is not None:
        return response
    try:
        with db.session.begin_nested():
            response = ensure_response(invitation.campaign, invitation.agency)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        response = response_for(invitation.campaign, invitation.agency)
    return response


def _scope() -> Scope:
    invitation = g.get("invitation")
    if invitation is None:
        abort(404)
    response = current_response(invitation)
    definition = definition_of(response.version)
    return Scope(invitation, response, definition, questionnaire_lang(definition))


#: CSS class of each section state's badge.
STATE_CLASSES = {"not_started": "neutral", "partial": "warn", "complete": "ok", "skipped": "muted"}


def _state_labels(states: list[str]) -> list[tuple[str, str]]:
    labels = {"not_started": _("Not started"), "partial": _("Partly answered"), "complete": _("Complete"),
              "skipped": _("Does not apply")}
    return [(STATE_CLASSES[s], labels[s]) for s in states]


def _with_stored(posted, questions, stored: dict[str, Any]) -> MultiDict:
    """The posted form data with the fields of `questions` replaced by what shows their stored value."""
    data = MultiDict(posted)
    for question in questions:
        name = field_name(question.id)
        for key in [key for key in data if key == name or key.startswith(name + "__")]:
            data.poplist(key)
        for key, value in ADAPTERS[question.type].form_data(question, stored.get(question.id)).items():
            data.setlist(key, value if isinstance(value, list) else [value])
    return data


def _versions(response: Response) -> dict[str, tuple[int, str]]:
    """{question id: (answer version, digest of the value)} for the page's hidden fields."""
    return {a.question_id: (a.version, answering.digest(a.value)) for a in response.answers}


def _next_visible(definition, values, number: int, step: int, today: date) -> int | None:
    skipped = visibility(definition, values, today).skipped
    index = number + step
    while 1 <= index <= len(definition.sections):
        if index - 1 not in skipped:
            return index
        index += step
    return None


def _file_raw(question, raw, stored) -> tuple[bool, Any]:
    """(whether to save, raw value) for a file question: a new upload or a special answer is saved; no upload
    keeps the stored file; "Remove this file" or unticking a special answer clears it."""
    if raw in SPECIAL:
        return True, raw
    if raw == REMOVE_FILE:
        return stored is not None, None
    if isinstance(raw, FileStorage) and raw.filename:
        return True, raw
    if stored in SPECIAL:
        return True, None
    return False, None


def _collect_raws(scope: Scope, section, form) -> tuple[dict[str, Any], dict[str, str]]:
    """Raw values of a section's questions (uploads stored); refused uploads as errors."""
    values = answering.stored_values(scope.response)
    raws, errors = {}, {}
    for qid, raw in raw_values(scope.definition, section, form).items():
        question = next(q for q in section.questions if q.id == qid)
        if question.type != "file":
            raws[qid] = raw
            continue
        wanted, raw = _file_raw(question, raw, values.get(qid))
        if not wanted:
            continue
        if isinstance(raw, FileStorage):
            try:
                raw = files.store_upload(question, raw, definition=scope.definition)
            except AnswerError as exc:
                errors[qid] = answering.message_text(exc)
                continue
        raws[qid] = raw
    return raws, errors


def _save_and_commit(response, raws: dict, **options) -> answering.SaveResult:
    """`answering.save_answers`, committed. Two contacts saving different questions at the same moment both bump
    the response's row version; the saves queue up on the response's lock (`answering._lock`), and should one
    still fail the version check, it is saved again on the fresh row (three attempts; a third clash is the
    error handler's 409 page)."""
    for _attempt in range(2):
        try:
            result = answering.save_answers(response, raws, **options)
            db.session.commit()
            return result
        except StaleDataError:
            db.session.rollback()
    result = answering.save_answers(response, raws, **options)
    db.session.commit()
    return result


def _conflict_view(scope: Scope, question, conflict: answering.Conflict) -> dict:
    return {"yours_display": display(scope.definition, question, conflict.yours, scope.lang),
            "theirs_display": display(scope.definition, question, conflict.theirs, scope.lang),
            "by": conflict.by, "at": conflict.at, "version": conflict.version}


@bp.route("/sections/<int:number>", methods=["GET", "POST"])
@require_role("respondent")
def section(number: int):
    """One section of the questionnaire: fields, skip logic, autosave; Save / Previous / Next without JS."""
    scope = _scope()
    definition, response = scope.definition, scope.response
    if not 1 <= number <= len(definition.sections):
        abort(404)
    section = definition.sections[number - 1]
    editable = answering.is_editable(response)
    today = local_today()
    errors: dict[str, list[str]] = {}
    conflicts: dict[str, dict] = {}
    status = 200
    meta = {"csrf": False}  # CSRFProtect checks every POST already
    refused = False
    result = None
    if request.method == "POST" and editable:
        formdata = CombinedMultiDict((request.files, request.form))
        form = build_section_form(definition, section, scope.lang, formdata=formdata, meta=meta)
        before = answering.stored_values(response)
        raws, upload_errors = _collect_raws(scope, section, form)
        base = {qid: request.form.get(f"v__{qid}", type=int, default=0) for qid in raws}
        originals = {qid: request.form[f"o__{qid}"] for qid in raws if f"o__{qid}" in request.form}
        try:
            result = _save_and_commit(response, raws, actor=current_user, channel="web", lang=scope.lang,
                                      base_versions=base, originals=originals, today=today)
        except NotEditable:  # submitted or closed by someone else while this save waited for the lock
            db.session.rollback()
            files.discard_replaced({f"new {qid}": value for qid, value in raws.items()
                                    if isinstance(value, dict) and "key" in value}, {})
            editable = False
    if request.method == "POST" and not editable:
        # Submitted or closed while the page was open: nothing is saved, and what was typed is shown back
        # (read-only) so that it can be copied rather than lost.
        refused, status = True, 409
        form = build_section_form(definition, section, scope.lang, meta=meta,
                                  formdata=CombinedMultiDict((request.files, request.form)))
    elif request.method == "POST" and result is not None:
        # Files replaced or removed, and uploads this save did not keep (refused, in conflict, hidden), go.
        uploaded = {f"new {qid}": value for qid, value in raws.items() if isinstance(value, dict) and "key" in value}
        files.discard_replaced({**before, **uploaded}, answering.stored_values(response))
        for qid, message in {**upload_errors, **result.errors}.items():
            errors.setdefault(qid, []).append(message)
        by_id = {q.id: q for q in section.questions}
        conflicts = {qid: _conflict_view(scope, by_id[qid], c) for qid, c in result.conflicts.items()}
        if not errors and not conflicts:
            values = answering.stored_values(response)
            action = request.form.get("action", "save")
            if action == "next":
                target = _next_visible(definition, values, number, 1, today)
                return redirect(url_for(".section", number=target) if target else url_for(".review"))
            if action == "previous":
                target = _next_visible(definition, values, number, -1, today)
                return redirect(url_for(".section", number=target or number))
            if action == "review":
                return redirect(url_for(".review"))
            flash(_("Your answers are saved."), "success")
            return redirect(url_for(".section", number=number))
        status = 409 if conflicts and not errors else 422
        # The form shows what was typed; versions are the stored ones, so saving again keeps the typed value.
        # Except where the page changed nothing and a colleague did meanwhile: there it shows the stored value
        # (with its version), or saving again would put the page's stale value over the colleague's.
        if result.kept_newer:
            form = build_section_form(definition, section, scope.lang, meta=meta, formdata=CombinedMultiDict((
                request.files, _with_stored(request.form, [by_id[qid] for qid in result.kept_newer],
                                            answering.stored_values(response)))))
    else:
        form = build_section_form(definition, section, scope.lang, values=answering.stored_values(response),
                                  meta=meta)
    values = answering.stored_values(response)
    if request.args.get("check") and editable:
        for qid in _missing_in_section(scope, section, values, today):
            errors.setdefault(qid, []).append(_("Answer this question before you submit."))
    if editable:  # stored answers that break their constraint (one they depend on changed since): beside them
        for qid, flag in answering.section_flags(definition, section, values, lang=scope.lang, today=today).items():
            if qid not in errors and qid not in conflicts:
                errors[qid] = [flag]
    if request.method == "POST" and (conflicts or any(not isinstance(m, answering.Flag)
                                                      for messages in errors.values() for m in messages)):
        summary = _("Some answers were not saved")
    elif any(not isinstance(m, answering.Flag) for messages in errors.values() for m in messages):
        summary = _("Some questions need an answer")
    else:
        summary = _("Answers to correct")
    return render_template(
        "responses/section.html", scope=scope, section=section, number=number, form=form,
        ctx=scope.ctx, adapters=ADAPTERS, expr=expression_trees(definition), errors=errors, conflicts=conflicts,
        summary=summary,
        editable=editable, versions=_versions(response),
        files=files.file_links(values, lambda key: url_for(".file", key=key)),
        # the other sections' answers that count for skip logic (a hidden question's answer is empty)
        known={k: v for k, v in visibility(definition, values, today).values.items()
               if k not in {q.id for q in section.questions}},
        sections=definition.sections, states=_state_labels(section_states(definition, values, today)),
        prev_number=_next_visible(definition, values, number, -1, today),
        next_number=_next_visible(definition, values, number, 1, today),
        url_for_section=lambda i: url_for(".section", number=i),
        autosave_texts=_autosave_texts(), today=today.isoformat(), empty_digest=answering.digest(None),
        highlights=_highlights(response), refused=refused,
        progress=_progress(definition, values, today)), status


def _requests(scope: Scope) -> list[tuple]:
    """(clarification, section number, whether the answer changed since the request) of the open requests, for
    the page before submission."""
    from app.responses.views import _clarifications

    # an answer the agency's other answers now hide counts as empty (as the experts see it once submitted)
    values = visibility(scope.definition, answering.stored_values(scope.response)).values
    return [(c, number, answering.digest(values.get(c.question_id)) != answering.digest(c.value_before))
            for c, number in _clarifications(scope.definition, scope.response)]


def _highlights(response: Response) -> dict[str, str]:
    """{question id: the experts' message} of the open clarification requests."""
    from app.review.services import open_clarifications

    out: dict[str, str] = {}
    for clarification in open_clarifications(response):
        out[clarification.question_id] = (out[clarification.question_id] + " " if clarification.question_id in out
                                          else "") + clarification.message
    return out


def _progress(definition, values, today) -> str:
    from app.responses.progress import required_progress

    total, answered = required_progress(definition, values, today)
    return f"{answered} / {total}"


def _missing_in_section(scope: Scope, section, values, today) -> list[str]:
    from app.responses.progress import unanswered_required

    return [q.id for s, q in unanswered_required(scope.definition, values, today) if s is section]


def _autosave_texts() -> dict[str, str]:
    return {
        "saving": _("Saving…"),
        "saved_at": _("Saved at %(time)s", time="%s"),
        "not_saved": _("Not saved: see the message beside the question."),
        "signed_out": _("Not saved: your session has ended, so the page can no longer save. Your text is still on "
                        "the page: copy it, then open your personal link again."),
        "failed": _("Could not save. Check your connection; your text is still on the page. Press Save to try again."),
        "conflict": _("Someone else changed this answer after you opened the page. Choose which value to keep."),
        "conflict_status": _("Not saved: someone else changed an answer (see below)."),
        "yours": _("Your value"),
        "theirs": _("Saved value"),
        "keep_mine": _("Keep my value"),
        "take_theirs": _("Use the saved value"),
    }


@bp.route("/autosave", methods=["POST"])
@require_role("respondent")
def autosave():
    """Save one question in the background: 200 with the new version, 409 with both values, 422 with the message."""
    scope = _scope()
    definition, response = scope.definition, scope.response
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # JSON nested deeper than the parser goes: no request this page sends
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("question"), str):
        return jsonify(error={"message": _("The request is not valid.")}), 400
    index = answering.questions_by_id(definition)
    qid = data["question"]
    if qid not in index or index[qid][2].type == "note":
        return jsonify(error={"message": _("The page does not exist.")}), 404
    if not answering.is_editable(response):
        return jsonify(error={"message": _("Your answers can no longer be changed.")}), 403
    _number, section, question = index[qid]
    fields = data.get("fields") if isinstance(data.get("fields"), dict) else {}
    pairs = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str | int | float) and not isinstance(item, bool):
                pairs.append((str(name), str(item)))
    form = build_section_form(definition, section, scope.lang, formdata=MultiDict(pairs), meta={"csrf": False})
    raw = ADAPTERS[question.type].raw(question, form)
    if question.type == "file":
        wanted, raw = _file_raw(question, raw if raw in SPECIAL or raw == REMOVE_FILE else None,
                                answering.stored_values(response).get(qid))
        if not wanted:
            return jsonify(version=_versions(response).get(qid, (0, ""))[0], saved_at=format_time(utcnow(), "short"))
    try:
        base = int(data.get("base_version", 0))
    except (TypeError, ValueError, OverflowError):  # OverflowError: 1e999 is an infinite float
        base = 0
    before = answering.stored_values(response)
    try:
        result = _save_and_commit(response, {qid: raw}, actor=current_user, channel="autosave", lang=scope.lang,
                                  base_versions={qid: base})
    except NotEditable:  # submitted or closed by someone else while this save waited for the response's lock
        db.session.rollback()
        return jsonify(error={"message": _("Your answers can no longer be changed.")}), 403
    files.discard_replaced(before, answering.stored_values(response))
    if result.conflicts:
        return jsonify(conflict=_conflict_view(scope, question, result.conflicts[qid]) | {
            "at": format_time(result.conflicts[qid].at, "short") if result.conflicts[qid].at else ""}), 409
    if result.errors:
        return jsonify(error=result.errors[qid]), 422
    if qid in result.ignored:  # the answers it depends on hide it now (a colleague's change): nothing was stored
        return jsonify(error=_("Not saved: this question no longer applies, as the answers it depends on have "
                               "changed (perhaps a colleague's). Reload the page to see the questions that apply; "
                               "your text is still here.")), 422
    stored = answering.stored_values(response)
    # The section's other answers whose constraint now breaks, or holds again (analysts <= staff, staff changed):
    # {question id: message, or "" to take a message away}.
    today = local_today()
    flags = answering.section_flags(definition, section, stored, lang=scope.lang, today=today)
    # the digest too: the page's hidden fields for this question follow the autosave, so that a later
    # whole-page save (Save, Next) starts from it instead of taking the person's own autosave for a conflict
    return jsonify(version=result.versions.get(qid, 0), digest=answering.digest(stored.get(qid)),
                   saved_at=format_time(utcnow(), "short"), progress=_progress(definition, stored, today),
                   flags={q.id: str(flags.get(q.id, "")) for q in section.questions if q.constraint and q.id != qid})


@bp.route("/clarifications/<int:clarification_id>", methods=["POST"])
@require_role("respondent")
def reply(clarification_id: int):
    """The agency's written reply to one of the experts' clarification requests."""
    from app.responses.views import render_home
    from app.review.services import ReviewError, reply_to_clarification

    scope = _scope()
    text = request.form.get("reply", "")
    try:
        reply_to_clarification(scope.response, clarification_id, text, actor=current_user)
    except ReviewError as exc:
        db.session.rollback()
        if exc.not_found:
            abort(404)
        if exc.read_only:
            # submitted (perhaps by a colleague) or closed while the page was open: the typed text is shown back
            return render_home(scope.invitation, reply={"id": clarification_id, "text": text, "refused": True}), 409
        return render_home(scope.invitation, reply={"id": clarification_id, "text": text, "error": str(exc)}), 422
    else:
        db.session.commit()
        flash(_("Your reply is saved. Submit the questionnaire again when you have answered every request."),
              "success")
    return redirect(url_for("responses.respondent_home") + "#clarifications")


@bp.route("/review", methods=["GET", "POST"])
@require_role("respondent")
def review():
    """Every section's state, unanswered required questions, flagged answers; submission with confirmation."""
    scope = _scope()
    response = scope.response
    status = 200
    problem = None
    if request.method == "POST":
        if not answering.is_editable(response):
            flash(_("Your answers can no longer be changed."), "warning")
            return redirect(url_for(".review"))
        if not request.form.get("confirm"):
            problem = _("Tick the box to confirm that the answers may be sent.")
            status = 422
        else:
            try:
                answering.submit(response, actor=current_user, lang=scope.lang, today=local_today())
            except NotEditable:  # a colleague (or another tab) submitted it while this one waited for the lock
                db.session.rollback()
                db.session.refresh(response)
                if response.status in ("submitted", "validated"):
                    return redirect(url_for(".submitted"))
                flash(_("Your answers can no longer be changed."), "warning")
                return redirect(url_for(".review"))
            except ResponseError:
                db.session.rollback()
                problem = _("The questionnaire cannot be submitted yet: answer or correct the questions listed "
                            "below.")
                status = 422
            else:
                db.session.commit()
                return redirect(url_for(".submitted"))
    checked = answering.review(response, lang=scope.lang, today=local_today())
    return render_template("responses/review.html", scope=scope, review=checked, ctx=scope.ctx, problem=problem,
                           editable=answering.is_editable(response), requests=_requests(scope),
                           states=_state_labels([s for _n, _s, s in checked.sections])), status


@bp.route("/submitted")
@require_role("respondent")
def submitted():
    """Confirmation after submission."""
    scope = _scope()
    if scope.response.status not in ("submitted", "validated"):
        return redirect(url_for(".review"))
    return render_template("responses/submitted.html", scope=scope, ctx=scope.ctx)


@bp.route("/print")
@require_role("respondent")
def print_view():
    """The questionnaire laid out for A4, with the current answers or blank (?blank=1)."""
    scope = _scope()
    return render_print(scope.response, scope.definition, scope.lang, blank=request.args.get("blank") == "1",
                        file_url=lambda key: url_for(".file", key=key), back_url=url_for("responses.respondent_home"))


def render_print(response, definition, lang: str, *, blank: bool, file_url, back_url: str | None = None):
    """The print page of a response (shared by respondents and staff)."""
    from app.responses.display import choice_labels

    values = {} if blank else answering.stored_values(response)
    today = local_today()
    seen = visibility(definition, values, today)
    ctx = Context(definition, lang)
    with force_locale(interface_locale(lang)):
        return render_template("responses/print.html", response=response, definition=definition, ctx=ctx,
                               values=values, blank=blank, lang=lang, display=display, choice_labels=choice_labels,
                               visible=lambda _section, question: seen.shown(question),
                               printed_on=today, file_url=file_url, back_url=back_url)


@bp.route("/history")
@require_role("respondent")
def history():
    """Every change of the agency's answers: who, when, through which channel, old and new value."""
    scope = _scope()
    return render_history(scope.response, scope.definition, scope.lang, back_url=url_for("responses.respondent_home"))


def render_history(response, definition, lang: str, back_url: str | None = None):
    """The history page of a response (shared by respondents and staff), with a way back to `back_url`."""
    index = answering.questions_by_id(definition)
    rows = []
    for change in answering.history(response):
        entry = index.get(change.question_id)
        question = entry[2] if entry else None
        label = tr(question.label, lang, definition.languages[0]) if question else change.question_id
        rows.append({"change": change, "label": label,
                     "old": display(definition, question, change.old, lang) if question else str(change.old),
                     "new": display(definition, question, change.new, lang) if question else str(change.new)})
    channels = {"web": _("web form"), "autosave": _("web form (automatic save)"), "workbook": _("Excel workbook"),
                "cli": _("command line"), "api": _("API")}
    return render_template("responses/history.html", response=response, rows=rows, channels=channels,
                           back_url=back_url)


@bp.route("/files/<key>")
@require_role("respondent")
def file(key: str):
    """An evidence file of the agency's response, as a download."""
    scope = _scope()
    return send_evidence(answering.stored_values(scope.response), key)


def send_evidence(values: dict, key: str):
    """Send a stored file found among these answers (404 otherwise: nothing tells whether it exists)."""
    value = files.find_file(values, key)
    path = files.path_for(key) if value else None
    if path is None:
        abort(404)
    return send_file(path, mimetype="application/octet-stream", as_attachment=True, download_name=value["name"],
                     max_age=0)


# --- the offline workbook ------------------------------------------------------------------------------


@bp.route("/workbook.xlsx")
@require_role("respondent")
def download_workbook():
    """The agency's questionnaire as an Excel workbook to fill in offline."""
    from app.responses.workbook import build_workbook

    scope = _scope()
    name = f"{scope.response.agency.acronym}-{scope.response.version.questionnaire.slug}-{scope.lang}.xlsx"
    return send_workbook(build_workbook(scope.response, lang=scope.lang), name)


def _pending_dir():
    from pathlib import Path

    return Path(current_app.instance_path) / "uploads" / "pending"


def _token_ok(token: str) -> bool:
    """A token as _keep_pending makes them (URL-safe characters only: never a path)."""
    return bool(token) and all(c.isalnum() or c in "-_" for c in token)


def _pending_path(token: str):
    if not _token_ok(token):
        return None
    path = _pending_dir() / f"{token}.xlsx"
    return path if path.is_file() else None


def _keep_pending(data: bytes, versions: dict[str, int]) -> str:
    """Keep an uploaded workbook until it is confirmed, with the answer versions its preview showed; the token
    names it in the confirmation form."""
    import json
    import secrets

    token = secrets.token_urlsafe(24)
    pending = _pending_dir()
    pending.mkdir(parents=True, exist_ok=True)
    _forget_old_pending(pending)
    (pending / f"{token}.json").write_text(json.dumps({"versions": versions}), encoding="utf-8")
    (pending / f"{token}.xlsx").write_bytes(data)
    return token


#: Hours an uploaded workbook waits for its confirmation before it is deleted (a preview left open, or
#: cancelled by leaving the page).
PENDING_HOURS = 24


def _forget_old_pending(pending) -> None:
    """Delete the pending uploads (workbooks and their versions) older than PENDING_HOURS."""
    import time

    limit = time.time() - PENDING_HOURS * 3600
    for path in pending.iterdir():
        try:
            if path.suffix in (".xlsx", ".json", ".saved") and path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except OSError:
            continue  # removed meanwhile by another request


def _pending_versions(path) -> dict[str, int] | None:
    """The answer versions kept with a pending upload (None when they are missing or unreadable)."""
    import json

    try:
        versions = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["versions"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(versions, dict) or not all(isinstance(v, int) for v in versions.values()):
        return None
    return versions


def _drop_pending(path, *, saved: bool = False) -> None:
    """Delete a pending upload; once `saved`, an empty marker remembers it (until PENDING_HOURS) so that the
    confirmation sent twice is told apart from an expired one."""
    path.unlink(missing_ok=True)
    path.with_suffix(".json").unlink(missing_ok=True)
    if saved:
        path.with_suffix(".saved").touch()


def _was_saved(token: str) -> bool:
    """True when the pending upload of `token` was confirmed and saved (within PENDING_HOURS)."""
    return _token_ok(token) and (_pending_dir() / f"{token}.saved").is_file()


@bp.route("/workbook", methods=["GET", "POST"])
@require_role("respondent")
def upload_workbook():
    """Upload a filled workbook: every problem by sheet and cell, else a preview of the changes to confirm.

    Confirming imports the kept file again, checked against the answer versions the preview showed: when
    someone changed one of the answers since, nothing is saved and the preview is shown again with both
    values, to be confirmed (or cancelled) knowingly."""
    from app.responses.workbook import MAX_BYTES, import_workbook

    scope = _scope()
    outcome = None
    token = ""
    status = 200
    if request.method == "POST":
        if not answering.is_editable(scope.response):
            flash(_("Your answers can no longer be changed."), "warning")
            return redirect(url_for("responses.respondent_home"))
        confirm_token = request.form.get("token", "")
        if confirm_token:
            path = _pending_path(confirm_token)
            versions = _pending_versions(path) if path is not None else None
            if path is None and _was_saved(confirm_token):  # the button pressed twice: the first press saved
                flash(_("The answers from the workbook are saved."), "success")
                return redirect(url_for("responses.respondent_home"))
            if path is None or versions is None:
                flash(_("The uploaded workbook has expired. Upload it again."), "warning")
                return redirect(url_for(".upload_workbook"))
            data = path.read_bytes()
            outcome = import_workbook(data, response=scope.response, actor=current_user, lang=scope.lang, apply=True,
                                      seen_versions=versions)
            if outcome.applied:
                db.session.commit()
                _drop_pending(path, saved=True)
                flash(_("The answers from the workbook are saved."), "success")
                return redirect(url_for("responses.respondent_home"))
            db.session.rollback()
            if outcome.preview_outdated and not outcome.problems:
                # Show the preview again, with the newer values: confirming it saves knowingly.
                token = _keep_pending(data, outcome.versions) if outcome.changes else ""
                _drop_pending(path)
                status = 409
            else:
                status = 422
        else:
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                flash(_("Choose a file to upload."), "error")
                status = 422
            else:
                data = upload.stream.read(MAX_BYTES + 1)
                outcome = import_workbook(data, response=scope.response, actor=current_user, lang=scope.lang,
                                          apply=False)
                db.session.rollback()
                if outcome.problems:
                    status = 422
                elif outcome.changes:
                    token = _keep_pending(data, outcome.versions)
    return render_template("responses/workbook_upload.html", scope=scope, outcome=outcome, token=token,
                           editable=answering.is_editable(scope.response)), status
