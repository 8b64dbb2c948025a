"""``fastimport import`` and ``fastimport catalog sync``."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from fastimport.cli.common import EXIT_FAILURE, EXIT_LOCKED, EXIT_OK, Session, print_json, usage
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
    out = imp.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object (several stores: an array)")
    out.add_argument(
        "--quiet", action="store_true", help="for cron: print nothing unless a store failed or was locked"
    )
    imp.add_argument(
        "--max-stores",
        type=_positive,
        metavar="N",
        help="stores imported at once (default: [import] max_stores)",
    )
    imp.add_argument(
        "--log-file", metavar="FILE", help="append JSON lines to FILE: one per store, run start and end"
    )
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


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1 (got {text!r})")
    return value


def cmd_import(args: argparse.Namespace, session: Session) -> int:
    """Import; exit 0 when every store succeeded, 1 when any failed, 3 when the only problem was a lock."""
    from pathlib import Path

    from fastimport.api.locks import new_run_id
    from fastimport.api.runlog import configured_secrets, json_log_file

    request = range_request(args)
    config, run = session.config, new_run_id()
    if not args.log_file:
        return _import_run(args, session, request, run)
    with json_log_file(Path(args.log_file), configured_secrets(config)):
        return _import_run(args, session, request, run)


def _import_run(args: argparse.Namespace, session: Session, request: RangeRequest, run: str) -> int:
    import time

    from fastimport.api.imports import import_stores, plan_imports, selected_stores
    from fastimport.api.locks import lock_stores, skipped_report
    from fastimport.api.runlog import log_event, log_reports
    from fastimport.cli.output import print_import_reports
    from fastimport.errors import FastImportError

    config, started = session.config, time.perf_counter()
    names = [cfg.name for cfg in selected_stores(config, args.store)]
    log_event("run_start", run, command="import", mode=request.kind, stores=names)
    try:
        # Locks first, the store after: a run that finds every store busy never waits for the file.
        with lock_stores(config, names, run=run) as leases:
            jobs = plan_imports(config, session.con, request, list(leases.held)) if leases.held else []
            progress = _Progress() if sys.stderr.isatty() and not (args.json or args.quiet) and jobs else None
            try:
                ran = import_stores(config, session.con, jobs, progress=progress, max_stores=args.max_stores,
                                    leases=leases) if jobs else []  # fmt: skip
            finally:
                if progress:
                    progress.close()
        by_store = {r.store: r for r in ran}
        reports = [
            by_store[n] if n in by_store else skipped_report(n, request.kind, leases.locked[n]) for n in names
        ]
        log_reports(run, [r for r in reports if r.locked])  # the others were logged as they ran
    except FastImportError as exc:
        log_event("run_end", run, logging.ERROR, exit=EXIT_FAILURE, error=exc.message,
                  duration=round(time.perf_counter() - started, 3))  # fmt: skip
        raise
    failed = [r for r in reports if not r.ok and not r.locked]
    locked = [r for r in reports if r.locked]
    code = EXIT_FAILURE if failed else EXIT_LOCKED if locked else EXIT_OK
    log_event("run_end", run, logging.INFO if code == EXIT_OK else logging.ERROR, exit=code, stores=len(reports),
              ok=len(reports) - len(failed) - len(locked), failed=len(failed), locked=len(locked),
              duration=round(time.perf_counter() - started, 3))  # fmt: skip
    if args.json:
        print_json(reports[0].to_json() if len(reports) == 1 else [r.to_json() for r in reports])
    elif not args.quiet:
        print_import_reports(
            reports, {cfg.name: rng for cfg, rng in jobs}, {cfg.name: cfg for cfg, _ in jobs}
        )
    for r in failed + locked:
        print(f"fastimport: {r.error}", file=sys.stderr)
    return code


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
