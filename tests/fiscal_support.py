"""Helpers for the fiscal tests (no tests here): a till with invoices issued on two days, row counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastimport.config import Config
from fastimport.processing import invoicing
from fastimport.processing.settings import load_settings
from fastimport.store import connect
from fastimport.store.db import Connection
from tests.conftest import ShopFactory
from tests.test_processing_support import W0, W1, import_shop, processing_config

DAY1 = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)
DAY2 = dt.datetime(2026, 4, 2, 9, 0, tzinfo=dt.UTC)
DAY3 = dt.datetime(2026, 4, 3, 9, 0, tzinfo=dt.UTC)
FISCAL_TABLES = (
    "invoices", "invoice_lines", "invoice_vat", "journal", "series_counters", "closings", "key_seals",
    "stock_movements", "payments", "shipments",
)  # fmt: skip


async def till(tmp_path: Path, shop_factory: ShopFactory, orders: int = 40) -> tuple[Config, Connection]:
    """Orders imported from the simulated shop; the paid ones invoiced, half on DAY1, half on DAY2."""
    _shop, url = await shop_factory(orders=orders, start=W0, end=W1)
    config = processing_config(tmp_path, url)
    await import_shop(config)
    con = connect(config.target)
    settings = load_settings(config)
    keys = invoicing.pending_keys(con, config)
    half = len(keys) // 2
    first = invoicing.invoice_orders(con, settings, keys[:half], now=DAY1)
    second = invoicing.invoice_orders(con, settings, keys[half:], now=DAY2)
    assert len(first.issued) >= 3 and len(second.issued) >= 3
    return config, con


def counts(con: Connection) -> dict[str, int]:
    out = {}
    for table in FISCAL_TABLES:
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        out[table] = int(row[0]) if row else 0
    return out


def cli_args(config_path: Path, *args: str) -> list[str]:
    return ["--config", str(config_path), *args]
