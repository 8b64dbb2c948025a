"""The store on PostgreSQL: W1 against DuckDB, 1 against 4 importer processes, invoicing with 3 tills.

``python -m bench.bench_postgres [--orders 50000] [--invoices 6000]`` starts one simulated
WooCommerce shop (no latency) and a throwaway PostgreSQL cluster (as the tests do:
``fastimport.store.pg_cluster``), then measures, each into a fresh database:

- W1: the same range imported into a DuckDB file and into PostgreSQL (orders/s, ratio; target
  of issue 13: PostgreSQL at 50 % or more of DuckDB), with the CPU seconds of the importing process
  and of the server's processes (steadier than the wall time on a shared machine; the importing
  process also serves the simulated shop);
- the same range imported by 1 process, then by 4 processes on a quarter each (orders/s, wall time,
  CPU seconds of the processes and of the server);
- invoicing: ``--invoices`` pending orders (bench_invoice's generator, copied in with
  ``db copy``) invoiced by 1 till, then by 3 tills at once (invoices/s over the wall time, CPU
  seconds of the till processes and of the server).

Writes bench/results/postgres.json.  Not part of ``bench --check``: it needs PostgreSQL's server.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import os
import resource
import sys
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


def server_cpu(cluster: Cluster) -> float:
    """CPU seconds the cluster's server processes have used: the postmaster, its live children and the
    ones it reaped (each connection's backend; where the import's index maintenance and COPY run)."""
    tick = os.sysconf("SC_CLK_TCK")
    postmaster = int((cluster.data / "postmaster.pid").read_text(encoding="utf-8").split()[0])
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="utf-8").rpartition(")")[2].split()
        except OSError:
            continue  # ended meanwhile: counted in its parent's reaped time
        pid = int(stat.parent.name)
        if pid == postmaster or int(fields[1]) == postmaster:  # fields[1]: the parent's pid
            total += int(fields[11]) + int(fields[12])  # utime, stime
            if pid == postmaster:
                total += int(fields[13]) + int(fields[14])  # cutime, cstime: the reaped children
    return total / tick


def _cpu(cluster: Cluster, since: dict[str, float] | None = None) -> dict[str, float]:
    """CPU seconds of this process and its ended children (the importer and till processes), and of the
    server's processes; with ``since``: what was used since then."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    now = {
        "client_cpu_s": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
        "server_cpu_s": server_cpu(cluster),
    }
    return {k: round(v - since[k], 2) for k, v in now.items()} if since else now


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


IMPORTER = """
import asyncio, datetime as dt, sys
from fastimport.config import load_config
from fastimport.importer import run_imports
from fastimport.ranges import ImportRange
from fastimport.store import connect
config = load_config(sys.argv[1])
start, end = (dt.datetime.fromisoformat(a) for a in sys.argv[2:4])
con = connect(config.target)
report = asyncio.run(run_imports(con, [(config.stores[0], ImportRange(start, end, "created", "range"))]))[0]
assert report.ok, report.error
print(report.new)
"""
TILL = """
import sys
from fastimport.config import load_config
from fastimport.processing import invoicing
from fastimport.processing.settings import load_settings
from fastimport.store import connect
config = load_config(sys.argv[1])
con = connect(config.target)
print(len(invoicing.invoice_orders(con, load_settings(config), invoicing.pending_keys(con, config)).issued))
"""


def _toml(path: Path, store: dict[str, Any], extra: str = "") -> Path:
    lines = ["[database]", 'url_env = "FASTIMPORT_BENCH_PG_URL"', "", "[[stores]]"]
    lines += [f"{k} = {v}" if isinstance(v, int) else f'{k} = "{v}"' for k, v in store.items()]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


async def _processes(script: str, argv: list[list[str]], url: str) -> tuple[float, list[int]]:
    env = dict(os.environ, FASTIMPORT_BENCH_PG_URL=url)
    began = time.perf_counter()
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, *a, env=env, stdout=asyncio.subprocess.PIPE
        )
        for a in argv
    ]
    outs = [await p.communicate() for p in procs]
    seconds = time.perf_counter() - began
    assert all(p.returncode == 0 for p in procs), "a process failed"
    return seconds, [int(o[0].split()[-1]) for o in outs]


async def importers(cluster: Cluster, url: str, orders: int, tmp: Path) -> dict[str, Any]:
    """The whole range by one process, then by 4 processes on a quarter each."""
    import psycopg

    store = {"name": "w1", "platform": "woocommerce", "url": url, "timezone": "Europe/Paris", "key_env": "FI_BK",
             "secret_env": "FI_BS", "concurrency": 8}  # fmt: skip
    config = _toml(tmp / "importers.toml", store)
    cuts = [START + (END - START) * i / 4 for i in range(5)]
    out: dict[str, Any] = {}
    for label, ranges in (
        ("1_process", [(START, END)]),
        ("4_processes", list(itertools.pairwise(cuts))),
    ):
        with psycopg.connect(cluster.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE imp_{len(ranges)}")
        argv = [[str(config), a.isoformat(), b.isoformat()] for a, b in ranges]
        cpu = _cpu(cluster)
        seconds, new = await _processes(IMPORTER, argv, cluster.url(f"imp_{len(ranges)}"))
        assert sum(new) == orders, new
        await asyncio.sleep(0.5)  # the processes' backends exit and are reaped
        out[label] = {
            "seconds": round(seconds, 2),
            "orders_per_s": round(orders / seconds),
            **_cpu(cluster, cpu),
        }
    return out


async def tills(cluster: Cluster, invoices: int, tmp: Path) -> dict[str, Any]:
    """``invoices`` pending orders invoiced by 1 till, then by 3 tills at once."""
    import psycopg

    from bench.bench_invoice import setup
    from fastimport.store.copy import copy_to_postgres

    os.environ.setdefault("FASTIMPORT_BENCH_KEY", "bench-signing-key")
    duck = tmp / "pending.duckdb"
    setup(duck, invoices)
    store = {"name": "eshop", "platform": "woocommerce", "url": "http://x", "timezone": "Europe/Paris",
             "key_env": "K", "secret_env": "S"}  # fmt: skip
    extra = (
        '\n[seller]\nname = "Boutique"\nlegal_form = "SARL"\naddress = "Lyon"\nsiren = "123456789"\n'
        'siret = "12345678900012"\nvat_number = "FR12123456789"\n\n[invoicing]\n'
        'secret_env = "FASTIMPORT_BENCH_KEY"\nchunk = 200\n'
    )
    config = _toml(tmp / "tills.toml", store, extra)
    out: dict[str, Any] = {}
    for label, count in (("1_till", 1), ("3_tills", 3)):
        with psycopg.connect(cluster.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE tills_{count}")
        copy_to_postgres(duck, cluster.url(f"tills_{count}"))
        cpu = _cpu(cluster)
        seconds, issued = await _processes(TILL, [[str(config)]] * count, cluster.url(f"tills_{count}"))
        assert sum(issued) == invoices, issued  # each order invoiced once, whichever till took it
        await asyncio.sleep(0.5)  # the tills' backends exit and are reaped
        out[label] = {
            "seconds": round(seconds, 2),
            "invoices_per_s": round(invoices / seconds),
            "per_till": issued,
            **_cpu(cluster, cpu),
        }
    return out


async def run(orders: int, invoices: int = 6000) -> dict[str, Any]:
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
            cpu = _cpu(cluster)
            pg_s, pg_n = await _import(cluster.url("w1"), url)
            await asyncio.sleep(0.5)  # the import's backend exits and is reaped
            pg_cpu = _cpu(cluster, cpu)
            several = await importers(cluster, url, orders, Path(tmp))
            till_rates = await tills(cluster, invoices, Path(tmp))
    finally:
        cluster.stop()
        await shop.stop()
    assert duck_n == pg_n == orders, (duck_n, pg_n)
    duck_rate, pg_rate = orders / duck_s, orders / pg_s
    return {
        "workload": f"W1 shape: {orders} orders, no latency, one store",
        "duckdb": {"seconds": round(duck_s, 2), "orders_per_s": round(duck_rate)},
        "postgres": {"seconds": round(pg_s, 2), "orders_per_s": round(pg_rate), **pg_cpu},
        "ratio": round(pg_rate / duck_rate, 3),
        "target_ratio": 0.5,
        "postgres_importers": several,
        "postgres_invoicing": {"invoices": invoices, **till_rates},
        "versions": versions(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_postgres", description=__doc__)
    parser.add_argument("--orders", type=int, default=50_000, help="orders in the simulated shop")
    parser.add_argument("--invoices", type=int, default=6000, help="pending orders the tills invoice")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.orders, args.invoices))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
