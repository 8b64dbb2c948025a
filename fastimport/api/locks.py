"""Per-store locks for imports, and the nightly settings of ``[import]``.

A run takes the lock of each store it imports before it starts; a store another run holds is
skipped and reported as ``locked`` (an :class:`~fastimport.importer.ImportReport` with ``ok=False``,
``locked=True`` and an ``error`` naming the holder and since when).  The locks come from the store
backend (:func:`fastimport.store.locks.store_locks`): files beside a DuckDB file today.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING

from fastimport.config import Config
from fastimport.errors import ConfigError, FastImportError, StoreLockedError
from fastimport.store.locks import Lease, Owner, store_locks

if TYPE_CHECKING:
    from fastimport.importer import ImportReport


def new_run_id() -> str:
    """A run id for one invocation (a nightly job over every store): short, unique, in every log line."""
    return uuid.uuid4().hex[:12]


@dataclass
class StoreLeases:
    """The stores one run holds (``held``) and those another run has (``locked``: the error to report).

    Release them with :meth:`release`, or use it as a context manager.
    """

    run: str
    held: dict[str, Lease] = field(default_factory=dict)
    locked: dict[str, StoreLockedError] = field(default_factory=dict)

    def release(self) -> None:
        for lease in self.held.values():
            lease.release()
        self.held.clear()

    def __enter__(self) -> StoreLeases:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def lock_stores(config: Config, names: Sequence[str], *, run: str | None = None) -> StoreLeases:
    """Take the lock of each named store without waiting; the busy ones land in ``.locked``.

    Needs no open store: the command line takes the locks before it opens the DuckDB file, so a
    run that finds every store busy ends at once instead of waiting for the file.
    """
    leases = StoreLeases(run or new_run_id())
    locks = store_locks(config.target)
    owner = Owner.current(leases.run)
    try:
        for name in names:
            try:
                leases.held[name] = locks.try_acquire(name, owner)
            except StoreLockedError as exc:
                leases.locked[name] = exc
    except BaseException:
        leases.release()
        raise
    return leases


def skipped_report(store: str, mode: str, error: FastImportError) -> ImportReport:
    """The report of a store that never started: another run holds it (``locked=True``), or its
    configuration cannot be used (a credential missing: ``failed_stage`` "config").  ``run_id`` is 0."""
    from fastimport import core
    from fastimport.importer import STAGES, ImportReport

    locked = isinstance(error, StoreLockedError)
    return ImportReport(
        store=store, run_id=0, mode=mode, range_start="", range_end="", ok=False, error=error.message,
        new=0, updated=0, unchanged=0, repeated=0, locked_changes=0, unknown_articles=0,
        unknown_customers=0, catalog_synced=False, pages=0, requests=0, retries=0, seconds=0.0,
        core=core.CORE, stages=dict.fromkeys(STAGES, 0.0), failed_stage="lock" if locked else "config",
        locked=locked,
    )  # fmt: skip


def max_stores(config: Config) -> int | None:
    """``[import] max_stores``: how many stores one run imports at once (None: every store at once)."""
    table = config.raw.get("import", {})
    if not isinstance(table, dict):
        raise ConfigError("[import] must be a table", key="import")
    unknown = sorted(set(table) - {"max_stores"})
    if unknown:
        raise ConfigError(f"[import] has an unknown key '{unknown[0]}' (known: max_stores)", key="import")
    value = table.get("max_stores")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(
            f"[import] max_stores must be a whole number of at least 1 (got {value!r})", key="import"
        )
    return value
