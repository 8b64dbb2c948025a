"""The push queue in the library API: what the shop has not been told yet, and telling it again.

Slips, invoices, shipments and credit notes queue their message to the shop in their own transaction
and send it after the operation (see :mod:`fastimport.processing.pushqueue`); these calls show the
queue and send what waits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastimport.config import Config
from fastimport.store.db import Connection

if TYPE_CHECKING:
    from fastimport.processing.pushqueue import PushReport


def push_queue(con: Connection, *, everything: bool = False) -> list[dict[str, Any]]:
    """Pushes waiting (or failed) with their last error; every push with ``everything``."""
    from fastimport.processing.pushqueue import list_pushes

    return list_pushes(con, everything=everything)


def retry_pushes(
    config: Config, con: Connection, push_id: int | None = None, *, seconds: float = 60.0
) -> PushReport:
    """Send the waiting pushes now (all, or one), backoff or not, in order; what fails waits again."""
    from fastimport.processing.pushqueue import requeue, send_pushes

    ids = requeue(con, push_id)
    return send_pushes(con, config, ids, force=True, seconds=seconds)
