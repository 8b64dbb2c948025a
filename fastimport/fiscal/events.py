"""The event journal's codes, and events recorded from outside a signing operation.

Every journal entry has a ``kind``; each kind has a stable code (certified tills' technical event
journals number their events the same way), printed in archives next to the kind.  Events that occur
where no key is at hand (an import run on a till without ``[invoicing].secret_env``, a refused key)
wait in ``pending_events`` and are signed into the journal, oldest first, by the next journal write.
"""

from __future__ import annotations

from typing import Any

from fastimport.errors import ConfigError
from fastimport.processing import chain
from fastimport.processing.settings import ProcessingSettings
from fastimport.store.db import Connection, transaction

CODES: dict[str, str] = {
    "startup": "10",
    "software_version": "20",
    "setting_change": "30",
    "import_run": "40",
    "invoice": "50",
    "credit_note": "60",
    "shipment": "70",
    "stock_push": "80",
    "reprint": "90",
    "printer_incident": "100",
    "closing": "110",
    "archive_export": "120",
    "export": "121",
    "verify_failed": "130",
    "clock_set_back": "140",
    "key_refused": "150",
    "key_rotated": "160",
    "anchors_started": "170",
}


def code(kind: str) -> str:
    return CODES.get(kind, "999")


def record_event(
    con: Connection,
    settings: ProcessingSettings,
    kind: str,
    actor: str,
    subject: str | None,
    detail: dict[str, Any],
) -> bool:
    """Journal the event now (True) when the right key is at hand, else keep it for the next signature."""
    try:
        key = settings.key()
    except ConfigError:
        chain.note_event(con, kind, actor, subject, detail)
        return False
    stored = chain.one(con, "SELECT fingerprint FROM signing_key WHERE id = 1")
    if stored is not None and stored[0] != chain.fingerprint(key):
        chain.note_event(con, kind, actor, subject, detail)
        return False
    with transaction(con):
        chain.journal(con, key, kind, actor, subject, detail)
    return True


def record_startup(con: Connection, settings: ProcessingSettings, version: str, actor: str) -> None:
    """Journal a new software version the first time this till runs it."""
    row = chain.one(
        con,
        "SELECT subject FROM journal WHERE kind = 'software_version' ORDER BY seq DESC LIMIT 1",
    )
    pending = chain.one(
        con,
        "SELECT subject FROM pending_events WHERE kind = 'software_version' ORDER BY event_id DESC LIMIT 1",
    )
    last = pending or row
    if last is None or last[0] != version:
        record_event(con, settings, "software_version", actor, version, {"version": version})
