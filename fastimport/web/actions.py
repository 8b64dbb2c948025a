"""What an order's buttons do (slip, invoice, ship, comment, credit note), and the sentence saying so.

The JSON API and the page share these: each calls one library operation on the database thread and
answers the operation's ``--json`` object plus ``ok`` and ``message`` (in the page's language).
"""

from __future__ import annotations

from typing import Any

import fastimport
from fastimport.config import Config
from fastimport.errors import FastImportError, ProcessingError
from fastimport.store.db import Connection
from fastimport.web.database import Database
from fastimport.web.i18n import Messages, translate_refusal

ACTIONS = ("slip", "invoice", "ship", "comment", "credit_note")


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    return value.strip() if isinstance(value, str) else ""


def _printed(m: Messages, out: dict[str, Any]) -> str:
    printed = out.get("print")
    if not printed:
        return ""
    if printed.get("still_queued"):
        reasons = "; ".join(printed.get("reasons") or [])
        return " " + m.gettext("The ticket waits in the print queue: %(reason)s") % {"reason": reasons}
    if printed.get("printed"):
        return " " + m.gettext("The ticket is printed.")
    return ""


async def run_action(
    db: Database, m: Messages, print_timeout: float, store: str, order: str, action: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Run ``action`` on the order; ``ok`` False with a ``message`` when the library refused."""
    printing = fastimport.PrintRequest(timeout=print_timeout) if body.get("print", True) else None

    def work(config: Config, con: Connection) -> dict[str, Any]:
        ref = fastimport.find_order(con, order, store)
        if action == "slip":
            slip = fastimport.print_slips(
                config, con, [ref], printing=printing or fastimport.PrintRequest(timeout=0)
            )
            out = slip.to_json()
            if slip.result.refused:
                return out | {"ok": False, "message": translate_refusal(m, slip.result.refused[0][2])}
            number = slip.result.printed[0].number
            return out | {"ok": True, "message": m.gettext("Preparation slip %(number)s made.") % {"number": number}
                          + _printed(m, out)}  # fmt: skip
        if action == "invoice":
            done = fastimport.invoice(config, con, [ref], printing=printing)
            out = done.to_json()
            if done.result.refused:
                return out | {"ok": False, "message": translate_refusal(m, done.result.refused[0].reason)}
            number = done.result.issued[0].number
            return out | {"ok": True, "message": m.gettext("Invoice %(number)s issued.") % {"number": number}
                          + _printed(m, out)}  # fmt: skip
        if action == "ship":
            carrier, tracking = _text(body, "carrier"), _text(body, "tracking")
            if not carrier:
                raise ProcessingError(m.gettext("Choose the carrier."))
            shipped = fastimport.ship(config, con, ref, carrier=carrier, tracking=tracking or None,
                                      push=bool(body.get("push", True)), printing=printing)  # fmt: skip
            out = shipped.to_json()
            message = m.gettext("Delivery note %(number)s made.") % {"number": shipped.result.number}
            if shipped.result.push_error:
                message += " " + m.gettext("The shop was not told yet: %(error)s") % {
                    "error": shipped.result.push_error
                }
            return out | {"ok": True, "message": message + _printed(m, out)}
        if action == "comment":
            text = _text(body, "text")
            if not text:
                raise ProcessingError(m.gettext("Write the comment first."))
            fastimport.add_comment(con, ref, text, _text(body, "author") or "till")
            return {"ok": True, "message": m.gettext("Comment added.")}
        if action == "credit_note":
            reason = _text(body, "reason")
            if not reason:
                raise ProcessingError(m.gettext("Give the reason for the credit note."))
            details = fastimport.order_details(con, ref)
            invoices = [d["number"] for d in details["documents"] if d["kind"] == "invoice"]
            if not invoices:
                raise ProcessingError(m.gettext("Invoice the order first."))
            credited = fastimport.credit_note(config, con, invoices[-1], reason, printing=printing)
            out = credited.to_json()
            number = out.get("number", "")
            return out | {"ok": True, "message": m.gettext("Credit note %(number)s issued.") % {"number": number}
                          + _printed(m, out)}  # fmt: skip
        raise FastImportError(f"no such action {action!r}")

    try:
        return await db.run(work)
    except FastImportError as exc:
        if exc.message.startswith("no order"):
            raise
        return {"ok": False, "message": translate_refusal(m, exc.message)}
