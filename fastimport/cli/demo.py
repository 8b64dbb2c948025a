"""``fastimport demo``: the main job end to end against the built-in simulated shop, in under a minute."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path

from fastimport.cli.common import Session
from fastimport.store.db import first_row


def add_demo_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="import a week from the built-in simulated shop into demo.duckdb")
    demo.add_argument("--orders", type=int, default=3000, help="orders in the simulated shop (default 3000)")
    demo.add_argument("--database", default="demo.duckdb", help="database file (default demo.duckdb)")
    demo.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace, _session: Session) -> int:
    return run_demo(orders=args.orders, database=args.database)


DEMO_KEY_ENV, DEMO_SECRET_ENV = "FASTIMPORT_DEMO_KEY", "FASTIMPORT_DEMO_SECRET"


def run_demo(orders: int = 3000, database: str = "demo.duckdb") -> int:
    import fastimport as api
    from fastimport import core
    from fastimport.cli.output import console, print_import_reports, print_orders
    from fastimport.config import parse_config
    from fastimport.ranges import RangeRequest
    from fastimport.sim import SimOptions, SimShopThread

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
        con = api.connect(config)
        [catalog] = api.sync_catalog(config, con)
        console.print(f"Catalogue: {catalog.products} products, {catalog.customers} customers")
        today = dt.datetime.now(dt.UTC).astimezone(store.zone).date()
        week = RangeRequest.between(today - dt.timedelta(days=7), today)
        for attempt in ("First import", "Same range again"):
            console.rule(attempt)
            jobs = api.plan_imports(config, con, week)
            reports = api.import_stores(config, con, jobs)
            print_import_reports(reports, {cfg.name: rng for cfg, rng in jobs}, {store.name: store})
            if not reports[0].ok:
                return 1
            if attempt == "First import":
                pending = api.pending_orders(config, con)
                print_orders(
                    pending[:15],
                    title=f"Pending orders: the oldest 15 of {len(pending)}",
                    empty="Nothing pending.",
                )
        stored = first_row(con.execute("SELECT count(*), count(DISTINCT order_id) FROM orders"))
        assert stored is not None
        console.print(f"{stored[0]} orders stored, {stored[1]} distinct: nothing doubled.")
        con.close()
    console.print(f"Shop stopped. Database: {db} — demo took {time.perf_counter() - started:.1f} s")
    return 0
