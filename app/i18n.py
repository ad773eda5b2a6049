"""Locale selection and the translation helpers `_` and `_l`.

Order: the signed-in user's saved preference, then the language chosen with the menu (kept in the
session), then the browser's Accept-Language, then DEFAULT_LOCALE. Outside a request (CLI, mail
rendering) the default locale applies unless the caller uses `flask_babel.force_locale`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from flask import current_app, g, has_app_context, has_request_context, request, session
from flask_babel import (
    force_locale,
    format_date,
    format_datetime,
    format_decimal,
    format_time,
    get_locale,
    get_timezone,
    gettext,
    lazy_gettext,
    ngettext,
    refresh,
)
from flask_login import current_user

from app.config import known_timezones

_ = gettext
_l = lazy_gettext

__all__ = [
    "_",
    "_l",
    "available_locales",
    "default_timezone",
    "force_locale",
    "format_date",
    "format_datetime",
    "format_decimal",
    "format_moment",
    "get_locale_code",
    "language_label",
    "language_name",
    "ngettext",
    "select_locale",
    "select_timezone",
    "zone_guessed",
]

#: The cookie in which every page (page.js) keeps the browser's time zone, e.g. "Asia/Almaty".
TIMEZONE_COOKIE = "tz"

#: Names of locales in their own language, for the language menu.
LOCALE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша", "uz": "Oʻzbekcha", "ky": "Кыргызча"}


def available_locales() -> list[str]:
    """Locales configured for this installation (LOCALES)."""
    return list(current_app.config["LOCALES"])


def interface_locale(lang: str | None) -> str:
    """`lang` when the interface has it (a contact's, a workbook's or a report's language), else the current
    locale: the one to force for a page or a text meant for that reader."""
    return lang if lang in current_app.config["LOCALES"] else get_locale_code()


def get_locale_code() -> str:
    """The active locale as a plain language code such as "ru"."""
    locale = get_locale()
    return locale.language if locale else current_app.config["DEFAULT_LOCALE"]


def language_name(code: str) -> str:
    """The name of a language in the interface language ("Russian", «русский»), for labels such as "Name in
    Russian"."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(code).get_display_name(get_locale_code()) or code
    except (ValueError, UnknownLocaleError):
        return code


def language_label(code: str) -> str:
    """A language's name as a value in the interface language, capitalised for a table cell ("English" on an
    English page, «Английский» on a Russian one); the code itself when Babel does not know it."""
    name = language_name(code)
    return name[:1].upper() + name[1:] if name != code else code


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


def select_timezone() -> str | None:
    """The browser's time zone (the cookie page.js sets) when it names one of the database; otherwise None, and
    TIMEZONE applies (e-mails, commands, a page made before the cookie was set)."""
    if not has_request_context() or g.get(_DEFAULT_TIMEZONE):
        return None
    return _browser_zone()


def _browser_zone() -> str | None:
    """The zone of the request's cookie when Flask-Babel knows it, else None."""
    name = request.cookies.get(TIMEZONE_COOKIE, "")
    return name if name in known_timezones() else None


#: Set in flask.g while `default_timezone` applies.
_DEFAULT_TIMEZONE = "default_timezone"


@contextmanager
def default_timezone() -> Iterator[None]:
    """Times in TIMEZONE whatever the browser of the current request says: an e-mail queued while a staff member
    clicks goes to other people (an invitation's expiry date must not move with the sender's zone)."""
    if not has_app_context() or g.get(_DEFAULT_TIMEZONE):
        yield
        return
    g.setdefault(_DEFAULT_TIMEZONE, True)
    refresh()
    try:
        yield
    finally:
        g.pop(_DEFAULT_TIMEZONE, None)
        refresh()


def local_today() -> date:
    """Today's date in the project's TIMEZONE (e.g. Asia/Almaty): the "today" of date rules and limits, the same
    for every reader and in the browser's copy of the rules. The server's own date is UTC's on most servers, which
    is yesterday in Central Asia until 05:00, so an answer dated today was refused as in the future."""
    from zoneinfo import ZoneInfo

    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return datetime.now(ZoneInfo(name or "UTC")).date()


def in_reader_zone(moment: datetime) -> datetime:
    """A stored time (UTC) on the reader's clock: the browser's time zone, or TIMEZONE."""
    if moment.tzinfo is None:  # SQLite gives back the stored UTC time without its zone
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(get_timezone())


def local_day(moment: datetime) -> date:
    """The date of `moment` (stored in UTC) in the reader's time zone: 20:00 UTC is the next day in Almaty."""
    return in_reader_zone(moment).date()


def zone_label(moment: datetime) -> str:
    """The offset from UTC in which `moment` is shown: "UTC", "UTC+5", "UTC+5:30", "UTC-3"."""
    offset = in_reader_zone(moment).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    if not minutes:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'+' if minutes > 0 else '-'}{hours}" + (f":{rest:02d}" if rest else "")


def format_moment(moment: datetime, fmt: str = "medium") -> str:
    """A date and time in the viewer's time zone and language, with the zone it is in ("06.12.2026, 23:00
    UTC+5"): the same page is read in several countries and time zones. "long" writes the date in words, to the
    minute, with the zone written the same way ("6 декабря 2026 г., 23:00 UTC+5": Babel's long format gave the
    seconds and "+0500"); "full" is Babel's, which names the zone itself."""
    if has_request_context():
        g.setdefault(_MOMENT_SHOWN, True)
    if fmt == "long":
        return f"{format_date(in_reader_zone(moment), 'long')}, {format_time(moment, 'short')} {zone_label(moment)}"
    text = format_datetime(moment, fmt)
    return text if fmt == "full" else f"{text} {zone_label(moment)}"


#: Set in flask.g once a page shows a time (`format_moment`).
_MOMENT_SHOWN = "moment_shown"


def zone_guessed() -> bool:
    """Whether this page (a GET) shows times in TIMEZONE only because the browser has not told its zone yet: the
    first page of a visit, which page.js then loads again once it has set the cookie."""
    return (has_request_context() and request.method == "GET" and bool(g.get(_MOMENT_SHOWN))
            and not g.get(_DEFAULT_TIMEZONE) and _browser_zone() is None)
