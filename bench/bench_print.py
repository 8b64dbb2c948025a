"""Rendering speed of print tickets: layout + text preview vs ESC/POS bytes vs PNG.

    python -m bench.bench_print [--seconds 1.0] [--json]

Each renderer is measured on the same documents (the §5.3 mock-ups: invoice,
credit note, preparation slip, delivery note) for 48, 42 and 32 columns,
including the layout step.  Results go to bench/results/print.json with
the versions of everything involved.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from fastimport.print.config import paper_for
from fastimport.print.layout import layout
from fastimport.print.render import render_escpos, render_png, render_text
from fastimport.print.samples import sample_credit_note, sample_delivery_note, sample_invoice, sample_slip

PROFILES = {"TM-T20II": 48, "TM-T88V": 42, "Sunmi-V2": 32}
RESULTS = Path(__file__).parent / "results" / "print.json"


def measure(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``fn`` over about ``seconds`` (after a warm-up), best of 3 rounds."""
    for _ in range(3):
        fn()
    best = 0.0
    for _ in range(3):
        count = 0
        start = time.perf_counter()
        deadline = start + seconds / 3
        while True:
            fn()
            count += 1
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, count / (now - start))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    parser.add_argument("--json", action="store_true", help="print the JSON result on stdout")
    args = parser.parse_args(argv)

    documents = [sample_invoice(), sample_credit_note(), sample_slip(), sample_delivery_note()]
    rows = []
    for profile, columns in PROFILES.items():
        paper = paper_for(profile)
        for doc in documents:
            ticket = layout(doc, paper)
            size = len(render_escpos(ticket, profile))
            row = {
                "profile": profile,
                "columns": columns,
                "document": doc.kind,
                "escpos_bytes": size,
                "text_per_s": measure(lambda d=doc, p=paper: render_text(layout(d, p)), args.seconds),
                "escpos_per_s": measure(
                    lambda d=doc, p=paper, pr=profile: render_escpos(layout(d, p), pr), args.seconds
                ),
                "png_per_s": measure(lambda d=doc, p=paper: render_png(layout(d, p)), args.seconds),
            }
            rows.append(row)
    result = {
        "benchmark": "print rendering (layout included), tickets per second, single thread",
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": {
            name: metadata.version(name) for name in ("python-escpos", "pillow", "qrcode", "python-barcode")
        },
        "seconds_per_measurement": args.seconds,
        "results": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{'profile':<10} {'cols':>4} {'document':<14} {'bytes':>6} {'text/s':>9} {'escpos/s':>9} {'png/s':>7}"
        )
        for r in rows:
            print(
                f"{r['profile']:<10} {r['columns']:>4} {r['document']:<14} {r['escpos_bytes']:>6} "
                f"{r['text_per_s']:>9.0f} {r['escpos_per_s']:>9.0f} {r['png_per_s']:>7.0f}"
            )
        print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
