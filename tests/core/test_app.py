"""The application shell: health, headers, languages, error pages, configuration errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT, extract_csrf, sign_in


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "schema": "ok"}


def test_the_icon_is_served_where_browsers_look_for_it(client):
    """A browser asks for /favicon.ico on pages that name no icon (JSON answers): it was a 404, an error in the
    console."""
    response = client.get("/favicon.ico")
    try:
        assert response.status_code == 200 and response.content_type.startswith("image/svg+xml")
        assert b"<svg" in response.data
    finally:
        response.close()


def test_static_addresses_change_with_their_files(client, tmp_path):
    """The README's proxy keeps /static/ for 30 days: with fixed addresses, an upgrade's new pages ran for a
    month against the old scripts. Each address carries the start of its file's SHA-256 (the same on every
    host), the versioned address is served, and a changed file gets another address."""
    import hashlib
    import re

    page = client.get("/auth/sign-in").get_data(as_text=True)
    found = dict(re.findall(r'"/static/([\w./-]+)\?v=([0-9a-f]{12})"', page))
    assert {"css/app.css", "js/page.js"} <= found.keys(), page
    for name, version in found.items():
        assert version == hashlib.sha256((ROOT / "app" / "static" / name).read_bytes()).hexdigest()[:12], name
        served = client.get(f"/static/{name}?v={version}")
        served.close()
        assert served.status_code == 200
    assert not re.search(r'"/static/[\w./-]+"', page)  # none left without its version
    from flask import url_for

    app = client.application
    kept, app.static_folder = app.static_folder, str(tmp_path)
    try:
        (tmp_path / "x.js").write_text("one")
        with app.test_request_context():
            first = url_for("static", filename="x.js")
            (tmp_path / "x.js").write_text("two, longer")
            assert url_for("static", filename="x.js") != first
            assert url_for("static", filename="missing.js") == "/static/missing.js"
    finally:
        app.static_folder = kept


def test_healthz_reports_a_broken_database(tmp_path):
    from tests.conftest import make_app

    broken = make_app(f"sqlite:///{tmp_path}/missing-dir/x/db.sqlite3", tmp_path / "inst")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "error"


def test_healthz_reports_a_schema_the_code_does_not_expect_and_an_unreachable_redis(tmp_path):
    """A release deployed without `flask db upgrade`, or Redis down: /healthz said "ok" while every sign-in
    failed with a server error, so the load balancer kept sending people there."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app.extensions import db
    from tests.conftest import make_app

    app = make_app(f"sqlite:///{tmp_path / 'h.sqlite3'}", tmp_path / "inst")
    with app.app_context():
        upgrade()
        assert app.test_client().get("/healthz").get_json()["schema"] == "ok"
        db.session.execute(text("UPDATE alembic_version SET version_num = 'aecdbd476d26'"))  # an older release's
        db.session.commit()
        response = app.test_client().get("/healthz")
        body = response.get_json()
        assert response.status_code == 503 and body["status"] == "error" and body["schema"] == "outdated"
        assert "the database is at aecdbd476d26" in body["detail"] and "run flask db upgrade" in body["detail"]
        # migrated by a newer release (rolling deployment, or this code rolled back): still serving, and said
        db.session.execute(text("UPDATE alembic_version SET version_num = 'f00dfeedbeef'"))
        db.session.commit()
        newer = app.test_client().get("/healthz")
        assert newer.status_code == 200 and newer.get_json()["schema"] == "newer"
        db.session.remove()
        db.engine.dispose()
    unreachable = make_app(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path / "inst",
                           REDIS_URL="redis://127.0.0.1:1/0", RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    with unreachable.app_context():
        upgrade()
        response = unreachable.test_client().get("/healthz")
        assert response.status_code == 503 and response.get_json()["rate_limit_store"] == "error"
        db.session.remove()
        db.engine.dispose()


def test_security_headers_on_every_response(client):
    for path in ("/sign-in", "/healthz", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
        assert "unsafe-inline" not in script_src
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"


def test_sign_in_page_follows_accept_language(client):
    ru = client.get("/sign-in", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).get_data(as_text=True)
    assert '<html lang="ru">' in ru
    assert "Вход" in ru and "Пароль" in ru
    en = client.get("/sign-in", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in en
    assert "Sign in" in en and "Password" in en


def test_language_menu_choice_beats_accept_language(client):
    page = client.get("/sign-in", headers={"Accept-Language": "en"})
    token = extract_csrf(page.get_data(as_text=True))
    response = client.post("/language", data={"locale": "ru", "next": "/sign-in", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")
    again = client.get("/sign-in", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="ru">' in again


def test_saved_preference_beats_session_choice(client, make_user):
    user = make_user("staff", locale="ru")
    sign_in(client, user.email)
    page = client.get("/staff", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="ru">' in page and "Обзор" in page


def test_language_switch_refuses_foreign_redirects(client):
    token = extract_csrf(client.get("/sign-in").get_data(as_text=True))
    response = client.post("/language", data={"locale": "en", "next": "https://evil.example/", "csrf_token": token})
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_post_without_csrf_token_is_refused_with_an_explanation(client, make_user):
    user = make_user("staff")
    sign_in(client, user.email)
    response = client.post("/language", data={"locale": "ru"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "security token" in body and "You are still signed in" in body
    # still signed in
    assert client.get("/staff").status_code == 200


def test_a_post_after_the_session_ended_does_not_say_you_are_still_signed_in(client, make_user):
    """A page left open after signing out (or after the session expired) has a token of the old session."""
    user = make_user("staff")
    sign_in(client, user.email)
    token = extract_csrf(client.get("/staff").get_data(as_text=True))
    client.post("/sign-out", data={"csrf_token": token})
    client.delete_cookie(client.application.config["SESSION_COOKIE_NAME"], domain="localhost")  # session expired
    body = client.post("/language", data={"locale": "ru", "csrf_token": token}).get_data(as_text=True)
    assert "security token" in body and "You are not signed in" in body and "still signed in" not in body


def test_json_post_with_csrf_header_is_accepted(client, make_user):
    user = make_user("staff")
    sign_in(client, user.email)
    token = extract_csrf(client.get("/staff").get_data(as_text=True))
    refused = client.post("/language", json={}, headers={"Accept": "application/json"})
    assert refused.status_code == 400 and refused.get_json()["error"]["status"] == 400
    accepted = client.post("/language", data={"locale": "en"}, headers={"X-CSRFToken": token})
    assert accepted.status_code == 302


def test_error_pages_in_both_languages(client, make_user):
    assert "Page not found" in client.get("/nowhere", headers={"Accept-Language": "en"}).get_data(as_text=True)
    ru = client.get("/nowhere", headers={"Accept-Language": "ru"})
    assert ru.status_code == 404 and "Страница не найдена" in ru.get_data(as_text=True)
    user = make_user("respondent")
    sign_in(client, user.email)
    forbidden = client.get("/admin/users")
    assert forbidden.status_code == 403 and "permission" in forbidden.get_data(as_text=True)


def test_server_error_page_is_shown_and_logged(tmp_path, caplog):
    from tests.conftest import make_app

    app = make_app(f"sqlite:///{tmp_path}/db.sqlite3", tmp_path / "inst")

    @app.route("/boom-test")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/boom-test", headers={"Accept-Language": "ru"})
    assert response.status_code == 500
    assert "Что-то пошло не так" in response.get_data(as_text=True)
    assert any("unhandled error" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_database_out_of_reach_gives_the_apps_own_page_in_the_visitors_language(tmp_path, caplog):
    """With the database gone, a signed-in person got the web server's bare English "Internal Server Error" (and
    autosave an HTML page instead of JSON): the error page itself looked the person up in the database, and failed
    again. The page now says to try again later, in the browser's language, and JSON asks get JSON."""
    from flask_migrate import upgrade

    from app.auth import services as auth_services
    from app.extensions import db
    from tests.conftest import make_app

    database = tmp_path / "db.sqlite3"
    app = make_app(f"sqlite:///{database}", tmp_path / "inst")
    with app.app_context():
        upgrade()
        auth_services.create_user("staff@example.org", "staff", password="a-long-password-2026")
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    assert sign_in(client, "staff@example.org", "a-long-password-2026").status_code == 302
    assert client.get("/staff").status_code == 200
    with app.app_context():
        db.engine.dispose()
    database.rename(tmp_path / "gone.sqlite3")  # what SQLite then opens is an empty file: no tables
    page = client.get("/staff", headers={"Accept-Language": "ru"})
    html = page.get_data(as_text=True)
    assert page.status_code == 503 and "Сервис недоступен" in html and "попробуйте снова" in html
    assert '<html lang="ru">' in html
    background = client.get("/staff", headers={"Accept": "application/json"})
    assert background.status_code == 503 and background.is_json
    assert background.get_json()["error"]["title"] == "Service unavailable"
    with app.app_context():
        db.engine.dispose()


def test_request_log_has_no_personal_data(client, make_user, capsys, caplog):
    import logging

    user = make_user("staff", email="secret.person@example.org")
    with caplog.at_level(logging.INFO, logger="app.request"):
        logger = logging.getLogger("app.request")
        logger.propagate = True
        try:
            sign_in(client, user.email, "correct horse battery")
        finally:
            logger.propagate = False
    lines = [r.getMessage() for r in caplog.records if r.name == "app.request"]
    assert any('"route": "/sign-in"' in line for line in lines)
    joined = "\n".join(lines)
    assert "secret.person" not in joined and "correct horse" not in joined and "127.0.0.1" not in joined


def _run_flask(args, env_extra, tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FLASK_DEBUG", "DATABASE_URL")}
    env.update({"INSTANCE_PATH": str(tmp_path)}, **env_extra)
    return subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_production_refuses_to_start_without_secret_key(tmp_path):
    result = _run_flask(["users", "list"], {}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr and "export SECRET_KEY=" in result.stderr


def test_bad_database_url_stops_with_one_line_naming_the_variable(tmp_path):
    result = _run_flask(["users", "list"], {"SECRET_KEY": "s" * 40, "DATABASE_URL": "mysql-ish:/nonsense"}, tmp_path)
    assert result.returncode != 0
    error_lines = [line for line in result.stderr.splitlines() if "DATABASE_URL" in line]
    assert len(error_lines) == 1 and "Traceback" not in result.stderr


def test_an_id_past_the_databases_integers_is_a_404_on_every_route(app_ctx, make_user):
    """Every URL with an id: a number no INTEGER column holds names nothing (404) instead of failing in the
    database (500: SQLite's OverflowError, PostgreSQL's "integer out of range")."""
    import re

    client = app_ctx.test_client()
    sign_in(client, make_user("admin").email)
    checked = []
    for rule in app_ctx.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        path = re.sub(r"<int:\w+>", "99999999999999999999", rule.rule)
        path = re.sub(r"<[^>]+>", "KZ", path)  # a country code, a language...
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"OPTIONS", "HEAD"})[0]
        response = client.open(path, method=method)
        assert response.status_code == 404, (rule.rule, path, response.status_code)
        checked.append(rule.rule)
    assert len(checked) > 30 and "/review/responses/<int:response_id>" in checked


@pytest.mark.parametrize("args", [
    ["reports", "raw", "99999999999", "-o", "x.xlsx"], ["reports", "country", "99999999999", "KZ"],
    ["reports", "region", "99999999999"], ["scores", "rebuild", "--campaign", "99999999999"],
    ["campaigns", "close", "99999999999"], ["campaigns", "invite", "99999999999"],
    ["campaigns", "remind", "99999999999"], ["responses", "workbook", "99999999999"],
    ["campaigns", "create", "X", "--questionnaire", "q", "--version", "99999999999"],
])
def test_an_id_no_record_can_have_is_a_usage_error_on_the_command_line(app_ctx, args):
    """Ids above 2,147,483,647 fit no INTEGER column: on PostgreSQL the commands printed "integer out of range"
    in a traceback, where the web answers 404."""
    result = app_ctx.test_cli_runner().invoke(args=args)
    assert result.exit_code == 2, result.output
    assert "99999999999 is not in the range x<=2147483647" in result.output
