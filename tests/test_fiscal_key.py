"""Key check before any signature, a deliberate key rotation, and the anchors beside the database."""

from __future__ import annotations

import hashlib
import hmac
import shutil
from pathlib import Path

import orjson
import pytest

import fastimport.api.fiscal as fiscal
from fastimport.api import processing as api
from fastimport.cli import main as cli
from fastimport.fiscal import anchors
from fastimport.processing import chain, invoicing
from fastimport.processing.chain import KeyMismatchError
from fastimport.processing.settings import load_settings
from fastimport.store import connect
from tests.conftest import ShopFactory
from tests.fiscal_support import DAY3, counts, till
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY, W0, W1, processing_config, write_toml

WRONG = "not-the-right-key-at-all"


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)


def test_a_signature_is_the_hmac_of_the_previous_one_and_the_canonical_form_under_each_key() -> None:
    """``chain.sign`` keeps one keyed HMAC state per key and copies it per record: with two keys
    interleaved (a rotation seals with the new key what the old one signed) each signature must still
    be exactly HMAC-SHA256(key, prev_signature + canonical), as the module says and ``verify`` checks."""
    canonical = chain.canonical({"seq": 1, "lines": [[1, "item", 250]], "buyer": "Émile"})
    for key, prev in [(b"old key", ""), (b"new key", "a" * 64), (b"old key", "b" * 64), (b"new key", "")]:
        expected = hmac.new(key, prev.encode() + canonical, hashlib.sha256).hexdigest()
        assert chain.sign(key, prev, canonical) == expected
    assert chain.sign(b"old key", "", canonical) != chain.sign(b"new key", "", canonical)


async def test_a_wrong_key_is_refused_before_anything_is_written(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _shop, url = await shop_factory(orders=30, start=W0, end=W1)
    config = processing_config(tmp_path, url)
    from tests.test_processing_support import import_shop

    await import_shop(config)
    con = connect(config.target)
    settings = load_settings(config)
    keys = invoicing.pending_keys(con, config)
    invoicing.invoice_orders(con, settings, keys[:5])
    before = counts(con)
    monkeypatch.setenv(SIGNING_ENV, WRONG)
    with pytest.raises(
        KeyMismatchError, match=f"the key in {SIGNING_ENV} is not the key this till's records"
    ):
        api.invoice(config, con, pending=True)
    with pytest.raises(KeyMismatchError):
        api.credit_note(config, con, "FA-2026-eshop-000001", "wrong key")
    with pytest.raises(KeyMismatchError):
        fiscal.close_period(config, con, "day")
    assert counts(con) == before  # not one row in any fiscal table
    refused = con.execute("SELECT kind, subject FROM pending_events").fetchall()
    assert refused and {r[0] for r in refused} == {"key_refused"} and refused[0][1] == SIGNING_ENV
    # Through the command line: exit 1, one plain line naming the variable.
    con.close()
    toml = write_toml(tmp_path, url)
    code = cli(["--config", str(toml), "invoice", "--pending"])
    assert code == 1
    con = connect(config.target)
    assert counts(con) == before
    # The right key still verifies everything, and its next signature journals the refusals.
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)
    assert fiscal.verify_records(config, con).ok
    api.invoice(config, con, pending=True)
    kinds = [r[0] for r in con.execute("SELECT kind FROM journal ORDER BY seq").fetchall()]
    assert kinds.count("key_refused") == len(refused) + 1
    assert con.execute("SELECT count(*) FROM pending_events").fetchone() == (0,)
    assert fiscal.verify_records(config, con).ok
    con.close()


async def test_verify_with_a_wrong_key_says_so_and_writes_nothing(
    tmp_path: Path,
    shop_factory: ShopFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, con = await till(tmp_path, shop_factory)
    before = counts(con)
    pending = con.execute("SELECT count(*) FROM pending_events").fetchone()
    con.close()
    toml = write_toml(tmp_path, config.stores[0].url)
    monkeypatch.setenv(SIGNING_ENV, WRONG)
    assert cli(["--config", str(toml), "verify"]) == 1
    err = capsys.readouterr().err
    assert f"the key in {SIGNING_ENV} is not the key this till's records were signed with" in err
    assert "altered" not in err
    con = connect(config.target)
    assert counts(con) == before
    assert con.execute("SELECT count(*) FROM pending_events").fetchone() == pending
    con.close()


async def test_key_rotation_keeps_every_record_verifiable(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, con = await till(tmp_path, shop_factory)
    fiscal.close_period(config, con, "day", DAY3.date().replace(day=1), now=DAY3)
    new_key = "the-new-signing-key-42"
    monkeypatch.setenv("FASTIMPORT_NEW_KEY", new_key)
    rotation = fiscal.rotate_key(config, con, "FASTIMPORT_NEW_KEY")
    assert rotation.sealed == con.execute("SELECT count(*) FROM key_seals").fetchone()[0] > 0
    entry = con.execute("SELECT kind, detail FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    assert entry[0] == "key_rotated"
    detail = orjson.loads(entry[1])
    assert detail["handover_old_key"] != detail["handover_new_key"]
    # The old key now signs nothing; the new one verifies records signed before and after.
    with pytest.raises(KeyMismatchError):
        fiscal.verify_records(config, con)
    monkeypatch.setenv(SIGNING_ENV, new_key)
    assert fiscal.verify_records(config, con).ok
    number = con.execute(
        "SELECT number FROM invoices WHERE kind = 'invoice' ORDER BY invoice_id LIMIT 1"
    ).fetchone()
    api.credit_note(config, con, number[0], "after the rotation")
    report = fiscal.verify_records(config, con)
    assert report.ok, report.problems
    # A record sealed at the hand-over is still protected: an edit is named.
    con.execute("UPDATE invoices SET buyer = '{}' WHERE number = ?", [number[0]])
    report = fiscal.verify_records(config, con)
    assert not report.ok and report.problems[0].record == number[0]
    con.close()


@pytest.mark.duckdb_only("the anchor file beside the DuckDB file; PostgreSQL keeps no anchor file yet")
async def test_heads_are_anchored_beside_the_database_and_a_cut_tail_is_named(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    config, con = await till(tmp_path, shop_factory)
    path = Path(str(config.database) + anchors.SUFFIX)
    lines = [orjson.loads(x) for x in path.read_bytes().splitlines()]
    last = anchors.latest(lines)
    tail = con.execute(
        "SELECT series, seq, number, signature FROM invoices ORDER BY invoice_id DESC LIMIT 1"
    ).fetchone()
    assert last[tail[0]]["seq"] == tail[1] and last[tail[0]]["signature"] == tail[3]
    assert "journal" in last
    # Delete the last invoice and roll the counter back to the one before: the database alone agrees...
    prev = con.execute(
        "SELECT signature FROM invoices WHERE series = ? AND seq = ?", [tail[0], tail[1] - 1]
    ).fetchone()
    con.execute(
        "DELETE FROM invoice_lines WHERE invoice_id = (SELECT invoice_id FROM invoices WHERE number = ?)",
        [tail[2]],
    )
    con.execute(
        "DELETE FROM invoice_vat WHERE invoice_id = (SELECT invoice_id FROM invoices WHERE number = ?)",
        [tail[2]],
    )
    con.execute("DELETE FROM invoices WHERE number = ?", [tail[2]])
    con.execute(
        "UPDATE series_counters SET last_seq = last_seq - 1, last_signature = ? WHERE series = ?",
        [prev[0], tail[0]],
    )
    from fastimport.processing.verify import verify

    assert verify(con, SIGNING_KEY.encode()).ok  # the chain inside the database holds
    report = fiscal.verify_records(config, con)  # the anchor does not
    assert not report.ok
    assert report.problems[0].kind == "cut" and report.problems[0].record == tail[2]
    assert "cut" in report.problems[0].message
    con.close()


@pytest.mark.duckdb_only("puts an older copy of the DuckDB file back in place")
async def test_an_older_copy_of_the_database_is_named(tmp_path: Path, shop_factory: ShopFactory) -> None:
    config, con = await till(tmp_path, shop_factory)
    con.close()
    old = tmp_path / "old.duckdb"
    shutil.copy(config.database, old)
    con = connect(config.target)
    api.invoice(config, con, pending=True, allow_unpaid=True)
    con.close()
    shutil.copy(old, config.database)  # put the older database back; the anchor file stays
    con = connect(config.target)
    report = fiscal.verify_records(config, con)
    assert not report.ok and report.problems[0].kind == "cut"
    assert "older copy of the database" in report.problems[0].message
    # A deleted anchor file is named too.
    Path(str(config.database) + anchors.SUFFIX).unlink()
    report = fiscal.verify_records(config, con)
    assert [p.kind for p in report.problems] == ["anchor_missing"]
    con.close()


async def test_key_rotate_and_closings_through_the_command_line(
    tmp_path: Path,
    shop_factory: ShopFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, con = await till(tmp_path, shop_factory)
    con.close()
    toml = write_toml(tmp_path, config.stores[0].url)
    assert cli(["--config", str(toml), "close", "day", "--date", "2026-04-02"]) == 0
    capsys.readouterr()
    assert cli(["--config", str(toml), "closings", "--json"]) == 0
    listed = orjson.loads(capsys.readouterr().out)
    assert [c["period"] for c in listed] == ["2026-04-01", "2026-04-02"] and listed[0]["automatic"] is True
    assert cli(["--config", str(toml), "key", "rotate", "--new-key-env", "FASTIMPORT_UNSET_KEY"]) == 1
    monkeypatch.setenv("FASTIMPORT_NEW_KEY", "another-key-entirely")
    assert cli(["--config", str(toml), "key", "rotate", "--new-key-env", "FASTIMPORT_NEW_KEY", "--json"]) == 0
    assert orjson.loads(capsys.readouterr().out)["sealed"] > 0
    assert cli(["--config", str(toml), "verify"]) == 1  # the old key is no longer the till's
    assert "is not the key this till's records were signed with" in capsys.readouterr().err
    monkeypatch.setenv(SIGNING_ENV, "another-key-entirely")
    assert cli(["--config", str(toml), "verify"]) == 0
