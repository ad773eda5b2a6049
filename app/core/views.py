"""Home page by role, language switch, health check."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import RoutingException

from app.core.urls import safe_next
from app.extensions import db, limiter
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


@functools.cache
def _schema_revisions(folder: str) -> tuple[frozenset[str], frozenset[str]]:
    """The revisions the code's migrations end at (what `flask db upgrade` brings a database to), and every
    revision they know."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", folder)
    script = ScriptDirectory.from_config(config)
    return frozenset(script.get_heads()), frozenset(rev.revision for rev in script.walk_revisions())


@bp.route("/healthz")
def healthz():
    """Liveness check for load balancers: the database answers and has the schema this code expects (an upgrade
    deployed without `flask db upgrade` answered "ok" while signing in failed), and the rate-limit store answers
    when it is Redis (every sign-in and API request goes through it)."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return jsonify({"status": "error", "database": "error", "detail": type(exc).__name__}), 503
    body = {"status": "ok", "database": "ok"}
    try:
        current = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except Exception:  # noqa: BLE001 - no version table: never migrated
        db.session.rollback()
        current = set()
    expected, known = _schema_revisions(current_app.extensions["migrate"].directory)
    if current == expected:
        body["schema"] = "ok"
    elif current and not current <= known:
        # migrated by a newer release (a rolling deployment upgrades the database first): this one keeps serving
        body["schema"] = "newer"
    else:
        body.update(status="error", schema="outdated",
                    detail=f"the database is at {', '.join(sorted(current)) or 'no revision'}, the code expects "
                           f"{', '.join(sorted(expected))}: run flask db upgrade")
    if current_app.config.get("REDIS_URL"):
        try:
            reachable = limiter.storage.check()
        except Exception:  # noqa: BLE001 - any failure means "not healthy"
            reachable = False
        body["rate_limit_store"] = "ok" if reachable else "error"
        if not reachable:
            body["status"] = "error"
    return jsonify(body), (200 if body["status"] == "ok" else 503)
