"""`flask demo seed` creates the demo and changes nothing the second time."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.conftest import sign_in


def _counts(db_session):
    from app.auth.models import User
    from app.core.models import AuditEvent
    from app.directory.models import Country

    return tuple(db_session.scalar(select(func.count()).select_from(m)) for m in (User, Country, AuditEvent))


def test_seed_is_idempotent_and_accounts_sign_in(app_ctx, db_session):
    from app.demo.seed import DEMO_PASSWORD, DEMO_USERS

    runner = app_ctx.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    after_first = _counts(db_session)
    assert after_first[1] == 5
    second = runner.invoke(args=["demo", "seed"])
    assert "nothing changed" in second.output
    assert _counts(db_session) == after_first
    expected = {"admin": "/staff", "staff": "/staff", "expert": "/expert"}
    for email, role, _name, _countries in DEMO_USERS:
        c = app_ctx.test_client()
        assert sign_in(c, email, DEMO_PASSWORD).status_code == 302
        assert c.get("/").headers["Location"].endswith(expected[role])


def test_the_demo_campaign_is_dated_from_today_in_timezone(app_ctx, db_session, monkeypatch):
    """The demo campaign opened 30 days ago and closes in 21, counted from the date in TIMEZONE like every other
    "today": from the server's date it was a day off in Central Asia each evening in UTC. A zone whose date differs
    from the server's now is taken (UTC+14 or UTC-11: at any hour one of them does)."""
    from datetime import date, datetime, timedelta
    from zoneinfo import ZoneInfo

    from app.campaigns.models import Campaign
    from app.demo.campaign import DEMO_CAMPAIGN

    zone = next(z for z in ("Pacific/Kiritimati", "Pacific/Pago_Pago")
                if datetime.now(ZoneInfo(z)).date() != date.today())
    monkeypatch.setitem(app_ctx.config, "BABEL_DEFAULT_TIMEZONE", zone)
    there = datetime.now(ZoneInfo(zone)).date()
    result = app_ctx.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    campaign = db_session.scalar(select(Campaign).where(Campaign.name == DEMO_CAMPAIGN))
    assert (campaign.opens_on, campaign.deadline) == (there - timedelta(days=30), there + timedelta(days=21))
