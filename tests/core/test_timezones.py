"""Times are stored in UTC and shown in the viewer's time zone (the browser's, kept in a cookie by page.js), with
the zone written beside them: the same page is read in Astana, Bishkek and Brussels."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import render_template_string

from tests.campaigns.test_campaign_names import campaign_world  # noqa: F401 - a fixture
from tests.conftest import EN, RU, sign_in
from tests.responses.test_form import complete, new_client, open_link

EVENING = datetime(2026, 12, 6, 18, 30, tzinfo=UTC)


def shown(app, moment, fmt="short", *, zone: str | None = None, lang: str = "en") -> str:
    headers = {"Accept-Language": lang}
    if zone is not None:
        headers["Cookie"] = f"tz={zone}"
    with app.test_request_context("/", headers=headers):
        text = render_template_string("{{ moment|datetime(fmt) }}", moment=moment, fmt=fmt)
    return text.replace("\xa0", " ").replace("\u202f", " ")  # Babel's no-break spaces read as spaces


@pytest.mark.parametrize(("zone", "lang", "expected"), [
    (None, "en", "12/6/26, 6:30 PM UTC"),
    ("Asia/Almaty", "en", "12/6/26, 11:30 PM UTC+5"),
    ("Asia/Bishkek", "ru", "07.12.2026, 00:30 UTC+6"),
    ("Asia/Kolkata", "en", "12/7/26, 12:00 AM UTC+5:30"),
    ("America/Sao_Paulo", "ru", "06.12.2026, 15:30 UTC-3"),
    ("Europe/Brussels", "ru", "06.12.2026, 19:30 UTC+1"),
])
def test_a_time_is_shown_in_the_browsers_zone_with_the_zone_named(app_ctx, zone, lang, expected):
    assert shown(app_ctx, EVENING, zone=zone, lang=lang) == expected


def test_summer_time_follows_the_date(app_ctx):
    assert shown(app_ctx, datetime(2026, 7, 1, 12, 0, tzinfo=UTC), zone="Europe/Brussels", lang="ru") \
        == "01.07.2026, 14:00 UTC+2"


def test_a_time_read_back_from_sqlite_without_its_zone_is_utc(app_ctx):
    assert shown(app_ctx, EVENING.replace(tzinfo=None), zone="Asia/Almaty", lang="ru") == "06.12.2026, 23:30 UTC+5"


@pytest.mark.parametrize("cookie", ["Mars/Olympus", "../../etc/passwd", "", "UTC; path=/", "Factory", "localtime"])
def test_a_cookie_that_is_not_a_zone_of_the_database_is_ignored(app_ctx, cookie):
    assert shown(app_ctx, EVENING, zone=cookie, lang="ru") == "06.12.2026, 18:30 UTC"


def test_the_long_format_names_the_zone_once_as_the_others_do(app_ctx):
    """Babel's long format gave the seconds and "+0500" (in a receipt e-mail) where every page says "UTC+5"."""
    assert shown(app_ctx, EVENING, "long", zone="Asia/Almaty", lang="ru") == "6 декабря 2026 г., 23:30 UTC+5"


def test_timezone_setting_is_the_zone_before_the_browser_tells_and_in_emails(tmp_path, monkeypatch):
    from tests.conftest import make_app

    monkeypatch.setenv("TIMEZONE", "Asia/Tashkent")
    app = make_app(f"sqlite:///{tmp_path}/tz.sqlite3", tmp_path / "instance")
    assert shown(app, EVENING, lang="ru") == "06.12.2026, 23:30 UTC+5"
    assert shown(app, EVENING, zone="Europe/Brussels", lang="ru") == "06.12.2026, 19:30 UTC+1"
    with app.app_context():  # outside a request: e-mails, commands
        text = render_template_string("{{ moment|datetime('short') }}", moment=EVENING)
        assert text == "12/6/26, 11:30\u202fPM UTC+5"


def test_an_unknown_timezone_setting_stops_the_start_with_its_name(tmp_path, monkeypatch):
    from app.config import ConfigError, load_config

    monkeypatch.setenv("TIMEZONE", "Asia/Astana")
    with pytest.raises(ConfigError, match=r"TIMEZONE='Asia/Astana' is not a time zone name of the IANA database"):
        load_config(str(tmp_path), {"TESTING": True})
    monkeypatch.setenv("TIMEZONE", "localtime")  # in the system's list of zones, unknown to Flask-Babel
    with pytest.raises(ConfigError, match=r"TIMEZONE='localtime'"):
        load_config(str(tmp_path), {"TESTING": True})


def test_the_outbox_page_shows_when_a_message_was_queued_in_the_viewers_zone(client, make_user, db_session):
    from app.mail import services

    admin = make_user("admin")
    message = services.queue_test_message("someone@example.org", locale="en")
    message.created_at = EVENING
    db_session.commit()
    sign_in(client, admin.email)
    client.set_cookie("tz", "Asia/Almaty")
    page = client.get("/admin/outbox/", headers=RU).get_data(as_text=True)
    assert "06.12.2026, 23:30 UTC+5" in page
    client.set_cookie("tz", "Europe/Brussels")
    page = client.get("/admin/outbox/", headers=EN).get_data(as_text=True)
    assert "12/6/26, 7:30\u202fPM UTC+1" in page


def test_an_email_written_during_a_request_uses_timezone_not_the_senders_browser(app_ctx, db_session,
                                                                                 campaign_world):  # noqa: F811
    """The receipt goes out while the respondent's browser (Almaty) is asking: it says when in TIMEZONE (UTC),
    for whoever reads it, while the respondent's own page shows Almaty's time."""
    from sqlalchemy import select

    from app.mail.models import OutboxMessage
    from app.responses.models import Response

    _campaign, link = campaign_world
    respondent = open_link(new_client(app_ctx, "ru"), link)
    respondent.set_cookie("tz", "Asia/Almaty")
    complete(respondent)
    assert respondent.post("/respondent/review", data={"csrf_token": respondent.csrf, "confirm": "1"}).status_code \
        == 302
    submitted = db_session.scalar(select(Response)).submitted_at
    receipt = db_session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "receipt"))
    with app_ctx.app_context():
        from flask_babel import force_locale

        from app.i18n import format_moment

        with force_locale("ru"):
            expected = format_moment(submitted, "long")
    assert expected.endswith(" UTC") and ":" in expected and expected in receipt.body_text
    page = respondent.get("/respondent").get_data(as_text=True)
    assert "UTC+5" in page


def test_a_page_shown_in_the_servers_zone_is_marked_for_one_more_load(client, make_user, db_session):
    """Only a GET page that shows a time and was made without the browser's zone carries the mark page.js loads
    again on: not with the cookie, not a page without times."""
    from app.mail import services

    admin = make_user("admin")
    services.queue_test_message("someone@example.org", locale="en")
    db_session.commit()
    sign_in(client, admin.email)
    assert 'id="zone-guessed"' in client.get("/admin/outbox/").get_data(as_text=True)
    assert 'id="zone-guessed"' not in client.get("/admin/users/new").get_data(as_text=True)  # no time shown
    client.set_cookie("tz", "Asia/Almaty")
    assert 'id="zone-guessed"' not in client.get("/admin/outbox/").get_data(as_text=True)
    client.set_cookie("tz", "Factory")  # not a zone Flask-Babel knows: still guessed
    assert 'id="zone-guessed"' in client.get("/admin/outbox/").get_data(as_text=True)


def test_a_link_or_token_expires_at_the_same_instant_whatever_zone_now_is_given_in(app_ctx):
    """A stored expiry comes back naive from SQLite (UTC): compared with a "now" in another zone it must be read as
    UTC, not as a time of that zone (which moved it by the zone's offset)."""
    from zoneinfo import ZoneInfo

    from app.api.models import ApiToken
    from app.campaigns.models import Invitation

    almaty = ZoneInfo("Asia/Almaty")
    stored = datetime(2026, 3, 1, 10, 0)  # 10:00 UTC, as SQLite gives it back
    before = datetime(2026, 3, 1, 14, 59, tzinfo=almaty)  # 09:59 UTC
    after = datetime(2026, 3, 1, 15, 0, tzinfo=almaty)  # 10:00 UTC
    for thing in (Invitation(expires_at=stored), ApiToken(expires_at=stored)):
        assert not thing.is_expired(before) and thing.is_expired(after)
        assert not thing.is_expired(datetime(2026, 3, 1, 9, 59)) and thing.is_expired(datetime(2026, 3, 1, 10, 0))


def test_today_of_every_rule_given_no_date_is_the_date_in_timezone(app_ctx, monkeypatch):
    """The review page, the reports, the API and the workbook evaluate skip rules and limits without passing a
    date: they used the server's, while the respondent's pages used TIMEZONE's, so around midnight a date rule
    could show a question on one and hide it on the other. A zone whose date differs from the server's now is
    taken (UTC+14 or UTC-11: at any hour one of them does)."""
    from datetime import date
    from zoneinfo import ZoneInfo

    from app.questionnaires import expressions
    from app.questionnaires.rendering import is_visible

    zone = next(z for z in ("Pacific/Kiritimati", "Pacific/Pago_Pago")
                if datetime.now(ZoneInfo(z)).date() != date.today())
    monkeypatch.setitem(app_ctx.config, "BABEL_DEFAULT_TIMEZONE", zone)
    there = datetime.now(ZoneInfo(zone)).date().isoformat()
    assert expressions.evaluate(expressions.parse("today()"), {}) == there
    assert is_visible(f"today() = '{there}'", {})
