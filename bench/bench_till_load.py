"""The till page under load: 50 clients on the pending page and its API while an import and invoices run.

    python -m bench.bench_till_load [--orders 200000] [--clients 50] [--invoices 300] [--json] [--no-readme]

The simulated shop (``--orders`` orders over a week) and ``fastimport serve`` each run in their own
process, over loopback, with a DuckDB file on disk.  First the shop's first day is imported through the
page's API (``POST /api/import``), giving pending orders to invoice.  Then, at once: the import of the
whole week (every one of ``--orders`` orders read) through the same API; a batch of ``--invoices``
invoices, one ``POST /api/orders/<store>/<id>/invoice`` after the other (no printer: tickets queued);
and ``--clients`` clients each asking, in a loop, ``GET /`` (the pending page's HTML) then
``GET /api/pending``, until the import and the invoices are done.  Reported: requests, errors (any
answer but 200, or a failed request), requests per second, and the p50/p99/max latency per kind;
written to bench/results/till-load.json and to the README's table (between its ``till-load`` markers).
Kept out of ``python -m bench --check`` (it takes minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.machine import describe, machine, versions
from bench.shop import KEY, SECRET, ShopProcess, ShopSpec

RESULTS = Path(__file__).parent / "results" / "till-load.json"
README = Path(__file__).resolve().parent.parent / "README.md"
SIGNING_KEY = "bench-signing-key-0123456789abcdef"
CONFIG = """[database]
path = "{db}"

[[stores]]
name = "eshop"
platform = "woocommerce"
url = "{url}"
timezone = "UTC"
key_env = "FASTIMPORT_BENCH_KEY"
secret_env = "FASTIMPORT_BENCH_SECRET"
per_page = 100
concurrency = 8

[seller]
name = "Boutique Exemple"
legal_form = "SARL"
siret = "12345678900012"
address = "3 place Bellecour, 69002 Lyon"
siren = "123456789"
vat_number = "FR12123456789"

[invoicing]
secret_env = "FASTIMPORT_BENCH_INVOICE_KEY"
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Load:
    """What the clients saw: latency (ms) per kind, and every error."""

    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = {"page": [], "api": []}
        self.errors: list[str] = []

    async def ask(self, http: aiohttp.ClientSession, kind: str, url: str) -> None:
        start = time.perf_counter()
        try:
            async with http.get(url) as answer:
                await answer.read()
                if answer.status != 200:
                    self.errors.append(f"{kind} {answer.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.errors.append(f"{kind} {type(exc).__name__}")
        self.ms[kind].append((time.perf_counter() - start) * 1000)


async def _import(http: aiohttp.ClientSession, base: str, since: str, until: str) -> dict[str, Any]:
    async with http.post(base + "/api/import", json={"since": since, "until": until}) as answer:
        body = await answer.json()
        if answer.status != 202:
            raise RuntimeError(f"the import did not start: {answer.status} {body}")
    while True:
        async with http.get(f"{base}/api/import/{body['run']}") as answer:
            state: dict[str, Any] = await answer.json()
        if state["state"] != "running":
            if not state["ok"]:
                raise RuntimeError(f"the import failed: {state['error']}")
            return state
        await asyncio.sleep(0.5)


async def _invoices(http: aiohttp.ClientSession, base: str, count: int) -> tuple[int, list[str]]:
    async with http.get(f"{base}/api/pending?limit=500") as answer:
        rows = [r for r in await answer.json() if "unpaid" not in r["warnings"]]  # the till refuses those
    done, refused = 0, []
    for row in rows[:count]:
        async with http.post(f"{base}/api/orders/eshop/{row['id']}/invoice", json={"print": False}) as answer:
            body = await answer.json()
            if answer.status == 200:
                done += 1
            else:
                refused.append(str(body.get("error")))
    return done, refused


async def measure(
    base: str, since: str, until: str, first_day: str, args: argparse.Namespace
) -> dict[str, Any]:
    timeout = aiohttp.ClientTimeout(total=600)
    connector = aiohttp.TCPConnector(limit=args.clients + 4)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        started = time.perf_counter()
        preload = await _import(http, base, since, first_day)
        preload_s = time.perf_counter() - started
        load = Load()
        busy = True

        async def client() -> None:
            while busy:
                await load.ask(http, "page", base + "/")
                await load.ask(http, "api", base + "/api/pending")

        async def timed(work: Any) -> tuple[Any, float]:
            return await work, time.perf_counter() - started

        clients = [asyncio.create_task(client()) for _ in range(args.clients)]
        started = time.perf_counter()
        importing = asyncio.create_task(timed(_import(http, base, since, until)))
        invoicing = asyncio.create_task(timed(_invoices(http, base, args.invoices)))
        (invoiced, refused), invoices_s = await invoicing
        state, import_s = await importing
        busy = False
        await asyncio.gather(*clients)
        wall = time.perf_counter() - started
    every = load.ms["page"] + load.ms["api"]
    kinds = {"all": every, **load.ms}
    return {
        "preload_orders": preload["orders_read"], "preload_seconds": round(preload_s, 1),
        "orders_read": state["orders_read"], "new": state["new"], "unchanged": state["unchanged"],
        "import_seconds": round(import_s, 1), "invoices": invoiced, "invoices_refused": sorted(set(refused)),
        "invoices_seconds": round(invoices_s, 1), "seconds": round(wall, 1), "requests": len(every),
        "errors": len(load.errors), "error_kinds": sorted(set(load.errors)),
        "requests_per_s": round(len(every) / wall, 1),
        "latency_ms": {
            k: {"p50": round(statistics.median(v), 1) if v else 0.0, "p99": round(_percentile(v, 0.99), 1),
                "max": round(max(v, default=0.0), 1), "count": len(v)}
            for k, v in kinds.items()
        },
    }  # fmt: skip


def readme_table(r: dict[str, Any]) -> str:
    lat = r["latency_ms"]
    rows = "\n".join(
        f"| {name} | {lat[k]['count']:,} | {lat[k]['p50']:,.0f} | {lat[k]['p99']:,.0f} | {lat[k]['max']:,.0f} |"
        for k, name in (("page", "`GET /` (pending page, HTML)"), ("api", "`GET /api/pending` (JSON)"), ("all", "both"))
    )  # fmt: skip
    return (
        f"Measured {r['date']} with `python -m bench.bench_till_load --orders {r['orders']} --clients "
        f"{r['clients']} --invoices {r['invoices_asked']}` on {r['machine']} (load average "
        f"{r['loadavg_before']} before the run: the machine is shared).\n\n"
        f"During {r['seconds']} s: the import of {r['orders_read']:,} orders ({r['new']:,} new) took "
        f"{r['import_seconds']} s, {r['invoices']} invoices {r['invoices_seconds']} s; the {r['clients']} clients "
        f"made **{r['requests']:,} requests ({r['requests_per_s']}/s), {r['errors']} errors**.\n\n"
        "| request | answered | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|\n" + rows + "\n"
    )


def update_readme(text: str) -> bool:
    readme = README.read_text(encoding="utf-8")
    pattern = re.compile(r"(<!-- till-load:start -->\n).*?(<!-- till-load:end -->)", re.S)
    if not pattern.search(readme):
        return False
    README.write_text(pattern.sub(lambda m: m.group(1) + text + m.group(2), readme), encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_till_load", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--orders", type=int, default=200_000, help="orders in the shop, all read by the import"
    )
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients on the page and the API")
    parser.add_argument("--invoices", type=int, default=300, help="invoices made during the import")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite the README's table")
    args = parser.parse_args(argv)
    loadavg = round(os.getloadavg()[0], 1)
    env = {**os.environ, "FASTIMPORT_BENCH_KEY": KEY, "FASTIMPORT_BENCH_SECRET": SECRET,
           "FASTIMPORT_BENCH_INVOICE_KEY": SIGNING_KEY}  # fmt: skip
    with (
        tempfile.TemporaryDirectory(prefix="fastimport-till-load-") as tmp,
        ShopProcess(ShopSpec(orders=args.orders)) as shop,
    ):
        window = shop.window()
        config = Path(tmp) / "fastimport.toml"
        config.write_text(CONFIG.format(db=Path(tmp) / "till.duckdb", url=shop.url), encoding="utf-8")
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "fastimport", "--config", str(config), "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(base, server)
            since = window.first.date().isoformat()
            until = window.last.date().isoformat()
            preload = (window.first.date() + dt.timedelta(days=1)).isoformat()  # the shop's first two days
            result = asyncio.run(measure(base, since, until, preload, args))
        finally:
            server.terminate()
            _, err = server.communicate(timeout=60)
    result = {
        "date": dt.date.today().isoformat(), "orders": args.orders, "clients": args.clients,
        "invoices_asked": args.invoices, **result, "loadavg_before": loadavg, "server_stderr": err[-2000:],
        "machine": describe(machine()), "versions": versions(),
    }  # fmt: skip
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    table = readme_table(result)
    if not args.no_readme and update_readme(table):
        print(f"README table updated ({README.name})")
    print(json.dumps(result) if args.json else table)
    return 0 if result["errors"] == 0 and not result["invoices_refused"] else 1


def _wait(base: str, server: subprocess.Popen[str]) -> None:
    import urllib.error
    import urllib.request

    for _ in range(600):
        if server.poll() is not None:
            raise RuntimeError(
                f"fastimport serve did not start: {server.stderr.read() if server.stderr else ''}"
            )
        try:
            with urllib.request.urlopen(base + "/api/pending?limit=1", timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError("fastimport serve did not answer within a minute")


if __name__ == "__main__":
    sys.exit(main())
