"""``fastimport webhooks`` (status) and ``fastimport webhooks process``: the deliveries the till kept.

The deliveries themselves come in through the till page's route (``fastimport serve``); these
commands show what arrived and process what is waiting when the server is not running.
"""

from __future__ import annotations

import argparse

from fastimport.cli.common import EXIT_FAILURE, EXIT_OK, Session, output


def add_webhooks_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    hooks = sub.add_parser("webhooks", help="webhooks per store: last arrival, waiting, failed, missed")
    hooks.add_argument("--json", action="store_true")
    hooks.set_defaults(handler=cmd_webhooks_status)
    hooks_sub = hooks.add_subparsers(dest="webhooks_command")
    process = hooks_sub.add_parser(
        "process", help="process the kept deliveries now (the server does it itself)"
    )
    process.add_argument("--json", action="store_true")
    process.set_defaults(handler=cmd_webhooks_process)


def cmd_webhooks_status(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.webhooks import webhook_status

    rows = webhook_status(session.config, session.con)

    def text() -> None:
        if not rows:
            print("No store takes webhooks (set webhook_secret_env in a [[stores]] table).")
        for s in rows:
            last = s.last_received_at or "never"
            print(
                f"{s.store}: {s.received} received, last {last}; {s.pending} waiting, {s.failed} failed; "
                f"{s.unannounced_orders} order(s) found by import only"
            )
            if s.warning:
                print(f"  ! {s.warning}")

    output(args, [s.to_json() for s in rows], text)
    return EXIT_OK


def cmd_webhooks_process(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.webhooks import PROCESS_LIMIT, WebhookBatch, process_webhooks

    totals: dict[str, int] = {}
    while True:
        batch = process_webhooks(session.config, session.con)
        for key, value in batch.to_json().items():
            totals[key] = totals.get(key, 0) + value
        if batch.processed < PROCESS_LIMIT:
            break
    report = WebhookBatch(**totals)
    output(
        args,
        report.to_json(),
        lambda: print(
            f"{report.processed} deliveries processed: {report.new} new, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.stale} older than stored, "
            f"{report.locked_changes} changes to invoiced orders, {report.failed} failed"
        ),
    )
    return EXIT_FAILURE if report.failed else EXIT_OK
