"""A small world for the API: three countries, agencies (one regional), a campaign with answered and
submitted responses, materialized scores, and a token for each kind of caller."""

from __future__ import annotations

import pytest

from tests.api.helpers import token_for

ANSWERS = {
    "MVD": {"agency_name": "MVD", "staff_total": 500, "has_ct_unit": "yes", "ct_unit_staff": 20,
            "training_topics": ["financing", "digital"], "skills": {"interviewing": 3, "forensics": 1}},
    "AFM": {"agency_name": "AFM", "staff_total": 200, "has_ct_unit": "partly", "ct_unit_staff": 5,
            "training_topics": ["rights"], "skills": {"interviewing": 2, "forensics": 2}},
    "TJ": {"agency_name": "MVD TJ", "staff_total": 300, "has_ct_unit": "no"},
}


@pytest.fixture
def api_world(app_ctx, db_session, make_country, make_version, make_agency, make_user):
    """Ids and tokens: staff, admin, expert (KZ), lonely expert (no country), respondent (has a token anyway)."""
    from app.campaigns import services as campaigns
    from app.responses import answering
    from app.responses.services import ensure_response
    from app.scoring import store

    make_country("KZ", en="Kazakhstan", ru="Казахстан")
    make_country("TJ", en="Tajikistan", ru="Таджикистан")
    make_country("UZ", en="Uzbekistan", ru="Узбекистан")
    version = make_version()
    agencies = {"MVD": make_agency("KZ", "MVD", en="Ministry of Internal Affairs"),
                "AFM": make_agency("KZ", "AFM", kind="fiu", en="Financial Monitoring Agency"),
                "TJ": make_agency("TJ", "MVD", en="Ministry of Internal Affairs of Tajikistan"),
                "RATS": make_agency(None, "RATS", kind="regional", en="Regional Anti-Terrorist Structure")}
    campaign = campaigns.create_campaign("Round 1", version, agencies=list(agencies.values()))
    campaigns.set_status(campaign, "open")
    draft = campaigns.create_campaign("Round 2", version, agencies=[agencies["TJ"]])
    responses = {}
    for key, agency in agencies.items():
        response = ensure_response(campaign, agency)
        if key in ANSWERS:
            result = answering.save_answers(response, ANSWERS[key], actor=None, channel="cli", lang="en")
            assert result.ok, result.errors
            answering.submit(response, actor=None, lang="en")
        responses[key] = response.id
    store.rebuild()
    db_session.commit()
    users = {
        "staff": make_user("staff", email="staff@example.org", name="Staff Member"),
        "admin": make_user("admin", email="admin@example.org"),
        "expert": make_user("expert", email="kz.expert@example.org", name="KZ Expert", countries=["KZ"]),
        "lonely": make_user("expert", email="lonely.expert@example.org"),
        "respondent": make_user("respondent", email="respondent@example.org"),
    }
    world = {
        "campaign": campaign.id,
        "draft": draft.id,
        "slug": version.questionnaire.slug,
        "number": version.number,
        "agencies": {key: agency.id for key, agency in agencies.items()},
        "responses": responses,
        "users": {key: user.id for key, user in users.items()},
        "auth": {key: token_for(user) for key, user in users.items()},
    }
    db_session.rollback()
    return world
