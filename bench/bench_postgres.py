"""W1 into PostgreSQL against W1 into DuckDB: orders per second of the whole import, and their ratio.

``python -m bench.bench_postgres [--orders 50000]`` starts one simulated WooCommerce shop (no
latency) and a throwaway PostgreSQL cluster (as the tests do: ``fastimport.store.pg_cluster``),
imports the same range once into a DuckDB file and once into a fresh PostgreSQL database, and writes
bench/results/postgres.json.  Target (issue 13): the PostgreSQL path at 50 % or more of DuckDB's.
Not part of ``bench --check``: it needs PostgreSQL's server installed and takes a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench.machine import versions
from fastimport.config import parse_config
from fastimport.importer import run_imports
from fastimport.ranges import ImportRange
from fastimport.sim import SimOptions, SimShop
from fastimport.store import connect
from fastimport.store.pg_cluster import Cluster, find_binaries

RESULTS = Path(__file__).parent / "results" / "postgres.json"
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


async def _import(target: Path | str, url: str) -> tuple[float, int]:
    os.environ["FASTIMPORT_BENCH_PG_URL"] = str(target)
    database = {"url_env": "FASTIMPORT_BENCH_PG_URL"} if isinstance(target, str) else {"path": str(target)}
    store = {"name": "w1", "platform": "woocommerce", "url": url, "timezone": "Europe/Paris", "key_env": "FI_BK",
             "secret_env": "FI_BS", "concurrency": 8}  # fmt: skip
    config = parse_config({"database": database, "stores": [store]})
    con = connect(config.target)
    try:
        began = time.perf_counter()
        reports = await run_imports(con, [(config.stores[0], ImportRange(START, END, "created", "range"))])
        seconds = time.perf_counter() - began
    finally:
        con.close()
    assert reports[0].ok, reports[0].error
    return seconds, reports[0].new


async def run(orders: int) -> dict[str, Any]:
    binaries = find_binaries()
    if binaries is None:
        raise SystemExit("PostgreSQL's server binaries are not installed (scripts/system-deps.sh)")
    os.environ.update(FI_BK=SimOptions.consumer_key, FI_BS=SimOptions.consumer_secret)
    shop = SimShop(SimOptions(orders=orders, start=START, end=END))
    url = await shop.start()
    cluster = Cluster(binaries).start()
    try:
        import psycopg

        with psycopg.connect(cluster.url(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE w1")
        with tempfile.TemporaryDirectory() as tmp:
            duck_s, duck_n = await _import(Path(tmp) / "w1.duckdb", url)
        pg_s, pg_n = await _import(cluster.url("w1"), url)
    finally:
        cluster.stop()
        await shop.stop()
    assert duck_n == pg_n == orders, (duck_n, pg_n)
    duck_rate, pg_rate = orders / duck_s, orders / pg_s
    return {
        "workload": f"W1 shape: {orders} orders, no latency, one store",
        "duckdb": {"seconds": round(duck_s, 2), "orders_per_s": round(duck_rate)},
        "postgres": {"seconds": round(pg_s, 2), "orders_per_s": round(pg_rate)},
        "ratio": round(pg_rate / duck_rate, 3),
        "target_ratio": 0.5,
        "versions": versions(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_postgres", description=__doc__)
    parser.add_argument("--orders", type=int, default=50_000, help="orders in the simulated shop")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.orders))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
