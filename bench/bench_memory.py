"""Peak memory of the native import against the number of orders: W1 at 100k, 300k and 1M (issue #12).

``python -m bench.bench_memory [--orders 100000,300000,1000000]`` starts one shop holding the
largest size and imports the first part of its range into a fresh DuckDB file for each size, each
import in its own process (its peak RSS is its own); results in ``bench/results/memory.json``.
The target is a peak of at most 400 MB, flat in N.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import machine
from bench.check import _job
from bench.runner import run_peer
from bench.shop import ShopProcess, ShopSpec

RESULT = Path(__file__).resolve().parent / "results" / "memory.json"
TARGET_MB = 400.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bench_memory", description=__doc__)
    p.add_argument("--orders", default="100000,300000,1000000", help="comma-separated sizes")
    args = p.parse_args(argv)
    sizes = sorted(int(n) for n in args.orders.split(","))
    workdir = Path(tempfile.mkdtemp(prefix="fastimport-bench-memory-"))
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    try:
        with ShopProcess(ShopSpec(orders=sizes[-1])) as shop:
            window = shop.window()
            print(f"bench_memory: a shop of {window.total:,} orders at {shop.url}")
            for n in sizes:
                rng = window.range_for(n / window.total)
                job = _job("fastimport", shop, *rng, workdir, key=f"native-{n}", options={"core": "native"})
                r = run_peer(job, timeout=3600.0, label=f"W1 {n:,}")
                rows.append(
                    {
                        "orders_asked": n,
                        "orders": r.get("orders", 0),
                        "orders_per_s": r.get("orders_per_s", 0),
                        "peak_rss_mb": r.get("peak_rss_mb", 0),
                        "error": r.get("error"),
                    }
                )
                shutil.rmtree(workdir / f"native-{n}", ignore_errors=True)
                Path(job.db).unlink(missing_ok=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    peaks = [r["peak_rss_mb"] for r in rows if not r["error"]]
    out = {
        "benchmark": "import peak memory against N",
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine.machine(),
        "versions": machine.versions(),
        "target_peak_mb": TARGET_MB,
        "runs": rows,
        "max_peak_mb": max(peaks, default=0.0),
        "met": bool(peaks) and len(peaks) == len(rows) and max(peaks) <= TARGET_MB,
        "seconds": round(time.perf_counter() - started, 1),
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print("\n| orders | orders/s | peak RSS |\n|---:|---:|---:|")
    for r in rows:
        print(f"| {r['orders']:,} | {r['orders_per_s']:,.0f} | {r['peak_rss_mb']:,.0f} MB |")
    print(f"target: at most {TARGET_MB:,.0f} MB at every size: {'met' if out['met'] else 'NOT met'}")
    return 0 if out["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
