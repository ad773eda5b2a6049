"""Session cookie flags, production settings and the shared rate-limit store."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import make_app, sign_in


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    response = sign_in(client, make_user("staff").email)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_cookies_are_secure_in_production(tmp_path, monkeypatch):
    from app.config import load_config

    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("BASE_URL", "https://assessment.example.org")
    config = load_config(str(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] is True and config["REMEMBER_COOKIE_SECURE"] is True
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert load_config(str(tmp_path))["SESSION_COOKIE_SECURE"] is False


def test_redis_url_becomes_the_rate_limit_store(tmp_path, monkeypatch):
    from app.config import load_config

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert load_config(str(tmp_path))["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_answers(), reason="no Redis on 127.0.0.1:6379")
def test_failed_sign_ins_are_counted_in_redis_across_app_instances(tmp_path):
    """Two app instances sharing Redis share the failure count, as several gunicorn workers would."""
    import uuid

    from flask_migrate import upgrade

    from app.auth import services
    from app.extensions import db, limiter

    url = f"sqlite:///{tmp_path}/shared.sqlite3"
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    apps = [make_app(url, tmp_path / f"i{n}", RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0",
                     RATELIMIT_KEY_PREFIX=prefix) for n in range(2)]
    with apps[0].app_context():
        upgrade()
        services.create_user("redis@example.org", "staff", password="correct horse battery")
        db.session.commit()
    try:
        statuses = []
        for attempt in range(11):
            app = apps[attempt % 2]
            statuses.append(sign_in(app.test_client(), "redis@example.org", "wrong password").status_code)
        assert statuses[:10] == [401] * 10 and statuses[10] == 429
    finally:
        with apps[0].app_context():
            limiter.reset()
        for app in apps:
            with app.app_context():
                db.engine.dispose()


def test_dates_and_numbers_follow_the_locale(app_ctx):
    from datetime import date

    from flask_babel import force_locale

    from app.i18n import format_date, format_decimal

    with app_ctx.test_request_context("/"):
        with force_locale("ru"):
            assert format_date(date(2026, 11, 22), "long").replace("\u202f", " ") == "22 ноября 2026 г."
            assert format_decimal(12345.5) == "12\xa0345,5"
        with force_locale("en"):
            assert format_date(date(2026, 11, 22), "long") == "November 22, 2026"
            assert format_decimal(12345.5) == "12,345.5"


def test_production_needs_the_public_address_for_links(tmp_path, monkeypatch):
    """Without BASE_URL, magic links would be built from the Host header of whoever triggered the e-mail (a forged
    Host would send agencies' links to another site): production refuses to start without it."""
    from app.config import ConfigError, load_config

    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.delenv("BASE_URL", raising=False)
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    with pytest.raises(ConfigError, match="BASE_URL is not set"):
        load_config(str(tmp_path))


@pytest.mark.parametrize(("key", "value"), [("MAIL_DEFAULT_SENDER", "Needs Assessment"),
                                            ("MAIL_REPLY_TO", "team at example.org")])
def test_a_mistyped_sender_or_reply_to_stops_the_app_at_start(tmp_path, monkeypatch, key, value):
    """Mistyped, every queued e-mail was marked failed for good at its first attempt, with an error that read
    like a wrong recipient address, while `flask outbox send` exited 0."""
    from app.config import ConfigError, load_config

    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=f"{key}='{value}' is not an e-mail address"):
        load_config(str(tmp_path))
    monkeypatch.setenv(key, "Needs Assessment <assessment@пример.рф>")
    assert load_config(str(tmp_path))[key] == "Needs Assessment <assessment@пример.рф>"


@pytest.mark.parametrize(("key", "value", "message"), [
    ("MAIL_PORT", "abc", "MAIL_PORT='abc' is not a whole number, e.g. MAIL_PORT=25"),
    ("TRUSTED_PROXIES", "one", "TRUSTED_PROXIES='one' is not a whole number, e.g. TRUSTED_PROXIES=0"),
    ("INVITATION_VALID_DAYS", "6o", "INVITATION_VALID_DAYS='6o' is not a whole number"),
    ("INVITATION_VALID_DAYS", "0", "INVITATION_VALID_DAYS='0' must be at least 1"),
    ("MAIL_TIMEOUT", "x", "MAIL_TIMEOUT='x' is not a number, e.g. MAIL_TIMEOUT=10.0"),
    ("DASHBOARD_AVERAGE_MIN_OTHERS", "two", "DASHBOARD_AVERAGE_MIN_OTHERS='two' is not a whole number"),
    ("BASE_URL", "assessment.example.org", "BASE_URL='assessment.example.org' is not the site's public address"),
    ("BASE_URL", "ftp://assessment.example.org", "with https:// (or http://) in front"),
    ("REDIS_URL", "rediss//oops", "REDIS_URL='rediss//oops' is not a Redis address"),
    ("REDIS_URL", "unix:///run/redis.sock", "is not a Redis address"),  # the limiter takes redis+unix:// only
    ("LOCALES", "en,xx", "LOCALES='en,xx': no translation catalogue for xx; the languages this installation has "
                         "are en,ru"),
    ("LOCALES", "en,kk", "no translation catalogue for kk"),
])
def test_a_mistyped_setting_stops_the_app_at_start_naming_it(tmp_path, monkeypatch, key, value, message):
    """Numbers came out as a bare ValueError naming no variable; a BASE_URL without https:// made every e-mailed
    link plain text; LOCALES=en,xx gave every browser asking for xx a server error, and en,kk served English
    pages marked Kazakh; a mistyped REDIS_URL failed deep inside the rate limiter."""
    from app.config import ConfigError, load_config

    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        load_config(str(tmp_path))
    assert message in str(info.value)


def test_settings_written_well_are_taken(tmp_path, monkeypatch):
    from app.config import load_config

    monkeypatch.setenv("FLASK_DEBUG", "1")
    for key, value in {"MAIL_PORT": " 587 ", "MAIL_TIMEOUT": "2.5", "TRUSTED_PROXIES": "0", "LOCALES": "ru,en",
                       "BASE_URL": "https://assessment.example.org/",
                       "REDIS_URL": "redis+sentinel://127.0.0.1:26379/mymaster"}.items():  # any store the limiter takes
        monkeypatch.setenv(key, value)
    config = load_config(str(tmp_path))
    assert (config["MAIL_PORT"], config["MAIL_TIMEOUT"], config["LOCALES"], config["BASE_URL"]) == \
        (587, 2.5, ["ru", "en"], "https://assessment.example.org")


def test_the_wsgi_entry_point_reads_the_env_file_as_the_flask_command_does(tmp_path):
    """Settings written only in `.env` reached `flask db upgrade` (the flask command reads the file) but not
    `gunicorn wsgi:app`: it refused to start without SECRET_KEY, or, given that, served an empty SQLite database
    instead of the PostgreSQL one just migrated. A variable set in the environment still wins."""
    import shutil
    import subprocess
    import sys

    from tests.conftest import ROOT

    shutil.copy(ROOT / "wsgi.py", tmp_path / "wsgi.py")
    (tmp_path / ".env").write_text(f"SECRET_KEY=a-long-random-value-from-the-env-file-0123456789\n"
                                   f"BASE_URL=https://assessment.example.org\n"
                                   f"DATABASE_URL=sqlite:///{tmp_path / 'from-env-file.sqlite3'}\n"
                                   f"TIMEZONE=Asia/Almaty\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "INSTANCE_PATH": str(tmp_path / "instance"),
           "TIMEZONE": "Asia/Tashkent"}
    shown = subprocess.run(
        [sys.executable, "-c", "from wsgi import app; c = app.config; "
                               "print(c['SQLALCHEMY_DATABASE_URI'], c['BASE_URL'], c['BABEL_DEFAULT_TIMEZONE'])"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == [f"sqlite:///{tmp_path / 'from-env-file.sqlite3'}",
                                    "https://assessment.example.org", "Asia/Tashkent"]
