"""Document numbers are formatted and parsed in one place, which issuing and verify both follow."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastimport.processing import invoicing, numbering
from fastimport.processing.settings import load_settings
from fastimport.processing.verify import verify
from fastimport.store import connect
from tests.conftest import ShopFactory
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY, W0, W1, import_shop, processing_config


@pytest.mark.parametrize(
    ("series", "seq"),
    [("FA-2026-eshop", 1), ("AV-2026-eshop-lyon", 42), ("BL-2026", 999_999), ("X", 1_234_567)],
)
def test_format_then_parse_round_trips(series: str, seq: int) -> None:
    number = numbering.document_number(series, seq)
    assert numbering.parse_number(number) == (series, seq)


def test_the_look_of_a_number() -> None:
    assert numbering.document_number("FA-2026-eshop", 42) == "FA-2026-eshop-000042"
    assert numbering.series_for("FA-{year}-{store}", year=2026, store="eshop") == "FA-2026-eshop"


@pytest.mark.parametrize("text", ["", "000042", "FA-2026-", "FA-2026-eshop-00x2", "-000001"])
def test_parse_refuses_what_is_not_a_number(text: str) -> None:
    with pytest.raises(ValueError, match="not a document number"):
        numbering.parse_number(text)


async def test_issuing_and_verify_follow_the_one_format(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Change the look in numbering only: invoices carry it and verify names a gap with it."""
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)
    monkeypatch.setattr(numbering, "SEPARATOR", "/")
    monkeypatch.setattr(numbering, "SEQ_DIGITS", 4)
    _shop, url = await shop_factory(orders=40, start=W0, end=W1)
    config = processing_config(tmp_path, url)
    await import_shop(config, catalog=False)
    settings = load_settings(config)
    con = connect(config.target)
    report = invoicing.invoice_orders(con, settings, invoicing.pending_keys(con, config))
    assert len(report.issued) >= 4
    assert report.issued[0].number == "FA-2026-eshop/0001"
    assert all(numbering.parse_number(i.number)[0] == "FA-2026-eshop" for i in report.issued)
    assert verify(con, settings.key()).ok
    for table in ("invoice_lines", "invoice_vat"):
        con.execute(f"DELETE FROM {table} WHERE invoice_id = (SELECT invoice_id FROM invoices WHERE seq = 3)")
    con.execute("DELETE FROM invoices WHERE seq = 3")
    problems = verify(con, settings.key()).problems
    con.close()
    assert [(p.kind, p.record) for p in problems] == [("missing", "FA-2026-eshop/0003")]
