"""Flask extensions as unbound objects; create_app binds them."""

import sqlite3
from datetime import datetime

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import DateTime, MetaData, Table, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention so constraint names are stable in migrations."""

    #: Every timestamp is stored with its time zone (UTC) where the database supports it.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: DateTime(timezone=True)},
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection, _record) -> None:
    """SQLite checks foreign keys (and carries out ON DELETE CASCADE / SET NULL) only when each connection asks
    for it; PostgreSQL always does. Migrations turn it off while they rebuild tables (migrations/env.py)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()


def lock_for_writing(table: Table) -> None:
    """On SQLite, make the session's transaction the database's only writer from now until it ends.

    Callers lock rows with `SELECT ... FOR UPDATE`, which PostgreSQL honours and SQLite ignores: SQLite has
    one lock for the whole database, and takes it only at a transaction's first write. Two requests could
    then both read (say) "nobody invited yet" and both invite. A write that changes nothing (to `table`,
    one of the tables the caller locks; it must have an `id` column) takes that lock now: a second request
    doing the same waits here, up to the driver's busy timeout (five seconds), until the first one commits,
    and then reads what it committed. Call it before the transaction writes or reads what it relies on."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text(f"UPDATE {table.name} SET id = id WHERE 0"))  # noqa: S608 - a table of ours
