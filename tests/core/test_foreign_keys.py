"""Foreign keys hold on both databases: SQLite (the default of `make run`) checks them and carries out ON DELETE
CASCADE only when each connection asks, which the app does; PostgreSQL always does."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError


def test_a_row_pointing_nowhere_is_refused(db_session):
    from app.responses.models import Answer

    db_session.add(Answer(response_id=987654, question_id="q1", value=1))
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()


def test_deleting_a_response_deletes_its_answers_and_scores(db_session, make_version, make_agency):
    from app.campaigns import services as campaigns
    from app.responses.models import Answer, Response
    from app.responses.services import ensure_response
    from app.scoring.models import ResponseScore

    agency = make_agency("KZ", "MVD")
    campaign = campaigns.create_campaign("Round 1", make_version(), agencies=[agency])
    response = ensure_response(campaign, agency)
    db_session.add_all([Answer(response_id=response.id, question_id="q1", value="yes"),
                        ResponseScore(response_id=response.id, indicator_id="i1", level=2.0, coverage=1.0)])
    db_session.commit()
    db_session.execute(Response.__table__.delete().where(Response.id == response.id))  # as the database sees it
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(Answer)) == 0
    assert db_session.scalar(select(func.count()).select_from(ResponseScore)) == 0


def test_every_sqlite_connection_checks_foreign_keys_after_the_migrations(app_ctx, db_session):
    """The migrations turn the checks off while they rebuild tables and on again for the connection they used."""
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL always checks foreign keys")
    from app.extensions import db

    connections = [db.engine.connect() for _ in range(3)]
    try:
        assert [c.exec_driver_sql("PRAGMA foreign_keys").scalar() for c in connections] == [1, 1, 1]
    finally:
        for connection in connections:
            connection.close()
    assert db_session.execute(text("PRAGMA foreign_keys")).scalar() == 1
