"""The processing commands: order show, invoice, credit-note, ship, comment, payments, verify, stock.

``add_processing_commands(subparsers)`` is called by ``fastimport.cli``; each
handler opens the database, does its work in its own transaction(s), closes
it, and returns an exit code (0 done, 1 refused or failed).  Plain-words
failures are raised as FastImportError and printed by the main CLI.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb
import orjson

from fastimport.config import Config, load_config
from fastimport.errors import ProcessingError
from fastimport.processing import chain, lifecycle
from fastimport.processing.settings import ProcessingSettings, load_settings

if TYPE_CHECKING:
    from fastimport.print.config import PrinterConfig
    from fastimport.processing.invoicing import DocumentsHook
    from fastimport.processing.printing import Enqueued, PrintOutcome

EXIT_OK, EXIT_FAILURE = 0, 1
DEFAULT_PRINT_TIMEOUT = 30.0  # seconds a printing command keeps sending before leaving the rest queued


def _print_flags(parser: argparse.ArgumentParser, what: str, flag: str = "--printer") -> None:
    if flag == "--printer":
        parser.add_argument(
            "--print", action="store_true", help=f"print {what} (queued in the same transaction, then sent)"
        )
    names = (flag, "--printer") if flag != "--printer" else (flag,)
    parser.add_argument(
        *names,
        dest="printer",
        metavar="NAME",
        help="printer name (default: the first configured)"
        + ("; implies --print" if flag == "--printer" else ""),
    )
    parser.add_argument(
        "--print-timeout",
        type=float,
        default=DEFAULT_PRINT_TIMEOUT,
        metavar="SECONDS",
        help="send for at most this long, then leave the rest queued (default 30; 0: queue only)",
    )


def add_processing_commands(sub: Any) -> None:
    actor = {"default": os.environ.get("USER") or "till", "help": "who does it (default: $USER)"}

    order = sub.add_parser("order", help="one order: lines, customer, payment, shipping, history, comments")
    order_sub = order.add_subparsers(dest="order_command", required=True)
    show = order_sub.add_parser("show", help="show one order (N = shop order id or number)")
    show.add_argument("n", metavar="N")
    show.add_argument("--store")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_order_show)

    inv = sub.add_parser("invoice", help="turn orders into invoices (numbered, signed, stock deducted)")
    inv.add_argument("orders", nargs="*", metavar="N", help="shop order ids or numbers")
    inv.add_argument("--pending", action="store_true", help="every pending order, oldest first")
    inv.add_argument("--store")
    inv.add_argument(
        "--allow-unpaid", action="store_true", help="invoice orders the shop has not marked paid"
    )
    inv.add_argument("--actor", **actor)
    inv.add_argument("--json", action="store_true")
    _print_flags(inv, "each invoice's ticket")
    inv.set_defaults(handler=cmd_invoice)

    cn = sub.add_parser("credit-note", help="correct an invoice with a credit note (restocks the articles)")
    cn.add_argument(
        "invoice", nargs="?", metavar="INVOICE", help="the invoice number, e.g. FA-2026-eshop-000042"
    )
    cn.add_argument("--lines", nargs="+", metavar="LINE[:QTY]", help="credit only these invoice lines")
    cn.add_argument("--reason", help="why (printed on the credit note)")
    cn.add_argument("--proposed", action="store_true", help="list invoices the shop cancelled afterwards")
    cn.add_argument("--actor", **actor)
    cn.add_argument("--json", action="store_true")
    _print_flags(cn, "the credit note's ticket")
    cn.set_defaults(handler=cmd_credit_note)

    ship = sub.add_parser(
        "ship", help="ship an invoiced order: delivery note, tracking and status to the shop"
    )
    ship.add_argument("n", metavar="N")
    ship.add_argument("--store")
    ship.add_argument("--carrier", help="carrier (default: the [carriers] mapping of the shop's method)")
    ship.add_argument("--tracking", help="tracking number")
    ship.add_argument("--no-push", action="store_true", help="record locally, do not tell the shop")
    ship.add_argument("--actor", **actor)
    ship.add_argument("--json", action="store_true")
    _print_flags(ship, "the delivery note")
    ship.set_defaults(handler=cmd_ship)

    slip = sub.add_parser(
        "slip", help="print preparation slips (pending orders become prepared; reprints say DUPLICATA)"
    )
    slip.add_argument("orders", nargs="*", metavar="N", help="shop order ids or numbers")
    slip.add_argument("--pending", action="store_true", help="every pending order, oldest first")
    slip.add_argument("--store")
    slip.add_argument("--actor", **actor)
    slip.add_argument("--json", action="store_true")
    _print_flags(slip, "the slips", flag="--print-to")
    slip.set_defaults(handler=cmd_slip, print=True)

    comment = sub.add_parser("comment", help="add an internal comment to an order")
    comment.add_argument("n", metavar="N")
    comment.add_argument("text")
    comment.add_argument("--author", required=True)
    comment.add_argument("--store")
    comment.set_defaults(handler=cmd_comment)

    pay = sub.add_parser("payments", help="what was paid, how, and what is unpaid")
    pay.add_argument("--unpaid", action="store_true", help="only orders with something due")
    pay.add_argument("--json", action="store_true")
    pay.set_defaults(handler=cmd_payments)

    ver = sub.add_parser("verify", help="check the invoice chains; exit 1 naming the first bad record")
    ver.add_argument("--json", action="store_true")
    ver.set_defaults(handler=cmd_verify)

    st = sub.add_parser("stock", help="stock levels from the ledger (push: send changed levels to the shop)")
    st.add_argument(
        "--changed", action="store_true", help="only articles whose level changed since the last push"
    )
    st.add_argument("--json", action="store_true")
    st.set_defaults(handler=cmd_stock)
    st_sub = st.add_subparsers(dest="stock_command")
    push = st_sub.add_parser("push", help="send the changed levels to the shop")
    push.add_argument("--json", action="store_true")
    push.set_defaults(handler=cmd_stock_push)


def register_print_hooks(config: Config) -> None:
    """Called by the main CLI before the ``print`` commands: reprint sources and the reprint journal."""
    from fastimport.processing.printing import register_print_hooks as register

    register(load_settings(config))


# -- helpers ---------------------------------------------------------------------------------------


@contextmanager
def _open(args: argparse.Namespace) -> Iterator[tuple[Config, ProcessingSettings, duckdb.DuckDBPyConnection]]:
    """Load the configuration, open the database (waiting for another writer), always close it."""
    from fastimport.store import connect

    config = load_config(args.config)
    settings = load_settings(config)
    con = connect(config.database)
    try:
        yield config, settings, con
    finally:
        con.close()


def _json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")


def _out(args: argparse.Namespace, value: Any, text: Callable[[], None]) -> None:
    if getattr(args, "json", False):
        _json(value)
    else:
        text()


@dataclass
class _Printing:
    """``--print``: the printer chosen before anything is written, and the jobs the command queued."""

    printer: PrinterConfig
    printers: list[PrinterConfig]
    enqueued: Enqueued
    timeout: float

    def hook(self, settings: ProcessingSettings, kind: str) -> DocumentsHook:
        from fastimport.processing.printing import ticket_hook

        return ticket_hook(settings, self.printer, kind, self.enqueued)

    def send(self, con: duckdb.DuckDBPyConnection) -> PrintOutcome:
        from fastimport.processing.printing import send_queued

        return send_queued(con, self.printers, self.enqueued.count, self.timeout)


def _printing(args: argparse.Namespace, config: Config) -> _Printing | None:
    """None without --print; else the printer, or a plain-words refusal before anything is written."""
    if not (getattr(args, "print", False) or getattr(args, "printer", None)):
        return None
    from fastimport.processing.printing import Enqueued, choose_printer

    if args.print_timeout < 0:
        raise ProcessingError("--print-timeout must be 0 (queue only) or a number of seconds")
    printer, printers = choose_printer(config, args.printer)
    return _Printing(printer, printers, Enqueued(), float(args.print_timeout))


def _say_printed(outcome: PrintOutcome | None) -> None:
    if outcome is None:
        return
    lines = outcome.describe()
    print(lines[0])
    for line in lines[1:]:
        print(line, file=sys.stderr)


# -- commands --------------------------------------------------------------------------------------


def cmd_invoice(args: argparse.Namespace) -> int:
    from fastimport.processing import invoicing

    if args.pending == bool(args.orders):
        raise ProcessingError("give order numbers, or --pending for every pending order (not both)")
    with _open(args) as (config, settings, con):
        settings.key()
        settings.require_seller()
        printing = _printing(args, config)
        if args.pending:
            keys = invoicing.pending_keys(con, config)
            if args.store:
                sid = chain.one(
                    con, "SELECT store_id FROM stores WHERE name = ?", [config.store(args.store).name]
                )
                keys = [k for k in keys if sid and k[0] == sid[0]]
        else:
            refs = [lifecycle.find_order(con, n, args.store) for n in args.orders]
            keys = list(dict.fromkeys((r.store_id, r.order_id) for r in refs))
        report = invoicing.invoice_orders(
            con,
            settings,
            keys,
            allow_unpaid=args.allow_unpaid,
            actor=args.actor,
            on_documents=printing.hook(settings, "fiscal") if printing else None,
        )
        outcome = printing.send(con) if printing else None

    def text() -> None:
        for i in report.issued:
            adj = f" (rounding adjustment {i.adjustment})" if i.adjustment != "0.00" else ""
            print(f"invoice {i.number}: order {i.order_id} ({i.store}), {i.total_ttc} incl. VAT{adj}")
        for r in report.refused:
            print(f"not invoiced: order {r.order_id} ({r.store}): {r.reason}", file=sys.stderr)
        n = len(report.issued)
        if args.pending or n != 1:
            rate = f", {n / report.seconds:.0f}/s" if report.seconds and n else ""
            print(f"{n} invoice{'s' if n != 1 else ''} issued, {len(report.refused)} refused "
                  f"in {report.seconds:.2f} s{rate}")  # fmt: skip
        _say_printed(outcome)

    _out(args, report.to_json() | ({"print": outcome.to_json()} if outcome else {}), text)
    if outcome is not None and not outcome.ok:
        return EXIT_FAILURE
    return EXIT_FAILURE if report.refused and not args.pending else EXIT_OK


def cmd_credit_note(args: argparse.Namespace) -> int:
    from fastimport.processing import credit

    with _open(args) as (_config, settings, con):
        if args.proposed:
            proposals = credit.proposed_credit_notes(con)
            if args.json:
                _json(proposals)
            elif not proposals:
                print("No credit note is called for.")
            for p in [] if args.json else proposals:
                print(f"{p['invoice']}: order {p['order']} ({p['store']}) is {p['shop_status']} on the shop: "
                      f"{p['command']}")  # fmt: skip
            return EXIT_OK
        if not args.invoice:
            raise ProcessingError(
                "name the invoice to credit, e.g. fastimport credit-note FA-2026-eshop-000042"
            )
        if not args.reason:
            raise ProcessingError('a credit note needs a reason: add --reason "..."')
        printing = _printing(args, _config)
        issued = credit.credit_note(
            con,
            settings,
            args.invoice,
            args.reason,
            credit.parse_lines(args.lines),
            actor=args.actor,
            on_documents=printing.hook(settings, "fiscal") if printing else None,
        )
        outcome = printing.send(con) if printing else None

    def text() -> None:
        print(
            f"credit note {issued.number} for {args.invoice}: {issued.total_ttc} incl. VAT; "
            "the credited articles are back in stock"
        )
        _say_printed(outcome)

    _out(
        args,
        issued.to_json() | {"refers_to": args.invoice} | ({"print": outcome.to_json()} if outcome else {}),
        text,
    )
    return EXIT_OK if outcome is None or outcome.ok else EXIT_FAILURE


def cmd_ship(args: argparse.Namespace) -> int:
    from fastimport.processing import shipping

    with _open(args) as (config, settings, con):
        printing = _printing(args, config)
        order = lifecycle.find_order(con, args.n, args.store)
        result = shipping.ship(
            con,
            config,
            settings,
            order,
            args.carrier,
            args.tracking,
            args.actor,
            push=not args.no_push,
            on_documents=printing.hook(settings, "delivery_note") if printing else None,
        )
        outcome = printing.send(con) if printing else None

    def text() -> None:
        again = "push retried for " if result.retried else ""
        track = f", tracking {result.tracking}" if result.tracking else ""
        print(
            f"{again}order {result.order_id} shipped with {result.carrier}{track}: delivery note {result.number}"
        )
        if result.pushed:
            print("the shop now shows it completed, with the tracking in an order note")
        elif result.push_error:
            print(f"the shop was not updated: {result.push_error}; run the same command again to retry",
                  file=sys.stderr)  # fmt: skip
        if result.retried and printing is not None:
            print(f"the delivery note {result.number} was not printed again: "
                  f"`fastimport print reprint {result.number}` prints a duplicate")  # fmt: skip
        _say_printed(outcome)

    _out(args, result.to_json() | ({"print": outcome.to_json()} if outcome else {}), text)
    if outcome is not None and not outcome.ok:
        return EXIT_FAILURE
    return EXIT_OK if result.pushed or args.no_push else EXIT_FAILURE


def cmd_slip(args: argparse.Namespace) -> int:
    from fastimport.processing import printing as slips

    if args.pending == bool(args.orders):
        raise ProcessingError("give order numbers, or --pending for every pending order (not both)")
    with _open(args) as (config, settings, con):
        printing = _printing(args, config)
        assert printing is not None
        if args.pending:
            orders = slips.pending_orders(con, config, config.store(args.store).name if args.store else None)
        else:
            orders = list(
                {(r.store_id, r.order_id): r for r in (lifecycle.find_order(con, n, args.store) for n in args.orders)}
                .values()
            )  # fmt: skip
        report = slips.print_slips(con, settings, orders, printing.printer, args.actor)
        printing.enqueued.jobs.extend((s.job_id, s.number) for s in report.printed)
        outcome = printing.send(con)

    def text() -> None:
        for s in report.printed:
            what = "now prepared" if s.moved else f"DUPLICATA {s.copy_number}"
            print(f"slip for order {s.number} ({s.store}): {what}, print job #{s.job_id}")
        for store, order_id, reason in report.refused:
            print(f"no slip: order {order_id} ({store}): {reason}", file=sys.stderr)
        if args.pending or len(report.printed) != 1:
            moved = sum(s.moved for s in report.printed)
            print(f"{len(report.printed)} slip{'s' if len(report.printed) != 1 else ''} queued, "
                  f"{moved} order{'s' if moved != 1 else ''} moved to prepared, {len(report.refused)} refused")  # fmt: skip
        _say_printed(outcome)

    _out(args, report.to_json() | {"print": outcome.to_json()}, text)
    if not outcome.ok or (report.refused and not args.pending):
        return EXIT_FAILURE
    return EXIT_OK


def cmd_comment(args: argparse.Namespace) -> int:
    from fastimport.processing.comments import add_comment

    with _open(args) as (_config, _settings, con):
        order = lifecycle.find_order(con, args.n, args.store)
        add_comment(con, order, args.text, args.author)
    print(f"comment added to order {order.order_id} ({order.store}) by {args.author}")
    return EXIT_OK


def cmd_payments(args: argparse.Namespace) -> int:
    from fastimport.processing.payments import payments

    with _open(args) as (_config, settings, con):
        rows = payments(con, settings)
    if args.unpaid:
        rows = [r for r in rows if r["status"] != "paid"]

    def text() -> None:
        for r in rows:
            when = f" on {r['paid_at'][:10]}" if r["paid_at"] else ""
            txn = f" ({r['transaction_id']})" if r["transaction_id"] else ""
            print(f"{r['store']} #{r['order']:<8} {r['status']:<15} {r['total']:>10} paid {r['paid']:>10} "
                  f"due {r['due']:>10}  {r['method']}{txn}{when}")  # fmt: skip
        unpaid = sum(1 for r in rows if r["status"] != "paid")
        print(f"{len(rows)} orders, {unpaid} not fully paid")

    _out(args, rows, text)
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from fastimport.processing.verify import verify

    with _open(args) as (_config, settings, con):
        key = settings.key()
        report = verify(con, key)
        if not report.ok:
            con.execute("BEGIN TRANSACTION")
            chain.journal(con, key, "verify_failed", os.environ.get("USER") or "till", report.problems[0].record,
                          report.problems[0].to_json())  # fmt: skip
            con.execute("COMMIT")

    def text() -> None:
        if report.ok:
            print(f"the chain holds: {report.records} records in {len(report.series)} series verified")
        else:
            print(f"verification FAILED: {report.problems[0].message}")
            for p in report.problems[1:]:
                print(f"  also: {p.message}")

    _out(args, report.to_json(), text)
    return EXIT_OK if report.ok else EXIT_FAILURE


def cmd_stock(args: argparse.Namespace) -> int:
    import polars as pl

    from fastimport.processing import stock

    with _open(args) as (_config, _settings, con):
        stock.ensure_initial_levels(con)
        frame = stock.levels(con)
    if args.changed:
        frame = frame.filter(pl.col("changed"))
    rows = stock.levels_json(frame)

    def text() -> None:
        print(f"{'store':<10} {'sku':<16} {'level':>6} {'reserved':>8} {'available':>9} {'to push':>7}  name")
        for r in rows:
            push = f"{r['delta']:+d}" if r["changed"] else ""
            print(f"{r['store'] or '?':<10} {r['sku'] or '?':<16} {r['level']:>6} {r['reserved']:>8} "
                  f"{r['available']:>9} {push:>7}  {r['name'] or '(unknown to the shop)'}")  # fmt: skip
        changed = sum(1 for r in rows if r["changed"])
        print(f"{len(rows)} articles, {changed} changed since the last push")

    _out(args, rows, text)
    return EXIT_OK


def cmd_stock_push(args: argparse.Namespace) -> int:
    from fastimport.processing.push import push_stock

    with _open(args) as (config, _settings, con):
        result = push_stock(con, config)

    def text() -> None:
        print(f"{result['changed']} changed levels, {result['accepted']} accepted by the shop")
        for r in result["refused"]:
            print(f"refused: {r['sku'] or r['product_id']} -> {r['level']}: {r['error']}", file=sys.stderr)

    _out(args, result, text)
    return EXIT_OK if not result["refused"] else EXIT_FAILURE


def cmd_order_show(args: argparse.Namespace) -> int:
    from fastimport.processing.orders import order_details

    with _open(args) as (_config, _settings, con):
        order = lifecycle.find_order(con, args.n, args.store)
        details = order_details(con, order)

    def text() -> None:
        o = details
        print(
            f"Order {o['number']} ({o['store']}, id {o['order']}): {o['state']} here, {o['shop_status']} on the shop"
        )
        print(f"Created {o['created_at']}   customer {o['customer']} <{o['email'] or ''}>")
        print(f"Payment: {o['payment']['method']} {o['payment']['status']} {o['payment']['paid_at'] or ''}"
              f" {o['payment']['transaction_id'] or ''}")  # fmt: skip
        print(f"Shipping: {o['shipping']['method'] or ''} to {o['shipping']['address'] or ''}")
        for line in o["lines"]:
            print(f"  {line['quantity']:>3} x {line['sku'] or '?':<16} {line['name']:<40} {line['total']:>9}")
        print(f"  total {o['total']} {o['currency']}")
        for d in o["documents"]:
            print(f"{d['kind']} {d['number']} {d['total_ttc']} issued {d['issued_at']}")
        print("History:")
        for e in o["history"]:
            flag = "  ! ACTION NEEDED" if e["needs_action"] else ""
            print(f"  {e['at']} {e['kind']} by {e['actor']}: {e['detail'] or ''}{flag}")
        for c in o["comments"]:
            print(f"  comment by {c['author']} ({c['at']}): {c['text']}")

    _out(args, details, text)
    return EXIT_OK
