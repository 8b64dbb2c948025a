"""The pending table at scale: pages, the stream, the warnings computed per page, the terminal view."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

import fastimport
from fastimport.cli.common import print_json, print_json_stream
from fastimport.store import connect
from fastimport.store.queries import iter_orders, list_orders
from tests.conftest import store_target, subprocess_env, write_config_file

# Two stores (the second's catalogue never synced); created_at repeats across stores and orders, so
# the order's ties (store name, then order id) are exercised; lines with and without product id or
# SKU, known and unknown; customers known, unknown and guests; events needing action or not.
_SETUP = (
    "INSERT INTO stores (store_id, name, platform, url, timezone, catalog_synced_at) VALUES "
    "(1, 'eshop', 'woocommerce', 'http://127.0.0.1:9', 'Europe/Paris', now()), "
    "(2, 'annex', 'woocommerce', 'http://127.0.0.1:8', 'America/Montreal', NULL)",
    "INSERT INTO products SELECT 1, p, 0, 'SKU' || p, 'Article', 1, '', true, 10, now() FROM generate_series(1, 20) t(p)",
    "INSERT INTO products VALUES (1, 30, 0, '', 'No SKU', 1, '', true, 1, now())",
    "INSERT INTO customers SELECT 1, c, '', '', '', now() FROM generate_series(1, 5) t(c)",
    """INSERT INTO orders (store_id, order_id, number, shop_status, state, currency, created_at, modified_at,
        paid_at, total, customer_id, first_name, last_name, email, payment_method_title, line_count, content_hash,
        raw_chunk, raw_offset, raw_length, first_run, last_run, imported_at, updated_at)
    SELECT s, o, 'N' || o, (ARRAY['processing', 'on-hold', 'completed', 'pending'])[1 + o % 4],
        (ARRAY['pending', 'prepared', 'invoiced'])[1 + o % 3], 'EUR',
        TIMESTAMPTZ '2026-03-24 10:00:00+00' + INTERVAL '1 minute' * CAST(floor(o / 3) AS INTEGER),
        now(), CASE WHEN o % 5 = 0 THEN NULL ELSE now() END, o / 10.0, o % 11, 'Ana', 'B', 'a@b.c', 'Carte',
        o % 3, o, 1, 0, 1, 1, 1, now(), now()
    FROM generate_series(1, 240) t(o), generate_series(1, 2) u(s)""",
    """INSERT INTO order_lines (store_id, order_id, line_no, line_id, product_id, variation_id, sku, name,
        quantity, total)
    SELECT s, o, n, o * 10 + n, CASE WHEN n = 2 THEN 0 ELSE (o * 3 + n) % 26 END, 0,
        CASE WHEN n = 1 THEN '' ELSE 'SKU' || ((o + n) % 24) END, 'x', 1, 1
    FROM generate_series(1, 240) t(o), generate_series(1, 2) u(s), generate_series(1, 2) v(n) WHERE n <= o % 3""",
    "INSERT INTO order_events (store_id, order_id, happened_at, kind, needs_action) "
    "SELECT 1, o, now(), 'shop_change_after_invoice', o % 2 = 0 FROM generate_series(1, 240, 7) t(o)",
)
STATUSES = {"eshop": ("processing", "on-hold"), "annex": ("processing", "on-hold")}


@pytest.fixture
def db(tmp_path: Path) -> Path | str:
    path = store_target(tmp_path)
    con = connect(path)
    for statement in _SETUP:
        con.execute(statement)
    con.close()
    return path


def _flags_from_views(con: Any) -> dict[tuple[str, int], tuple[int, bool, int]]:
    """The warnings as the schema's views define them, for every order."""
    rows = con.execute(
        "SELECT s.name, f.order_id, f.unknown_articles, f.unknown_customer, "
        "(SELECT count(*) FROM order_events e WHERE e.store_id = f.store_id AND e.order_id = f.order_id "
        "AND e.needs_action) FROM order_flags f JOIN stores s USING (store_id)"
    ).fetchall()
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows}


def _expected_warnings(flags: tuple[int, bool, int]) -> list[str]:
    n, unknown_customer, actions = flags
    out = [f"{n} unknown article{'s' if n > 1 else ''}"] if n else []
    return (
        out
        + (["unknown customer"] if unknown_customer else [])
        + (["shop changed it after invoicing"] if actions else [])
    )


def test_pages_carry_the_warnings_the_views_define(db: Path | str) -> None:
    con = connect(db)
    views = _flags_from_views(con)
    rows = list_orders(con, pending_statuses=STATUSES)
    assert len(rows) > 50 and {r["store"] for r in rows} == {"eshop", "annex"}
    assert any("unknown customer" in r["warnings"] for r in rows)
    assert any(
        w.endswith("unknown article") or w.endswith("unknown articles") for r in rows for w in r["warnings"]
    )
    assert any("shop changed it after invoicing" in r["warnings"] for r in rows)
    for r in rows:
        wanted = _expected_warnings(views[(r["store"], r["id"])])
        assert [w for w in r["warnings"] if w != "unpaid" and "on the shop" not in w] == wanted, r
    con.close()


@pytest.mark.parametrize("newest_first", [False, True])
def test_the_stream_and_the_pages_give_the_same_rows_in_the_same_order(
    db: Path | str, newest_first: bool
) -> None:
    con = connect(db)
    whole = list_orders(con, pending_statuses=STATUSES, limit=10_000, newest_first=newest_first)
    keys = [(r["created_at"], r["store"], r["id"]) for r in whole]
    assert len(set(r["created_at"] for r in whole)) < len(whole)  # ties exist
    streamed = list(iter_orders(con, pending_statuses=STATUSES, newest_first=newest_first, page=7))
    assert streamed == whole
    pages = [row for o in range(0, len(whole), 9) for row in list_orders(
        con, pending_statuses=STATUSES, limit=9, offset=o, newest_first=newest_first)]  # fmt: skip
    assert pages == whole
    assert len(set(keys)) == len(keys)
    con.close()


@pytest.mark.parametrize("count", [0, 1, 3])
def test_the_json_stream_prints_the_bytes_of_the_whole_list(count: int) -> None:
    values = [{"id": i, "warnings": ["unpaid"] * i, "nested": {"a": [1, 2]}} for i in range(count)]
    whole, streamed = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(whole):
        print_json(values)
    with contextlib.redirect_stdout(streamed):
        print_json_stream(iter(values))
    assert streamed.getvalue() == whole.getvalue()


def _cli(config: Path, *args: str) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "fastimport", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def test_pending_shows_one_page_on_the_terminal_and_streams_everything_as_json(
    db: Path | str, tmp_path: Path
) -> None:
    config_path = write_config_file(tmp_path, "http://127.0.0.1:9")
    config = fastimport.load_config(config_path)
    with fastimport.connect(config) as con:
        total = fastimport.count_pending(config, con)
        everything = fastimport.pending_orders(config, con)
        assert list(fastimport.iter_pending_orders(config, con)) == everything
    assert total == len(everything) > 12
    code, out, err = _cli(config_path, "pending", "--limit", "5", "--offset", "7")
    assert code == 0, err
    assert f"Pending orders ({total})" in out
    assert f"… {total - 12} more (--offset 12 for the next page" in out
    assert everything[7]["number"] in out and everything[12]["number"] not in out.split("Pending")[1]
    code, out, _ = _cli(config_path, "pending")
    assert code == 0 and f"Pending orders ({total})" in out and f"… {total - 50} more (--offset 50 " in out
    code, out, _ = _cli(config_path, "pending", "--limit", "0")
    assert code == 0 and "more" not in out and everything[-1]["number"] in out
    code, out, _ = _cli(config_path, "pending", "--json")
    assert code == 0 and orjson.loads(out) == orjson.loads(orjson.dumps(everything))
    code, out, _ = _cli(config_path, "pending", "--json", "--limit", "4", "--offset", "2")
    assert code == 0 and orjson.loads(out) == orjson.loads(orjson.dumps(everything[2:6]))
    code, _, err = _cli(config_path, "pending", "--limit", "-1")
    assert code == 2 and "must be 0 or more" in err


@pytest.mark.parametrize("selection", [(), ("--since", "2026-03-24", "--until", "2026-03-24")])
def test_orders_json_streams_the_bytes_of_the_whole_list(
    db: Path | str, tmp_path: Path, selection: tuple[str, ...]
) -> None:
    config_path = write_config_file(tmp_path, "http://127.0.0.1:9")
    config = fastimport.load_config(config_path)
    since = selection[1] if selection else None
    until = selection[3] if selection else None
    with fastimport.connect(config) as con:
        whole = fastimport.stored_orders(config, con, since=since, until=until)
        assert list(fastimport.iter_stored_orders(config, con, since=since, until=until)) == whole
    expected = io.StringIO()
    with contextlib.redirect_stdout(expected):
        print_json(whole)
    code, out, err = _cli(config_path, "orders", "--json", *selection)
    assert code == 0, err
    assert whole and out == expected.getvalue()
