"""Every endpoint for staff, administrators and experts: the same scope as the pages (an expert sees only the
countries assigned to them; anything else is 404, lists leave it out); a respondent's token is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select


def _endpoints(w: dict) -> list[str]:
    """Every data endpoint (the document and its reference page are public: test_openapi.py)."""
    return [
        "/api/v1/me",
        "/api/v1/campaigns",
        f"/api/v1/campaigns/{w['campaign']}",
        "/api/v1/questionnaires",
        f"/api/v1/questionnaires/{w['slug']}",
        f"/api/v1/questionnaires/{w['slug']}/versions/{w['number']}",
        "/api/v1/countries",
        "/api/v1/countries/KZ",
        "/api/v1/agencies",
        f"/api/v1/agencies/{w['agencies']['MVD']}",
        "/api/v1/responses",
        f"/api/v1/responses/{w['responses']['MVD']}",
        f"/api/v1/campaigns/{w['campaign']}/scores",
        f"/api/v1/campaigns/{w['campaign']}/area-scores",
    ]


def _get(client, url: str, auth: dict, status: int = 200) -> dict:
    answer = client.get(url, headers=auth)
    assert answer.status_code == status, (url, answer.get_json())
    assert answer.content_type == "application/json"
    return answer.get_json()


@pytest.mark.parametrize("who", ["staff", "admin", "expert"])
def test_every_endpoint_answers_readers(client, api_world, who):
    for url in _endpoints(api_world):
        body = _get(client, url, api_world["auth"][who])
        assert "data" in body, url


def test_every_endpoint_refuses_a_respondents_token_and_anonymous_callers(client, api_world):
    for url in _endpoints(api_world):
        refused = _get(client, url, api_world["auth"]["respondent"], 403)
        assert refused["error"]["code"] == "forbidden"
        assert _get(client, url, {}, 401)["error"]["code"] == "unauthorized"


def _codes(items, key="country"):
    return sorted({item[key] for item in items}, key=lambda c: (c is None, c or ""))


def test_staff_see_everything(client, api_world):
    auth = api_world["auth"]["staff"]
    assert [c["code"] for c in _get(client, "/api/v1/countries", auth)["data"]] == ["KZ", "TJ", "UZ"]
    agencies = _get(client, "/api/v1/agencies", auth)["data"]
    assert _codes(agencies) == ["KZ", "TJ", None]  # the regional body too
    assert {a["acronym"] for a in agencies} == {"MVD", "AFM", "RATS"}
    responses = _get(client, "/api/v1/responses", auth)["data"]
    assert len(responses) == 4 and _codes(responses) == ["KZ", "TJ", None]
    scores = _get(client, f"/api/v1/campaigns/{api_world['campaign']}/scores", auth)["data"]
    assert _codes(scores) == ["KZ", "TJ"]
    assert _get(client, "/api/v1/me", auth)["data"]["countries"] is None
    tj = _get(client, f"/api/v1/responses/{api_world['responses']['TJ']}", auth)["data"]
    assert {a["question_id"]: a["value"] for a in tj["answers"]}["agency_name"] == "MVD TJ"


def test_a_response_leaves_out_the_answers_skip_logic_hides(client, api_world, db_session):
    """TJ's unit staff was answered while it had a unit, then "no unit" hid the question: the stored answer is
    kept (as the form keeps it) but does not count, so the API leaves it out as the exports and pages do."""
    from app.responses.models import Answer

    db_session.add(Answer(response_id=api_world["responses"]["TJ"], question_id="ct_unit_staff", value=7))
    db_session.commit()
    tj = _get(client, f"/api/v1/responses/{api_world['responses']['TJ']}", api_world["auth"]["staff"])["data"]
    assert {a["question_id"]: a["value"] for a in tj["answers"]} == {"agency_name": "MVD TJ", "staff_total": 300,
                                                                     "has_ct_unit": "no"}
    mvd = _get(client, f"/api/v1/responses/{api_world['responses']['MVD']}", api_world["auth"]["staff"])["data"]
    assert {a["question_id"]: a["value"] for a in mvd["answers"]}["ct_unit_staff"] == 20  # shown: kept


def test_an_expert_is_not_told_of_a_followed_up_campaign_they_may_not_see(client, api_world, db_session):
    """Round 3 (KZ, open) follows up Round 2, a draft of Tajikistan only: the KZ expert sees Round 3 but must not
    learn Round 2's id; staff see it. A follow-up of a campaign the expert sees names it."""
    from app.campaigns import services as campaigns
    from app.campaigns.models import Campaign
    from app.directory.models import Agency

    first, draft = db_session.get(Campaign, api_world["campaign"]), db_session.get(Campaign, api_world["draft"])
    mvd = db_session.get(Agency, api_world["agencies"]["MVD"])
    hidden = campaigns.create_campaign("Round 3", draft.version, agencies=[mvd], follow_up_of=draft)
    shown = campaigns.create_campaign("Round 4", first.version, agencies=[mvd], follow_up_of=first)
    for campaign in (hidden, shown):
        campaigns.set_status(campaign, "open")
    db_session.commit()
    expert, staff = api_world["auth"]["expert"], api_world["auth"]["staff"]
    assert _get(client, f"/api/v1/campaigns/{hidden.id}", expert)["data"]["follow_up_of"] is None
    assert _get(client, f"/api/v1/campaigns/{draft.id}", expert, 404)
    assert _get(client, f"/api/v1/campaigns/{hidden.id}", staff)["data"]["follow_up_of"] == draft.id
    assert _get(client, f"/api/v1/campaigns/{shown.id}", expert)["data"]["follow_up_of"] == first.id
    listed = {c["id"]: c["follow_up_of"] for c in _get(client, "/api/v1/campaigns", expert)["data"]}
    assert listed[hidden.id] is None and listed[shown.id] == first.id


def test_an_expert_sees_only_assigned_countries(client, api_world):
    auth, world = api_world["auth"]["expert"], api_world
    assert _get(client, "/api/v1/me", auth)["data"]["countries"] == ["KZ"]
    assert [c["code"] for c in _get(client, "/api/v1/countries", auth)["data"]] == ["KZ"]
    agencies = _get(client, "/api/v1/agencies", auth)["data"]
    assert {a["id"] for a in agencies} == {world["agencies"]["MVD"], world["agencies"]["AFM"]}
    responses = _get(client, "/api/v1/responses", auth)["data"]
    assert {r["id"] for r in responses} == {world["responses"]["MVD"], world["responses"]["AFM"]}
    for kind in ("scores", "area-scores"):
        rows = _get(client, f"/api/v1/campaigns/{world['campaign']}/{kind}", auth)["data"]
        assert rows and _codes(rows) == ["KZ"]
    # Filters cannot widen the scope.
    assert _get(client, "/api/v1/agencies?country=TJ", auth)["data"] == []
    assert _get(client, "/api/v1/responses?country=tj", auth)["data"] == []
    assert _get(client, f"/api/v1/campaigns/{world['campaign']}/scores?country=TJ", auth)["data"] == []
    assert _get(client, f"/api/v1/responses?agency_id={world['agencies']['TJ']}", auth)["data"] == []
    # The campaigns of their countries (as on the campaigns page): not Round 2, a draft asking only TJ.
    assert [c["name"] for c in _get(client, "/api/v1/campaigns", auth)["data"]] == ["Round 1"]
    # The staff's note on a campaign is not for experts (their pages do not show it either).
    from app.campaigns import services as campaigns
    from app.extensions import db

    campaigns.get_campaign(world["campaign"]).description = "Internal: the KZ ministry is slow to answer"
    db.session.commit()
    assert [c["description"] for c in _get(client, "/api/v1/campaigns", auth)["data"]] == [None]
    assert _get(client, f"/api/v1/campaigns/{world['campaign']}", auth)["data"]["description"] is None
    staff_view = _get(client, f"/api/v1/campaigns/{world['campaign']}", api_world["auth"]["staff"])["data"]
    assert staff_view["description"] == "Internal: the KZ ministry is slow to answer"
    assert _get(client, f"/api/v1/campaigns/{world['draft']}", auth, 404)["error"]["code"] == "not_found"
    # Nor does a filter on a draft that asks their agencies tell which ones it asks.
    from app.directory.models import Agency

    mvd = db.session.get(Agency, world["agencies"]["MVD"])
    draft = campaigns.create_campaign("Draft for KZ", campaigns.get_campaign(world["campaign"]).version, agencies=[mvd])
    db.session.commit()
    assert _get(client, f"/api/v1/agencies?campaign_id={draft.id}", auth)["data"] == []
    staff = api_world["auth"]["staff"]
    assert [a["id"] for a in _get(client, f"/api/v1/agencies?campaign_id={draft.id}", staff)["data"]] == [mvd.id]
    versions = _get(client, "/api/v1/questionnaires", auth)["data"]
    assert [(q["slug"], [v["number"] for v in q["versions"]]) for q in versions] == [(world["slug"], [1])]


def test_an_expert_gets_404_for_other_countries(client, api_world):
    auth, world = api_world["auth"]["expert"], api_world
    for url in ("/api/v1/countries/TJ", "/api/v1/countries/UZ", f"/api/v1/agencies/{world['agencies']['TJ']}",
                f"/api/v1/agencies/{world['agencies']['RATS']}", f"/api/v1/responses/{world['responses']['TJ']}",
                f"/api/v1/responses/{world['responses']['RATS']}"):
        error = _get(client, url, auth, 404)["error"]
        assert error["code"] == "not_found", url
    # The same answer as for something that does not exist at all.
    assert _get(client, "/api/v1/responses/999999", auth, 404) == _get(
        client, f"/api/v1/responses/{world['responses']['TJ']}", auth, 404)


def test_an_expert_without_countries_sees_no_data(client, api_world):
    auth = api_world["auth"]["lonely"]
    for url in ("/api/v1/countries", "/api/v1/agencies", "/api/v1/responses", "/api/v1/campaigns"):
        body = _get(client, url, auth)
        assert body["data"] == [] and body["meta"]["total"] == 0, url
    _get(client, "/api/v1/countries/KZ", auth, 404)
    _get(client, f"/api/v1/campaigns/{api_world['campaign']}/scores", auth, 404)  # no campaign of theirs


def test_objects_have_their_documented_fields(client, api_world, db_session):
    auth, world = api_world["auth"]["staff"], api_world
    campaign = _get(client, f"/api/v1/campaigns/{world['campaign']}", auth)["data"]
    assert campaign["name"] == "Round 1" and campaign["status"] == "open"
    assert campaign["questionnaire"] == {"slug": world["slug"], "number": world["number"]}
    assert campaign["created_at"].endswith("Z") or campaign["created_at"].endswith("+00:00")

    version = _get(client, f"/api/v1/questionnaires/{world['slug']}/versions/{world['number']}", auth)["data"]
    from sqlalchemy import select

    from app.questionnaires.models import QuestionnaireVersion

    stored = db_session.scalar(select(QuestionnaireVersion.definition))
    db_session.rollback()
    assert version["definition"] == stored  # the canonical stored form, defaults omitted
    assert version["definition"]["id"] == world["slug"] and version["title"]["en"] == "Small example"

    country = _get(client, "/api/v1/countries/kz", auth)["data"]
    assert country["code"] == "KZ" and country["names"] == {"en": "Kazakhstan", "ru": "Казахстан"}
    agency = _get(client, f"/api/v1/agencies/{world['agencies']['RATS']}", auth)["data"]
    assert agency == {"id": world["agencies"]["RATS"], "country": None, "acronym": "RATS", "kind": "regional",
                      "names": {"en": "Regional Anti-Terrorist Structure"}, "is_active": True}

    response = _get(client, f"/api/v1/responses/{world['responses']['MVD']}", auth)["data"]
    assert response["status"] == "submitted" and response["country"] == "KZ" and response["percent_required"] == 100
    assert response["submitted_at"] is not None and response["first_submitted_at"] == response["submitted_at"]
    answers = {a["question_id"]: a["value"] for a in response["answers"]}
    assert answers["training_topics"] == ["financing", "digital"]
    assert answers["skills"] == {"interviewing": 3, "forensics": 1}
    assert all(a["version"] == 1 for a in response["answers"])
    listed = _get(client, f"/api/v1/responses?agency_id={world['agencies']['MVD']}", auth)["data"]
    assert [r["id"] for r in listed] == [response["id"]] and "answers" not in listed[0]

    scores = _get(client, f"/api/v1/campaigns/{world['campaign']}/scores?country=KZ&indicator=inv_unit", auth)
    (row,) = scores["data"]
    assert row["country"] == "KZ" and row["indicator_id"] == "inv_unit" and row["area_id"] == "investigation"
    assert row["target"] == 3 and row["agencies"] == 2 and row["gap"] == pytest.approx(3 - row["assessed"])
    areas = _get(client, f"/api/v1/campaigns/{world['campaign']}/area-scores?area=investigation", auth)["data"]
    assert _codes(areas) == ["KZ", "TJ"]


def test_score_figures_come_without_the_noise_of_binary_floats(client, db_session, api_world):
    from app.directory.models import Country
    from app.scoring.models import CountryAreaScore, CountryScore

    # Figures as the engine stores them (a weighted mean of 2.65 and 3 comes out as 2.8249999999999997).
    row = db_session.scalars(select(CountryScore).where(CountryScore.campaign_id == api_world["campaign"],
                                                            CountryScore.indicator_id == "inv_unit")).first()
    row.self_assessed, row.gap, row.priority, row.coverage = 2.8249999999999997, 3 - 2.6, 0.1 + 0.2, 2 / 3
    area = db_session.scalars(select(CountryAreaScore).where(
        CountryAreaScore.campaign_id == api_world["campaign"], CountryAreaScore.country_id == row.country_id)).first()
    area.self_assessed = 1.1 + 2.2
    db_session.commit()
    code = db_session.get(Country, row.country_id).code
    assert (row.self_assessed, row.gap, row.priority) == (2.8249999999999997, 0.3999999999999999, 0.30000000000000004)
    auth = api_world["auth"]["staff"]
    (got,) = [r for r in _get(client, f"/api/v1/campaigns/{api_world['campaign']}/scores?indicator=inv_unit",
                              auth)["data"] if r["country"] == code]
    assert (got["self_assessed"], got["gap"], got["priority"], got["coverage"]) == (2.825, 0.4, 0.3, 0.666667)
    areas = _get(client, f"/api/v1/campaigns/{api_world['campaign']}/area-scores?area={area.area_id}", auth)["data"]
    assert [a["self_assessed"] for a in areas if a["country"] == code] == [3.3]


def test_filters(client, api_world):
    auth, world = api_world["auth"]["staff"], api_world
    assert [c["name"] for c in _get(client, "/api/v1/campaigns?status=draft", auth)["data"]] == ["Round 2"]
    assert [a["acronym"] for a in _get(client, "/api/v1/agencies?kind=fiu", auth)["data"]] == ["AFM"]
    asked = _get(client, f"/api/v1/agencies?campaign_id={world['draft']}", auth)["data"]
    assert [a["id"] for a in asked] == [world["agencies"]["TJ"]]
    assert _get(client, "/api/v1/agencies?active=false", auth)["data"] == []
    assert len(_get(client, "/api/v1/agencies?active=true", auth)["data"]) == 4
    not_started = _get(client, "/api/v1/responses?status=not_started", auth)["data"]
    assert [r["agency_id"] for r in not_started] == [world["agencies"]["RATS"]]
    assert len(_get(client, f"/api/v1/responses?campaign_id={world['campaign']}", auth)["data"]) == 4
    assert _get(client, f"/api/v1/responses?campaign_id={world['draft']}", auth)["data"] == []
    assert _codes(_get(client, f"/api/v1/campaigns/{world['draft']}/scores", auth)["data"]) == ["TJ"]
    _get(client, "/api/v1/campaigns/999/scores", auth, 404)
    _get(client, "/api/v1/questionnaires/no-such-thing", auth, 404)
    _get(client, f"/api/v1/questionnaires/{world['slug']}/versions/2", auth, 404)
    _get(client, "/api/v1/questionnaires/Not%20a%20slug", auth, 404)
    _get(client, "/api/v1/countries/KAZ", auth, 404)


def test_scores_say_apart_whether_experts_disagree_and_whether_expert_and_agencies_differ(client, api_world,
                                                                                          db_session, make_user):
    """`experts_disagree`: two experts' latest ratings of an indicator differ (as the review page shows);
    `disagreement`: the expert level and the self-assessed level differ by a level or more."""
    from app.campaigns import services as campaigns
    from app.directory.models import Country
    from app.review import services as review
    from app.scoring import store

    campaign = campaigns.get_campaign(api_world["campaign"])
    kz = db_session.scalar(select(Country).where(Country.code == "KZ"))
    first = make_user("expert", email="first@example.org", countries=["KZ"])
    second = make_user("expert", email="second@example.org", countries=["KZ"])
    review.add_rating(campaign, kz, "inv_unit", 3, "Unit exists", actor=first)
    review.add_rating(campaign, kz, "inv_unit", 1, "Unit is tiny", actor=second)
    review.add_rating(campaign, kz, "inv_training", 2, "Some training", actor=first)
    review.add_rating(campaign, kz, "inv_training", 1, "Less than I thought", actor=first)  # one expert, twice
    store.rating_changed(campaign, kz.id)
    db_session.commit()
    rows = {r["indicator_id"]: r for r in _get(client, f"/api/v1/campaigns/{campaign.id}/scores?country=KZ",
                                               api_world["auth"]["staff"])["data"]}
    assert rows["inv_unit"]["experts_disagree"] is True and rows["inv_unit"]["ratings"] == 2
    assert rows["inv_training"]["experts_disagree"] is False  # the same expert changing their mind
    for row in rows.values():
        differ = row["expert"] is not None and row["self_assessed"] is not None and \
            abs(row["expert"] - row["self_assessed"]) >= 1
        assert row["disagreement"] is differ, row


def test_a_response_of_an_agency_taken_out_of_a_campaign_is_out_of_an_experts_sight(
        app_ctx, db_session, make_country, make_version, make_agency, make_user):
    """The campaign asks KZ/MVD and TJ/GKNB; MVD's contact opened the link (a response exists), then MVD was taken
    out: the campaign no longer asks KZ, so its KZ expert gets 404 for it, and for the response on the API, the
    read-only page and the review page alike (the response was listed and shown while the campaign was a 404)."""
    from app.campaigns import services as campaigns
    from app.responses.services import ensure_response
    from tests.api.helpers import token_for
    from tests.conftest import sign_in

    make_country("KZ", en="Kazakhstan")
    make_country("TJ", en="Tajikistan")
    mvd, gknb = make_agency("KZ", "MVD"), make_agency("TJ", "GKNB")
    campaign = campaigns.create_campaign("Round 1", make_version(), agencies=[mvd, gknb])
    campaigns.set_status(campaign, "open")
    response = ensure_response(campaign, mvd)
    db_session.commit()
    expert = make_user("expert", email="kz.scope@example.org", countries=["KZ"])
    headers = token_for(expert)
    client = app_ctx.test_client()
    assert client.get(f"/api/v1/responses/{response.id}", headers=headers).status_code == 200  # while asked
    campaigns.update_campaign(campaign, name="Round 1", version=campaign.version, agencies=[gknb], opens_on=None,
                              deadline=None)
    db_session.commit()
    assert client.get(f"/api/v1/campaigns/{campaign.id}", headers=headers).status_code == 404
    assert client.get("/api/v1/responses", headers=headers).get_json()["data"] == []
    assert client.get(f"/api/v1/responses/{response.id}", headers=headers).status_code == 404
    sign_in(client, expert.email)
    assert client.get(f"/responses/{response.id}").status_code == 404
    assert client.get(f"/review/responses/{response.id}").status_code == 404
