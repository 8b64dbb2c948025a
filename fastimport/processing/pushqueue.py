"""The push queue: the shop hears back at each step of the till, and a shop that does not answer never
blocks it.

Each step writes one ``push_jobs`` row in the same transaction as its document: the slip (step
``prepared``), the invoice (``invoiced``, with the till's invoice number), the delivery note
(``shipped``, with carrier and tracking) and the credit note (``refunded``, or ``partially_refunded``
while some of the invoice is left).  :func:`send_pushes` then tells the shop, through the platform's
push-back (:func:`fastimport.io.pushback.tell`), for at most a few seconds; what the shop did not take
waits with backoff (30 s, doubling, at most an hour) for the next command or ``fastimport push retry``.
Pushes about one order go in order: a failed one holds back the later ones of that order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson

from fastimport.config import Config
from fastimport.errors import ConfigError, FastImportError
from fastimport.processing.invoicing import DocumentsHook
from fastimport.store.db import Connection, first_row

BACKOFF_BASE = 30.0  # seconds before the first retry; doubles after each failure
BACKOFF_MAX = 3600.0
MAX_ATTEMPTS = 12  # then 'failed' until `fastimport push retry`
PUSH_SECONDS = 15.0  # how long a command sends its pushes before leaving the rest queued
PUSH_RETRIES = 1  # per HTTP call, within one attempt (the queue does the patient retrying)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def enqueue(
    con: Connection, store_id: int, order_id: int, step: str, document: str | None = None,
    **details: Any,
) -> int:  # fmt: skip
    """Queue one push (call it inside the transaction of the document that causes it)."""
    row = first_row(
        con.execute(
            "INSERT INTO push_jobs (store_id, order_id, step, document, details, created_at, next_attempt_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING push_id",
            [store_id, order_id, step, document, orjson.dumps(details).decode(), _now(), _now()],
        )
    )
    assert row is not None
    return int(row[0])


def enqueue_prepared(con: Connection, store_id: int, order_id: int) -> None:
    enqueue(con, store_id, order_id, "prepared")


def documents_hook(con: Connection, numbers: Sequence[str]) -> None:
    """The ``on_documents`` hook queueing what the shop hears of invoices and credit notes."""
    if not numbers:
        return
    marks = ", ".join("?" for _ in numbers)
    rows = con.execute(
        "SELECT i.kind, i.store_id, i.order_id, i.number, i.refers_to, CAST(i.total_ttc AS VARCHAR), i.currency, "
        "(SELECT count(*) FROM invoice_lines l JOIN invoices o ON o.invoice_id = l.invoice_id WHERE "
        "o.number = i.refers_to AND l.quantity + coalesce((SELECT sum(c.quantity) FROM invoice_lines c JOIN "
        "invoices ci ON ci.invoice_id = c.invoice_id WHERE ci.kind = 'credit_note' AND ci.refers_to = o.number "
        f"AND c.source_line_no = l.line_no), 0) > 0) FROM invoices i WHERE i.number IN ({marks}) ORDER BY i.number",
        list(numbers),
    ).fetchall()
    for kind, store_id, order_id, number, refers_to, total, currency, left in rows:
        if kind == "invoice":
            enqueue(con, store_id, order_id, "invoiced", number, invoice_number=number)
        else:
            step = "partially_refunded" if left else "refunded"
            enqueue(con, store_id, order_id, step, number, invoice_number=refers_to, amount=total,
                    currency=currency)  # fmt: skip


def combine(*hooks: DocumentsHook | None) -> DocumentsHook | None:
    """One ``on_documents`` hook running each given one in turn."""
    given = [h for h in hooks if h is not None]
    if not given:
        return None

    def hook(con: Connection, numbers: Sequence[str]) -> None:
        for h in given:
            h(con, numbers)

    return hook


def _money(amount: str, currency: str | None) -> str:
    value = abs(Decimal(amount)).quantize(Decimal("0.01"))
    return f"{value:.2f}".replace(".", ",") + (f" {currency}" if currency else "")


def buyer_note(step: str, document: str | None, details: dict[str, Any]) -> str:
    """What the buyer reads on the shop, in French."""
    if step == "prepared":
        return "Votre commande est en cours de préparation."
    if step == "invoiced":
        return f"Votre facture n° {document} a été émise."
    if step == "shipped":
        carrier, tracking = details.get("carrier") or "", details.get("tracking")
        text = f"Votre commande a été expédiée ({carrier})"
        text += f" : numéro de suivi {tracking}." if tracking else "."
        return f"{text} Bon de livraison {document}."
    amount = _money(str(details.get("amount") or "0"), details.get("currency"))
    what = "remboursement" if step == "refunded" else "remboursement partiel"
    return f"Avoir n° {document} sur la facture {details.get('invoice_number')} : {what} de {amount}."


@dataclass
class PushReport:
    sent: int = 0
    failed_attempts: int = 0
    errors: list[str] = field(default_factory=list)
    waiting: int = 0  # still queued (or failed) after this pass

    @property
    def ok(self) -> bool:
        return not self.waiting

    def to_json(self) -> dict[str, Any]:
        return {"sent": self.sent, "waiting": self.waiting, "errors": list(dict.fromkeys(self.errors))}


_JOB_SQL = (
    "SELECT p.push_id, p.store_id, s.name, p.order_id, p.step, p.document, p.details, p.attempts, o.shop_status "
    "FROM push_jobs p JOIN stores s USING (store_id) LEFT JOIN orders o ON o.store_id = p.store_id AND "
    "o.order_id = p.order_id WHERE p.state = 'queued' "
)


def send_pushes(
    con: Connection,
    config: Config,
    ids: Sequence[int] | None = None,
    *,
    force: bool = False,
    seconds: float = PUSH_SECONDS,
) -> PushReport:
    """Send queued pushes (``ids``, or every due one; ``force``: due or not), in order, for at most
    ``seconds``; each outcome is written at once.  Never raises for a shop that refuses or is down."""
    sql, params = _JOB_SQL, list[Any]()
    if ids is not None:
        if not ids:
            return PushReport()
        sql += f"AND p.push_id IN ({', '.join('?' for _ in ids)}) "
        params = list(ids)
    if not force:
        sql += "AND p.next_attempt_at <= ? "
        params.append(_now())
    jobs = con.execute(sql + "ORDER BY p.push_id", params).fetchall()
    report = PushReport()
    if jobs and _inside_event_loop():
        # Blocking on the network here would stall the caller's own loop (and a shop served by it):
        # the pushes stay queued for the next command or `fastimport push retry`.
        report.errors.append("not sent from inside a running event loop: queued for the next command")
    elif jobs:
        asyncio.run(_send(con, config, jobs, report, time.monotonic() + seconds))
    row = first_row(
        con.execute(
            "SELECT count(*) FROM push_jobs WHERE state <> 'sent'"
            + (f" AND push_id IN ({', '.join('?' for _ in ids)})" if ids else ""),
            list(ids or []),
        )
    )
    report.waiting = int(row[0]) if row else 0
    return report


def _inside_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def _send(
    con: Connection,
    config: Config,
    jobs: list[tuple[Any, ...]],
    report: PushReport,
    deadline: float,
) -> None:
    from fastimport.io.fetcher import Fetcher
    from fastimport.io.pushback import OrderNews, session, tell
    from fastimport.io.registry import push_back_for

    pushers: dict[str, Any] = {}
    async with session() as http:
        for (
            push_id,
            store_id,
            store_name,
            order_id,
            step,
            document,
            details_text,
            attempts,
            shop_status,
        ) in jobs:
            if time.monotonic() > deadline:
                break
            earlier = first_row(
                con.execute(  # an earlier push of this order still waits: this one waits behind it
                    "SELECT count(*) FROM push_jobs WHERE store_id = ? AND order_id = ? AND state <> 'sent' "
                    "AND push_id < ?",
                    [store_id, order_id, push_id],
                )
            )
            if earlier and earlier[0]:
                continue
            details = _in_flight(con, int(push_id), orjson.loads(details_text))
            try:
                store = config.store(str(store_name))
            except ConfigError as exc:
                _failed(con, int(push_id), int(attempts), exc.message, report, final=True, details=details)
                continue
            if store.name not in pushers:
                pushers[store.name] = push_back_for(store)
            fetcher = Fetcher(
                http, concurrency=1, retries=PUSH_RETRIES, timeout=min(store.timeout, 10.0),
                shop=f"store '{store.name}'",
            )  # fmt: skip
            news = OrderNews(
                step=str(step), order_id=int(order_id), document=document, status=store.push_statuses.for_step(step),
                note=buyer_note(str(step), document, details), invoice_number=details.get("invoice_number"),
                carrier=details.get("carrier"), tracking=details.get("tracking"),
                shop_status=str(shop_status) if shop_status is not None else None,
            )  # fmt: skip
            try:
                expected = await tell(pushers[store.name], fetcher, news)
            except FastImportError as exc:
                _failed(con, int(push_id), int(attempts), exc.message, report, details=details)
                continue
            con.execute(
                "UPDATE push_jobs SET state = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL, "
                "shop_status = ?, details = ? WHERE push_id = ?",
                [_now(), expected, _landed(details), push_id],
            )
            report.sent += 1


def _in_flight(con: Connection, push_id: int, details: dict[str, Any]) -> dict[str, Any]:
    """Mark the push as on its way (committed before the shop is called).  Found still marked, an earlier
    attempt was cut off mid-call (the command killed): the shop may have it already, so this second
    sending is flagged ``possibly_duplicated`` (a note the buyer may read twice)."""
    if details.get("in_flight"):
        details["possibly_duplicated"] = True
    details["in_flight"] = True
    con.execute(
        "UPDATE push_jobs SET details = ? WHERE push_id = ?", [orjson.dumps(details).decode(), push_id]
    )
    return details


def _landed(details: dict[str, Any]) -> str:
    """The details once the attempt's outcome is known (no longer in flight)."""
    return orjson.dumps({k: v for k, v in details.items() if k != "in_flight"}).decode()


def _failed(
    con: Connection,
    push_id: int,
    attempts: int,
    message: str,
    report: PushReport,
    final: bool = False,
    details: dict[str, Any] | None = None,
) -> None:
    attempts += 1
    report.failed_attempts += 1
    report.errors.append(message)
    after = [] if details is None else [_landed(details)]
    set_details = "" if details is None else ", details = ?"
    if final or attempts >= MAX_ATTEMPTS:
        con.execute(
            f"UPDATE push_jobs SET state = 'failed', attempts = ?, last_error = ?{set_details} WHERE push_id = ?",
            [attempts, f"{message} (gave up; `fastimport push retry` to try again)", *after, push_id],
        )
        return
    delay = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (attempts - 1))
    con.execute(
        f"UPDATE push_jobs SET attempts = ?, last_error = ?, next_attempt_at = ?{set_details} WHERE push_id = ?",
        [attempts, message, _now() + dt.timedelta(seconds=delay), *after, push_id],
    )


def list_pushes(con: Connection, *, everything: bool = False) -> list[dict[str, Any]]:
    """The queue: what waits (and why), or every push with ``everything``."""
    where = "" if everything else "WHERE p.state <> 'sent' "
    rows = con.execute(
        "SELECT p.push_id, s.name, p.order_id, p.step, p.document, p.state, p.attempts, p.created_at, "
        "p.next_attempt_at, p.sent_at, p.last_error, p.shop_status, p.details FROM push_jobs p "
        "JOIN stores s USING (store_id) " + where + "ORDER BY p.push_id"
    ).fetchall()

    def iso(v: Any) -> str | None:
        return v.astimezone(dt.UTC).isoformat() if v is not None else None

    return [
        {
            "id": r[0], "store": r[1], "order": r[2], "step": r[3], "document": r[4], "state": r[5],
            "attempts": r[6], "created_at": iso(r[7]), "next_attempt_at": iso(r[8]) if r[5] == "queued" else None,
            "sent_at": iso(r[9]), "last_error": r[10], "shop_status": r[11],
            "possibly_duplicated": bool(orjson.loads(r[12]).get("possibly_duplicated")),
        }
        for r in rows
    ]  # fmt: skip


def requeue(con: Connection, push_id: int | None = None) -> list[int]:
    """Make failed or waiting pushes due now (one, or all); returns their ids."""
    params: list[Any] = [_now()]
    sql = "UPDATE push_jobs SET state = 'queued', next_attempt_at = ? WHERE state <> 'sent'"
    if push_id is not None:
        sql += " AND push_id = ?"
        params.append(push_id)
    rows = con.execute(sql + " RETURNING push_id", params).fetchall()
    return sorted(int(r[0]) for r in rows)
