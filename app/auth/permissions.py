"""The one permission helper every view uses."""

from __future__ import annotations

from functools import wraps

from flask import abort, request
from flask_login import current_user

from app.extensions import login_manager


def _unauthorized():
    """An anonymous visitor goes to the sign-in page; a background request that asked for JSON (autosave) gets
    401 in JSON instead, which it can tell from a saved answer (a redirect would end on the sign-in page's 200)."""
    from app.core.errors import render_error, wants_json, written_texts

    if wants_json():
        abort(401)
    if request.method == "POST" and written_texts():
        # a form sent after the session ended (signed out in another tab): going to the sign-in page would lose
        # what was written; the page says to sign in again and shows it, to copy
        return render_error(401, code="signed_out")
    return login_manager.unauthorized()


def require_role(*roles: str):
    """Allow the view only to signed-in users with one of `roles` (anonymous: sign-in, or 401 in JSON to a
    background request; others: 403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return _unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


def signed_in(view):
    """Allow the view to any signed-in user."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return _unauthorized()
        return view(*args, **kwargs)

    wrapped.required_roles = ("*",)
    return wrapped
