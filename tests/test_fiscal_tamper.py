"""The tamper suite: each change to the stored records is caught and named, exit 1 from ``fastimport verify``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import fastimport.api.fiscal as fiscal
from fastimport.cli import main as cli
from fastimport.store import connect
from fastimport.store.db import Connection
from tests.conftest import ShopFactory
from tests.fiscal_support import DAY3, till
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY, write_toml

Con = Connection


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)


def _second(con: Con) -> str:
    return str(con.execute("SELECT number FROM invoices WHERE seq = 2 AND kind = 'invoice'").fetchone()[0])


def _edit_invoice(con: Con) -> str:
    con.execute(
        "UPDATE invoices SET total_ht = total_ht + 1, total_ttc = total_ttc + 1 WHERE number = ?",
        [_second(con)],
    )
    return _second(con)


def _edit_payment(con: Con) -> str:
    con.execute("UPDATE invoices SET payment_method = 'cash' WHERE number = ?", [_second(con)])
    return _second(con)


def _edit_line(con: Con) -> str:
    con.execute(
        "UPDATE invoice_lines SET name = 'something else' WHERE line_no = 1 AND invoice_id = "
        "(SELECT invoice_id FROM invoices WHERE number = ?)",
        [_second(con)],
    )
    return _second(con)


def _edit_closing(con: Con) -> str:
    con.execute("UPDATE closings SET grand_total = grand_total - 100 WHERE seq = 1")
    return "Z-eshop-000001"


def _edit_journal(con: Con) -> str:
    con.execute("UPDATE journal SET actor = 'nobody' WHERE seq = 3")
    return "journal #3"


def _delete_one(con: Con) -> str:
    number = _second(con)
    con.execute(
        "DELETE FROM invoice_lines WHERE invoice_id = (SELECT invoice_id FROM invoices WHERE number = ?)",
        [number],
    )
    con.execute(
        "DELETE FROM invoice_vat WHERE invoice_id = (SELECT invoice_id FROM invoices WHERE number = ?)",
        [number],
    )
    con.execute("DELETE FROM invoices WHERE number = ?", [number])
    return number


def _delete_journal(con: Con) -> str:
    con.execute("DELETE FROM journal WHERE seq = 2")
    return "journal #2"


def _swap(con: Con) -> str:
    rows = con.execute(
        "SELECT invoice_id, seq, number FROM invoices WHERE kind = 'invoice' AND seq IN (2, 3)"
    ).fetchall()
    (a, sa, na), (b, sb, nb) = sorted(rows, key=lambda r: r[1])
    con.execute("UPDATE invoices SET seq = 999999, number = 'tmp' WHERE invoice_id = ?", [a])
    con.execute("UPDATE invoices SET seq = ?, number = ? WHERE invoice_id = ?", [sa, na, b])
    con.execute("UPDATE invoices SET seq = ?, number = ? WHERE invoice_id = ?", [sb, nb, a])
    return na


def _replay(con: Con) -> str:
    """An old journal entry copied over a later one (same content, same signature)."""
    old = con.execute(
        "SELECT happened_at, kind, actor, subject, detail, prev_signature FROM journal WHERE seq = 2"
    ).fetchone()
    con.execute(
        "UPDATE journal SET happened_at = ?, kind = ?, actor = ?, subject = ?, detail = ?, prev_signature = ? WHERE seq = 4",
        list(old),
    )
    return "journal #4"


def _backdated(con: Con) -> str:
    """An invoice moved into a closed day (its date rewritten)."""
    number = str(con.execute("SELECT max(number) FROM invoices WHERE kind = 'invoice'").fetchone()[0])
    con.execute(
        "UPDATE invoices SET issued_at = TIMESTAMPTZ '2026-04-01 10:00:00+00' WHERE number = ?", [number]
    )
    return number


CASES: dict[str, Callable[[Con], str]] = {
    "edit an invoice's amounts": _edit_invoice,
    "edit an invoice's payment method": _edit_payment,
    "edit a line": _edit_line,
    "edit a closing": _edit_closing,
    "edit a journal entry": _edit_journal,
    "delete an invoice": _delete_one,
    "delete a journal entry": _delete_journal,
    "swap two invoices": _swap,
    "replay an old journal entry": _replay,
    "date an invoice inside a closed day": _backdated,
}


@pytest.mark.parametrize("case", list(CASES))
async def test_each_tampering_is_named(
    case: str, tmp_path: Path, shop_factory: ShopFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    config, con = await till(tmp_path, shop_factory)
    fiscal.close_period(config, con, "day", DAY3.date().replace(day=2), now=DAY3)
    assert fiscal.verify_records(config, con).ok
    named = CASES[case](con)
    con.close()
    toml = write_toml(tmp_path, config.stores[0].url)
    capsys.readouterr()
    assert cli(["--config", str(toml), "verify"]) == 1
    out = capsys.readouterr().out
    assert "verification FAILED" in out and named in out.splitlines()[0], out
    # The failure itself is journaled, signed with the right key.
    con = connect(config.target)
    assert con.execute("SELECT kind FROM journal ORDER BY seq DESC LIMIT 1").fetchone() == ("verify_failed",)
    con.close()
