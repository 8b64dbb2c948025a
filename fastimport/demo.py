"""The demo: the main job end to end against the built-in simulated shop, in under a minute."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from pathlib import Path

from fastimport import core, ranges
from fastimport.catalog import sync_catalog
from fastimport.config import parse_config
from fastimport.importer import import_stores
from fastimport.report import console, print_import_reports, print_orders
from fastimport.sim import SimOptions, SimShopThread
from fastimport.store import connect
from fastimport.store.queries import list_orders

DEMO_KEY_ENV, DEMO_SECRET_ENV = "FASTIMPORT_DEMO_KEY", "FASTIMPORT_DEMO_SECRET"


def run_demo(orders: int = 3000, database: str = "demo.duckdb") -> int:
    started = time.perf_counter()
    db = Path(database)
    for leftover in (db, db.with_name(db.name + ".wal")):
        leftover.unlink(missing_ok=True)
    options = SimOptions(orders=orders, timezone="Europe/Paris")
    os.environ[DEMO_KEY_ENV], os.environ[DEMO_SECRET_ENV] = options.consumer_key, options.consumer_secret
    console.print(f"[bold]fastimport demo[/bold] — core: {core.core_description()}")
    with SimShopThread(options) as url:
        console.print(f"Simulated WooCommerce shop with {orders} orders over the last 7 days at {url}")
        config = parse_config(
            {
                "database": {"path": str(db)},
                "stores": [
                    {
                        "name": "eshop-demo",
                        "platform": "woocommerce",
                        "url": url,
                        "timezone": "Europe/Paris",
                        "key_env": DEMO_KEY_ENV,
                        "secret_env": DEMO_SECRET_ENV,
                    }
                ],
            }
        )
        store = config.stores[0]
        con = connect(config.database)
        catalog = asyncio.run(sync_catalog(con, store))
        console.print(f"Catalogue: {catalog.products} products, {catalog.customers} customers")
        today = dt.datetime.now(dt.UTC).astimezone(store.zone).date()
        week = ranges.day_range(today - dt.timedelta(days=7), today, store.zone, "range")
        for attempt in ("First import", "Same range again"):
            console.rule(attempt)
            reports = asyncio.run(import_stores(con, [(store, week)]))
            print_import_reports(reports, {store.name: week}, {store.name: store})
            if not reports[0].ok:
                return 1
            if attempt == "First import":
                pending = list_orders(
                    con, stores=[store.name], pending_statuses={store.name: store.pending_statuses}
                )
                print_orders(
                    pending[:15],
                    title=f"Pending orders: the oldest 15 of {len(pending)}",
                    empty="Nothing pending.",
                )
        stored = con.execute("SELECT count(*), count(DISTINCT order_id) FROM orders").fetchone()
        assert stored is not None
        console.print(f"{stored[0]} orders stored, {stored[1]} distinct: nothing doubled.")
        con.close()
    console.print(f"Shop stopped. Database: {db} — demo took {time.perf_counter() - started:.1f} s")
    return 0
