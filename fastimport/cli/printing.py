"""``fastimport print queue | retry | reprint``, written against :class:`PrintContext`.

Wire them with ``add_print_commands(subparsers)``; each leaf parser sets
``handler`` (``args.handler(args, ctx) -> int`` exit code).  The main CLI's
:class:`~fastimport.cli.common.Session` is the context; tests pass their own.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Protocol, TextIO

from fastimport.api.printing import print_job, print_queue, reprint, retry_printing, send_print_queue
from fastimport.errors import PrintError
from fastimport.print.config import PrinterConfig
from fastimport.print.queue import MAY_HAVE_PRINTED_TWICE, JobInfo
from fastimport.store.db import Connection


class PrintContext(Protocol):
    """What the print commands need from the main CLI."""

    @property
    def con(self) -> Connection: ...

    @property
    def printers(self) -> Sequence[PrinterConfig]: ...


def add_print_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add ``print queue | retry | reprint`` to the main CLI's subparsers."""
    parser = subparsers.add_parser("print", help="the print queue: list, retry, reprint")
    commands = parser.add_subparsers(dest="print_command", metavar="COMMAND", required=True)

    queue = commands.add_parser("queue", help="list jobs waiting, failed, or that may have printed twice")
    queue.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    queue.add_argument("--all", action="store_true", help="include printed jobs")
    queue.set_defaults(handler=cmd_queue)

    retry = commands.add_parser("retry", help="retry failed (and waiting) jobs now, or one job")
    retry.add_argument("job", nargs="?", type=int, metavar="JOB", help="job number (default: all)")
    retry.add_argument("--queue-only", action="store_true", help="re-queue without sending now")
    retry.set_defaults(handler=cmd_retry)

    again = commands.add_parser("reprint", help="print a document again, marked DUPLICATA n")
    again.add_argument("document", metavar="DOCUMENT", help="document number, e.g. FA-2026-000042")
    again.add_argument("--printer", help="printer name (default: where it printed last)")
    again.add_argument("--queue-only", action="store_true", help="enqueue without sending now")
    again.set_defaults(handler=cmd_reprint)
    return parser


def _describe(job: JobInfo) -> str:
    text = (
        f"#{job.job_id} {job.kind} {job.document_ref} -> {job.printer}: {job.status}"
        + (f" (DUPLICATA {job.copy_number})" if job.copy_number else "")
        + (f", {job.attempts} attempt{'s' if job.attempts != 1 else ''}" if job.attempts else "")
    )
    if job.status == "queued" and job.attempts:
        text += f", next try {job.next_attempt_at.astimezone():%H:%M:%S}"
    if job.last_error and job.status != "printed":
        text += f"\n    {job.last_error}"
    if job.possibly_duplicated:
        text += f"\n    ! this ticket {MAY_HAVE_PRINTED_TWICE} (the worker stopped while sending it)"
    return text


def cmd_queue(args: argparse.Namespace, ctx: PrintContext, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    jobs = print_queue(ctx.con, include_printed=bool(args.all))
    if args.json:
        json.dump([j.as_json() for j in jobs], out, ensure_ascii=False)
        out.write("\n")
        return 0
    if not jobs:
        out.write("print queue is empty\n")
        return 0
    waiting = sum(j.status in ("queued", "sending") for j in jobs)
    failed = sum(j.status == "failed" for j in jobs)
    doubled = sum(j.possibly_duplicated for j in jobs)
    out.write(f"{waiting} waiting, {failed} failed, {doubled} may have printed twice\n")
    for job in jobs:
        out.write(_describe(job) + "\n")
    return 0


def _send_now(ctx: PrintContext, out: TextIO) -> int:
    printed, left = send_print_queue(ctx.con, ctx.printers)
    out.write(f"printed {printed}; {len(left)} still waiting or failed\n")
    for job in left:
        out.write(_describe(job) + "\n")
    return 0 if not left else 1


def cmd_retry(args: argparse.Namespace, ctx: PrintContext, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    if args.job is not None:
        job = print_job(ctx.con, args.job)
        if job is None:
            sys.stderr.write(f"no print job #{args.job}\n")
            return 2
        if job.status == "printed":
            sys.stderr.write(
                f"job #{args.job} was printed; use `print reprint {job.document_ref}` for a duplicate\n"
            )
            return 2
    count = retry_printing(ctx.con, args.job)
    out.write(f"{count} job{'s' if count != 1 else ''} queued for printing\n")
    if args.queue_only or not ctx.printers:
        return 0
    return _send_now(ctx, out)


def cmd_reprint(args: argparse.Namespace, ctx: PrintContext, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        result = reprint(ctx.con, ctx.printers, args.document, printer=args.printer)
    except PrintError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    out.write(
        f"{result.document_ref}: DUPLICATA {result.copy_number} queued as job #{result.job_id} "
        f"on printer '{result.printer}'\n"
    )
    if args.queue_only:
        return 0
    return _send_now(ctx, out)
