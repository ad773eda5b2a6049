"""`flask directory countries`: a production database starts without countries, and agencies, experts and imports
need them. Before this command the only way to get them was `flask demo seed`, which also made an administrator
with a published password."""

from __future__ import annotations

from sqlalchemy import select


def run(app, *args):
    return app.test_cli_runner().invoke(args=["directory", "countries", *args])


def test_countries_are_added_by_iso_code_named_in_every_language_and_audited(app_ctx, db_session):
    from app.core.models import AuditEvent
    from app.directory.models import Country

    result = run(app_ctx, "add", "kz", "TJ")
    assert result.exit_code == 0, result.output
    assert "KZ added (en: Kazakhstan; ru: Казахстан)" in result.output
    countries = {c.code: c.names for c in db_session.scalars(select(Country))}
    assert countries == {"KZ": {"en": "Kazakhstan", "ru": "Казахстан"},
                         "TJ": {"en": "Tajikistan", "ru": "Таджикистан"}}
    assert [e.action for e in db_session.scalars(select(AuditEvent).where(AuditEvent.object_type == "country"))] \
        == ["country.created", "country.created"]
    again = run(app_ctx, "add", "KZ")  # running it again changes nothing
    assert again.exit_code == 0 and "KZ already exists" in again.output
    renamed = run(app_ctx, "add", "KZ", "--name", "en=Republic of Kazakhstan")
    assert renamed.exit_code == 0 and "KZ renamed (en: Republic of Kazakhstan; ru: Казахстан)" in renamed.output
    db_session.expire_all()
    assert db_session.scalar(select(Country).where(Country.code == "KZ")).names["en"] == "Republic of Kazakhstan"
    listed = run(app_ctx, "list")
    assert listed.output.splitlines() == ["KZ\ten: Republic of Kazakhstan\tru: Казахстан",
                                          "TJ\ten: Tajikistan\tru: Таджикистан"]
    # the new country is usable at once: an expert is assigned to it
    made = app_ctx.test_cli_runner().invoke(args=["users", "create", "kz@example.org", "--role", "expert",
                                                  "--country", "KZ", "--generate-password"])
    assert made.exit_code == 0, made.output


def test_a_code_that_names_no_country_adds_nothing(app_ctx, db_session):
    from app.directory.models import Country

    for codes in (["KG", "XX"], ["EU"], ["KAZ"]):
        result = run(app_ctx, "add", *codes)
        assert result.exit_code == 1 and "is not an ISO 3166-1 country code" in result.output
        assert "Nothing was added." in result.output
    assert db_session.scalars(select(Country)).all() == []  # not even KG, named before XX
    mixed = run(app_ctx, "add", "KG", "UZ", "--name", "en=Kyrgyz Republic")
    assert mixed.exit_code == 2 and "only be given with one country code" in mixed.output
    bad = run(app_ctx, "add", "KG", "--name", "fr=Kirghizistan")
    assert bad.exit_code == 2 and "LANG=NAME with LANG one of en, ru" in bad.output


def test_demo_data_is_refused_in_production(tmp_path, monkeypatch):
    """The demo's administrator has a published password: `flask demo seed` on a production site made it."""
    from flask_migrate import upgrade

    from app.auth.models import User
    from app.extensions import db
    from tests.conftest import make_app

    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    app = make_app(f"sqlite:///{tmp_path / 'prod.sqlite3'}", tmp_path, TESTING=False,
                   BASE_URL="https://assessment.example.org")
    assert app.config["PRODUCTION"]
    with app.app_context():
        upgrade()
        refused = app.test_cli_runner().invoke(args=["demo", "seed"])
        assert refused.exit_code == 2 and "flask directory countries add" in refused.output
        assert db.session.scalars(select(User)).all() == []
        allowed = app.test_cli_runner().invoke(args=["demo", "seed", "--in-production"])
        assert allowed.exit_code == 0, allowed.output
        assert db.session.scalar(select(User).where(User.email == "admin@example.org")) is not None
        db.session.remove()
        db.engine.dispose()
