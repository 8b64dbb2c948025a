"""``fastimport report sales``: invoices minus credit notes over a period, from the stored documents.

On the real path: orders imported from the simulated shop over loopback, invoiced at chosen
instants (one second either side of midnight in Paris), a credit note, a CHF order; the report's
sums equal the stored documents' to the cent, per currency, on the store's local days.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import fastimport
from fastimport.processing import credit, invoicing
from fastimport.processing.settings import load_settings
from tests.conftest import ShopFactory
from tests.invoice_print_support import Till, make_till, run, run_json
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY, W0

BATCH = dt.datetime(2026, 3, 24, 10, 0, tzinfo=dt.UTC)
LATE = dt.datetime(2026, 3, 24, 22, 59, 59, tzinfo=dt.UTC)  # 23:59:59 in Paris (UTC+1): the 24th
MIDNIGHT = dt.datetime(2026, 3, 24, 23, 0, 0, tzinfo=dt.UTC)  # 00:00:00 in Paris: the 25th
NEXT = dt.datetime(2026, 3, 25, 9, 0, tzinfo=dt.UTC)
D24, D25 = dt.date(2026, 3, 24), dt.date(2026, 3, 25)


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)


async def _documents(tmp_path: Path, shop_factory: ShopFactory) -> tuple[Till, dict[str, Any]]:
    till = await make_till(tmp_path, shop_factory, 14)
    chf = till.shop.create_order(W0 + dt.timedelta(days=2), currency="CHF", currency_symbol="CHF")
    from tests.test_processing_support import import_shop

    await import_shop(till.config, catalog=False)
    settings = load_settings(till.config)
    con = till.db()
    try:
        keys = sorted(invoicing.pending_keys(con, till.config))
        chf_key = next(k for k in keys if k[1] == chf)
        eur = [k for k in keys if k != chf_key]
        plan = [(eur[:-2], BATCH), (eur[-2:-1], LATE), (eur[-1:], MIDNIGHT), ([chf_key], NEXT)]
        numbers: dict[str, list[str]] = {}
        for part, moment in plan:
            report = invoicing.invoice_orders(con, settings, part, allow_unpaid=True, now=moment)
            assert len(report.issued) == len(part), report.refused
            numbers[moment.isoformat()] = [i.number for i in report.issued]
        credited = credit.credit_note(con, settings, numbers[BATCH.isoformat()][0], "retour")
    finally:
        con.close()
    return till, {"numbers": numbers, "credit": credited.number, "chf": chf}


def _stored(till: Till, date_from: dt.date, date_to: dt.date) -> dict[str, dict[str, Any]]:
    """The stored documents' sums per currency, computed here in Python from each record."""
    rows = till.query(
        "SELECT i.kind, i.currency, i.total_ht, i.total_vat, i.total_ttc, i.issued_at, s.timezone "
        "FROM invoices i JOIN stores s USING (store_id)"
    )
    from zoneinfo import ZoneInfo

    out: dict[str, dict[str, Any]] = defaultdict(lambda: {"invoice": 0, "credit_note": 0, "ht": Decimal(0),
                                                          "vat": Decimal(0), "ttc": Decimal(0)})  # fmt: skip
    for kind, currency, ht, vat, ttc, issued, zone in rows:
        if not date_from <= issued.astimezone(ZoneInfo(zone)).date() <= date_to:
            continue
        sums = out[currency]
        sums[kind] += 1
        sums["ht"] += ht
        sums["vat"] += vat
        sums["ttc"] += ttc
    return dict(out)


async def test_sales_report_equals_the_stored_documents(tmp_path: Path, shop_factory: ShopFactory) -> None:
    till, made = await _documents(tmp_path, shop_factory)
    today = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)  # the credit note is dated now
    expected = _stored(till, D24, today)
    assert set(expected) == {"EUR", "CHF"} and expected["EUR"]["credit_note"] == 1
    con = till.db()
    try:
        report = fastimport.sales_report(till.config, con, D24, today)
        by_rate = fastimport.sales_report(till.config, con, D24, today, by="rate")
        by_day = fastimport.sales_report(till.config, con, D24, today, by="day")
        by_payment = fastimport.sales_report(till.config, con, D24, today, by="payment")
        vat_rows = con.execute(
            "SELECT v.vat_rate, sum(v.base_ht), sum(v.vat) FROM invoice_vat v JOIN invoices i USING (invoice_id) "
            "WHERE i.currency = 'EUR' GROUP BY v.vat_rate"
        ).fetchall()
    finally:
        con.close()
    # By store: one row per currency, never mixed, equal to the documents to the cent.
    assert [(r.key, r.currency) for r in report.rows] == [("eshop", "CHF"), ("eshop", "EUR")]
    for row in report.rows:
        want = expected[row.currency]
        assert (row.invoices, row.credit_notes) == (want["invoice"], want["credit_note"])
        assert (row.total_ht, row.total_vat, row.total_ttc) == (want["ht"], want["vat"], want["ttc"])
        assert row.total_ttc == row.total_ht + row.total_vat + row.adjustment
    assert [(t.currency, t.total_ttc) for t in report.totals] == [
        (r.currency, r.total_ttc) for r in report.rows
    ]
    chf = next(r for r in report.rows if r.currency == "CHF")
    assert chf.invoices == 1 and chf.credit_notes == 0
    # By VAT rate: the stored breakdown per rate; with the rounding cents, the rates add up to TTC.
    eur_rates = [r for r in by_rate.rows if r.currency == "EUR"]
    assert {(r.key, r.total_ht, r.total_vat) for r in eur_rates if r.key is not None} == {
        (Decimal(rate), Decimal(base), Decimal(vat)) for rate, base, vat in vat_rows
    }
    assert sum(r.total_ttc for r in eur_rates) == expected["EUR"]["ttc"]
    assert sum(r.total_ht for r in eur_rates) == expected["EUR"]["ht"]
    # By payment method: every document in one group; the counts add up.
    eur_pay = [r for r in by_payment.rows if r.currency == "EUR"]
    assert sum(r.invoices for r in eur_pay) == expected["EUR"]["invoice"]
    assert sum(r.total_ttc for r in eur_pay) == expected["EUR"]["ttc"]
    assert all(r.label for r in eur_pay)
    # By day: the store's local days; the credit note sits on the day it was issued.
    days = {(r.key, r.currency): r for r in by_day.rows}
    batch, late, midnight = (len(made["numbers"][m.isoformat()]) for m in (BATCH, LATE, MIDNIGHT))
    assert days[(D24, "EUR")].invoices == batch + late
    assert days[(D25, "EUR")].invoices == midnight and days[(D25, "CHF")].invoices == 1
    assert sum(r.credit_notes for r in by_day.rows) == 1


async def test_a_day_is_the_stores_local_day(tmp_path: Path, shop_factory: ShopFactory) -> None:
    till, made = await _documents(tmp_path, shop_factory)
    late, midnight = made["numbers"][LATE.isoformat()][0], made["numbers"][MIDNIGHT.isoformat()][0]
    totals = dict(
        till.query("SELECT number, total_ttc FROM invoices WHERE number IN (?, ?)", [late, midnight])
    )
    # Both are on 24 March in UTC; in Paris the second one is on the 25th.
    code, on_25 = await run_json(till, "report", "sales", "--from", "2026-03-25", "--to", "2026-03-25")
    assert code == 0
    eur = next(r for r in on_25["rows"] if r["currency"] == "EUR")
    assert eur == eur | {
        "store": "eshop",
        "invoices": 1,
        "credit_notes": 0,
        "total_ttc": str(totals[midnight]),
    }
    assert {r["currency"] for r in on_25["rows"]} == {"EUR", "CHF"}
    code, on_24 = await run_json(
        till, "report", "sales", "--from", "2026-03-24", "--to", "2026-03-24", "--by", "day"
    )
    assert [(r["day"], r["currency"]) for r in on_24["rows"]] == [("2026-03-24", "EUR")]
    expected = _stored(till, D24, D24)["EUR"]
    assert on_24["rows"][0]["total_ttc"] == str(expected["ttc"]) and on_24["totals"][0]["currency"] == "EUR"
    assert Decimal(on_24["rows"][0]["total_ttc"]) > totals[late] > 0
    # The text table, with amounts and their currency; a bad date is a usage error.
    code, out, _ = await run(
        till, "report", "sales", "--from", "2026-03-24", "--to", "2026-03-25", "--by", "rate"
    )
    assert code == 0 and "EUR" in out and "CHF" in out and "VAT rate" in out
    code, out, _ = await run(
        till, "report", "sales", "--from", "2026-03-24", "--to", "2026-03-25", "--store", "nope"
    )
    assert code == 1
    with pytest.raises(SystemExit) as exc:
        await run(till, "report", "sales", "--from", "24/03/2026", "--to", "2026-03-25")
    assert exc.value.code == 2
