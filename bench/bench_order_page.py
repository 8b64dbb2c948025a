"""One order's page on the PostgreSQL store at a million orders, with and without migration 11's indexes.

``python -m bench.bench_order_page [--stored 1000000] [--rounds 2] [--warm 20]`` builds a year of
history in a DuckDB file (bench_invoice's ``--stored`` generator: every order invoiced and shipped,
with lines, invoice lines, VAT, stock movements, payments and events; plus here the push jobs, print
jobs and a few comments a real till keeps, and order numbers that differ from the shop ids), copies it
into a throwaway PostgreSQL cluster with ``db copy`` (``fastimport.store.pg_cluster``, as the tests
do), then measures in alternating rounds, migration 11's indexes present, then dropped (``ANALYZE``
after each change):

- the order page's library call (``fastimport.order_details``) on a fresh connection: the first call
  (cold: a new connection), then the median of ``--warm`` calls, by order number and by shop id;
- the invoicing clock check (``chain.check_clock``, run at each batch): first and warm median;
- each statement those calls run, captured from the calls themselves, and a few other reads of one
  order (payments, push and print jobs): the server's execution time (``EXPLAIN ANALYZE``) and
  whether its plan reads a whole table (``Seq Scan``) or an index.

The same library call on the DuckDB file is timed too.  Writes bench/results/order_page.json.  Not
part of ``bench --check``: it needs PostgreSQL's server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from bench.bench_invoice import setup
from bench.machine import versions
from fastimport.api.processing import order_details
from fastimport.processing import chain
from fastimport.store import connect
from fastimport.store.copy import copy_to_postgres
from fastimport.store.db import Connection
from fastimport.store.pg_cluster import Cluster, find_binaries
from fastimport.store.postgres import PgConnection, translate_ddl
from fastimport.store.schema import MIGRATIONS

RESULTS = Path(__file__).parent / "results" / "order_page.json"
INDEXES = next(m for m in MIGRATIONS if m.version == 11)

# What a till keeps beside bench_invoice's history: a push to the shop per invoice and per delivery note
# (sent), a printed invoice per order, a comment on one order in 100; order numbers like WooCommerce's
# sequential-number plugins give ('WC-…'), so a number and a shop id are two different lookups.
_EXTRA = (
    "UPDATE orders SET number = 'WC-' || order_id",
    """INSERT INTO push_jobs (store_id, order_id, step, document, created_at, state, attempts, next_attempt_at,
        sent_at, shop_status)
    SELECT store_id, order_id, 'invoiced', number, issued_at, 'sent', 1, issued_at, issued_at, 'processing'
    FROM invoices UNION ALL
    SELECT store_id, order_id, 'shipped', number, shipped_at, 'sent', 1, shipped_at, shipped_at, 'completed'
    FROM shipments""",
    """INSERT INTO print_jobs (created_at, kind, document_ref, printer, payload, preview, status, attempts,
        next_attempt_at, sent_at, printed_at)
    SELECT issued_at, 'invoice', number, 'till', '\\x1b\\x40'::BLOB, 'FACTURE ' || number, 'printed', 1,
        issued_at, issued_at, issued_at FROM invoices""",
    """INSERT INTO comments (store_id, order_id, author, written_at, text)
    SELECT store_id, order_id, 'marie', issued_at, 'called the customer' FROM invoices WHERE order_id % 100 = 7""",
)
# Reads of one order outside the order page (the payments list's per-order sums, the push queue at a
# delivery, a reprint): EXPLAIN'd only.  $o is the order's shop id, $d its invoice number.
_OTHER_READS = {
    "payments by order": "SELECT coalesce(sum(amount), 0) FROM payments WHERE store_id = 1 AND order_id = $o",
    "push jobs by order": "SELECT push_id FROM push_jobs WHERE store_id = 1 AND order_id = $o AND state <> 'sent'",
    "print jobs by document": "SELECT max(copy_number) FROM print_jobs WHERE kind = 'invoice' AND document_ref = '$d'",
    "credit notes by order": "SELECT number FROM invoices WHERE store_id = 1 AND order_id = $o AND kind = 'credit_note'",
}


def build(duck: Path, stored: int) -> float:
    started = time.perf_counter()
    setup(duck, 10, stored)
    con = connect(duck)
    for sql in _EXTRA:
        con.execute(sql)
    con.close()
    return time.perf_counter() - started


@contextmanager
def recording(con: PgConnection, into: list[tuple[str, list[Any]]]) -> Iterator[None]:
    """Every statement ``con`` runs meanwhile, with its parameters, appended to ``into``."""
    execute = con.execute

    def record(query: str, parameters: Any = None) -> PgConnection:
        into.append((query, list(parameters or [])))
        return execute(query, parameters)

    con.execute = record  # type: ignore[method-assign]
    try:
        yield
    finally:
        del con.execute


def timed(call: Callable[[], object], warm: int) -> dict[str, float]:
    """The first call, then the median of ``warm`` more, in ms."""
    started = time.perf_counter()
    call()
    first = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(warm):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return {"first_ms": round(first, 1), "warm_median_ms": round(statistics.median(times), 2)}


def _scans(plan: dict[str, Any]) -> Iterator[str]:
    node = plan["Node Type"]
    if "Scan" in node and "Relation Name" in plan:
        index = plan.get("Index Name")
        yield f"{node} on {plan['Relation Name']}" + (f" using {index}" if index else "")
    for child in plan.get("Plans", ()):
        yield from _scans(child)


def explain(con: PgConnection, query: str, params: list[Any]) -> dict[str, Any]:
    """The server's execution time (median of 3) and the tables and indexes its plan reads."""
    runs = []
    for _ in range(3):
        plan = con.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query, params).fetchall()[0][0][0]
        runs.append(float(plan["Execution Time"]))
    scans = list(_scans(plan["Plan"]))
    return {
        "execution_ms": round(statistics.median(runs), 3),
        "scans": scans,
        "reads_a_whole_table": any(s.startswith("Seq Scan") for s in scans),
    }


def _short(query: str) -> str:
    return " ".join(query.split())[:110]


def measure(url: str, order: int, warm: int) -> dict[str, Any]:
    number, shop_id = f"WC-{order}", str(order)
    out: dict[str, Any] = {}
    con = connect(url)
    assert isinstance(con, PgConnection)
    try:
        out["order_page_by_number"] = timed(lambda: order_details(con, number), warm)
        out["order_page_by_id"] = timed(lambda: order_details(con, shop_id), warm)
        now = dt.datetime.now(dt.UTC)
        out["clock_check"] = timed(lambda: chain.check_clock(con, b"bench", now, [1], "bench"), warm)
        statements: list[tuple[str, list[Any]]] = []
        with recording(con, statements):
            order_details(con, number)
            order_details(con, shop_id)
            chain.check_clock(con, b"bench", now, [1], "bench")
        document = con.execute("SELECT number FROM invoices WHERE order_id = ?", [order]).fetchall()[0][0]
        others = [(q.replace("$o", str(order)).replace("$d", document), []) for q in _OTHER_READS.values()]
        plans: dict[str, Any] = {}
        for query, params in [*dict.fromkeys((q, tuple(p)) for q, p in statements), *others]:
            plans[_short(query) + (f" {list(params)}" if params else "")] = explain(con, query, list(params))
        out["statements"] = plans
    finally:
        con.close()
    return out


def set_indexes(url: str, present: bool) -> float:
    """Create (or drop) migration 11's indexes, then ANALYZE; the seconds it took."""
    con: Connection = connect(url)
    started = time.perf_counter()
    for statement in INDEXES.statements:
        name = statement.split()[2]
        con.execute(translate_ddl(statement) if present else f"DROP INDEX IF EXISTS {name}")
    con.execute("ANALYZE")
    seconds = time.perf_counter() - started
    con.close()
    return seconds


def duckdb_page(duck: Path, order: int, warm: int) -> dict[str, Any]:
    con = connect(duck)
    try:
        return {
            "order_page_by_number": timed(lambda: order_details(con, f"WC-{order}"), warm),
            "order_page_by_id": timed(lambda: order_details(con, str(order)), warm),
            "clock_check": timed(
                lambda: chain.check_clock(con, b"bench", dt.datetime.now(dt.UTC), [1], "bench"), warm
            ),
        }
    finally:
        con.close()


def run(stored: int, rounds: int, warm: int) -> dict[str, Any]:
    binaries = find_binaries()
    if binaries is None:
        raise SystemExit("PostgreSQL's server binaries are not installed (scripts/system-deps.sh)")
    order = stored // 2 + 1  # an order of the history: invoiced, shipped, paid, pushed, printed
    cluster = Cluster(binaries).start()
    try:
        import psycopg

        with tempfile.TemporaryDirectory() as tmp:
            duck = Path(tmp) / "history.duckdb"
            build_s = build(duck, stored)
            with psycopg.connect(cluster.url(), autocommit=True) as admin:
                admin.execute("CREATE DATABASE till")
            url = cluster.url("till")
            started = time.perf_counter()
            copy_to_postgres(duck, url)
            copy_s = time.perf_counter() - started
            duck_rounds = [duckdb_page(duck, order, warm) for _ in range(rounds)]
            out_rounds: list[dict[str, Any]] = []
            # Alternating: without the indexes, with them, and so on (the copy created them).
            for i in range(rounds * 2):
                present = i % 2 == 1
                seconds = set_indexes(url, present)
                out_rounds.append(
                    {
                        "indexes": present,
                        "set_indexes_seconds": round(seconds, 1),
                        **measure(url, order, warm),
                    }
                )
    finally:
        cluster.stop()
    return {
        "benchmark": "order page and clock check on PostgreSQL, without / with migration 11's indexes",
        "stored_orders": stored,
        "order": order,
        "warm_calls": warm,
        "build_seconds": round(build_s, 1),
        "copy_seconds": round(copy_s, 1),
        "indexes": [s.split()[2] for s in INDEXES.statements],
        "postgres_rounds": out_rounds,
        "duckdb_rounds": duck_rounds,
        "versions": versions(),
    }


def _summary(result: dict[str, Any]) -> str:
    lines = [f"{result['stored_orders']:,} stored orders (build {result['build_seconds']} s, "
             f"db copy {result['copy_seconds']} s); ms: first / warm median"]  # fmt: skip
    for label, rounds in (("postgres", result["postgres_rounds"]), ("duckdb", result["duckdb_rounds"])):
        for r in rounds:
            state = ("with" if r["indexes"] else "without") + " indexes" if "indexes" in r else ""
            cells = "  ".join(
                f"{k}: {r[k]['first_ms']} / {r[k]['warm_median_ms']}"
                for k in ("order_page_by_number", "order_page_by_id", "clock_check")
            )
            lines.append(f"  {label:<8} {state:<17} {cells}")
    last = {r["indexes"]: r for r in result["postgres_rounds"]}
    for present in (False, True):
        lines.append(f"  statements {'with' if present else 'without'} indexes (server ms, plan):")
        for query, s in last[present]["statements"].items():
            lines.append(
                f"    {s['execution_ms']:9.3f}  {', '.join(s['scans']) or '-':<60} {query[:60]}{query[110:]}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_order_page", description=__doc__)
    parser.add_argument("--stored", type=int, default=1_000_000, help="orders in the store's history")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each: without, with the indexes")
    parser.add_argument("--warm", type=int, default=20, help="warm calls after the first")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.stored, args.rounds, args.warm)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() if args.json else _summary(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
