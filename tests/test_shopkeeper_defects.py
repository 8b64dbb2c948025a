"""What a shopkeeper ran into (issue #14, "wrong answers"): each fixed, each tested on the real path.

Simulated WooCommerce shop on loopback, orders imported into a DuckDB file, the ``fastimport``
command itself, the loopback printer or a file printer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import socket
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fastimport.cli import build_parser
from fastimport.print.reprint import clear_hooks
from tests.conftest import ShopFactory, subprocess_env
from tests.invoice_print_support import Till, make_till, network, run, run_json, texts
from tests.printer_fixture import LoopbackPrinter, decode, loopback_printer
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY, W0, import_shop

__all__ = ["loopback_printer"]

HOSTILE = "Noé\x1b]0;pwned\x07\x1b[2J\x00\x1dV\x00Leroy\x1bp\x00"


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)
    clear_hooks()


def _new_order(till: Till, days: float = 2, **overrides: Any) -> int:
    return int(till.shop.create_order(W0 + dt.timedelta(days=days), **overrides))


def _set_line_name(till: Till, order_id: int, name: str) -> None:
    """Give the first line of a simulated order another name (the shop's data, not ours)."""
    store = till.shop.store
    idx = store.find(order_id)
    items = [dict(item) for item in store.order(idx)["line_items"]]
    items[0]["name"] = name
    store.overrides.setdefault(idx, {})["line_items"] = items
    store.blobs[idx] = None
    store._changed()


def _safe_for_terminal(text: str) -> bool:
    return all(ord(c) >= 0x20 or c == "\n" for c in text) and "\x7f" not in text


async def test_file_printer_appends_every_ticket(tmp_path: Path, shop_factory: ShopFactory) -> None:
    spool = tmp_path / "spool.bin"
    till = await make_till(
        tmp_path, shop_factory, 30, {"name": "fichier", "kind": "file", "path": str(spool)}
    )
    pending = [str(o) for (o,) in till.query("SELECT order_id FROM orders WHERE state = 'pending' LIMIT 3")]
    for order in pending:  # three commands, three tickets: none overwrites the one before
        code, out, err = await run(till, "slip", order)
        assert code == 0, out + err
    data = spool.read_bytes()
    assert data.count(b"\x1dV") == 3
    assert [q.split(":")[-1] for q in decode(data).qr] == pending


async def test_file_printer_path_that_does_not_exist_is_said_so(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    missing = tmp_path / "nowhere" / "spool.bin"
    till = await make_till(
        tmp_path, shop_factory, 20, {"name": "fichier", "kind": "file", "path": str(missing)}
    )
    order = till.query("SELECT order_id FROM orders WHERE state = 'pending' LIMIT 1")[0][0]
    code, out, err = await run(till, "slip", str(order))
    assert code == 1
    assert "does not exist" in out + err and "not answering" not in out + err
    assert (out + err).count("printer 'fichier'") == 1  # the name once, not "printer 'x': printer 'x'"
    assert till.query("SELECT status FROM print_jobs") == [("failed",)]  # not retried like an offline printer


async def test_offline_printer_is_named_once(tmp_path: Path, shop_factory: ShopFactory) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    till = await make_till(tmp_path, shop_factory, 20, network(port, name="reseau"))
    order = till.query("SELECT order_id FROM orders WHERE state = 'pending' LIMIT 1")[0][0]
    code, report = await run_json(till, "slip", str(order), "--print-timeout", "1")
    assert code == 1
    reasons = report["print"]["reasons"]
    assert reasons and all(r.count("printer 'reseau'") == 1 for r in reasons), reasons


async def test_hostile_shop_text_never_reaches_the_terminal_raw(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    till = await make_till(tmp_path, shop_factory, 10)
    base = till.shop.store.order(0)
    order = _new_order(
        till,
        billing={**base["billing"], "first_name": HOSTILE, "last_name": "\x1b[31mRouge\x9b"},
        customer_note="sonner\x1b[5m fort\x00\nau 2e",
    )
    _set_line_name(till, order, "Bol\x1b]8;;http://evil\x07 [bold]céramique[/bold]\x00")
    await import_shop(till.config)
    assert (
        "\x1b" in till.query("SELECT first_name FROM orders WHERE order_id = ?", [order])[0][0]
    )  # stored as sent
    for argv in (("pending",), ("orders",), ("order", "show", str(order))):
        code, out, err = await run(till, *argv)
        assert code == 0, err
        assert "Leroy" in out and _safe_for_terminal(out), (argv, out)
        assert "\x1b" not in out and "\x00" not in out and "\x1d" not in out
    code, out, _ = await run(till, "order", "show", str(order))
    assert "[bold]céramique[/bold]" in out  # shown as written, not taken as markup
    code, shown = await run_json(till, "order", "show", str(order))
    assert "\x1b" in shown["customer"]  # the JSON keeps the shop's data exactly (escaped by JSON)


async def test_slip_and_delivery_note_keep_the_recipients_first_name(
    tmp_path: Path, shop_factory: ShopFactory, loopback_printer: LoopbackPrinter
) -> None:
    till = await make_till(tmp_path, shop_factory, 10, network(loopback_printer.port))
    base = till.shop.store.order(0)
    order = _new_order(
        till,
        billing={**base["billing"], "first_name": "Paul", "last_name": "Martin"},
        shipping={**base["shipping"], "first_name": "Noémie", "last_name": "Leroy"},
        date_paid_gmt="2026-03-25T10:00:00",
        date_paid="2026-03-25T11:00:00",
    )
    await import_shop(till.config)
    assert (await run(till, "slip", str(order)))[0] == 0
    assert (await run(till, "invoice", str(order), "--allow-unpaid"))[0] == 0
    code, out, err = await run(till, "ship", str(order), "--carrier", "Colissimo", "--tracking", "6A1", "--no-push",
                               "--print")  # fmt: skip
    assert code == 0, out + err
    loopback_printer.wait_for_tickets(2)
    slip, note = texts(loopback_printer)
    assert "Noémie Leroy" in slip and "Paul Martin" in slip
    assert "Livrer à: Noémie Leroy" in note


async def test_credit_note_halves_add_up_to_the_line(tmp_path: Path, shop_factory: ShopFactory) -> None:
    till = await make_till(tmp_path, shop_factory, 120)
    code, _ = await run_json(till, "invoice", "--pending")
    assert code == 0
    # A two-unit line whose HT and VAT are both odd in cents: rounding each half separately gives
    # parts a cent apart both ways (12.91 then 12.89 for 25.80).
    rows = till.query(
        "SELECT i.number, l.line_no, CAST((l.total_ht + l.vat) * 100 AS BIGINT) FROM invoice_lines l "
        "JOIN invoices i USING (invoice_id) WHERE l.quantity = 2 AND l.line_kind = 'item' "
        "ORDER BY (CAST(l.total_ht * 100 AS BIGINT) % 2 = 1 AND CAST(l.vat * 100 AS BIGINT) % 2 = 1) DESC, i.number "
        "LIMIT 1"
    )
    assert rows, "the simulated shop sells some articles by two"
    number, line_no, line_ttc = rows[0]
    parts = []
    for _ in range(2):
        code, out = await run_json(
            till, "credit-note", number, "--lines", f"{line_no}:1", "--reason", "casse"
        )
        assert code == 0, out
        parts.append(-round(Decimal(out["total_ttc"]) * 100))
    assert sum(parts) == line_ttc and abs(parts[0] - parts[1]) <= 1 and parts[0] >= parts[1], (
        parts,
        line_ttc,
    )
    code, out, err = await run(till, "credit-note", number, "--lines", f"{line_no}:1", "--reason", "encore")
    assert code == 1 and "0 left to credit" in err
    assert (await run(till, "verify"))[0] == 0


async def test_proposed_credit_notes_skip_invoices_already_fully_credited(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    till = await make_till(tmp_path, shop_factory, 40)
    code, report = await run_json(till, "invoice", "--pending")
    assert code == 0 and len(report["invoices"]) >= 2
    credited, open_one = report["invoices"][0], report["invoices"][1]
    assert (await run(till, "credit-note", credited["number"], "--reason", "retour"))[0] == 0
    for inv in (credited, open_one):  # then the shop cancels both
        till.shop.modify_order(inv["order"], "cancelled")
    await import_shop(till.config)
    code, proposed = await run_json(till, "credit-note", "--proposed")
    assert code == 0
    assert [p["invoice"] for p in proposed] == [open_one["number"]]


async def test_payments_local_day_cancelled_and_refunded(tmp_path: Path, shop_factory: ShopFactory) -> None:
    till = await make_till(tmp_path, shop_factory, 10)
    # Paid at 23:34 UTC on the 26th: 00:34 on the 27th in Paris (UTC+1 in March before the 29th).
    late = _new_order(till, date_paid_gmt="2026-03-26T23:34:00", date_paid="2026-03-27T00:34:00")
    cancelled = _new_order(till, status="cancelled", date_paid_gmt=None, date_paid=None)
    refunded = _new_order(till, status="refunded")
    await import_shop(till.config)
    code, rows = await run_json(till, "payments")
    assert code == 0
    by_id = {r["order"]: r for r in rows}
    assert by_id[late]["paid_at"] == "2026-03-27T00:34:00+01:00"
    assert by_id[cancelled]["status"] == "cancelled" and by_id[cancelled]["due"] == "0.00"
    assert by_id[refunded]["status"] == "refunded"
    code, unpaid = await run_json(till, "payments", "--unpaid")
    assert {cancelled, refunded}.isdisjoint({r["order"] for r in unpaid})
    assert all(Decimal(r["due"]) > 0 for r in unpaid)
    code, out, _ = await run(till, "payments")
    assert "on 27/03/2026" in next(line for line in out.splitlines() if f"#{late} " in line)
    assert "EUR: total" in out


async def test_tickets_cut_long_shop_text_the_store_and_order_show_keep_it(
    tmp_path: Path, shop_factory: ShopFactory, loopback_printer: LoopbackPrinter
) -> None:
    till = await make_till(tmp_path, shop_factory, 10, network(loopback_printer.port, max_text_lines=4))
    note = "Merci de sonner deux fois. " * 222  # ~6,000 characters
    order = _new_order(till, customer_note=note)
    _set_line_name(till, order, "Théière " + "très " * 2000)  # ~10,000 characters
    await import_shop(till.config)
    assert (await run(till, "slip", str(order)))[0] == 0
    (slip,) = texts(loopback_printer)
    lines = slip.splitlines()
    assert len(lines) < 60  # not 250 lines of paper
    name_lines = [ln for ln in lines if "très" in ln]
    note_lines = [ln for ln in lines if "sonner" in ln or "Note client" in ln]
    assert len(name_lines) == 4 and name_lines[-1].rstrip().endswith("...")
    assert len(note_lines) == 4 and note_lines[-1].rstrip().endswith("...")
    assert till.query("SELECT customer_note FROM orders WHERE order_id = ?", [order])[0][0] == note
    code, out, _ = await run(till, "order", "show", str(order))
    assert code == 0 and note.strip() in out
    assert "Created 2026-" not in out  # no raw ISO timestamps
    created = till.query("SELECT created_at FROM orders WHERE order_id = ?", [order])[0][0]
    local = created.astimezone(dt.timezone(dt.timedelta(hours=1)))
    assert f"Created {local:%d/%m/%Y %H:%M}" in out
    _, shown = await run_json(till, "order", "show", str(order))
    assert dt.datetime.fromisoformat(shown["created_at"]) == created  # --json stays ISO 8601


async def test_import_error_printed_once(tmp_path: Path, shop_factory: ShopFactory) -> None:
    till = await make_till(tmp_path, shop_factory, 10)
    till.shop.set_faults("always:500")
    code, out, err = await run(till, "import", "--since", "2026-03-23", "--until", "2026-03-30")
    assert code == 1
    first_line = err.strip().splitlines()[0]
    assert first_line.startswith("fastimport: ") and len(err.strip().splitlines()) == 1
    assert first_line.removeprefix("fastimport: ")[:40] not in out
    assert "stopped" in out


def _all_parsers(parser: Any, path: str = "fastimport") -> list[tuple[str, Any]]:
    import argparse

    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _all_parsers(sub, f"{path} {name}")
    return found


def test_every_command_and_argument_has_help() -> None:
    missing = [
        f"{path} {a.dest}"
        for path, parser in _all_parsers(build_parser())
        for a in parser._actions
        if not a.help and a.dest not in ("help", "version") and not a.__class__.__name__.startswith("_SubParsers")
        and path != "fastimport sim"  # its arguments go to the simulator's own parser (next test)
    ]  # fmt: skip
    assert missing == []
    without = [
        path
        for path, parser in _all_parsers(build_parser())
        if path != "fastimport" and not parser.description
    ]
    assert without == []
    help_text = build_parser()._subparsers._group_actions[0].choices["demo"].format_help()  # type: ignore[union-attr]
    assert "simulated shop" in help_text


async def test_sim_help_names_the_three_platforms_and_takes_options_as_written(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fastimport",
        "sim",
        "--help",
        env=subprocess_env(),
        stdout=asyncio.subprocess.PIPE,
    )
    out = (await proc.communicate())[0].decode()
    assert all(name in out for name in ("WooCommerce", "Shopify", "PrestaShop", "--platform"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # The README's own form: `--orders 300 --port P` (space-separated), not only `--orders=300`.
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fastimport", "sim", "--orders", "300", "--port", str(port), "--platform", "shopify",
        env=subprocess_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        url = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode().strip()
        assert url == f"http://127.0.0.1:{port}"
    finally:
        os.kill(proc.pid, signal.SIGINT)
        await proc.wait()
    assert proc.returncode == 0


def test_installing_prints_no_license_deprecation() -> None:
    import tomllib

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert isinstance(project["project"]["license"], str)  # PEP 639 expression, not the deprecated table
    assert not any("License ::" in c for c in project["project"].get("classifiers", []))
    assert json.dumps(project["build-system"]["requires"]).count("setuptools>=77") == 1
