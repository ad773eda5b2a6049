"""Template globals and filters shared by every page."""

from __future__ import annotations

import hashlib
import os

from flask import Flask

from app.i18n import (
    LOCALE_NAMES,
    available_locales,
    format_date,
    format_decimal,
    format_moment,
    get_locale_code,
    language_label,
    zone_guessed,
)


def ml(text, locale: str | None = None, default: str | None = None) -> str:
    """Pick a language from a multilingual mapping {"en": ..., "ru": ...} (or pass a plain string)."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    locale = locale or get_locale_code()
    return text.get(locale) or (default and text.get(default)) or next(iter(text.values()), "")


def static_versions(app: Flask):
    """A `url_for('static', ...)` default that adds `v=`, the first characters of the file's SHA-256, to every
    static address (/static/js/page.js?v=3f2a9c0d1e4b): a file changed by an upgrade has a new address, so a
    proxy or browser that keeps static files for 30 days never serves the old script to new pages. The hash is
    computed once per file version (its size and modification time), and is the same on every host."""
    known: dict[tuple, str] = {}

    def add_version(endpoint: str, values: dict) -> None:
        if endpoint != "static" or "filename" not in values or "v" in values:
            return
        path = os.path.join(app.static_folder or "", values["filename"])
        try:
            info = os.stat(path)
        except OSError:
            return  # a file that is not there: the address stays as it was asked for (and gives 404)
        key = (values["filename"], info.st_size, info.st_mtime_ns)
        if key not in known:
            with open(path, "rb") as handle:
                known[key] = hashlib.sha256(handle.read()).hexdigest()[:12]
        values["v"] = known[key]

    return add_version


def register(app: Flask) -> None:
    """Register globals (title, locales) and filters (dates, numbers, multilingual text)."""
    app.url_defaults(static_versions(app))

    @app.context_processor
    def inject():
        return {
            "locales": [(code, LOCALE_NAMES.get(code, code)) for code in available_locales()],
            "current_locale": get_locale_code(),
            "zone_guessed": zone_guessed,
        }

    app.jinja_env.filters["date"] = lambda value, fmt="medium": format_date(value, fmt) if value else ""
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": format_moment(value, fmt) if value else ""
    app.jinja_env.filters["number"] = lambda value: format_decimal(value) if value is not None else ""
    app.jinja_env.filters["ml"] = ml
    app.jinja_env.globals["language_label"] = language_label
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
