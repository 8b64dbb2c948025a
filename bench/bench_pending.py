"""The pending table at scale: one page, the count, the terminal view and the whole list as JSON.

``python -m bench.bench_pending [--orders 1000000]`` writes bench/results/pending.json.
Orders are generated straight into a DuckDB file (half of them pending, 1-3 lines each, a synced
catalogue with some unknown articles and customers, a few events needing action), so the measure
is the read side alone. Targets (issue #12): a page from the library in ≤ 50 ms, ``fastimport
pending`` on a terminal in ≤ 150 ms of work after start-up, ``pending --json`` of the whole list
in ≤ 200 MB peak RSS.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench.machine import versions

RESULTS = Path(__file__).parent / "results" / "pending.json"

_ORDERS = """
INSERT INTO orders (store_id, order_id, number, shop_status, state, currency, created_at, modified_at, paid_at, total,
    total_tax, shipping_total, prices_include_tax, customer_id, first_name, last_name, email, payment_method,
    payment_method_title, line_count, content_hash, raw_chunk, raw_offset, raw_length, first_run, last_run,
    imported_at, updated_at)
SELECT 1, o, o::VARCHAR,
    CASE WHEN o % 2 = 0 THEN 'processing' WHEN o % 7 = 1 THEN 'on-hold' ELSE 'completed' END,
    CASE WHEN o % 2 = 0 THEN (CASE WHEN o % 10 = 0 THEN 'prepared' ELSE 'pending' END) ELSE 'invoiced' END,
    'EUR', TIMESTAMPTZ '2024-01-01' + to_seconds(o * 47), now(), CASE WHEN o % 13 = 0 THEN NULL ELSE now() END,
    (o % 9000) / 100 + 10, 0, 4.90, true, o % 1500, 'Marie', 'Durand', 'marie@example.fr', 'stripe', 'Carte',
    1 + o % 3, o, o // 100, 0, 10, 1, 1, now(), now()
FROM range(1, ? + 1) t(o)
"""
_LINES = """
INSERT INTO order_lines (store_id, order_id, line_no, line_id, product_id, variation_id, sku, name, quantity, total)
SELECT 1, o, n, o * 10 + n, 1 + (o * 7 + n) % 1010, 0, 'SKU' || (1 + (o * 7 + n) % 1010), 'Article', 1, 9.90
FROM range(1, ? + 1) t(o), range(1, 4) u(n) WHERE n <= 1 + o % 3
"""


def setup(path: Path, orders: int) -> None:
    from fastimport.store import connect

    con = connect(path)
    con.execute("INSERT INTO stores (store_id, name, platform, url, timezone, catalog_synced_at) VALUES (1, 'eshop', 'woocommerce', 'http://x', 'Europe/Paris', now())")  # fmt: skip
    # 1,000 known products of the 1,010 the lines name; 1,000 known customers of 1,500.
    con.execute(
        "INSERT INTO products SELECT 1, p, 0, 'SKU' || p, 'Article ' || p, 1, '', true, 10, now() FROM range(1, 1001) t(p)"
    )
    con.execute("INSERT INTO customers SELECT 1, c, '', '', '', now() FROM range(1, 1001) t(c)")
    con.execute(_ORDERS, [orders])
    con.execute(_LINES, [orders])
    con.execute(
        "INSERT INTO order_events (store_id, order_id, happened_at, kind, needs_action) "
        "SELECT 1, o, now(), 'remote-change', true FROM range(4, ? + 1, 1000) t(o)",
        [orders],
    )
    con.close()


def _config(tmp: Path, db: Path) -> Path:
    cfg = tmp / "fastimport.toml"
    cfg.write_text(
        f'[database]\npath = "{db}"\n\n[[stores]]\nname = "eshop"\nplatform = "woocommerce"\n'
        'url = "http://x"\ntimezone = "Europe/Paris"\nkey_env = "K"\nsecret_env = "S"\n',
        encoding="utf-8",
    )
    return cfg


def _median_ms(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 1)


# The child writes its own peak (``VmHWM``) as it exits: ``ru_maxrss`` of a child counts the RSS of
# this process at fork time (Linux keeps the high-water mark across exec), so it read this bench's
# 200 MB (the million orders it built) whatever the command used.
_PEAK = (
    "import atexit, os, runpy, sys\n"
    "def peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            os.write(int(os.environ['FASTIMPORT_BENCH_PEAK_FD']), line.split()[1].encode())\n"
    "atexit.register(peak)\n"
    "sys.argv = ['fastimport', *sys.argv[1:]]\n"
    "runpy.run_module('fastimport', run_name='__main__')\n"
)


def _child(argv: list[str], out: Any) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) and exit code of ``python -m fastimport ARGV``."""
    if not Path("/proc/self/status").exists():  # not Linux: the rusage figure, an upper bound
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "fastimport", *argv], stdout=out)
        _, status, usage = os.wait4(proc.pid, 0)
        return time.perf_counter() - t0, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)
    read, write = os.pipe()
    env = dict(os.environ, FASTIMPORT_BENCH_PEAK_FD=str(write))
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _PEAK, *argv], stdout=out, env=env, pass_fds=(write,))
    os.close(write)
    code = proc.wait()
    wall = time.perf_counter() - t0
    with os.fdopen(read, "rb") as pipe:
        kb = int(pipe.read() or b"0")
    return wall, kb / 1024, code


def run(orders: int, repeat: int = 7) -> dict[str, Any]:
    import fastimport
    from fastimport.cli import main as cli_main

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        db = tmp / "pending.duckdb"
        t0 = time.perf_counter()
        setup(db, orders)
        setup_s = time.perf_counter() - t0
        cfg_path = _config(tmp, db)
        config = fastimport.load_config(cfg_path)
        out: dict[str, Any] = {
            "benchmark": "pending at scale",
            "orders": orders,
            "setup_seconds": round(setup_s, 1),
        }
        with fastimport.connect(config) as con:
            pending = fastimport.count_pending(config, con)
            out["pending"] = pending
            out["count_ms"] = _median_ms(lambda: fastimport.count_pending(config, con), repeat)
            out["first_page_ms"] = _median_ms(
                lambda: fastimport.pending_orders(config, con, limit=50, offset=0), repeat
            )
            out["middle_page_ms"] = _median_ms(
                lambda: fastimport.pending_orders(config, con, limit=50, offset=pending // 2), repeat
            )
            out["last_page_ms"] = _median_ms(
                lambda: fastimport.pending_orders(config, con, limit=50, offset=max(0, pending - 50)), repeat
            )
            out["newest_page_ms"] = _median_ms(
                lambda: fastimport.pending_orders(config, con, limit=50, newest_first=True), repeat
            )

        # The terminal view, in this process after start-up: open the store, count, one page, print.
        def terminal() -> None:
            with contextlib.redirect_stdout(io.StringIO()):
                cli_main(["--config", str(cfg_path), "pending"])

        out["terminal_ms"] = _median_ms(terminal, repeat)
        with open(os.devnull, "wb") as devnull:
            wall, rss, code = _child(["--config", str(cfg_path), "pending"], devnull)
            out["terminal_process_seconds"] = round(wall, 2)
            out["terminal_process_rss_mb"] = round(rss)
            wall, rss, code = _child(["--config", str(cfg_path), "pending", "--json"], devnull)
            out["json_seconds"] = round(wall, 1)
            out["json_rss_mb"] = round(rss)
            out["json_ok"] = code == 0
        json_path = tmp / "pending.json"
        if orders <= 20_000:  # check the stream is one JSON array of every pending order
            with open(json_path, "wb") as fh:
                _child(["--config", str(cfg_path), "pending", "--json"], fh)
            out["json_rows"] = len(orjson.loads(json_path.read_bytes()))
    out.update(
        {"target_page_ms": 50, "target_terminal_ms": 150, "target_json_rss_mb": 200, "versions": versions()}
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_pending")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.orders)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    if args.json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    else:
        r = result
        print(
            f"{r['orders']:,} orders, {r['pending']:,} pending (set up in {r['setup_seconds']} s)\n"
            f"  library page of 50: first {r['first_page_ms']} ms, middle {r['middle_page_ms']} ms, "
            f"last {r['last_page_ms']} ms, newest first {r['newest_page_ms']} ms (target ≤ 50 ms)\n"
            f"  count_pending: {r['count_ms']} ms\n"
            f"  fastimport pending (terminal, work after start-up): {r['terminal_ms']} ms (target ≤ 150 ms); "
            f"whole process {r['terminal_process_seconds']} s, {r['terminal_process_rss_mb']} MB\n"
            f"  fastimport pending --json (every pending order): {r['json_seconds']} s, "
            f"peak RSS {r['json_rss_mb']} MB (target ≤ 200 MB)"
        )
    return 0 if result["json_ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
