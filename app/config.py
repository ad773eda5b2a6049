"""Settings read from environment variables, with safe defaults, validated at start."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

import pytz
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: Values of SECRET_KEY that must never reach production.
INSECURE_SECRET_KEYS = {"", "dev", "change-me", "development-only-secret-key"}
DEV_SECRET_KEY = "development-only-secret-key"

#: APP_TITLE when it is not set; left at it, the title is shown translated into each language.
DEFAULT_APP_TITLE = "Needs Assessment"
#: Per-language titles: APP_TITLE_RU, APP_TITLE_EN, ... (the language code in capitals).
_APP_TITLE_OVERRIDE = re.compile(r"APP_TITLE_[A-Z]{2,3}")


@cache
def known_timezones() -> frozenset[str]:
    """The time zone names Flask-Babel can use: those of pytz's copy of the IANA database (the system's list
    also has names such as "localtime" and "Factory" that pytz refuses, which would break every page)."""
    return frozenset(pytz.all_timezones_set)


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message names the variable and how to fix it."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _number(env, key: str, default: int | float, *, kind=int, minimum: int | float | None = None):
    """The number in environment variable `key` (its default when unset or empty), or a ConfigError naming it."""
    raw = (env.get(key) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{key}={raw!r} is not {what}, e.g. {key}={default}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{key}={raw!r} must be at least {minimum}, e.g. {key}={default}")
    return value


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the configuration mapping from the environment plus explicit overrides (tests)."""
    env = os.environ
    overrides = overrides or {}
    sqlite_default = "sqlite:///" + str(Path(instance_path) / "needs-assessment.sqlite3")
    config = {
        "SECRET_KEY": env.get("SECRET_KEY", ""),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or sqlite_default,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": env.get("REDIS_URL", ""),
        "MAIL_SERVER": env.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": _number(env, "MAIL_PORT", 25, minimum=1),
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS")),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "needs-assessment@localhost"),
        "MAIL_USE_SSL": _bool(env.get("MAIL_USE_SSL")),
        "MAIL_REPLY_TO": env.get("MAIL_REPLY_TO", ""),
        "MAIL_TIMEOUT": _number(env, "MAIL_TIMEOUT", 10.0, kind=float, minimum=0.1),
        "MAIL_MAX_ATTEMPTS": _number(env, "MAIL_MAX_ATTEMPTS", 8, minimum=1),
        "MAIL_SEND_AFTER_REQUEST": _bool(env.get("MAIL_SEND_AFTER_REQUEST"), True) and not overrides.get("TESTING"),
        "DEFAULT_LOCALE": env.get("DEFAULT_LOCALE", "en"),
        "LOCALES": [x.strip() for x in env.get("LOCALES", "en,ru").split(",") if x.strip()],
        "APP_TITLE": env.get("APP_TITLE", "").strip() or DEFAULT_APP_TITLE,
        **{key: value.strip() for key, value in env.items() if _APP_TITLE_OVERRIDE.fullmatch(key) and value.strip()},
        "BABEL_TRANSLATION_DIRECTORIES": "translations",
        # Times are stored in UTC and shown in the browser's time zone (app.i18n.select_timezone); this one
        # serves e-mails, and browsers that keep no cookies.
        "BABEL_DEFAULT_TIMEZONE": env.get("TIMEZONE", "").strip() or "UTC",
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_HEADERS": ["X-CSRFToken", "X-CSRF-Token"],
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_FAILURE_LIMIT": env.get("LOGIN_FAILURE_LIMIT", "10 per 15 minutes"),
        # The largest file question accepts 50 MB (app.questionnaires.schema.FILE_SIZE_LIMIT_MB), plus the page.
        "MAX_CONTENT_LENGTH": 60 * 1024 * 1024,
        "TRUSTED_PROXIES": _number(env, "TRUSTED_PROXIES", 0, minimum=0),
        "BASE_URL": env.get("BASE_URL", "").rstrip("/"),
        "INVITATION_VALID_DAYS": _number(env, "INVITATION_VALID_DAYS", 60, minimum=1),
        "INVITATION_FAILURE_LIMIT": env.get("INVITATION_FAILURE_LIMIT", "20 per 15 minutes"),
        "DASHBOARD_REGIONAL_AVERAGE": _bool(env.get("DASHBOARD_REGIONAL_AVERAGE"), True),
        "DASHBOARD_AVERAGE_MIN_OTHERS": _number(env, "DASHBOARD_AVERAGE_MIN_OTHERS", 2, minimum=0),
        "API_RATE_LIMIT": env.get("API_RATE_LIMIT", "300 per minute"),
        "API_FAILURE_LIMIT": env.get("API_FAILURE_LIMIT", "30 per minute"),
    }
    config.update(overrides)
    config["RATELIMIT_STORAGE_URI"] = config.get("RATELIMIT_STORAGE_URI") or config["REDIS_URL"] or "memory://"
    testing = bool(config.get("TESTING"))
    debug = _bool(env.get("FLASK_DEBUG")) or bool(config.get("DEBUG"))
    production = not testing and not debug
    config["PRODUCTION"] = production
    config["SESSION_COOKIE_SECURE"] = config.get("SESSION_COOKIE_SECURE", production)
    config["REMEMBER_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"]
    if config["SECRET_KEY"] in INSECURE_SECRET_KEYS:
        if production:
            raise ConfigError(
                "SECRET_KEY is not set. Set it to a long random value before starting in production, e.g. "
                "export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
            )
        config["SECRET_KEY"] = DEV_SECRET_KEY
    _check_database_url(config["SQLALCHEMY_DATABASE_URI"])
    if production and not config["BASE_URL"]:
        # Links sent by e-mail (magic links) would otherwise be built from the Host header of whoever triggered
        # the e-mail: a forged Host would send agencies' personal links to another site.
        raise ConfigError(
            "BASE_URL is not set. Set it to the public address of the site before starting in production, e.g. "
            "export BASE_URL=https://assessment.example.org (it is used in the links sent by e-mail)"
        )
    _check_base_url(config["BASE_URL"])
    _check_redis_url(config["REDIS_URL"])
    _check_locales(config["LOCALES"])
    if config["BABEL_DEFAULT_TIMEZONE"] not in known_timezones():
        raise ConfigError(
            f"TIMEZONE={config['BABEL_DEFAULT_TIMEZONE']!r} is not a time zone name of the IANA database, such as "
            "UTC, Asia/Almaty or Europe/Brussels"
        )
    _check_mail_addresses(config)
    if config["DEFAULT_LOCALE"] not in config["LOCALES"]:
        raise ConfigError(
            f"DEFAULT_LOCALE={config['DEFAULT_LOCALE']!r} is not one of LOCALES={','.join(config['LOCALES'])}"
        )
    return config


def _check_mail_addresses(config: dict) -> None:
    """The sender and Reply-To of every e-mail: mistyped, each message would fail to send for a reason that reads
    like a wrong recipient, and be marked failed for good."""
    from app.mail.smtp import AddressError, header_address

    for key in ("MAIL_DEFAULT_SENDER", "MAIL_REPLY_TO"):
        value = config.get(key) or ""
        if not value and key == "MAIL_REPLY_TO":
            continue  # none: replies go to the sender
        try:
            header_address(value)
        except AddressError:
            raise ConfigError(f"{key}={value!r} is not an e-mail address, nor \"Name <address>\", e.g. "
                              f"{key}='Needs Assessment <assessment@example.org>'") from None


def _check_base_url(url: str) -> None:
    """BASE_URL begins every link sent by e-mail: without its scheme, mail programs show the link as plain text."""
    from urllib.parse import urlsplit

    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"BASE_URL={url!r} is not the site's public address with https:// (or http://) in front, "
                          "e.g. BASE_URL=https://assessment.example.org (it begins every link sent by e-mail)")


def _check_redis_url(url: str) -> None:
    """REDIS_URL is the rate limiter's store: any address of a kind it takes (redis, rediss, redis+unix,
    redis+sentinel, redis+cluster, valkey...), refused at start when it names none."""
    if not url:
        return
    from limits.storage import SCHEMES

    scheme, sep, rest = url.partition("://")
    if not sep or not rest.strip() or scheme not in SCHEMES or scheme.startswith("async+"):
        raise ConfigError(f"REDIS_URL={url!r} is not a Redis address, e.g. REDIS_URL=redis://127.0.0.1:6379/0")


def _check_locales(locales: list[str]) -> None:
    """Each language offered needs its catalogue: without one, pages said lang="kk" over English text, and a
    code that is no language at all (xx) gave every browser asking for it a server error."""
    folder = Path(__file__).resolve().parent / "translations"
    known = sorted(p.name for p in folder.iterdir() if (p / "LC_MESSAGES").is_dir()) if folder.is_dir() else []
    compiled = [code for code in known if (folder / code / "LC_MESSAGES" / "messages.mo").is_file()]
    missing = [code for code in locales if code not in known]
    if not locales or missing:
        raise ConfigError(f"LOCALES={','.join(locales)!r}: "
                          + (f"no translation catalogue for {', '.join(missing)}; " if missing else "")
                          + f"the languages this installation has are {','.join(known)}, e.g. LOCALES=en,ru")
    uncompiled = [code for code in locales if code not in compiled]
    if uncompiled:  # Babel reads the compiled .mo files: without them every page is English under lang="ru"
        raise ConfigError(f"LOCALES: the catalogue of {', '.join(uncompiled)} is not compiled: run "
                          "pybabel compile -d app/translations")


def _check_database_url(url: str) -> None:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"DATABASE_URL is not a valid database URL: {url!r}") from exc
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigError(
            f"DATABASE_URL must point to SQLite or PostgreSQL (postgresql+psycopg://...), got {url!r}"
        )


def app_title(locale: str | None = None) -> str:
    """The application's name in `locale` (default: the active language), for pages and e-mails.

    APP_TITLE_<LANG> (e.g. APP_TITLE_RU) when set; otherwise APP_TITLE, translated when it is left at its default
    (so a Russian page or e-mail says «Оценка потребностей»), shown as it is when it was changed.
    """
    from flask import current_app

    from app.i18n import _, force_locale, get_locale_code

    config = current_app.config
    locale = locale or get_locale_code()
    override = config.get(f"APP_TITLE_{locale.split('_')[0].upper()}")
    if override:
        return override
    title = config.get("APP_TITLE") or DEFAULT_APP_TITLE
    if title != DEFAULT_APP_TITLE:
        return title
    with force_locale(locale):
        # i18n: the application's name, in the header and footer of every page, the browser tab and the e-mails
        return _("Needs Assessment")
