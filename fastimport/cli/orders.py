"""``fastimport pending``, ``orders``, ``order show`` and ``comment``: what is stored, and notes on it."""

from __future__ import annotations

import argparse

from fastimport.cli.common import EXIT_OK, Session, output, print_json, print_json_stream


def add_order_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pending = sub.add_parser("pending", help="orders awaiting processing, oldest first")
    pending.add_argument("--store", action="append")
    pending.add_argument("--json", action="store_true")
    pending.add_argument(
        "--limit",
        type=_count,
        metavar="N",
        help=f"orders shown (default {PAGE} on the terminal, every one with --json; 0: every one)",
    )
    pending.add_argument("--offset", type=_count, default=0, metavar="N", help="skip the first N orders")
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


PAGE = 50  # pending orders shown on a terminal unless --limit says otherwise


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def cmd_pending(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.imports import count_pending, iter_pending_orders, pending_orders
    from fastimport.cli.output import print_orders

    config, con = session.config, session.con
    limit = args.limit or None  # 0 and absent: every order (the terminal's default is one page)
    if args.json:
        if limit is None and not args.offset:
            print_json_stream(iter_pending_orders(config, con, args.store))
        else:
            print_json(pending_orders(config, con, args.store, limit=limit, offset=args.offset))
        return EXIT_OK
    if args.limit is None:
        limit = PAGE
    total = count_pending(config, con, args.store)
    rows = pending_orders(config, con, args.store, limit=limit, offset=args.offset)
    empty = "Nothing pending: every order is done." if not total else f"No pending order past {args.offset}."
    print_orders(rows, title=f"Pending orders ({total})", empty=empty)
    more = total - args.offset - len(rows)
    if rows and more > 0:
        print(f"… {more} more (--offset {args.offset + len(rows)} for the next page, --limit 0 for all)")
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
    if args.json:  # streamed: a million orders are never held whole
        from fastimport.api.imports import iter_stored_orders

        print_json_stream(
            iter_stored_orders(session.config, session.con, args.store, since=args.since, until=args.until)
        )
        return EXIT_OK
    rows = stored_orders(session.config, session.con, args.store, since=args.since, until=args.until)
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
