"""store.db.transaction: COMMIT on success, ROLLBACK on any exception (re-raised)."""

from __future__ import annotations

import errno
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from fastimport.errors import StoreError
from fastimport.store.db import connect, disk_full, first_row, transaction


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


# A full disk (found by tests/chaos/test_chaos_disk.py: the import's clean-up ended in a DuckDB traceback).
INVALIDATED = (
    "FATAL Error: Failed: database has been invalidated because of a previous fatal error. The database "
    'must be restarted prior to being used again.\nOriginal error: "Failed to create checkpoint because of '
    'error: Could not write file "/tmp/till.duckdb": File too large"'
)


@pytest.mark.parametrize(
    "exc",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EFBIG, "File too large"),
        duckdb.IOException('IO Error: Could not write file "/tmp/till.duckdb": No space left on device'),
        duckdb.FatalException(INVALIDATED),
    ],
)
def test_a_full_disk_is_said_in_plain_words(exc: BaseException) -> None:
    err = disk_full(exc)
    assert isinstance(err, StoreError) and err.message.startswith("the disk is full")
    assert "FATAL" not in err.message and "Free some space" in err.message


def test_other_errors_are_not_a_full_disk() -> None:
    assert disk_full(duckdb.IOException("IO Error: Could not set lock on file")) is None
    assert disk_full(OSError(errno.EACCES, "Permission denied")) is None


def test_a_transaction_that_fills_the_disk_raises_the_plain_store_error() -> None:
    con = _con()
    with pytest.raises(StoreError, match="the disk is full"), transaction(con):
        con.execute("INSERT INTO t VALUES (1)")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert _count(con) == 0


def test_a_new_connection_never_inherits_a_closed_ones_till(tmp_path: Path) -> None:
    """The till name is held with the connection itself: ids are reused once a connection is gone."""
    import gc

    from fastimport.store.db import set_till, till_of

    for _ in range(20):
        first = connect(tmp_path / "till.duckdb")
        set_till(first, "comptoir-1")
        assert till_of(first) == "comptoir-1"
        first.close()
        del first
        gc.collect()
        second = connect(tmp_path / "till.duckdb")
        assert till_of(second) is None
        second.close()


def test_first_row_reads_the_result_to_its_end() -> None:
    """A one-row answer read through first_row leaves the connection free to register a table (DuckDB
    refuses while a result is half-read, as fetchone leaves it)."""
    con = _con()
    con.execute("INSERT INTO t VALUES (1), (2)")
    assert first_row(con.execute("SELECT count(*), max(x) FROM t")) == (2, 2)
    con.register("batch", pa.table({"x": [3]}))
    con.execute("INSERT INTO t SELECT x FROM batch")
    assert first_row(con.execute("SELECT x FROM t WHERE x > 2")) == (3,)
    con.unregister("batch")
    assert first_row(con.execute("SELECT x FROM t WHERE x > 5")) is None
