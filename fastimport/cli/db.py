"""``fastimport db migrate|version|copy``: the store's schema version, upgrading it, moving a till up."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from fastimport.cli.common import EXIT_OK, Session, output, plural


def add_db_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="the store's schema: its version, and bringing it to this fastimport's")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    migrate = db_sub.add_parser(
        "migrate", help="bring the store's schema to this version (says from which to which)"
    )
    migrate.add_argument("--json", action="store_true")
    migrate.set_defaults(handler=cmd_db_migrate)
    version = db_sub.add_parser(
        "version", help="the store's schema version and the one this fastimport writes"
    )
    version.add_argument("--json", action="store_true")
    version.set_defaults(handler=cmd_db_version)
    copy = db_sub.add_parser(
        "copy", help="copy this DuckDB till, chains and all, into an empty PostgreSQL store (moving up)"
    )
    copy.add_argument(
        "--to-env",
        required=True,
        metavar="VAR",
        help="the environment variable holding the PostgreSQL store's postgresql://… URL",
    )
    copy.add_argument("--json", action="store_true")
    copy.set_defaults(handler=cmd_db_copy)


def cmd_db_version(args: argparse.Namespace, session: Session) -> int:
    """Exit 1 (after printing the versions) for a store written by a newer fastimport."""
    from fastimport.api.database import refuse_newer, store_version

    v = store_version(session.config)
    value = {
        "database": v.database,
        "schema_version": v.before,
        "latest": v.latest,
        "up_to_date": v.before == v.latest,
    }
    note = (
        " (up to date)"
        if v.before == v.latest
        else " (run fastimport db migrate)"
        if v.before < v.latest
        else ""
    )
    output(
        args,
        value,
        lambda: print(f"{v.database}: schema {v.before}; this fastimport writes schema {v.latest}{note}"),
    )
    refuse_newer(v)
    return EXIT_OK


def cmd_db_migrate(args: argparse.Namespace, session: Session) -> int:
    """Exit 1, changing nothing, for a store written by a newer fastimport."""
    from fastimport.api.database import migrate_store

    v = migrate_store(session.config)
    value = {"database": v.database, "schema_version_before": v.before, "schema_version_after": v.after,
             "migrated": v.after != v.before}  # fmt: skip
    output(args, value, lambda: print(
        f"{v.database}: schema {v.before} -> {v.after}" if v.after != v.before
        else f"{v.database}: schema {v.after}, already up to date"
    ))  # fmt: skip
    return EXIT_OK


def cmd_db_copy(args: argparse.Namespace, session: Session) -> int:
    """Exit 1, the target left without a row, when the copy is refused or fails."""
    from fastimport.api.database import copy_store

    progress = _TableProgress() if sys.stderr.isatty() and not args.json else None
    try:
        report = copy_store(session.config, args.to_env, progress=progress)
    finally:
        if progress:
            progress.close()

    def text() -> None:
        for t in report.tables:
            print(f"  {t.table:<28} {t.rows:>10,} rows  {t.seconds:6.2f} s")
        rows = sum(t.rows for t in report.tables)
        print(
            f"{report.source} -> {report.target}: {plural(len(report.tables), 'table')}, "
            f"{plural(rows, 'row')} in {report.seconds:.1f} s (schema {report.schema_version}). "
            "Now set [database] url_env and run fastimport verify"
        )

    output(args, report.to_json(), text)
    return EXIT_OK


class _TableProgress:
    """One bar per table on a terminal (on stderr; never when output is piped or --json)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=Console(stderr=True),
        )  # fmt: skip
        self.tasks: dict[str, Any] = {}
        self.progress.start()

    def __call__(self, table: str, done: int, total: int) -> None:
        if table not in self.tasks:
            self.tasks[table] = self.progress.add_task(table, total=total)
        self.progress.update(self.tasks[table], completed=done)

    def close(self) -> None:
        self.progress.stop()
