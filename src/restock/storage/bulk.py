"""Writing many rows at once.

SQLAlchemy compiles each statement once per dialect; the rows then go to the
driver's own `executemany`, inside the unit of work's transaction. This skips
SQLAlchemy's per-row parameter processing, which costs ten times the database
work on a 50,000-line receipt. The values that need it are converted here, the
way SQLAlchemy stores them: dates and times as ISO text on SQLite, JSON as text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

# From this many rows, an INSERT on PostgreSQL goes through COPY.
COPY_FROM = 100
# Keyed by the statement itself (which keeps it alive): pass long-lived statements.
_compiled: dict[tuple[str, sa.Executable, tuple[str, ...]], tuple[str, tuple[str, ...] | None]] = {}


def executemany(conn: Connection, statement: sa.Executable, rows: Sequence[dict[str, Any]]) -> None:
    """Run an INSERT, UPDATE or DELETE without RETURNING once per row. Every
    row must have the same keys, and each key values of one type (or None)."""
    if not rows:
        return
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        _executemany(conn, statement, rows)
    except dbapi_error as error:
        # Raise what SQLAlchemy would (IntegrityError, OperationalError, ...), so
        # the unit of work retries lost lock races and reports conflicts as usual.
        raise sa.exc.DBAPIError.instance(str(statement), None, error, dbapi_error) from error


def _executemany(conn: Connection, statement: sa.Executable, rows: Sequence[dict[str, Any]]) -> None:
    keys = tuple(rows[0])
    sql, positions = _compile(conn.dialect, statement, keys)
    sqlite = conn.dialect.name == "sqlite"
    convert = {k: f for k in keys if (f := _converter(_first_value(rows, k), sqlite)) is not None}
    if not sqlite and isinstance(statement, sa.Insert) and len(rows) >= COPY_FROM:
        _copy(conn, statement.table.name, keys, rows, convert)
        return
    params: Sequence[Any]
    if positions is not None:
        columns = [[f(r[k]) for r in rows] if (f := convert.get(k)) else [r[k] for r in rows] for k in positions]
        params = list(zip(*columns, strict=True))
    elif convert:
        params = [{**r, **{k: f(r[k]) for k, f in convert.items()}} for r in rows]
    else:
        params = rows
    driver = conn.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.executemany(sql, params)
    finally:
        cursor.close()


def _copy(conn: Connection, table: str, keys: tuple[str, ...], rows: Sequence[dict[str, Any]],
          convert: dict[str, Callable[[Any], Any]]) -> None:
    """PostgreSQL's COPY: many rows in one stream, several times faster than
    one INSERT per row."""
    from psycopg import sql

    driver = conn.connection.driver_connection
    assert driver is not None
    columns = sql.SQL(", ").join(map(sql.Identifier, keys))
    copy = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), columns)
    getters = [(k, convert.get(k)) for k in keys]
    with driver.cursor() as cursor, cursor.copy(copy) as stream:
        for row in rows:
            stream.write_row([f(row[k]) if f else row[k] for k, f in getters])


def _first_value(rows: Sequence[dict[str, Any]], key: str) -> Any:
    return next((r[key] for r in rows if r[key] is not None), None)


def _converter(sample: Any, sqlite: bool) -> Callable[[Any], Any] | None:
    if isinstance(sample, dict | list):
        return _json
    if sqlite and isinstance(sample, datetime):
        return _sqlite_datetime
    if sqlite and isinstance(sample, date):
        return _sqlite_date
    return None


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _sqlite_datetime(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(" ", "microseconds")


def _sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _compile(dialect: Dialect, statement: sa.Executable, keys: tuple[str, ...]) -> tuple[str, tuple[str, ...] | None]:
    cache_key = (dialect.name, statement, keys)
    found = _compiled.get(cache_key)
    if found is None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
        positions = tuple(compiled.positiontup) if compiled.positional else None
        found = _compiled[cache_key] = (compiled.string, positions)
    return found


# Up to this many events go in one pipelined statement with the COMMIT; more (a
# receipt filling thousands of lines) go the plain way: a large message in
# pipeline mode stalled the connection, and their own volume outweighs a round trip.
PIPELINED_EVENTS = 500

# Numbers the events from the counter and inserts them in one statement; the
# counter's row lock is then held only while the server runs it and the COMMIT
# sent right behind it in the same pipeline, not for client round trips.
_EVENTS_THEN_COMMIT = """
WITH ids AS (UPDATE counters SET value = value + %(n)s WHERE name = 'events' RETURNING value - %(n)s AS before)
INSERT INTO events (id, type, at, order_id, sku, data)
SELECT ids.before + e.n, e.type, e.at, e.order_id, e.sku, e.data
FROM ids, ROWS FROM (json_to_recordset(%(events)s::json)
                     AS (type text, at timestamp, order_id text, sku text, data json)) WITH ORDINALITY
     AS e(type, at, order_id, sku, data, n)
"""


def append_events_and_commit(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """PostgreSQL only: give `rows` the next event ids, insert them and commit,
    in one round trip. Ids follow commit order, as the counter's lock is held to the end."""
    dbapi_error = conn.dialect.loaded_dbapi.Error
    driver = conn.connection.driver_connection
    assert driver is not None
    payload = json.dumps([{**r, "at": r["at"].isoformat()} for r in rows])
    try:
        with driver.pipeline():
            driver.execute(_EVENTS_THEN_COMMIT, {"n": len(rows), "events": payload})
            driver.commit()
    except dbapi_error as error:
        raise sa.exc.DBAPIError.instance(_EVENTS_THEN_COMMIT, None, error, dbapi_error) from error
