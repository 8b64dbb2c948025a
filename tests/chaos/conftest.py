"""The chaos suite's figures, printed at the end of the session (the README quotes a ``make chaos`` run)."""

from __future__ import annotations

import pytest

from tests.chaos.harness import FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES.runs:
        return
    failed = len(terminalreporter.stats.get("failed", []))
    terminalreporter.write_line(
        f"chaos: {FIGURES.runs} runs, {FIGURES.kills} kills, {FIGURES.faults} faults injected, "
        f"{FIGURES.invariants} invariants checked, {failed} failures"
    )
    for seed in FIGURES.seeds:
        terminalreporter.write_line(f"  {seed}")
