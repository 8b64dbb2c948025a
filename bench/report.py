"""The markdown table of a run (``bench/results/latest.md``), and its copy into the README."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import machine

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
STAGES = ("fetch", "parse", "dedup", "pack", "store")
LABELS = {
    "fastimport-native": "fastimport, native core",
    "fastimport-python": "fastimport, pure-Python core",
    "competent": "straightforward script (aiohttp, orjson, Arrow, DuckDB)",
    "naive": "naive script (requests, json, executemany)",
    "dlt-parquet": "dlt, parquet loader",
    "dlt-default": "dlt, default loader (insert_values)",
    "ceiling-fetch": "ceiling: fetch only (aiohttp, bytes discarded)",
    "ceiling-orjson": "ceiling: `orjson.loads` only, bytes in memory",
    "ceiling-duckdb": "ceiling: DuckDB insert of ready Arrow columns",
}


def rate(r: dict[str, Any] | None) -> float:
    if not r or "error" in r or not r.get("seconds"):
        return 0.0
    return float(r["orders"]) / float(r["seconds"])


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _ratio(a: float, b: float) -> str:
    if not a or not b:
        return "–"
    q = a / b
    return f"{q:,.0f}×" if q >= 100 else f"{q:,.1f}×" if q >= 10 else f"{q:.2f}×"


def _pct(a: float, b: float) -> str:
    return f"{100 * a / b:.0f} %" if a and b else "–"


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for each of the issue's targets that this run measured."""
    wl = results["workloads"]
    w1 = wl.get("W1", {}).get("results", {})
    out: list[tuple[str, str, bool | None]] = []
    native = rate(w1.get("fastimport-native"))
    orj = rate(w1.get("ceiling-orjson"))
    if native and orj:
        out.append(("W1 ≥ 70 % of `orjson.loads` only (aim ≥ 100 %)", _pct(native, orj), native >= 0.7 * orj))
    dlt = max(rate(w1.get("dlt-parquet")), rate(w1.get("dlt-default")))
    if native and dlt:
        out.append(("W1 ≥ 40× dlt (fastest configuration)", _ratio(native, dlt), native >= 40 * dlt))
    naive = rate(w1.get("naive"))
    if native and naive:
        out.append(("W1 ≥ 1,000× the naive script", _ratio(native, naive), native >= 1000 * naive))
    competent = rate(w1.get("competent"))
    if native and competent:
        out.append(("W1 ≥ 3× the straightforward script", _ratio(native, competent), native >= 3 * competent))
    nat = w1.get("fastimport-native")
    if nat and "error" not in nat:
        out.append(("W1 peak RSS ≤ 400 MB", f"{nat['peak_rss_mb']:,.0f} MB", nat["peak_rss_mb"] <= 400))
    w2 = wl.get("W2")
    if w2 and rate(w2["results"].get("fastimport-native")):
        r2 = rate(w2["results"]["fastimport-native"])
        bound = w2["bound_orders_per_s"]
        out.append(("W2 ≥ 95 % of the shop's concurrency bound", _pct(r2, bound), r2 >= 0.95 * bound))
    w3 = wl.get("W3", {}).get("results", {}).get("fastimport-native")
    if w3 and "error" not in w3 and native:
        written = w3["written"] + w3["rows_added"]["orders"] + w3["rows_added"]["lines"]
        out.append(("W3 writes 0 rows", f"{w3['written']} orders written", written == 0))
        out.append(("W3 ≥ 3× faster than W1", _ratio(rate(w3), native), rate(w3) >= 3 * native))
        fetch = rate(w1.get("ceiling-fetch"))
        if fetch:
            out.append(("W3 ≥ 50 % of fetch only", _pct(rate(w3), fetch), rate(w3) >= 0.5 * fetch))
    py = w1.get("fastimport-python")
    if nat and py and "error" not in nat and "error" not in py:
        q = parse_dedup_ratio(nat, py)
        out.append(("native ≥ 5× pure-Python on parse + dedup", f"{q:.1f}×", q >= 5))
    return out


def parse_dedup_ratio(native: dict[str, Any], python: dict[str, Any]) -> float:
    """How many times faster the native core parses and dedups an order than the pure-Python one."""

    def per_order(r: dict[str, Any]) -> float:
        return float(r["stages"]["parse"] + r["stages"]["dedup"]) / max(1, int(r["orders"]))

    native_s = per_order(native)
    return per_order(python) / native_s if native_s else 0.0


def _peer_row(key: str, r: dict[str, Any], native: float, orders_planned: int) -> str:
    label = LABELS.get(key, key)
    if "error" in r:
        return f"| {label} | – | failed: {str(r['error']).splitlines()[0][:80]} | – | – |"
    ratio = "1×" if key == "fastimport-native" else _ratio(native, rate(r))
    del orders_planned
    return f"| {label} | {_n(r['orders'])} | **{_n(rate(r))}** | {ratio} | {_n(r['peak_rss_mb'])} MB |"


def markdown(results: dict[str, Any]) -> str:
    wl = results["workloads"]
    v = results["versions"]
    lines: list[str] = []
    m = results["machine"]
    core = ""
    for w in wl.values():
        nat = w["results"].get("fastimport-native")
        if nat and "core_description" in nat:
            core = nat["core_description"]
            break
    lines.append(
        f"Measured {results['generated_at'][:10]} with `{results.get('command', 'python -m bench')}` "
        f"({results['mode']} run, {results.get('total_seconds', 0):.0f} s in all)."
    )
    lines.append("")
    lines.append(f"- **Machine:** {machine.describe(m)}; Python {v['python']}")
    lines.append(
        "- **Versions:** "
        + ", ".join(
            f"{k} {v.get(k) or '–'}"
            for k in ("aiohttp", "orjson", "duckdb", "polars", "pyarrow", "Cython", "dlt", "requests")
        )
    )
    lines.append(f"- **Core (fastimport native peer):** {core or 'not run'}")
    lines.append(
        "- The simulated shop (`python -m fastimport.sim`) runs in its own process over loopback; every peer "
        "runs in a fresh subprocess, so peak RSS is its own. WooCommerce pages of 100 orders."
    )
    w1 = wl.get("W1")
    if w1:
        res = w1["results"]
        native = rate(res.get("fastimport-native"))
        fetch = res.get("ceiling-fetch")
        size = (
            f", {fetch['bytes_per_order']:,} bytes per order" if fetch and "bytes_per_order" in fetch else ""
        )
        lines += ["", f"### W1: {w1['shop']['orders']:,} orders, no latency{size}", ""]
        lines.append("| peer | orders read | orders/s | fastimport native is | peak RSS |")
        lines.append("|---|---:|---:|---:|---:|")
        for key, r in res.items():
            if not key.startswith("ceiling"):
                lines.append(_peer_row(key, r, native, r.get("planned_orders", 0)))
        lines += [
            "",
            "| ceiling (same run, same pages) | orders | orders/s | fastimport native reaches | peak RSS |",
        ]
        lines.append("|---|---:|---:|---:|---:|")
        for key, r in res.items():
            if key.startswith("ceiling"):
                if "error" in r:
                    lines.append(f"| {LABELS.get(key, key)} | – | failed | – | – |")
                else:
                    lines.append(
                        f"| {LABELS.get(key, key)} | {_n(r['orders'])} | **{_n(rate(r))}** | "
                        f"{_pct(native, rate(r))} | {_n(r['peak_rss_mb'])} MB |"
                    )
        smaller = [
            f"{k} {_n(r['orders'])}"
            for k, r in res.items()
            if "error" not in r and r["orders"] < w1["shop"]["orders"] * 0.99 and k != "ceiling-duckdb"
        ]
        duck = res.get("ceiling-duckdb")
        if duck and duck.get("orders_noraw_per_s"):
            lines += [
                "",
                "The DuckDB ceiling keeps the raw JSON of each order as fastimport does (zstd chunks of a page "
                "each, appended to the payload log beside the file and fsync'd before each commit, their places "
                "in DuckDB)"
                + (
                    f"; with the chunks inline as BLOBs in DuckDB (the store before the log) the same inserts run "
                    f"at {_n(duck['orders_inline_per_s'])} orders/s"
                    if duck.get("orders_inline_per_s")
                    else ""
                )
                + f"; without raw payloads at {_n(duck['orders_noraw_per_s'])} orders/s.",
            ]
        if smaller:
            lines += [
                "",
                "Peers that read fewer orders (the first part of the same range, rated per order): "
                + "; ".join(smaller)
                + ".",
            ]
        lines += _stage_table(res)
    w2 = wl.get("W2")
    if w2:
        bound = w2["bound_orders_per_s"]
        s = w2["shop"]
        lines += [
            "",
            f"### W2: {s['orders']:,} orders, {s['latency_s'] * 1000:.0f} ms per page, the shop admits "
            f"{s['max_concurrency']} requests at once (503 beyond)",
            "",
            f"Bound: {s['max_concurrency']} pages × 100 orders / {s['latency_s']:g} s = **{_n(bound)} orders/s**.",
            "",
            "| peer | orders | orders/s | of the bound | retries | peak RSS |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for key, r in w2["results"].items():
            if "error" in r:
                lines.append(f"| {LABELS.get(key, key)} | – | failed | – | – | – |")
                continue
            lines.append(
                f"| {LABELS.get(key, key)} | {_n(r['orders'])} | **{_n(rate(r))}** | {_pct(rate(r), bound)} | "
                f"{r.get('retries', 0)} | {_n(r['peak_rss_mb'])} MB |"
            )
    w3 = wl.get("W3")
    if w3 and w1:
        r = w3["results"]["fastimport-native"]
        native = rate(w1["results"].get("fastimport-native"))
        lines += ["", "### W3: W1's range imported again (nothing changed)", ""]
        if "error" in r:
            lines.append(f"failed: {r['error']}")
        else:
            lines += [
                "| peer | orders read | unchanged | orders written | rows added | orders/s | vs W1 | peak RSS |",
                "|---|---:|---:|---:|---:|---:|---:|---:|",
                f"| {LABELS['fastimport-native']} | {_n(r['orders'])} | {_n(r['unchanged'])} | {r['written']} | "
                f"{r['rows_added']['orders'] + r['rows_added']['lines']} | **{_n(rate(r))}** | "
                f"{_ratio(rate(r), native)} faster | {_n(r['peak_rss_mb'])} MB |",
            ]
            lines += _stage_table({"fastimport-native": r}, title="W3 time per stage")
    t = targets(results)
    if t:
        lines += ["", "### Targets (issue #12)", "", "| target | measured | met |", "|---|---:|:---:|"]
        for name, measured, met in t:
            lines.append(f"| {name} | {measured} | {'yes' if met else 'no'} |")
    return "\n".join(lines) + "\n"


def _stage_table(res: dict[str, Any], title: str = "W1: where fastimport's time goes") -> list[str]:
    rows = [
        (k, r) for k, r in res.items() if k.startswith("fastimport") and "error" not in r and r.get("stages")
    ]
    if not rows:
        return []
    out = [
        "",
        f"{title} (seconds per stage from `ImportReport.stages`; parse and dedup run on one worker "
        "thread, pack (payload compression) on a second, store on a third, overlapping the fetch; fetch is "
        "the time the pipeline waited for the shop):",
        "",
        "| peer | wall s | " + " | ".join(f"{s} s" for s in STAGES) + " | parse+dedup orders/s |",
        "|---|---:|" + "---:|" * len(STAGES) + "---:|",
    ]
    for key, r in rows:
        st = r["stages"]
        pd = st.get("parse", 0) + st.get("dedup", 0)
        cells = " | ".join(f"{st.get(s, 0):.2f}" for s in STAGES)
        out.append(
            f"| {LABELS.get(key, key)} | {r['seconds']:.2f} | {cells} | {_n(r['orders'] / pd) if pd else '–'} |"
        )
    return out


def update_readme(readme: Path, table: str) -> bool:
    """Replace the text between the README's bench markers; False when there are no markers."""
    if not readme.exists():
        return False
    text = readme.read_text(encoding="utf-8")
    a, b = text.find(START), text.find(END)
    if a < 0 or b < a:
        return False
    new = text[: a + len(START)] + "\n" + table + text[b:]
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return True
