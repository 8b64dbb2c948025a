"""What every command shares: exit codes, JSON output, the store session, usage errors.

Exit codes are a contract for batch jobs: 0 success, 1 a failure the user must act on (one
plain-words line on stderr), 2 a usage error, 3 (import) nothing failed but a store was locked.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import orjson

from fastimport.config import Config, load_config
from fastimport.store.db import Connection

if TYPE_CHECKING:
    from fastimport.print.config import PrinterConfig

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
EXIT_LOCKED = 3  # import: the only problem was a store another run held (skipped)


class Session:
    """One command's configuration and store connection, opened on first use and closed by ``main``.

    It also serves the print commands as their context (``.con``, ``.printers``).
    """

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._con: Connection | None = None

    @cached_property
    def config(self) -> Config:
        return load_config(self.args.config)

    @property
    def con(self) -> Connection:
        if self._con is None:
            from fastimport.api.imports import connect

            self._con = connect(self.config)
        return self._con

    @cached_property
    def printers(self) -> Sequence[PrinterConfig]:
        from fastimport.api.printing import configured_printers

        return configured_printers(self.config)

    def close(self) -> None:
        """Close the store (DuckDB folds its log into the file on the way out)."""
        if self._con is not None:
            self._con.close()
            self._con = None


Handler = Callable[[argparse.Namespace, Session], int]


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")


def print_json_stream(values: Iterable[Any]) -> None:
    """The bytes :func:`print_json` prints for ``list(values)``, written as the values come.

    A list of a million orders is never held whole: each element is dumped and written, then dropped.
    """
    out = sys.stdout
    first = True
    for value in values:
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode()
        out.write(("[\n  " if first else ",\n  ") + text.replace("\n", "\n  "))
        first = False
    out.write("[]\n" if first else "\n]\n")


def output(args: argparse.Namespace, value: Any, text: Callable[[], None]) -> None:
    """``--json``: the value on stdout; otherwise the human-readable text."""
    if getattr(args, "json", False):
        print_json(value)
    else:
        text()


def usage(message: str) -> SystemExit:
    print(f"fastimport: {message}", file=sys.stderr)
    return SystemExit(EXIT_USAGE)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# Help for the options every command group repeats, so none is left without a line in --help.
_COMMON_HELP = {
    "--json": "print JSON instead of text (the fields are a contract: see the README)",
    "--since": "from this date (whole day in the store's time zone) or ISO date-time",
    "--until": "up to this date (whole day, inclusive) or ISO date-time",
    "--author": "who writes the comment",
}
_POSITIONAL_HELP = {
    "n": "the order: shop order id or number",
    "text": "the comment, as it will be kept in the order's history",
}


def complete_help(parser: argparse.ArgumentParser) -> None:
    """Give every sub-command a description (its one-line help) and every argument a help line."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                if sub.description is None and helps.get(name):
                    sub.description = str(helps[name])[:1].upper() + str(helps[name])[1:] + "."
                complete_help(sub)
        elif action.help is None:
            if "--store" in action.option_strings:
                action.help = (
                    "store name (repeatable; default: every store)"
                    if isinstance(action, argparse._AppendAction)
                    else "the store, when several stores have an order with this number"
                )
            else:
                for flag in action.option_strings:
                    action.help = _COMMON_HELP.get(flag, action.help)
                if not action.option_strings:
                    action.help = _POSITIONAL_HELP.get(action.dest)
