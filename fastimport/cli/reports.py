"""``fastimport report sales``: the head office's reading of a period, from the stored documents."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING

from fastimport.cli.common import EXIT_OK, Session, output, usage

if TYPE_CHECKING:
    from fastimport.api.reports import SalesReport

_HEADINGS = {"store": "Store", "day": "Day", "rate": "VAT rate", "payment": "Payment"}


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: give YYYY-MM-DD, e.g. 2026-11-30"
        ) from None


def add_report_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from fastimport.processing.sales import GROUPINGS

    report = sub.add_parser("report", help="readings for the head office (sales over a period)")
    report_sub = report.add_subparsers(dest="report_command", required=True)
    sales = report_sub.add_parser(
        "sales", help="invoices minus credit notes over a period, per store, day, VAT rate or payment method"
    )
    sales.add_argument("--from", dest="date_from", type=_date, required=True, metavar="DATE",
                       help="first day (YYYY-MM-DD, in each store's time zone)")  # fmt: skip
    sales.add_argument("--to", dest="date_to", type=_date, required=True, metavar="DATE",
                       help="last day, inclusive (YYYY-MM-DD, in each store's time zone)")  # fmt: skip
    sales.add_argument("--by", choices=GROUPINGS, default="store", help="group by (default: store)")
    sales.add_argument("--store", metavar="NAME", help="only this store (default: every store)")
    sales.add_argument("--json", action="store_true")
    sales.set_defaults(handler=cmd_report_sales)


def cmd_report_sales(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.reports import sales_report

    if args.date_to < args.date_from:
        raise usage(f"--to {args.date_to} is before --from {args.date_from}")
    report = sales_report(
        session.config, session.con, args.date_from, args.date_to, by=args.by, store=args.store
    )
    output(args, report.to_json(), lambda: print_sales(report))
    return EXIT_OK


def _group(report: SalesReport, key: object, label: str) -> str:
    if key is None:
        return "rounding (no VAT)" if report.by == "rate" else ""
    if report.by == "rate":
        return f"{key} %"
    if report.by == "payment":
        return f"{label} ({key})" if key and label and label != key else str(key or label or "none")
    return str(key)


def print_sales(report: SalesReport) -> None:
    from rich.table import Table
    from rich.text import Text

    from fastimport.cli.output import clean, console

    where = f" for {report.store}" if report.store else ""
    title = f"Sales from {report.date_from} to {report.date_to}{where}, by {report.by}"
    if not report.rows:
        console.print(f"{title}: no invoice or credit note in the period")
        return
    table = Table(title=title, title_justify="left")
    for name in (_HEADINGS[report.by], "Currency", "Invoices", "Credit notes", "HT", "TVA", "TTC"):
        table.add_column(name, justify="left" if name in (_HEADINGS[report.by], "Currency") else "right")
    for r in report.rows:
        cells = [_group(report, r.key, r.label), r.currency, str(r.invoices), str(r.credit_notes),
                 str(r.total_ht), str(r.total_vat), str(r.total_ttc)]  # fmt: skip
        table.add_row(*(Text(clean(c)) for c in cells))
    for t in report.totals:
        cells = ["Total", t.currency, str(t.invoices), str(t.credit_notes), str(t.total_ht), str(t.total_vat),
                 str(t.total_ttc)]  # fmt: skip
        table.add_row(*(Text(c, style="bold") for c in cells))
    console.print(table)
    if any(t.adjustment for t in report.totals):
        console.print("TTC includes the shops' rounding cents (HT + TVA + rounding), as the invoices do.")
