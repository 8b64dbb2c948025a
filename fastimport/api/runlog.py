"""Import runs as JSON lines through the standard :mod:`logging` module (``import --log-file``).

The library logs one record per store at the end of each run on the ``fastimport.import`` logger
(``event`` "store", with the run id, the store, its stage, counts, retries, error, duration and
timestamps); the command line adds ``run_start`` and ``run_end``.  Nothing is written unless a
handler is attached: :func:`json_log_file` attaches a :class:`logging.FileHandler` with
:class:`JsonLinesFormatter`, which masks every credential the configuration names.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from fastimport.errors import FastImportError

if TYPE_CHECKING:
    from fastimport.config import Config
    from fastimport.importer import ImportReport

LOGGER = logging.getLogger("fastimport.import")
LOGGER.addHandler(logging.NullHandler())  # a library logs nothing by itself (not even "last resort" stderr)
MASK = "***"


def log_event(event: str, run: str, level: int = logging.INFO, **fields: Any) -> None:
    """One line: ``event`` and ``run`` first, then ``fields`` (JSON values)."""
    LOGGER.log(level, event, extra={"fastimport": {"event": event, "run": run, **fields}})


def stage_of(report: ImportReport) -> str:
    """Where a store's run ended: ``done``, or its ``failed_stage`` (``lock`` when skipped as locked)."""
    return "done" if report.ok else report.failed_stage or "import"


def log_reports(run: str, reports: Sequence[ImportReport]) -> None:
    for r in reports:
        start = dt.datetime.fromisoformat(r.started_at) if r.started_at else None
        end = dt.datetime.fromisoformat(r.finished_at) if r.finished_at else None
        log_event(
            "store", run, logging.INFO if r.ok else logging.ERROR,
            store=r.store, run_id=r.run_id, mode=r.mode, stage=stage_of(r), ok=r.ok, locked=r.locked,
            error=r.error, new=r.new, updated=r.updated, unchanged=r.unchanged, pages=r.pages,
            requests=r.requests, retries=r.retries,
            duration=round((end - start).total_seconds(), 3) if start and end else 0.0,
            started_at=r.started_at or None, finished_at=r.finished_at or None,
            range_start=r.range_start or None, range_end=r.range_end or None, stages=r.stages,
        )  # fmt: skip


class JsonLinesFormatter(logging.Formatter):
    """A record as one JSON object: ``ts`` (ISO 8601, UTC), ``level``, then the record's fields.

    Every string in ``secrets`` is replaced by ``***`` in the line, whatever field carries it.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        ts = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
        fields = getattr(record, "fastimport", None) or {"event": "message", "message": record.getMessage()}
        text = orjson.dumps({"ts": ts, "level": record.levelname.lower(), **fields}, default=str).decode()
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


def configured_secrets(config: Config) -> list[str]:
    """The values of every environment variable the configuration names (``*_env`` keys)."""
    found = []
    for store in config.stores:
        for key in store.__struct_fields__:
            name = getattr(store, key)
            if key.endswith("_env") and isinstance(name, str) and os.environ.get(name):
                found.append(os.environ[name])
    for table in config.raw.values():
        if isinstance(table, dict):
            found.extend(
                os.environ.get(v, "") for k, v in table.items() if k.endswith("_env") and isinstance(v, str)
            )
    return [s for s in found if s]


@contextmanager
def json_log_file(path: Path, secrets: Iterable[str] = ()) -> Iterator[logging.Logger]:
    """Append this block's import records to ``path`` as JSON lines; the handler is removed after."""
    try:
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        raise FastImportError(
            f"cannot write the log file {path}: {exc.strerror or exc}", path=str(path)
        ) from exc
    handler.setFormatter(JsonLinesFormatter(secrets))
    level = LOGGER.level
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)
    try:
        yield LOGGER
    finally:
        LOGGER.removeHandler(handler)
        LOGGER.setLevel(level)
        handler.close()
