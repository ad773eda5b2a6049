"""The schema only changes through migrations: round trip and no drift, on every backend."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tests.conftest import BACKENDS, make_app, temporary_database


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_downgrade_upgrade_and_no_drift(backend, tmp_path):
    from flask_migrate import downgrade, upgrade

    from app.extensions import db

    with temporary_database(backend, tmp_path) as url:
        app = make_app(url, tmp_path / "instance")
        with app.app_context():
            upgrade()
            tables = set(inspect(db.engine).get_table_names())
            assert {"users", "countries", "audit_events", "alembic_version"} <= tables
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            upgrade()
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                diff = compare_metadata(context, db.metadata)
            assert diff == [], f"models and migrations differ: {diff}"
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_first_submission_times_are_taken_from_the_audit_log(backend, tmp_path):
    """Responses submitted before `first_submitted_at` existed get the first submission the audit log recorded
    (returned and submitted again: the earlier one), else their latest submission."""
    from datetime import UTC, datetime

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select, update

    from app.campaigns import services as campaigns
    from app.core.models import AuditEvent
    from app.directory import services as directory
    from app.extensions import db
    from app.questionnaires.loader import load_file
    from app.questionnaires.services import get_version, store_definition
    from app.responses import answering
    from app.responses.models import Response
    from app.responses.services import ensure_response
    from tests.conftest import ROOT

    with temporary_database(backend, tmp_path) as url:
        app = make_app(url, tmp_path / "instance")
        with app.app_context():
            upgrade()
            outcome = store_definition(load_file(ROOT / "tests" / "data" / "small_questionnaire.yaml").definition)
            campaign = campaigns.create_campaign("R", get_version(outcome.slug, outcome.number), agencies=[
                directory.create_agency(country_code=None, acronym=acronym, kind="other", names={"en": acronym})
                for acronym in ("TWICE", "ONCE", "NEVER")])
            campaigns.set_status(campaign, "open")
            ids = {}
            for agency in campaign.agencies:
                response = ensure_response(campaign, agency)
                answering.save_answers(response, {"agency_name": agency.acronym, "has_ct_unit": "no"}, actor=None,
                                       channel="cli", lang="en")
                ids[agency.acronym] = response.id
                if agency.acronym != "NEVER":
                    answering.submit(response, actor=None, lang="en")
            twice = db.session.get(Response, ids["TWICE"])
            twice.status = "returned"
            answering.submit(twice, actor=None, lang="en")
            db.session.commit()
            first, second = (datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 9, 9, tzinfo=UTC))
            events = db.session.scalars(select(AuditEvent).where(
                AuditEvent.action == "response.submitted", AuditEvent.object_id == str(ids["TWICE"]))
                .order_by(AuditEvent.id)).all()
            assert len(events) == 2
            db.session.execute(update(AuditEvent).where(AuditEvent.id == events[0].id).values(created_at=first))
            db.session.execute(update(AuditEvent).where(AuditEvent.id == events[1].id).values(created_at=second))
            db.session.execute(update(Response).where(Response.id == ids["TWICE"]).values(submitted_at=second))
            db.session.execute(update(AuditEvent).where(AuditEvent.object_id == str(ids["ONCE"])).values(
                object_type="something else"))  # no audit entry of its submission: its latest submission counts
            once = db.session.get(Response, ids["ONCE"]).submitted_at
            db.session.commit()
            db.session.remove()

            downgrade(revision="3c9d1e7a2b40")
            upgrade()
            found = dict(db.session.execute(select(Response.id, Response.first_submitted_at)).all())
            assert found[ids["TWICE"]].replace(tzinfo=UTC) == first
            assert found[ids["ONCE"]].replace(tzinfo=None) == once.replace(tzinfo=None)
            assert found[ids["NEVER"]] is None
            db.session.remove()
            db.engine.dispose()
