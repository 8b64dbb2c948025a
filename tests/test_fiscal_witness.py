"""Several tills on one store: each witnesses the chain heads it saw, names a store rolled back
behind them, and refuses another signing key (on DuckDB the tills share the file's anchors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import fastimport.api.fiscal as fiscal
from fastimport.api import processing as api
from fastimport.api.imports import connect as open_till
from fastimport.cli import main as cli
from fastimport.config import Config, parse_config
from fastimport.fiscal import anchors
from fastimport.processing import invoicing
from fastimport.processing.chain import KeyMismatchError
from fastimport.processing.settings import load_settings
from fastimport.store.db import Connection
from tests.conftest import ShopFactory
from tests.fiscal_support import DAY1, counts
from tests.test_processing_support import (
    SIGNING_ENV,
    SIGNING_KEY,
    W0,
    W1,
    import_shop,
    raw_config,
    write_toml,
)

OTHER_ENV = "FASTIMPORT_OTHER_TILL_KEY"


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)
    monkeypatch.setenv(OTHER_ENV, "another-till-with-another-key")


def _till(
    tmp_path: Path, url: str, name: str, anchors_file: Path | None = None, **invoicing_table: Any
) -> tuple[Config, Path]:
    """The configuration of till ``name`` (in memory, and as a file for the command line)."""
    till = {"name": name} | ({"anchors": str(anchors_file)} if anchors_file else {})
    raw = raw_config(tmp_path, url) | {"till": till}
    raw["invoicing"] |= invoicing_table
    toml = write_toml(tmp_path, url).rename(tmp_path / f"{name}.toml")
    text = (
        toml.read_text(encoding="utf-8") + "\n[till]\n" + "".join(f'{k} = "{v}"\n' for k, v in till.items())
    )
    if "secret_env" in invoicing_table:
        text = text.replace(
            f'secret_env = "{SIGNING_ENV}"', f'secret_env = "{invoicing_table["secret_env"]}"'
        )
    toml.write_text(text, encoding="utf-8")
    return parse_config(raw), toml


def _witnessed(config: Config, con: Connection) -> dict[str, int]:
    """The highest head of each series this till's anchor file holds."""
    path = anchors.anchor_path(con)
    assert path is not None and path.exists()
    return {s: int(e["seq"]) for s, e in anchors.latest(anchors.read(path)).items()}


def _invoice(config: Config, keys: list[Any]) -> int:
    """How many invoices till ``config`` issued for the paid orders among ``keys``."""
    con = open_till(config)
    try:
        issued = len(invoicing.invoice_orders(con, load_settings(config), keys, now=DAY1).issued)
    finally:
        con.close()
    assert issued > 0
    return issued


def _roll_back(con: Connection, count: int) -> list[str]:
    """Delete the last ``count`` invoices and put the series head back on the one before them."""
    rows = con.execute(
        "SELECT series, seq, number FROM invoices WHERE kind = 'invoice' ORDER BY seq DESC LIMIT ?", [count]
    ).fetchall()
    series, first = rows[-1][0], int(rows[-1][1])
    for _s, _seq, number in rows:
        for table in ("invoice_lines", "invoice_vat", "stock_movements"):
            con.execute(
                f"DELETE FROM {table} WHERE invoice_id = (SELECT invoice_id FROM invoices WHERE number = ?)",
                [number],
            )
        con.execute("DELETE FROM invoices WHERE number = ?", [number])
    prev = con.execute("SELECT signature FROM invoices WHERE series = ? AND seq = ?", [series, first - 1])
    con.execute(
        "UPDATE series_counters SET last_seq = ?, last_signature = ? WHERE series = ?",
        [first - 1, prev.fetchone()[0], series],
    )
    return [str(r[2]) for r in rows]


async def test_two_tills_witness_their_heads_and_name_a_store_rolled_back(
    tmp_path: Path, shop_factory: ShopFactory, backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _shop, url = await shop_factory(orders=40, start=W0, end=W1)
    one, one_toml = _till(tmp_path, url, "comptoir-1")
    two, two_toml = _till(tmp_path, url, "comptoir-2", tmp_path / "kept" / "comptoir-2.anchors")
    await import_shop(one)
    con = open_till(one)
    keys = invoicing.pending_keys(con, one)
    con.close()
    assert len(keys) >= 15
    issued = _invoice(one, keys[:5]) + _invoice(two, keys[5:10]) + _invoice(one, keys[10:15])
    con_one, con_two = open_till(one), open_till(two)
    series = str(con_one.execute("SELECT max(series) FROM invoices WHERE kind = 'invoice'").fetchone()[0])
    if backend == "postgres":  # each till keeps its own witness, in its state directory
        assert anchors.anchor_path(con_one) != anchors.anchor_path(con_two)
        assert anchors.anchor_path(con_two) == tmp_path / "kept" / "comptoir-2.anchors"  # [till] anchors
    # Both witnesses reached the last invoice: one by its commit, the other on opening the store.
    assert _witnessed(one, con_one)[series] == _witnessed(two, con_two)[series] == issued
    assert fiscal.verify_records(one, con_one).ok and fiscal.verify_records(two, con_two).ok
    con_two.close()
    lost = _roll_back(con_one, 3)
    con_one.close()
    # Each till that had seen the lost invoices says so in plain words, exit 1, and journals it.
    for toml in (one_toml, two_toml):
        capsys.readouterr()
        assert cli(["--config", str(toml), "verify"]) == 1
        first = capsys.readouterr().out.splitlines()[0]
        assert any(n in first for n in lost) and "its tail was cut, its counter rolled back" in first, first
    con = open_till(one)
    kinds = [r[0] for r in con.execute("SELECT kind FROM journal ORDER BY seq DESC LIMIT 2").fetchall()]
    assert kinds == ["verify_failed", "verify_failed"]
    con.close()
    if backend == "postgres":
        # A till joining the store now starts its witness from what the store holds: the rollback
        # happened before it saw anything, so it cannot name it; its joining is journaled.
        three, _toml = _till(tmp_path, url, "comptoir-3")
        con = open_till(three)
        assert _witnessed(three, con)[series] == issued - 3
        noted = con.execute("SELECT kind, actor FROM pending_events").fetchall()
        assert ("anchors_started", "comptoir-3") in noted
        assert fiscal.verify_records(three, con).ok
        con.close()


async def test_a_till_with_another_key_is_refused_on_the_shared_store(
    tmp_path: Path, shop_factory: ShopFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    _shop, url = await shop_factory(orders=30, start=W0, end=W1)
    one, _one_toml = _till(tmp_path, url, "comptoir-1")
    other, other_toml = _till(tmp_path, url, "comptoir-2", secret_env=OTHER_ENV)
    await import_shop(one)
    con = open_till(one)
    keys = invoicing.pending_keys(con, one)
    con.close()
    _invoice(one, keys[:3])
    con = open_till(other)
    before = counts(con)
    with pytest.raises(KeyMismatchError, match=f"the key in {OTHER_ENV} is not the key this till's records"):
        api.invoice(other, con, pending=True)
    con.close()
    capsys.readouterr()
    assert cli(["--config", str(other_toml), "invoice", "--pending"]) == 1
    assert f"the key in {OTHER_ENV} is not the key" in capsys.readouterr().err
    con = open_till(one)
    assert counts(con) == before  # nothing signed or written by the till with the other key
    refused = con.execute("SELECT kind, subject FROM pending_events WHERE kind = 'key_refused'").fetchall()
    assert len(refused) == 2 and {r[1] for r in refused} == {OTHER_ENV}
    # The next signature with the right key journals both refusals.
    api.invoice(one, con, pending=True)
    kinds = [r[0] for r in con.execute("SELECT kind FROM journal").fetchall()]
    assert kinds.count("key_refused") == 2
    assert fiscal.verify_records(one, con).ok
    con.close()


def test_each_till_and_store_has_its_own_witness_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    shop_a = "postgresql://till:secret@db.shop.lan:5432/shop_a"
    a = anchors.default_witness("comptoir-1", shop_a)
    b = anchors.default_witness("comptoir-1", "postgresql://till@db.shop.lan:5432/shop_b")
    c = anchors.default_witness("comptoir-2", shop_a)
    assert len({a, b, c}) == 3 and a.parent == tmp_path / "state" / "fastimport" / "anchors"
    assert a.name.startswith("comptoir-1@db.shop.lan-5432-shop_a") and "secret" not in str(a)
    # [till] anchors names the file instead, relative to the configuration file.
    toml = tmp_path / "conf" / "fastimport.toml"
    toml.parent.mkdir()
    toml.write_text(
        '[database]\npath = "till.duckdb"\n\n[[stores]]\nname = "eshop"\nplatform = "woocommerce"\n'
        'url = "http://shop.example"\ntimezone = "Europe/Paris"\nkey_env = "K"\nsecret_env = "S"\n\n[till]\nanchors = "kept/c1.anchors"\n',
        encoding="utf-8",
    )
    from fastimport.config import load_config
    from fastimport.errors import ConfigError

    config = load_config(toml)
    assert config.till_anchors == toml.parent.resolve() / "kept" / "c1.anchors" and config.till is None
    with pytest.raises(ConfigError, match=r"\[till\] anchors must be a non-empty string") as bad:
        assert parse_config(config.raw | {"till": {"anchors": 3}}).till_anchors is None
    assert bad.value.key == "till.anchors"
