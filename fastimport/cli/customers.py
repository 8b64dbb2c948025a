"""``fastimport customers``: who bought, a returning guest counted once (matched by e-mail)."""

from __future__ import annotations

import argparse

from fastimport.cli.common import EXIT_OK, Session, output


def add_customer_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cust = sub.add_parser("customers", help="customers and their orders (guests matched by e-mail)")
    cust.add_argument("--store")
    cust.add_argument("--json", action="store_true")
    cust.set_defaults(handler=cmd_customers)


def cmd_customers(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.customers import customers
    from fastimport.cli.output import clean

    rows = customers(session.con, args.store)

    def text() -> None:
        for r in rows:
            who = f"{r['name'] or '?'} <{r['email'] or ''}>" + (" (guest)" if r["guest"] else "")
            print(clean(f"{r['store']} {who}: {r['orders']} order(s) {', '.join(map(str, r['order_ids']))}"))
        print(f"{len(rows)} customers")

    output(args, rows, text)
    return EXIT_OK
