"""Shared fixtures: a controllable clock, and shops on real databases.

SQLite: a migrated template file, copied for each test. PostgreSQL: one
uniquely named database per test session on 127.0.0.1:5432, migrated once,
emptied between tests and dropped at the end.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from restock.clock import FixedClock
from restock.shop import Shop
from restock.storage.engine import make_engine, migrate
from restock.storage.tables import SEED_ROWS, metadata

PG_ADMIN_URL = os.environ.get("RESTOCK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "restock.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "restock.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session (or worker)."""
    name = f"restock_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def empty_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        for table, rows in SEED_ROWS.items():
            conn.execute(sa.insert(table), rows)
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    url = str(request.getfixturevalue("pg_url"))
    empty_postgres(url)
    return url


@pytest.fixture
def shop(db_url: str, clock: FixedClock) -> Iterator[Shop]:
    """A shop on each real database in turn."""
    s = Shop.open(db_url, clock, upgrade=False)
    yield s
    s.close()


@pytest.fixture
def pg_shop(pg_url: str, clock: FixedClock) -> Iterator[Shop]:
    empty_postgres(pg_url)
    s = Shop.open(pg_url, clock, upgrade=False)
    yield s
    s.close()
