"""``fastimport push queue`` and ``fastimport push retry``: what the shop has not been told yet."""

from __future__ import annotations

import argparse

from fastimport.cli.common import EXIT_FAILURE, EXIT_OK, Session, output, plural


def add_push_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    push = sub.add_parser(
        "push", help="what the shop is told at each step (statuses, notes, invoice numbers)"
    )
    push_sub = push.add_subparsers(dest="push_command", required=True)
    queue = push_sub.add_parser("queue", help="pushes waiting for the shop, and why")
    queue.add_argument("--all", action="store_true", help="every push, sent ones included")
    queue.add_argument("--json", action="store_true")
    queue.set_defaults(handler=cmd_push_queue)
    retry = push_sub.add_parser("retry", help="send the waiting pushes now (all, or one)")
    retry.add_argument("push_id", nargs="?", type=int, metavar="ID", help="one push (see push queue)")
    retry.add_argument("--json", action="store_true")
    retry.set_defaults(handler=cmd_push_retry)


def cmd_push_queue(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.pushes import push_queue
    from fastimport.cli.output import clean

    rows = push_queue(session.con, everything=args.all)

    def text() -> None:
        if not rows:
            print("nothing waits: the shop has been told everything")
        for r in rows:
            what = f"{r['step']}" + (f" {r['document']}" if r["document"] else "")
            why = f": {r['last_error']}" if r["last_error"] else ""
            print(clean(f"#{r['id']} {r['store']} order {r['order']} {what} {r['state']} "
                        f"({plural(r['attempts'], 'attempt')}){why}"))  # fmt: skip

    output(args, rows, text)
    return EXIT_OK


def cmd_push_retry(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.pushes import retry_pushes

    report = retry_pushes(session.config, session.con, args.push_id)

    def text() -> None:
        print(f"{plural(report.sent, 'push')} sent, {report.waiting} still waiting")
        for error in dict.fromkeys(report.errors):
            print(f"  {error}")

    output(args, report.to_json(), text)
    return EXIT_OK if report.ok else EXIT_FAILURE
