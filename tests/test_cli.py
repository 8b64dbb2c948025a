"""The command line as batch jobs use it: subprocesses, exit codes, --json contracts, SIGKILL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
from pathlib import Path

import orjson
import pytest

from fastimport.io.registry import platform as platform_described
from fastimport.sim.platforms import platform_status
from fastimport.store import connect
from tests.conftest import PLATFORMS, SECRET_OF, ShopFactory, store_target, subprocess_env, write_config_file
from tests.test_import import WEEK_END, WEEK_START, truth_ids

SINCE, UNTIL = "2026-03-23", "2026-03-31"  # local days covering the shop's UTC window


@pytest.fixture(params=PLATFORMS)
def platform(request: pytest.FixtureRequest) -> str:
    """Every test here runs against a WooCommerce, a Shopify and a PrestaShop simulated shop."""
    return str(request.param)


async def fastimport(*args: str, cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fastimport",
        *args,
        cwd=cwd,
        env=subprocess_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_import_json_contract_and_pending(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    shop, url = await shop_factory(orders=200, start=WEEK_START, end=WEEK_END)
    config = write_config_file(tmp_path, url)
    code, out, err = await fastimport(
        "--config", str(config), "import", "--since", SINCE, "--until", UNTIL, "--json", cwd=tmp_path
    )
    assert code == 0, err
    report = orjson.loads(out)
    for key in (
        "new",
        "updated",
        "unchanged",
        "unknown_articles",
        "unknown_customers",
        "pages",
        "seconds",
        "core",
    ):
        assert key in report
    assert report["new"] == len(truth_ids(shop, WEEK_START, WEEK_END)) == 200
    assert report["core"] in ("native", "python")
    code, out, _ = await fastimport(
        "--config", str(config), "import", "--since", SINCE, "--until", UNTIL, "--json", cwd=tmp_path
    )
    assert code == 0 and orjson.loads(out)["new"] == 0

    code, out, _ = await fastimport("--config", str(config), "pending", "--json", cwd=tmp_path)
    assert code == 0
    pending = orjson.loads(out)
    expected = [o for o in shop.truth() if o["status"] in platform_described(platform).pending_statuses]
    assert {platform_status(platform, s) for s in ("processing", "on-hold")} <= set(
        platform_described(platform).pending_statuses
    )
    assert len(pending) == len(expected) > 0
    first = pending[0]
    for key in (
        "store",
        "id",
        "number",
        "created_at",
        "shop_status",
        "state",
        "total",
        "currency",
        "lines",
        "warnings",
    ):
        assert key in first
    assert first["created_at"][-6] in "+-"  # ISO 8601 with the store's offset
    assert [p["created_at"] for p in pending] == sorted(p["created_at"] for p in pending)
    assert all(
        p["state"] == "pending" and "." in p["total"] and len(p["total"].split(".")[1]) == 2 for p in pending
    )

    code, out, _ = await fastimport("--config", str(config), "orders", "--json", cwd=tmp_path)
    assert code == 0 and len(orjson.loads(out)) == 200


async def test_exit_codes(tmp_path: Path, shop_factory: ShopFactory, platform: str) -> None:
    _, url = await shop_factory(orders=5, start=WEEK_START, end=WEEK_END)
    config = write_config_file(tmp_path, url)
    code, _, err = await fastimport("--config", str(config), "import", cwd=tmp_path)
    assert code == 2 and "one of the arguments" in err
    code, _, err = await fastimport("--config", str(tmp_path / "missing.toml"), "pending", cwd=tmp_path)
    assert code == 1 and "not found" in err
    code, _, err = await fastimport(
        "--config", str(config), "import", "--since", "yesterday-ish", cwd=tmp_path
    )
    assert code == 1 and "--since" in err
    env_cfg = write_config_file(tmp_path, url, **{SECRET_OF[platform][0]: "FASTIMPORT_UNSET_VARIABLE"})
    code, _, err = await fastimport("--config", str(env_cfg), "import", "--today", cwd=tmp_path)
    assert code == 1 and "FASTIMPORT_UNSET_VARIABLE" in err


async def test_version_names_the_core(tmp_path: Path) -> None:
    code, out, _ = await fastimport("--version", cwd=tmp_path)
    assert code == 0 and "core:" in out and ("native" in out or "python" in out)


async def test_sigkill_mid_import_then_rerun_leaves_every_order_once(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    shop, url = await shop_factory(orders=1500, start=WEEK_START, end=WEEK_END, latency=0.02)
    config = write_config_file(tmp_path, url, per_page=20, concurrency=2)
    args = [
        sys.executable,
        "-m",
        "fastimport",
        "--config",
        str(config),
        "import",
        "--since",
        SINCE,
        "--until",
        UNTIL,
    ]
    rng = random.Random(os.getpid())
    for _ in range(2):
        proc = await asyncio.create_subprocess_exec(
            *args,
            env={**subprocess_env(), "FASTIMPORT_BATCH_ORDERS": "100"},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await asyncio.sleep(rng.uniform(1.0, 2.5))
        with contextlib.suppress(ProcessLookupError):  # a fast run may have finished already
            proc.send_signal(signal.SIGKILL)
        await proc.wait()
    code, _, err = await fastimport(
        "--config", str(config), "import", "--since", SINCE, "--until", UNTIL, cwd=tmp_path
    )
    assert code == 0, err
    con = connect(store_target(tmp_path))
    ids = [r[0] for r in con.execute("SELECT order_id FROM orders").fetchall()]
    orphans = con.execute(
        "SELECT count(*) FROM order_lines l WHERE NOT EXISTS "
        "(SELECT 1 FROM orders o WHERE o.store_id = l.store_id AND o.order_id = l.order_id)"
    ).fetchone()
    mismatched = con.execute(
        "SELECT count(*) FROM orders o WHERE line_count <> "
        "(SELECT count(*) FROM order_lines l WHERE l.store_id = o.store_id AND l.order_id = o.order_id)"
    ).fetchone()
    con.close()
    assert len(ids) == len(set(ids))
    assert set(ids) == truth_ids(shop, WEEK_START, WEEK_END)
    assert orphans == (0,) and mismatched == (0,)


async def test_sim_takes_its_own_options(tmp_path: Path) -> None:
    code, out, _ = await fastimport("sim", "--help", cwd=tmp_path)
    assert code == 0 and "--max-concurrency" in out and "--faults" in out
    code, _, err = await fastimport("pending", "--bogus", cwd=tmp_path)
    assert code == 2 and "--bogus" in err
