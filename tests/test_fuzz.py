"""The coverage-guided fuzzer, briefly: ``python -m tests.fuzz.parse`` for 2,000 inputs finds nothing.

The long run is ``make fuzz`` (``FUZZ_SECONDS``); this one proves the fuzzer starts from its seed
corpus, instruments the pure-Python core and the connectors, runs both cores on every input and
exits 0 with no crash, hang or difference between the cores written out.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(300)
def test_fuzzer_finds_nothing_in_2000_inputs(tmp_path: Path) -> None:
    corpus, artifacts = tmp_path / "corpus", tmp_path / "artifacts"
    cmd = [sys.executable, "-m", "tests.fuzz.parse", "--runs", "2000", "--seconds", "120", "--seed", "16"]
    cmd += ["--corpus", str(corpus), "--artifacts", str(artifacts)]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=280)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    assert not list(artifacts.iterdir()), log[-4000:]
    assert "INFO: Instrumenting fastimport._core_py_json" in log
    seeds = re.search(r"(\d+) files found in \S+seeds", log)
    assert seeds is not None and int(seeds.group(1)) >= 20, log[-4000:]
    done = re.search(r"Done (\d+) runs in (\d+) second", log)
    assert done is not None, log[-4000:]
    assert int(done.group(1)) >= 500  # 2,000 unless the machine is so slow that 120 s pass first
    assert list(corpus.iterdir())  # inputs that reached new code were kept
