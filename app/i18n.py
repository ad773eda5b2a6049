"""Locale selection and the translation helpers `_` and `_l`.

Order: the signed-in user's saved preference, then the language chosen with the menu (kept in the
session), then the browser's Accept-Language, then DEFAULT_LOCALE. Outside a request (CLI, mail
rendering) the default locale applies unless the caller uses `flask_babel.force_locale`.
"""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_babel import (
    force_locale,
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
    gettext,
    lazy_gettext,
    ngettext,
)
from flask_login import current_user

_ = gettext
_l = lazy_gettext

__all__ = [
    "_",
    "_l",
    "available_locales",
    "force_locale",
    "format_date",
    "format_datetime",
    "format_decimal",
    "get_locale_code",
    "ngettext",
    "select_locale",
]

#: Names of locales in their own language, for the language menu.
LOCALE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша", "uz": "Oʻzbekcha", "ky": "Кыргызча"}


def available_locales() -> list[str]:
    """Locales configured for this installation (LOCALES)."""
    return list(current_app.config["LOCALES"])


def get_locale_code() -> str:
    """The active locale as a plain language code such as "ru"."""
    locale = get_locale()
    return locale.language if locale else current_app.config["DEFAULT_LOCALE"]


def select_locale() -> str:
    """Pick the locale for the current request (or the default outside a request)."""
    locales = available_locales()
    default = current_app.config["DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    user = current_user
    if user and getattr(user, "is_authenticated", False) and getattr(user, "locale", None) in locales:
        return user.locale
    chosen = session.get("locale")
    if chosen in locales:
        return chosen
    return request.accept_languages.best_match(locales) or default
