"""Printing: ticket layouts, ESC/POS rendering, printers and the persistent print queue.

Where each thing lives (this room never imports ``fastimport.io`` or ``fastimport.processing``):

* :mod:`~fastimport.print.content`: what a ticket can show, one frozen dataclass per kind
  (preparation slip, invoice, credit note, delivery note).
* :mod:`~fastimport.print.layout`: how each ticket looks on 48/42/32 columns (change the
  invoice ticket's layout there).
* :mod:`~fastimport.print.ticket`: the print operations a layout emits, and the paper.
* :mod:`~fastimport.print.render`: operations → text preview, ESC/POS bytes, PNG.
* :mod:`~fastimport.print.queue`, :mod:`~fastimport.print.transport`, :mod:`~fastimport.print.reprint`:
  persisted jobs, sending them, reprints.
* :mod:`~fastimport.print.config`: ``[printer]`` / ``[[printers]]``.

Which stored value fills which field of a ticket (what goes on an invoice ticket) is decided
by the processing room, in :mod:`fastimport.processing.tickets`.

python-escpos is imported lazily (it has import-time side effects), so
importing this package is cheap and keeps stdout clean.
"""

from fastimport.print.config import PrinterConfig, paper_for, parse_printers
from fastimport.print.content import (
    CreditNoteTicket,
    DeliveryLine,
    DeliveryNote,
    FiscalTicket,
    InvoiceLine,
    InvoiceTicket,
    Payment,
    PreparationSlip,
    Seller,
    SlipLine,
    TicketContent,
    VatAmount,
)
from fastimport.print.layout import layout
from fastimport.print.queue import PrintWorker, enqueue, enqueue_document, list_jobs, render_document
from fastimport.print.render import render_escpos, render_png, render_text
from fastimport.print.reprint import register_document_source, register_reprint_listener, reprint
from fastimport.print.ticket import Paper, Ticket

__all__ = [
    "CreditNoteTicket",
    "DeliveryLine",
    "DeliveryNote",
    "FiscalTicket",
    "InvoiceLine",
    "InvoiceTicket",
    "Paper",
    "Payment",
    "PreparationSlip",
    "PrintWorker",
    "PrinterConfig",
    "Seller",
    "SlipLine",
    "Ticket",
    "TicketContent",
    "VatAmount",
    "enqueue",
    "enqueue_document",
    "layout",
    "list_jobs",
    "paper_for",
    "parse_printers",
    "register_document_source",
    "register_reprint_listener",
    "render_document",
    "render_escpos",
    "render_png",
    "render_text",
    "reprint",
]
