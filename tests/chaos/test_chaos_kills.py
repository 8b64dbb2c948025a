"""Kills at random points: a real ``fastimport`` process SIGKILLed N times in a row on one store, then run
to completion; nothing lost, doubled or half-written (see ``tests/chaos/harness.py``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import duckdb
import pytest

from tests.chaos import harness
from tests.chaos.harness import check, command
from tests.conftest import ShopFactory, subprocess_env, write_config_file
from tests.invoice_print_support import add_printers, network
from tests.printer_fixture import LoopbackPrinter, loopback_printer  # noqa: F401  (fixture)
from tests.test_print_queue import markers
from tests.test_processing_support import SIGNING_KEY, W0, W1, env

pytestmark = pytest.mark.chaos
SINCE, UNTIL = "2026-03-23", "2026-03-31"


@pytest.mark.parametrize("platform", ["woocommerce", "shopify", "prestashop"])
async def test_import_killed_n_times_then_exact(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    rng, shop, url = await harness.seeded_shop(f"import-{platform}", shop_factory, 800, latency=0.01)
    config = write_config_file(tmp_path, url, per_page=20, concurrency=2)
    argv = command(config, "import", "--since", SINCE, "--until", UNTIL)
    environ = {**subprocess_env(), "FASTIMPORT_BATCH_ORDERS": "50"}
    for _ in range(harness.runs()):
        await harness.kill_at_random(argv, environ, rng, 0.3, 1.8)
        # the shop moves on between runs: a paid order, a cancellation, a new order
        live = [o["id"] for o in shop.truth()]
        shop.modify_order(rng.choice(live), rng.choice(["processing", "completed", "cancelled"]))
    code, _, err = await harness.run(argv, environ)
    check(code == 0, err)
    harness.check_orders(tmp_path / "till.duckdb", shop, W0, W1)


async def test_invoice_print_killed_n_times_then_whole(
    tmp_path: Path,
    shop_factory: ShopFactory,
    loopback_printer: LoopbackPrinter,  # noqa: F811
) -> None:
    rng, _shop, url = await harness.seeded_shop("invoice-print", shop_factory, 300)
    toml = await harness.imported_till(tmp_path, url, chunk=10)
    add_printers(toml, network(loopback_printer.port))
    loopback_printer.read_delay = 0.005  # a ticket takes a moment: kills land mid-ticket too
    environ = env()
    argv = command(toml, "invoice", "--pending", "--print", "--print-timeout", "30")
    kills = 0
    for _ in range(harness.runs()):
        kills += await harness.kill_at_random(argv, environ, rng, 0.8, 3.0)
        harness.check_documents(tmp_path / "till.duckdb")  # whole after every kill, not only at the end
    code, _, err = await harness.run(argv, environ)
    check(code == 0, err)
    code, _, err = await harness.run(command(toml, "print", "retry"), environ)
    check(code == 0, err)
    await asyncio.sleep(0.2)  # the loopback printer finishes reading the last ticket
    issued = harness.check_documents(tmp_path / "till.duckdb")
    check(issued > 0, "nothing invoiced")
    code, out, err = await harness.run(command(toml, "verify", "--json"), environ)
    check(code == 0, out + err)
    harness.check_print_jobs(tmp_path / "till.duckdb", markers(loopback_printer), kills)
    assert SIGNING_KEY not in out + err


async def test_slips_killed_n_times_then_whole(
    tmp_path: Path,
    shop_factory: ShopFactory,
    loopback_printer: LoopbackPrinter,  # noqa: F811
) -> None:
    """``slip --pending`` killed N times: an order is prepared if and only if its slip is queued, and the
    queue then prints every slip, a ticket received twice flagged."""
    rng, _shop, url = await harness.seeded_shop("slip", shop_factory, 300)
    toml = await harness.imported_till(tmp_path, url)
    add_printers(toml, network(loopback_printer.port))
    loopback_printer.read_delay = 0.005
    environ = env()
    kills = 0
    for _ in range(harness.runs()):
        kills += await harness.kill_at_random(command(toml, "slip", "--pending"), environ, rng, 0.8, 3.0)
    # then to completion: on a loaded machine every kill may land before the first slip
    code, _, err = await harness.run(command(toml, "slip", "--pending"), environ)
    check(code == 0, err)
    code, _, err = await harness.run(command(toml, "print", "retry"), environ)
    check(code == 0, err)
    await asyncio.sleep(0.2)
    db = tmp_path / "till.duckdb"
    con = duckdb.connect(str(db), read_only=True)
    try:
        unpaired = con.execute(
            "SELECT o.order_id, o.state, count(j.job_id) FROM orders o LEFT JOIN print_jobs j "
            "ON j.kind = 'preparation' AND j.document_ref = o.number GROUP BY ALL "
            "HAVING (o.state = 'prepared') <> (count(j.job_id) > 0)"
        ).fetchall()
        prepared = con.execute("SELECT count(*) FROM orders WHERE state = 'prepared'").fetchall()[0][0]
    finally:
        con.close()
    check(prepared > 0, "no slip printed")
    check(not unpaired, f"an order prepared without its slip, or a slip without its order: {unpaired[:5]}")
    received = [qr.rsplit(":", 1)[-1] for qr in markers(loopback_printer)]  # a slip's QR: store:order
    harness.check_print_jobs(db, received, kills)
