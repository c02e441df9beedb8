"""Database engines: SQLite (WAL, BEGIN IMMEDIATE for writers) and PostgreSQL
(psycopg 3), from one URL; and `migrate`, which brings a database's schema to
the latest Alembic revision."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

DEFAULT_URL = "sqlite:///restock.db"
MIGRATIONS = Path(__file__).with_name("migrations")


def database_url(url: str | None = None) -> str:
    url = url or os.environ.get("RESTOCK_DATABASE_URL") or DEFAULT_URL
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


LOCK_TIMEOUT_MS = 5000


def make_engine(url: str | None = None, *, lock_timeout_ms: int = LOCK_TIMEOUT_MS, **options: Any) -> Engine:
    """An engine for `url`. On PostgreSQL a statement that waits longer than
    `lock_timeout_ms` for a lock fails, and the unit of work retries it."""
    url = database_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **options)
    options.setdefault("pool_size", 32)
    options.setdefault("max_overflow", 8)
    options.setdefault("pool_pre_ping", True)
    connect_args = {"options": f"-c lock_timeout={int(lock_timeout_ms)}"}
    return sa.create_engine(url, connect_args=connect_args, **options)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_engine(url: str, **options: Any) -> Engine:
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **options)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, say when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # Writers take SQLite's write lock up front so two writers never
        # deadlock upgrading read locks; readers begin deferred.
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.connection.driver_connection.execute(f"BEGIN {mode}")  # type: ignore[union-attr]

    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the latest revision."""
    command.upgrade(alembic_config(engine), "head")
