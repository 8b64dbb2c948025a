"""``fastimport pending``, ``orders``, ``order show`` and ``comment``: what is stored, and notes on it."""

from __future__ import annotations

import argparse

from fastimport.cli.common import EXIT_OK, Session, output, print_json


def add_order_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pending = sub.add_parser("pending", help="orders awaiting processing, oldest first")
    pending.add_argument("--store", action="append")
    pending.add_argument("--json", action="store_true")
    pending.set_defaults(handler=cmd_pending)

    orders = sub.add_parser("orders", help="every stored order, whatever its state")
    orders.add_argument("--store", action="append")
    orders.add_argument("--since", metavar="DATE")
    orders.add_argument("--until", metavar="DATE")
    orders.add_argument("--json", action="store_true")
    orders.add_argument(
        "--set-aside",
        action="store_true",
        help="orders an import could not read, with the reason and their JSON",
    )
    orders.set_defaults(handler=cmd_orders)

    order = sub.add_parser("order", help="one order: lines, customer, payment, shipping, history, comments")
    order_sub = order.add_subparsers(dest="order_command", required=True)
    show = order_sub.add_parser("show", help="show one order (N = shop order id or number)")
    show.add_argument("n", metavar="N")
    show.add_argument("--store")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_order_show)

    comment = sub.add_parser("comment", help="add an internal comment to an order")
    comment.add_argument("n", metavar="N")
    comment.add_argument("text")
    comment.add_argument("--author", required=True)
    comment.add_argument("--store")
    comment.set_defaults(handler=cmd_comment)


def cmd_pending(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.imports import pending_orders
    from fastimport.cli.output import print_orders

    rows = pending_orders(session.config, session.con, args.store)
    if args.json:
        print_json(rows)
    else:
        print_orders(
            rows, title=f"Pending orders ({len(rows)})", empty="Nothing pending: every order is done."
        )
    return EXIT_OK


def cmd_orders(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.imports import stored_orders
    from fastimport.cli.output import print_orders

    if args.set_aside:
        from fastimport.api.imports import set_aside_orders
        from fastimport.cli.output import clean

        aside = set_aside_orders(session.con)
        if args.json:
            print_json(aside)
        for r in [] if args.json else aside:
            print(clean(f"{r['store']} order {r['id']}: {r['reason']} (since {r['first_seen'][:16]})"))
        if not args.json:
            print(f"{len(aside)} order(s) set aside" if aside else "No order is set aside.")
        return EXIT_OK
    rows = stored_orders(session.config, session.con, args.store, since=args.since, until=args.until)
    if args.json:
        print_json(rows)
    else:
        print_orders(rows, title=f"Orders ({len(rows)})", empty="No order stored for this selection.")
    return EXIT_OK


def cmd_comment(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.processing import add_comment

    order = add_comment(session.con, args.n, args.text, args.author, store=args.store)
    print(f"comment added to order {order.order_id} ({order.store}) by {args.author}")
    return EXIT_OK


def cmd_order_show(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.processing import order_details

    details = order_details(session.con, args.n, args.store)

    def text() -> None:
        from fastimport.cli.output import clean, when

        o = details

        def say(line: str) -> None:
            print(clean(line))

        say(
            f"Order {o['number']} ({o['store']}, id {o['order']}): {o['state']} here, {o['shop_status']} on the shop"
        )
        say(f"Created {when(o['created_at'])}   customer {o['customer']} <{o['email'] or ''}>")
        pay = o["payment"]
        say(f"Payment: {pay['method']} {pay['status']} {when(pay['paid_at'])} {pay['transaction_id'] or ''}")
        say(f"Shipping: {o['shipping']['method'] or ''} to {o['shipping']['address'] or ''}")
        if o["note"]:
            say(f"Note: {o['note']}")  # in full here; tickets wrap it to a few lines
        for line in o["lines"]:
            name, sku = clean(line["name"]).replace("\n", " "), clean(line["sku"] or "?")
            say(f"  {line['quantity']:>3} x {sku:<16} {name:<40} {line['total']:>9}")
        say(f"  total {o['total']} {o['currency']}")
        for d in o["documents"]:
            say(f"{d['kind']} {d['number']} {d['total_ttc']} issued {when(d['issued_at'])}")
        say("History:")
        for e in o["history"]:
            flag = "  ! ACTION NEEDED" if e["needs_action"] else ""
            say(f"  {when(e['at'])} {e['kind']} by {e['actor']}: {e['detail'] or ''}{flag}")
        for c in o["comments"]:
            say(f"  comment by {c['author']} ({when(c['at'])}): {c['text']}")

    output(args, details, text)
    return EXIT_OK
