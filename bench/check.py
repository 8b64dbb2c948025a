"""``python -m bench --check``: CI's benchmark-regression check, ratios measured in one run.

A small shop (20,000 orders, no latency): the fetch-only ceiling, fastimport with the native core and
with the pure-Python core (fewer orders).  Then a shop of ``MEMORY_ORDERS`` orders: fastimport (native)
and the straightforward peer, in alternating rounds.
Fails (exit 1) only on a gross regression, since CI machines are noisy:

- the native core is not the one loaded;
- native/pure-Python on parse + dedup (per order) below ``MIN_CORE_RATIO`` (target is ≥ 5);
- native end to end below ``MIN_FETCH_SHARE`` of the fetch-only ceiling;
- native end to end below ``MIN_PEER_RATIO`` × the straightforward peer (aiohttp, orjson, Arrow,
  DuckDB: ``bench/peers/competent.py``) on the ``MEMORY_ORDERS`` shop, each peer's rate pooled over
  ``PEER_ROUNDS`` alternating rounds (its orders over its seconds, all rounds);
- the native import's peak RSS above ``MAX_RSS_MB``, on the check's orders and on a
  ``MEMORY_ORDERS``-order import (a second shop, after the ratios are measured).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import machine, report
from bench.job import Job
from bench.runner import run_peer
from bench.shop import ShopProcess, ShopSpec
from fastimport.importer import DEFAULT_BATCH_ORDERS

ORDERS = 20_000
PYTHON_ORDERS = 5_000
CONCURRENCY = 16
BATCH_ORDERS = DEFAULT_BATCH_ORDERS
# Overridable from the environment (BENCH_CHECK_MIN_CORE_RATIO, BENCH_CHECK_MIN_FETCH_SHARE) for a slow CI box.
MIN_CORE_RATIO = float(os.environ.get("BENCH_CHECK_MIN_CORE_RATIO", "2.0"))
# Native end to end runs at 8-15 % of the fetch-only ceiling on 20,000 orders here (fixed start-up costs
# weigh on so small a run); below 3 % something is grossly wrong.
MIN_FETCH_SHARE = float(os.environ.get("BENCH_CHECK_MIN_FETCH_SHARE", "0.03"))
# Issue #12's gate: fastimport at least 2× the straightforward peer, measured in the same run.  It was
# 1.7× while both read refund lines one request per order (issue #14); fastimport now asks them by
# refund id, 100 a request.  Measured on 20,000 orders until 2026-12-07 (2.5× and 2.2× in CI, 2.8× here),
# where start-up and the last batch are a quarter of fastimport's 1.5-2 s and one slow moment decided it
# (1.6× to 2.4× for the same code on a busy machine, 2026-12-07); on the 200,000-order shop, as W1 reads
# a large range, in alternating rounds (2.6× on the same busy machine, one round).
MIN_PEER_RATIO = float(os.environ.get("BENCH_CHECK_MIN_PEER_RATIO", "2.0"))
PEER_ROUNDS = 2  # native, peer, then peer, native: a slow moment is shared, not decisive
# Peak RSS of the native import, of ORDERS orders and of MEMORY_ORDERS orders (issue #12: a 200,000-order
# import stays under 400 MB; 354-373 MB measured here on 2026-12-07).
MAX_RSS_MB = float(os.environ.get("BENCH_CHECK_MAX_RSS_MB", "400"))
MEMORY_ORDERS = 200_000
MEMORY_PEER = f"fastimport-native-{MEMORY_ORDERS // 1000}k"
PEER_KEY = f"competent-{MEMORY_ORDERS // 1000}k"
RESULT = Path(__file__).resolve().parent / "results" / "check.json"


def _job(peer: str, shop: ShopProcess, start: dt.datetime, end: dt.datetime, workdir: Path, **kw: Any) -> Job:
    key = kw.pop("key", peer)
    return Job(
        peer=peer,
        url=shop.url,
        start=start.isoformat(),
        end=end.isoformat(),
        workdir=str(workdir / key),
        db=str(workdir / f"{key}.duckdb"),
        concurrency=CONCURRENCY,
        batch_orders=BATCH_ORDERS,
        **kw,
    )


def run_check() -> int:
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="fastimport-bench-check-"))
    results: dict[str, dict[str, Any]] = {}
    try:
        with ShopProcess(ShopSpec(orders=ORDERS)) as shop:
            window = shop.window()
            full = window.range_for(1.0)
            part = window.range_for(PYTHON_ORDERS / window.total)
            print(f"bench --check: {window.total:,} orders at {shop.url}")
            results["ceiling-fetch"] = run_peer(
                _job("ceiling-fetch", shop, *full, workdir), label="ceiling-fetch"
            )
            results["fastimport-native"] = run_peer(
                _job("fastimport", shop, *full, workdir, key="native", options={"core": "native"}),
                label="fastimport-native",
            )
            results["fastimport-python"] = run_peer(
                _job("fastimport", shop, *part, workdir, key="python", options={"core": "python"}),
                label="fastimport-python",
            )
        # The memory gate's import and the peer ratio's rounds, on a shop of their own.
        with ShopProcess(ShopSpec(orders=MEMORY_ORDERS)) as big:
            print(f"bench --check: {MEMORY_ORDERS:,} orders at {big.url} (peak memory, the peer ratio)")
            whole = big.window().range_for(1.0)
            pair = [("fastimport", MEMORY_PEER, {"core": "native"}), ("competent", PEER_KEY, {})]
            for n in range(1, PEER_ROUNDS + 1):
                for peer, key, options in pair if n % 2 else reversed(pair):
                    name = key if n == 1 else f"{key}#{n}"
                    job = _job(peer, big, *whole, workdir, key=f"{key}-{n}", options=options)
                    results[name] = run_peer(job, label=name)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    failures = verdicts(results)
    native, python, fetch = (results[k] for k in ("fastimport-native", "fastimport-python", "ceiling-fetch"))
    ok_all = not any("error" in r for r in results.values())
    core_ratio = report.parse_dedup_ratio(native, python) if ok_all else 0.0
    share = report.rate(native) / report.rate(fetch) if ok_all and report.rate(fetch) else 0.0
    out = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine.machine(),
        "versions": machine.versions(),
        "thresholds": {
            "min_core_ratio": MIN_CORE_RATIO,
            "min_fetch_share": MIN_FETCH_SHARE,
            "min_peer_ratio": MIN_PEER_RATIO,
            "max_rss_mb": MAX_RSS_MB,
        },
        "core_ratio_parse_dedup": round(core_ratio, 2),
        "native_share_of_fetch": round(share, 3),
        "peer_ratio": round(peer_ratio(results), 2) if ok_all else 0.0,
        "peer_rounds": PEER_ROUNDS,
        "results": results,
        "failures": failures,
        "seconds": round(time.perf_counter() - started, 1),
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print()
    print("| peer | orders | orders/s | parse+dedup orders/s | peak RSS |")
    print("|---|---:|---:|---:|---:|")
    for key, r in results.items():
        if "error" in r:
            print(f"| {key} | – | failed | – | – |")
            continue
        st = r.get("stages") or {}
        pd = st.get("parse", 0) + st.get("dedup", 0)
        pd_rate = f"{r['orders'] / pd:,.0f}" if pd else "–"
        print(f"| {key} | {r['orders']:,} | {report.rate(r):,.0f} | {pd_rate} | {r['peak_rss_mb']:,.0f} MB |")
    print(
        f"\nnative/python parse+dedup: {core_ratio:.1f}× (fails below {MIN_CORE_RATIO:g}×, target ≥ 5×); "
        f"native end to end: {100 * share:.0f} % of fetch-only (fails below {100 * MIN_FETCH_SHARE:.0f} %)"
    )
    if ok_all:
        print(
            f"native vs the straightforward peer at {MEMORY_ORDERS:,} orders: {peer_ratio(results):.1f}× over "
            f"{rounds(results, PEER_KEY)} rounds (fails below {MIN_PEER_RATIO:g}×); native peak RSS "
            f"{native['peak_rss_mb']:,.0f} MB, {_peak(results, MEMORY_PEER):,.0f} MB at {MEMORY_ORDERS:,} orders "
            f"(fails above {MAX_RSS_MB:,.0f} MB)"
        )
    print(f"written {RESULT.relative_to(RESULT.parent.parent.parent)} in {out['seconds']:.0f} s", flush=True)
    if failures:
        for failure in failures:
            print(f"bench --check FAILED: {failure}", file=sys.stderr)
        return 1
    print("bench --check: ok")
    return 0


def verdicts(results: dict[str, dict[str, Any]]) -> list[str]:
    """Plain-words failures; empty when nothing regressed grossly."""
    failures = [
        f"{key} did not run: {str(r['error']).splitlines()[0]}" for key, r in results.items() if "error" in r
    ]
    if failures:
        return failures
    native, python, fetch = (results[k] for k in ("fastimport-native", "fastimport-python", "ceiling-fetch"))
    if native.get("core") != "native" or not str(native.get("core_module", "")).endswith("._core"):
        failures.append(
            f"the native peer ran core {native.get('core')!r} ({native.get('core_module')}), "
            "not the compiled fastimport._core"
        )
    ratio = report.parse_dedup_ratio(native, python)
    if ratio < MIN_CORE_RATIO:
        failures.append(
            f"native/pure-Python parse+dedup ratio regressed to {ratio:.2f}× (minimum {MIN_CORE_RATIO:g}×, "
            f"target ≥ 5×): {100 * (1 - ratio / MIN_CORE_RATIO):.0f} % below the minimum"
        )
    share = report.rate(native) / report.rate(fetch) if report.rate(fetch) else 0.0
    if share < MIN_FETCH_SHARE:
        failures.append(
            f"native end to end fell to {100 * share:.1f} % of the fetch-only ceiling "
            f"({report.rate(native):,.0f} vs {report.rate(fetch):,.0f} orders/s; minimum "
            f"{100 * MIN_FETCH_SHARE:.0f} %): {100 * (1 - share / MIN_FETCH_SHARE):.0f} % below the minimum"
        )
    if PEER_KEY in results:
        ratio = peer_ratio(results)
        if ratio < MIN_PEER_RATIO:
            failures.append(
                f"native end to end fell to {ratio:.2f}× the straightforward peer "
                f"({pooled_rate(results, MEMORY_PEER):,.0f} vs {pooled_rate(results, PEER_KEY):,.0f} orders/s "
                f"over {rounds(results, PEER_KEY)} rounds of {MEMORY_ORDERS:,} orders; minimum {MIN_PEER_RATIO:g}×)"
            )
    for run in (native, *_runs(results, MEMORY_PEER)):
        if run is not None and float(run.get("peak_rss_mb", 0)) > MAX_RSS_MB:
            failures.append(
                f"the native import of {run['orders']:,} orders peaked at {run['peak_rss_mb']:,.0f} MB of "
                f"memory (maximum {MAX_RSS_MB:,.0f} MB)"
            )
    return failures


def _runs(results: dict[str, dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """The rounds of ``key``: ``key``, then ``key#2``, ``key#3``…"""
    return [r for k, r in results.items() if k == key or k.startswith(f"{key}#")]


def rounds(results: dict[str, dict[str, Any]], key: str) -> int:
    return len(_runs(results, key))


def _peak(results: dict[str, dict[str, Any]], key: str) -> float:
    return max((float(r.get("peak_rss_mb", 0)) for r in _runs(results, key)), default=0.0)


def pooled_rate(results: dict[str, dict[str, Any]], key: str) -> float:
    """Orders/s of ``key`` over all its rounds: its orders over its seconds, summed (0 without time)."""
    runs = _runs(results, key)
    seconds = sum(float(r.get("seconds") or 0) for r in runs)
    return sum(float(r["orders"]) for r in runs) / seconds if runs and seconds else 0.0


def peer_ratio(results: dict[str, dict[str, Any]]) -> float:
    """Native end to end over the straightforward peer on the large shop, each pooled over its rounds."""
    peer = pooled_rate(results, PEER_KEY)
    return pooled_rate(results, MEMORY_PEER) / peer if peer else 0.0
