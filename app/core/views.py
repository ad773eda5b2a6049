"""Home page by role, language switch, health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

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
    target = request.form.get("next") or request.referrer
    return redirect(safe_next(target) or url_for("core.home"))


@bp.route("/healthz")
def healthz():
    """Liveness and database check for load balancers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return jsonify({"status": "error", "database": "error", "detail": type(exc).__name__}), 503
    return jsonify({"status": "ok", "database": "ok"})
