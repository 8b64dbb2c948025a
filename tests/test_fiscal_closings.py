"""Closings (Z): frozen totals per rate and payment method, the perpetual grand total, closed periods."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastimport.api.fiscal as fiscal
from fastimport.api import processing as api
from fastimport.errors import ProcessingError
from fastimport.fiscal import closings
from fastimport.processing import chain, invoicing
from fastimport.processing.records import FiscalRecord, write_documents
from fastimport.processing.settings import load_settings
from fastimport.store import connect
from tests.conftest import ShopFactory
from tests.fiscal_support import DAY2, DAY3, till
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY

KEY = SIGNING_KEY.encode()


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)


def _sums(con, start: dt.datetime, end: dt.datetime) -> tuple[int, int, dict[str, int]]:  # type: ignore[no-untyped-def]
    row = con.execute(
        "SELECT count(*), coalesce(sum(CAST(total_ttc * 100 AS BIGINT)), 0) FROM invoices "
        "WHERE issued_at >= ? AND issued_at < ?",
        [start, end],
    ).fetchone()
    by_method = dict(
        con.execute(
            "SELECT coalesce(payment_method, 'none'), sum(CAST(total_ttc * 100 AS BIGINT)) FROM invoices "
            "WHERE issued_at >= ? AND issued_at < ? GROUP BY 1",
            [start, end],
        ).fetchall()
    )
    return int(row[0]), int(row[1]), by_method


async def test_a_day_closing_freezes_the_days_documents_and_the_grand_total(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    config, con = await till(tmp_path, shop_factory)
    made = fiscal.close_period(config, con, "day", DAY2.date(), now=DAY3).closings
    # Day 1 was left unclosed: closed first, automatically.
    assert [(c.period, c.automatic) for c in made] == [("2026-04-01", True), ("2026-04-02", False)]
    for c in made:
        n, ttc, by_method = _sums(con, c.start, c.end)
        assert c.figures["invoices"] + c.figures["credit_notes"] == n
        assert c.figures["total_ttc"] == ttc
        assert {m: v[1] for m, v in c.figures["payments"].items()} == by_method
        per_rate = sum(v[0] + v[1] for v in c.figures["vat"].values())
        assert per_rate + c.figures["adjustment"] == ttc
    assert made[1].grand_total == made[0].grand_total + made[1].figures["total_ttc"]
    assert made[1].grand_total_abs >= made[0].grand_total_abs
    # The heads of every chain are frozen in the closing (and printed on its ticket).
    assert "journal" in made[1].figures["heads"]
    with pytest.raises(ProcessingError, match="already closed"):
        fiscal.close_period(config, con, "day", DAY2.date(), now=DAY3)
    assert [c.number for c in fiscal.list_closings(con)] == ["Z-eshop-000001", "Z-eshop-000002"]
    assert fiscal.verify_records(config, con).ok
    con.close()


async def test_nothing_can_be_dated_inside_a_closed_period(tmp_path: Path, shop_factory: ShopFactory) -> None:
    config, con = await till(tmp_path, shop_factory, orders=60)
    fiscal.close_period(config, con, "day", DAY2.date(), now=DAY3)
    settings = load_settings(config)
    keys = invoicing.pending_keys(con, config)
    before = con.execute("SELECT count(*) FROM invoices").fetchone()
    with pytest.raises(ProcessingError, match="closed"):  # the clock set back to day 2
        invoicing.invoice_orders(con, settings, keys, allow_unpaid=True, now=DAY2 + dt.timedelta(hours=3))
    assert con.execute("SELECT count(*) FROM invoices").fetchone() == before
    event = con.execute("SELECT kind, detail FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    assert event[0] == "clock_set_back" and "Z-eshop-000002" in event[1]
    assert fiscal.verify_records(config, con).ok
    con.close()


async def test_month_and_year_close_their_days_first_and_invoicing_closes_past_days(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    config, con = await till(tmp_path, shop_factory)
    with pytest.raises(ProcessingError, match="not over yet"):
        fiscal.close_period(config, con, "month", DAY2.date(), now=DAY3)
    may = dt.datetime(2026, 5, 2, 8, tzinfo=dt.UTC)
    made = fiscal.close_period(config, con, "month", DAY2.date(), now=may).closings
    assert [(c.period_kind, c.period) for c in made] == [
        ("day", "2026-04-01"),
        ("day", "2026-04-02"),
        ("month", "2026-04"),
    ]
    month = made[-1]
    assert month.figures["total_ttc"] == made[0].figures["total_ttc"] + made[1].figures["total_ttc"]
    # Invoicing on a later day closes the days it finds unclosed (here: none left but today's own).
    api.invoice(config, con, pending=True, allow_unpaid=True)
    assert fiscal.close_pending_days(config, con) == []  # today is not over: not closed
    con.close()


async def test_credit_notes_count_against_the_period_and_the_absolute_total_only_grows(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    config, con = await till(tmp_path, shop_factory)
    first = fiscal.close_period(config, con, "day", DAY2.date(), now=DAY3).closings[-1]
    number = con.execute("SELECT number FROM invoices ORDER BY invoice_id LIMIT 1").fetchone()[0]
    api.credit_note(config, con, number, "returned")
    # The credit note's day is the store's (Paris) day, which is not the UTC day from 23:00 UTC (or 22:00).
    today = dt.datetime.now(ZoneInfo(config.stores[0].timezone)).date()
    second = fiscal.close_period(config, con, "day", today).closings[-1]
    assert second.figures["credit_notes"] == 1 and second.figures["credit_notes_ttc"] < 0
    assert second.grand_total == first.grand_total + second.figures["total_ttc"] < first.grand_total
    assert (
        second.grand_total_abs == first.grand_total_abs - second.figures["total_ttc"] > first.grand_total_abs
    )
    con.close()


# -- property: a closing's totals are the sum of its documents, per rate and payment method --------

_RATES = (200, 100, 55, 21, 0)
_doc = st.tuples(
    st.sampled_from(("invoice", "credit_note")),
    st.sampled_from(("stripe", "paypal", "cheque")),
    st.lists(st.tuples(st.sampled_from(_RATES), st.integers(1, 50_000)), min_size=1, max_size=4),
    st.integers(0, 47),  # hour of issue within the two days
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=st.lists(_doc, min_size=1, max_size=25))
def test_closing_totals_equal_invoices_minus_credit_notes(
    tmp_path_factory: pytest.TempPathFactory, docs
) -> None:  # type: ignore[no-untyped-def]
    con = connect(tmp_path_factory.mktemp("prop") / "till.duckdb")
    con.execute(
        "INSERT INTO stores VALUES (1, 'eshop', 'woocommerce', 'http://x', 'Europe/Paris', NULL, NULL)"
    )
    start = dt.datetime(2026, 3, 31, 22, tzinfo=dt.UTC)  # 1 April, midnight in Paris
    records, prev, expect_rate, expect_pay = [], "", {}, {}
    for i, (kind, method, lines, hour) in enumerate(sorted(docs, key=lambda d: d[3])):
        sign = -1 if kind == "credit_note" else 1
        rows, vat = [], {}
        for n, (rate, ht) in enumerate(lines, 1):
            ht, tax = sign * ht, sign * (ht * rate // 1000)
            rows.append(
                [
                    n,
                    "item",
                    n if sign < 0 else None,
                    1,
                    0,
                    "S",
                    "x",
                    sign,
                    abs(ht) * 100,
                    rate,
                    ht,
                    tax,
                    ht + tax,
                ]
            )
            v = vat.setdefault(rate, [rate, 0, 0])
            v[1] += ht
            v[2] += tax
            e = expect_rate.setdefault(str(rate), [0, 0])
            e[0] += ht
            e[1] += tax
        ttc = sum(r[12] for r in rows)
        expect_pay[method] = expect_pay.get(method, 0) + ttc
        header = {
            "kind": kind, "series": "AV" if sign < 0 else "FA", "seq": i + 1, "number": f"N-{i:06d}",
            "issued_at": chain.epoch_us(start + dt.timedelta(hours=hour)), "store": "eshop", "order_id": i,
            "order_number": str(i), "order_key": None if sign < 0 else f"eshop:{i}",
            "refers_to": "N-000000" if sign < 0 else None, "reason": "r" if sign < 0 else None, "seller": "{}",
            "buyer": "{}", "currency": "EUR", "total_ht": sum(r[10] for r in rows),
            "total_vat": sum(r[11] for r in rows), "adjustment": 0, "total_ttc": ttc, "payment_method": method,
            "payment_title": method, "transaction_id": None, "paid_at": None, "line_count": len(rows),
            "actor": "t", "prev_signature": prev,
        }  # fmt: skip
        doc = FiscalRecord(header, rows, sorted(vat.values(), reverse=True), store_id=1)
        doc.signature = prev = chain.sign(KEY, prev, doc.canonical())
        records.append(doc)
    write_documents(con, records)
    end = start + dt.timedelta(days=2)
    figs = closings.figures(con, 1, chain.epoch_us(start), chain.epoch_us(end))
    assert {r: v for r, v in figs["vat"].items()} == {r: v for r, v in expect_rate.items()}
    assert {m: v[1] for m, v in figs["payments"].items()} == expect_pay
    assert figs["total_ttc"] == sum(expect_pay.values())
    # Day by day, the grand total adds up and the absolute one never shrinks.
    day1 = closings.close(con, KEY, "eshop", "day", dt.date(2026, 4, 2), now=end)
    assert day1[-1].grand_total == figs["total_ttc"]
    assert all(a.grand_total_abs <= b.grand_total_abs for a, b in itertools.pairwise(day1))
    con.close()
