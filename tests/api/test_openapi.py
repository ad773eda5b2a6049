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

from tests.conftest import RU

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
    from app.api.reference import constraints, reference, type_label

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
    # Defaults as JSON writes them, not as Python does ("false", not "False").
    assert [constraints({"default": value}) for value in (False, 25, "en")] == ["default false", "default 25",
                                                                              'default "en"']
    # Through a translation: the document's texts and the types' words, JSON's own type names left as they are.
    words = {"list of %(type)s": "список %(type)s", "or": "или", "path": "путь", "One thing": "Одна вещь",
             "Things": "Вещи", "Second": "Второй", "OK": "Успешно"}
    translated = reference(document, lambda text: words.get(text, text))
    assert translated.sections[0].name == "Вещи" and translated.sections[0].operations[0].summary == "Одна вещь"
    assert translated.sections[0].operations[0].parameters[0].location == "путь"
    assert translated.sections[0].operations[0].responses[0].description == "Успешно"
    assert translated.schemas[0].fields[0].type == "список string" and str(translated.description[1]) == "Второй"
    assert type_label({"anyOf": [{"$ref": "#/x/Y"}, {"type": "null"}]}, words.get) == ("Y или null", "Y")


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


def test_the_reference_texts_are_the_documents(app_ctx):
    """Every text the reference page shows from the document is listed for the message catalogues: a changed
    docstring or field description must be listed again (and translated) before it reaches the page."""
    from app.api.reference import texts
    from app.api.reference_texts import SECTIONS, TEXTS
    from app.api.spec import spec

    found, sections = texts(spec.spec)
    assert (found, sections) == (list(TEXTS), list(SECTIONS)), \
        "the API document changed: run `python -m app.api.reference_texts`, then `make translations`"
    assert "List campaigns" in found and "Campaigns" in sections and "list of %(type)s" in found


def test_the_reference_page_in_russian(client):
    """With Russian as the interface language, the page's texts from the document are Russian too: the section
    headings, every summary and description, the types' words and where each parameter goes."""
    from flask_babel import force_locale, gettext, pgettext

    from app.api.reference import inline_markdown
    from app.api.reference_texts import SECTION, SECTIONS, TEXTS

    html = client.get("/api/v1/docs", headers=RU).get_data(as_text=True)
    assert "<h2>Заполненные анкеты</h2>" in html and "<h2>Опросы</h2>" in html
    assert "<strong>Аутентификация.</strong>" in html and "<code>Authorization: Bearer &lt;token&gt;</code>" in html
    assert '<a href="#schema-Campaign">список Campaign</a>' in html and "одно из: draft, open, closed" in html
    assert "(длина ≤ 80, шаблон ^[a-z][a-z0-9_]*$)" in html and " или null" in html
    assert "<td>строка запроса</td>" in html and "<td>путь</td>" in html
    with force_locale("ru"):
        pairs = [(text, gettext(text)) for text in TEXTS] + [(name, pgettext(SECTION, name)) for name in SECTIONS]
    for english, russian in pairs:
        assert russian != english or english.startswith("not_found, "), english  # codes stay codes
        if len(english) > 20:  # a description or a summary, shown whole
            assert str(inline_markdown(russian)) in html, russian
            if russian != english:
                assert str(inline_markdown(english)) not in html, english
