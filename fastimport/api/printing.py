"""Print side of the library API: the configured printers, the queue, retries and reprints."""

from __future__ import annotations

from collections.abc import Sequence

from fastimport.config import Config
from fastimport.print.config import PrinterConfig
from fastimport.print.queue import JobInfo, PrintWorker, get_job, list_jobs, requeue
from fastimport.print.reprint import ReprintResult
from fastimport.print.reprint import reprint as reprint_document
from fastimport.store.db import Connection

SEND_NOW_SECONDS = 15.0  # how long a retry or a reprint keeps sending before leaving the rest queued


def configured_printers(config: Config) -> list[PrinterConfig]:
    """The ``[printer]`` / ``[[printers]]`` of the configuration, in order (the first is the default)."""
    from fastimport.print.config import parse_printers

    return parse_printers(config.raw)


def register_print_hooks(config: Config) -> None:
    """Let reprints find invoices, credit notes, delivery notes and slips, and journal each reprint."""
    from fastimport.api.fiscal import closing_ticket
    from fastimport.print.reprint import register_document_source
    from fastimport.processing.printing import register_print_hooks as register
    from fastimport.processing.settings import load_settings

    register(load_settings(config))
    register_document_source("closing", lambda con, ref: closing_ticket(config, con, ref))  # Z tickets


def print_queue(con: Connection, *, include_printed: bool = False) -> list[JobInfo]:
    """Jobs waiting, failed, or that may have printed twice (every job with ``include_printed``)."""
    return list_jobs(con, include_printed=include_printed)


def print_job(con: Connection, job: int) -> JobInfo | None:
    return get_job(con, job)


def retry_printing(con: Connection, job: int | None = None) -> int:
    """Make failed jobs (or one job) due now; returns how many were re-queued."""
    return requeue(con, job)


def send_print_queue(
    con: Connection, printers: Sequence[PrinterConfig], max_seconds: float = SEND_NOW_SECONDS
) -> tuple[int, list[JobInfo]]:
    """Send the queue for at most ``max_seconds``: (tickets printed, jobs still waiting or failed)."""
    from fastimport.store.db import till_of

    worker = PrintWorker(lambda: con.cursor(), printers, till=till_of(con))
    try:
        report = worker.run(until_empty=True, max_seconds=max_seconds)
    finally:
        worker.close()
    return report.printed, [j for j in list_jobs(con) if j.status != "printed"]


def reprint(
    con: Connection, printers: Sequence[PrinterConfig], document: str, printer: str | None = None
) -> ReprintResult:
    """Queue a DUPLICATA of a document (journaled in the same transaction when hooks are registered)."""
    return reprint_document(con, printers, document, printer=printer)
