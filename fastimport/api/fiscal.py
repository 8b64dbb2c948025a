"""Fiscal side of the library API: key check and rotation, full verification, closings, events, archives.

Every operation that signs first compares the key with the fingerprint of the key this till's records
were signed with (:func:`check_key`); a wrong key raises
:class:`~fastimport.processing.chain.KeyMismatchError` before anything is written.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import UNSET, UnsetType

from fastimport.config import Config
from fastimport.errors import ConfigError, ProcessingError
from fastimport.processing.settings import load_settings
from fastimport.store.db import Connection, first_row
from fastimport.typed import convert

if TYPE_CHECKING:
    from fastimport.api.processing import PrintRequest
    from fastimport.fiscal.archive import ArchiveReport
    from fastimport.fiscal.archive_verify import ArchiveCheck
    from fastimport.fiscal.closings import Closing
    from fastimport.fiscal.keys import Rotation
    from fastimport.processing.printing import PrintOutcome
    from fastimport.processing.verify import VerifyReport


def _actor(actor: str | None) -> str:
    return actor or os.environ.get("USER") or "till"


class ArchiveSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The ``[archive]`` table."""

    private_key_file: str | UnsetType = UNSET


def archive_settings(config: Config) -> ArchiveSettings:
    return convert(config.raw.get("archive", {}), ArchiveSettings, where="archive")


# -- the key ---------------------------------------------------------------------------------------


def check_key(config: Config, con: Connection) -> bytes:
    """The signing key, once compared with the stored fingerprint (a wrong one is refused and noted).

    A software version this till has not run before is journaled here, at its first signing command.
    """
    key = load_settings(config).checked_key(con)
    record_startup(config, con)
    return key


def rotate_key(config: Config, con: Connection, new_env: str, *, actor: str | None = None) -> Rotation:
    """Hand the chains over from the key in ``[invoicing].secret_env`` to the key in ``new_env``."""
    from fastimport.fiscal.keys import rotate

    settings = load_settings(config)
    old = settings.checked_key(con)
    return rotate(con, old, os.environ.get(new_env, "").encode(), settings.secret_env, new_env, _actor(actor))


# -- verification ----------------------------------------------------------------------------------


def verify_records(config: Config, con: Connection, *, actor: str | None = None) -> VerifyReport:
    """Key first (a wrong key is said, nothing written), then every chain, the closings and the anchors.

    A failure is journaled (signed with the verified key).
    """
    from fastimport.fiscal.integrity import verify_all
    from fastimport.processing import chain
    from fastimport.store.db import transaction

    settings = load_settings(config)
    key = settings.key()
    report = verify_all(con, key, settings.secret_env)
    if not report.ok:
        first = report.problems[0]
        with transaction(con):
            chain.journal(con, key, "verify_failed", _actor(actor), first.record, first.to_json())
    return report


# -- closings --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClosingReport:
    """The closings made (oldest first, the requested ones last), and their Z tickets' fate when printed."""

    closings: list[Closing]
    printed: PrintOutcome | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"closings": [c.to_json() for c in self.closings]}
        return out | ({"print": self.printed.to_json()} if self.printed else {})


def close_period(
    config: Config,
    con: Connection,
    kind: str,
    day: dt.date | None = None,
    *,
    store: str | None = None,
    actor: str | None = None,
    now: dt.datetime | None = None,
    printing: PrintRequest | None = None,
) -> ClosingReport:
    """Close the day / month / year holding ``day`` (default: today; for a month or year, the previous one)
    for ``store`` (default: every store); earlier unclosed periods are closed first.

    With ``printing``, the printer is chosen before anything is written and each closing's Z ticket is
    queued and sent (a ticket can be reprinted: the closing itself is already committed).
    """
    from fastimport.fiscal import closings
    from fastimport.print.queue import enqueue_document
    from fastimport.processing.printing import choose_printer, send_queued

    key = check_key(config, con)
    chosen = choose_printer(config, printing.printer) if printing else None
    now = now or dt.datetime.now(dt.UTC)
    names = [config.store(store).name] if store else closings.store_names(con)
    if not names:
        raise ProcessingError("there is no store to close yet (import orders first)")
    made: list[Closing] = []
    for name in names:
        target = day or _default_day(con, name, kind, now)
        made += closings.close(con, key, name, kind, target, actor=_actor(actor), now=now)
    if printing is None or chosen is None:
        return ClosingReport(made)
    from fastimport.store.db import transaction

    with transaction(con):
        for c in made:
            enqueue_document(con, closing_ticket(config, con, c.number), chosen[0])
    return ClosingReport(made, send_queued(con, chosen[1], len(made), printing.timeout))


def closing_ticket(config: Config, con: Connection, number: str) -> Any:
    """The Z ticket of the closing ``number`` (for ``print reprint Z-…``), or None when there is none."""
    from fastimport import __version__
    from fastimport.fiscal import closings

    found = [c for c in closings.closings(con) if c.number == number]
    if not found:
        return None
    seller = load_settings(config).seller
    identity = seller.as_dict() if seller else {}
    return closings.ticket(
        found[0], identity.get("name", ""), identity.get("siret", ""), f"fastimport {__version__}"
    )


def _default_day(con: Connection, store: str, kind: str, now: dt.datetime) -> dt.date:
    from zoneinfo import ZoneInfo

    row = first_row(con.execute("SELECT timezone FROM stores WHERE name = ?", [store]))
    today = now.astimezone(ZoneInfo(str(row[0]) if row else "UTC")).date()
    if kind == "month":
        return today.replace(day=1) - dt.timedelta(days=1)
    if kind == "year":
        return dt.date(today.year - 1, 12, 31)
    return today


def close_pending_days(config: Config, con: Connection, *, actor: str | None = None) -> list[Closing]:
    """Close the days left unclosed before today, oldest first (invoicing calls this first)."""
    from fastimport.fiscal import closings

    return closings.close_pending_days(con, check_key(config, con), actor=_actor(actor))


def list_closings(con: Connection, *, store: str | None = None, kind: str | None = None) -> list[Closing]:
    from fastimport.fiscal import closings

    return closings.closings(con, store, kind)


# -- events ----------------------------------------------------------------------------------------


def record_event(
    config: Config,
    con: Connection,
    kind: str,
    subject: str | None,
    detail: dict[str, Any],
    *,
    actor: str | None = None,
) -> bool:
    """Journal an event (True), or keep it until the next signature when the right key is not at hand."""
    from fastimport.fiscal.events import record_event as record

    return record(con, load_settings(config), kind, _actor(actor), subject, detail)


def record_startup(config: Config, con: Connection, *, actor: str | None = None) -> None:
    """Journal this software version the first time it runs on this till."""
    from fastimport import __version__
    from fastimport.fiscal.events import record_startup as startup

    startup(con, load_settings(config), __version__, _actor(actor))


# -- archives --------------------------------------------------------------------------------------


def archive_keygen(directory: str | Path) -> tuple[Path, Path]:
    """A new Ed25519 pair in ``directory``: ``archive.key`` (mode 0600) and ``archive.pub``."""
    from fastimport.fiscal.archive import keygen

    return keygen(Path(directory))


def archive_export(
    config: Config,
    con: Connection,
    first: dt.date,
    last: dt.date,
    out: str | Path,
    *,
    store: str | None = None,
    actor: str | None = None,
) -> ArchiveReport:
    """Write the signed archive of the period (and store) to ``out``; the export is journaled."""
    from fastimport import __version__
    from fastimport.fiscal.archive import export, load_private

    settings = load_settings(config)
    key_file = archive_settings(config).private_key_file
    if isinstance(key_file, UnsetType) or not key_file.strip():
        raise ConfigError(
            "no archive key: run `fastimport archive keygen DIR` and set private_key_file in the [archive] table",
            key="archive.private_key_file",
        )
    private = load_private(Path(key_file).expanduser())
    check_key(config, con)
    name = config.store(store).name if store else None
    zone = next((s.timezone for s in config.stores if name is None or s.name == name), "UTC")
    seller = settings.seller.as_dict() if settings.seller else {}
    context = {
        "software": f"fastimport {__version__}",
        "seller": {k: seller.get(k, "") for k in ("name", "siren", "siret", "vat_number")},
    }

    def journaled(sha256: str, counts: dict[str, int]) -> None:  # before the archive takes its name
        record_event(
            config, con, "archive_export", Path(out).name,
            {"from": first.isoformat(), "to": last.isoformat(), "store": name, "sha256": sha256,
             "counts": counts},
            actor=actor,
        )  # fmt: skip

    return export(
        con,
        private,
        first,
        last,
        Path(out),
        store=name,
        timezone=str(zone),
        context=context,
        on_written=journaled,
    )


def archive_verify(path: str | Path, public_key: str | Path) -> ArchiveCheck:
    """Check an archive offline: the Ed25519 signature, the files, the numbering and chain links, the totals."""
    from fastimport.fiscal.archive import load_public
    from fastimport.fiscal.archive_verify import verify_archive

    return verify_archive(Path(path), load_public(Path(public_key)))
