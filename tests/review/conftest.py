"""Fixtures of the review tests: a campaign with submitted responses of two countries, and signed-in clients."""

from __future__ import annotations

import pytest

from tests.conftest import extract_csrf, sign_in

ANSWERS = {
    "MVD": {"agency_name": "MVD", "staff_total": 500, "has_ct_unit": "yes", "ct_unit_staff": 20,
            "training_topics": ["financing", "digital"], "skills": {"interviewing": 3, "forensics": 1},
            "priorities": "Forensic laboratory"},
    "AFM": {"agency_name": "AFM", "staff_total": 200, "has_ct_unit": "partly", "ct_unit_staff": 5,
            "training_topics": ["rights"], "skills": {"interviewing": 2, "forensics": 2}},
    "TJ": {"agency_name": "MVD TJ", "staff_total": 300, "has_ct_unit": "no", "priorities": "Секретный ответ"},
}


@pytest.fixture
def review_world(app_ctx, db_session, make_country, make_version, make_agency, make_contact, make_user):
    """Submitted responses of KZ/MVD, KZ/AFM and TJ/MVD; experts for KZ; the respondent link of KZ/MVD."""
    from app.campaigns import services as campaigns
    from app.responses import answering
    from app.responses.services import ensure_response

    make_country("KZ", en="Kazakhstan", ru="Казахстан")
    make_country("TJ", en="Tajikistan", ru="Таджикистан")
    version = make_version()
    agencies = {"MVD": make_agency("KZ", "MVD", en="Ministry of Internal Affairs"),
                "AFM": make_agency("KZ", "AFM", en="Financial Monitoring Agency"),
                "TJ": make_agency("TJ", "MVD", en="Ministry of Internal Affairs of Tajikistan")}
    make_contact(agencies["MVD"], email="contact@mvd.kz.example.org", name="Erlan", locale="en")
    make_contact(agencies["MVD"], email="deputy@mvd.kz.example.org", name="Deputy", locale="ru")
    campaign = campaigns.create_campaign("Round 1", version, agencies=list(agencies.values()))
    campaigns.set_status(campaign, "open")
    links = {i.contact.email: i.link for i in campaigns.invite(campaign, send_email=False)}
    responses = {}
    for key, agency in agencies.items():
        response = ensure_response(campaign, agency)
        result = answering.save_answers(response, ANSWERS[key], actor=None, channel="cli", lang="en")
        assert result.ok, result.errors
        answering.submit(response, actor=None, lang="en")
        responses[key] = response.id
    db_session.commit()
    people = {"expert": make_user("expert", email="kz.expert@example.org", name="KZ Expert", countries=["KZ"]),
              "expert2": make_user("expert", email="second.expert@example.org", name="Second Expert",
                                   countries=["KZ"]),
              "staff": make_user("staff", email="staff@example.org", name="Staff Member")}
    return {"campaign": campaign.id, "responses": responses, "links": links, "people": people}


def client_for(app_ctx, email: str):
    client = app_ctx.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, email)
    client.csrf = extract_csrf(client.get("/review/").get_data(as_text=True))
    return client


def respondent(app_ctx, link: str):
    client = app_ctx.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert client.get(link[link.index("/i/"):]).status_code == 302
    client.csrf = extract_csrf(client.get("/respondent").get_data(as_text=True))
    return client
