"""Every route against every role: who may open it, who gets 403, and who is sent to sign in.

The table below is the access policy. A new route fails `test_every_route_is_in_the_policy` until it is
added here, so no page can ship without someone deciding who may see it. Scope inside a role (an expert's
countries, a respondent's agency) is tested with each feature; this file tests the role gate of every
route with real requests, real objects and valid CSRF tokens, so a refusal is the role check and not a
missing token or a missing object.
"""

from __future__ import annotations

import re

import pytest

from tests.api.helpers import token_for
from tests.conftest import extract_csrf, sign_in

STAFF = {"staff", "admin"}
ROLES = ("respondent", "expert", "staff", "admin")
EVERYONE_SIGNED_IN = set(ROLES)
#: Who may hold personal API tokens and read the JSON API (respondents use their invitation links).
API_USERS = STAFF | {"expert"}

#: endpoint -> roles allowed; None: public (no sign-in needed).
POLICY: dict[str, set[str] | None] = {
    "static": None,
    "core.home": None,
    "core.healthz": None,
    "core.favicon": None,
    "core.set_language": None,
    "auth.sign_in": None,
    "auth.sign_out": None,
    "campaigns.open_link": None,
    "auth.change_password": EVERYONE_SIGNED_IN,
    "auth.users": {"admin"},
    "auth.create_user": {"admin"},
    "auth.edit_user": {"admin"},
    "auth.reset_password": {"admin"},
    "auth.staff_home": STAFF,
    "auth.expert_home": {"expert"},
    "responses.respondent_home": {"respondent"},
    "respond.section": {"respondent"},
    "respond.autosave": {"respondent"},
    "respond.review": {"respondent"},
    "respond.submitted": {"respondent"},
    "respond.print_view": {"respondent"},
    "respond.history": {"respondent"},
    "respond.file": {"respondent"},
    "respond.download_workbook": {"respondent"},
    "respond.upload_workbook": {"respondent"},
    "respond.reply": {"respondent"},
    "review.index": STAFF | {"expert"},
    "review.country": STAFF | {"expert"},
    "review.response": STAFF | {"expert"},
    "review.comment": STAFF | {"expert"},
    "review.clarify": STAFF | {"expert"},
    "review.validate": STAFF | {"expert"},
    "review.unlock": STAFF,
    "review.compare": STAFF | {"expert"},
    "review.rate": STAFF | {"expert"},
    "review.regional": STAFF,
    "responses.show": EVERYONE_SIGNED_IN,
    "responses.print_view": EVERYONE_SIGNED_IN,
    "responses.history": EVERYONE_SIGNED_IN,
    "responses.file": EVERYONE_SIGNED_IN,
    "responses.progress": STAFF | {"expert"},
    "responses.remind": STAFF,
    "campaigns.index": STAFF | {"expert"},
    "campaigns.new": STAFF,
    "campaigns.edit": STAFF,
    "campaigns.detail": STAFF,
    "campaigns.set_status": STAFF,
    "campaigns.delete": STAFF,
    "campaigns.invite": STAFF,
    "campaigns.resend": STAFF,
    "campaigns.revoke": STAFF,
    "directory.agencies": STAFF,
    "directory.new_agency": STAFF,
    "directory.edit_agency": STAFF,
    "directory.toggle_agency": STAFF,
    "directory.new_contact": STAFF,
    "directory.edit_contact": STAFF,
    "directory.toggle_contact": STAFF,
    "directory.import_page": STAFF,
    "directory.template": STAFF,
    "mail.outbox": STAFF,
    "mail.message": STAFF,
    "mail.retry": STAFF,
    "mail.send_now": STAFF,
    "questionnaires.index": STAFF,
    "questionnaires.version": STAFF,
    "questionnaires.preview": STAFF,
    "questionnaires.compare_versions": STAFF,
    "api_tokens.tokens": API_USERS,
    "api_tokens.revoke_token": API_USERS,
    # The JSON API: its views authenticate with a personal API token (`Authorization: Bearer`), not the session
    # cookie (see `_is_bearer`); its document and reference page are public.
    "api.openapi": None,
    "api.docs": None,
    "api.me": API_USERS,
    "api.campaigns": API_USERS,
    "api.campaign": API_USERS,
    "api.questionnaires": API_USERS,
    "api.questionnaire": API_USERS,
    "api.questionnaire_version": API_USERS,
    "api.countries": API_USERS,
    "api.country": API_USERS,
    "api.agencies": API_USERS,
    "api.agency": API_USERS,
    "api.responses_list": API_USERS,
    "api.response": API_USERS,
    "api.indicator_scores": API_USERS,
    "api.area_scores": API_USERS,
    "dashboards.index": STAFF | {"expert"},
    "dashboards.progress": STAFF | {"expert"},
    "dashboards.country": STAFF | {"expert"},
    "dashboards.regional": STAFF | {"expert"},
    "dashboards.questions": STAFF | {"expert"},
    "reports.country": STAFF | {"expert"},
    "reports.region": STAFF | {"expert"},
    "exports.campaign_raw": STAFF | {"expert"},
    "exports.own_response": {"respondent"},
}

#: Requests sent as JSON (with the CSRF token in the header, as the page's script does).
FORM_BODIES = {
    "review.comment": {"question": "agency_name", "body": "A note for the other experts"},
}
JSON_BODIES = {
    "respond.autosave": {"question": "agency_name", "fields": {"q__agency_name": ["MVD"]}, "base_version": 0},
}

#: A page each role may open, to take a CSRF token from.
HOME = {"respondent": "/respondent", "expert": "/expert", "staff": "/staff", "admin": "/admin/users"}


def test_every_route_is_in_the_policy(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - POLICY.keys() == set(), "add the new routes to POLICY"
    assert POLICY.keys() - endpoints == set(), "remove routes that no longer exist from POLICY"


def test_the_views_declare_the_roles_of_the_policy(app):
    for endpoint, roles in POLICY.items():
        declared = getattr(app.view_functions[endpoint], "required_roles", None)
        if roles is None:
            assert declared is None, endpoint
        elif roles == EVERYONE_SIGNED_IN and declared == ("*",):
            continue
        else:
            assert set(declared or ()) == roles, endpoint


@pytest.fixture
def world(app_ctx, db_session, make_user, make_country, make_version, make_agency, make_contact):
    """One open campaign over one agency with two invited contacts, a response, an outbox message, and a
    client signed in for each role (the respondent through a real magic link)."""
    from app.campaigns import services as campaigns
    from app.responses import files
    from app.responses.models import Answer
    from app.responses.services import ensure_response
    from app.review.models import Clarification

    make_country("KZ", en="Kazakhstan", ru="Казахстан")
    version = make_version()
    agency = make_agency("KZ", "MVD", en="Ministry of Internal Affairs")
    respondent_contact = make_contact(agency, email="respondent@example.org", locale="en")
    other_contact = make_contact(agency, email="other@example.org", locale="en")
    regional_body = make_agency(None, "RATS", kind="regional", en="Regional anti-terrorist structure")
    campaign = campaigns.create_campaign("Round 1", version, agencies=[agency, regional_body])
    campaigns.set_status(campaign, "open")
    issued = {i.contact.id: i for i in campaigns.invite(campaign)}
    response = ensure_response(campaign, agency)
    key = "evidence-file-key"
    db_session.add(Answer(response_id=response.id, question_id="evidence", value={"name": "plan.pdf", "key": key}))
    (files.upload_dir() / key).write_bytes(b"%PDF-1.4 test")
    clarification = Clarification(response_id=response.id, question_id="agency_name", message="Which one?")
    db_session.add(clarification)
    spare_user = make_user("expert", email="spare@example.org")
    db_session.commit()

    clients = {}
    for role in ROLES:
        client = app_ctx.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        if role == "respondent":
            link = issued[respondent_contact.id].link
            assert client.get(link[link.index("/i/"):]).status_code == 302
        else:
            user = make_user(role, countries=["KZ"] if role == "expert" else ())
            sign_in(client, user.email)
        page = client.get(HOME[role])
        assert page.status_code == 200, role
        client.csrf = extract_csrf(page.get_data(as_text=True))
        clients[role] = client
    # A personal API token of each role's user, for the routes that authenticate with it (stored directly: a
    # respondent cannot create one, and the API must still refuse it).
    from sqlalchemy import select

    from app.auth.models import User

    for role in ROLES:
        user = db_session.scalar(select(User).where(User.role == role, User.id != spare_user.id).order_by(User.id))
        clients[role].api_headers = token_for(user)
    anonymous = app_ctx.test_client()
    anonymous.csrf = extract_csrf(anonymous.get("/sign-in").get_data(as_text=True))
    anonymous.api_headers = {}
    clients[None] = anonymous

    values = {
        "campaign_id": campaign.id,
        # The invitation staff resend and revoke in this test is not the one the respondent signed in with.
        "invitation_id": issued[other_contact.id].invitation.id,
        "agency_id": agency.id,
        "contact_id": other_contact.id,
        "user_id": spare_user.id,
        "message_id": issued[other_contact.id].invitation.message_id,
        "response_id": response.id,
        "slug": version.questionnaire.slug,
        "number": version.number,
        "token": "x" * 43,
        "key": key,
        "code": "KZ",
        "indicator_id": "inv_unit",
        "clarification_id": clarification.id,
        "filename": "css/app.css",
        "country_code": "KZ",
    }
    db_session.rollback()
    return clients, values


def _url(rule, values) -> str:
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def _is_bearer(app, endpoint: str) -> bool:
    return getattr(app.view_functions[endpoint], "authentication", None) == "bearer"


def _request(client, method: str, url: str, endpoint: str, headers=None):
    if headers is not None:  # the JSON API: the token alone, from a client without a signed-in session
        return client.get(url, headers=headers)
    if method == "GET":
        return client.get(url)
    if endpoint in JSON_BODIES:
        return client.post(url, json=JSON_BODIES[endpoint], headers={"X-CSRFToken": client.csrf})
    return client.post(url, data={"csrf_token": client.csrf, **FORM_BODIES.get(endpoint, {})})


def test_every_route_lets_in_exactly_the_roles_of_the_policy(app, world):
    clients, values = world
    rules = [rule for rule in app.url_map.iter_rules() if POLICY[rule.endpoint] is not None]
    # Refusals first, then allowed requests (some of which change things, such as revoking an invitation).
    failures = []
    for allowed_pass in (False, True):
        for rule in sorted(rules, key=lambda r: r.endpoint):
            allowed = POLICY[rule.endpoint]
            url = _url(rule, values)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                for role in (None, *ROLES):
                    if (role in allowed) != allowed_pass:
                        continue
                    bearer = _is_bearer(app, rule.endpoint)
                    if bearer:
                        response = _request(clients[None], method, url, rule.endpoint, clients[role].api_headers)
                    else:
                        response = _request(clients[role], method, url, rule.endpoint)
                    response.close()  # downloads are streamed from files
                    location = response.headers.get("Location", "")
                    if role is None:
                        # a form holding written text gets the 401 page that shows it back instead of sign-in
                        ok = (response.status_code == 401 if bearer
                              else (response.status_code == 302 and "/sign-in" in location)
                              or (method == "POST" and response.status_code == 401))
                    elif role in allowed:
                        ok = response.status_code not in (400, 401, 403, 404, 405, 500) and "/sign-in" not in location
                    else:
                        ok = response.status_code == 403
                    if not ok:
                        failures.append(f"{method} {url} as {role or 'anonymous'}: {response.status_code} {location}")
    assert failures == []
