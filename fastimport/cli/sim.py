"""``fastimport sim …``: every argument (``--help`` included) goes to the simulator's own parser."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from fastimport.cli.common import Session


def add_sim_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = sub.add_parser("sim", help="run the simulated shop (see: fastimport sim --help)", add_help=False)
    sim.add_argument("args", nargs=argparse.REMAINDER)
    sim.set_defaults(handler=cmd_sim)


def run_sim(argv: Sequence[str]) -> int:
    from fastimport.sim.cli import main as sim_main

    return sim_main(list(argv))


def cmd_sim(args: argparse.Namespace, _session: Session) -> int:
    return run_sim(args.args)
