"""The persistent print queue (table ``print_jobs``) and the worker that empties it.

* :func:`enqueue` inserts a job and returns its id; it opens no transaction,
  so a caller enqueues inside the transaction that created the document.
* :class:`PrintWorker` sends jobs: per printer strictly in job order (a job is
  never sent while an earlier job of the same printer is unprinted), marks a
  job ``sending`` (committed) before the first byte, ``printed`` once the
  printer accepted the bytes, and on failure keeps it queued with exponential
  backoff and a plain-words ``last_error``.  At start it re-queues jobs left in
  ``sending`` by a killed worker and flags them ``possibly_duplicated``.

One worker per database at a time (DuckDB lets one process write a file).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastimport.print.config import PrinterConfig
from fastimport.print.content import TicketContent
from fastimport.print.layout import layout
from fastimport.print.render import render_escpos, render_text
from fastimport.print.transport import PrinterUnavailable, Transport, transport_for
from fastimport.store.db import Connection, first_row

STATUSES = ("queued", "sending", "printed", "failed")
MAY_HAVE_PRINTED_TWICE = "may have printed twice"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RenderedJob:
    kind: str
    document_ref: str
    payload: bytes
    preview: str
    copy_number: int


def render_document(document: TicketContent, printer: PrinterConfig) -> RenderedJob:
    """Lay out and render ``document`` for ``printer`` (bytes + text preview)."""
    ticket = layout(document, printer.paper())
    return RenderedJob(
        kind=ticket.kind,
        document_ref=ticket.ref,
        payload=render_escpos(ticket, printer.profile),
        preview=render_text(ticket),
        copy_number=ticket.copy_number,
    )


def enqueue(
    con: Connection,
    *,
    kind: str,
    document_ref: str,
    printer: str,
    payload: bytes,
    preview: str,
    copy_number: int = 0,
    reprint_of: int | None = None,
    now: datetime | None = None,
) -> int:
    """Store a print job (for the connection's till) and return its id.  Opens no transaction of its own."""
    from fastimport.store.db import till_of

    when = now or utcnow()
    row = first_row(
        con.execute(
            """INSERT INTO print_jobs (created_at, kind, document_ref, printer, payload, preview,
                                   status, next_attempt_at, copy_number, reprint_of, till)
           VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?) RETURNING job_id""",
            [
                when,
                kind,
                document_ref,
                printer,
                payload,
                preview,
                when,
                copy_number,
                reprint_of,
                till_of(con),
            ],
        )
    )
    assert row is not None
    return int(row[0])


def enqueue_document(
    con: Connection,
    document: TicketContent,
    printer: PrinterConfig,
    *,
    reprint_of: int | None = None,
) -> int:
    """Render ``document`` for ``printer`` and enqueue it (no transaction of its own)."""
    job = render_document(document, printer)
    return enqueue(
        con,
        kind=job.kind,
        document_ref=job.document_ref,
        printer=printer.name,
        payload=job.payload,
        preview=job.preview,
        copy_number=job.copy_number,
        reprint_of=reprint_of,
    )


@dataclass(frozen=True, slots=True)
class JobInfo:
    job_id: int
    created_at: datetime
    kind: str
    document_ref: str
    printer: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    sent_at: datetime | None
    printed_at: datetime | None
    copy_number: int
    possibly_duplicated: bool

    def as_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "job": self.job_id,
            "created_at": iso(self.created_at),
            "kind": self.kind,
            "document": self.document_ref,
            "printer": self.printer,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "next_attempt_at": iso(self.next_attempt_at),
            "sent_at": iso(self.sent_at),
            "printed_at": iso(self.printed_at),
            "copy_number": self.copy_number,
            "possibly_duplicated": self.possibly_duplicated,
        }


_JOB_COLUMNS = (
    "job_id, created_at, kind, document_ref, printer, status, attempts, last_error, "
    "next_attempt_at, sent_at, printed_at, copy_number, possibly_duplicated"
)


def list_jobs(con: Connection, *, include_printed: bool = False) -> list[JobInfo]:
    """Jobs not printed yet, plus printed jobs that may have printed twice (all with ``include_printed``)."""
    where = "" if include_printed else "WHERE status <> 'printed' OR possibly_duplicated"
    rows = con.execute(f"SELECT {_JOB_COLUMNS} FROM print_jobs {where} ORDER BY job_id").fetchall()
    return [JobInfo(*row) for row in rows]


def get_job(con: Connection, job_id: int) -> JobInfo | None:
    row = first_row(con.execute(f"SELECT {_JOB_COLUMNS} FROM print_jobs WHERE job_id = ?", [job_id]))
    return JobInfo(*row) if row else None


def requeue(con: Connection, job_id: int | None = None) -> int:
    """Make failed jobs (or one job) due now; queued jobs in backoff are made due too.

    Returns how many jobs were touched.  Printed jobs are never re-queued (reprint instead).
    """
    now = utcnow()
    if job_id is None:
        rows = con.execute(
            """UPDATE print_jobs SET status = 'queued', next_attempt_at = ?
               WHERE status IN ('queued', 'failed') RETURNING job_id""",
            [now],
        ).fetchall()
    else:
        rows = con.execute(
            """UPDATE print_jobs SET status = 'queued', next_attempt_at = ?
               WHERE job_id = ? AND status IN ('queued', 'failed') RETURNING job_id""",
            [now, job_id],
        ).fetchall()
    return len(rows)


ConnectionSource = str | os.PathLike[str] | Callable[[], Connection]


@dataclass
class WorkerReport:
    printed: int = 0
    failed_attempts: int = 0
    requeued_after_crash: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class PrintWorker:
    """Sends queued jobs to the configured printers.

    ``source`` is a database path (the worker opens it with
    :func:`fastimport.store.db.connect` and closes it) or a callable returning a
    connection (e.g. ``con.cursor``; the worker closes what it gets).
    ``transports`` maps printer names to custom :class:`Transport` objects
    (default: python-escpos for each printer's kind).
    """

    def __init__(
        self,
        source: ConnectionSource,
        printers: Sequence[PrinterConfig],
        *,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        max_attempts: int | None = None,
        poll_interval: float = 1.0,
        transports: dict[str, Transport] | None = None,
        on_event: Callable[[str, JobInfo | None, str], None] | None = None,
        till: str | None = None,
    ) -> None:
        self._source = source
        # Several tills on one PostgreSQL store: this worker takes only its till's jobs.
        self.till = till
        self.printers = {p.name: p for p in printers}
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_attempts = max_attempts
        self.poll_interval = poll_interval
        self._transports: dict[str, Transport] = dict(transports or {})
        self._con: Connection | None = None
        self._recovered = False
        self._stop = threading.Event()
        self.on_event = on_event
        self.report = WorkerReport()

    # -- connection -------------------------------------------------------------
    @property
    def con(self) -> Connection:
        if self._con is None:
            if callable(self._source):
                self._con = self._source()
            else:
                from pathlib import Path

                from fastimport.store.db import connect

                source = self._source
                self._con = connect(source if isinstance(source, str) else Path(source))
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> PrintWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stop(self) -> None:
        """Ask :meth:`run` (possibly in another thread) to return after the current job."""
        self._stop.set()

    # -- recovery ---------------------------------------------------------------
    def recover(self) -> list[int]:
        """Re-queue jobs a killed worker left in ``sending``; flag them possibly duplicated."""
        self._recovered = True
        rows = self.con.execute(
            """UPDATE print_jobs
               SET status = 'queued', possibly_duplicated = true, next_attempt_at = ?,
                   last_error = 'the print worker stopped while sending this ticket: it '
                                || 'may have printed twice'
               WHERE status = 'sending' AND till IS NOT DISTINCT FROM ? RETURNING job_id""",
            [utcnow(), self.till],
        ).fetchall()
        ids = sorted(int(r[0]) for r in rows)
        self.report.requeued_after_crash.extend(ids)
        return ids

    # -- sending ----------------------------------------------------------------
    def _transport(self, printer: PrinterConfig) -> Transport:
        transport = self._transports.get(printer.name)
        if transport is None:
            transport = self._transports[printer.name] = transport_for(printer)
        return transport

    def _heads(self) -> list[tuple[int, str, datetime, int]]:
        """The first unprinted job of each printer: (job_id, printer, next_attempt_at, attempts)."""
        return [
            (int(r[0]), str(r[1]), r[2], int(r[3]))
            for r in self.con.execute(
                """SELECT job_id, printer, next_attempt_at, attempts FROM print_jobs
                   WHERE job_id IN (SELECT min(job_id) FROM print_jobs WHERE status IN ('queued', 'sending')
                                    AND till IS NOT DISTINCT FROM ? GROUP BY printer) ORDER BY 1""",
                [self.till],
            ).fetchall()
        ]

    def next_due(self) -> datetime | None:
        """When the next job becomes due (None: the queue is empty)."""
        heads = self._heads()
        return min((h[2] for h in heads), default=None)

    def run_once(self) -> int:
        """One pass: send at most one due job per printer.  Returns how many printed."""
        if not self._recovered:
            self.recover()
        printed = 0
        now = utcnow()
        for job_id, printer_name, due, attempts in self._heads():
            if self._stop.is_set():
                break
            if due > now:
                continue
            printer = self.printers.get(printer_name)
            if printer is None:
                self._fail(job_id, f"no printer named '{printer_name}' in the configuration")
                continue
            if self._send(job_id, printer, attempts):
                printed += 1
        return printed

    def _send(self, job_id: int, printer: PrinterConfig, attempts: int) -> bool:
        con = self.con
        row = first_row(
            con.execute(
                """UPDATE print_jobs SET status = 'sending', attempts = attempts + 1, sent_at = ?
               WHERE job_id = ? AND status = 'queued' RETURNING payload""",
                [utcnow(), job_id],
            )
        )
        # The claim: a job moves from queued to sending once (on PostgreSQL a second worker's UPDATE
        # waits for the row, then finds it no longer queued), so no two workers send one job.
        if row is None:  # someone else changed it (retry command, another worker)
            return False
        payload = bytes(row[0])
        try:
            self._transport(printer).send(payload)
        except PrinterUnavailable as exc:
            self._retry_later(job_id, attempts + 1, exc)
            return False
        con.execute(
            """UPDATE print_jobs SET status = 'printed', printed_at = ?, last_error = NULL
               WHERE job_id = ?""",
            [utcnow(), job_id],
        )
        self.report.printed += 1
        self._emit("printed", job_id, "")
        return True

    def _retry_later(self, job_id: int, attempts: int, exc: PrinterUnavailable) -> None:
        message = str(exc)
        maybe = bool(getattr(exc, "maybe_printed", False))
        if maybe:
            message += f"; part of the ticket may have printed: it {MAY_HAVE_PRINTED_TWICE}"
        self.report.failed_attempts += 1
        self.report.errors.append(message)
        if not exc.transient:  # e.g. a file printer's folder that does not exist: waiting will not help
            self.con.execute(
                "UPDATE print_jobs SET status = 'failed', last_error = ? WHERE job_id = ?",
                [f"{message} (fix the configuration, then `print retry`)", job_id],
            )
            self._emit("failed", job_id, message)
            return
        if self.max_attempts is not None and attempts >= self.max_attempts:
            self.con.execute(
                """UPDATE print_jobs SET status = 'failed', last_error = ?,
                       possibly_duplicated = possibly_duplicated OR ? WHERE job_id = ?""",
                [f"{message} (gave up after {attempts} attempts; `print retry` to try again)", maybe, job_id],
            )
            self._emit("failed", job_id, message)
            return
        delay = min(self.backoff_max, self.backoff_base * (2 ** max(0, attempts - 1)))
        self.con.execute(
            """UPDATE print_jobs SET status = 'queued', last_error = ?, next_attempt_at = ?,
                   possibly_duplicated = possibly_duplicated OR ? WHERE job_id = ?""",
            [message, utcnow() + timedelta(seconds=delay), maybe, job_id],
        )
        self._emit("retry", job_id, message)

    def _fail(self, job_id: int, message: str) -> None:
        self.con.execute(
            "UPDATE print_jobs SET status = 'failed', last_error = ? WHERE job_id = ? AND status = 'queued'",
            [message, job_id],
        )
        self.report.errors.append(message)
        self._emit("failed", job_id, message)

    def _emit(self, event: str, job_id: int, message: str) -> None:
        if self.on_event is not None:
            self.on_event(event, get_job(self.con, job_id), message)

    def run(self, *, until_empty: bool = True, max_seconds: float | None = None) -> WorkerReport:
        """Send jobs until the queue is empty (``until_empty``) or ``max_seconds`` passed or :meth:`stop`."""
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        self._stop.clear()
        while not self._stop.is_set():
            printed = self.run_once()
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                break
            if printed:
                continue  # the next jobs are probably due already
            due = self.next_due()
            if due is None and until_empty:
                break
            wait = self.poll_interval
            if due is not None:
                wait = min(wait, max(0.0, (due - utcnow()).total_seconds()))
            if remaining is not None:
                wait = min(wait, remaining)
            if wait > 0:
                self._stop.wait(wait)
        return self.report
