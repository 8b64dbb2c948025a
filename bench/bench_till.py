"""The till page's pending table: first render of ``GET /`` with a large store.

    python -m bench.bench_till [--orders 1000000] [--pending 2000] [--json]

Builds a DuckDB store of ``--orders`` orders (two lines each; all invoiced but the newest
``--pending``, as a till that has worked for years), with a catalogue synced so the unknown-article
and unknown-customer flags are computed, then starts the till page in-process and measures over
loopback HTTP: the first ``GET /`` after start-up (cold: the store just opened), then the median of
the next 20 (warm), and the same for ``GET /api/pending``.  Target (issue #10): first render ≤ 150 ms.
Results go to bench/results/till.json with the versions involved.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from fastimport.config import parse_config
from fastimport.store import connect
from fastimport.store.imports import ensure_store
from fastimport.web.app import create_app

RESULTS = Path(__file__).parent / "results" / "till.json"
TARGET_MS = 150.0


def build_store(path: Path, orders: int, pending: int) -> dict[str, Any]:
    config = parse_config(
        {"database": {"path": str(path)}, "stores": [{"name": "eshop", "platform": "woocommerce",
         "url": "http://127.0.0.1:9", "timezone": "Europe/Paris", "key_env": "K", "secret_env": "S"}]}
    )  # fmt: skip
    con = connect(config.database)
    store = ensure_store(con, "eshop", "woocommerce", "http://127.0.0.1:9", "Europe/Paris")
    con.execute("UPDATE stores SET catalog_synced_at = now() WHERE store_id = ?", [store])
    con.execute(
        """INSERT INTO orders (store_id, order_id, number, shop_status, state, currency, created_at, modified_at,
             paid_at, total, customer_id, email, first_name, last_name, line_count, content_hash, raw_chunk,
             raw_offset, raw_length, first_run, last_run, imported_at, updated_at, payment_method_title)
           SELECT ?, i, CAST(i AS VARCHAR), 'processing', CASE WHEN i > ? THEN 'pending' ELSE 'invoiced' END,
             'EUR', TIMESTAMPTZ '2020-01-01 00:00:00+00' + i * INTERVAL 2 MINUTE,
             TIMESTAMPTZ '2020-01-01 00:00:00+00' + i * INTERVAL 2 MINUTE,
             TIMESTAMPTZ '2020-01-01 00:05:00+00' + i * INTERVAL 2 MINUTE, (i % 20000) / 100.0 + 5,
             i % 5000, 'client' || (i % 5000) || '@example.fr', 'Prénom' || (i % 97), 'Nom' || (i % 89), 2,
             i, 0, 0, 0, 1, 1, now(), now(), 'Carte bancaire'
           FROM range(1, ? + 1) t(i)""",
        [store, orders - pending, orders],
    )
    con.execute(
        """INSERT INTO order_lines (store_id, order_id, line_no, line_id, product_id, variation_id, sku, name,
             quantity, total) SELECT ?, i, l, i * 2 + l, 100 + (i + l) % 300, 0, 'SKU-' || ((i + l) % 300),
             'Article ' || ((i + l) % 300), 1, 10 FROM range(1, ? + 1) t(i), range(0, 2) u(l)""",
        [store, orders],
    )
    con.execute(
        "INSERT INTO products (store_id, product_id, variation_id, sku, name, synced_at) "
        "SELECT ?, 100 + p, 0, 'SKU-' || p, 'Article ' || p, now() FROM range(0, 290) t(p)",
        [store],
    )
    con.execute(
        "INSERT INTO customers (store_id, customer_id, email, synced_at) "
        "SELECT ?, c, 'client' || c || '@example.fr', now() FROM range(1, 4900) t(c)",
        [store],
    )
    con.close()
    return {"database": {"path": str(path)}, "stores": config.raw["stores"]}


async def measure(raw: dict[str, Any]) -> dict[str, float]:
    app = create_app(parse_config(raw))
    out: dict[str, float] = {}
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        for name, path in (("page", "/"), ("api", "/api/pending")):
            start = time.perf_counter()
            answer = await client.get(path)
            await answer.read()
            out[f"{name}_first_ms"] = (time.perf_counter() - start) * 1000
            assert answer.status == 200, answer.status
            times = []
            for _ in range(20):
                start = time.perf_counter()
                await (await client.get(path)).read()
                times.append((time.perf_counter() - start) * 1000)
            out[f"{name}_warm_median_ms"] = statistics.median(times)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_till", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--pending", type=int, default=2_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("K", "ck")
    os.environ.setdefault("S", "cs")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        raw = build_store(Path(tmp) / "till.duckdb", args.orders, args.pending)
        built = time.perf_counter() - start
        timings = asyncio.run(measure(raw))
    result = {
        "orders": args.orders, "pending": args.pending, "build_seconds": round(built, 1),
        **{k: round(v, 1) for k, v in timings.items()}, "target_first_ms": TARGET_MS,
        "met": timings["page_first_ms"] <= TARGET_MS,
        "python": sys.version.split()[0], "machine": platform.machine(),
        "versions": {p: metadata.version(p) for p in ("aiohttp", "duckdb", "Jinja2")},
    }  # fmt: skip
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.orders:,} stored orders ({args.pending:,} pending), built in {built:.1f} s")
        for key, value in timings.items():
            print(f"  {key:<22} {value:8.1f} ms")
        print(f"  first render target ≤ {TARGET_MS:.0f} ms: {'met' if result['met'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
