"""Flask-Login hooks: load the user of a session, send anonymous visitors to sign-in."""

from __future__ import annotations

from app.auth.models import User
from app.extensions import db, login_manager
from app.i18n import _l

login_manager.login_view = "auth.sign_in"
login_manager.login_message = _l("Please sign in to open this page.")
login_manager.login_message_category = "info"


def load_user(user_id: str) -> User | None:
    """The active user of a session identity "id:hash-fragment", or None when it no longer matches."""
    raw_id, _sep, fragment = user_id.partition(":")
    if not raw_id.isdigit():
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or not user.is_active or user.get_id() != user_id:
        return None
    return user
