"""Answering a response: saving answers from every channel, conflicts, review, submission and history.

Every channel (the web form, autosave, the offline workbook, the CLI) goes through `save_answers`, so
the same rules apply everywhere:

- each raw value is checked and normalised by its question type (qtypes.REGISTRY), then its
  `constraint` is evaluated with the other answers;
- questions hidden by skip logic (under the answers as they will be after the save) are never required
  and their input is not checked: a valid value is kept, an invalid one is ignored;
- a save that says which version of an answer it was based on is refused for that answer (a *conflict*)
  when someone else changed the answer since, unless both wrote the same value;
- every change is written to the audit log with old and new value and the channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from app.core import audit
from app.core.models import AuditEvent, utcnow
from app.extensions import db, lock_for_writing
from app.i18n import _
from app.questionnaires import expressions
from app.questionnaires.forms import tr
from app.questionnaires.qtypes import REGISTRY, AnswerError, is_special
from app.questionnaires.rendering import Visibility, visibility
from app.questionnaires.services import definition_of
from app.responses.models import Answer, Response
from app.responses.progress import is_answered, section_states, unanswered_required
from app.responses.services import NotEditable, ResponseError, refresh_progress

#: Statuses in which the agency may change its answers (while the campaign is open).
EDITABLE_STATUSES = ("not_started", "in_progress", "returned")


class ConstraintError(AnswerError):
    """A value that breaks its question's constraint; the message comes from the definition (already translated)."""

    literal = True


def message_text(error: AnswerError) -> str:
    """The error's message in the interface language."""
    if getattr(error, "literal", False):
        return error.message
    from app.i18n import _

    text = _(error.message)
    return text.format(**error.params) if error.params else text


def is_editable(response: Response) -> bool:
    """Whether the agency may still change the response."""
    return response.campaign.status == "open" and response.status in EDITABLE_STATUSES


def questions_by_id(definition) -> dict[str, tuple[int, Any, Any]]:
    """{question id: (1-based section number, section, question)}."""
    out = {}
    for number, section in enumerate(definition.sections, start=1):
        for question in section.questions:
            out[question.id] = (number, section, question)
    return out


def digest(value: Any) -> str:
    """A short fingerprint of a stored value: a page sends back the fingerprints of the values it showed, so a
    whole-page save can tell an answer the person left alone from one they changed."""
    import hashlib
    import json

    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def stored_values(response: Response) -> dict[str, Any]:
    """{question id: stored value} of every answer of the response."""
    return {a.question_id: a.value for a in response.answers}


def visible(definition, section, question, values, today: date | None = None) -> bool:
    """Whether a question is shown under these answers (its section's and its own show_if hold, the answers of
    hidden questions counting as empty: `rendering.visibility`). For one question; for many, take
    `visibility(...)` once."""
    return visibility(definition, values, today).shown(question)


def constraint_holds(definition, question, value, values, today: date | None = None) -> bool:
    """Whether a non-empty, non-special value satisfies the question's constraint (no constraint: yes)."""
    if not question.constraint or value is None or is_special(value):
        return True
    tree = expressions.parse(question.constraint)
    return expressions.truthy(expressions.evaluate(tree, values, current=value, today=today))


def constraint_error(definition, question, lang: str) -> ConstraintError:
    """The error for a broken constraint, with the definition's message in `lang`."""
    message = tr(question.constraint_message, lang, definition.languages[0]) if question.constraint_message else ""
    if not message:
        from app.i18n import _

        message = _("This answer is not valid for this question.")
    return ConstraintError(message)


def check_value(definition, question, raw, values, *, lang: str, today: date | None = None):
    """Normalise a raw value and check its constraint against `values`; raises AnswerError."""
    value = REGISTRY[question.type].normalise(question, raw, definition=definition, today=today)
    merged = {**values, question.id: value}
    if not constraint_holds(definition, question, value, merged, today):
        raise constraint_error(definition, question, lang)
    return value


@dataclass
class Conflict:
    """An answer someone else changed after the saver loaded it."""

    question_id: str
    yours: Any
    theirs: Any
    #: The stored answer's version: saving again with this base version keeps "yours".
    version: int
    by: str
    at: Any


@dataclass
class SaveResult:
    """What a save did, per question."""

    #: question id -> the answer's version after the save (changed or not).
    versions: dict[str, int] = field(default_factory=dict)
    #: question id -> message (translated) for refused values.
    errors: dict[str, str] = field(default_factory=dict)
    conflicts: dict[str, Conflict] = field(default_factory=dict)
    #: question id -> (old value, new value) of the answers that changed.
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    #: Questions whose input was ignored because skip logic hides them.
    ignored: list[str] = field(default_factory=list)
    #: The values the form should show again for refused questions (the raw input, as typed).
    kept_input: dict[str, Any] = field(default_factory=dict)
    #: Questions left as stored because the saver's page did not change them while someone else did (the
    #: newer value stays): a page shown again must show the stored value there, not its own stale one.
    kept_newer: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No refused value and no conflict."""
        return not self.errors and not self.conflicts


def _lock(response: Response) -> Response:
    """The response re-read under a row lock (PostgreSQL; on SQLite the database's write lock), so concurrent
    saves of one response queue up."""
    lock_for_writing(Response.__table__)
    return db.session.scalars(select(Response).where(Response.id == response.id).with_for_update(of=Response)
                              .execution_options(populate_existing=True)).one()


def _lock_editable(response: Response) -> Response:
    """`_lock`, then the editability checked again on what the lock gave: a submission, a return or the
    campaign's closing that committed while this request waited must win (checked before the lock only, a
    save could land on a response just submitted, and two tabs could submit it twice)."""
    locked = _lock(response)
    db.session.refresh(locked.campaign)
    if not is_editable(locked):
        raise NotEditable(_("The response can no longer be changed."))
    return locked


def _who(user_id: int | None) -> str:
    from app.auth.models import User

    user = db.session.get(User, user_id) if user_id else None
    return (user.name or user.email) if user is not None else ""


def save_answers(response: Response, raws: dict[str, Any], *, actor, channel: str, lang: str,
                 base_versions: dict[str, int] | None = None, originals: dict[str, str] | None = None,
                 today: date | None = None, one_audit_event: bool = False, force: bool = False) -> SaveResult:
    """Check and store the raw values of some questions of a response (flushed, not committed).

    `base_versions` maps question ids to the answer version the saver started from (0: no answer yet);
    questions missing from it are not checked for conflicts. `originals` maps question ids to the `digest` of
    the value the saver's page showed: an answer the person did not change is left as stored (someone else's
    newer value stays) instead of being a conflict. `one_audit_event` records the whole save as
    one audit event (the workbook import); otherwise each changed answer is one event. Unknown question
    ids and notes raise ResponseError. `force` allows changes when the response is not editable (staff).
    """
    if not force and not is_editable(response):
        raise NotEditable(_("The response can no longer be changed."))
    definition = definition_of(response.version)
    index = questions_by_id(definition)
    unknown = [qid for qid in raws if qid not in index or index[qid][2].type == "note"]
    if unknown:
        raise ResponseError(f"unknown question: {unknown[0]}")
    response = _lock(response) if force else _lock_editable(response)
    existing = {a.question_id: a for a in response.answers}
    current = {qid: a.value for qid, a in existing.items()}

    # First pass: normalise (without constraints) to know what the answers will be, for skip logic.
    normalised: dict[str, Any] = {}
    errors: dict[str, AnswerError] = {}
    for qid, raw in raws.items():
        question = index[qid][2]
        try:
            normalised[qid] = REGISTRY[question.type].normalise(question, raw, definition=definition, today=today)
        except AnswerError as exc:
            errors[qid] = exc
    merged = {**current, **normalised}
    seen = visibility(definition, merged, today)

    result = SaveResult()
    for qid, raw in raws.items():
        number, section, question = index[qid]
        if not seen.shown(question):  # hidden by skip logic: the stored answer is kept as it is
            result.ignored.append(qid)
            continue
        if qid in errors:
            result.errors[qid] = message_text(errors[qid])
            result.kept_input[qid] = raw
            continue
        value = normalised[qid]
        if not constraint_holds(definition, question, value, seen.values, today):
            result.errors[qid] = message_text(constraint_error(definition, question, lang))
            result.kept_input[qid] = raw
            continue
        answer = existing.get(qid)
        stored_version = answer.version if answer is not None else 0
        old = answer.value if answer is not None else None
        if value == old:
            result.versions[qid] = stored_version
            continue
        if base_versions is not None and qid in base_versions and base_versions[qid] != stored_version:
            if originals is not None and originals.get(qid) == digest(value):
                result.versions[qid] = stored_version  # not changed on this page: the newer value stays
                result.kept_newer.append(qid)
                continue
            result.conflicts[qid] = Conflict(qid, value, old, stored_version,
                                             _who(answer.updated_by_id) if answer else "",
                                             answer.updated_at if answer else None)
            result.kept_input[qid] = raw
            continue
        if answer is None:
            answer = Answer(response_id=response.id, question_id=qid, value=value, version=1,
                            updated_by_id=getattr(actor, "id", None), updated_at=utcnow())
            db.session.add(answer)
            existing[qid] = answer
        else:
            answer.value = value
            answer.version = stored_version + 1
            answer.updated_by_id = getattr(actor, "id", None)
            answer.updated_at = utcnow()
        result.versions[qid] = answer.version
        result.changed[qid] = (old, value)

    if result.changed:
        db.session.flush()
        if one_audit_event:
            audit.record("answers.imported", actor=actor, object_type="response", object_id=response.id,
                         channel=channel, old={q: o for q, (o, _n) in result.changed.items()},
                         new={q: n for q, (_o, n) in result.changed.items()})
        else:
            for qid, (old, new) in result.changed.items():
                audit.record("answer.changed", actor=actor, object_type="response", object_id=response.id,
                             channel=channel, old={qid: old}, new={qid: new}, details=qid)
        now = utcnow()
        if response.status == "not_started":
            response.status = "in_progress"
            response.started_at = now
            audit.record("response.started", actor=actor, object_type="response", object_id=response.id,
                         channel=channel, old={"status": "not_started"}, new={"status": "in_progress"})
        response.last_activity_at = now
        db.session.expire(response, ["answers"])
        refresh_progress(response, today)
        db.session.flush()
    return result


# --- review and submission -----------------------------------------------------------------------------


@dataclass
class Review:
    """What the review page shows."""

    #: (section number, section, state) for every section.
    sections: list[tuple[int, Any, str]]
    #: (section number, section, question) of visible required questions without an answer.
    missing: list[tuple[int, Any, Any]]
    #: (section number, section, question, message) of visible answers that break their constraint.
    flagged: list[tuple[int, Any, Any, str]]
    answered: int
    required: int

    @property
    def can_submit(self) -> bool:
        """Nothing missing and nothing flagged."""
        return not self.missing and not self.flagged


class Flag(str):
    """The message of a stored answer that breaks its constraint, typically because an answer it depends on
    changed since (analysts <= staff, and staff lowered later): shown beside it, as a refused value is, until
    one of the two is corrected."""

    flag = True


def section_flags(definition, section, values, *, lang: str, today: date | None = None,
                  seen: Visibility | None = None) -> dict[str, Flag]:
    """{question id: message} of the section's shown questions whose stored answer breaks their constraint
    (`seen`: the answers' `visibility`, when the caller has it)."""
    flags = {}
    seen = seen or visibility(definition, values, today)
    for question in section.questions:
        value = values.get(question.id)
        if (question.constraint and value is not None and seen.shown(question)
                and not constraint_holds(definition, question, value, seen.values, today)):
            flags[question.id] = Flag(message_text(constraint_error(definition, question, lang)))
    return flags


def review(response: Response, *, lang: str, today: date | None = None) -> Review:
    """Section states, unanswered required questions and answers flagged by constraints."""
    definition = definition_of(response.version)
    values = stored_values(response)
    numbers = {id(s): n for n, s in enumerate(definition.sections, start=1)}
    states = section_states(definition, values, today)
    missing = [(numbers[id(s)], s, q) for s, q in unanswered_required(definition, values, today)]
    flagged = []
    required = answered = 0
    seen = visibility(definition, values, today)
    for number, section in enumerate(definition.sections, start=1):
        flags = section_flags(definition, section, values, lang=lang, today=today, seen=seen)
        for question in section.questions:
            if question.type == "note" or not seen.shown(question):
                continue
            if question.required:
                required += 1
                answered += is_answered(question, values.get(question.id))
            if question.id in flags:
                flagged.append((number, section, question, str(flags[question.id])))
    return Review([(n, s, states[n - 1]) for n, s in enumerate(definition.sections, start=1)], missing, flagged,
                  answered, required)


def submit(response: Response, *, actor, lang: str, today: date | None = None):
    """Submit the response: refused (ResponseError naming the questions) while required answers are missing
    or flagged; records who and when, makes it read-only for the agency, audits, queues a receipt e-mail."""
    if not is_editable(response):
        raise NotEditable(_("The response can no longer be changed."))
    response = _lock_editable(response)
    checked = review(response, lang=lang, today=today)
    if not checked.can_submit:
        definition = definition_of(response.version)
        names = [tr(q.label, lang, definition.languages[0]) for _n, _s, q in checked.missing]
        names += [tr(q.label, lang, definition.languages[0]) for _n, _s, q, _m in checked.flagged]
        raise ResponseError(_("Not answered or not valid: %(questions)s", questions="; ".join(names)))
    old = response.status
    now = utcnow()
    response.status = "submitted"
    response.submitted_at = now
    response.first_submitted_at = response.first_submitted_at or now
    response.submitted_by_id = getattr(actor, "id", None)
    response.last_activity_at = now
    db.session.flush()
    audit.record("response.submitted", actor=actor, object_type="response", object_id=response.id,
                 old={"status": old}, new={"status": "submitted"})
    from app.review.services import close_clarifications
    from app.scoring import store

    close_clarifications(response)
    store.response_changed(response, today)
    if actor is not None and getattr(actor, "email", None):
        _queue_receipt(response, actor, checked)
    return response


def _queue_receipt(response: Response, actor, checked: Review) -> None:
    from flask import current_app

    from app.mail import services as mail

    definition = definition_of(response.version)
    locale = actor.locale if actor.locale in current_app.config["LOCALES"] else current_app.config["DEFAULT_LOCALE"]
    lang = definition.language_for(locale)
    values = visibility(definition, stored_values(response)).values  # answers of hidden questions do not count
    sections = []
    for number, section, state in checked.sections:
        count = sum(1 for q in section.questions if q.type != "note" and values.get(q.id) not in (None, [], {}))
        sections.append((number, tr(section.title, lang, definition.languages[0]), state, count))
    message = mail.queue("receipt", to=actor.email, to_name=actor.name or "", locale=locale, template="receipt",
                         actor=actor, context={
                             "agency_name": response.agency.name(locale),
                             "questionnaire_title": tr(definition.title, lang, definition.languages[0]),
                             "campaign": response.campaign, "submitted_at": response.submitted_at,
                             "sections": sections, "answered": checked.answered, "required": checked.required,
                             "version_label": response.version.label})
    mail.send_soon(message)


# --- history -------------------------------------------------------------------------------------------


@dataclass
class Change:
    """One change of one answer, for the history page."""

    at: Any
    by: str
    channel: str
    question_id: str
    old: Any
    new: Any


def history(response: Response) -> list[Change]:
    """Every change of the response's answers, newest first, from the audit log."""
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "response", AuditEvent.object_id == str(response.id),
                                 AuditEvent.action.in_(("answer.changed", "answers.imported")))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()))
    names: dict[int | None, str] = {}
    out = []
    for event in events:
        if event.actor_id not in names:
            names[event.actor_id] = _who(event.actor_id)
        new = event.new_value or {}
        old = event.old_value or {}
        for qid in new:
            out.append(Change(event.created_at, names[event.actor_id], event.channel, qid, old.get(qid), new[qid]))
    return out

