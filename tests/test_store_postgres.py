"""What only the PostgreSQL store has: advisory store locks across sessions, migrations, plain-words errors."""

from __future__ import annotations

import contextlib
import io
import os
from decimal import Decimal
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest

from fastimport.cli import main as cli
from fastimport.errors import StoreError, StoreLockedError
from fastimport.store import connect
from fastimport.store.db import latest_version, schema_version
from fastimport.store.locks import Owner, PgStoreLocks, store_locks
from tests.conftest import DATABASE_URL_ENV, store_target, write_config_file

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


def test_store_locks_are_advisory_locks_held_per_session(backend: str) -> None:
    url = os.environ[DATABASE_URL_ENV]
    locks = store_locks(url)
    assert isinstance(locks, PgStoreLocks)
    first = locks.try_acquire("eshop", Owner.current("run-a"))
    with pytest.raises(StoreLockedError) as busy:
        PgStoreLocks(url).try_acquire("eshop", Owner.current("run-b"))
    assert "run-a" in str(busy.value) and busy.value.store == "eshop"
    other = locks.try_acquire("lyon", Owner.current("run-b"))  # another store is free
    first.release()
    again = locks.try_acquire("eshop", Owner.current("run-c"))
    for lease in (again, other):
        lease.release()


def test_db_version_and_migrate_on_postgresql(tmp_path: Path, backend: str) -> None:
    config = write_config_file(tmp_path, "http://127.0.0.1:9")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli(["--config", str(config), "db", "version"]) == 0
    assert f"schema {latest_version()}" in out.getvalue()
    assert "@" in out.getvalue() and ":" in out.getvalue()  # the server's URL, not a file


def test_registered_arrow_tables_round_trip(tmp_path: Path, backend: str) -> None:
    con = connect(store_target(tmp_path))
    table = pa.table(
        {
            "n": pa.array([1, None, 3], pa.int64()),
            "s": pa.array(["a", "50 % off?", None]),
            "b": pa.array([b"\x00\x1b", b"", None]),
            "d": pa.array([Decimal("1.25"), Decimal("-0.01"), None], pa.decimal128(18, 2)),
        }
    )
    con.register("t", table)
    try:
        rows = con.execute("SELECT n, s, b, d FROM t WHERE s IS NULL OR s LIKE '%?' ORDER BY n").fetchall()
        assert rows == [(3, None, None, None), (None, "50 % off?", b"", Decimal("-0.01"))]
        assert con.sql("SELECT n FROM t ORDER BY n").to_arrow_table().column("n").to_pylist() == [1, 3, None]
    finally:
        con.unregister("t")
    assert schema_version(con) == latest_version()
    con.close()


def test_a_lost_server_is_a_store_error_in_plain_words(tmp_path: Path, backend: str) -> None:
    con = connect(store_target(tmp_path))
    pid = con.execute("SELECT pg_backend_pid()").fetchone()
    assert pid is not None
    with psycopg.connect(os.environ[DATABASE_URL_ENV], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid[0]])
    with pytest.raises(StoreError, match=r"connection to the PostgreSQL server .* was lost"):
        con.execute("SELECT count(*) FROM orders").fetchone()
    con.close()
