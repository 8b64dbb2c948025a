"""``python -m bench [--quick] [--only PEER,...] [--orders N]`` and ``python -m bench --check``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import machine, report, workloads
from bench.job import Job
from bench.runner import run_peer
from bench.shop import ShopProcess, Window
from fastimport.importer import DEFAULT_BATCH_ORDERS

RESULTS = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parent.parent / "README.md"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="small N everywhere (about a minute)")
    p.add_argument("--check", action="store_true", help="CI regression check (ratios only, ~1 minute)")
    p.add_argument("--only", default="", help="comma-separated peers, e.g. fastimport-native,ceiling-fetch")
    p.add_argument(
        "--orders", type=int, default=0, help="orders in W1's shop (default 1,000,000; quick 20,000)"
    )
    p.add_argument("--concurrency", type=int, default=16, help="requests in flight in W1 (default 16)")
    p.add_argument(
        "--batch-orders",
        type=int,
        default=DEFAULT_BATCH_ORDERS,
        help=f"orders per DuckDB batch (default {DEFAULT_BATCH_ORDERS:,}, fastimport's own)",
    )
    p.add_argument("--no-readme", action="store_true", help="do not rewrite the README's benchmark table")
    p.add_argument(
        "--report-only", action="store_true", help="re-render latest.md (and README) from latest.json"
    )
    p.add_argument("--keep", action="store_true", help="keep the work directory (DuckDB files) for a look")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.check:
        from bench.check import run_check

        return run_check()
    if args.report_only:
        table = report.markdown(json.loads((RESULTS / "latest.json").read_text(encoding="utf-8")))
        (RESULTS / "latest.md").write_text(table, encoding="utf-8")
        if not args.no_readme:
            report.update_readme(README, table)
        print(table)
        return 0
    plan = (workloads.quick if args.quick else workloads.full)(args.concurrency, args.batch_orders)
    if args.orders:
        plan = workloads.with_orders(plan, args.orders)
    if args.only:
        plan = workloads.only(plan, {k.strip() for k in args.only.split(",") if k.strip()})
    workdir = Path(tempfile.mkdtemp(prefix="fastimport-bench-"))
    started = time.perf_counter()
    try:
        results = run_plan(plan, workdir, quick=args.quick)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"work directory kept: {workdir}")
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    results["command"] = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    table = report.markdown(results)
    (RESULTS / "latest.md").write_text(table, encoding="utf-8")
    print()
    print(table)
    if not args.no_readme and report.update_readme(README, table):
        print(f"README table updated ({README.name})")
    failed = [
        f"{w}:{k}" for w, wl in results["workloads"].items() for k, r in wl["results"].items() if "error" in r
    ]
    if failed:
        print(f"peers that failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _job(
    peer: workloads.PeerPlan, shop: ShopProcess, window: Window, workdir: Path, batch: int, tag: str
) -> Job:
    fraction = peer.orders / window.total if peer.orders else 1.0
    start, end = window.range_for(fraction)
    if peer.peer == "ceiling-duckdb":  # about one batch of real orders, inserted again and again
        start, end = window.range_for(min(1.0, batch / window.total))
    return Job(
        peer=peer.peer,
        url=shop.url,
        start=start.isoformat(),
        end=end.isoformat(),
        workdir=str(workdir / f"{tag}-{peer.key}"),
        db=str(workdir / f"{tag}-{peer.key}.duckdb"),
        concurrency=peer.concurrency,
        per_page=workloads.PER_PAGE,
        batch_orders=batch,
        target_orders=peer.orders,
        options=dict(peer.options),
    )


def _shop_info(shop: ShopProcess, window: Window | None) -> dict[str, Any]:
    spec = shop.spec
    info: dict[str, Any] = {
        "orders": spec.orders,
        "latency_s": spec.latency,
        "max_concurrency": spec.max_concurrency,
        "ready_seconds": round(shop.ready_seconds, 1),
    }
    if window is not None:
        info["first_order"] = window.first.isoformat()
        info["last_order"] = window.last.isoformat()
        info["listed"] = window.total
    return info


def run_plan(plan: workloads.Plan, workdir: Path, quick: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "machine": machine.machine(),
        "versions": machine.versions(),
        "batch_orders": plan.batch_orders,
        "workloads": {},
    }
    print(f"machine: {machine.describe(out['machine'])}")
    w1_shop = ShopProcess(plan.w1)
    if plan.w1_peers:
        # W1's shop renders its orders (minutes for a million) while W2, which waits on latency, runs.
        print(f"W1 shop: {plan.w1.orders:,} orders, rendering in its own process...")
        w1_shop.launch()
    try:
        if plan.w2_peers:
            out["workloads"]["W2"] = _run_w2(plan, workdir)
        if plan.w1_peers:
            w1_shop.wait_ready()
            window = w1_shop.window()
            print(
                f"W1 shop ready after {w1_shop.ready_seconds:.0f} s: {window.total:,} orders at {w1_shop.url}"
            )
            w1: dict[str, Any] = {"shop": _shop_info(w1_shop, window), "results": {}}
            out["workloads"]["W1"] = w1
            for peer in plan.w1_peers:
                job = _job(peer, w1_shop, window, workdir, plan.batch_orders, "w1")
                w1["results"][peer.key] = _tag(run_peer(job, label=peer.key), peer)
            native = w1["results"].get("fastimport-native")
            if plan.w3 and native and "error" not in native:
                print("W3: W1's range again into W1's database")
                peer = next(p for p in plan.w1_peers if p.key == "fastimport-native")
                job = _job(peer, w1_shop, window, workdir, plan.batch_orders, "w1")
                w3 = {"shop": _shop_info(w1_shop, window), "results": {}}
                w3["results"]["fastimport-native"] = _tag(run_peer(job, label=peer.key), peer)
                out["workloads"]["W3"] = w3
    finally:
        w1_shop.stop()
    return out


def _run_w2(plan: workloads.Plan, workdir: Path) -> dict[str, Any]:
    spec = plan.w2
    print(
        f"W2 shop: {spec.orders:,} orders, {spec.latency * 1000:.0f} ms per page, {spec.max_concurrency} at once"
    )
    with ShopProcess(spec) as shop:
        window = shop.window()
        w2: dict[str, Any] = {
            "shop": _shop_info(shop, window),
            "bound_orders_per_s": plan.w2_bound,
            "results": {},
        }
        for peer in plan.w2_peers:
            job = _job(peer, shop, window, workdir, plan.batch_orders, "w2")
            w2["results"][peer.key] = _tag(run_peer(job, label=peer.key), peer)
    return w2


def _tag(result: dict[str, Any], peer: workloads.PeerPlan) -> dict[str, Any]:
    result["key"] = peer.key
    result["planned_orders"] = peer.orders
    return result
