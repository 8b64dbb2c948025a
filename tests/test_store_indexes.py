"""Migration 11: PostgreSQL's indexes for one order's reads, absent from DuckDB, both stores at schema 11.

The plans are checked on a store of a few thousand orders copied from a DuckDB till and ANALYZE'd (as
``db copy`` leaves it), with the planner free to choose: each read of one order on the order page, and
the invoicing clock's ``max(issued_at)``, must name an index rather than read its table.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from bench.bench_invoice import setup
from fastimport.api.processing import order_details
from fastimport.processing import chain
from fastimport.store import connect
from fastimport.store.copy import copy_to_postgres
from fastimport.store.db import latest_version, schema_version
from fastimport.store.postgres import PgConnection
from fastimport.store.schema import MIGRATIONS
from tests.conftest import DATABASE_URL_ENV

INDEXES = next(m for m in MIGRATIONS if m.version == 11)
NAMES = {s.split()[2] for s in INDEXES.statements}
# Tables that grow with the orders: a read of one order must not scan them (stores, closings and an
# empty comments table are read whole, as they should).
GROWING = {"orders", "order_lines", "invoices", "shipments", "order_events"}


def _pg_indexes(con: PgConnection) -> dict[str, str]:
    rows = con.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    ).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_migration_11_creates_the_indexes_on_postgresql(backend: str) -> None:
    con = connect(os.environ[DATABASE_URL_ENV])
    assert isinstance(con, PgConnection)
    assert INDEXES.backend == "postgres"
    assert schema_version(con) == latest_version() >= 11
    indexes = _pg_indexes(con)
    assert set(indexes) >= NAMES, NAMES - set(indexes)
    assert "(store_id, order_id)" in indexes["invoices_order"]
    assert "(issued_at)" in indexes["invoices_issued"]
    # A PostgreSQL store at schema 10 (written before) gets them when it is opened.
    for name in NAMES:
        con.execute(f"DROP INDEX {name}")
    con.execute("DELETE FROM schema_version WHERE version = 11")
    con.close()
    con = connect(os.environ[DATABASE_URL_ENV])
    assert isinstance(con, PgConnection)
    assert schema_version(con) == latest_version()
    assert set(_pg_indexes(con)) >= NAMES
    con.close()


def test_migration_11_is_recorded_on_duckdb_without_an_index(tmp_path: Path) -> None:
    path = tmp_path / "till.duckdb"
    con = connect(path)
    assert isinstance(con, duckdb.DuckDBPyConnection)
    assert schema_version(con) == latest_version() >= 11
    indexes = {r[0] for r in con.execute("SELECT index_name FROM duckdb_indexes()").fetchall()}
    assert indexes and not NAMES & indexes, indexes  # the schema's own indexes, none of migration 11
    # A DuckDB file at schema 10 (written before) is brought to 11, still without them.
    con.execute("DELETE FROM schema_version WHERE version = 11")
    con.close()
    con = connect(path)
    assert schema_version(con) == latest_version()
    described = con.execute("SELECT description FROM schema_version WHERE version = 11").fetchall()
    assert described == [(INDEXES.description,)]
    assert not NAMES & {r[0] for r in con.execute("SELECT index_name FROM duckdb_indexes()").fetchall()}
    con.close()


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_one_order_s_reads_and_the_clock_use_the_indexes(tmp_path: Path, backend: str) -> None:
    # 3,000 orders of history (invoiced, shipped, paid, with events), numbers apart from the shop ids.
    duck = tmp_path / "till.duckdb"
    setup(duck, 10, 3000)
    with duckdb.connect(str(duck)) as source:
        source.execute("UPDATE orders SET number = 'WC-' || order_id")
    copy_to_postgres(duck, os.environ[DATABASE_URL_ENV])  # analyses what it copied
    con = connect(os.environ[DATABASE_URL_ENV])
    assert isinstance(con, PgConnection)
    statements: list[tuple[str, list[Any]]] = []
    execute = con.execute

    def record(query: str, parameters: Any = None) -> PgConnection:
        statements.append((query, list(parameters or [])))
        return execute(query, parameters)

    con.execute = record  # type: ignore[method-assign]
    details = order_details(con, "WC-1500")
    assert order_details(con, "1500") == details
    chain.check_clock(con, b"key", dt.datetime.now(dt.UTC), [1], "test")
    del con.execute
    assert [d["number"] for d in details["documents"]] == ["FA-2025-eshop-001500"]
    assert len(details["shipments"]) == 1 and len(details["history"]) == 2

    used: set[str] = set()
    for query, params in statements:
        plan = con.execute("EXPLAIN (FORMAT JSON) " + query, params).fetchall()[0][0][0]["Plan"]
        nodes = list(_nodes(plan))
        read_whole = [n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"]
        assert not GROWING & set(read_whole), f"{read_whole} read whole: {query}"
        used |= {n["Index Name"] for n in nodes if "Index Name" in n}
    assert {"orders_number", "orders_order_id", "invoices_order", "invoices_issued"} <= used, used
    assert {"shipments_order", "order_events_order", "order_lines_order"} <= used, used
    con.close()
