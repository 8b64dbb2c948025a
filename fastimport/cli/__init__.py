"""The ``fastimport`` command: parses arguments, calls the library API (:mod:`fastimport`), prints.

One module per command group: :mod:`.imports` (import, catalog sync), :mod:`.orders` (pending,
orders, order show, comment), :mod:`.processing` (slip, invoice, credit-note, ship, payments,
stock, verify), :mod:`.printing` (print queue, retry, reprint), :mod:`.sim`, :mod:`.demo`,
:mod:`.webhooks` (webhook status, processing kept deliveries).
Shared helpers (exit codes, JSON, the store session) are in :mod:`.common`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import duckdb

from fastimport import __version__
from fastimport.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Session, complete_help
from fastimport.errors import FastImportError
from fastimport.store.db import disk_full

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]


def _version_text() -> str:
    from fastimport import core

    return f"fastimport {__version__}, core: {core.core_description()}"


class _VersionAction(argparse.Action):
    """``--version``: loads the core (and pyarrow) only when asked, not for every command."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and the core in use, and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        print(_version_text())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    from fastimport.cli import (
        customers,
        db,
        demo,
        documents,
        fiscal,
        imports,
        orders,
        printing,
        processing,
        push,
        reports,
        sim,
        web,
        webhooks,
    )

    parser = argparse.ArgumentParser(
        prog="fastimport",
        description="Import web-shop orders into the till, exactly once; invoice, print and correct stock.",
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument("--config", help="configuration file (default: fastimport.toml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    imports.add_import_commands(sub)
    orders.add_order_commands(sub)
    sim.add_sim_command(sub)
    processing.add_processing_commands(sub)
    printing.add_print_commands(sub)
    demo.add_demo_command(sub)
    fiscal.add_fiscal_commands(sub)
    web.add_web_commands(sub)
    documents.add_documents_commands(sub)
    push.add_push_commands(sub)
    customers.add_customer_commands(sub)
    webhooks.add_webhooks_commands(sub)
    db.add_db_commands(sub)
    reports.add_report_commands(sub)
    complete_help(parser)
    return parser


def _sim_arguments(argv: Sequence[str]) -> list[str] | None:
    """The simulator's arguments when the command is ``sim`` (after any ``--config FILE``), else None.

    They bypass this parser entirely, so ``fastimport sim --orders 100000 --days 7`` reaches the
    simulator as written.
    """
    i = 0
    while i < len(argv) and argv[i].startswith("--config"):
        i += 1 if "=" in argv[i] else 2
    return list(argv[i + 1 :]) if i < len(argv) and argv[i] == "sim" else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    sim_args = _sim_arguments(argv)
    if sim_args is not None:
        from fastimport.cli.sim import run_sim

        return run_sim(sim_args)
    args = build_parser().parse_args(argv)
    session = Session(args)
    try:
        if args.command == "print":
            from fastimport.api.printing import register_print_hooks

            register_print_hooks(session.config)  # reprints find processing's documents, journaled
        return int(args.handler(args, session))
    except FastImportError as exc:
        print(f"fastimport: {exc.message}", file=sys.stderr)
        return EXIT_FAILURE
    except (duckdb.Error, OSError) as exc:
        full = disk_full(exc)  # wherever the write failed (a checkpoint, a log file, an anchor)
        if full is None:
            raise
        print(f"fastimport: {full.message}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("fastimport: interrupted; what was stored so far is kept", file=sys.stderr)
        return 130
    finally:
        try:
            session.close()
        except duckdb.Error as exc:  # closing an invalidated database after a full disk
            if disk_full(exc) is None:
                raise
