"""The OpenAPI document: generated from the code, loadable by schemathesis, complete (every route under /api/v1
is in it), and rendered as the reference page without scripts; then schemathesis fuzzes every operation with a
staff and an expert token and must find no failure."""

from __future__ import annotations

import contextvars
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

#: Examples per operation and generation mode: enough to exercise every parameter, small enough to keep the
#: whole run at a few seconds per database backend.
MAX_EXAMPLES = 8


def _load(app):
    # Each request runs in a fresh context, as IsolatedClient does: Flask would otherwise reuse the test's
    # application context (its `g` and database session) for the app's requests.
    return contextvars.Context().run(schemathesis.openapi.from_wsgi, "/api/v1/openapi.json", app)


def _path(rule) -> str:
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule.rule)


def test_the_document_is_public_and_valid(app_ctx, client):
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200 and answer.content_type == "application/json"
    document = answer.get_json()
    assert document["openapi"].startswith("3.") and document["info"]["title"] == "Needs Assessment API"
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "A personal API token (see the account page)"}
    schema = _load(app_ctx)
    labels = {result.ok().label for result in schema.get_all_operations()}
    documented = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    assert labels == documented - {"GET /api/v1/openapi.json"}  # schemathesis leaves out the document itself
    # The definition format comes from the questionnaire schema itself.
    assert "Definition" in document["components"]["schemas"]
    assert document["paths"]["/api/v1/responses/{response_id}"]["get"]["parameters"][0]["schema"] == {
        "type": "integer", "format": "int32", "minimum": 1, "maximum": 2147483647}


def test_every_api_route_is_documented(app_ctx, client):
    document = client.get("/api/v1/openapi.json").get_json()
    routes = {(_path(rule), method.lower()) for rule in app_ctx.url_map.iter_rules()
              if rule.rule.startswith("/api/") for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routes == documented
    assert len(routes) == 16
    for (path, method) in documented:
        operation = document["paths"][path][method]
        assert operation["summary"] and operation["tags"], path
        if operation.get("security") != []:  # every data operation documents its errors in our shape
            for status in ("400", "401", "403", "404", "429", "500"):
                assert operation["responses"][status]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorResponse"}, (path, status)


def test_the_reference_page(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    assert "<script" not in html and "https://" not in html  # no CDN, nothing for the CSP to refuse
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    document = client.get("/api/v1/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method in item:
            assert f"<code>{method.upper()} {path}</code>" in html
    for name in ("CampaignPage", "ErrorResponse", "Definition", "Question"):
        assert f'id="schema-{name}"' in html
    assert "<strong>Authentication.</strong>" in html and "<code>Authorization: Bearer &lt;token&gt;</code>" in html


def test_reference_of_a_tiny_document():
    from app.api.reference import reference, type_label

    document = {
        "openapi": "3.1.0", "info": {"title": "T", "version": "1", "description": "A **b** `<c>`\n\nSecond"},
        "tags": [{"name": "Things"}],
        "paths": {"/things/{id}": {"get": {
            "summary": "One thing", "tags": ["Things"], "security": [],
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}],
            "responses": {"200": {"description": "OK", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Thing"}}}}}}}},
        "components": {"schemas": {"Thing": {"properties": {"tags": {"type": "array", "items": {"type": "string"}}},
                                             "required": ["tags"]}}},
    }
    ref = reference(document)
    assert [str(p) for p in ref.description] == ["A <strong>b</strong> <code>&lt;c&gt;</code>", "Second"]
    (section,) = ref.sections
    (operation,) = section.operations
    assert operation.public and operation.anchor == "op-get-things-id"
    assert operation.parameters[0].constraints == "≥ 1" and operation.responses[0].schema == "Thing"
    assert ref.schemas[0].fields[0].type == "list of string" and ref.schemas[0].fields[0].required
    assert type_label({"anyOf": [{"$ref": "#/x/Y"}, {"type": "null"}]}) == ("Y or null", "Y")


@pytest.mark.parametrize("who", ["staff", "expert"])
def test_schemathesis_finds_no_failure(app_ctx, api_world, monkeypatch, who):
    # Hundreds of requests in a few seconds: lift the rate limits for this test only.
    monkeypatch.setitem(app_ctx.config, "API_RATE_LIMIT", "100000 per minute")
    monkeypatch.setitem(app_ctx.config, "API_FAILURE_LIMIT", "100000 per minute")
    schema = _load(app_ctx)
    auth = api_world["auth"][who]
    # Besides generated values, use ids that exist, so the 200 answers of single objects are checked too.
    known = {"campaign_id": api_world["campaign"], "agency_id": api_world["agencies"]["MVD"],
             "response_id": api_world["responses"]["MVD"], "code": "KZ", "slug": api_world["slug"],
             "number": api_world["number"]}
    failures, statuses = [], set()
    for result in schema.get_all_operations():
        operation = result.ok()
        names = [p.name for p in operation.path_parameters]
        strategies = [operation.as_strategy(), operation.as_strategy(schemathesis.GenerationMode.NEGATIVE)]
        if names:
            strategies.append(operation.as_strategy(path_parameters={n: known[n] for n in names}))

        @given(case=st.one_of(strategies))
        @settings(max_examples=MAX_EXAMPLES * len(strategies), deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            response = contextvars.Context().run(case.call_and_validate, headers=auth)
            statuses.add((case.operation.label, response.status_code))

        try:
            check()
        except Exception as exc:  # collect every operation's failures before failing
            failures.append(f"{operation.label}: {exc}")
    assert failures == []
    # The run reached the data, not only the refusals.
    ok = {label for label, status in statuses if status == 200}
    assert {"GET /api/v1/responses/{response_id}", "GET /api/v1/campaigns/{campaign_id}/scores",
            "GET /api/v1/questionnaires/{slug}/versions/{number}", "GET /api/v1/countries/{code}"} <= ok
    assert any(status == 400 for _label, status in statuses)
