"""The whole check of a till's records: key first, every chain, the closings, the anchors.

1. The key: compared with the stored fingerprint before anything else; a wrong key is said as such
   (:class:`~fastimport.processing.chain.KeyMismatchError`), never as "every record altered".
2. Every invoice and credit-note series and the journal (:mod:`fastimport.processing.verify`).
3. Every store's chain of closings, and each closing's figures against the documents now dated in
   its period (a document slipped into a closed period is named).
4. The anchor file: every head anchored after a commit must still be in the database, with the same
   signature (a cut tail, a rolled-back counter, an older copy of the database, a replaced record).
   On PostgreSQL, this till's witness: it first takes in the heads read now (:func:`witness`).
"""

from __future__ import annotations

import orjson

from fastimport.fiscal import anchors, closings
from fastimport.processing import chain, numbering
from fastimport.processing.verify import Problem, Record, VerifyReport, heads, verify, walk
from fastimport.store.db import Connection, till_of


def witness(con: Connection) -> None:
    """On PostgreSQL, this till witnesses the heads it reads; a witness started on a store that
    already holds signed records (a till joining it) is journaled by the next signature."""
    started = anchors.observe(con)
    if started is not None:
        till = till_of(con) or "till"
        path = anchors.anchor_path(con)
        chain.note_event(
            con, "anchors_started", till, str(path.name) if path else None,
            {"till": till, "heads": started},
        )  # fmt: skip


def closing_chains(con: Connection) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {}
    for r in con.execute(f"SELECT {closings.SELECT_FIELDS} FROM closings ORDER BY series, seq").fetchall():
        out.setdefault(str(r[0]), []).append(
            (int(r[1]), str(r[2]), closings.canonical(r), str(r[13]), str(r[14]))
        )
    return out


def verify_all(con: Connection, key: bytes, env: str | None) -> VerifyReport:
    """Everything :mod:`fastimport.fiscal.integrity` describes; raises ``KeyMismatchError`` on a wrong key."""
    chain.check_key(con, key, env, note_refusal=False)
    witness(con)
    report = verify(con, key)
    known = heads(con)
    sealed = chain.seals(con)
    by_series = closing_chains(con)
    for series in sorted(set(by_series) | {s for s, h in known.items() if h[0] == "closing"}):
        walk(
            report,
            series,
            by_series.get(series, []),
            known.get(series),
            key,
            lambda seq, series=series: numbering.document_number(series, seq),
            sealed,
        )
    if report.ok:
        _closed_periods(con, report)
    names = {
        "journal": lambda _s, seq: f"journal #{seq}",
        "delivery": numbering.document_number,
        "invoice": numbering.document_number,
        "credit_note": numbering.document_number,
        "closing": numbering.document_number,
    }
    for p in anchors.check(con, names):
        report.problems.append(Problem(p.series, p.record, p.kind, p.message))
    return report


def _closed_periods(con: Connection, report: VerifyReport) -> None:
    """Each closing's frozen figures still match the documents dated in its period."""
    rows = con.execute(
        "SELECT number, store_id, epoch_us(period_start), epoch_us(period_end), figures FROM closings "
        "ORDER BY closing_id"
    ).fetchall()
    for number, store_id, start, end, text in rows:
        frozen = orjson.loads(text)
        now = closings.figures(con, int(store_id), int(start), int(end))
        changed = [k for k, v in now.items() if frozen.get(k) != v]
        if changed:
            report.problems.append(
                Problem(
                    str(number).rpartition("-")[0],
                    str(number),
                    "closed_period",
                    f"the documents dated inside the period closed by {number} no longer match it "
                    f"({', '.join(changed)} differ): a document was dated inside a closed period",
                )
            )
            return
