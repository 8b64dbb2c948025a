"""The offline check of a fiscal archive: the zip and the public key, nothing else.

What is checked is listed in :mod:`fastimport.fiscal.archive`; the first problem is named (a file,
or a record by its number) and the check stops there.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import itertools
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from fastimport.fiscal.archive import FORMAT, TABLES


@dataclass(slots=True)
class ArchiveCheck:
    ok: bool = True
    where: str | None = None  # the first bad file or record
    message: str = ""
    checked: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def fail(self, where: str, message: str) -> ArchiveCheck:
        self.ok, self.where, self.message = False, where, message
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "first_problem": {"where": self.where, "message": self.message} if not self.ok else None,
            "checked": self.checked,
            "counts": self.counts,
        }


def verify_archive(path: Path, public_key: Ed25519PublicKey) -> ArchiveCheck:
    report = ArchiveCheck()
    try:
        z = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return report.fail(str(path), f"{path.name} is not a readable zip archive ({exc})")
    with z:
        names = set(z.namelist())
        for required in ("manifest.json", "manifest.sig"):
            if required not in names:
                return report.fail(required, f"{required} is missing: this is not a signed fiscal archive")
        manifest_bytes = z.read("manifest.json")
        try:
            public_key.verify(base64.b64decode(z.read("manifest.sig").strip(), validate=True), manifest_bytes)
        except (InvalidSignature, binascii.Error, ValueError):
            return report.fail(
                "manifest.sig",
                "the manifest's signature does not hold with this public key: the manifest was changed, or the "
                "archive was signed with another key",
            )
        report.checked.append("Ed25519 signature of manifest.json")
        manifest = orjson.loads(manifest_bytes)
        if manifest.get("format") != FORMAT:
            return report.fail("manifest.json", f"unknown archive format {manifest.get('format')!r}")
        listed = set(manifest["files"])
        for name in sorted(names - listed - {"manifest.json", "manifest.sig"}):
            return report.fail(name, f"{name} is not in the manifest: it was added to the archive")
        for name in sorted(listed - names):
            return report.fail(name, f"{name} is listed in the manifest but missing: it was removed")
        data: dict[str, bytes] = {}
        for name in sorted(listed):
            data[name] = z.read(name)
            if hashlib.sha256(data[name]).hexdigest() != manifest["files"][name]["sha256"]:
                return report.fail(name, f"{name} was altered: its SHA-256 does not match the manifest")
        report.checked.append("file list and SHA-256 of every file")
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in TABLES:
        rows = orjson.loads(data[f"{table}.json"])
        text = list(csv.DictReader(io.StringIO(data[f"{table}.csv"].decode("utf-8"))))
        as_text = [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows]
        if text != as_text:
            return report.fail(f"{table}.csv", f"{table}.csv and {table}.json do not hold the same rows")
        tables[table] = rows
        report.counts[table] = len(rows)
    report.checked.append("CSV and JSON agree")
    for table, default_series in (("invoices", None), ("closings", None), ("journal", "journal")):
        problem = _chains(tables[table], default_series, manifest.get("chains", {}))
        if problem:
            return report.fail(*problem)
    report.checked.append("numbering without gaps and chain links (prev_signature) in every series")
    problem = _totals(tables["invoices"], tables["invoice_lines"], tables["invoice_vat"])
    if problem:
        return report.fail(*problem)
    report.checked.append("lines and VAT rows add up to each document's totals")
    return report


def _name(r: dict[str, Any]) -> str:
    return str(r.get("number") or f"journal #{r['seq']}")


def _chains(
    rows: list[dict[str, Any]], default_series: str | None, declared: dict[str, Any]
) -> tuple[str, str] | None:
    by: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by.setdefault(str(r.get("series") or default_series), []).append(r)
    for series, recs in sorted(by.items()):
        recs.sort(key=lambda r: int(r["seq"]))
        d = declared.get(series)
        if (
            d is None
            or d["first"] != recs[0]["seq"]
            or d["last"] != recs[-1]["seq"]
            or d["count"] != len(recs)
        ):
            return (_name(recs[0]), f"series {series} in the archive is not the one the manifest declares")
        if recs[0]["prev_signature"] != d["previous"]:
            return (
                _name(recs[0]),
                f"{_name(recs[0])} does not follow the record the manifest says precedes it",
            )
        for before, r in itertools.pairwise(recs):
            if int(r["seq"]) == int(before["seq"]):
                return (_name(r), f"{_name(r)} appears twice")
            if int(r["seq"]) != int(before["seq"]) + 1:
                return (_name(r), f"the numbering has a gap before {_name(r)} (after {_name(before)})")
            if r["prev_signature"] != before["signature"]:
                return (_name(r), f"{_name(r)} does not follow {_name(before)}: the chain link is broken")
    return None


def _totals(
    invoices: list[dict[str, Any]], lines: list[dict[str, Any]], vat: list[dict[str, Any]]
) -> tuple[str, str] | None:
    by_lines: dict[str, list[dict[str, Any]]] = {}
    for ln in lines:
        by_lines.setdefault(str(ln["number"]), []).append(ln)
    by_vat: dict[str, list[dict[str, Any]]] = {}
    for v in vat:
        by_vat.setdefault(str(v["number"]), []).append(v)
    for inv in invoices:
        n = str(inv["number"])
        ls = by_lines.get(n, [])
        if len(ls) != int(inv["line_count"]):
            return (n, f"{n} says {inv['line_count']} lines, the archive holds {len(ls)}")
        if sum(Decimal(ln["total_ttc"]) for ln in ls) != Decimal(inv["total_ttc"]):
            return (n, f"{n}: its lines do not add up to its total incl. VAT")
        if sum(Decimal(v["vat"]) for v in by_vat.get(n, [])) != Decimal(inv["total_vat"]):
            return (n, f"{n}: its VAT rows do not add up to its total VAT")
    return None
