"""Micro-benchmark of the parsing core: orjson.loads vs native vs pure-Python parse_page, the
per-order content hash (XXH3-64, called from Python as the compiled core calls it), and Dedup.

    python bench/core_micro.py [--orders 100] [--pages 30] [--ids 1000000]

Pages are WooCommerce-shaped (about 2.9 KB per order, with meta_data, _links,
tax_lines filler), generated here with a fixed seed.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from collections.abc import Callable
from typing import Any

import orjson
import pyarrow as pa

from fastimport._core_shared import content_hash
from fastimport.core import load_core
from fastimport.io.woocommerce.spec import WOOCOMMERCE_PAGE


def make_order(rng: random.Random, oid: int) -> dict[str, Any]:
    def money() -> str:
        return f"{rng.randint(0, 50000) / 100:.2f}"

    addr = {
        "first_name": rng.choice(["Anne", "Jürgen", "Zoë", "Li"]),
        "last_name": rng.choice(["Martin", "Müller", "O'Brien", "Ng"]),
        "company": "",
        "address_1": f"{rng.randint(1, 200)} rue de la Paix",
        "address_2": "",
        "city": rng.choice(["Paris", "Lyon", "Köln"]),
        "state": "",
        "postcode": f"{rng.randint(10000, 99999)}",
        "country": "FR",
    }
    lines = []
    for k in range(rng.randint(1, 4)):
        qty = rng.randint(1, 5)
        price = rng.randint(100, 9000) / 100
        lines.append(
            {
                "id": oid * 10 + k,
                "name": f"Produit n°{rng.randint(1, 999)} \u2013 taille {rng.choice('SML')}",
                "product_id": rng.randint(1, 5000),
                "variation_id": 0,
                "quantity": qty,
                "tax_class": "",
                "subtotal": f"{qty * price:.2f}",
                "subtotal_tax": "0.00",
                "total": f"{qty * price:.2f}",
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [{"id": 1, "key": "_reduced_stock", "value": str(qty)}],
                "sku": f"SKU-{rng.randint(1, 99999):05d}",
                "price": price,
                "image": {"id": "", "src": ""},
                "parent_name": None,
            }
        )
    order = {
        "id": oid,
        "parent_id": 0,
        "status": rng.choice(["processing", "completed", "on-hold"]),
        "currency": "EUR",
        "version": "8.5.2",
        "prices_include_tax": True,
        "date_created": "2024-03-01T10:00:00",
        "date_modified": "2024-03-01T11:00:00",
        "discount_total": "0.00",
        "discount_tax": "0.00",
        "shipping_total": money(),
        "shipping_tax": "0.00",
        "cart_tax": "0.00",
        "total": money(),
        "total_tax": "0.00",
        "customer_id": rng.randint(0, 9999),
        "order_key": f"wc_order_{rng.getrandbits(48):012x}",
        "billing": {**addr, "email": f"client{oid}@example.com", "phone": "+33 6 12 34 56 78"},
        "shipping": {**addr, "phone": ""},
        "payment_method": "stripe",
        "payment_method_title": "Carte bancaire",
        "transaction_id": f"pi_{rng.getrandbits(64):016x}",
        "customer_ip_address": "203.0.113.7",
        "customer_user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
        "created_via": "checkout",
        "customer_note": rng.choice(["", "Sonnez deux fois", 'Livrer "au fond"']),
        "date_completed": None,
        "date_paid": "2024-03-01T10:01:00",
        "cart_hash": f"{rng.getrandbits(128):032x}",
        "number": str(oid),
        "meta_data": [{"id": 900 + i, "key": f"_meta_{i}", "value": f"valeur {i}"} for i in range(6)],
        "line_items": lines,
        "tax_lines": [{"id": 1, "rate_code": "FR-TVA-1", "rate_id": 1, "label": "TVA", "compound": False}],
        "shipping_lines": [
            {
                "id": 7,
                "method_title": "Colissimo",
                "method_id": "flat_rate",
                "total": money(),
                "meta_data": [],
            }
        ],
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": [],
        "date_created_gmt": "2024-03-01T09:00:00",
        "date_modified_gmt": "2024-03-01T10:00:00",
        "date_completed_gmt": None,
        "date_paid_gmt": "2024-03-01T09:01:00",
        "currency_symbol": "\u20ac",
        "_links": {
            "self": [{"href": f"https://shop.example.com/wp-json/wc/v3/orders/{oid}"}],
            "collection": [{"href": "https://shop.example.com/wp-json/wc/v3/orders"}],
            "customer": [{"href": "https://shop.example.com/wp-json/wc/v3/customers/1"}],
        },
    }
    return order


def make_page(rng: random.Random, first_id: int, n: int) -> bytes:
    return json.dumps([make_order(rng, first_id + i) for i in range(n)], ensure_ascii=False).encode()


def rate(fn: Callable[[], Any], units: int, min_time: float = 0.5) -> float:
    """Units per second, best of a few timed runs of at least ``min_time`` in all."""
    best = float("inf")
    total = 0.0
    while total < min_time or best == float("inf"):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best = min(best, dt)
        total += dt
    return units / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=100, help="orders per page")
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--ids", type=int, default=1_000_000, help="orders for the Dedup benchmark")
    ap.add_argument("--json", action="store_true", help="print results as JSON")
    args = ap.parse_args()

    rng = random.Random(42)
    pages = [make_page(rng, 1000 + p * args.orders, args.orders) for p in range(args.pages)]
    n_orders = args.orders * args.pages
    size = sum(map(len, pages))
    native, python = load_core("native"), load_core("python")
    spec = WOOCOMMERCE_PAGE
    assert native.parse_page(pages[0], spec) == python.parse_page(pages[0], spec)

    def run(fn: Callable[[bytes], Any], ps: list[bytes]) -> Callable[[], None]:
        def go() -> None:
            for p in ps:
                fn(p)

        return go

    results: dict[str, Any] = {
        "python": platform.python_version(),
        "orjson": orjson.__version__,
        "pyarrow": pa.__version__,
        "bytes_per_order": round(size / n_orders),
        "orders_per_page": args.orders,
    }
    results["orjson_loads_orders_s"] = rate(run(orjson.loads, pages), n_orders)
    results["native_parse_orders_s"] = rate(run(lambda p: native.parse_page(p, spec), pages), n_orders)
    few = pages[: max(1, len(pages) // 10)]
    results["python_parse_orders_s"] = rate(
        run(lambda p: python.parse_page(p, spec), few), args.orders * len(few)
    )

    raws = [r for p in pages for r in native.parse_page(p, spec).orders.column("raw").to_pylist()]
    results["content_hash_orders_s"] = rate(lambda: [content_hash(r) for r in raws], n_orders)

    n = args.ids
    ids = pa.array(range(n), type=pa.int64())
    mod = pa.array([1] * n, type=pa.int64())
    for name, core in (("native", native), ("python", python)):
        d = core.Dedup()
        t0 = time.perf_counter()
        d.load(ids.slice(0, n // 2), mod.slice(0, n // 2), mod.slice(0, n // 2))
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        d.classify(ids, mod, mod)
        classify_s = time.perf_counter() - t0
        results[f"{name}_load_ids_s"] = (n // 2) / load_s
        results[f"{name}_classify_ids_s"] = n / classify_s
        results[f"{name}_dedup_bytes_per_entry"] = d.memory_bytes() / len(d)

    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"Python {results['python']}, orjson {results['orjson']}, pyarrow {results['pyarrow']}")
    print(f"{args.pages} pages x {args.orders} orders, {results['bytes_per_order']} bytes/order")
    for key, label in (
        ("orjson_loads_orders_s", "orjson.loads (reference)"),
        ("native_parse_orders_s", "native parse_page"),
        ("python_parse_orders_s", "python parse_page"),
        ("content_hash_orders_s", "content_hash (XXH3-64)"),
    ):
        print(f"  {label:28s} {results[key]:>12,.0f} orders/s")
    speedup = results["native_parse_orders_s"] / results["python_parse_orders_s"]
    print(f"  native / python parse       {speedup:>12.1f} x")
    print(f"Dedup, {n:,} ids (half loaded first):")
    for name in ("native", "python"):
        print(
            f"  {name:7s} load {results[f'{name}_load_ids_s']:>12,.0f} ids/s   classify "
            f"{results[f'{name}_classify_ids_s']:>12,.0f} ids/s   "
            f"{results[f'{name}_dedup_bytes_per_entry']:.1f} bytes/entry"
        )


if __name__ == "__main__":
    main()
