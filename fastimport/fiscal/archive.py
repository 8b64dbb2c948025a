"""Signed fiscal archives, verifiable offline with the public key alone.

``export`` writes a zip of one period (and optionally one store): invoices, credit notes, their lines
and VAT rows, the closings and the event journal of the period, each as CSV (UTF-8, with a header)
and JSON; ``README.txt`` saying how the records are signed; ``manifest.json`` with the SHA-256 and
size of every file, the period, the chains' first and last numbers; ``manifest.sig``, the Ed25519
signature (base64) of ``manifest.json``'s bytes.

``verify`` needs the zip and the public key, nothing else (no database, no HMAC key).  It checks, in
this order, and names the first thing wrong: the manifest's signature; that the zip holds exactly
the files the manifest lists (none added, none removed); each file's SHA-256; that each CSV says the
same as its JSON; inside each chain (each invoice, credit-note and closing series, and the journal)
that the numbers run without a gap and that each record's ``prev_signature`` equals the signature of
the record before it; that each document's lines and VAT rows add up to its totals and its line
count.  The HMAC signatures themselves need the till's secret key: they are checked by
``fastimport verify`` on the till, not here; the Ed25519 signature vouches that the archive is as
the till wrote it.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from fastimport.errors import ConfigError, ProcessingError
from fastimport.store.db import Connection

FORMAT = "fastimport-fiscal-archive/1"
PRIVATE_NAME, PUBLIC_NAME = "archive.key", "archive.pub"
TABLES = ("invoices", "invoice_lines", "invoice_vat", "closings", "journal")
EXPLANATION = """fastimport fiscal archive ({format})

Files: invoices (invoices and credit notes), invoice_lines, invoice_vat, closings, journal; each as
CSV (UTF-8, header) and JSON (the same rows).  manifest.json lists every file with its SHA-256;
manifest.sig is the Ed25519 signature (base64) of manifest.json, made with the till's archive key.

Each invoice, credit note, closing and journal entry belongs to a chain (its series):
signature = HMAC-SHA256(till key, prev_signature + canonical form), canonical form = the record's
fields as sorted-keys compact JSON (amounts in integer cents, instants in UTC epoch microseconds).
Numbers in a series run without gaps; prev_signature is the signature of the record before.

Offline check (no database, no till key): fastimport archive verify ARCHIVE.zip --public-key archive.pub
checks the Ed25519 signature, the file list and hashes, the CSV/JSON agreement, the numbering and the
chain links (prev_signature) and the totals of each document.
"""


# -- keys ------------------------------------------------------------------------------------------


def keygen(directory: Path) -> tuple[Path, Path]:
    """Write a new Ed25519 pair: ``archive.key`` (PKCS#8 PEM, mode 0600) and ``archive.pub`` (PEM)."""
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / PRIVATE_NAME, directory / PUBLIC_NAME
    if private.exists() or public.exists():
        raise ProcessingError(f"{directory} already holds an archive key: refusing to overwrite it")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read the archive key {path}: {exc}", key="archive.private_key_file"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 key", key="archive.private_key_file")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ProcessingError(f"cannot read the public key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ProcessingError(f"{path} is not an Ed25519 public key")
    return key


# -- export ----------------------------------------------------------------------------------------

_IN_PERIOD = "CAST(timezone(?, {col}) AS DATE) BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)"
_QUERIES = {
    "invoices": "SELECT i.*, s.name AS store FROM invoices i JOIN stores s USING (store_id) WHERE "
    + _IN_PERIOD.format(col="i.issued_at") + " AND (? IS NULL OR s.name = ?) ORDER BY i.series, i.seq",
    "invoice_lines": "SELECT l.*, i.number FROM invoice_lines l JOIN invoices i USING (invoice_id) JOIN stores s "
    "USING (store_id) WHERE " + _IN_PERIOD.format(col="i.issued_at")
    + " AND (? IS NULL OR s.name = ?) ORDER BY i.series, i.seq, l.line_no",
    "invoice_vat": "SELECT v.*, i.number FROM invoice_vat v JOIN invoices i USING (invoice_id) JOIN stores s "
    "USING (store_id) WHERE " + _IN_PERIOD.format(col="i.issued_at")
    + " AND (? IS NULL OR s.name = ?) ORDER BY i.series, i.seq, v.vat_rate DESC",
    "closings": "SELECT * FROM closings WHERE " + _IN_PERIOD.format(col="period_start")
    + " AND (? IS NULL OR store = ?) ORDER BY series, seq",
    "journal": "SELECT * FROM journal WHERE " + _IN_PERIOD.format(col="happened_at") + " ORDER BY seq",  # the journal is the till's, all stores
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ArchiveReport:
    path: str
    counts: dict[str, int]
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"archive": self.path, "counts": self.counts, "sha256": self.sha256}


def _text(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return str(value)


def _csv(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r[c] is None else str(r[c]) for c in columns])
    return buf.getvalue().encode("utf-8")


def export(
    con: Connection,
    private_key: Ed25519PrivateKey,
    first: dt.date,
    last: dt.date,
    out: Path,
    *,
    store: str | None,
    timezone: str,
    context: dict[str, Any],
    on_written: Callable[[str, dict[str, int]], None] | None = None,
) -> ArchiveReport:
    """Write the signed archive of [first, last] (dates in ``timezone``) to ``out``.

    ``on_written(sha256, counts)`` runs once the whole archive is on disk under ``NAME.part`` and before
    it takes its name (the export's journal entry): a file at ``out`` is always journaled, and a run
    killed before the rename leaves only the ``.part``, never a half file under the archive's name."""
    if last < first:
        raise ProcessingError(f"--to {last} is before --from {first}")
    files: dict[str, bytes] = {}
    counts: dict[str, int] = {}
    chains: dict[str, dict[str, Any]] = {}
    for table in TABLES:
        params: list[Any] = [timezone, first.isoformat(), last.isoformat()]
        result = con.execute(_QUERIES[table], params if table == "journal" else [*params, store, store])
        columns = [d[0] for d in result.description]
        rows = [dict(zip(columns, (_text(v) for v in r), strict=True)) for r in result.fetchall()]
        counts[table] = len(rows)
        files[f"{table}.csv"] = _csv(columns, rows)
        files[f"{table}.json"] = orjson.dumps(rows, option=orjson.OPT_INDENT_2)
        if table in ("invoices", "closings", "journal"):
            for r in rows:
                series = str(r.get("series", "journal"))
                c = chains.setdefault(
                    series, {"first": r["seq"], "previous": r["prev_signature"], "count": 0}
                )
                c["last"] = r["seq"]
                c["count"] += 1
    files["README.txt"] = EXPLANATION.format(format=FORMAT).encode()
    public = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    manifest = {
        "format": FORMAT,
        "period": {"from": first.isoformat(), "to": last.isoformat(), "timezone": timezone},
        "store": store,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "counts": counts,
        "chains": chains,
        "public_key_sha256": hashlib.sha256(public).hexdigest(),
        "files": {
            n: {"sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b)} for n, b in sorted(files.items())
        },
        **context,
    }
    manifest_bytes = orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    signature = base64.b64encode(private_key.sign(manifest_bytes))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(files.items()):
            z.writestr(name, data)
        z.writestr("manifest.json", manifest_bytes)
        z.writestr("manifest.sig", signature + b"\n")
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    sha256 = hashlib.sha256(tmp.read_bytes()).hexdigest()
    if on_written is not None:
        on_written(sha256, counts)
    tmp.replace(out)
    return ArchiveReport(str(out), counts, sha256)
