"""``fastimport db migrate`` and ``fastimport db version``: the store's schema version, and upgrading it."""

from __future__ import annotations

import argparse
import sys

from fastimport.cli.common import EXIT_FAILURE, EXIT_OK, Session, output


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


def cmd_db_version(args: argparse.Namespace, session: Session) -> int:
    from fastimport.store.db import connect, latest_version, schema_version

    path = session.config.database
    con = connect(path, upgrade=False)
    try:
        current = schema_version(con)
    finally:
        con.close()
    latest = latest_version()
    value = {
        "database": str(path),
        "schema_version": current,
        "latest": latest,
        "up_to_date": current == latest,
    }
    output(args, value, lambda: print(
        f"{path}: schema {current}; this fastimport writes schema {latest}"
        + (" (up to date)" if current == latest else " (run fastimport db migrate)" if current < latest else "")
    ))  # fmt: skip
    if current > latest:
        print(_newer(current, latest), file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def cmd_db_migrate(args: argparse.Namespace, session: Session) -> int:
    from fastimport.store.db import connect, latest_version, migrate, schema_version

    path = session.config.database
    con = connect(path, upgrade=False)
    try:
        before = schema_version(con)
        if before > latest_version():
            print(_newer(before, latest_version()), file=sys.stderr)
            return EXIT_FAILURE
        after = migrate(con)
    finally:
        con.close()
    value = {"database": str(path), "schema_version_before": before, "schema_version_after": after,
             "migrated": after != before}  # fmt: skip
    output(args, value, lambda: print(
        f"{path}: schema {before} -> {after}" if after != before else f"{path}: schema {after}, already up to date"
    ))  # fmt: skip
    return EXIT_OK


def _newer(current: int, latest: int) -> str:
    return (
        f"fastimport: this database was written by a newer fastimport (schema {current}, this one knows "
        f"{latest}); upgrade fastimport before using it"
    )
