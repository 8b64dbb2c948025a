"""Processing side of the library API: slip, invoice, credit note, ship, comment, payments, stock, verify.

Operations that print take a :class:`PrintRequest`: the printer is chosen before anything is
written, the tickets are queued in the same transaction as their documents, then sent for at most
``timeout`` seconds.  Their result is an :class:`Outcome`: the operation's own report, plus what
was printed and what still waits in the queue.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from fastimport.config import Config
from fastimport.errors import ProcessingError
from fastimport.processing import lifecycle
from fastimport.processing.lifecycle import OrderRef
from fastimport.processing.settings import load_settings
from fastimport.store.db import Connection, first_row

if TYPE_CHECKING:
    from fastimport.print.config import PrinterConfig
    from fastimport.processing.invoicing import DocumentsHook, InvoiceReport, Issued
    from fastimport.processing.printing import Enqueued, PrintOutcome, SlipReport
    from fastimport.processing.pushqueue import PushReport
    from fastimport.processing.shipping import ShipResult
    from fastimport.processing.stock_count import Adjustment
    from fastimport.processing.verify import VerifyReport

DEFAULT_PRINT_TIMEOUT = 30.0  # seconds an operation keeps sending before leaving the rest queued
OrderKey = str | int | OrderRef  # a shop order id or number, or an order already found


def default_actor() -> str:
    """Who does it, when the caller does not say: the logged-in user, else "till"."""
    return os.environ.get("USER") or "till"


@dataclass(frozen=True, slots=True)
class PrintRequest:
    """Print the tickets an operation makes: on ``printer`` (None: the first configured)."""

    printer: str | None = None
    timeout: float = DEFAULT_PRINT_TIMEOUT  # 0: only queue them (``fastimport print retry`` sends)


class _Reported(Protocol):
    def to_json(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=_Reported)


@dataclass(frozen=True, slots=True)
class Outcome(Generic[R]):
    """An operation's report, its tickets' fate when it printed, and what the shop was told."""

    result: R
    printed: PrintOutcome | None = None
    pushed: PushReport | None = None

    @property
    def print_ok(self) -> bool:
        """False when tickets are still waiting (printer offline, out of paper...)."""
        return self.printed is None or self.printed.ok

    def to_json(self) -> dict[str, Any]:
        return (
            self.result.to_json()
            | ({"print": self.printed.to_json()} if self.printed else {})
            | ({"push": self.pushed.to_json()} if self.pushed else {})
        )


def _tell_shop(config: Config, con: Connection) -> PushReport:
    """After a command: the pushes it queued (and any now due), for a few seconds; never raises."""
    from fastimport.processing.pushqueue import send_pushes

    return send_pushes(con, config)


class _Printing:
    """A print request resolved before anything is written: the printer, and the jobs queued."""

    def __init__(self, config: Config, request: PrintRequest) -> None:
        from fastimport.processing.printing import Enqueued, choose_printer

        if request.timeout < 0:
            raise ProcessingError("the print timeout must be 0 (queue only) or a number of seconds")
        self.printer: PrinterConfig
        self.printer, self.printers = choose_printer(config, request.printer)
        self.enqueued: Enqueued = Enqueued()
        self.timeout = float(request.timeout)
        self.settings = load_settings(config)

    def hook(self, kind: str) -> DocumentsHook:
        from fastimport.processing.printing import ticket_hook

        return ticket_hook(self.settings, self.printer, kind, self.enqueued)

    def send(self, con: Connection) -> PrintOutcome:
        from fastimport.fiscal.events import record_event
        from fastimport.processing.printing import send_queued

        outcome = send_queued(con, self.printers, self.enqueued.count, self.timeout)
        if not outcome.ok:  # a printer incident is a journal event
            record_event(con, self.settings, "printer_incident", default_actor(), self.printer.name,
                         {"waiting": len(outcome.waiting), "reasons": outcome.reasons()})  # fmt: skip
        return outcome


def _printing(config: Config, request: PrintRequest | None) -> _Printing | None:
    return None if request is None else _Printing(config, request)


# -- orders ----------------------------------------------------------------------------------------


def find_order(con: Connection, order: OrderKey, store: str | None = None) -> OrderRef:
    """The stored order with this shop id or number (``store`` settles an ambiguity), or a plain refusal."""
    return order if isinstance(order, OrderRef) else lifecycle.find_order(con, str(order), store)


def _find_all(con: Connection, orders: Sequence[OrderKey], store: str | None) -> list[OrderRef]:
    found: dict[tuple[int, int], OrderRef] = {}
    for ref in (find_order(con, n, store) for n in orders):
        found.setdefault((ref.store_id, ref.order_id), ref)
    return list(found.values())


def order_details(con: Connection, order: OrderKey, store: str | None = None) -> dict[str, Any]:
    """One order: lines, customer, payment, shipping, documents, history and comments."""
    from fastimport.processing.orders import order_details as details

    return details(con, find_order(con, order, store))


def add_comment(
    con: Connection, order: OrderKey, text: str, author: str, store: str | None = None
) -> OrderRef:
    """An internal follow-up comment, kept in the order's history."""
    from fastimport.processing.comments import add_comment as add

    ref = find_order(con, order, store)
    add(con, ref, text, author)
    return ref


# -- slips, invoices, credit notes, shipments --------------------------------------------------------


def print_slips(
    config: Config,
    con: Connection,
    orders: Sequence[OrderKey] = (),
    *,
    pending: bool = False,
    store: str | None = None,
    actor: str | None = None,
    printing: PrintRequest | None = None,
) -> Outcome[SlipReport]:
    """Preparation slips for these orders (or every pending one): each pending order becomes prepared."""
    from fastimport.processing import printing as slips

    if pending == bool(orders):
        raise ProcessingError("give order numbers, or --pending for every pending order (not both)")
    send = _Printing(config, printing or PrintRequest())
    if pending:
        refs = slips.pending_orders(con, config, config.store(store).name if store else None)
    else:
        refs = _find_all(con, orders, store)
    from fastimport.processing.pushqueue import enqueue_prepared

    report = slips.print_slips(
        con, send.settings, refs, send.printer, actor or default_actor(), on_prepared=enqueue_prepared
    )
    send.enqueued.jobs.extend((s.job_id, s.number) for s in report.printed)
    printed = send.send(con)
    return Outcome(report, printed, _tell_shop(config, con))


def invoice(
    config: Config,
    con: Connection,
    orders: Sequence[OrderKey] = (),
    *,
    pending: bool = False,
    store: str | None = None,
    allow_unpaid: bool = False,
    actor: str | None = None,
    printing: PrintRequest | None = None,
    on_documents: DocumentsHook | None = None,
) -> Outcome[InvoiceReport]:
    """Invoice these orders (or every pending one, oldest first): numbered, signed, stock deducted.

    Refusals (unpaid, already invoiced, cancelled) are reported in ``result.refused``, not raised.
    ``on_documents(con, numbers)`` runs inside each chunk's transaction, after the print hook
    (the documents room enqueues mails there: ``fastimport.mail_hook``).
    """
    from fastimport.processing import invoicing
    from fastimport.processing.pushqueue import combine, documents_hook

    if pending == bool(orders):
        raise ProcessingError("give order numbers, or --pending for every pending order (not both)")
    from fastimport.api.fiscal import close_pending_days

    settings = load_settings(config)
    settings.key()
    settings.require_seller()
    send = _printing(config, printing)
    close_pending_days(config, con, actor=actor)  # days left unclosed before today, oldest first
    if pending:
        keys = invoicing.pending_keys(con, config)
        if store:
            row = first_row(
                con.execute("SELECT store_id FROM stores WHERE name = ?", [config.store(store).name])
            )
            keys = [k for k in keys if row and k[0] == row[0]]
    else:
        keys = [(r.store_id, r.order_id) for r in _find_all(con, orders, store)]
    report = invoicing.invoice_orders(
        con,
        settings,
        keys,
        allow_unpaid=allow_unpaid,
        actor=actor or default_actor(),
        on_documents=combine(send.hook("fiscal") if send else None, documents_hook, on_documents),
    )
    printed = send.send(con) if send else None
    return Outcome(report, printed, _tell_shop(config, con))


@dataclass(frozen=True, slots=True)
class CreditNoteResult:
    issued: Issued
    refers_to: str

    def to_json(self) -> dict[str, Any]:
        return self.issued.to_json() | {"refers_to": self.refers_to}


def credit_note(
    config: Config,
    con: Connection,
    invoice_number: str,
    reason: str,
    lines: Sequence[str] | None = None,
    *,
    amount: str | None = None,
    actor: str | None = None,
    printing: PrintRequest | None = None,
) -> Outcome[CreditNoteResult]:
    """Correct an invoice (all of it, or ``lines`` as ``LINE`` or ``LINE:QTY``); restocks the articles."""
    from fastimport.processing import credit
    from fastimport.processing.pushqueue import combine, documents_hook

    if not invoice_number:
        raise ProcessingError("name the invoice to credit, e.g. fastimport credit-note FA-2026-eshop-000042")
    if not reason:
        raise ProcessingError('a credit note needs a reason: add --reason "..."')
    settings = load_settings(config)
    send = _printing(config, printing)
    issued = credit.credit_note(
        con,
        settings,
        invoice_number,
        reason,
        credit.parse_lines(list(lines) if lines else None),
        actor=actor or default_actor(),
        on_documents=combine(send.hook("fiscal") if send else None, documents_hook),
        amount=amount,
    )
    printed = send.send(con) if send else None
    return Outcome(CreditNoteResult(issued, invoice_number), printed, _tell_shop(config, con))


def proposed_credit_notes(con: Connection) -> list[dict[str, Any]]:
    """Invoices whose order the shop cancelled or refunded afterwards, with the command to correct each."""
    from fastimport.processing.credit import proposed_credit_notes as proposed

    return proposed(con)


def ship(
    config: Config,
    con: Connection,
    order: OrderKey,
    *,
    carrier: str | None = None,
    tracking: str | None = None,
    store: str | None = None,
    push: bool = True,
    actor: str | None = None,
    printing: PrintRequest | None = None,
) -> Outcome[ShipResult]:
    """Ship an invoiced order: delivery note, then tracking and status pushed to the shop.

    Run again for a shipment whose push failed, it retries the push only.
    """
    from fastimport.processing import shipping

    settings = load_settings(config)
    send = _printing(config, printing)
    ref = find_order(con, order, store)
    result = shipping.ship(
        con,
        config,
        settings,
        ref,
        carrier,
        tracking,
        actor or default_actor(),
        push=push,
        on_documents=send.hook("delivery_note") if send else None,
    )
    return Outcome(result, send.send(con) if send else None)


# -- money, stock, the chain -----------------------------------------------------------------------


def payments(config: Config, con: Connection, *, unpaid_only: bool = False) -> list[dict[str, Any]]:
    """What was paid, how, and what is due, per order."""
    from fastimport.processing.payments import is_due
    from fastimport.processing.payments import payments as rows

    found = rows(con, load_settings(config))
    return [r for r in found if is_due(r)] if unpaid_only else found


def stock_levels(con: Connection, *, changed_only: bool = False) -> list[dict[str, Any]]:
    """Per article: level, reserved, available, last pushed, delta, changed."""
    import polars as pl

    from fastimport.processing import stock
    from fastimport.processing.stock_count import negative_reasons

    stock.ensure_initial_levels(con)
    frame = stock.levels(con)
    if changed_only:
        frame = frame.filter(pl.col("changed"))
    why = negative_reasons(con, frame)
    keys = frame.select("store_id", "product_id", "variation_id").iter_rows()
    return [
        row | {"negative_because": why.get((int(k[0]), int(k[1]), int(k[2])))}
        for row, k in zip(stock.levels_json(frame), keys, strict=True)
    ]


def adjust_stock(
    config: Config, con: Connection, sku: str, change: str, reason: str, *, store: str | None = None,
    actor: str | None = None,
) -> Adjustment:  # fmt: skip
    """``+N`` / ``-N`` / ``=N`` (an inventory count) for the article with this SKU, journaled, with its reason."""
    from fastimport.processing.stock_count import adjust_stock as adjust

    return adjust(
        con, load_settings(config), sku, change, reason, store=store, actor=actor or default_actor()
    )


def push_stock(config: Config, con: Connection) -> dict[str, Any]:
    """Send the changed ``available`` levels to each shop and record what it accepted."""
    from fastimport.fiscal.events import record_event
    from fastimport.processing.push import push_stock as push

    result = push(con, config)
    record_event(con, load_settings(config), "stock_push", default_actor(), None,
                 {"changed": result["changed"], "accepted": result["accepted"], "refused": len(result["refused"])})  # fmt: skip
    return result


def verify(config: Config, con: Connection, *, actor: str | None = None) -> VerifyReport:
    """The key first, then every chain, closing and anchored head; a failure is recorded in the signed journal."""
    from fastimport.api.fiscal import verify_records

    return verify_records(config, con, actor=actor)
