"""store.db.transaction: COMMIT on success, ROLLBACK on any exception (re-raised)."""

from __future__ import annotations

import duckdb
import pytest

from fastimport.store.db import transaction


def _con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE t (x INTEGER)")
    return con


def _count(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT count(*) FROM t").fetchone()
    assert row is not None
    return int(row[0])


def test_commits_on_success() -> None:
    con = _con()
    with transaction(con):
        con.execute("INSERT INTO t VALUES (1)")
    assert _count(con) == 1


@pytest.mark.parametrize("error", [ValueError("boom"), KeyboardInterrupt()])
def test_rolls_back_any_exception_and_reraises(error: BaseException) -> None:
    con = _con()
    with pytest.raises(type(error)), transaction(con):
        con.execute("INSERT INTO t VALUES (1)")
        raise error
    assert _count(con) == 0
    with transaction(con):  # the connection is usable again: no transaction left open
        con.execute("INSERT INTO t VALUES (2)")
    assert _count(con) == 1
