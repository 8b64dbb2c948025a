"""Invoicing on the real path: orders imported from the simulated shop, a DuckDB file on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from fastimport.cli import main as cli
from fastimport.errors import ConfigError
from fastimport.processing import credit, invoicing, stock
from fastimport.processing.settings import load_settings
from fastimport.processing.verify import verify
from fastimport.store import connect
from fastimport.store.db import Connection
from tests.conftest import ShopFactory
from tests.test_processing_support import (
    SIGNING_ENV,
    SIGNING_KEY,
    W0,
    W1,
    import_shop,
    processing_config,
    write_toml,
)


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)


def _numbers(con: Connection, kind: str = "invoice") -> list[int]:
    return [
        r[0] for r in con.execute("SELECT seq FROM invoices WHERE kind = ? ORDER BY seq", [kind]).fetchall()
    ]


def _ledger_in_document_order(con: Connection) -> list[tuple[Any, ...]]:
    """Stock movements take their ids in (document, line) order (``stock.book_documents``), whatever the join."""
    moves = con.execute(
        "SELECT invoice_id, product_id, variation_id, sku, -quantity FROM stock_movements "
        "WHERE invoice_id IS NOT NULL ORDER BY movement_id"
    ).fetchall()
    lines = con.execute(
        "SELECT invoice_id, product_id, variation_id, sku, quantity FROM invoice_lines WHERE line_kind = 'item' "
        "AND (product_id <> 0 OR coalesce(sku, '') <> '') ORDER BY invoice_id, line_no"
    ).fetchall()
    assert moves == lines
    return moves


async def test_pending_batch_is_numbered_signed_and_destocked(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    _shop, url = await shop_factory(orders=300, start=W0, end=W1)
    config = processing_config(tmp_path, url, chunk=64)
    await import_shop(config)
    settings = load_settings(config)
    con = connect(config.target)
    keys = invoicing.pending_keys(con, config)
    report = invoicing.invoice_orders(con, settings, keys)
    assert report.issued and len(report.issued) + len(report.refused) == len(keys)
    assert all("unpaid" in r.reason for r in report.refused)
    assert _numbers(con) == list(range(1, len(report.issued) + 1))
    assert report.issued[0].number.startswith("FA-2026-eshop-0000")
    # Each invoice: totals = lines, VAT per rate = lines, total incl. VAT = the shop's total.
    bad = con.execute(
        "SELECT i.number FROM invoices i JOIN orders o USING (store_id, order_id) "
        "WHERE i.total_ttc <> o.total OR i.total_ht <> (SELECT sum(total_ht) FROM invoice_lines l "
        "WHERE l.invoice_id = i.invoice_id AND l.line_kind <> 'adjustment') "
        "OR i.total_vat <> (SELECT sum(vat) FROM invoice_vat v WHERE v.invoice_id = i.invoice_id)"
    ).fetchall()
    assert bad == []
    rates = {r[0] for r in con.execute("SELECT DISTINCT vat_rate::VARCHAR FROM invoice_lines").fetchall()}
    assert rates <= {"20.0", "10.0", "5.5", "2.1", "0.0"} and "20.0" in rates
    states = con.execute(
        "SELECT DISTINCT o.state FROM invoices i JOIN orders o USING (store_id, order_id)"
    ).fetchall()
    assert states == [("invoiced",)]
    # Stock: the shelves lose what was invoiced; the web shop, which had already counted these
    # sales when they were paid, keeps its figure (nothing to push for them).
    levels = stock.levels(con)
    sold = dict(
        con.execute(
            "SELECT product_id * 1000000 + variation_id, sum(quantity) FROM invoice_lines "
            "WHERE line_kind = 'item' AND product_id <> 0 GROUP BY 1"
        ).fetchall()
    )
    initial = dict(
        con.execute(
            "SELECT product_id * 1000000 + variation_id, quantity FROM stock_movements WHERE kind = 'initial'"
        ).fetchall()
    )
    shop = dict(
        con.execute("SELECT product_id * 1000000 + variation_id, stock_quantity FROM products").fetchall()
    )
    for row in levels.filter(levels["tracked"]).iter_rows(named=True):
        k = row["product_id"] * 1000000 + row["variation_id"]
        assert row["level"] == initial[k] - sold.get(k, 0)
        assert row["available"] == shop[k] and not row["changed"]
    moves = _ledger_in_document_order(con)
    assert len({m[0] for m in moves}) < len(moves)  # invoices of several lines, whose order is pinned
    # The orders' "invoiced" events take their ids in the invoices' order too (invoicing._after_invoices).
    events = con.execute(
        "SELECT i.invoice_id FROM order_events e JOIN invoices i ON i.store_id = e.store_id "
        "AND i.order_id = e.order_id WHERE e.kind = 'invoiced' ORDER BY e.event_id"
    ).fetchall()
    assert len(events) > 1 and events == sorted(events)
    assert verify(con, settings.key()).ok
    # Invoicing twice is refused in plain words.
    again = invoicing.invoice_orders(con, settings, [keys[0]])
    assert not again.issued and "already invoiced" in again.refused[0].reason
    con.close()


async def test_refusals_and_missing_settings(tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    _shop, url = await shop_factory(orders=60, start=W0, end=W1)
    config = processing_config(tmp_path, url)
    await import_shop(config, catalog=False)
    path = write_toml(tmp_path, url)
    con = connect(config.target)
    unpaid = con.execute(
        "SELECT order_id FROM orders WHERE paid_at IS NULL AND shop_status = 'on-hold' LIMIT 1"
    ).fetchall()
    cancelled = con.execute("SELECT order_id FROM orders WHERE shop_status = 'cancelled' LIMIT 1").fetchall()
    con.close()
    assert unpaid and cancelled
    assert cli(["--config", str(path), "invoice", str(unpaid[0][0])]) == 1
    assert "unpaid" in capsys.readouterr().err
    assert cli(["--config", str(path), "invoice", str(unpaid[0][0]), "--allow-unpaid"]) == 0
    assert "FA-2026-eshop-000001" in capsys.readouterr().out
    assert cli(["--config", str(path), "invoice", str(cancelled[0][0])]) == 1
    assert "cancelled on the shop" in capsys.readouterr().err
    assert cli(["--config", str(path), "ship", str(cancelled[0][0]), "--carrier", "x", "--no-push"]) == 1
    assert "cannot be shipped" in capsys.readouterr().err
    # Every platform's "will not be fulfilled" word counts, Shopify's voided payment included.
    con = connect(config.target)
    voided = con.execute(
        "UPDATE orders SET shop_status = 'voided' WHERE order_id = (SELECT min(order_id) FROM orders "
        "WHERE state = 'pending' AND paid_at IS NOT NULL) RETURNING order_id"
    ).fetchone()
    con.close()
    assert voided is not None
    assert cli(["--config", str(path), "invoice", str(voided[0])]) == 1
    assert "voided on the shop" in capsys.readouterr().err
    monkeypatch.delenv(SIGNING_ENV)
    assert cli(["--config", str(path), "invoice", "--pending"]) == 1
    assert f"set the environment variable {SIGNING_ENV}" in capsys.readouterr().err
    raw = processing_config(tmp_path, url).raw
    del raw["seller"]["siret"]
    from fastimport.config import parse_config

    with pytest.raises(ConfigError, match=r"seller\.siret"):
        load_settings(parse_config(raw)).require_seller()


def _tampered_report(con: Connection, key: bytes, sql: list[str]) -> Any:
    """What verify says of the store with ``sql`` applied; the tampering is rolled back after."""
    con.execute("BEGIN TRANSACTION")
    try:
        for s in sql:
            con.execute(s)
        return verify(con, key)
    finally:
        con.execute("ROLLBACK")


async def test_verify_names_altered_missing_and_swapped_records(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    _shop, url = await shop_factory(orders=80, start=W0, end=W1)
    config = processing_config(tmp_path, url)
    await import_shop(config, catalog=False)
    settings = load_settings(config)
    con = connect(config.target)
    invoicing.invoice_orders(con, settings, invoicing.pending_keys(con, config))
    assert len(_numbers(con)) >= 10
    report = verify(con, settings.key())
    con.close()
    assert report.ok and report.records > 10
    key = settings.key()
    fa = "FA-2026-eshop-"
    cases = {
        "buyer": (
            ["UPDATE invoices SET buyer = replace(buyer, 'a', 'o') WHERE seq = 4"],
            f"{fa}000004",
            "altered",
        ),
        "line": (
            [
                "UPDATE invoice_lines SET quantity = quantity + 1 WHERE invoice_id = (SELECT invoice_id FROM invoices WHERE seq = 5)"
            ],
            f"{fa}000005",
            "altered",
        ),
        "date": (
            ["UPDATE invoices SET issued_at = issued_at + INTERVAL '1 day' WHERE seq = 6"],
            f"{fa}000006",
            "altered",
        ),
        "delete": (
            [
                "DELETE FROM invoice_lines WHERE invoice_id = (SELECT invoice_id FROM invoices WHERE seq = 3)",
                "DELETE FROM invoice_vat WHERE invoice_id = (SELECT invoice_id FROM invoices WHERE seq = 3)",
                "DELETE FROM invoices WHERE seq = 3",
            ],
            f"{fa}000003",
            "missing",
        ),
        "delete_last": (
            ["DELETE FROM invoices WHERE seq = (SELECT max(seq) FROM invoices WHERE kind = 'invoice')"],
            None,
            "missing",
        ),
        "swap": (
            [
                "CREATE TABLE sw AS SELECT seq, order_id, order_number, order_key, buyer, total_ht, total_vat, "
                "adjustment, total_ttc FROM invoices WHERE seq IN (7, 8)",
                "UPDATE invoices SET order_id = -order_id, order_key = order_key || '-' WHERE seq IN (7, 8)",
                "UPDATE invoices i SET order_id = s.order_id, order_number = s.order_number, order_key = s.order_key, "
                "buyer = s.buyer FROM sw s WHERE i.seq IN (7, 8) AND s.seq = 15 - i.seq",
            ],
            f"{fa}000007",
            "altered",
        ),
    }
    con = connect(config.target)
    for name, (sql, record, kind) in cases.items():
        rep = _tampered_report(con, key, sql)
        assert not rep.ok, name
        first = rep.problems[0]
        assert first.kind == kind, (name, first)
        if record:
            assert first.record == record, (name, first)
    assert verify(con, key).ok  # every tampering was rolled back
    # Through the command: exit 1 naming the record.
    con.execute(cases["buyer"][0][0])
    con.close()
    toml = write_toml(tmp_path, url)
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli(["--config", str(toml), "verify"]) == 1
    assert f"{fa}000004 was altered" in out.getvalue()


async def test_cancellation_after_invoicing_is_reported_and_the_credit_note_restocks(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    shop, url = await shop_factory(orders=60, start=W0, end=W1)
    config = processing_config(tmp_path, url)
    await import_shop(config)
    settings = load_settings(config)
    con = connect(config.target)
    target = con.execute(
        "SELECT o.order_id FROM orders o WHERE o.shop_status = 'processing' AND o.paid_at IS NOT NULL AND "
        "(SELECT count(*) FROM order_lines l JOIN products p ON p.product_id = l.product_id AND p.variation_id = "
        "l.variation_id WHERE l.order_id = o.order_id AND p.stock_quantity IS NOT NULL) > 0 ORDER BY o.order_id LIMIT 1"
    ).fetchall()[0][0]
    stock.ensure_initial_levels(con)
    before = stock.levels(con)
    report = invoicing.invoice_orders(con, settings, [(1, target)])
    number = report.issued[0].number
    after_invoice = stock.levels(con)
    con.close()
    assert int(after_invoice["level"].sum()) < int(before["level"].sum())
    shop.modify_order(target, status="cancelled")
    await import_shop(config, catalog=False)
    con = connect(config.target)
    assert con.execute("SELECT state, shop_status FROM orders WHERE order_id = ?", [target]).fetchall() == [
        ("invoiced", "processing")
    ]
    proposals = credit.proposed_credit_notes(con)
    assert [p["invoice"] for p in proposals] == [number]
    issued = credit.credit_note(con, settings, number, "cancelled on the shop")
    assert issued.number.startswith("AV-2026-eshop-000001")
    assert issued.total_ttc == "-" + report.issued[0].total_ttc
    restored = stock.levels(con)
    cols = ["product_id", "variation_id", "level"]
    assert (
        restored.filter(restored["tracked"])
        .select(cols)
        .sort(cols)
        .equals(before.filter(before["tracked"]).select(cols).sort(cols))
    )
    assert credit.proposed_credit_notes(con) == []
    with pytest.raises(Exception, match="already fully credited"):
        credit.credit_note(con, settings, number, "again")
    rep = verify(con, settings.key())
    assert rep.ok and rep.series.get("AV-2026-eshop") == 1
    con.close()


async def test_partial_credit_notes_sum_to_the_invoice(tmp_path: Path, shop_factory: ShopFactory) -> None:
    _shop, url = await shop_factory(orders=80, start=W0, end=W1)
    config = processing_config(tmp_path, url)
    await import_shop(config, catalog=False)
    settings = load_settings(config)
    con = connect(config.target)
    inv = con.execute(
        "SELECT order_id FROM order_lines l JOIN orders o USING (store_id, order_id) WHERE l.quantity >= 2 "
        "AND o.paid_at IS NOT NULL AND o.shop_status = 'processing' LIMIT 1"
    ).fetchall()[0][0]
    number = invoicing.invoice_orders(con, settings, [(1, inv)]).issued[0].number
    line = con.execute(
        "SELECT line_no, quantity FROM invoice_lines JOIN invoices USING (invoice_id) WHERE number = ? "
        "AND line_kind = 'item' AND quantity >= 2 LIMIT 1",
        [number],
    ).fetchall()[0]
    credit.credit_note(con, settings, number, "one broken", {line[0]: 1})
    with pytest.raises(Exception, match="left to credit"):
        credit.credit_note(con, settings, number, "too many", {line[0]: line[1]})
    credit.credit_note(con, settings, number, "the rest")
    _ledger_in_document_order(con)  # the credit notes' lines too
    total = con.execute(
        "SELECT sum(total_ttc), sum(total_ht), sum(total_vat) FROM invoices WHERE number = ? OR refers_to = ?",
        [number, number],
    ).fetchall()[0]
    assert all(v == 0 for v in total)
    assert verify(con, settings.key()).ok
    con.close()


async def test_woocommerce_invoices_carry_the_billing_address_and_fees(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    shop, url = await shop_factory(orders=60, start=W0, end=W1)
    config = processing_config(tmp_path, url)
    await import_shop(config)
    settings = load_settings(config)
    con = connect(config.target)
    report = invoicing.invoice_orders(con, settings, invoicing.pending_keys(con, config))
    truth = {o["id"]: o for o in shop.truth()}
    assert report.issued
    for number, order_id, buyer in con.execute("SELECT number, order_id, buyer FROM invoices").fetchall():
        b = orjson.loads(buyer)
        assert b["city"] and b["postcode"] and b["address"], number
        assert truth[order_id]["total"] == str(
            con.execute("SELECT total_ttc FROM invoices WHERE number = ?", [number]).fetchone()[0]  # type: ignore[index]
        )
    con.close()
