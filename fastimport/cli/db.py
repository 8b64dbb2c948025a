"""``fastimport db migrate`` and ``fastimport db version``: the store's schema version, and upgrading it."""

from __future__ import annotations

import argparse

from fastimport.cli.common import EXIT_OK, Session, output


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
        "copy", help="copy this DuckDB till, chains and all, into an empty PostgreSQL store"
    )
    copy.add_argument(
        "--to-env", required=True, metavar="VAR",
        help="the environment variable holding the PostgreSQL store's postgresql://… URL",
    )  # fmt: skip
    copy.add_argument("--json", action="store_true", help="print the result as JSON")
    copy.set_defaults(handler=cmd_db_copy)


def cmd_db_copy(args: argparse.Namespace, session: Session) -> int:
    """Exit 1, changing nothing, when the PostgreSQL store already holds anything."""
    from fastimport.api.database import copy_to_postgres

    source, target, tables = copy_to_postgres(session.config, args.to_env)
    value = {"from": source, "to": target, "rows": tables}
    output(
        args,
        value,
        lambda: print(f"{source} -> {target}: {sum(tables.values())} rows in {len(tables)} tables"),
    )
    return EXIT_OK


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
