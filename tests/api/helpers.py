"""Helpers shared by the API tests and the access-policy test."""

from __future__ import annotations


def token_for(user, name: str = "test token", **fields) -> dict[str, str]:
    """The Authorization header of a new token of `user`, stored directly: no role rule, so tests of
    refusals (a respondent's token) can have one too. `fields` set other columns (expires_at, ...)."""
    from app.api.models import ApiToken
    from app.api.tokens import new_token
    from app.extensions import db

    secret, digest = new_token()
    db.session.add(ApiToken(user_id=user.id, name=name, token_hash=digest, hint=secret[-4:], **fields))
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}
