"""Signed archives: written by ``archive export``, checked by ``archive verify`` with the public key only."""

from __future__ import annotations

import datetime as dt
import os
import stat
import zipfile
from pathlib import Path

import orjson
import pytest

from fastimport.cli import main as cli
from fastimport.store import connect
from tests.conftest import ShopFactory, store_target
from tests.fiscal_support import DAY3, till
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY, write_toml

# The journal is dated by the wall clock (the invoices of these tests by their ``now``): export up to today.
TODAY = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date().isoformat()


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)


async def _archive(tmp_path: Path, shop_factory: ShopFactory) -> tuple[Path, Path, Path]:
    """(archive.zip, archive.pub, fastimport.toml) of a till with two invoiced days and their closings."""
    import fastimport.api.fiscal as fiscal

    config, con = await till(tmp_path, shop_factory)
    fiscal.close_period(config, con, "day", DAY3.date().replace(day=2), now=DAY3)
    con.close()
    keys = tmp_path / "keys"
    assert cli(["archive", "keygen", str(keys)]) == 0
    toml = write_toml(tmp_path, config.stores[0].url)
    toml.write_text(toml.read_text() + f'\n[archive]\nprivate_key_file = "{keys / "archive.key"}"\n')
    out = tmp_path / "out" / "april.zip"
    code = cli(
        ["--config", str(toml), "archive", "export", "--from", "2026-04-01", "--to", TODAY, "--out", str(out)]
    )
    assert code == 0
    return out, keys / "archive.pub", toml


def _rewrite(src: Path, dst: Path, change: dict[str, bytes | None]) -> None:
    """Copy a zip, replacing (bytes) or dropping (None) members, adding new ones."""
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w") as w:
        for name in z.namelist():
            if name in change:
                if change[name] is not None:
                    w.writestr(name, change[name])  # type: ignore[arg-type]
            else:
                w.writestr(name, z.read(name))
        for name, data in change.items():
            if name not in z.namelist() and data is not None:
                w.writestr(name, data)


async def test_an_archive_is_whole_offline_and_each_tampering_is_named(
    tmp_path: Path,
    shop_factory: ShopFactory,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out, pub, _toml = await _archive(tmp_path, shop_factory)
    assert stat.S_IMODE(os.stat(pub.with_name("archive.key")).st_mode) == 0o600
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        manifest = orjson.loads(z.read("manifest.json"))
        invoices = orjson.loads(z.read("invoices.json"))
        header = z.read("invoices.csv").decode().splitlines()[0]
    for table in ("invoices", "invoice_lines", "invoice_vat", "closings", "journal"):
        assert {f"{table}.csv", f"{table}.json"} <= names and manifest["counts"][table] > 0
    assert header.startswith("invoice_id,kind,series,seq,number")
    assert {i["kind"] for i in invoices} == {"invoice"} and len(invoices) == manifest["counts"]["invoices"]
    # The inspector's machine: no database, no HMAC key.
    monkeypatch.delenv(SIGNING_ENV)
    capsys.readouterr()
    assert cli(["archive", "verify", str(out), "--public-key", str(pub), "--json"]) == 0
    assert orjson.loads(capsys.readouterr().out)["ok"] is True

    def check(zip_path: Path, key: Path = pub) -> str:
        capsys.readouterr()
        assert cli(["archive", "verify", str(zip_path), "--public-key", str(key), "--json"]) == 1
        return str(orjson.loads(capsys.readouterr().out)["first_problem"]["where"])

    with zipfile.ZipFile(out) as z:
        csv_bytes = bytearray(z.read("invoice_lines.csv"))
    csv_bytes[-5] ^= 1
    _rewrite(out, tmp_path / "byte.zip", {"invoice_lines.csv": bytes(csv_bytes)})
    assert check(tmp_path / "byte.zip") == "invoice_lines.csv"
    _rewrite(out, tmp_path / "added.zip", {"extra.csv": b"a,b\n"})
    assert check(tmp_path / "added.zip") == "extra.csv"
    _rewrite(out, tmp_path / "removed.zip", {"journal.json": None})
    assert check(tmp_path / "removed.zip") == "journal.json"
    with zipfile.ZipFile(out) as z:
        m = z.read("manifest.json").replace(b'"2026-04-01"', b'"2026-03-01"')
    _rewrite(out, tmp_path / "manifest.zip", {"manifest.json": m})
    assert check(tmp_path / "manifest.zip") == "manifest.sig"
    other = tmp_path / "other"
    assert cli(["archive", "keygen", str(other)]) == 0
    assert check(out, other / "archive.pub") == "manifest.sig"


async def test_the_offline_check_names_a_gap_or_a_broken_link_in_a_re_signed_archive(
    tmp_path: Path, shop_factory: ShopFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hashes and signature re-made with the till's own archive key: the chains inside still tell."""
    import base64
    import hashlib

    from fastimport.fiscal.archive import load_private

    out, pub, _toml = await _archive(tmp_path, shop_factory)
    key = load_private(pub.with_name("archive.key"))
    with zipfile.ZipFile(out) as z:
        files = {n: z.read(n) for n in z.namelist()}
    rows = orjson.loads(files["invoices.json"])
    victim = rows[2]["number"]
    rows = [r for r in rows if r["number"] != victim]
    files["invoices.json"] = orjson.dumps(rows, option=orjson.OPT_INDENT_2)
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(list(rows[0]))
    for r in rows:
        w.writerow(["" if v is None else str(v) for v in r.values()])
    files["invoices.csv"] = buf.getvalue().encode()
    manifest = orjson.loads(files["manifest.json"])
    for name in ("invoices.json", "invoices.csv"):
        manifest["files"][name] = {
            "sha256": hashlib.sha256(files[name]).hexdigest(),
            "bytes": len(files[name]),
        }
    manifest["chains"][rows[0]["series"]]["count"] -= 1
    files["manifest.json"] = orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    files["manifest.sig"] = base64.b64encode(key.sign(files["manifest.json"]))
    bad = tmp_path / "gap.zip"
    with zipfile.ZipFile(bad, "w") as z:
        for n, data in files.items():
            z.writestr(n, data)
    capsys.readouterr()
    assert cli(["archive", "verify", str(bad), "--public-key", str(pub)]) == 1
    out_text = capsys.readouterr().out
    assert "gap" in out_text and victim.rpartition("-")[0] in out_text


async def test_an_export_is_journaled(tmp_path: Path, shop_factory: ShopFactory) -> None:
    out, _pub, _toml = await _archive(tmp_path, shop_factory)
    con = connect(store_target(tmp_path))
    row = con.execute("SELECT kind, subject FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    assert row == ("archive_export", out.name)
    con.close()


def test_the_archive_table_is_typed_and_names_an_unknown_key(tmp_path: Path) -> None:
    from fastimport.api.fiscal import archive_settings
    from fastimport.config import parse_config
    from fastimport.errors import ConfigError
    from tests.test_processing_support import raw_config

    raw = raw_config(tmp_path, "http://127.0.0.1:1")
    raw["archive"] = {"private_key_file": "k/archive.key"}
    assert archive_settings(parse_config(raw)).private_key_file == "k/archive.key"
    raw["archive"] = {"private_key": "k/archive.key"}
    with pytest.raises(ConfigError, match="private_key"):
        archive_settings(parse_config(raw))


async def test_an_export_stopped_before_its_rename_is_journaled_and_leaves_no_archive(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export is journaled before the archive takes its name (issue #16's archive kill loop): a run
    stopped in between leaves the journal entry and a whole ``.part``, never an unjournaled archive."""
    import hashlib

    out, pub, toml = await _archive(tmp_path, shop_factory)
    again = out.with_name("again.zip")

    class Killed(BaseException):
        """The process ends here, as a SIGKILL would end it."""

    def stopped(self: Path, target: Path) -> Path:
        raise Killed

    # Only Path.replace is undone afterwards (the test's store variable stays set).
    with monkeypatch.context() as patched:
        patched.setattr(Path, "replace", stopped)
        with pytest.raises(Killed):
            cli(
                [
                    "--config",
                    str(toml),
                    "archive",
                    "export",
                    "--from",
                    "2026-04-01",
                    "--to",
                    TODAY,
                    "--out",
                    str(again),
                ]
            )
    part = again.with_name("again.zip.part")
    assert not again.exists() and part.exists()
    con = connect(store_target(tmp_path))
    detail = con.execute(
        "SELECT detail FROM journal WHERE kind = 'archive_export' ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    con.close()
    assert (
        detail is not None
        and orjson.loads(detail[0])["sha256"] == hashlib.sha256(part.read_bytes()).hexdigest()
    )
    assert cli(["archive", "verify", str(part), "--public-key", str(pub)]) == 0  # whole, only not yet named
