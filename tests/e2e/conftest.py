"""Browser fixtures: Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium for the whole run (tests are skipped when it is not installed)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing on CI: .ci/run must install chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    """A fresh page in its own context."""
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app on a migrated SQLite database with the demo data, for the browser tests."""
    from flask_migrate import upgrade

    from app.demo.seed import seed
    from app.extensions import db
    from tests.conftest import make_app

    tmp = tmp_path_factory.mktemp("live")
    application = make_app(f"sqlite:///{tmp}/live.sqlite3", tmp / "instance", SERVER_NAME=None)
    with application.app_context():
        upgrade()
        seed()
        db.session.commit()
    return application


@pytest.fixture(scope="session")
def live_server(live_app):
    """Serve the app on 127.0.0.1 with a free port in a background thread; yields the base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, _files_read_at_once(live_app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _files_read_at_once(app):
    """The app, with a file body (a static file) read and closed before werkzeug's development server sends it.

    That server closes a body only after draining the request, and a browser that drops the connection then
    (a context closed while the favicon loads) makes the drain raise first: the file stays open, and the
    ResourceWarning fails whichever test is running when it is collected. Other bodies are passed untouched.
    """
    from werkzeug.wsgi import FileWrapper

    def wrapped(environ, start_response):
        body = app(environ, start_response)
        if not isinstance(body, FileWrapper):
            return body
        try:
            return [b"".join(body)]
        finally:
            body.close()

    return wrapped


def browser_sign_in(page, base_url: str, email: str, password: str) -> None:
    """Sign in through the real sign-in form."""
    page.goto(f"{base_url}/sign-in")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit].primary")
    page.wait_for_load_state("networkidle")
