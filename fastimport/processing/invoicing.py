"""Invoices and credit notes: gapless numbers, frozen content, HMAC chain, one transaction per chunk.

A chunk of orders (``ProcessingSettings.chunk``, 5000 by default) becomes, in
one DuckDB transaction: its invoices (numbered from the series head), their
lines and VAT breakdown (bulk inserts from Arrow), the stock movements, the
payments, the order state change and order events, the new series heads and
one journal entry.  A process killed mid-chunk leaves nothing of that chunk.

Amounts are integer cents throughout; the shop's total wins over the sum of
its lines, the difference (a cent or two of rounding) is booked as a visible
adjustment line.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pyarrow as pa

from fastimport.config import Config
from fastimport.errors import ProcessingError
from fastimport.io.connector import Buyer
from fastimport.io.registry import buyer_reader
from fastimport.processing import chain, money, numbering, stock
from fastimport.processing.lifecycle import DEAD_SHOP_STATUSES
from fastimport.processing.records import FiscalRecord, write_documents
from fastimport.processing.settings import ProcessingSettings
from fastimport.store import raw
from fastimport.store.db import Connection, single_threaded, transaction

# Beyond this gap between the shop's total and its lines, it is not rounding: refuse, in plain words.
MAX_ADJUSTMENT_CENTS = 5
INVOICABLE_STATES = ("pending", "prepared")

# Called inside a document's transaction with the numbers it issued (e.g. to enqueue their tickets):
# what it writes commits or rolls back with the documents.
DocumentsHook = Callable[[Connection, Sequence[str]], None]


@dataclass(frozen=True, slots=True)
class Issued:
    number: str
    kind: str
    store: str
    order_id: int
    total_ttc: str
    adjustment: str

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind,
            "store": self.store,
            "order": self.order_id,
            "total_ttc": self.total_ttc,
            "adjustment": self.adjustment,
        }


@dataclass(frozen=True, slots=True)
class Refused:
    store: str
    order_id: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"store": self.store, "order": self.order_id, "reason": self.reason}


@dataclass(slots=True)
class InvoiceReport:
    issued: list[Issued] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "invoiced": len(self.issued),
            "refused": len(self.refused),
            "seconds": round(self.seconds, 3),
            "invoices": [i.to_json() for i in self.issued],
            "refusals": [r.to_json() for r in self.refused],
        }


# -- the batch -------------------------------------------------------------------------------------


def pending_keys(con: Connection, config: Config) -> list[tuple[int, int]]:
    """(store_id, order_id) of every order awaiting invoicing, oldest first (as ``fastimport pending``)."""
    clauses, params = [], []
    for s in config.stores:
        if s.pending_statuses:
            clauses.append(f"(s.name = ? AND o.shop_status IN ({', '.join('?' * len(s.pending_statuses))}))")
            params += [s.name, *s.pending_statuses]
    if not clauses:
        return []
    rows = con.execute(
        "SELECT o.store_id, o.order_id FROM orders o JOIN stores s USING (store_id) "
        f"WHERE o.state IN {INVOICABLE_STATES} AND ({' OR '.join(clauses)}) "
        "ORDER BY o.created_at, s.name, o.order_id",
        params,
    ).fetchall()
    return [(int(a), int(b)) for a, b in rows]


def invoice_orders(
    con: Connection,
    settings: ProcessingSettings,
    keys: Sequence[tuple[int, int]],
    *,
    allow_unpaid: bool = False,
    actor: str = "till",
    now: dt.datetime | None = None,
    progress: Callable[[InvoiceReport], None] | None = None,
    on_documents: DocumentsHook | None = None,
) -> InvoiceReport:
    """Invoice the orders ``keys`` (store_id, order_id) in chunks; refusals are reported, not raised.

    ``on_documents(con, numbers)`` is called inside each chunk's transaction, after its invoices are
    written, with their numbers in order (``--print`` enqueues their tickets there).
    """
    key = settings.checked_key(con)
    seller = settings.require_seller()
    started = time.perf_counter()
    report = InvoiceReport()
    record_settings(con, settings, key, actor)
    if keys:
        chain.check_clock(con, key, now or dt.datetime.now(dt.UTC), sorted({k[0] for k in keys}), actor)
    stock.ensure_initial_levels(con)
    stores = {
        int(r[0]): (str(r[1]), ZoneInfo(str(r[2])))
        for r in con.execute("SELECT store_id, name, timezone FROM stores").fetchall()
    }
    seller_json = seller.canonical()
    class_rates = {k: money.rate10_from_text(v) for k, v in settings.tax_classes.items()}
    with single_threaded(con):
        for start in range(0, len(keys), settings.chunk):
            chunk = keys[start : start + settings.chunk]
            with _no_cycle_collection():
                _invoice_chunk(
                    con, settings, key, seller_json, class_rates, stores, chunk, allow_unpaid, actor, now, report,
                    on_documents,
                )  # fmt: skip
            if progress is not None:
                progress(report)  # called after each committed chunk
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """A chunk allocates some hundred objects per invoice, none in a cycle: Python's cycle collector
    would walk them over and over (a sixth of a batch's time, measured) for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_HEADER_SQL = """
SELECT k.pos, o.store_id, o.order_id, o.number, o.state, o.shop_status, coalesce(o.currency, 'EUR'),
       CAST(o.total * 100 AS BIGINT), CAST(coalesce(o.shipping_total, 0) * 100 AS BIGINT),
       CAST(coalesce(o.total_tax, 0) * 100 AS BIGINT), o.payment_method, o.payment_method_title,
       o.transaction_id, epoch_us(o.paid_at), o.shipping_method_title,
       o.ship_name, o.ship_address, o.ship_postcode, o.ship_city, o.ship_country,
       o.first_name, o.last_name, o.company, o.email, o.raw_chunk, o.raw_offset, o.raw_length
FROM chunk_keys k JOIN orders o ON o.store_id = k.store_id AND o.order_id = k.order_id
ORDER BY k.pos
"""
# Keyed by the order's place in the chunk (k.pos), as the headers: grouping needs no (store, order) tuple.
_LINES_SQL = """
SELECT k.pos, l.line_no, coalesce(l.product_id, 0), coalesce(l.variation_id, 0), l.sku,
       l.name, l.quantity, CAST(l.total * 100 AS BIGINT), CAST(l.total_tax * 100 AS BIGINT), l.tax_class
FROM chunk_keys k JOIN order_lines l ON l.store_id = k.store_id AND l.order_id = k.order_id
ORDER BY k.pos, l.line_no
"""


def _buyers(con: Connection, headers: list[tuple[Any, ...]]) -> list[Buyer]:
    """Billing address, shipping tax and fee lines of each order (in ``headers`` order), which its platform
    reads from the stored JSON at the place the header row gives."""
    payloads = raw.payloads_at(con, [h[24:27] for h in headers])
    readers = {
        int(r[0]): buyer_reader(str(r[1]))
        for r in con.execute("SELECT store_id, platform FROM stores").fetchall()
    }
    no_buyer = Buyer()
    return [readers[h[1]](blob) if blob else no_buyer for h, blob in zip(headers, payloads, strict=True)]


def _invoice_chunk(
    con: Connection,
    settings: ProcessingSettings,
    key: bytes,
    seller_json: str,
    class_rates: dict[str, int],
    stores: dict[int, tuple[str, ZoneInfo]],
    chunk: Sequence[tuple[int, int]],
    allow_unpaid: bool,
    actor: str,
    now: dt.datetime | None,
    report: InvoiceReport,
    on_documents: DocumentsHook | None = None,
) -> None:
    keys = pa.table(
        {
            "pos": pa.array(range(len(chunk)), pa.int64()),
            "store_id": pa.array([k[0] for k in chunk], pa.int32()),
            "order_id": pa.array([k[1] for k in chunk], pa.int64()),
        }
    )
    con.register("chunk_keys", keys)
    try:
        with transaction(con):
            chain.lock(con)  # before reading the orders: another till may be invoicing them
            issued_at = now or dt.datetime.now(dt.UTC)
            issued_us = chain.epoch_us(issued_at)
            headers = con.execute(_HEADER_SQL).fetchall()
            buyers = _buyers(con, headers)
            lines_by_pos = {
                pos: list(rows) for pos, rows in groupby(con.execute(_LINES_SQL).fetchall(), itemgetter(0))
            }
            found = {(int(h[1]), int(h[2])) for h in headers}
            for sid, oid in chunk:
                if (sid, oid) not in found:
                    report.refused.append(Refused(stores.get(sid, ("?",))[0], oid, "no such order"))
            docs: list[FiscalRecord] = []
            heads: dict[str, list[Any]] = {}
            series_of: dict[int, str] = {}  # store_id -> series: one instant, so one year per store
            for h, buyer in zip(headers, buyers, strict=True):
                store_name, zone = stores[int(h[1])]
                reason = _refusal(h, allow_unpaid)
                if reason is None:
                    try:
                        doc = _build_invoice(
                            h,
                            buyer,
                            lines_by_pos.get(h[0], []),
                            class_rates,
                            store_name,
                            seller_json,
                            actor,
                        )
                    except ProcessingError as exc:
                        reason = exc.message
                if reason is not None:
                    report.refused.append(Refused(store_name, int(h[2]), reason))
                    continue
                series = series_of.get(int(h[1]), "")
                if not series:
                    series = series_of[int(h[1])] = numbering.series_for(
                        settings.series, year=issued_at.astimezone(zone).year, store=store_name
                    )
                state = heads.get(series)
                if state is None:
                    state = heads[series] = [*chain.head(con, series), 0]
                state[0] += 1
                doc.header["series"] = series
                doc.header["seq"] = state[0]
                doc.header["number"] = numbering.document_number(series, state[0])
                doc.header["issued_at"] = issued_us
                doc.header["prev_signature"] = state[1]
                doc.signature = state[1] = chain.sign(key, state[1], doc.canonical())
                doc.store_id = int(h[1])
                docs.append(doc)
            if docs:
                first_id = write_documents(con, docs)
                _after_invoices(con, first_id, first_id + len(docs) - 1, actor)
                for series, (seq, sig, _) in heads.items():
                    chain.set_head(con, series, "invoice", seq, sig)
                chain.journal(
                    con,
                    key,
                    "invoice",
                    actor,
                    f"{docs[0].header['number']} .. {docs[-1].header['number']}",
                    {"count": len(docs), "total_ttc": money.cents(sum(d.header["total_ttc"] for d in docs))},
                )
                if on_documents is not None:
                    on_documents(con, [d.header["number"] for d in docs])
    finally:
        con.unregister("chunk_keys")
    cents = money.cents
    for hd in (d.header for d in docs):  # a zero adjustment (nearly all) without formatting
        adj = hd["adjustment"]
        report.issued.append(Issued(hd["number"], "invoice", hd["store"], hd["order_id"], cents(hd["total_ttc"]), cents(adj) if adj else "0.00"))  # fmt: skip


def _refusal(h: tuple[Any, ...], allow_unpaid: bool) -> str | None:
    state, shop_status, paid_us = h[4], h[5], h[13]
    if state not in INVOICABLE_STATES:
        if state in ("invoiced", "shipped"):
            return "already invoiced: an invoice is never issued twice (a credit note corrects one)"
        return f"the order is {state}"
    if shop_status in DEAD_SHOP_STATUSES:
        return f"the order is {shop_status} on the shop: there is nothing to invoice"
    if paid_us is None and not allow_unpaid:
        return "the order is unpaid: invoice it anyway with --allow-unpaid"
    return None


def _build_invoice(
    h: tuple[Any, ...],
    b: Buyer,
    order_lines: list[tuple[Any, ...]],
    class_rates: dict[str, int],
    store_name: str,
    seller_json: str,
    actor: str,
) -> FiscalRecord:
    if not order_lines:
        raise ProcessingError("the order has no lines")
    lines: list[list[Any]] = []
    vat: dict[int, list[int]] = {}
    total_ht = item_tax = n = 0
    vat_rate, div_round, class_rate = money.vat_rate, money.div_round, class_rates.get
    for _, line_no, product_id, variation_id, sku, name, qty, ht, shop_tax, tax_class in order_lines:
        tax = shop_tax or 0
        rate = class_rate(tax_class or "")
        # money.vat_rate's common case (the tax agrees with its class) and div_round's inline: calls cost
        if rate is None or shop_tax is None or not ht or not -1000 <= shop_tax * 1000 - ht * rate <= 1000:
            rate = vat_rate(ht, shop_tax, rate)
        unit = (ht * 200 + qty) // (qty * 2) if qty > 0 and ht >= 0 else div_round(ht * 100, qty) if qty else ht * 100  # fmt: skip
        n += 1
        lines.append([n, "item", line_no, product_id, variation_id, sku, name, qty, unit, rate, ht, tax, ht + tax])  # fmt: skip
        total_ht += ht
        item_tax += tax
        per = vat.setdefault(rate, [rate, 0, 0])
        per[1] += ht
        per[2] += tax
    fee_tax = 0
    for fee in b.fees:
        ht, tax = money.to_cents(fee.total or "0"), money.to_cents(fee.total_tax or "0")
        rate = money.vat_rate(ht, tax, class_rates.get(fee.tax_class or ""))
        fee_tax += tax
        lines.append([len(lines) + 1, "fee", None, 0, 0, None, fee.name or "Frais", 1, ht * 100, rate, ht, tax, ht + tax])  # fmt: skip
    ship_ht = int(h[8])
    ship_tax = (
        money.to_cents(b.shipping_tax) if b.shipping_tax not in (None, "") else int(h[9]) - item_tax - fee_tax
    )
    if ship_ht or ship_tax:
        rate = money.vat_rate(ship_ht, ship_tax, 200)
        name = h[14] or "Livraison"
        lines.append([len(lines) + 1, "shipping", None, 0, 0, None, name, 1, ship_ht * 100, rate, ship_ht, ship_tax, ship_ht + ship_tax])  # fmt: skip
    refunded = money.to_cents(b.refunded) if b.refunded else 0
    if refunded:  # refunded on the shop before invoicing: the invoice states what is due (README)
        if refunded >= sum(line[12] for line in lines):
            raise ProcessingError(
                "the shop refunded the whole order before invoicing: there is nothing to invoice"
            )
        lines += refund_lines(lines, refunded)
    total_vat = item_tax
    for line in lines[n:]:  # the n item lines are counted above
        total_ht += line[10]
        total_vat += line[11]
        per = vat.setdefault(line[9], [line[9], 0, 0])
        per[1] += line[10]
        per[2] += line[11]
    shop_total = int(h[7]) - (refunded if b.refunds_in_total else 0)
    adjustment = shop_total - total_ht - total_vat
    if abs(adjustment) > MAX_ADJUSTMENT_CENTS:
        raise ProcessingError(
            f"the shop's total {money.cents(shop_total)} differs from its lines "
            f"({money.cents(total_ht + total_vat)}) by {money.cents(adjustment)}: more than rounding, "
            "so it is not invoiced; check the order on the shop",
        )
    if adjustment:
        lines.append([len(lines) + 1, "adjustment", None, 0, 0, None, "Ajustement d'arrondi (total de la boutique)", 1, adjustment * 100, 0, adjustment, 0, adjustment])  # fmt: skip
    # filter(None, ...): the parts that are neither None nor empty, as a generator's `if p` (cheaper)
    billing_name = " ".join(filter(None, (b.first_name, b.last_name))) or " ".join(
        filter(None, (h[20], h[21]))
    )
    buyer = {
        "name": billing_name,
        "company": b.company or h[22] or "",
        "address": ", ".join(filter(None, (b.address_1, b.address_2))),
        "postcode": b.postcode or "",
        "city": b.city or "",
        "country": b.country or "",
        "email": b.email or h[23] or "",
        "ship_to": ", ".join(filter(None, (h[15], h[16], h[17], h[18], h[19]))),
    }
    if b.vat_number:  # business buyers (Factur-X)
        buyer["vat_number"] = b.vat_number
    if b.siren:
        buyer["siren"] = b.siren
    vat_rows = sorted(vat.values(), reverse=True)
    # Every signed field, "lines" and "vat" included, in sorted key order (FiscalRecord.presorted): the
    # canonical form is then this dict as it is, with no merged copy to build and sort.
    header = {
        "actor": actor,
        "adjustment": adjustment,
        "buyer": orjson.dumps(buyer, option=orjson.OPT_SORT_KEYS).decode(),
        "currency": h[6],
        "issued_at": 0,
        "kind": "invoice",
        "line_count": len(lines),
        "lines": lines,
        "number": "",
        "order_id": int(h[2]),
        "order_key": f"{store_name}:{h[2]}",
        "order_number": h[3],
        "paid_at": h[13],
        "payment_method": h[10],
        "payment_title": h[11],
        "prev_signature": "",
        "reason": None,
        "refers_to": None,
        "seller": seller_json,
        "seq": 0,
        "series": "",
        "store": store_name,
        "total_ht": total_ht,
        "total_ttc": shop_total,
        "total_vat": total_vat,
        "transaction_id": h[12] or None,
        "vat": vat_rows,
    }
    return FiscalRecord(header, lines, vat_rows, presorted=True)


def refund_lines(lines: list[list[Any]], amount: int) -> list[list[Any]]:
    """Lines taking ``amount`` cents (all taxes included) off an invoice's ``lines``, spread over their VAT
    rates by their TTC, one per rate, adding up to the amount to the cent (largest remainders)."""
    by_rate: dict[int, int] = {}
    for line in lines:
        by_rate[int(line[9])] = by_rate.get(int(line[9]), 0) + int(line[12])
    total = sum(by_rate.values())
    rates = sorted(by_rate, reverse=True)
    shares = {rate: amount * by_rate[rate] // total for rate in rates}
    for rate in sorted(rates, key=lambda x: amount * by_rate[x] % total, reverse=True)[
        : amount - sum(shares.values())
    ]:
        shares[rate] += 1
    out: list[list[Any]] = []
    for rate in rates:
        ttc = shares[rate]
        if ttc:
            vat = money.div_round(ttc * rate, 1000 + rate)
            name = f"Remboursement sur la boutique avant facturation (TVA {money.rate_text(rate)} %)"
            out.append([len(lines) + len(out) + 1, "fee", None, 0, 0, None, name, 1, -(ttc - vat) * 100, rate, vat - ttc, -vat, -ttc])  # fmt: skip
    return out


def _after_invoices(con: Connection, first: int, last: int, actor: str) -> None:
    """Stock movements, payments, order states and events of the invoices first..last (same transaction)."""
    stock.book_documents(con, first, last)
    con.execute(
        "INSERT INTO payments (store_id, order_id, method, method_title, transaction_id, amount, paid_at, source, "
        "invoice_number, recorded_at) SELECT store_id, order_id, payment_method, payment_title, transaction_id, "
        "total_ttc, paid_at, 'shop', number, now() FROM invoices "
        "WHERE invoice_id BETWEEN ? AND ? AND paid_at IS NOT NULL",
        [first, last],
    )
    con.execute(
        "INSERT INTO order_events (store_id, order_id, happened_at, kind, actor, from_state, to_state, detail) "
        "SELECT i.store_id, i.order_id, now(), 'invoiced', ?, o.state, 'invoiced', 'invoice ' || i.number "
        "FROM invoices i JOIN orders o ON o.store_id = i.store_id AND o.order_id = i.order_id "
        # Event ids in the invoices' order, not the join's (which may change with DuckDB's version or
        # threads): an order's history reads as its invoices were numbered.
        "WHERE i.invoice_id BETWEEN ? AND ? ORDER BY i.invoice_id",
        [actor, first, last],
    )
    con.execute(
        "UPDATE orders SET state = 'invoiced', updated_at = now() FROM invoices i "
        "WHERE i.invoice_id BETWEEN ? AND ? AND orders.store_id = i.store_id AND orders.order_id = i.order_id",
        [first, last],
    )


def record_settings(con: Connection, settings: ProcessingSettings, key: bytes, actor: str) -> None:
    """Journal a setting change (seller identity, series, mappings) the first time it is seen."""
    fingerprint = settings.fingerprint()
    row = chain.one(con, "SELECT detail FROM journal WHERE kind = 'setting_change' ORDER BY seq DESC LIMIT 1")
    if row and orjson.loads(row[0]).get("settings") == fingerprint:
        return
    with transaction(con):
        chain.journal(con, key, "setting_change", actor, None, {"settings": fingerprint})


def refused_message(refused: Iterable[Refused]) -> str:
    return "; ".join(f"order {r.order_id} ({r.store}): {r.reason}" for r in refused)
