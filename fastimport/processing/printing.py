"""Where processing meets the print queue: tickets enqueued with their documents, slips, reprints.

No ticket content is decided here (that is :mod:`fastimport.processing.tickets`), nor any
layout (:mod:`fastimport.print.layout`): this module only says *when* tickets are queued.

* :func:`ticket_hook` returns the ``on_documents`` hook that ``invoice_orders``,
  ``credit_note`` and ``ship`` call inside their transaction: the tickets are
  rendered and stored in the print queue in the same transaction as the
  invoices, so an invoice never exists without its print job, nor a job
  without its invoice.
* :func:`print_slips` prints preparation slips and moves each order
  pending → prepared in the same transaction as its print job.
* :func:`send_queued` runs the print worker for a bounded time after a batch.
* :func:`register_print_hooks` lets ``fastimport print reprint`` find invoices,
  credit notes, delivery notes and slips, and journals every reprint in the
  signed journal (inside the reprint's transaction).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastimport.config import Config
from fastimport.errors import ConfigError, ProcessingError
from fastimport.print.config import PrinterConfig, parse_printers
from fastimport.print.content import PreparationSlip, TicketContent
from fastimport.print.queue import JobInfo, PrintWorker, enqueue_document, list_jobs
from fastimport.print.reprint import ReprintEvent, register_document_source, register_reprint_listener
from fastimport.processing import chain, lifecycle, tickets
from fastimport.processing.invoicing import DocumentsHook
from fastimport.processing.settings import ProcessingSettings
from fastimport.store.db import Connection, till_of, transaction

DEFAULT_PRINT_TIMEOUT = 30.0
# Order states whose preparation slip is printed (a prepared order's slip again is a DUPLICATA).
SLIP_STATES = ("pending", "prepared")


# -- printers --------------------------------------------------------------------------------------


def choose_printer(config: Config, name: str | None) -> tuple[PrinterConfig, list[PrinterConfig]]:
    """(the printer to print on, every configured printer), or a plain-words refusal.

    Called before anything is written: ``--print`` with no printer configured stops here.
    """
    printers = parse_printers(config.raw)
    if not printers:
        raise ConfigError(
            "--print needs a printer, and none is configured: add a [printer] table (kind, host, ...) "
            "to the configuration file; nothing was done",
            key="printer",
        )
    if name is None:
        return printers[0], printers
    for printer in printers:
        if printer.name == name:
            return printer, printers
    names = ", ".join(p.name for p in printers)
    raise ConfigError(f"no printer named '{name}' (configured: {names}); nothing was done", key="printers")


@dataclass
class Enqueued:
    """The print jobs a command created (filled by its hook, inside the transactions)."""

    jobs: list[tuple[int, str]] = field(default_factory=list)  # (job id, document ref)

    @property
    def count(self) -> int:
        return len(self.jobs)


def ticket_hook(
    settings: ProcessingSettings, printer: PrinterConfig, kind: str, enqueued: Enqueued
) -> DocumentsHook:
    """The ``on_documents`` hook that enqueues the tickets of ``kind`` ("fiscal" or "delivery_note")."""

    def hook(con: Connection, numbers: Sequence[str]) -> None:
        documents: list[TicketContent]
        if kind == "delivery_note":
            notes = [tickets.delivery_note(con, settings, n) for n in numbers]
            documents = [d for d in notes if d is not None]
        else:
            documents = list(tickets.fiscal_tickets(con, settings, numbers))
        if len(documents) != len(numbers):
            raise ProcessingError(f"cannot build the tickets of {', '.join(numbers)}: a document is missing")
        for document in documents:
            enqueued.jobs.append((enqueue_document(con, document, printer), document.ref))

    return hook


# -- sending ---------------------------------------------------------------------------------------


@dataclass
class PrintOutcome:
    enqueued: int
    printed: int
    waiting: list[JobInfo]
    seconds: float
    sent: bool = True  # False: --print-timeout 0, the jobs were only queued

    @property
    def ok(self) -> bool:
        return not self.waiting or not self.sent

    def reasons(self) -> list[str]:
        """Each distinct reason jobs are still waiting, with how many."""
        counts: dict[str, int] = {}
        for job in self.waiting:
            why = job.last_error or ("not sent yet" if job.attempts == 0 else "waiting")
            if not why.startswith(f"printer '{job.printer}'"):  # transport messages name it already
                why = f"printer '{job.printer}': {why}"
            counts[why] = counts.get(why, 0) + 1
        return [f"{n} x {why}" if n > 1 else why for why, n in counts.items()]

    def to_json(self) -> dict[str, Any]:
        return {
            "enqueued": self.enqueued,
            "printed": self.printed,
            "still_queued": len(self.waiting),
            "reasons": self.reasons(),
            "jobs": [j.job_id for j in self.waiting],
            "sent": self.sent,
        }

    def describe(self) -> list[str]:
        lines = [f"tickets: {self.enqueued} queued, {self.printed} printed"]
        if not self.sent:
            lines[0] += " (not sent: --print-timeout 0; `fastimport print retry` sends the queue)"
        elif self.waiting:
            lines.append(
                f"{len(self.waiting)} ticket{'s' if len(self.waiting) != 1 else ''} still in the print queue "
                "(nothing is lost; they print in order with `fastimport print retry` once the printer is back):"
            )
            lines.extend(f"  {why}" for why in self.reasons())
        return lines


def send_queued(
    con: Connection, printers: Sequence[PrinterConfig], enqueued: int, timeout: float
) -> PrintOutcome:
    """Run the print worker until the queue is empty or ``timeout`` seconds passed (0: do not send)."""
    import time

    started = time.monotonic()
    printed = 0
    if timeout > 0:
        worker = PrintWorker(
            lambda: con.cursor(), printers, backoff_base=0.5, backoff_max=5.0, poll_interval=0.2,
            till=till_of(con),
        )  # fmt: skip
        try:
            printed = worker.run(until_empty=True, max_seconds=timeout).printed
        finally:
            worker.close()
    waiting = [j for j in list_jobs(con) if j.status != "printed"]
    return PrintOutcome(enqueued, printed, waiting, time.monotonic() - started, sent=timeout > 0)


# -- preparation slips -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlipPrinted:
    store: str
    order_id: int
    number: str
    job_id: int
    copy_number: int
    moved: bool  # pending -> prepared

    def to_json(self) -> dict[str, Any]:
        return {
            "store": self.store, "order": self.order_id, "number": self.number, "job": self.job_id,
            "copy_number": self.copy_number, "prepared": self.moved,
        }  # fmt: skip


@dataclass
class SlipReport:
    printed: list[SlipPrinted] = field(default_factory=list)
    refused: list[tuple[str, int, str]] = field(default_factory=list)  # (store, order, reason)

    def to_json(self) -> dict[str, Any]:
        return {
            "slips": [s.to_json() for s in self.printed],
            "refused": [{"store": s, "order": o, "reason": r} for s, o, r in self.refused],
        }


def pending_orders(con: Connection, config: Config, store: str | None = None) -> list[lifecycle.OrderRef]:  # fmt: skip
    """Orders still to prepare (local state pending, pending on the shop), oldest first."""
    from fastimport.processing.invoicing import pending_keys

    keys = pending_keys(con, config)
    if not keys:
        return []
    rows = con.execute(
        "SELECT o.store_id, s.name, o.order_id, o.number, o.state, o.shop_status FROM orders o "
        "JOIN stores s USING (store_id) WHERE o.state = 'pending'"
    ).fetchall()
    by_key = {(int(r[0]), int(r[2])): r for r in rows}
    out = []
    for key in keys:
        r = by_key.get(key)
        if r is not None and (store is None or r[1] == store):
            out.append(lifecycle.OrderRef(int(r[0]), str(r[1]), int(r[2]), r[3], str(r[4]), str(r[5])))
    return out


def _slip_refusal(order: lifecycle.OrderRef) -> str | None:
    if order.state == "cancelled" or order.shop_status in lifecycle.DEAD_SHOP_STATUSES:
        return (
            f"order {order.order_id} is cancelled ({order.state} here, {order.shop_status} on the shop): "
            "there is nothing to prepare"
        )
    if order.state not in SLIP_STATES:
        return (
            f"order {order.order_id} is already {order.state}: its preparation slip is no longer printed "
            "(reprint its invoice with `fastimport print reprint NUMBER` if needed)"
        )
    return None


def print_slips(
    con: Connection,
    settings: ProcessingSettings,
    orders: Sequence[lifecycle.OrderRef],
    printer: PrinterConfig,
    actor: str,
    on_prepared: Callable[[Connection, int, int], None] | None = None,
) -> SlipReport:
    """Enqueue each order's slip and move it pending → prepared, one transaction per order.

    ``on_prepared(con, store_id, order_id)`` runs inside that transaction for an order that moved.

    A prepared order's slip prints again as DUPLICATA n (recorded in the order's history).
    Invoiced, shipped and cancelled orders are refused in plain words.
    """
    report = SlipReport()
    for given in orders:
        with transaction(con):
            order = _current(con, given)
            reason = _slip_refusal(order)
            # A refused order wrote nothing yet: committing this transaction is the same as rolling it back.
            if reason is None:
                slip, job_id, copy = _print_slip(con, settings, order, printer, actor)
                if on_prepared is not None and order.state == "pending":
                    on_prepared(con, order.store_id, order.order_id)
        if reason is not None:
            report.refused.append((order.store, order.order_id, reason))
            continue
        report.printed.append(
            SlipPrinted(order.store, order.order_id, slip.ref, job_id, copy, order.state == "pending")
        )
    return report


def _print_slip(
    con: Connection,
    settings: ProcessingSettings,
    order: lifecycle.OrderRef,
    printer: PrinterConfig,
    actor: str,
) -> tuple[PreparationSlip, int, int]:
    """Inside the slip's transaction: enqueue it (a DUPLICATA n if printed before) and move the order."""
    slip = tickets.preparation_slip(con, settings, order.store_id, order.order_id)
    assert slip is not None
    row = chain.one(
        con,
        "SELECT max(copy_number) FROM print_jobs WHERE kind = 'preparation' AND document_ref = ?",
        [slip.ref],
    )
    previous = row[0] if row else None
    copy = 0 if previous is None and order.state == "pending" else int(previous or 0) + 1
    if copy:
        slip = tickets.preparation_slip(con, settings, order.store_id, order.order_id, copy_number=copy)
        assert slip is not None
    job_id = enqueue_document(con, slip, printer)
    if order.state == "pending":
        lifecycle.move(con, order, "prepared", actor, f"preparation slip printed (print job #{job_id})")
    else:
        lifecycle.record_event(
            con, order, "slip_reprint", actor, f"preparation slip printed again: DUPLICATA {copy}"
        )
    return slip, job_id, copy


def _current(con: Connection, order: lifecycle.OrderRef) -> lifecycle.OrderRef:
    """The order as it is now (inside the transaction): another till may have moved it."""
    row = chain.one(
        con,
        "SELECT state, shop_status FROM orders WHERE store_id = ? AND order_id = ?",
        [order.store_id, order.order_id],
    )
    if row is None:
        raise ProcessingError(f"order {order.order_id} is gone from the database", order=order.order_id)
    return lifecycle.OrderRef(
        order.store_id, order.store, order.order_id, order.number, str(row[0]), str(row[1])
    )


# -- reprints --------------------------------------------------------------------------------------

_settings: ProcessingSettings | None = None


def register_print_hooks(settings: ProcessingSettings) -> None:
    """Let ``print reprint`` find processing's documents and journal each reprint (call before print commands).

    Calling it again replaces the settings; the listener is registered once.
    """
    global _settings
    _settings = settings
    register_document_source("invoice", _invoice_source)
    register_document_source("credit_note", _credit_note_source)
    register_document_source("delivery_note", _delivery_source)
    register_document_source("preparation", _slip_source)
    register_reprint_listener(journal_reprint)


def _hooks_settings() -> ProcessingSettings:
    if _settings is None:
        raise ProcessingError("the print hooks are not registered (register_print_hooks)")
    return _settings


def _invoice_source(con: Connection, ref: str) -> TicketContent | None:
    return tickets.invoice_ticket(con, _hooks_settings(), ref)


def _credit_note_source(con: Connection, ref: str) -> TicketContent | None:
    return tickets.credit_note_ticket(con, _hooks_settings(), ref)


def _delivery_source(con: Connection, ref: str) -> TicketContent | None:
    return tickets.delivery_note(con, _hooks_settings(), ref)


def _slip_source(con: Connection, ref: str) -> TicketContent | None:
    return tickets.slip_for_ref(con, _hooks_settings(), ref)


def journal_reprint(event: ReprintEvent) -> None:
    """A reprint is a signed journal event, written in the reprint's transaction (no key: no reprint)."""
    key = _hooks_settings().checked_key(event.con)
    chain.journal(
        event.con,
        key,
        "reprint",
        event.actor or os.environ.get("USER") or "till",
        event.document_ref,
        {"kind": event.kind, "copy": event.copy_number, "job": event.job_id, "printer": event.printer},
    )
