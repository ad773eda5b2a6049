"""Home page by role, language switch, health check."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import RoutingException

from app.core.urls import safe_next
from app.extensions import db
from app.i18n import available_locales

bp = Blueprint("core", __name__)

#: Where each role lands after signing in (endpoint names).
ROLE_HOMES = {
    "admin": "auth.staff_home",
    "staff": "auth.staff_home",
    "expert": "auth.expert_home",
    "respondent": "responses.respondent_home",
}


@bp.route("/")
def home():
    """Send each role to its place; anonymous visitors to sign-in."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in"))
    return redirect(url_for(ROLE_HOMES[current_user.role]))


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch the interface language (kept in the session and saved for a signed-in user)."""
    locale = request.form.get("locale", "")
    if locale in available_locales():
        session["locale"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
            db.session.commit()
    # Back to the page the person was on; a page shown in answer to a form (a refused comment, say) has no address
    # of its own to come back to with GET: then the page that form was on, else home.
    for target in (request.form.get("next"), request.referrer):
        target = safe_next(target)
        if target and _answers_get(target):
            return redirect(target)
    return redirect(url_for("core.home"))


def _answers_get(target: str) -> bool:
    """Whether a local path is a page one can open (a route that takes GET)."""
    adapter = current_app.url_map.bind(request.host, script_name=request.script_root or None)
    try:
        adapter.match(urlsplit(target).path, method="GET")
    except MethodNotAllowed:
        return False
    except (HTTPException, RoutingException):  # not found (opening it says so), or redirected to its canonical form
        return True
    return True


@bp.route("/favicon.ico")
def favicon():
    """The site's icon where browsers look for it without a page to name it (JSON answers, downloads): a 404
    there was an error in the browser's console."""
    return current_app.send_static_file("favicon.svg"), 200, {"Content-Type": "image/svg+xml"}


@bp.route("/healthz")
def healthz():
    """Liveness and database check for load balancers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return jsonify({"status": "error", "database": "error", "detail": type(exc).__name__}), 503
    return jsonify({"status": "ok", "database": "ok"})
