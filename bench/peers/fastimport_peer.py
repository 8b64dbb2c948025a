"""fastimport itself: ``run_imports`` with a chosen core into a DuckDB file (fresh, or W1's for W3)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from typing import Any

from bench import cores
from bench.job import Job
from bench.shop import KEY, SECRET


def run(job: Job) -> dict[str, Any]:
    from fastimport.config import parse_config
    from fastimport.importer import run_imports
    from fastimport.ranges import ImportRange
    from fastimport.store.db import connect

    core_wanted = str(job.options.get("core", "native"))
    module, description = cores.load(core_wanted)
    os.environ["BENCH_WC_KEY"], os.environ["BENCH_WC_SECRET"] = KEY, SECRET
    config = parse_config(
        {
            "database": {"path": job.db},
            "stores": [
                {
                    "name": "bench",
                    "platform": "woocommerce",
                    "url": job.url,
                    "timezone": "Europe/Paris",
                    "key_env": "BENCH_WC_KEY",
                    "secret_env": "BENCH_WC_SECRET",
                    "per_page": job.per_page,
                    "concurrency": job.concurrency,
                }
            ],
        }
    )
    start, end = job.bounds()
    rng = ImportRange(start.astimezone(dt.UTC), end.astimezone(dt.UTC), "created", "range")
    t0 = time.perf_counter()
    con = connect(job.db)
    before = _counts(con)
    reports = asyncio.run(
        run_imports(con, [(config.stores[0], rng)], core=module, batch_orders=job.batch_orders)
    )
    seconds = time.perf_counter() - t0
    after = _counts(con)
    con.close()
    report = reports[0]
    result: dict[str, Any] = {
        "orders": report.orders,
        "seconds": round(seconds, 3),
        "import_seconds": report.seconds,
        "new": report.new,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "repeated": report.repeated,
        "written": report.new + report.updated,
        "rows_added": {"orders": after[0] - before[0], "lines": after[1] - before[1]},
        "rows_total": {"orders": after[0], "lines": after[1]},
        "pages": report.pages,
        "requests": report.requests,
        "retries": report.retries,
        "stages": report.stages,
        "core": report.core,
        "core_module": module.__name__,
        "core_description": description,
        "batch_orders": job.batch_orders,
        "concurrency": job.concurrency,
    }
    if not report.ok:
        result["error"] = report.error
    return result


def _counts(con: Any) -> tuple[int, int]:
    row = con.execute("SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_lines)").fetchone()
    return int(row[0]), int(row[1])
