"""Invoicing in batch writes the same bytes as before its speed-ups: a digest of every output table.

300 varied orders (fees, refunds before invoicing, business buyers, accents, rounding adjustments,
unpaid, refused and line-less orders, two stores) are generated straight into a DuckDB file and
invoiced at a fixed instant with a fixed key; the rows of every table invoicing writes are hashed
table by table.  ``GOLDEN`` was computed by the invoicing code before the batch was made faster
(issue #12): a change that alters one stored byte (an amount, a line, a signature, a stock movement's
order) fails here and names the table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import FrozenInstanceError
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastimport.config import parse_config
from fastimport.io.connector import Buyer, Fee, buyer_from
from fastimport.processing import chain, invoicing, money
from fastimport.processing.records import CANONICAL_KEYS
from fastimport.processing.settings import load_settings
from fastimport.store import connect, raw
from fastimport.store.db import Connection

KEY_ENV = "FASTIMPORT_GOLDEN_KEY"
NOW = dt.datetime(2026, 3, 25, 12, 0, 0, 123456, tzinfo=dt.UTC)
ORDERS = 300
# Rows hashed per table, in a fixed order; wall-clock columns (now() at write time) are left out.
TABLES = {
    "invoices": "SELECT * FROM invoices ORDER BY invoice_id",
    "invoice_lines": "SELECT * FROM invoice_lines ORDER BY invoice_id, line_no",
    "invoice_vat": "SELECT * FROM invoice_vat ORDER BY invoice_id, vat_rate",
    "stock_movements": "SELECT * FROM stock_movements ORDER BY movement_id",
    "payments": "SELECT * EXCLUDE (recorded_at) FROM payments ORDER BY payment_id",
    "order_events": "SELECT * EXCLUDE (happened_at) FROM order_events ORDER BY event_id",
    "orders": "SELECT store_id, order_id, state FROM orders ORDER BY store_id, order_id",
    "series_counters": "SELECT series, kind, last_seq, last_signature FROM series_counters "
    "WHERE series <> 'journal' ORDER BY series",
    "journal": "SELECT seq, kind, actor, subject, detail FROM journal ORDER BY seq",
}
FIRST_NAMES = ["Marie", None, "Luc"]  # the orders' own columns, the payload may differ
# Computed by the invoicing code before issue #12's speed-ups (the journal counts per chunk, hence two).
# stock_movements since: the same rows, their ids in (invoice, line_no) order (stock.book_documents'
# ORDER BY) where DuckDB's join had them by rounds over a chunk's invoices, last line first; the same
# digest for both chunk sizes now.
GOLDEN = {
    7: {
        "invoices": "c152dba24bd22f67",
        "invoice_lines": "89a29756a4cc5f83",
        "invoice_vat": "30c40bce9f7481f5",
        "stock_movements": "dda61c709741ad16",
        "payments": "be50b82b93e5d4f8",
        "order_events": "5b007d37b5fc41a0",
        "orders": "db2f55b0dcb5c4e0",
        "series_counters": "93a63752a1bc375b",
        "journal": "50148f7df5d91b1e",
        "report": "99d28a1efc4021c3",
    },
    2000: {
        "invoices": "c152dba24bd22f67",
        "invoice_lines": "89a29756a4cc5f83",
        "invoice_vat": "30c40bce9f7481f5",
        "stock_movements": "dda61c709741ad16",
        "payments": "be50b82b93e5d4f8",
        "order_events": "5b007d37b5fc41a0",
        "orders": "db2f55b0dcb5c4e0",
        "series_counters": "93a63752a1bc375b",
        "journal": "f66dd5e65b6077ea",
        "report": "99d28a1efc4021c3",
    },
}


def _payload(rng: random.Random, oid: int) -> tuple[dict[str, Any], int, int]:
    """An order's stored JSON, the TTC of its fees and what was refunded beyond its lines (cents)."""
    first = rng.choice(["Marie", "Hélène", "Jean-Luc", "", "Zoé"])
    billing: Any = {
        "first_name": first,
        "last_name": rng.choice(["Durand", "Lefèvre", "O'Neil", ""]),
        "company": rng.choice(["", "", "SARL Martin"]),
        "address_1": f"{oid} rue des Lilas",
        "address_2": rng.choice(["", "Bât. B"]),
        "postcode": rng.choice(["69003", 75011, ""]),
        "city": "Lyon",
        "country": "FR",
        "email": rng.choice(["marie@example.fr", ""]),
    }
    if oid % 37 == 0:
        billing = []  # PHP's empty array: no billing address at all
    order: dict[str, Any] = {"id": oid, "billing": billing, "shipping": {"first_name": first}}
    fees = 0
    if oid % 7 == 0:
        order["fee_lines"] = [
            {"name": "Emballage cadeau", "total": "2.50", "total_tax": "0.50", "tax_class": ""},
            {"name": None, "total": 1, "total_tax": "0.10", "tax_class": "taux-reduit"},
        ]
        fees = 250 + 50 + 100 + 10
    if oid % 11 == 0:
        order["meta_data"] = [
            {"key": "_billing_vat_number", "value": "fr 12 123456789"},
            {"key": "siren", "value": " 123 456 789 "},
            None,
        ]
    elif oid % 5 == 0:
        order["meta_data"] = [{"key": "other", "value": 3}]
    refunded = 0
    if oid % 13 == 0:
        order["refunds"] = [{"id": oid, "total": "-3.00", "reason": "geste"}]
        refunded = 300
    return order, fees, refunded


def generate(path: Path) -> None:
    """ORDERS orders over two stores, generated as an import would have stored them."""
    rng = random.Random(12)
    con = connect(path)
    con.execute(
        "INSERT INTO stores (store_id, name, platform, url, timezone) VALUES "
        "(1, 'eshop', 'woocommerce', 'http://x', 'Europe/Paris'), (2, 'outlet', 'woocommerce', 'http://y', 'UTC')"
    )
    con.execute(
        "INSERT INTO products SELECT s, p, 0, 'SKU' || p, 'Article ' || p, 1, '', true, 1000, "
        "TIMESTAMPTZ '2026-03-01' FROM range(1, 3) u(s), range(1, 41) t(p)"
    )
    payloads, orders, lines = [], [], []
    for n in range(1, ORDERS + 1):
        sid, oid = 1 + n % 2, 1000 + n
        order, fees, _refunded = _payload(rng, oid)
        fee_tax = 60 if fees else 0
        items, tax = [], 0
        for line_no in range(1, (0 if n % 41 == 0 else 1 + n % 5) + 1):
            qty = rng.choice([1, 1, 2, 3, 0]) if line_no > 1 else 1 + n % 3
            ht = qty * rng.randint(99, 9000) if qty else rng.choice([0, 500])
            rate, klass = rng.choice([(200, ""), (100, "taux-reduit"), (55, "taux-reduit-5-5"), (21, "x")])
            line_tax = (2 * ht * rate + 1000) // 2000
            if line_no == 2 and n % 17 == 0:
                line_tax += 1  # the shop's rounding, a cent off its class's rate
            product = 0 if n % 19 == 0 else 1 + (n * 7 + line_no) % 40
            sku = None if n % 38 == 0 else f"SKU{product}"
            items.append((sid, oid, line_no, oid * 10 + line_no, product, 0, sku, f"Article {product}", qty,
                          None, None, ht / 100, None if n % 23 == 0 else line_tax / 100, klass))  # fmt: skip
            tax += line_tax
        ship = rng.choice([0, 575, 990])
        ship_tax = 115 if ship and n % 3 else (ship * 2 + 5) // 10
        if n % 3:
            order["shipping_tax"] = f"{ship_tax / 100:.2f}"  # else derived from the order's total tax
        payloads.append(orjson.dumps(order))
        gap = rng.choice([0, 0, 0, 1, -2, 9]) if n % 4 == 0 else 0
        total = sum(round(i[11] * 100) for i in items) + tax + ship + ship_tax + fees + gap
        paid = None if n % 29 == 0 else dt.datetime(2026, 3, 20, tzinfo=dt.UTC) + dt.timedelta(minutes=n)
        state = "invoiced" if n % 53 == 0 else "pending"
        orders.append((sid, oid, str(oid), rng.choice(["processing", "processing", "completed", "cancelled"]),
                       state, "EUR", dt.datetime(2026, 3, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=n), paid,
                       total / 100, (tax + ship_tax + fee_tax) / 100, ship / 100, rng.choice([None, "Colissimo"]),
                       "stripe", "Carte", rng.choice(["", f"pi_{oid}"]), len(items), rng.choice([None, "Dupont"]),
                       rng.choice([None, "3 place Bellecour"]), "69002", "Lyon", "FR", FIRST_NAMES[n % 3],
                       "Durand", None if n % 9 else "ACME", "x@example.fr"))  # fmt: skip
        lines += items
    chunk, size, offsets, lengths = raw.pack(pa.array(payloads, pa.binary()))
    con.execute(
        "INSERT INTO raw_chunks (chunk_id, store_id, codec, size, data) VALUES (1, 1, ?, ?, ?)",
        [raw.CODEC, size, chunk],
    )
    for i, o in enumerate(orders):
        con.execute(
            "INSERT INTO orders (store_id, order_id, number, shop_status, state, currency, created_at, "
            "modified_at, paid_at, total, total_tax, shipping_total, shipping_method_title, payment_method, "
            "payment_method_title, transaction_id, line_count, ship_name, ship_address, ship_postcode, ship_city, "
            "ship_country, first_name, last_name, company, email, content_hash, raw_chunk, raw_offset, raw_length, "
            "first_run, last_run, imported_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, 1, 1, now(), now())",
            [*o[:7], o[6], *o[7:], i, offsets[i].as_py(), lengths[i].as_py()],
        )
    con.executemany("INSERT INTO order_lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", lines)
    con.close()


def _config(path: Path, chunk: int) -> Any:
    return parse_config(
        {
            "database": {"path": str(path)},
            "stores": [
                {"name": "eshop", "platform": "woocommerce", "url": "http://x", "timezone": "Europe/Paris",
                 "key_env": "K", "secret_env": "S"},
                {"name": "outlet", "platform": "woocommerce", "url": "http://y", "timezone": "UTC",
                 "key_env": "K", "secret_env": "S", "pending_statuses": ["processing", "completed", "cancelled"]},
            ],
            "seller": {"name": "Boutique", "legal_form": "SARL", "address": "Lyon", "siren": "123456789",
                       "siret": "12345678900012", "vat_number": "FR12123456789"},
            "invoicing": {"secret_env": KEY_ENV, "chunk": chunk,
                          "tax_classes": {"taux-reduit": "10", "taux-reduit-5-5": "5.5"}},
        }
    )  # fmt: skip


def digests(con: Connection, report: invoicing.InvoiceReport) -> dict[str, str]:
    out = {}
    for table, sql in TABLES.items():
        rows = con.execute(sql).fetchall()
        out[table] = hashlib.sha256(repr(rows).encode()).hexdigest()[:16]
    out["report"] = hashlib.sha256(
        orjson.dumps({k: v for k, v in report.to_json().items() if k != "seconds"})
    ).hexdigest()[:16]
    return out


def invoice_golden(tmp_path: Path, chunk: int) -> dict[str, str]:
    path = tmp_path / f"golden-{chunk}.duckdb"
    generate(path)
    config = _config(path, chunk)
    con = connect(path)
    try:
        keys = invoicing.pending_keys(con, config)
        report = invoicing.invoice_orders(con, load_settings(config), keys, now=NOW)
        assert report.issued and report.refused
        return digests(con, report)
    finally:
        con.close()


@pytest.mark.parametrize("chunk", [7, 2000])
def test_batch_output_is_byte_for_byte_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setenv(KEY_ENV, "golden-signing-key")
    assert invoice_golden(tmp_path, chunk) == GOLDEN[chunk]


_BUYERS = [
    {
        "id": 1,
        "billing": {"first_name": "Hélène", "postcode": 69003, "company": True, "city": 1.5, "email": ""},
    },
    {"id": 2, "billing": [], "shipping": [], "meta_data": [], "fee_lines": [], "refunds": None},
    {"id": 3, "billing": None, "shipping": {"first_name": "Zoé"}, "shipping_tax": "1.15"},
    {
        "id": 4,
        "billing": {"vat_number": " fr 12 34 ", "siren": ""},
        "meta_data": [None, [], {"key": "siren"}],
    },
    {"id": 5, "meta_data": [{"key": "_billing_vat_number", "value": 0}, {"key": None, "value": "x"}]},
    {"id": 6, "meta_data": [{"key": "vat_number", "value": "de 1"}], "billing": {"vat_number": "FR 9"}},
    {"id": 7, "shipping_tax": 1.15, "fastimport_refunds": []},
    {"id": 8, "billing": {"first_name": ["a"]}},  # a list for a name: refused, with its path
    {"id": 9, "billing": "Lyon"},
    {"id": 10, "shipping": {"first_name": {"x": 1}}},
    {"id": 11, "meta_data": {"key": "siren"}},
    {"id": 12, "meta_data": ["siren"]},
    {"id": 13, "fee_lines": [{"name": "Frais", "total": "1.00", "total_tax": "0.20"}]},
    {"id": 14, "refunds": [{"id": 1, "total": "-2.00"}]},
    {"id": 15, "fastimport_refunds": [{"id": "x"}]},
    b'{"id": 16, "billing": {"city": 123456789012345678901234567890}}',
    [],
    "order",
]


@pytest.mark.parametrize("order", _BUYERS, ids=range(len(_BUYERS)))
def test_plain_buyer_reads_as_the_node_reader(order: Any) -> None:
    """The fast WooCommerce buyer reader gives the Node reader's Buyer, or its very refusal."""
    from fastimport.io.payload import Node
    from fastimport.io.woocommerce import spec

    payload = order if isinstance(order, bytes) else orjson.dumps(order)

    def outcome(read: Any) -> Any:
        try:
            return read()
        except Exception as exc:
            return (type(exc), str(exc))

    expected = outcome(lambda: spec._node_buyer(Node.load(payload)))
    assert outcome(lambda: spec.buyer(payload)) == expected
    if isinstance(order, dict) and order["id"] <= 7:  # these take the plain path (no fallback to Node)
        assert spec._plain_buyer(order) == expected
    for bad in (b'{"id": 1, "billing": {"city": "\\ud800"}}', b'{"id": 2, "shipping_tax": 1e400}'):
        assert outcome(lambda: spec.buyer(bad)) == outcome(lambda: spec._node_buyer(Node.load(bad)))  # noqa: B023


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet="0123456789.-+ _٣", max_size=24)
    | st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str)
)
def test_cents_from_text_as_decimal_reads_them(text: str) -> None:
    """money.to_cents reads the usual "12.34" without a Decimal: the same cents, or the same refusal."""

    def by_decimal(value: str) -> int | str:
        try:
            return int((Decimal(value) * 100).to_integral_exact())
        except (ArithmeticError, ValueError) as exc:
            return type(exc).__name__

    def fast(value: str) -> int | str:
        try:
            return money.to_cents(value)
        except (ArithmeticError, ValueError) as exc:
            return type(exc).__name__

    assert fast(text) == by_decimal(text)


def test_an_invoice_header_is_its_canonical_form_in_sorted_order() -> None:
    """_build_invoice writes the signed fields in sorted key order, so signing skips the merge and sort:
    the bytes must be those of the sorted-keys form."""
    header_row = (0, 1, 42, "42", "pending", "processing", "EUR", 1486, 575, 236, "stripe", "Carte", "pi_42",
                  1, "Colissimo", "Durand", "1 rue", "69003", "Lyon", "FR", "Zoé", "Durand", None, "z@example.fr")  # fmt: skip
    lines = [
        (0, 1, 7, 0, "SKU7", "Article", 2, 575, 115, ""),
        (0, 2, 8, 0, None, "Thé", 1, 100, 6, "taux-reduit-5-5"),
    ]
    doc = invoicing._build_invoice(
        header_row,
        Buyer(first_name="Zoé", shipping_tax="1.15"),
        lines,
        {"taux-reduit-5-5": 55},
        "eshop",
        "{}",
        "till",
    )
    assert doc.presorted and tuple(doc.header) == CANONICAL_KEYS
    merged = {k: v for k, v in doc.header.items() if k not in ("lines", "vat")}
    assert doc.canonical() == chain.canonical({**merged, "lines": doc.lines, "vat": doc.vat})


def test_buyer_from_is_the_frozen_buyer() -> None:
    values = ("Zoé", None, "ACME", "1 rue", None, "69003", "Lyon", "FR", "z@x.fr", "FR1", "123", "1.15",
              (Fee("Frais", "1.00", "0.20"),), "Zoé", "2.00", True)  # fmt: skip
    made = buyer_from(values)
    assert made == Buyer(*values) and hash(made) == hash(Buyer(*values))
    with pytest.raises(FrozenInstanceError):
        made.city = "Paris"  # type: ignore[misc]
    with pytest.raises(ValueError):
        buyer_from(values[:-1])
