"""Error pages (HTML in the visitor's language, JSON for API and background requests)."""

from __future__ import annotations

import re
from typing import NoReturn
from urllib.parse import urlsplit

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, default_exceptions

from app.extensions import db
from app.i18n import _


def wants_json() -> bool:
    """True for API calls and background (fetch) requests that asked for JSON."""
    if request.path.startswith("/api/") or request.args.get("format") == "json":  # the dashboards' ?format=json
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood.")),
        401: (_("Not signed in"), _("You are not signed in, or your session has ended. Sign in again (agency "
                                    "contacts: open your personal link again).")),
        403: (_("Access denied"), _("You do not have permission to open this page.")),
        404: (_("Page not found"), _("There is no page at this address, or you may not see it.")),
        405: (_("Method not allowed"), _("This page cannot be used this way.")),
        413: (_("File too large"), _("The file you sent is larger than the server accepts.")),
        429: (_("Too many attempts"), _("Too many attempts in a short time. Wait 15 minutes and try again.")),
        500: (_("Something went wrong"), _("An unexpected error happened. It has been logged; please try again "
                                          "later.")),
        503: (_("Service unavailable"), _("The database cannot be reached at the moment, or is too busy. What you "
                                          "sent may not have been saved: try again in a few minutes.")),
    }


#: Attribute marking an HTTP exception whose description was written for people (see `abort_with_message`).
_FOR_PEOPLE = "description_for_people"


def abort_with_message(status: int, message: str) -> NoReturn:
    """Stop the request with an HTTP error whose page (or JSON) shows `message`, already translated.

    Only these descriptions are shown: the ones werkzeug, Flask and the extensions give their exceptions (such as
    "The browser (or proxy) sent a request that this server could not understand.") are English and technical,
    so `abort(status, message)` keeps the page's general message.
    """
    exc = default_exceptions[status](description=message)
    setattr(exc, _FOR_PEOPLE, True)
    raise exc


def render_error(status: int, title: str | None = None, message: str | None = None, code: str | None = None):
    """Render the error page (or JSON) for an HTTP status; `code` tells a program which refusal it is (the
    autosave script shows its own text in the page's language for "form_expired").

    With the database out of reach, finding the signed-in person (for their language and the page's menu) fails
    too: the page is then made for an anonymous visitor, rather than leaving the server's bare English page."""
    try:
        return _render_error(status, title, message, code)
    except SQLAlchemyError:
        _forget_session_state()
        g._login_user = current_app.login_manager.anonymous_user()  # Flask-Login's cache of the current user
        return _render_error(status, title, message, code)


def _forget_session_state() -> None:
    try:
        db.session.rollback()
    except SQLAlchemyError:  # the connection is gone: nothing to roll back
        db.session.close()


#: Fields of the forms that hold text people write (a comment, a reply, a rationale, a message to an agency, an
#: unlock reason, a description); a respondent's answers (q__...) count when they read as written text.
_WRITTEN_FIELDS = re.compile(r"^(body|reply|rationale|evidence|reason|description|message-.+)$")


def written_texts() -> list[str]:
    """The texts a refused form held, for the page that refuses it to show back (the form expired with the
    session: "nothing was saved", and going back after signing in again would show the form empty)."""
    if request.method != "POST" or request.mimetype not in ("application/x-www-form-urlencoded",
                                                            "multipart/form-data"):
        return []
    # Only a form of this site's own pages: another site posting text here would otherwise have it shown on
    # this site's address ("What you wrote": a ready-made phishing page), escaped but believable.
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    if urlsplit(source).netloc != request.host:
        return []
    texts = []
    for key, value in request.form.items(multi=True):
        text = value.strip()
        if not text:
            continue
        if _WRITTEN_FIELDS.match(key) or (key.startswith("q__") and (len(text) >= 20 or " " in text)):
            texts.append(text)
    return texts[:50]


def _render_error(status: int, title: str | None, message: str | None, code: str | None):
    default_title, default_message = _messages().get(status, (str(status), ""))
    title, message = title or default_title, message or default_message
    if wants_json():
        error = {"status": status, "title": title, "message": message}
        if code:
            error["code"] = code
        return jsonify({"error": error}), status
    return render_template("errors/error.html", status=status, title=title, message=message,
                           written=written_texts() if code in ("form_expired", "signed_out") else []), status


def _holds_nul() -> bool:
    """Whether the address, a query or form value, or a JSON body holds a NUL character (code 0). No browser sends
    one from the keyboard, PostgreSQL cannot store one in a text, and it means nothing in any of our texts."""
    if "\x00" in request.path:
        return True
    fields = [request.args]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in ("application/x-www-form-urlencoded",
                                                                            "multipart/form-data"):
        fields.append(request.form)  # (files are not read: what a file holds is the importers' to check)
    if any("\x00" in key or any("\x00" in value for value in values)
           for multidict in fields for key, values in multidict.lists()):
        return True
    if not request.is_json:
        return False
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: the view refuses it as not valid
        return False
    return _json_holds_nul(body)


def _json_holds_nul(node) -> bool:
    """Whether a NUL is in a text or a key of a decoded JSON body (the six characters \\u0000 typed in an answer
    are no NUL: they arrive escaped). A stack of its own: no depth of nesting is an error."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def register(app: Flask) -> None:
    """Attach the error handlers."""

    @app.before_request
    def refuse_nul_characters():
        """Refuse a request carrying a NUL character with a 400 that says so, before any view reads it (stored
        in PostgreSQL it would fail as a server error; in SQLite it would be kept, invisible)."""
        if _holds_nul():
            abort_with_message(400, _("The request holds a NUL character (code 0), which cannot be stored. "
                                      "Remove it and send the form again."))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        from flask_login import current_user

        if not current_user.is_authenticated:  # the session ended, and its token with it
            return render_error(
                400,
                _("The form has expired"),
                _("The security token of the form was missing or out of date, so nothing was saved. You are not "
                  "signed in: sign in again (agency contacts: open your personal link again)."),
                code="form_expired",
            )
        return render_error(
            400,
            _("The form has expired"),
            _("The security token of the form was missing or out of date, so nothing was saved. You are still "
              "signed in: go back, reload the page and send the form again."),
            code="form_expired",
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code in (301, 302, 303, 307, 308) or exc.code is None:
            return exc
        return render_error(exc.code, message=exc.description if getattr(exc, _FOR_PEOPLE, False) else None)

    @app.errorhandler(StaleDataError)
    def changed_meanwhile(exc: StaleDataError):
        # Two people changed the same record at the same moment (e.g. two experts validating and returning one
        # response): the later change was refused by the row version; say so instead of a server error.
        db.session.rollback()
        return render_error(409, _("Changed at the same moment"),
                            _("Someone else changed this at the same moment, so nothing was saved. Reload the page "
                              "to see the current state, then try again if it is still needed."))

    @app.errorhandler(Exception)
    def server_error(exc: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.url_rule)
        _forget_session_state()
        # The database out of reach (or too busy: a lock not granted, SQLite's "database is locked"): a 503 that
        # says to try again, rather than "something went wrong".
        return render_error(503 if isinstance(exc, OperationalError | InterfaceError) else 500)
