"""``fastimport import`` and ``fastimport catalog sync``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from fastimport.cli.common import EXIT_FAILURE, EXIT_OK, Session, print_json, usage
from fastimport.ranges import RangeRequest


def add_import_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    imp.set_defaults(handler=cmd_import)

    catalog = sub.add_parser("catalog", help="the local copy of the shop's products and customers")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", required=True)
    sync = catalog_sub.add_parser("sync", help="pull products (with variations) and customers from the shop")
    sync.add_argument("--store", action="append")
    sync.add_argument("--json", action="store_true")
    sync.set_defaults(handler=cmd_catalog_sync)


def range_request(args: argparse.Namespace) -> RangeRequest:
    if args.until and not args.since:
        raise usage("--until needs --since")
    if args.today:
        return RangeRequest.today()
    if args.yesterday:
        return RangeRequest.yesterday()
    if args.week:
        return RangeRequest.week()
    if args.since:
        return RangeRequest.between(args.since, args.until)
    return RangeRequest.incremental()


def cmd_import(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.imports import import_stores, plan_imports
    from fastimport.cli.output import print_import_reports

    request = range_request(args)
    config, con = session.config, session.con
    jobs = plan_imports(config, con, request, args.store)
    progress = _Progress() if sys.stderr.isatty() and not args.json else None
    try:
        reports = import_stores(config, con, jobs, progress=progress)
    finally:
        if progress:
            progress.close()
    if args.json:
        print_json(reports[0].to_json() if len(reports) == 1 else [r.to_json() for r in reports])
    else:
        print_import_reports(
            reports, {cfg.name: rng for cfg, rng in jobs}, {cfg.name: cfg for cfg, _ in jobs}
        )
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


def cmd_catalog_sync(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.imports import sync_catalog

    reports = sync_catalog(session.config, session.con, args.store)
    if args.json:
        print_json([{"store": r.store, "products": r.products, "customers": r.customers} for r in reports])
    else:
        for r in reports:
            print(f"{r.store}: {r.products} products and variations, {r.customers} customers synced")
    return EXIT_OK
