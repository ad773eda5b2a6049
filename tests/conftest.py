"""Shared fixtures: one app per database backend (SQLite always, PostgreSQL when TEST_DATABASE_URL is set).

Each test run creates its own databases, builds the schema with the real migrations, and drops the
databases at the end. Tests share the session's app; after each test every table is emptied and the
rate limiter is reset, which is faster than a database per test and works with requests that commit.
"""

from __future__ import annotations

import contextvars
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@contextmanager
def temporary_database(backend: str, tmp_dir: Path) -> Iterator[str]:
    """Create an empty database of `backend` for this run and drop it afterwards; yields its URL."""
    if backend == "sqlite":
        path = tmp_dir / f"test-{uuid.uuid4().hex[:8]}.sqlite3"
        yield f"sqlite:///{path}"
        path.unlink(missing_ok=True)
        return
    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"na_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_app(database_url: str, instance_path: Path, **overrides):
    """An app in testing mode on `database_url` (no demo data, no schema: callers upgrade)."""
    os.environ["INSTANCE_PATH"] = str(instance_path)
    from app import create_app

    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": "localhost",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": 1,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, tmp_path_factory):
    """The application on a migrated, empty database of one backend."""
    from flask_migrate import upgrade

    from app.extensions import db

    tmp = tmp_path_factory.mktemp(f"app-{request.param}")
    with temporary_database(request.param, tmp) as url:
        application = make_app(url, tmp / "instance")
        application.config["BACKEND"] = request.param
        application.test_client_class = IsolatedClient
        with application.app_context():
            upgrade()
        yield application
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app_ctx(app):
    """An application context whose tables are emptied after the test."""
    from app.extensions import db, limiter

    with app.app_context():
        yield app
        db.session.rollback()
        db.session.remove()
        _empty_tables(db)
        limiter.reset()


def _empty_tables(db) -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in a fresh context, as in production.

    Without this, requests would share the test's application context (and so `g`, the cached
    locale, the signed-in user and the database session) with the test and with each other.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app_ctx):
    """A test client of the app (tables emptied after the test)."""
    app_ctx.test_client_class = IsolatedClient
    return app_ctx.test_client()


#: Request headers asking for each interface language.
EN = {"Accept-Language": "en"}
RU = {"Accept-Language": "ru"}


@pytest.fixture
def staff_client(client, make_user):
    """The test client, signed in as staff (no saved language: Accept-Language decides)."""
    sign_in(client, make_user("staff").email)
    return client


@pytest.fixture
def db_session(app_ctx):
    """The SQLAlchemy session inside the app context."""
    from app.extensions import db

    return db.session


@pytest.fixture
def make_user(app_ctx):
    """Factory: make_user(role="staff", email=None, password="correct horse battery", countries=())."""
    from app.auth import services
    from app.extensions import db

    counter = iter(range(1, 10_000))

    def factory(role: str = "staff", email: str | None = None, password: str = "correct horse battery",
                countries=(), **kwargs):
        email = email or f"{role}{next(counter)}@example.org"
        user = services.create_user(email, role, password=password, country_codes=countries, **kwargs)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def make_country(app_ctx):
    """Factory: make_country("KZ", en="Kazakhstan", ru="Казахстан")."""
    from app.directory.models import Country
    from app.extensions import db

    def factory(code: str, **names):
        country = Country(code=code, names=names or {"en": code})
        db.session.add(country)
        db.session.commit()
        return country

    return factory


def sign_in(client, email: str, password: str = "correct horse battery", follow: bool = False):
    """Post the sign-in form with a valid CSRF token."""
    page = client.get("/sign-in")
    token = extract_csrf(page.get_data(as_text=True))
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token},
                       follow_redirects=follow)


def extract_csrf(html: str) -> str:
    """The CSRF token embedded in a page."""
    import re

    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def make_version(app_ctx):
    """Factory: make_version(path=tests/data/small_questionnaire.yaml) stores the definition and returns the version."""
    from app.extensions import db
    from app.questionnaires.loader import load_file
    from app.questionnaires.services import get_version, store_definition

    def factory(path: Path | str = ROOT / "tests" / "data" / "small_questionnaire.yaml"):
        result = load_file(path)
        assert result.definition is not None, result.problems
        outcome = store_definition(result.definition, source=str(path))
        db.session.commit()
        return get_version(outcome.slug, outcome.number)

    return factory


@pytest.fixture
def make_agency(app_ctx):
    """Factory: make_agency("KZ", "MVD", kind="interior", en=..., ru=...) (country None: a regional body)."""
    from sqlalchemy import select

    from app.directory.models import Agency, Country
    from app.extensions import db

    def factory(country_code: str | None, acronym: str, kind: str = "interior", **names):
        country = None
        if country_code:
            country = db.session.scalar(select(Country).where(Country.code == country_code))
            if country is None:
                country = Country(code=country_code, names={"en": country_code})
                db.session.add(country)
        agency = Agency(country=country, acronym=acronym, kind=kind, names=names or {"en": f"Agency {acronym}"})
        db.session.add(agency)
        db.session.commit()
        return agency

    return factory


@pytest.fixture
def make_contact(app_ctx):
    """Factory: make_contact(agency, email=None, name="Contact", locale="ru", **fields)."""
    from app.directory.models import Contact
    from app.extensions import db

    counter = iter(range(1, 10_000))

    def factory(agency, email: str | None = None, name: str = "Contact", locale: str = "ru", **fields):
        contact = Contact(agency=agency, email=email or f"contact{next(counter)}@example.org", name=name,
                          locale=locale, **fields)
        db.session.add(contact)
        db.session.commit()
        return contact

    return factory


def post_multipart(client, url: str, form: dict):
    """POST a multipart form encoded in memory (the test client spools large bodies to a temporary file it
    never closes, which our warnings-as-errors setting reports). File fields are (bytes, filename) pairs."""
    import io

    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    fields = {k: FileStorage(io.BytesIO(v[0]), filename=v[1]) if isinstance(v, tuple) else v for k, v in form.items()}
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body, content_type=f'multipart/form-data; boundary="{boundary}"')


def add_translations(monkeypatch, lang: str, entries: dict) -> None:
    """Serve `entries` ({msgid or (context, msgid): msgstr}) in `lang` before the real catalogue."""
    import io

    import flask_babel
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.support import Translations

    catalog = Catalog(locale=lang)
    for key, translation in entries.items():
        context, msgid = key if isinstance(key, tuple) else (None, key)
        catalog.add(msgid, translation, context=context)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    original = flask_babel.Domain.get_translations

    def get_translations(self):
        real = original(self)
        locale = flask_babel.get_locale()
        if locale is None or locale.language != lang:
            return real
        added = Translations(io.BytesIO(buffer.getvalue()))
        added.add_fallback(real)
        return added

    monkeypatch.setattr(flask_babel.Domain, "get_translations", get_translations)


def form_as_browser_sends(html: str, form_id: str | None = None) -> dict[str, list[str]]:
    """The fields of a page's form as a browser submits them untouched: inputs with their value (checkboxes
    and radios only when checked), textareas with their text (the newline after the opening tag dropped, as
    HTML parsing does), each select with its selected options, or its first option when none is selected and
    it is a single select (a multiple select then sends nothing); disabled controls send nothing. No submit
    button's value is included (add the pressed one). `form_id` picks a form by id, else
    the first form of the page's content (not the language menu nor "Sign out"). {name: [values]}, as the test
    client posts it."""
    from html.parser import HTMLParser

    class Fields(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.forms: list[tuple[str, list]] = []
            self.current: list | None = None
            self.select: list | None = None  # [name, first option value, selected values, multiple]
            self.textarea: list | None = None
            self.option: str | None = None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "form":
                self.current = []
                self.forms.append((a.get("id") or a.get("action") or "", self.current))
            elif self.current is None or "disabled" in a:
                return
            elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "file"):
                if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                    return
                self.current.append((a["name"], a.get("value", "on" if a.get("type") == "checkbox" else "")))
            elif tag == "select" and a.get("name"):
                self.select = [a["name"], None, [], "multiple" in a]
            elif tag == "option" and self.select is not None:
                value = a.get("value", "")
                if self.select[1] is None:
                    self.select[1] = value
                if "selected" in a:
                    self.select[2].append(value)
            elif tag == "textarea" and a.get("name"):
                self.textarea = [a["name"], ""]

        def handle_data(self, data):
            if self.textarea is not None:
                self.textarea[1] += data

        def handle_endtag(self, tag):
            if tag == "select" and self.select is not None and self.current is not None:
                name, first, selected, multiple = self.select
                if not selected and not multiple and first is not None:
                    selected = [first]
                self.current.extend((name, value) for value in (selected if multiple else selected[-1:]))
                self.select = None
            elif tag == "textarea" and self.textarea is not None and self.current is not None:
                text = self.textarea[1]
                text = text[2:] if text.startswith("\r\n") else text.removeprefix("\n")
                self.current.append((self.textarea[0], text))
                self.textarea = None
            elif tag == "form":
                self.current = None

    parser = Fields()
    parser.feed(html)
    for key, fields in parser.forms:
        if (form_id is None and not key.endswith(("/language", "/sign-out"))) or key == form_id:
            out: dict[str, list[str]] = {}
            for name, value in fields:
                out.setdefault(name, []).append(value)
            return out
    raise AssertionError(f"no form {form_id or ''} on the page")
