"""Property: on random order sets, numbering is continuous and every stock figure follows the ledger."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastimport.config import parse_config
from fastimport.processing import credit, invoicing, stock
from fastimport.processing.settings import load_settings
from fastimport.processing.verify import verify
from fastimport.store import connect, raw
from tests.conftest import fresh_store
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY, raw_config

RATES = {"": 200, "taux-reduit": 100, "taux-reduit-5-5": 55}
line_st = st.tuples(
    st.integers(1, 6), st.integers(1, 5), st.integers(1, 9999), st.sampled_from(sorted(RATES))
)
order_st = st.tuples(st.lists(line_st, min_size=1, max_size=4), st.booleans(), st.integers(0, 1))


def _load(con, orders):  # type: ignore[no-untyped-def]
    con.execute(
        "INSERT INTO stores (store_id, name, platform, url, timezone) VALUES (1, 'eshop', 'woocommerce', 'http://x', 'Europe/Paris')"
    )
    for pid in range(1, 7):
        con.execute(
            "INSERT INTO products VALUES (1, ?, 0, ?, ?, 1.00, '', true, 100, now())",
            [pid, f"SKU{pid}", f"P{pid}"],
        )
    base = dt.datetime(2026, 3, 24, tzinfo=dt.UTC)
    for oid, (lines, paid, ship) in enumerate(orders, start=1):
        total = tax_total = 0
        for no, (pid, qty, unit, cls) in enumerate(lines, start=1):
            ht = unit * qty
            tax = (ht * RATES[cls] + 500) // 1000
            total += ht + tax
            tax_total += tax
            con.execute(
                "INSERT INTO order_lines VALUES (1, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    oid,
                    no,
                    oid * 10 + no,
                    pid,
                    f"SKU{pid}",
                    f"P{pid}",
                    qty,
                    unit / 100,
                    ht / 100,
                    ht / 100,
                    tax / 100,
                    cls,
                ],
            )
        ship_ht = 500 * ship
        total += ship_ht + ship_ht // 5
        tax_total += ship_ht // 5
        con.execute(
            "INSERT INTO orders (store_id, order_id, number, shop_status, state, currency, created_at, modified_at, "
            "paid_at, total, total_tax, shipping_total, prices_include_tax, customer_id, first_name, last_name, "
            "shipping_method_title, payment_method, payment_method_title, line_count, content_hash, raw_chunk, "
            "raw_offset, raw_length, first_run, last_run, imported_at, updated_at) VALUES (1, ?, ?, 'processing', "
            "'pending', 'EUR', ?, ?, ?, ?, ?, ?, false, 0, 'Ada', 'L', 'Colissimo', 'stripe', 'Carte', ?, 0, ?, 0, ?, "
            "1, 1, now(), now())",
            [
                oid,
                str(oid),
                base + dt.timedelta(minutes=oid),
                base,
                base if paid else None,
                total / 100,
                tax_total / 100,
                ship_ht / 100,
                len(lines),
                oid,
                _store_payload(con, oid, f'{{"shipping_tax":"{ship_ht // 5 / 100:.2f}"}}'.encode()),
            ],
        )


def _store_payload(con: duckdb.DuckDBPyConnection, chunk_id: int, payload: bytes) -> int:
    """Keep an order's raw JSON as the importer does (a compressed chunk); returns its length."""
    chunk, size, _, lengths = raw.pack(pa.array([payload], pa.binary()))
    con.execute(
        "INSERT INTO raw_chunks (chunk_id, store_id, codec, size, data) VALUES (?, 1, ?, ?, ?)",
        [chunk_id, raw.CODEC, size, chunk],
    )
    return int(lengths[0].as_py())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    orders=st.lists(order_st, min_size=1, max_size=40),
    chunk=st.integers(1, 16),
    credit_every=st.integers(2, 5),
)
def test_numbering_and_levels_hold(monkeypatch: pytest.MonkeyPatch, orders, chunk, credit_every) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)
    settings_raw = raw_config(Path("."), "http://x", chunk)  # the database is in memory: no path is used
    if "path" in settings_raw["database"]:
        settings_raw["database"]["path"] = ":memory:"
    config = parse_config(settings_raw)
    s = load_settings(config)
    con = connect(fresh_store(config))
    _load(con, orders)
    report = invoicing.invoice_orders(
        con, s, invoicing.pending_keys(con, config), allow_unpaid=bool(len(orders) % 2)
    )
    seqs = [r[0] for r in con.execute("SELECT seq FROM invoices ORDER BY seq").fetchall()]
    assert seqs == list(range(1, len(report.issued) + 1))
    for i in report.issued[::credit_every]:
        credit.credit_note(con, s, i.number, "property")
    cn = [
        r[0]
        for r in con.execute("SELECT seq FROM invoices WHERE kind = 'credit_note' ORDER BY seq").fetchall()
    ]
    assert cn == list(range(1, len(cn) + 1))
    invoiced, credited = (
        dict(
            con.execute(
                "SELECT l.product_id, sum(abs(l.quantity)) FROM invoice_lines l JOIN invoices i USING (invoice_id) "
                "WHERE l.line_kind = 'item' AND i.kind = ? GROUP BY 1",
                [kind],
            ).fetchall()
        )
        for kind in ("invoice", "credit_note")
    )
    # Every order predates the catalogue sync, so the shop (100 of each) had already counted them all:
    # the shelves held 100 + their quantities, each invoice takes its lines off once, each credit note
    # puts them back; the web shop's figure moves only with what comes back.
    sold_on_shop = dict(
        con.execute("SELECT product_id, sum(quantity) FROM order_lines GROUP BY 1").fetchall()
    )
    frame = {r["product_id"]: r for r in stock.levels(con).iter_rows(named=True)}
    for pid in range(1, 7):
        row = frame[pid]
        assert row["level"] == 100 + sold_on_shop.get(pid, 0) - invoiced.get(pid, 0) + credited.get(pid, 0)
        assert row["available"] == row["level"] - row["reserved"]
        assert row["available"] == 100 + credited.get(pid, 0)
    assert verify(con, s.key()).ok
    con.close()
