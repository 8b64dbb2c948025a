"""DuckDB's database-wide settings (threads, memory_limit) held by an import and a batch of invoices at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from fastimport.store.db import INGEST_MEMORY_MB, Connection, connect, ingest_settings, single_threaded

ORIGINAL_THREADS = 3  # neither what an import nor a batch of invoices sets


def _threads(con: Connection) -> int:
    return int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])


def _memory(con: Connection) -> int:
    """DuckDB's buffer pool in whole MiB (it reports 0.1 MiB, and a value put back can lose one)."""
    text = str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
    number, unit = text.split()
    assert unit == "MiB"
    return round(float(number))


def _two_handles(tmp_path: Path, how: str) -> tuple[Connection, Connection]:
    con = connect(tmp_path / "till.duckdb")
    con.execute(f"SET threads = {ORIGINAL_THREADS}")
    # A cursor is the same database; so is a second connect to the same file in one process.
    return con, (con.cursor() if how == "cursor" else connect(tmp_path / "till.duckdb"))


@pytest.mark.parametrize("how", ["cursor", "second connect"])
def test_an_import_and_invoicing_interleaved_put_back_the_original(tmp_path: Path, how: str) -> None:
    con, other = _two_handles(tmp_path, how)
    memory = _memory(con)
    invoicing = single_threaded(con)
    importing = ingest_settings(other)
    invoicing.__enter__()
    importing.__enter__()
    invoicing.__exit__(None, None, None)  # the batch ends first: the import still runs on one thread
    assert _threads(con) == 1
    assert _memory(con) == _memory(other) != memory
    importing.__exit__(None, None, None)
    assert _threads(con) == _threads(other) == ORIGINAL_THREADS
    assert _memory(con) == memory
    other.close()
    con.close()


@pytest.mark.parametrize("first_leaves_first", [True, False])
def test_two_threads_holding_at_once_put_back_the_original(tmp_path: Path, first_leaves_first: bool) -> None:
    con, cursor = _two_handles(tmp_path, "cursor")
    memory = _memory(con)
    entered = [threading.Event(), threading.Event()]
    leave = [threading.Event(), threading.Event()]
    left = [threading.Event(), threading.Event()]
    seen: list[int] = []
    errors: list[BaseException] = []

    def run(i: int, held: Callable[[Connection], AbstractContextManager[None]], handle: Connection) -> None:
        try:
            with held(handle):
                entered[i].set()
                assert leave[i].wait(30)
                seen.append(_threads(handle))
        except BaseException as exc:  # told to the test's thread below
            errors.append(exc)
        finally:
            entered[i].set()
            left[i].set()

    workers = [
        threading.Thread(target=run, args=(0, single_threaded, con)),
        threading.Thread(target=run, args=(1, ingest_settings, cursor)),
    ]
    workers[0].start()
    assert entered[0].wait(30)
    workers[1].start()
    assert entered[1].wait(30)
    order = (0, 1) if first_leaves_first else (1, 0)
    for i in order:
        leave[i].set()
        assert left[i].wait(30)
    for worker in workers:
        worker.join(30)
    assert not errors
    assert seen == [1, 1]  # each still ran on one thread until it left
    assert _threads(con) == ORIGINAL_THREADS
    assert _memory(con) == memory
    cursor.close()
    con.close()


def test_nested_batches_put_back_the_original_once(tmp_path: Path) -> None:
    con, cursor = _two_handles(tmp_path, "cursor")
    with ingest_settings(con):
        with single_threaded(cursor), single_threaded(con):
            assert _threads(con) == 1
        assert _threads(cursor) == 1
        assert _memory(con) == round(INGEST_MEMORY_MB / 1.048576)
    assert _threads(cursor) == ORIGINAL_THREADS
    cursor.close()
    con.close()
