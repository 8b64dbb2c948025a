"""Chain heads anchored outside the database: an append-only file the till keeps.

After each commit that extended a chain (a series head moved in ``series_counters``), the new head
of each moved series is appended to the anchor file as one JSON line
(``{"series", "kind", "seq", "signature", "at"}``) and the file is fsync'd before the command goes
on.  The database alone cannot then hide a cut tail, a rolled-back counter or an older copy put in
its place: :func:`check` compares every anchored head with the records the database holds.

A DuckDB till keeps ``<database>.anchors`` beside its file.  On PostgreSQL each till machine keeps its
own *witness* (``[till] anchors``, by default a file in the user's state directory named after the
till and the store): the heads it extended, and those it read on each open and verify
(:func:`observe`).  Heads only move forward, so a store behind any witness was rolled back or cut.

This module imports nothing from processing, so the chain can mark heads without a cycle.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from fastimport.store import db
from fastimport.store.db import Connection
from fastimport.store.postgres import PgConnection

SUFFIX = ".anchors"
_dirty: set[int] = set()  # id() of connections whose open transaction moved a series head
# path -> (file size, latest head per series) as this process last wrote it: no re-read per commit
_known: dict[str, tuple[int, dict[str, dict[str, Any]]]] = {}


def mark(con: Connection) -> None:
    """A series head moved in this connection's transaction (called by ``chain.set_head``)."""
    _dirty.add(id(con))


# A PostgreSQL connection -> its till's witness file from ``[till] anchors`` (gone with the connection).
_WITNESSES: weakref.WeakKeyDictionary[PgConnection, Path] = weakref.WeakKeyDictionary()


def use_witness(con: Connection, path: Path) -> None:
    """This till's witness of a PostgreSQL store is ``path`` (``[till] anchors``), not the default."""
    if isinstance(con, PgConnection):
        _WITNESSES[con] = path


def store_identity(url: str) -> str:
    """The PostgreSQL store a URL names, as a file name: its host, port and database (never the user
    or the password), with a short hash so two stores never share a name after cleaning."""
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(url)
    host = str(info.get("host") or "local").split(",")[0]
    port = str(info.get("port") or "5432").split(",")[0]
    place = f"{host}-{port}-{info.get('dbname') or info.get('user') or 'postgres'}"
    digest = hashlib.sha256(place.encode()).hexdigest()[:8]
    return f"{re.sub(r'[^A-Za-z0-9._-]+', '_', place).strip('._')}-{digest}"


def state_directory() -> Path:
    """Where a till keeps what is its own: ``$XDG_STATE_HOME/fastimport`` (``~/.local/state``)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "fastimport"


def default_witness(till: str | None, url: str) -> Path:
    """``<state>/fastimport/anchors/<till>@<store>.anchors``: one file per till and store."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", till or "till").strip("._") or "till"
    return state_directory() / "anchors" / f"{name}@{store_identity(url)}{SUFFIX}"


def witness_path(con: PgConnection) -> Path:
    held = _WITNESSES.get(con)
    return held if held is not None else default_witness(db.till_of(con), con.url)


def database_path(con: Connection) -> Path | None:
    """The file of the connection's DuckDB database; None for an in-memory one or a PostgreSQL server."""
    if isinstance(con, PgConnection):
        return None
    rows = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    path = rows[0][0] if rows else None
    return Path(path) if path and path != ":memory:" else None


def anchor_path(con: Connection) -> Path | None:
    """The DuckDB file's anchors beside it, or this till's witness of a PostgreSQL store."""
    if isinstance(con, PgConnection):
        return witness_path(con)
    path = database_path(con)
    return path.with_name(path.name + SUFFIX) if path else None


def read(path: Path) -> list[dict[str, Any]]:
    """Every anchored head, in the order written (a torn last line, from a crash mid-write, is skipped)."""
    if not path.exists():
        return []
    out = []
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(entry, dict) and {"series", "seq", "signature"} <= entry.keys():
            out.append(entry)
    return out


def latest(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The highest anchored head of each series."""
    out: dict[str, dict[str, Any]] = {}
    for e in entries:
        if e["series"] not in out or int(e["seq"]) >= int(out[e["series"]]["seq"]):
            out[e["series"]] = e
    return out


def append_heads(con: Connection) -> int:
    """Append the heads that moved since the last anchor line of their series; fsync; returns how many."""
    path = anchor_path(con)
    if path is None:
        return 0
    size = path.stat().st_size if path.exists() else 0
    cached = _known.get(str(path))
    # Re-read only when the file is not as this process last left it.
    known = cached[1] if cached is not None and cached[0] == size else latest(read(path))
    rows = con.execute("SELECT series, kind, last_seq, last_signature FROM series_counters").fetchall()
    now = dt.datetime.now(dt.UTC).isoformat()
    lines = []
    for series, kind, seq, signature in sorted(rows):
        was = known.get(str(series))
        # Heads only move forward: one behind what was anchored is for check() to name, not to record.
        if was is not None and int(was["seq"]) >= int(seq):
            continue
        entry = {"series": series, "kind": kind, "seq": int(seq), "signature": signature, "at": now}
        lines.append(orjson.dumps(entry) + b"\n")
    if not lines:
        _known[str(path)] = (size, known)
        return 0
    data = b"".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    for line in lines:
        entry = orjson.loads(line)
        known[entry["series"]] = entry
    _known[str(path)] = (size + len(data), known)
    return len(lines)


def _after_transaction(con: Connection, committed: bool) -> None:
    if id(con) in _dirty:
        _dirty.discard(id(con))
        if committed:
            append_heads(con)


def flush(con: Connection) -> None:
    """Anchor heads moved outside an explicit transaction (autocommit writes)."""
    _after_transaction(con, True)


def observe(con: Connection) -> int | None:
    """A till opening or verifying a PostgreSQL store witnesses the heads it reads.

    Returns how many heads started a witness that was missing or empty while the store holds
    signed records (a till joining the store: the caller journals it), else None.  Heads that moved
    forward are appended; one behind what this till has seen is left for :func:`check` to name.
    """
    if not isinstance(con, PgConnection):
        return None
    path = witness_path(con)
    fresh = not read(path)
    appended = append_heads(con)
    return appended if fresh and appended else None


if _after_transaction not in db.AFTER_TRANSACTION:
    db.AFTER_TRANSACTION.append(_after_transaction)


def seed(source: Path, target: Path) -> int:
    """Start the witness ``target`` from the anchor file ``source`` (a DuckDB till moved to
    PostgreSQL by ``db copy``); a witness already holding heads is left as it is.  Returns the lines written."""
    entries = read(source)
    if not entries or read(target):
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    data = b"".join(orjson.dumps(e) + b"\n" for e in entries)
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return len(entries)


@dataclass(frozen=True, slots=True)
class AnchorProblem:
    series: str
    record: str
    kind: str  # anchor_missing | cut | replaced
    message: str


def check(con: Connection, names: dict[str, Any]) -> list[AnchorProblem]:
    """Compare every anchored head with the database.

    ``names[series_kind](series, seq)`` names a record.  A head anchored beyond what the database
    holds is a cut tail, a rolled-back counter or an older copy of the database; an anchored
    signature the database's record does not carry is a replaced record or database.
    """
    path = anchor_path(con)
    if path is None:
        return []
    entries = read(path)
    heads = {
        str(r[0]): (str(r[1]), int(r[2]))
        for r in con.execute("SELECT series, kind, last_seq FROM series_counters").fetchall()
    }
    if not entries:
        if heads:
            return [
                AnchorProblem(
                    "anchors", str(path.name), "anchor_missing",
                    f"the anchor file {path} is missing or empty while the database holds signed records: "
                    "it was deleted, or this database was put here from elsewhere",
                )
            ]  # fmt: skip
        return []
    signatures = _signatures(con)
    problems: list[AnchorProblem] = []
    seen: set[str] = set()
    for e in entries:
        series, seq, kind = str(e["series"]), int(e["seq"]), str(e.get("kind", ""))
        name = names.get(kind, _plain)(series, seq)
        stored = signatures.get((series, seq))
        held = heads.get(series, ("", 0))[1]
        if stored is None and series not in seen:
            seen.add(series)
            problems.append(
                AnchorProblem(
                    series, name, "cut",
                    f"{name} was anchored as issued, but the database "
                    + (f"stops at number {held}" if held else "has no record of this series")
                    + ": its tail was cut, its counter rolled back, or an older copy of the database replaced it",
                )
            )  # fmt: skip
        elif stored is not None and stored != e["signature"] and series not in seen:
            seen.add(series)
            problems.append(
                AnchorProblem(
                    series, name, "replaced",
                    f"{name} is not the record anchored when it was issued (its signature differs): the record "
                    "or the whole database was replaced",
                )
            )  # fmt: skip
    return problems


def _plain(series: str, seq: int) -> str:
    return f"{series} #{seq}"


def _signatures(con: Connection) -> dict[tuple[str, int], str]:
    out: dict[tuple[str, int], str] = {}
    for sql in (
        "SELECT series, seq, signature FROM invoices",
        "SELECT series, seq, signature FROM closings",
        "SELECT 'journal', seq, signature FROM journal",
        "SELECT series, seq, number FROM shipments",
    ):
        for series, seq, sig in con.execute(sql).fetchall():
            out[(str(series), int(seq))] = str(sig)
    return out
