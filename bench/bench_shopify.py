"""Shopify pacing benchmark: a large range at the Standard plan's 2 calls per second.

    python -m bench.bench_shopify [--orders 20000] [--latency 0.25] [--json]
    python -m bench.bench_shopify --bulk 25000 [--json]

Starts the simulated Shopify shop on loopback (leaky bucket of 40 calls, leaking 2 per second,
``latency`` seconds per answer), imports the whole range into a fresh DuckDB file and reports:

* ``throttled``: 429 answers the shop gave (the goal is zero: the connector paces itself);
* ``calls`` and ``seconds``: calls the shop accepted and the import's wall time;
* ``bucket_efficiency``: calls / (bucket size + leak rate x span), where span runs from the first
  to the last call the shop received: the share of what the bucket allows from a cold start over
  the fetching that the import used (goal: >= 90 %).  ``end_to_end_efficiency`` uses the whole
  import's wall time instead (it includes parsing and storing the last pages after the last call);
* ``orders_per_second`` against ``orders_per_second_ceiling`` (the same bound in orders: a call
  brings at most ``per_page`` orders).

Results go to ``bench/results/shopify.json`` (and stdout with ``--json``).

``--bulk N`` measures the bulk reader instead: the simulated shop's grouped JSONL file of N and of
4N orders is fed to :class:`~fastimport.io.shopify.bulk.BulkReader` in 64 KiB chunks, as the
download arrives, and the peak of Python's traced memory (``tracemalloc``; the file itself, built
before, is not counted) and the CPU time are reported for both sizes: the goal is a peak flat in N
(at 4N below twice the peak at N).  Results go to ``bench/results/shopify_bulk.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import orjson

from fastimport import ranges
from fastimport.config import parse_config
from fastimport.core import core_description
from fastimport.importer import run_imports
from fastimport.sim import SimOptions, SimShop
from fastimport.store import connect

RESULTS = Path(__file__).parent / "results" / "shopify.json"
BULK_RESULTS = Path(__file__).parent / "results" / "shopify_bulk.json"
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


async def run(orders: int, latency: float, per_page: int, concurrency: int) -> dict[str, Any]:
    shop = SimShop(
        SimOptions(
            platform="shopify",
            orders=orders,
            start=START,
            end=END,
            latency=latency,
            shopify_bucket=40,
            shopify_leak=2.0,
        )
    )
    url = await shop.start()
    os.environ["FASTIMPORT_BENCH_SHOPIFY_TOKEN"] = shop.options.shopify_token
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = parse_config(
                {
                    "database": {"path": str(Path(tmp) / "bench.duckdb")},
                    "stores": [
                        {
                            "name": "shopify-bench",
                            "platform": "shopify",
                            "url": url,
                            "timezone": "Europe/Paris",
                            "token_env": "FASTIMPORT_BENCH_SHOPIFY_TOKEN",
                            "mode": "rest",
                            "per_page": per_page,
                            "concurrency": concurrency,
                        }
                    ],
                }
            )
            con = connect(config.database)
            t0 = time.perf_counter()
            report = (
                await run_imports(
                    con, [(config.stores[0], ranges.ImportRange(START, END, "created", "range"))]
                )
            )[0]
            seconds = time.perf_counter() - t0
            con.close()
    finally:
        await shop.stop()
    assert shop.platform is not None
    bucket = shop.platform.bucket  # type: ignore[attr-defined]
    span = (bucket.last_at or 0.0) - (bucket.first_at or 0.0)
    allowed_calls = bucket.size + bucket.leak * span
    allowed_end_to_end = bucket.size + bucket.leak * seconds
    return {
        "benchmark": "shopify_pacing",
        "ok": report.ok,
        "error": report.error,
        "orders": orders,
        "stored": report.new,
        "per_page": per_page,
        "concurrency": concurrency,
        "latency_s": latency,
        "bucket": {"size": bucket.size, "leak_per_s": bucket.leak},
        "calls": bucket.calls,
        "throttled": bucket.throttled,
        "retries": report.retries,
        "seconds": round(seconds, 3),
        "fetch_span_seconds": round(span, 3),
        "bucket_efficiency": round(bucket.calls / allowed_calls, 4),
        "end_to_end_efficiency": round(bucket.calls / allowed_end_to_end, 4),
        "orders_per_second": round(orders / seconds, 1),
        "orders_per_second_ceiling": round(allowed_end_to_end * per_page / seconds, 1),
        "goals": {
            "zero_429": bucket.throttled == 0,
            "efficiency_at_least_90_percent": bucket.calls / allowed_calls >= 0.9,
        },
        "core": core_description(),
        "python": sys.version.split()[0],
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def bulk_peak(orders: int, chunk: int = 1 << 16) -> dict[str, Any]:
    """The bulk reader over a grouped file of ``orders`` orders: traced peak, CPU time, pages."""
    from fastimport.io.shopify.bulk import BulkReader
    from fastimport.sim.shopify_bulk import bulk_file

    shop = SimShop(SimOptions(platform="shopify", orders=orders, start=START, end=END))
    data, objects = bulk_file(shop.store, list(range(orders)), None)
    view = memoryview(data)
    pages = 0
    tracemalloc.start()
    cpu = time.process_time()
    try:
        reader = BulkReader(250, objects)
        for at in range(0, len(data), chunk):
            pages += len(reader.feed(bytes(view[at : at + chunk])))
        pages += len(reader.close())
        cpu = time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return {
        "orders": orders,
        "objects": objects,
        "file_bytes": len(data),
        "pages": pages,
        "peak_traced_bytes": peak,
        "cpu_seconds": round(cpu, 3),  # under tracemalloc: several times slower than without
    }


def run_bulk(orders: int) -> dict[str, Any]:
    small, large = bulk_peak(orders), bulk_peak(4 * orders)
    ratio = large["peak_traced_bytes"] / small["peak_traced_bytes"]
    return {
        "benchmark": "shopify_bulk_memory",
        "ok": True,
        "error": None,
        "sizes": [small, large],
        "peak_ratio_4n_over_n": round(ratio, 3),
        "goals": {"peak_at_4n_below_twice_peak_at_n": ratio < 2.0},
        "core": core_description(),
        "python": sys.version.split()[0],
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_shopify", description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--latency", type=float, default=0.25, help="seconds per answer (default 0.25)")
    parser.add_argument("--per-page", type=int, default=250)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--bulk",
        type=int,
        metavar="N",
        help="measure the bulk reader's peak memory at N and 4N orders instead",
    )
    args = parser.parse_args(argv)
    if args.bulk:
        bulk = run_bulk(args.bulk)
        BULK_RESULTS.parent.mkdir(parents=True, exist_ok=True)
        BULK_RESULTS.write_bytes(orjson.dumps(bulk, option=orjson.OPT_INDENT_2) + b"\n")
        if args.json:
            print(orjson.dumps(bulk, option=orjson.OPT_INDENT_2).decode())
        else:
            for size in bulk["sizes"]:
                print(
                    f"{size['orders']} orders ({size['file_bytes'] / 1e6:.1f} MB of JSONL, {size['pages']} pages): "
                    f"peak {size['peak_traced_bytes'] / 1e6:.2f} MB traced, {size['cpu_seconds']} s CPU"
                )
            print(f"peak at 4N / peak at N: {bulk['peak_ratio_4n_over_n']}")
        return 0 if all(bulk["goals"].values()) else 1
    result = asyncio.run(run(args.orders, args.latency, args.per_page, args.concurrency))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    if args.json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    else:
        print(
            f"{result['stored']}/{orders_label(result)} orders in {result['seconds']} s: {result['calls']} calls, "
            f"{result['throttled']} answered 429, bucket efficiency {result['bucket_efficiency']:.1%} over the "
            f"{result['fetch_span_seconds']} s of fetching ({result['end_to_end_efficiency']:.1%} end to end), "
            f"({result['orders_per_second']} orders/s of a {result['orders_per_second_ceiling']} ceiling)"
        )
    return 0 if result["ok"] and all(result["goals"].values()) else 1


def orders_label(result: dict[str, Any]) -> str:
    return str(result["orders"])


if __name__ == "__main__":
    raise SystemExit(main())
