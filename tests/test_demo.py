"""The README's demo command runs end to end and shows that nothing is doubled."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_demo_runs(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    out = subprocess.run(
        [sys.executable, "-m", "fastimport", "demo", "--orders", "400", "--database", str(db)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "400 new" in out.stdout
    assert "0 new, 0 updated, 400 unchanged" in out.stdout
    assert "400 orders stored, 400 distinct: nothing doubled." in out.stdout
    assert db.exists()
