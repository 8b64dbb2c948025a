"""Entry point of a measured peer's subprocess: ``python -m bench.child < job.json``."""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from bench.job import RESULT_PREFIX, Job, peak_rss_mb

Runner = Callable[[Job], dict[str, Any]]


def _runner(peer: str) -> Runner:
    # Imported lazily: `--check` must run without requests or dlt installed.
    if peer.startswith("fastimport"):
        from bench.peers import fastimport_peer

        return fastimport_peer.run
    if peer == "competent":
        from bench.peers import competent

        return competent.run
    if peer == "naive":
        from bench.peers import naive

        return naive.run
    if peer.startswith("dlt"):
        from bench.peers import dlt_peer

        return dlt_peer.run
    if peer.startswith("ceiling"):
        from bench import ceilings

        return ceilings.RUNNERS[peer]
    raise ValueError(f"unknown peer {peer!r}")


def main() -> int:
    job = Job.from_json(json.loads(sys.stdin.read()))
    started = time.perf_counter()
    try:
        result = _runner(job.peer)(job)
    except Exception as exc:
        result = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(limit=8)}
    result.setdefault("peer", job.peer)
    result["peak_rss_mb"] = peak_rss_mb()
    result["process_seconds"] = round(time.perf_counter() - started, 3)
    if result.get("orders") and result.get("seconds"):
        result["orders_per_s"] = round(result["orders"] / result["seconds"], 1)
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main())
