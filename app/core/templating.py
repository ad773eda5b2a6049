"""Template globals and filters shared by every page."""

from __future__ import annotations

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


def register(app: Flask) -> None:
    """Register globals (title, locales) and filters (dates, numbers, multilingual text)."""

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
