"""Personal API tokens: created on the account page and shown once, stored hashed, revoked, expiring; the API
refuses missing, wrong, revoked and expired tokens with 401 JSON, and respondents have none."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.api.helpers import token_for
from tests.conftest import extract_csrf, sign_in


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _signed_in(app_ctx, email: str):
    client = app_ctx.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, email)
    return client


def _create(client, name: str = "Power BI report", expires: str = "90"):
    page = client.get("/account/api-tokens")
    assert page.status_code == 200
    return client.post("/account/api-tokens", data={"csrf_token": extract_csrf(page.get_data(as_text=True)),
                                                    "name": name, "expires": expires})


def _secret(html: str) -> str:
    match = re.search(r'id="new-token" readonly value="(na_[^"]+)"', html)
    assert match, "the new token is not on the page"
    return match.group(1)


def test_create_shows_the_token_once_and_stores_only_its_hash(app_ctx, db_session, make_user, make_country):
    from app.api.models import ApiToken
    from app.core.models import AuditEvent

    make_country("KZ", en="Kazakhstan")
    user = make_user("expert", email="kz.expert@example.org", countries=["KZ"])
    client = _signed_in(app_ctx, user.email)
    created = _create(client)
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    secret = _secret(html)
    assert "Copy it now: it is not shown again." in html
    assert "<script>" not in html

    db_session.rollback()
    token = db_session.scalar(select(ApiToken))
    assert token.user_id == user.id and token.name == "Power BI report"
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.hint == secret[-4:]
    assert secret not in {token.name, token.token_hash, token.hint}
    assert _utc(token.expires_at) - _utc(token.created_at) == timedelta(days=90)
    assert token.last_used_at is None and token.revoked_at is None
    assert db_session.scalar(select(AuditEvent.action).where(AuditEvent.object_type == "api_token")) \
        == "api_token.created"
    db_session.rollback()

    again = client.get("/account/api-tokens").get_data(as_text=True)
    assert secret not in again and "Power BI report" in again and f"…{secret[-4:]}" in again

    api = app_ctx.test_client()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.get_json()["data"] == {
        "id": user.id, "email": "kz.expert@example.org", "name": "", "role": "expert", "countries": ["KZ"],
        "token": {"name": "Power BI report", "created_at": me.get_json()["data"]["token"]["created_at"],
                  "expires_at": me.get_json()["data"]["token"]["expires_at"]}}
    assert "set-cookie" not in {k.lower() for k, _v in me.headers.items()}
    db_session.rollback()
    assert db_session.scalar(select(ApiToken.last_used_at)) is not None


def test_revoked_token_answers_401(app_ctx, db_session, make_user):
    from app.api.models import ApiToken
    from app.core.models import AuditEvent

    user = make_user("staff")
    client = _signed_in(app_ctx, user.email)
    secret = _secret(_create(client, "nightly export", expires="").get_data(as_text=True))
    db_session.rollback()
    token = db_session.scalar(select(ApiToken))
    assert token.expires_at is None
    token_id = token.id
    db_session.rollback()
    api = app_ctx.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/campaigns", headers=headers).status_code == 200

    page = client.get("/account/api-tokens")
    revoked = client.post("/account/api-tokens/revoke", data={
        "csrf_token": extract_csrf(page.get_data(as_text=True)), "token_id": str(token_id)}, follow_redirects=True)
    assert "The token “nightly export” has been revoked." in revoked.get_data(as_text=True)
    assert "You have no API tokens." in revoked.get_data(as_text=True)

    refused = api.get("/api/v1/campaigns", headers=headers)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "invalid_token"
    assert refused.get_json()["error"]["message"] == "The token has been revoked."
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    db_session.rollback()
    assert db_session.get(ApiToken, token_id).revoked_at is not None
    assert "api_token.revoked" in set(db_session.scalars(select(AuditEvent.action)))


def test_a_user_cannot_revoke_another_users_token(app_ctx, db_session, make_user):
    owner, other = make_user("staff"), make_user("staff")
    headers = token_for(owner)
    from app.api.models import ApiToken

    token_id = db_session.scalar(select(ApiToken.id))
    db_session.rollback()
    client = _signed_in(app_ctx, other.email)
    page = client.get("/account/api-tokens")
    answer = client.post("/account/api-tokens/revoke", data={
        "csrf_token": extract_csrf(page.get_data(as_text=True)), "token_id": str(token_id)}, follow_redirects=True)
    assert "There is no such token." in answer.get_data(as_text=True)
    assert app_ctx.test_client().get("/api/v1/me", headers=headers).status_code == 200


def test_expired_token_answers_401(app_ctx, make_user):
    from app.core.models import utcnow

    user = make_user("staff")
    expired = token_for(user, expires_at=utcnow() - timedelta(seconds=1))
    valid = token_for(user, expires_at=utcnow() + timedelta(days=1))
    api = app_ctx.test_client()
    refused = api.get("/api/v1/me", headers=expired)
    assert refused.status_code == 401
    assert refused.get_json()["error"] == {
        "status": 401, "code": "invalid_token", "title": "Unauthorized",
        "message": "The token has expired: create a new one on your account page.", "details": []}
    assert api.get("/api/v1/me", headers=valid).status_code == 200


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-token",
    "Bearer na_" + "A" * 43, "Token na_" + "A" * 43,
])
def test_missing_or_wrong_tokens_answer_401_json(app_ctx, make_user, header):
    make_user("staff")
    headers = {"Authorization": header} if header is not None else {}
    answer = app_ctx.test_client().get("/api/v1/campaigns", headers=headers)
    assert answer.status_code == 401
    assert answer.content_type == "application/json"
    error = answer.get_json()["error"]
    assert error["status"] == 401 and error["code"] in ("unauthorized", "invalid_token")
    assert answer.headers["WWW-Authenticate"].startswith('Bearer realm="api"')


def test_session_cookie_is_not_enough(app_ctx, make_user):
    user = make_user("staff")
    client = _signed_in(app_ctx, user.email)
    assert client.get("/staff").status_code == 200
    assert client.get("/api/v1/campaigns").status_code == 401


def test_deactivated_account_and_role_change(app_ctx, db_session, make_user):
    from app.auth.models import User

    staff = make_user("staff")
    headers = token_for(staff)
    api = app_ctx.test_client()
    assert api.get("/api/v1/me", headers=headers).status_code == 200
    db_session.get(User, staff.id).role = "respondent"
    db_session.commit()
    refused = api.get("/api/v1/me", headers=headers)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    user = db_session.get(User, staff.id)
    user.role, user.is_active = "staff", False
    db_session.commit()
    refused = api.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["message"] == "The account of this token is deactivated."


def test_respondents_get_no_tokens(app_ctx, db_session, make_user):
    from app.api import services

    respondent = make_user("respondent")
    with pytest.raises(services.TokenError):
        services.create_token(respondent, "mine")
    db_session.rollback()
    staff = _signed_in(app_ctx, make_user("staff").email)
    assert "Manage your API tokens" in staff.get("/account/password").get_data(as_text=True)
    signed_in = _signed_in(app_ctx, respondent.email)  # an account made with a password, for this test
    assert "Manage your API tokens" not in signed_in.get("/account/password").get_data(as_text=True)
    assert signed_in.get("/account/api-tokens").status_code == 403


def test_token_form_checks_and_limits(app_ctx, db_session, make_user, monkeypatch):
    from app.api import services

    user = make_user("admin")
    client = _signed_in(app_ctx, user.email)
    empty = _create(client, name="  ")
    assert empty.status_code == 422 and "This field is required." in empty.get_data(as_text=True)
    odd = _create(client, expires="7")
    assert odd.status_code == 422
    monkeypatch.setattr(services, "MAX_ACTIVE_TOKENS", 2)
    assert _create(client, "one").status_code == 200
    assert _create(client, "two").status_code == 200
    third = _create(client, "three")
    assert third.status_code == 422
    assert "You already have 2 active tokens: revoke one first." in third.get_data(as_text=True)


def test_last_used_is_written_at_most_once_a_minute(app_ctx, db_session, make_user):
    from app.api import services
    from app.api.models import ApiToken
    from app.core.models import utcnow

    user = make_user("staff")
    secret = services.create_token(user, "script").secret
    db_session.commit()
    now = utcnow()
    assert services.authenticate(secret, now).token is not None
    assert _utc(services.authenticate(secret, now + timedelta(seconds=30)).token.last_used_at) == now
    later = now + timedelta(minutes=2)
    assert _utc(services.authenticate(secret, later).token.last_used_at) == later
    assert services.authenticate(secret[:-1] + ("A" if secret[-1] != "A" else "B"), later).reason == "unknown"
    assert services.authenticate("nope", later).reason == "malformed"
    db_session.rollback()
    assert db_session.scalar(select(ApiToken.name)) == "script"
