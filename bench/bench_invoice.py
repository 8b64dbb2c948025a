"""Invoices per second in batch: numbering, HMAC chain, lines, VAT, stock movements, order states, all included.

``python -m bench.bench_invoice [--orders 10000] [--chunk 5000]`` writes bench/results/invoice.json
(the chunk defaults to ``[invoicing] chunk``'s default).  Orders are generated straight into a DuckDB
file (1-5 lines, 4 French VAT rates, shipping) so the measure is the invoicing alone; the file is on
disk, as at the till.  Besides the wall time, the CPU time of the batch (all threads) is reported:
on a shared machine it is the steadier of the two.  Target (issue #12): 25,000 invoices/s.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from bench.machine import versions
from fastimport.config import parse_config
from fastimport.processing import invoicing, stock
from fastimport.processing.settings import DEFAULT_CHUNK, load_settings
from fastimport.processing.verify import verify
from fastimport.store import connect, raw

RESULTS = Path(__file__).parent / "results" / "invoice.json"
TARGET_PER_SECOND = 25_000

_ORDERS = """
INSERT INTO orders (store_id, order_id, number, shop_status, state, currency, created_at, modified_at, paid_at, total,
    total_tax, shipping_total, prices_include_tax, customer_id, first_name, last_name, email, shipping_method_title,
    payment_method, payment_method_title, transaction_id, line_count, content_hash, raw_chunk, raw_offset, raw_length,
    first_run, last_run, imported_at, updated_at)
SELECT 1, o, o::VARCHAR, 'processing', 'pending', 'EUR', TIMESTAMPTZ '2026-03-24' + to_seconds(o), now(),
    now(), 0, 0, 5.75, true, 0, 'Marie', 'Durand', 'marie@example.fr', 'Colissimo', 'stripe', 'Carte', 'pi_' || o,
    1 + o % 5, o, 1, 0, ?, 1, 1, now(), now()
FROM range(1, ? + 1) t(o)
"""
_PAYLOAD = (
    b'{"billing":{"first_name":"Marie","last_name":"Durand","address_1":"12 rue des Lilas",'
    b'"postcode":"69003","city":"Lyon","country":"FR","email":"marie@example.fr"},"shipping_tax":"1.15"}'
)
_LINES = """
INSERT INTO order_lines
SELECT 1, o, n, o * 10 + n, 1 + (o * 7 + n) % 200, 0, 'SKU' || (1 + (o * 7 + n) % 200), 'Article', 1 + (o + n) % 3,
    NULL, NULL, ((1 + (o + n) % 3) * (199 + (o * 13 + n) % 5000)) / 100,
    round(((1 + (o + n) % 3) * (199 + (o * 13 + n) % 5000)) / 100 * [0.2, 0.1, 0.055, 0.021][1 + n % 4], 2),
    ['', 'taux-reduit', 'taux-reduit-5-5', 'taux-particulier'][1 + n % 4]
FROM range(1, ? + 1) t(o), range(1, 6) u(n) WHERE n <= 1 + o % 5
"""


def setup(path: Path, orders: int) -> None:
    con = connect(path)
    con.execute("INSERT INTO stores (store_id, name, platform, url, timezone) VALUES (1, 'eshop', 'woocommerce', 'http://x', 'Europe/Paris')")  # fmt: skip
    con.execute(
        "INSERT INTO products SELECT 1, p, 0, 'SKU' || p, 'Article ' || p, 1, '', true, 100000, now() FROM range(1, 201) t(p)"
    )
    # Every order points at the same stored payload: what invoicing reads from it (billing, fees).
    chunk, size, _, lengths = raw.pack(pa.array([_PAYLOAD], pa.binary()))
    con.execute(
        "INSERT INTO raw_chunks (chunk_id, store_id, codec, size, data) VALUES (1, 1, ?, ?, ?)",
        [raw.CODEC, size, chunk],
    )
    con.execute(_ORDERS, [lengths[0].as_py(), orders])
    con.execute(_LINES, [orders])
    # The shop's totals: the lines plus 5.75 + 1.15 of shipping, and one cent off on every 50th order.
    con.execute(
        "UPDATE orders SET total = s.t + 6.90 + CASE WHEN orders.order_id % 50 = 0 THEN 0.01 ELSE 0 END, "
        "total_tax = s.x + 1.15 FROM (SELECT order_id, sum(total + total_tax) t, sum(total_tax) x FROM order_lines "
        "GROUP BY ALL) s WHERE s.order_id = orders.order_id"
    )
    con.close()


def run(orders: int, chunk: int) -> dict[str, Any]:
    os.environ.setdefault("FASTIMPORT_BENCH_KEY", "bench-signing-key")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        setup(path, orders)
        raw = {
            "database": {"path": str(path)},
            "stores": [{"name": "eshop", "platform": "woocommerce", "url": "http://x", "timezone": "Europe/Paris",
                        "key_env": "K", "secret_env": "S"}],
            "seller": {"name": "Boutique", "legal_form": "SARL", "address": "Lyon", "siren": "123456789",
                       "siret": "12345678900012", "vat_number": "FR12123456789"},
            "invoicing": {"secret_env": "FASTIMPORT_BENCH_KEY", "chunk": chunk},
        }  # fmt: skip
        config = parse_config(raw)
        settings = load_settings(config)
        con = connect(path)
        keys = invoicing.pending_keys(con, config)
        started, cpu_started = time.perf_counter(), time.process_time()
        report = invoicing.invoice_orders(con, settings, keys)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        t0 = time.perf_counter()
        levels = stock.levels(con)
        levels_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        ok = verify(con, settings.key()).ok
        verify_s = time.perf_counter() - t0
        movements = con.execute("SELECT count(*) FROM stock_movements WHERE kind = 'invoice'").fetchall()[0][
            0
        ]
        con.close()
    return {
        "benchmark": "invoice batch",
        "orders": orders,
        "chunk": chunk,
        "invoiced": len(report.issued),
        "refused": len(report.refused),
        "stock_movements": movements,
        "seconds": round(seconds, 3),
        "invoices_per_second": round(len(report.issued) / seconds),
        "cpu_seconds": round(cpu, 3),
        "invoices_per_cpu_second": round(len(report.issued) / cpu),
        "stock_levels_seconds": round(levels_s, 3),
        "articles": levels.height,
        "verify_seconds": round(verify_s, 3),
        "verify_ok": ok,
        "target_per_second": TARGET_PER_SECOND,
        "versions": versions(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_invoice")
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.orders, args.chunk)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    if args.json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    else:
        print(
            f"{result['invoiced']} invoices in {result['seconds']} s: {result['invoices_per_second']}/s, "
            f"CPU {result['cpu_seconds']} s: {result['invoices_per_cpu_second']}/s (chain, lines, VAT, "
            f"{result['stock_movements']} stock movements included; target {TARGET_PER_SECOND:,}/s); "
            f"verify {result['verify_seconds']} s ({'ok' if result['verify_ok'] else 'FAILED'}), "
            f"Polars levels {result['stock_levels_seconds']} s"
        )
    return 0 if result["verify_ok"] and not result["refused"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
