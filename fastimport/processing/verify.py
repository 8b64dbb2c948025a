"""Walk every chain (invoice series, credit-note series, the journal) and name the first bad record.

A record is *altered* when its signature no longer matches its stored content
(any field, line or VAT row edited), *reordered* when its own signature holds
but it does not follow the record before it (swapped or moved), *missing* when
a number is absent from its series (a gap, or the tail cut off: the series head
in ``series_counters`` remembers the last number and signature).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastimport.processing import chain, numbering
from fastimport.processing.records import HEADER_FIELDS
from fastimport.store.db import Connection

_HEADERS_SQL = """
SELECT i.invoice_id, i.kind, i.series, i.seq, i.number, epoch_us(i.issued_at), s.name, i.order_id, i.order_number,
    i.order_key, i.refers_to, i.reason, i.seller, i.buyer, i.currency, CAST(i.total_ht * 100 AS BIGINT),
    CAST(i.total_vat * 100 AS BIGINT), CAST(i.adjustment * 100 AS BIGINT), CAST(i.total_ttc * 100 AS BIGINT),
    i.payment_method, i.payment_title, i.transaction_id, epoch_us(i.paid_at), i.line_count, i.actor,
    i.prev_signature, i.signature
FROM invoices i LEFT JOIN stores s USING (store_id)
ORDER BY i.series, i.seq, i.invoice_id
"""
_LINES_SQL = """
SELECT invoice_id, line_no, line_kind, source_line_no, product_id, variation_id, sku, name, quantity,
    CAST(unit_price_ht * 10000 AS BIGINT), CAST(vat_rate * 10 AS INTEGER), CAST(total_ht * 100 AS BIGINT),
    CAST(vat * 100 AS BIGINT), CAST(total_ttc * 100 AS BIGINT)
FROM invoice_lines ORDER BY invoice_id, line_no
"""
_VAT_SQL = """
SELECT invoice_id, CAST(vat_rate * 10 AS INTEGER), CAST(base_ht * 100 AS BIGINT), CAST(vat * 100 AS BIGINT)
FROM invoice_vat ORDER BY invoice_id, vat_rate DESC
"""


@dataclass(frozen=True, slots=True)
class Problem:
    series: str
    record: str  # the invoice number, or "journal #n"
    kind: str  # altered | reordered | missing | duplicate
    message: str

    def to_json(self) -> dict[str, str]:
        return {"series": self.series, "record": self.record, "problem": self.kind, "message": self.message}


@dataclass(slots=True)
class VerifyReport:
    records: int = 0
    series: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "series": self.series,
            "first_problem": self.problems[0].to_json() if self.problems else None,
            "problems": [p.to_json() for p in self.problems],
        }


Record = tuple[int, str, bytes, str, str]  # (seq, name, canonical form, prev_signature, signature)


def heads(con: Connection) -> dict[str, tuple[str, int, str]]:
    """series -> (kind, last seq, last signature), as ``series_counters`` holds them."""
    return {
        str(r[0]): (str(r[1]), int(r[2]), str(r[3]))
        for r in con.execute("SELECT series, kind, last_seq, last_signature FROM series_counters").fetchall()
    }


def document_chains(con: Connection) -> dict[str, list[Record]]:
    """Every invoice and credit-note series, its records in number order."""
    lines: dict[int, list[list[Any]]] = {}
    for row in con.execute(_LINES_SQL).fetchall():
        lines.setdefault(int(row[0]), []).append(list(row[1:]))
    vats: dict[int, list[list[Any]]] = {}
    for row in con.execute(_VAT_SQL).fetchall():
        vats.setdefault(int(row[0]), []).append(list(row[1:]))
    out: dict[str, list[Record]] = {}
    for row in con.execute(_HEADERS_SQL).fetchall():
        header = dict(zip(HEADER_FIELDS, row[1:26], strict=True))
        body = {**header, "lines": lines.get(int(row[0]), []), "vat": vats.get(int(row[0]), [])}
        out.setdefault(str(row[2]), []).append(
            (int(row[3]), str(row[4]), chain.canonical(body), str(row[25]), str(row[26]))
        )
    return out


def journal_chain(con: Connection) -> list[Record]:
    rows = con.execute(
        "SELECT seq, epoch_us(happened_at), kind, actor, subject, detail, prev_signature, signature FROM journal "
        "ORDER BY seq"
    ).fetchall()
    return [
        (
            int(r[0]),
            f"journal #{r[0]}",
            chain.journal_canonical(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], r[6]),
            str(r[6]),
            str(r[7]),
        )
        for r in rows
    ]


def verify(con: Connection, key: bytes) -> VerifyReport:
    """Check every series; problems are listed in walk order, the first of each series first."""
    report = VerifyReport()
    known = heads(con)
    by_series = document_chains(con)
    sealed = chain.seals(con)
    for series in sorted(
        set(by_series) | {s for s, h in known.items() if h[0] in ("invoice", "credit_note")}
    ):
        walk(
            report,
            series,
            by_series.get(series, []),
            known.get(series),
            key,
            lambda seq, series=series: numbering.document_number(series, seq),
            sealed,
        )
    walk(
        report,
        chain.JOURNAL_SERIES,
        journal_chain(con),
        known.get(chain.JOURNAL_SERIES),
        key,
        lambda s: f"journal #{s}",
        sealed,
    )
    return report


def walk(
    report: VerifyReport,
    series: str,
    records: list[Record],
    head: tuple[str, int, str] | None,
    key: bytes,
    name: Any,
    sealed: dict[tuple[str, int], str] | None = None,
) -> None:
    """Walk one chain of (seq, name, canonical, prev_signature, signature); the first problem is reported.

    A record signed with an earlier key holds when its seal (made at ``fastimport key rotate``) does.
    """
    sealed = sealed or {}
    report.series[series] = len(records)
    report.records += len(records)
    prev_sig = ""
    expected = 1
    for seq, number, canon, stored_prev, signature in records:
        if seq < expected:
            report.problems.append(
                Problem(series, number, "duplicate", f"{number}: its number appears twice")
            )
            return
        if seq > expected:
            missing = name(expected)
            report.problems.append(
                Problem(series, missing, "missing", f"{missing} is missing: the series jumps to {number}")
            )
            return
        if chain.sign(key, stored_prev, canon) != signature and sealed.get((series, seq)) != chain.seal(
            key, stored_prev, canon, signature
        ):
            report.problems.append(
                Problem(
                    series,
                    number,
                    "altered",
                    f"{number} was altered: its signature does not match its content",
                )
            )
            return
        if stored_prev != prev_sig:
            report.problems.append(
                Problem(
                    series,
                    number,
                    "reordered",
                    f"{number} is out of order: it does not follow the record before it (swapped or moved)",
                )
            )
            return
        prev_sig = signature
        expected += 1
    if head is not None:
        last_seq, last_sig = head[1], head[2]
        if last_seq > expected - 1:
            missing = name(expected)
            report.problems.append(
                Problem(
                    series,
                    missing,
                    "missing",
                    f"{missing} is missing: the series should run to {name(last_seq)}",
                )
            )
        elif last_seq == expected - 1 and last_sig != prev_sig:
            last = name(last_seq)
            report.problems.append(
                Problem(
                    series,
                    last,
                    "altered",
                    f"{last} does not match the series head recorded when it was issued",
                )
            )
