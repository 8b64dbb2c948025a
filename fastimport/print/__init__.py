"""Printing: ticket layouts, ESC/POS rendering, printers and the persistent print queue.

python-escpos is imported lazily (it has import-time side effects), so
importing this package is cheap and keeps stdout clean.
"""

from fastimport.print.config import PrinterConfig, paper_for, parse_printers
from fastimport.print.documents import (
    CreditNoteTicket,
    DeliveryLine,
    DeliveryNote,
    Document,
    FiscalTicket,
    InvoiceLine,
    InvoiceTicket,
    Payment,
    PreparationSlip,
    Seller,
    SlipLine,
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
    "Document",
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
