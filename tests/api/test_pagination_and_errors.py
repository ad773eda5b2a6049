"""Pagination (page, per_page, totals and links in a stable envelope) and the one error shape of the API
for 400, 401, 403, 404, 405, 429 and 500."""

from __future__ import annotations

import pytest

ERROR_KEYS = {"status", "code", "title", "message", "details"}


def _error(answer, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.content_type == "application/json"
    body = answer.get_json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS
    assert body["error"]["status"] == status and body["error"]["code"] == code
    assert body["error"]["title"] and body["error"]["message"]
    return body["error"]


@pytest.fixture
def many_countries(api_world, db_session):
    from app.directory.models import Country

    for n in range(23):  # KZ, TJ, UZ + 23 = 26 countries
        db_session.add(Country(code=f"Q{chr(65 + n)}", names={"en": f"Country {n}"}))
    db_session.commit()
    return api_world


def test_pages_links_and_totals(client, many_countries):
    auth = many_countries["auth"]["staff"]
    first = client.get("/api/v1/countries?per_page=10", headers=auth).get_json()
    assert set(first) == {"data", "meta", "links"}
    assert first["meta"] == {"page": 1, "per_page": 10, "total": 26, "pages": 3}
    assert first["links"] == {
        "self": "/api/v1/countries?page=1&per_page=10", "first": "/api/v1/countries?page=1&per_page=10",
        "last": "/api/v1/countries?page=3&per_page=10", "next": "/api/v1/countries?page=2&per_page=10",
        "previous": None}
    codes = [c["code"] for c in first["data"]]
    page = first
    while page["links"]["next"]:
        page = client.get(page["links"]["next"], headers=auth).get_json()
        codes += [c["code"] for c in page["data"]]
    assert len(codes) == 26 == len(set(codes)) and codes == sorted(codes)
    assert page["meta"]["page"] == 3 and len(page["data"]) == 6
    assert page["links"]["previous"] == "/api/v1/countries?page=2&per_page=10" and page["links"]["next"] is None
    default = client.get("/api/v1/countries", headers=auth).get_json()
    assert default["meta"]["per_page"] == 25 and len(default["data"]) == 25
    beyond = client.get("/api/v1/countries?page=9&per_page=10", headers=auth).get_json()
    assert beyond["data"] == [] and beyond["meta"]["total"] == 26
    assert beyond["links"]["next"] is None and beyond["links"]["previous"] == "/api/v1/countries?page=3&per_page=10"


def test_links_keep_the_filters(client, api_world):
    auth = api_world["auth"]["staff"]
    body = client.get("/api/v1/agencies?per_page=1&country=kz&active=true", headers=auth).get_json()
    assert body["meta"]["total"] == 2
    assert body["links"]["next"] == "/api/v1/agencies?page=2&country=kz&active=true&per_page=1"
    second = client.get(body["links"]["next"], headers=auth).get_json()
    assert second["meta"]["page"] == 2 and second["data"][0]["country"] == "KZ"
    scores = client.get(f"/api/v1/campaigns/{api_world['campaign']}/scores?per_page=1", headers=auth).get_json()
    assert scores["links"]["last"] == f"/api/v1/campaigns/{api_world['campaign']}/scores?page=4&per_page=1"


def test_empty_list_envelope(client, api_world):
    body = client.get("/api/v1/countries", headers=api_world["auth"]["lonely"]).get_json()
    assert body["meta"] == {"page": 1, "per_page": 25, "total": 0, "pages": 0}
    assert body["links"]["last"] == body["links"]["first"] and body["links"]["next"] is None


@pytest.mark.parametrize("query", ["page=0", "page=-1", "page=x", "per_page=0", "per_page=101", "per_page=",
                                   "page=1000001", "status=finished", "country=KAZ", "campaign_id=0",
                                   "campaign_id=99999999999", "active=maybe"])
def test_invalid_parameters_answer_400(client, api_world, query):
    path = "/api/v1/campaigns" if query.startswith("status") else "/api/v1/agencies"
    error = _error(client.get(f"{path}?{query}", headers=api_world["auth"]["staff"]), 400, "invalid_parameter")
    name = query.split("=")[0]
    assert [d["location"] for d in error["details"]] == [f"query.{name}"]
    assert all(d["message"] for d in error["details"])


@pytest.mark.parametrize("url", ["/api/v1/agencies?countri=KZ", "/api/v1/me?page=2", "/api/v1/campaigns/1?x=1"])
def test_unknown_parameters_answer_400(client, api_world, url):
    error = _error(client.get(url, headers=api_world["auth"]["staff"]), 400, "invalid_parameter")
    assert error["details"] == [{"location": "query." + url.split("?")[1].split("=")[0],
                                 "message": "Unknown parameter"}]


def test_401_403_404_405_shapes(client, api_world):
    staff = api_world["auth"]["staff"]
    _error(client.get("/api/v1/campaigns"), 401, "unauthorized")
    _error(client.get("/api/v1/campaigns", headers={"Authorization": "Bearer nope"}), 401, "invalid_token")
    _error(client.get("/api/v1/campaigns", headers=api_world["auth"]["respondent"]), 403, "forbidden")
    _error(client.get("/api/v1/campaigns/424242", headers=staff), 404, "not_found")
    _error(client.get("/api/v1/campaigns/99999999999", headers=staff), 404, "not_found")  # beyond 32 bits
    _error(client.get("/api/v1/no-such-thing", headers=staff), 404, "not_found")
    _error(client.get("/api/v2/campaigns"), 404, "not_found")
    not_allowed = client.post("/api/v1/campaigns", headers=staff, json={})
    _error(not_allowed, 405, "method_not_allowed")
    assert set(not_allowed.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}
    _error(client.delete(f"/api/v1/responses/{api_world['responses']['MVD']}", headers=staff), 405,
           "method_not_allowed")
    # Pages outside /api/ keep their HTML errors.
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.content_type.startswith("text/html")


def test_500_shape(client, api_world, monkeypatch):
    from app.api import services

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(services, "campaigns_query", broken)
    error = _error(client.get("/api/v1/campaigns", headers=api_world["auth"]["staff"]), 500, "server_error")
    assert "fire" not in error["message"]


def test_rate_limit_per_token(app_ctx, client, api_world, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "API_RATE_LIMIT", "3 per minute")
    staff, expert = api_world["auth"]["staff"], api_world["auth"]["expert"]
    for _n in range(3):
        answer = client.get("/api/v1/me", headers=staff)
        assert answer.status_code == 200 and answer.headers["X-RateLimit-Limit"] == "3"
        assert "Retry-After" not in answer.headers  # "wait" is said only with a 429
    limited = client.get("/api/v1/countries", headers=staff)
    _error(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0
    assert client.get("/api/v1/me", headers=expert).status_code == 200  # another token has its own budget


def test_refused_credentials_are_limited_per_address_but_valid_tokens_go_on(app_ctx, client, api_world,
                                                                            monkeypatch):
    monkeypatch.setitem(app_ctx.config, "API_FAILURE_LIMIT", "2 per minute")
    for _n in range(2):
        _error(client.get("/api/v1/me", headers={"Authorization": "Bearer na_" + "B" * 43}), 401, "invalid_token")
    _error(client.get("/api/v1/me"), 429, "rate_limited")
    assert client.get("/api/v1/me", headers=api_world["auth"]["staff"]).status_code == 200
