"""The ``fastimport`` command: a thin layer over the library.

Exit codes (a contract for batch jobs): 0 success, 1 a failure the user must
act on (plain-words message on stderr), 2 a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from fastimport import __version__
from fastimport.config import Config, StoreConfig, load_config
from fastimport.errors import FastImportError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

Handler = Callable[[argparse.Namespace], int]


def _version_text() -> str:
    from fastimport import core

    return f"fastimport {__version__}, core: {core.core_description()}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastimport",
        description="Import web-shop orders into the till, exactly once; invoice, print and correct stock.",
    )
    parser.add_argument("--version", action="version", version=_version_text())
    parser.add_argument("--config", help="configuration file (default: fastimport.toml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    imp = sub.add_parser("import", help="fetch the shop's orders of a date range into the pending table")
    imp.add_argument("--store", action="append", help="store name (repeatable; default: every store)")
    when = imp.add_mutually_exclusive_group(required=True)
    when.add_argument("--today", action="store_true", help="orders created today (store's time zone)")
    when.add_argument("--yesterday", action="store_true", help="orders created yesterday")
    when.add_argument("--week", action="store_true", help="orders created this week, since Monday")
    when.add_argument("--since", metavar="DATE", help="from this date (whole day) or ISO date-time")
    when.add_argument(
        "--incremental", action="store_true", help="orders modified since the last import (with an overlap)"
    )
    imp.add_argument("--until", metavar="DATE", help="up to this date (whole day, inclusive) or date-time")
    imp.add_argument("--json", action="store_true", help="print one JSON object (several stores: an array)")
    imp.set_defaults(handler=_cmd_import)

    pending = sub.add_parser("pending", help="orders awaiting processing, oldest first")
    pending.add_argument("--store", action="append")
    pending.add_argument("--json", action="store_true")
    pending.set_defaults(handler=_cmd_pending)

    orders = sub.add_parser("orders", help="every stored order, whatever its state")
    orders.add_argument("--store", action="append")
    orders.add_argument("--since", metavar="DATE")
    orders.add_argument("--until", metavar="DATE")
    orders.add_argument("--json", action="store_true")
    orders.set_defaults(handler=_cmd_orders)

    catalog = sub.add_parser("catalog", help="the local copy of the shop's products and customers")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", required=True)
    sync = catalog_sub.add_parser("sync", help="pull products (with variations) and customers from the shop")
    sync.add_argument("--store", action="append")
    sync.add_argument("--json", action="store_true")
    sync.set_defaults(handler=_cmd_catalog_sync)

    sim = sub.add_parser("sim", help="run the simulated shop (see: fastimport sim --help)", add_help=False)
    sim.add_argument("args", nargs=argparse.REMAINDER)
    sim.set_defaults(handler=_cmd_sim)

    from fastimport.print.cli import add_print_commands
    from fastimport.processing.cli import add_processing_commands

    add_processing_commands(sub)
    add_print_commands(sub)

    demo = sub.add_parser("demo", help="import a week from the built-in simulated shop into demo.duckdb")
    demo.add_argument("--orders", type=int, default=3000, help="orders in the simulated shop (default 3000)")
    demo.add_argument("--database", default="demo.duckdb", help="database file (default demo.duckdb)")
    demo.set_defaults(handler=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # `fastimport sim ...` hands every argument (--help included) to the simulator's own parser.
    args, unknown = parser.parse_known_args(argv)
    if args.command == "sim":
        args.args = [*args.args, *unknown]
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        if args.command == "print":
            return int(args.handler(args, _print_context(args)))
        handler: Handler = args.handler
        return handler(args)
    except FastImportError as exc:
        print(f"fastimport: {exc.message}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("fastimport: interrupted; what was stored so far is kept", file=sys.stderr)
        return 130
    finally:
        while _open_connections:
            _open_connections.pop().close()


# -- helpers ---------------------------------------------------------------------------------------


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config)


def _stores(config: Config, names: list[str] | None) -> list[StoreConfig]:
    return [config.store(n) for n in names] if names else list(config.stores)


def _print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


_open_connections: list[Any] = []


def _connect(config: Config) -> Any:
    """Open the database for this command; :func:`main` closes it (checkpointing DuckDB's log) on the way out."""
    from fastimport.store import connect

    con = connect(config.database)
    _open_connections.append(con)
    return con


# -- commands --------------------------------------------------------------------------------------


def _cmd_import(args: argparse.Namespace) -> int:
    from fastimport import ranges
    from fastimport.importer import DEFAULT_BATCH_ORDERS, import_stores
    from fastimport.store import imports

    if args.until and not args.since:
        raise _usage("--until needs --since")
    config = _config(args)
    stores = _stores(config, args.store)
    con = _connect(config)
    jobs = []
    for cfg in stores:
        zone = cfg.zone
        if args.today:
            rng = ranges.today(zone)
        elif args.yesterday:
            rng = ranges.yesterday(zone)
        elif args.week:
            rng = ranges.this_week(zone)
        elif args.since:
            rng = ranges.explicit(args.since, args.until, zone)
        else:
            store_id = imports.ensure_store(con, cfg.name, cfg.platform, cfg.url, cfg.timezone)
            rng = ranges.incremental(
                imports.watermark(con, store_id), dt.timedelta(minutes=cfg.overlap_minutes), zone
            )
        jobs.append((cfg, rng))
    progress = _Progress() if sys.stderr.isatty() and not args.json else None
    try:
        batch = int(os.environ.get("FASTIMPORT_BATCH_ORDERS", DEFAULT_BATCH_ORDERS))
        reports = asyncio.run(import_stores(con, jobs, progress=progress, batch_orders=batch))
    finally:
        if progress:
            progress.close()
    if args.json:
        _print_json(reports[0].to_json() if len(reports) == 1 else [r.to_json() for r in reports])
    else:
        from fastimport.report import print_import_reports

        print_import_reports(reports, {cfg.name: rng for cfg, rng in jobs}, {c.name: c for c in stores})
    failed = [r for r in reports if not r.ok]
    for r in failed:
        print(f"fastimport: {r.error}", file=sys.stderr)
    return EXIT_FAILURE if failed else EXIT_OK


class _Progress:
    """A progress line on a terminal, for long runs; never when output is piped."""

    def __init__(self) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True
        )
        self.tasks: dict[str, Any] = {}
        self.progress.start()

    def __call__(self, store: str, pages: int, orders: int) -> None:
        if store not in self.tasks:
            self.tasks[store] = self.progress.add_task(store)
        self.progress.update(self.tasks[store], description=f"{store}: {pages} pages, {orders} orders")

    def close(self) -> None:
        self.progress.stop()


def _cmd_pending(args: argparse.Namespace) -> int:
    from fastimport.report import print_orders
    from fastimport.store.queries import list_orders

    config = _config(args)
    stores = _stores(config, args.store)
    con = _connect(config)
    rows = list_orders(
        con, stores=[s.name for s in stores], pending_statuses={s.name: s.pending_statuses for s in stores}
    )
    if args.json:
        _print_json(rows)
    else:
        print_orders(
            rows, title=f"Pending orders ({len(rows)})", empty="Nothing pending: every order is done."
        )
    return EXIT_OK


def _cmd_orders(args: argparse.Namespace) -> int:
    from fastimport import ranges
    from fastimport.report import print_orders
    from fastimport.store.queries import list_orders

    config = _config(args)
    stores = _stores(config, args.store)
    zone = stores[0].zone
    since = ranges.parse_bound(args.since, zone, is_end=False) if args.since else None
    until = ranges.parse_bound(args.until, zone, is_end=True) if args.until else None
    con = _connect(config)
    rows = list_orders(con, stores=[s.name for s in stores], since=since, until=until)
    if args.json:
        _print_json(rows)
    else:
        print_orders(rows, title=f"Orders ({len(rows)})", empty="No order stored for this selection.")
    return EXIT_OK


def _cmd_catalog_sync(args: argparse.Namespace) -> int:
    from fastimport.catalog import sync_catalog

    config = _config(args)
    con = _connect(config)
    reports = [asyncio.run(sync_catalog(con, cfg)) for cfg in _stores(config, args.store)]
    if args.json:
        _print_json([{"store": r.store, "products": r.products, "customers": r.customers} for r in reports])
    else:
        for r in reports:
            print(f"{r.store}: {r.products} products and variations, {r.customers} customers synced")
    return EXIT_OK


def _cmd_sim(args: argparse.Namespace) -> int:
    from fastimport.sim.cli import main as sim_main

    return sim_main(args.args)


def _cmd_demo(args: argparse.Namespace) -> int:
    from fastimport.demo import run_demo

    return run_demo(orders=args.orders, database=args.database)


@dataclass(frozen=True)
class _PrintContext:
    con: Any
    printers: Sequence[Any]


def _print_context(args: argparse.Namespace) -> _PrintContext:
    from fastimport.print.config import parse_printers
    from fastimport.processing.cli import register_print_hooks

    config = _config(args)
    register_print_hooks(config)  # reprints find processing's documents and are journaled
    return _PrintContext(_connect(config), parse_printers(config.raw))


def _usage(message: str) -> SystemExit:
    print(f"fastimport: {message}", file=sys.stderr)
    return SystemExit(EXIT_USAGE)


if __name__ == "__main__":
    raise SystemExit(main())
