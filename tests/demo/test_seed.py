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
