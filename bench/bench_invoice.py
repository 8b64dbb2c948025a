"""Invoices per second in batch: numbering, HMAC chain, lines, VAT, stock movements, order states, all included.

``python -m bench.bench_invoice [--orders 10000] [--chunk 5000] [--stored 0]`` writes
bench/results/invoice.json (the chunk defaults to ``[invoicing] chunk``'s default).  Orders are
generated straight into a DuckDB file (1-5 lines, 4 French VAT rates, shipping) so the measure is the
invoicing alone; the file is on disk, as at the till.  Besides the wall time, the CPU time of the
batch (all threads) and of each chunk is reported: on a shared machine it is the steadier of the two.
Target (issue #12): 25,000 invoices/s.

``--stored N`` first fills the store with a year of history, as a real shop's till holds: N older
orders, all invoiced the year before (series FA-2025-eshop) and shipped, each with its lines, invoice,
invoice lines, VAT rows, stock movements, payment and order events, generated in SQL.  A chunk's
cost should not grow with it.  The history's signatures are not real HMACs: verify must find every
other chain (this batch's series, the journal) intact, and the history's series only as unsigned.
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

# Orders 1..$2 (stored) are the history (a year before, shipped); the next $3 are the ones to invoice.
# One history order in 10,000 is still pending: its shop total is 1.00 off its lines, so the till refuses
# it at every batch (as a real till keeps a few such orders until someone fixes them on the shop).
_ORDERS = """
INSERT INTO orders (store_id, order_id, number, shop_status, state, currency, created_at, modified_at, paid_at, total,
    total_tax, shipping_total, prices_include_tax, customer_id, first_name, last_name, email, shipping_method_title,
    payment_method, payment_method_title, transaction_id, line_count, content_hash, raw_chunk, raw_offset, raw_length,
    first_run, last_run, imported_at, updated_at)
SELECT 1, o, o::VARCHAR, CASE WHEN o <= $2 AND o % 10000 <> 5000 THEN 'completed' ELSE 'processing' END,
    CASE WHEN o <= $2 AND o % 10000 <> 5000 THEN 'shipped' ELSE 'pending' END, 'EUR',
    CASE WHEN o <= $2 THEN TIMESTAMPTZ '2025-03-24' + to_seconds(o * 31536000 // greatest($2, 1))
         ELSE TIMESTAMPTZ '2026-03-24' + to_seconds(o - $2) END, now(),
    now(), 0, 0, 5.75, true, 0, 'Marie', 'Durand', 'marie@example.fr', 'Colissimo', 'stripe', 'Carte', 'pi_' || o,
    1 + o % 5, o, 1, 0, $1, 1, 1, now(), now()
FROM range(1, $2 + $3 + 1) t(o)
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
# The history's documents, as invoicing would have written them (invoice n is order n's), in bulk: the
# tables a chunk's statements read and write hold a year of rows.  Signatures are stand-ins (md5).
_HISTORY = (
    """INSERT INTO invoices SELECT o.order_id, 'invoice', 'FA-2025-eshop', o.order_id,
        'FA-2025-eshop-' || printf('%06d', o.order_id), o.created_at + INTERVAL 1 HOUR, 1, o.order_id, o.number,
        'eshop:' || o.order_id, NULL, NULL, ?, '{"name":"Marie Durand"}', 'EUR', o.total - o.total_tax,
        o.total_tax, 0, o.total, o.payment_method, o.payment_method_title, o.transaction_id, o.paid_at,
        o.line_count + 1, 'till', CASE WHEN o.order_id > 1 THEN md5('history ' || (o.order_id - 1)) ELSE '' END,
        md5('history ' || o.order_id)
    FROM orders o WHERE o.state = 'shipped'""",
    """INSERT INTO invoice_lines SELECT l.order_id, l.line_no, 'item', l.line_no, l.product_id, l.variation_id,
        l.sku, l.name, l.quantity, l.total / l.quantity,
        CASE l.tax_class WHEN 'taux-reduit' THEN 10 WHEN 'taux-reduit-5-5' THEN 5.5
             WHEN 'taux-particulier' THEN 2.1 ELSE 20 END, l.total, l.total_tax, l.total + l.total_tax
    FROM order_lines l JOIN invoices i ON i.invoice_id = l.order_id
    UNION ALL SELECT invoice_id, line_count, 'shipping', NULL, 0, 0, NULL, 'Colissimo', 1, 5.75, 20, 5.75, 1.15,
        6.90 FROM invoices""",
    "INSERT INTO invoice_vat SELECT invoice_id, vat_rate, sum(total_ht), sum(vat) FROM invoice_lines GROUP BY ALL",
    """INSERT INTO stock_movements (store_id, product_id, variation_id, sku, quantity, kind, reference,
        happened_at, actor, note)
    SELECT 1, product_id, 0, sku, 100000, 'initial', NULL, TIMESTAMPTZ '2025-03-01', 'catalog sync', 'bench'
    FROM products""",
    """INSERT INTO stock_movements (store_id, product_id, variation_id, sku, quantity, kind, invoice_id,
        reference, happened_at, actor)
    SELECT i.store_id, l.product_id, l.variation_id, l.sku, -l.quantity, 'invoice', i.invoice_id, i.number,
        i.issued_at, 'till' FROM invoice_lines l JOIN invoices i USING (invoice_id) WHERE l.line_kind = 'item'""",
    """INSERT INTO payments (store_id, order_id, method, method_title, transaction_id, amount, paid_at, source,
        invoice_number, recorded_at)
    SELECT store_id, order_id, payment_method, payment_title, transaction_id, total_ttc, paid_at, 'shop', number,
        issued_at FROM invoices""",
    """INSERT INTO shipments (shipment_id, series, seq, number, store_id, order_id, carrier, tracking, shipped_at,
        actor, invoice_number, items)
    SELECT invoice_id, 'BL-2025', invoice_id, 'BL-2025-' || printf('%06d', invoice_id), store_id, order_id,
        'colissimo', '6A' || order_id, issued_at + INTERVAL 1 DAY, 'till', number, line_count - 1 FROM invoices""",
    """INSERT INTO order_events (store_id, order_id, happened_at, kind, actor, from_state, to_state, detail)
    SELECT store_id, order_id, issued_at, 'invoiced', 'till', 'pending', 'invoiced', 'invoice ' || number
    FROM invoices UNION ALL
    SELECT store_id, order_id, shipped_at, 'shipped', 'till', 'invoiced', 'shipped',
        'shipped with colissimo, delivery note ' || number FROM shipments""",
    """INSERT INTO series_counters
    SELECT 'FA-2025-eshop', 'invoice', max(seq), arg_max(signature, seq), now() FROM invoices UNION ALL
    SELECT 'BL-2025', 'delivery', max(seq), arg_max(number, seq), now() FROM shipments""",
)
HISTORY_SERIES = "FA-2025-eshop"


def stale(stored: int) -> int:
    """How many of the history's orders are still pending (refused at every batch)."""
    return (stored + 5000) // 10000


def setup(path: Path, orders: int, stored: int = 0) -> None:
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
    con.execute(_ORDERS, [lengths[0].as_py(), stored, orders])
    con.execute(_LINES, [stored + orders])
    # The shop's totals: the lines plus 5.75 + 1.15 of shipping, one cent off on every 50th order to
    # invoice, 1.00 off on the history's stale pending ones.
    con.execute(
        "UPDATE orders SET total = s.t + 6.90 + CASE WHEN orders.state <> 'pending' THEN 0 WHEN orders.order_id "
        "<= ? THEN 1 WHEN orders.order_id % 50 = 0 THEN 0.01 ELSE 0 END, total_tax = s.x + 1.15 FROM (SELECT "
        "order_id, sum(total + total_tax) t, sum(total_tax) x FROM order_lines GROUP BY ALL) s "
        "WHERE s.order_id = orders.order_id",
        [stored],
    )
    if stored:
        seller = '{"name":"Boutique"}'
        for i, sql in enumerate(_HISTORY):
            con.execute(sql, [seller] if i == 0 else [])
    con.close()


def run(orders: int, chunk: int, stored: int = 0) -> dict[str, Any]:
    os.environ.setdefault("FASTIMPORT_BENCH_KEY", "bench-signing-key")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        t0 = time.perf_counter()
        setup(path, orders, stored)
        setup_s = time.perf_counter() - t0
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
        marks: list[tuple[float, float]] = []  # (wall, CPU) after each committed chunk

        def chunk_done(_: invoicing.InvoiceReport) -> None:
            marks.append((time.perf_counter(), time.process_time()))

        started, cpu_started = time.perf_counter(), time.process_time()
        report = invoicing.invoice_orders(con, settings, keys, progress=chunk_done)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        t0 = time.perf_counter()
        levels = stock.levels(con)
        levels_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        # The history's stand-in signatures fail, as they should; every other chain must verify.
        problems = verify(con, settings.key()).problems
        ok = all(p.series == HISTORY_SERIES for p in problems) and (stored > 0 or not problems)
        verify_s = time.perf_counter() - t0
        movements = con.execute(
            "SELECT count(*) FROM stock_movements WHERE kind = 'invoice' AND invoice_id > ?", [stored]
        ).fetchall()[0][0]
        con.close()
    # The first chunk also pays for the batch's start (settings, clock, initial stock levels).
    walls = [b[0] - a[0] for a, b in zip([(started, cpu_started), *marks], marks, strict=False)]
    cpus = [b[1] - a[1] for a, b in zip([(started, cpu_started), *marks], marks, strict=False)]
    return {
        "benchmark": "invoice batch",
        "orders": orders,
        "stored": stored,
        "chunk": chunk,
        "invoiced": len(report.issued),
        "refused": len(report.refused),
        "stale_pending": stale(stored),
        "stock_movements": movements,
        "setup_seconds": round(setup_s, 1),
        "seconds": round(seconds, 3),
        "invoices_per_second": round(len(report.issued) / seconds),
        "cpu_seconds": round(cpu, 3),
        "invoices_per_cpu_second": round(len(report.issued) / cpu),
        "chunk_seconds": [round(w, 3) for w in walls],
        "chunk_cpu_seconds": [round(c, 3) for c in cpus],
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
    parser.add_argument(
        "--stored",
        type=int,
        default=0,
        help="older orders already in the store, invoiced and shipped (history)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.orders, args.chunk, args.stored)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    if args.json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    else:
        print(
            f"{result['invoiced']} invoices ({result['stored']:,} orders already stored) in {result['seconds']} s: {result['invoices_per_second']}/s, "
            f"CPU {result['cpu_seconds']} s: {result['invoices_per_cpu_second']}/s (chain, lines, VAT, "
            f"{result['stock_movements']} stock movements included; target {TARGET_PER_SECOND:,}/s); "
            f"verify {result['verify_seconds']} s ({'ok' if result['verify_ok'] else 'FAILED'}), "
            f"Polars levels {result['stock_levels_seconds']} s"
        )
    return 0 if result["verify_ok"] and result["refused"] == result["stale_pending"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
