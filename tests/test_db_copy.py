"""``fastimport db copy``: a DuckDB till moved up to PostgreSQL, chains and all (issue 13, item 3).

A real DuckDB file filled on the real paths (import from the simulated shop, invoices on two days,
a closing, a credit note, a shipment, print jobs), copied into a real PostgreSQL database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

import fastimport.api.fiscal as fiscal
from fastimport.api import processing as api
from fastimport.api.database import copy_store
from fastimport.cli import main as cli
from fastimport.config import Config, parse_config
from fastimport.errors import StoreError
from fastimport.fiscal import anchors
from fastimport.print.queue import enqueue
from fastimport.processing import invoicing
from fastimport.processing.settings import load_settings
from fastimport.store import connect, payload_log, raw
from fastimport.store.copy import held_rows
from fastimport.store.db import Connection, transaction
from tests.conftest import DATABASE_URL_ENV, ShopFactory
from tests.fiscal_support import DAY1, DAY2, DAY3
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY, W0, W1, import_shop, raw_config

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)
TARGET_ENV = "FASTIMPORT_TEST_COPY_URL"


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)


def _configs(tmp_path: Path, url: str) -> tuple[Config, Config]:
    """The till's configuration on its DuckDB file, and the same one on PostgreSQL (``url_env``)."""
    raw = raw_config(tmp_path, url)
    duck = parse_config(raw | {"database": {"path": str(tmp_path / "till.duckdb")}})
    pg = parse_config(raw | {"database": {"url_env": TARGET_ENV}})
    return duck, pg


def _refundable(shop: Any) -> tuple[int, int]:
    """(order id, line id) of an order not refunded in full, with a line of two units or more."""
    for i, oid in enumerate(shop.store.ids):
        order = shop.store.order(i)
        line = next((li for li in order["line_items"] if int(li["quantity"]) >= 2), None)
        if order["status"] not in ("refunded", "trash") and line is not None:
            return int(oid), int(line["id"])
    raise AssertionError("the simulated shop made no line of two units")


async def _till(tmp_path: Path, shop_factory: ShopFactory) -> tuple[Config, Config, list[tuple[int, int]]]:
    """A DuckDB till with every kind of record; returns the configurations and two orders left pending."""
    shop, url = await shop_factory(orders=40, start=W0, end=W1)
    oid, line = _refundable(shop)  # a refund fetched apart from its order, remembered for re-imports
    shop.refunds.refund(oid, [(line, 1)])
    duck, pg = _configs(tmp_path, url)
    await import_shop(duck)
    con = connect(duck.target)
    try:
        settings = load_settings(duck)
        keys = invoicing.pending_keys(con, duck)
        kept, keys = keys[-2:], keys[:-2]
        half = len(keys) // 2
        first = invoicing.invoice_orders(con, settings, keys[:half], now=DAY1)
        invoicing.invoice_orders(con, settings, keys[half:], now=DAY2)
        fiscal.close_period(duck, con, "day", DAY2.date(), now=DAY3)
        api.credit_note(duck, con, first.issued[0].number, "returned")
        shipped = con.execute(
            "SELECT o.number FROM orders o JOIN invoices i ON i.order_id = o.order_id "
            "AND i.store_id = o.store_id WHERE i.kind = 'invoice' ORDER BY i.seq DESC LIMIT 1"
        ).fetchone()
        assert shipped is not None
        api.ship(duck, con, str(shipped[0]), carrier="colissimo", tracking="6A123456789", push=False)
        with transaction(con):
            for n in range(3):
                enqueue(con, kind="invoice", document_ref=f"ticket-{n}", printer="counter", payload=b"\x1b@x",
                        preview="x")  # fmt: skip
        assert fiscal.verify_records(duck, con).ok
    finally:
        con.close()
    return duck, pg, kept


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE' "
        "ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _plain(value: Any) -> Any:
    """One value as both databases' drivers give it back, in a form that compares and sorts."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _rows(
    con: Connection | duckdb.DuckDBPyConnection, table: str, columns: list[str]
) -> list[tuple[Any, ...]]:
    names = ", ".join(f'"{c}"' for c in columns)
    rows = [tuple(_plain(v) for v in r) for r in con.execute(f'SELECT {names} FROM "{table}"').fetchall()]
    return sorted(rows, key=repr)


def _config_file(tmp_path: Path, duck: Config) -> Path:
    """The till's configuration as the command line reads it (the DuckDB file in [database] path)."""
    path = tmp_path / "fastimport.toml"
    path.write_text(
        f'[database]\npath = "{duck.database}"\n\n[[stores]]\nname = "eshop"\nplatform = "woocommerce"\n'
        f'url = "{duck.stores[0].url}"\ntimezone = "Europe/Paris"\nkey_env = "X"\nsecret_env = "Y"\n',
        encoding="utf-8",
    )
    return path


def _fresh_database(name: str) -> str:
    """A new, bare PostgreSQL database in the test cluster (what ``createdb`` makes)."""
    url = os.environ[DATABASE_URL_ENV]
    base = url.rpartition("/")[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    return f"{base}/{name}"


def _target_rows(url: str) -> dict[str, int]:
    con = connect(url, upgrade=False)
    try:
        tables = [str(r[0]) for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()]  # fmt: skip
        return held_rows(con, tables)
    finally:
        con.close()


async def test_a_till_moves_up_with_every_row_and_its_chains_hold(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    duck, pg, kept = await _till(tmp_path, shop_factory)
    url = _fresh_database(f"copy_{os.getpid()}_main")
    monkeypatch.setenv(TARGET_ENV, url)
    seen: list[tuple[str, int, int]] = []
    report = copy_store(duck, TARGET_ENV, progress=lambda t, done, total: seen.append((t, done, total)))

    source = duckdb.connect(str(duck.database), read_only=True)
    target = connect(pg.target)
    try:
        tables = _tables(source)
        assert [t.table for t in report.tables] == tables and len(tables) >= 25
        for table in tables:  # the same rows, table by table
            columns = [str(r[0]) for r in source.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()]  # fmt: skip
            if table == "raw_chunks":  # the till's log frames arrive inline: compared as payloads below
                columns = [c for c in columns if c != "data" and not c.startswith("log_")]
            assert _rows(target, table, columns) == _rows(source, table, columns), table
        # The payloads the till kept in the folder beside it are in PostgreSQL itself, the same bytes.
        assert source.execute("SELECT count(*) FROM raw_chunks WHERE data IS NOT NULL").fetchone() == (0,)
        assert target.execute(
            "SELECT count(*) FROM raw_chunks WHERE data IS NULL OR log_segment IS NOT NULL"
        ).fetchone() == (0,)
        keys = [
            (int(r[0]), int(r[1])) for r in source.execute("SELECT store_id, order_id FROM orders").fetchall()
        ]
        from_till = raw.payloads(source, keys)
        assert len(from_till) == len(keys) > 0
        shutil.rmtree(Path(str(duck.database) + payload_log.SUFFIX))  # a moved store needs no folder
        assert raw.payloads(target, keys) == from_till
        copied = {t.table: t.rows for t in report.tables}
        for table in (
            "orders",
            "raw_chunks",
            "fetched_refunds",
            "invoices",
            "closings",
            "shipments",
            "print_jobs",
            "journal",
        ):
            assert copied[table] > 0, table
        assert seen[-1] == (tables[-1], copied[tables[-1]], copied[tables[-1]]) or copied[tables[-1]] == 0
        assert {(t, n) for t, n, total in seen if n == total and n} == {
            (t, n) for t, n in copied.items() if n
        }

        # The till's witness of the new store starts from the heads its DuckDB file anchored.
        witness = anchors.anchor_path(target)
        beside = Path(str(duck.database) + anchors.SUFFIX)
        assert witness is not None and anchors.read(witness) == anchors.read(beside) != []
        assert fiscal.verify_records(pg, target).ok  # same bytes, same signatures: the chains hold

        # The next invoice takes the next number of its series and chains onto the copied head.
        series, last_seq, last_sig = source.execute(
            "SELECT series, last_seq, last_signature FROM series_counters WHERE kind = 'invoice' "
            "ORDER BY last_seq DESC LIMIT 1"
        ).fetchone() or ("", 0, "")
        old_job = source.execute("SELECT max(job_id) FROM print_jobs").fetchone()
        old_move = source.execute("SELECT max(movement_id) FROM stock_movements").fetchone()
        assert old_job and old_move
        issued = invoicing.invoice_orders(target, load_settings(pg), kept[:1]).issued
        assert len(issued) == 1
        row = target.execute(
            "SELECT series, seq, prev_signature FROM invoices WHERE number = ?", [issued[0].number]
        ).fetchone()
        assert row == (series, last_seq + 1, last_sig)
        with transaction(target):
            job = enqueue(
                target, kind="invoice", document_ref="after", printer="counter", payload=b"x", preview="x"
            )
        assert job == old_job[0] + 1  # the sequences follow the copied ids
        moved = target.execute(
            "SELECT min(movement_id) FROM stock_movements WHERE movement_id > ?", [old_move[0]]
        )
        assert (moved.fetchone() or (0,))[0] == old_move[0] + 1
        assert fiscal.verify_records(pg, target).ok
    finally:
        source.close()
        target.close()

    # A second copy into the now non-empty store is refused and changes nothing.
    before = _target_rows(url)
    config_file = _config_file(tmp_path, duck)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert cli(["--config", str(config_file), "db", "copy", "--to-env", TARGET_ENV]) == 1
    assert "is not empty (" in err.getvalue() and "invoices:" in err.getvalue()
    assert "createdb" in err.getvalue()
    assert _target_rows(url) == before


async def test_the_cli_copies_and_says_so_in_json(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _shop, url = await shop_factory(orders=12, start=W0, end=W1)
    duck, _pg = _configs(tmp_path, url)
    await import_shop(duck)
    config_file = _config_file(tmp_path, duck)
    monkeypatch.setenv(TARGET_ENV, os.environ[DATABASE_URL_ENV])  # the fixture's empty, migrated store
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli(["--config", str(config_file), "db", "copy", "--to-env", TARGET_ENV, "--json"]) == 0
    summary = json.loads(out.getvalue())
    assert summary["tables"]["orders"]["rows"] == 12
    assert summary["rows"] == sum(t["rows"] for t in summary["tables"].values())
    assert set(summary) == {"source", "target", "schema_version", "tables", "rows", "sequences", "seconds"}
    assert summary["sequences"]["import_run_seq"] >= 1
    assert "@" in summary["target"] and summary["source"] == str(duck.database)

    err = io.StringIO()  # a variable that is not set: a plain message, exit 1
    with contextlib.redirect_stderr(err):
        assert cli(["--config", str(config_file), "db", "copy", "--to-env", "FASTIMPORT_TEST_UNSET"]) == 1
    assert "FASTIMPORT_TEST_UNSET" in err.getvalue() and "not set" in err.getvalue()


async def test_a_copy_that_fails_half_way_leaves_the_target_empty(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    duck, pg, _kept = await _till(tmp_path, shop_factory)
    url = os.environ[DATABASE_URL_ENV]
    monkeypatch.setenv(TARGET_ENV, url)

    # A table that cannot be written, after many that were.
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
        )
        admin.execute("CREATE TRIGGER refuse BEFORE INSERT ON series_counters EXECUTE FUNCTION refuse()")
    with pytest.raises(duckdb.Error, match="refused by the test"):
        copy_store(duck, TARGET_ENV)
    assert _target_rows(url) == {}

    # The server connection lost in the middle of the orders.
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("DROP TRIGGER refuse ON series_counters")

    def cut(table: str, done: int, total: int) -> None:
        if table == "orders" and done:
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'fastimport' AND datname = current_database()"
                )

    with pytest.raises(StoreError, match=r"connection to the PostgreSQL server .* was lost"):
        copy_store(duck, TARGET_ENV, progress=cut)
    assert _target_rows(url) == {}

    # Nothing was left behind: the same copy, run again from the command line, goes through.
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli(["--config", str(_config_file(tmp_path, duck)), "db", "copy", "--to-env", TARGET_ENV]) == 0
    orders = _target_rows(url)["orders"]
    assert re.search(rf"^  orders +{orders:,} rows", out.getvalue(), re.M), out.getvalue()
    assert f"-> {pg.where}:" in out.getvalue() and "run fastimport verify" in out.getvalue()
    target = connect(pg.target)
    try:
        assert fiscal.verify_records(pg, target).ok
    finally:
        target.close()
