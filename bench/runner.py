"""Run one peer in a fresh subprocess and read back its result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.job import RESULT_PREFIX, Job

REPO = Path(__file__).resolve().parent.parent


def run_peer(job: Job, timeout: float = 900.0, echo: bool = True, label: str = "") -> dict[str, Any]:
    Path(job.workdir).mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("FASTIMPORT_PURE_PYTHON", None)  # the job says which core; the environment must not
    started = time.perf_counter()
    if echo:
        print(f"  {label or job.peer:<22} ...", end="", flush=True)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "bench.child"],
            input=json.dumps(job.to_json()),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
            env=env,
        )
    except subprocess.TimeoutExpired:
        result: dict[str, Any] = {"peer": job.peer, "error": f"timed out after {timeout:g} s"}
    else:
        result = {"peer": job.peer, "error": f"exit code {proc.returncode}: {proc.stderr.strip()[-1500:]}"}
        for line in reversed(proc.stdout.splitlines()):
            if line.startswith(RESULT_PREFIX):
                result = json.loads(line[len(RESULT_PREFIX) :])
                break
    if echo:
        wall = time.perf_counter() - started
        if "error" in result:
            print(f" FAILED ({wall:.1f} s): {str(result['error']).splitlines()[0][:200]}", flush=True)
        else:
            print(
                f" {result.get('orders', 0):>9,} orders  {result.get('orders_per_s', 0):>11,.0f} orders/s  "
                f"peak {result.get('peak_rss_mb', 0):>7,.0f} MB  ({wall:.1f} s)",
                flush=True,
            )
    return result
