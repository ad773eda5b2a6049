"""The API tokens page: a signed-in user creates (shown once) and revokes their personal API tokens."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask_login import current_user

from app.api import services
from app.api.forms import RevokeTokenForm, TokenForm
from app.auth.permissions import require_role
from app.core.ids import is_record_id
from app.core.models import utcnow
from app.extensions import db
from app.i18n import _

bp = Blueprint("api_tokens", __name__)

#: The roles that may hold tokens (respondents use their invitation links and get none).
HOLDERS = services.API_ROLES


def _page(form: TokenForm, issued: services.IssuedToken | None = None, status: int = 200):
    response = make_response(render_template(
        "api/tokens.html", form=form, revoke_form=RevokeTokenForm(), tokens=services.tokens_of(current_user),
        issued=issued, now=utcnow(), max_tokens=services.MAX_ACTIVE_TOKENS), status)
    response.headers["Cache-Control"] = "no-store"  # the page may show a new token
    return response


@bp.route("/account/api-tokens", methods=["GET", "POST"])
@require_role(*HOLDERS)
def tokens():
    """List the user's tokens; create one (the token is shown on this answer only)."""
    form = TokenForm()
    if form.validate_on_submit():
        try:
            issued = services.create_token(current_user, form.name.data, expires_in_days=form.expires_in_days)
        except services.TokenError as exc:
            form.name.errors.append(str(exc))
        else:
            db.session.commit()
            return _page(TokenForm(formdata=None), issued)
    return _page(form, status=422 if form.errors else 200)


@bp.route("/account/api-tokens/revoke", methods=["POST"])
@require_role(*HOLDERS)
def revoke_token():
    """Revoke one of the user's tokens: programs using it get 401 from the next request on."""
    form = RevokeTokenForm()
    if form.validate_on_submit() and is_record_id(form.token_id.data):
        try:
            token = services.revoke_token(current_user, int(form.token_id.data))
        except services.TokenError:
            flash(_("There is no such token."), "error")
        else:
            db.session.commit()
            flash(_("The token “%(name)s” has been revoked.", name=token.name), "success")
    else:
        flash(_("There is no such token."), "error")
    return redirect(url_for("api_tokens.tokens"))
