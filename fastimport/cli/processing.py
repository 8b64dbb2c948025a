"""``fastimport slip``, ``invoice``, ``credit-note``, ``ship``, ``payments``, ``verify``, ``stock``.

Each command calls one library operation (:mod:`fastimport.api.processing`) and prints its report;
refusals are FastImportErrors printed by :func:`fastimport.cli.main` (exit 1).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from fastimport.api.processing import DEFAULT_PRINT_TIMEOUT, PrintRequest, default_actor
from fastimport.cli.common import EXIT_FAILURE, EXIT_OK, Session, output, plural, print_json
from fastimport.cli.documents import add_invoice_options, after_invoice, invoice_mailing

if TYPE_CHECKING:
    from fastimport.processing.printing import PrintOutcome
    from fastimport.processing.pushqueue import PushReport


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


def add_processing_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actor: dict[str, Any] = {"default": default_actor(), "help": "who does it (default: $USER)"}

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
    add_invoice_options(inv)  # --pdf DIR, --email (fastimport.cli.documents)
    inv.set_defaults(handler=cmd_invoice)

    cn = sub.add_parser("credit-note", help="correct an invoice with a credit note (restocks the articles)")
    cn.add_argument(
        "invoice", nargs="?", metavar="INVOICE", help="the invoice number, e.g. FA-2026-eshop-000042"
    )
    cn.add_argument("--lines", nargs="+", metavar="LINE[:QTY]", help="credit only these invoice lines")
    cn.add_argument("--reason", help="why (printed on the credit note)")
    cn.add_argument(
        "--amount", metavar="AMOUNT", help="credit money, not articles (a refund the shop made without lines)"
    )
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
    adj = st_sub.add_parser("adjust", help="an inventory count, a breakage or a find (journaled)")
    adj.add_argument("sku", metavar="SKU", help="the article's SKU")
    adj.add_argument(
        "change", metavar="+N|-N|=N", help="found N, lost or broken N, or counted N on the shelf"
    )
    adj.add_argument("--reason", required=True, help='why, kept in the ledger and the journal ("inventaire")')
    adj.add_argument("--store")
    adj.add_argument("--actor", **actor)
    adj.add_argument("--json", action="store_true")
    adj.set_defaults(handler=cmd_stock_adjust)


def _print_request(args: argparse.Namespace) -> PrintRequest | None:
    """None without --print / --printer; else where and how long to print."""
    if not (getattr(args, "print", False) or getattr(args, "printer", None)):
        return None
    return PrintRequest(args.printer, float(args.print_timeout))


def _say_pushed(report: PushReport | None) -> None:
    """A shop that did not answer never fails the command: say so, the queue retries."""
    if report is None or report.ok:
        return
    why = f" ({report.errors[0]})" if report.errors else ""
    print(f"the shop was not told yet: {plural(report.waiting, 'message')} wait in the push queue{why}; "
          "they are retried later (fastimport push queue | push retry)", file=sys.stderr)  # fmt: skip


def _say_printed(outcome: PrintOutcome | None) -> None:
    if outcome is None:
        return
    lines = outcome.describe()
    print(lines[0])
    for line in lines[1:]:
        print(line, file=sys.stderr)


def cmd_invoice(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.processing import invoice

    mailing = invoice_mailing(args, session)
    done = invoice(
        session.config,
        session.con,
        args.orders,
        pending=args.pending,
        store=args.store,
        allow_unpaid=args.allow_unpaid,
        actor=args.actor,
        printing=_print_request(args),
        on_documents=mailing.hook() if mailing else None,
    )
    report = done.result
    documents, said, documents_ok = after_invoice(args, session, [i.number for i in report.issued], mailing)

    def text() -> None:
        for i in report.issued:
            adj = f" (rounding adjustment {i.adjustment})" if i.adjustment != "0.00" else ""
            print(f"invoice {i.number}: order {i.order_id} ({i.store}), {i.total_ttc} incl. VAT{adj}")
        for r in report.refused:
            print(f"not invoiced: order {r.order_id} ({r.store}): {r.reason}", file=sys.stderr)
        n = len(report.issued)
        if args.pending or n != 1:
            rate = f", {n / report.seconds:.0f}/s" if report.seconds and n else ""
            print(
                f"{plural(n, 'invoice')} issued, {len(report.refused)} refused in {report.seconds:.2f} s{rate}"
            )
        _say_printed(done.printed)
        _say_pushed(done.pushed)
        for line in said:
            print(line, file=sys.stderr)

    output(args, done.to_json() | documents, text)
    if not done.print_ok or not documents_ok:
        return EXIT_FAILURE
    return EXIT_FAILURE if report.refused and not args.pending else EXIT_OK


def cmd_credit_note(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.processing import credit_note, proposed_credit_notes

    if args.proposed:
        proposals = proposed_credit_notes(session.con)
        if args.json:
            print_json(proposals)
            return EXIT_OK
        if not proposals:
            print("No credit note is called for.")
        for p in proposals:
            print(f"{p['invoice']}: order {p['order']} ({p['store']}) is {p['shop_status']} on the shop: "
                  f"{p['command']}")  # fmt: skip
        return EXIT_OK
    done = credit_note(
        session.config,
        session.con,
        args.invoice,
        args.reason,
        args.lines,
        amount=args.amount,
        actor=args.actor,
        printing=_print_request(args),
    )

    def text() -> None:
        back = "" if args.amount else "; the credited articles are back in stock"
        print(f"credit note {done.result.issued.number} for {args.invoice}: {done.result.issued.total_ttc} "
              f"incl. VAT{back}")  # fmt: skip
        _say_printed(done.printed)
        _say_pushed(done.pushed)

    output(args, done.to_json(), text)
    return EXIT_OK if done.print_ok else EXIT_FAILURE


def cmd_ship(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.processing import ship

    printing = _print_request(args)
    done = ship(
        session.config,
        session.con,
        args.n,
        carrier=args.carrier,
        tracking=args.tracking,
        store=args.store,
        push=not args.no_push,
        actor=args.actor,
        printing=printing,
    )
    result = done.result

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
        _say_printed(done.printed)
        _say_pushed(done.pushed)

    output(args, done.to_json(), text)
    if not done.print_ok:
        return EXIT_FAILURE
    return EXIT_OK if result.pushed or args.no_push else EXIT_FAILURE


def cmd_slip(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.processing import print_slips

    done = print_slips(
        session.config,
        session.con,
        args.orders,
        pending=args.pending,
        store=args.store,
        actor=args.actor,
        printing=PrintRequest(args.printer, float(args.print_timeout)),
    )
    report = done.result

    def text() -> None:
        for s in report.printed:
            what = "now prepared" if s.moved else f"DUPLICATA {s.copy_number}"
            print(f"slip for order {s.number} ({s.store}): {what}, print job #{s.job_id}")
        for store, order_id, reason in report.refused:
            print(f"no slip: order {order_id} ({store}): {reason}", file=sys.stderr)
        if args.pending or len(report.printed) != 1:
            moved = sum(s.moved for s in report.printed)
            print(f"{plural(len(report.printed), 'slip')} queued, {plural(moved, 'order')} moved to prepared, "
                  f"{len(report.refused)} refused")  # fmt: skip
        _say_printed(done.printed)
        _say_pushed(done.pushed)

    output(args, done.to_json(), text)
    if not done.print_ok or (report.refused and not args.pending):
        return EXIT_FAILURE
    return EXIT_OK


def cmd_payments(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.processing import payments

    rows = payments(session.config, session.con, unpaid_only=args.unpaid)

    def text() -> None:
        from fastimport.cli.output import clean
        from fastimport.processing.payments import totals_by_currency

        for r in rows:
            when = f" on {r['paid_at'][8:10]}/{r['paid_at'][5:7]}/{r['paid_at'][:4]}" if r["paid_at"] else ""
            txn = f" ({r['transaction_id']})" if r["transaction_id"] else ""
            cur = r["currency"] or ""
            print(clean(f"{r['store']} #{r['order']:<8} {r['status']:<15} {r['total']:>10} {cur:<3} paid "
                        f"{r['paid']:>10} due {r['due']:>10}  {r['method']}{txn}{when}"))  # fmt: skip
        unpaid = sum(1 for r in rows if r["status"] in ("unpaid", "partially paid"))
        print(f"{len(rows)} orders, {unpaid} not fully paid")
        for cur, t in totals_by_currency(rows).items():  # one line per currency: never mixed
            print(f"  {cur}: total {t['total']}, paid {t['paid']}, due {t['due']}")

    output(args, rows, text)
    return EXIT_OK


def cmd_verify(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.processing import verify

    report = verify(session.config, session.con)

    def text() -> None:
        if report.ok:
            print(f"the chain holds: {report.records} records in {len(report.series)} series verified")
        else:
            print(f"verification FAILED: {report.problems[0].message}")
            for p in report.problems[1:]:
                print(f"  also: {p.message}")

    output(args, report.to_json(), text)
    return EXIT_OK if report.ok else EXIT_FAILURE


def cmd_stock(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.processing import stock_levels

    rows = stock_levels(session.con, changed_only=args.changed)

    def text() -> None:
        print(f"{'store':<10} {'sku':<16} {'level':>6} {'reserved':>8} {'available':>9} {'to push':>7}  name")
        for r in rows:
            push = f"{r['delta']:+d}" if r["changed"] else ""
            print(f"{r['store'] or '?':<10} {r['sku'] or '?':<16} {r['level']:>6} {r['reserved']:>8} "
                  f"{r['available']:>9} {push:>7}  {r['name'] or '(unknown to the shop)'}")  # fmt: skip
            if r["negative_because"]:
                print(f"{'':<10} {'':<16} negative: {r['negative_because']}")
        changed = sum(1 for r in rows if r["changed"])
        print(f"{len(rows)} articles, {changed} changed since the last push")

    output(args, rows, text)
    return EXIT_OK


def cmd_stock_adjust(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.processing import adjust_stock

    done = adjust_stock(session.config, session.con, args.sku, args.change, args.reason, store=args.store,
                        actor=args.actor)  # fmt: skip

    def text() -> None:
        if done.booked:
            print(
                f"{done.sku} ({done.store}): {done.before} -> {done.after} ({done.booked:+d}), {done.reason}"
            )
        else:
            print(f"{done.sku} ({done.store}): counted {done.after}, as the ledger says: nothing to book")
        print("the shop is told with the next fastimport stock push")

    output(args, done.to_json(), text)
    return EXIT_OK


def cmd_stock_push(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.processing import push_stock

    result = push_stock(session.config, session.con)

    def text() -> None:
        print(f"{result['changed']} changed levels, {result['accepted']} accepted by the shop")
        for r in result["refused"]:
            print(f"refused: {r['sku'] or r['product_id']} -> {r['level']}: {r['error']}", file=sys.stderr)

    output(args, result, text)
    return EXIT_OK if not result["refused"] else EXIT_FAILURE
