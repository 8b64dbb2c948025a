"""Reprints: the document sources processing plugs in, and the journal hook.

The printing room does not know how invoices are stored.  The processing room
registers, per document kind, a callable ``(con, ref) -> document | None``;
a reprint looks the document up, renders it with ``copy_number`` = previous
copies + 1 (``DUPLICATA n``), enqueues it and tells every reprint listener
(the journal), all in one transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from fastimport.errors import PrintError
from fastimport.print.config import PrinterConfig
from fastimport.print.content import DOCUMENT_KINDS, TicketContent
from fastimport.print.queue import enqueue_document, utcnow
from fastimport.store.db import Connection, first_row, transaction

DocumentSource = Callable[[Connection, str], TicketContent | None]


@dataclass(frozen=True, slots=True)
class ReprintEvent:
    """What a reprint listener receives; ``con`` is inside the reprint's transaction."""

    con: Connection
    kind: str
    document_ref: str
    copy_number: int
    job_id: int
    printer: str
    requested_at: datetime
    actor: str | None


ReprintListener = Callable[[ReprintEvent], None]

_sources: dict[str, DocumentSource] = {}
_listeners: list[ReprintListener] = []


def register_document_source(kind: str, source: DocumentSource) -> None:
    """Let ``print reprint`` find documents of ``kind`` (replaces an earlier source for it)."""
    if kind not in DOCUMENT_KINDS:
        raise ValueError(f"unknown document kind {kind!r} (one of {', '.join(DOCUMENT_KINDS)})")
    _sources[kind] = source


def register_reprint_listener(listener: ReprintListener) -> None:
    """Called for every reprint, inside its transaction (write the journal event there)."""
    if listener not in _listeners:
        _listeners.append(listener)


def clear_hooks() -> None:
    """Forget every source and listener (tests)."""
    _sources.clear()
    _listeners.clear()


@dataclass(frozen=True, slots=True)
class ReprintResult:
    job_id: int
    kind: str
    document_ref: str
    copy_number: int
    printer: str


def find_document(con: Connection, ref: str) -> TicketContent:
    """The document ``ref`` from the registered sources (kinds already printed for it first)."""
    known = [
        str(r[0])
        for r in con.execute(
            "SELECT kind FROM print_jobs WHERE document_ref = ? GROUP BY kind ORDER BY max(job_id) DESC",
            [ref],
        ).fetchall()
    ]
    kinds = [k for k in known if k in _sources] + [k for k in _sources if k not in known]
    if not kinds:
        raise PrintError(
            "reprint is not available: no document source is registered "
            "(the processing module registers them)",
            document=ref,
        )
    for kind in kinds:
        document = _sources[kind](con, ref)
        if document is not None:
            return document
    raise PrintError(f"no document {ref!r} found (looked for: {', '.join(kinds)})", document=ref)


def reprint(
    con: Connection,
    printers: Sequence[PrinterConfig],
    ref: str,
    *,
    printer: str | None = None,
    actor: str | None = None,
) -> ReprintResult:
    """Enqueue a DUPLICATA of ``ref`` and notify the listeners, in one transaction."""
    if not printers:
        raise PrintError("no printer is configured ([printer] in the configuration file)")
    document = find_document(con, ref)
    by_name = {p.name: p for p in printers}
    if printer is None:
        last = first_row(
            con.execute(
                "SELECT printer FROM print_jobs WHERE document_ref = ? AND kind = ? ORDER BY job_id DESC LIMIT 1",
                [ref, document.kind],
            )
        )
        target = by_name.get(str(last[0])) if last else None
        target = target or printers[0]
    else:
        if printer not in by_name:
            raise PrintError(
                f"no printer named '{printer}' (configured: {', '.join(by_name)})", printer=printer
            )
        target = by_name[printer]
    with transaction(con):
        row = first_row(
            con.execute(
                """SELECT coalesce(max(copy_number), 0), max(job_id) FILTER (WHERE copy_number = 0)
               FROM print_jobs WHERE document_ref = ? AND kind = ?""",
                [ref, document.kind],
            )
        )
        previous = max(int(row[0]) if row else 0, document.copy_number)
        original_job = int(row[1]) if row and row[1] is not None else None
        copy = previous + 1
        duplicate = dataclasses.replace(document, copy_number=copy)
        job_id = enqueue_document(con, duplicate, target, reprint_of=original_job)
        event = ReprintEvent(
            con=con,
            kind=document.kind,
            document_ref=ref,
            copy_number=copy,
            job_id=job_id,
            printer=target.name,
            requested_at=utcnow(),
            actor=actor,
        )
        for listener in list(_listeners):
            listener(event)
    return ReprintResult(
        job_id=job_id, kind=document.kind, document_ref=ref, copy_number=copy, printer=target.name
    )
