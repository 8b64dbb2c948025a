"""Helpers for the documents tests (no tests here): stored invoices made on the real invoicing path.

Orders are written as the importer stores them (columns plus the raw WooCommerce JSON), with
the VAT rates of :mod:`tests.test_processing_property`, optional shipping, an optional rounding
cent (the shop's total one cent off its lines) and an optional business buyer, then invoiced by
:func:`fastimport.processing.invoicing.invoice_orders`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from fastimport.config import Config, parse_config
from fastimport.processing import invoicing
from fastimport.processing.settings import ProcessingSettings, load_settings
from fastimport.store import connect, raw
from fastimport.store.db import Connection
from tests.test_processing_property import RATES
from tests.test_processing_support import raw_config

# (product id, quantity, unit price in cents excl. VAT, tax class)
Line = tuple[int, int, int, str]
BUSINESS = {"company": "Atelier Dupont SAS", "vat_number": "FR40303265045", "siren": "303265045"}


def documents_config(tmp_path: Path, **tables: Any) -> Config:
    raw_cfg = raw_config(tmp_path, "http://127.0.0.1:9")
    raw_cfg.update(tables)
    return parse_config(raw_cfg)


def setup_store(con: Connection) -> None:
    con.execute(
        "INSERT INTO stores (store_id, name, platform, url, timezone) VALUES "
        "(1, 'eshop', 'woocommerce', 'http://x', 'Europe/Paris')"
    )
    for pid in range(1, 7):
        con.execute(
            "INSERT INTO products VALUES (1, ?, 0, ?, ?, 1.00, '', true, 100, now())",
            [pid, f"SKU{pid}", f"Article n°{pid} <b>"],
        )


def add_order(
    con: Connection,
    oid: int,
    lines: list[Line],
    *,
    shipping_cents: int = 0,
    rounding_cents: int = 0,
    business: bool = False,
    email: str = "ada@example.org",
) -> None:
    """One paid order: its lines, shipping at 20 %, the shop's total ``rounding_cents`` off its lines."""
    base = dt.datetime(2026, 3, 24, 9, tzinfo=dt.UTC)
    total = tax_total = 0
    for no, (pid, qty, unit, cls) in enumerate(lines, start=1):
        ht = unit * qty
        tax = (ht * RATES[cls] + 500) // 1000
        total, tax_total = total + ht + tax, tax_total + tax
        con.execute(
            "INSERT INTO order_lines VALUES (1, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
            [oid, no, oid * 10 + no, pid, f"SKU{pid}", f"Article n°{pid} <b>", qty, unit / 100, ht / 100,
             ht / 100, tax / 100, cls],
        )  # fmt: skip
    ship_tax = shipping_cents // 5
    total += shipping_cents + ship_tax + rounding_cents
    tax_total += ship_tax
    billing: dict[str, Any] = {
        "first_name": "Ada", "last_name": "Lovelace", "address_1": "12 rue de la Paix", "postcode": "75002",
        "city": "Paris", "country": "FR", "email": email,
    }  # fmt: skip
    payload: dict[str, Any] = {"billing": billing, "shipping_tax": f"{ship_tax / 100:.2f}"}
    if business:
        billing["company"] = BUSINESS["company"]
        payload["meta_data"] = [
            {"key": "_billing_vat_number", "value": BUSINESS["vat_number"]},
            {"key": "_billing_siren", "value": BUSINESS["siren"]},
        ]
    chunk, size, _, lengths = raw.pack(pa.array([orjson.dumps(payload)], pa.binary()))
    con.execute(
        "INSERT INTO raw_chunks (chunk_id, store_id, codec, size, data) VALUES (?, 1, ?, ?, ?)",
        [oid, raw.CODEC, size, chunk],
    )
    con.execute(
        "INSERT INTO orders (store_id, order_id, number, shop_status, state, currency, created_at, modified_at, "
        "paid_at, total, total_tax, shipping_total, prices_include_tax, customer_id, first_name, last_name, "
        "email, shipping_method_title, payment_method, payment_method_title, line_count, content_hash, raw_chunk, "
        "raw_offset, raw_length, first_run, last_run, imported_at, updated_at) VALUES (1, ?, ?, 'processing', "
        "'pending', 'EUR', ?, ?, ?, ?, ?, ?, false, 0, 'Ada', 'Lovelace', ?, 'Colissimo', 'stripe', 'Carte', ?, "
        "0, ?, 0, ?, 1, 1, now(), now())",
        [oid, f"W{oid}", base + dt.timedelta(minutes=oid), base, base, total / 100, tax_total / 100,
         shipping_cents / 100, email, len(lines), oid, int(lengths[0].as_py())],
    )  # fmt: skip


def invoice_all(con: Connection, config: Config, **kw: Any) -> list[str]:
    settings = load_settings(config)
    report = invoicing.invoice_orders(con, settings, invoicing.pending_keys(con, config), **kw)
    assert not report.refused, report.refused
    return [i.number for i in report.issued]


def store_with_invoices(tmp_path: Path, config: Config) -> tuple[Connection, ProcessingSettings, list[str]]:
    """A database file with two invoices: a consumer's (2 rates, shipping, a rounding cent), a business's."""
    con = connect(config.target)
    setup_store(con)
    add_order(
        con, 1, [(1, 2, 1250, ""), (2, 1, 899, "taux-reduit-5-5")], shipping_cents=590, rounding_cents=1
    )
    add_order(con, 2, [(3, 3, 4000, ""), (4, 2, 1575, "taux-reduit")], shipping_cents=990, business=True,
              email="compta@atelier-dupont.fr")  # fmt: skip
    return con, load_settings(config), invoice_all(con, config)
