"""Helpers for the processing × printing tests (no tests here): a till wired to a loopback printer.

The real path: a simulated shop on loopback, orders imported with the importer into a DuckDB file on
disk, the ``fastimport`` command itself, and the loopback TCP printer of ``tests/printer_fixture.py``
reached through python-escpos's network printer.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastimport.cli import main as cli
from fastimport.config import Config
from fastimport.store import connect
from fastimport.store.db import Connection
from tests.conftest import ShopFactory
from tests.printer_fixture import LoopbackPrinter, decode
from tests.test_processing_support import W0, W1, import_shop, processing_config, write_toml


@dataclass
class Till:
    path: Path  # fastimport.toml
    config: Config
    shop: Any
    url: str

    def db(self) -> Connection:
        return connect(self.config.target)

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        con = self.db()
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()


def edit_on_the_shop(till: Till, order: int, field: str, value: Any) -> None:
    """The shopkeeper changes ``field`` of ``order`` in the shop's back office: the order shows the
    new value and counts as modified (the next import reads it again)."""
    store = till.shop.store
    idx = store.find(order)
    store.overrides.setdefault(idx, {})[field] = value
    store.write_fields(idx, {})


def add_printers(path: Path, *printers: dict[str, Any]) -> None:
    out = []
    for p in printers:
        out.append("\n[[printers]]")
        for k, v in p.items():
            if isinstance(v, bool):
                out.append(f"{k} = {str(v).lower()}")
            else:
                out.append(f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}")
    with path.open("a", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def network(port: int, name: str = "comptoir", **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": "network", "host": "127.0.0.1", "port": port, "timeout": 2, **extra}


async def make_till(
    tmp_path: Path,
    shop_factory: ShopFactory,
    orders: int,
    *printers: dict[str, Any],
    extra_orders: list[dict[str, Any]] | None = None,
) -> Till:
    shop, url = await shop_factory(orders=orders, start=W0, end=W1)
    for overrides in extra_orders or []:
        shop.create_order(**overrides)
    config = processing_config(tmp_path, url)
    await import_shop(config)
    path = write_toml(tmp_path, url)
    add_printers(path, *printers)
    return Till(path, config, shop, url)


async def run(till: Till, *argv: str) -> tuple[int, str, str]:
    """``fastimport --config … argv`` in a worker thread (the simulated shop keeps serving)."""
    out, err = io.StringIO(), io.StringIO()

    def call() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return cli(["--config", str(till.path), *argv])

    code = await asyncio.to_thread(call)
    return code, out.getvalue(), err.getvalue()


async def run_json(till: Till, *argv: str) -> tuple[int, Any]:
    code, out, err = await run(till, *argv, "--json")
    assert out, err
    return code, json.loads(out)


def texts(printer: LoopbackPrinter, codec: str = "cp858") -> list[str]:
    return ["\n".join(decode(t, codec).lines) for t in printer.tickets()]


def refs(printer: LoopbackPrinter) -> list[str]:
    """The QR payload of every ticket received (the document number, or store:order for slips)."""
    return [decode(t).qr[-1] for t in printer.tickets() if decode(t).qr]


def french(amount: Any) -> str:
    """Decimal("1234.5") → "1 234,50" (written independently of the print room's formatter)."""
    units, cents = f"{abs(amount):.2f}".split(".")
    groups: list[str] = []
    while len(units) > 3:
        groups.insert(0, units[-3:])
        units = units[:-3]
    return ("-" if amount < 0 else "") + " ".join([units, *groups]) + "," + cents
