"""Coverage-guided differential fuzzing of the page parser with atheris (libFuzzer for Python).

``python -m tests.fuzz.parse --runs 100000`` (or ``--seconds 600``; ``make fuzz``) mutates the seed
pages of ``tests/fuzz/seeds/`` (half of the time structurally: ``tests/fuzz/mutate.py``) and runs each input through :func:`tests.fuzz.target.check`: both
cores on every platform's field mapping, then the finishing steps and stored-JSON readers.  The
pure-Python core and the connectors are instrumented, so their coverage guides the mutations; the
compiled core is not (atheris sees Python only) but runs on every input, and any difference with
its twin is a crash.  A crash or a hang (``--timeout``) writes the input as ``crash-…``/``timeout-…``
in ``--artifacts`` and exits non-zero; libFuzzer's last lines give the inputs run and inputs per
second.  ``--core native`` or ``--core python`` runs one core alone (no comparison), to measure it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import atheris

SEEDS = Path(__file__).resolve().parent / "seeds"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.parse", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=0, help="inputs to execute, seeds included (0: no limit)")
    parser.add_argument("--seconds", type=int, default=0, help="stop after this many seconds (0: no limit)")
    parser.add_argument(
        "--corpus",
        type=Path,
        default=Path(tempfile.gettempdir()) / "fastimport-fuzz-corpus",
        help="directory that keeps the inputs found to reach new code, from run to run "
        "(default: fastimport-fuzz-corpus in the system's temporary directory)",
    )
    parser.add_argument("--artifacts", type=Path, default=Path("."), help="where a crashing input is written")
    parser.add_argument(
        "--max-len", type=int, default=16384, help="longest input the mutator makes, in bytes"
    )
    parser.add_argument(
        "--timeout", type=int, default=20, help="seconds one input may run before it is a hang"
    )
    parser.add_argument("--seed", type=int, default=0, help="libFuzzer's random seed (0: drawn at start)")
    parser.add_argument(
        "--core",
        choices=("both", "native", "python"),
        default="both",
        help="both cores compared (the default), or one core alone to measure its inputs per second",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    with atheris.instrument_imports(include=["fastimport", "tests.fuzz.target"]):
        from tests.fuzz import target
    from tests.fuzz.mutate import mutate_json

    check = target.check if args.core == "both" else target.checker(args.core)

    def one_input(data: bytes) -> None:
        check(data)

    args.corpus.mkdir(parents=True, exist_ok=True)
    args.artifacts.mkdir(parents=True, exist_ok=True)
    flags = [
        f"-runs={args.runs if args.runs else -1}",
        f"-max_total_time={args.seconds}",
        f"-max_len={args.max_len}",
        f"-timeout={args.timeout}",
        f"-seed={args.seed}",
        f"-artifact_prefix={args.artifacts}/",
        "-print_final_stats=1",
    ]
    atheris.Setup([sys.argv[0], *flags, str(args.corpus), str(SEEDS)], one_input, custom_mutator=mutate_json)
    atheris.Fuzz()  # exits the process: 0 when the runs are done, non-zero on a crash or a hang


if __name__ == "__main__":
    main()
