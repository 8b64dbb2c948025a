"""A deliberate change of signing key (``fastimport key rotate``).

The old key must be the one the records were signed with, and every chain must verify with it.  Then,
in one transaction: each record signed so far gets a *seal* made with the new key (HMAC over its
previous signature, its canonical form and its signature, kept in ``key_seals``), the stored
fingerprint becomes the new key's, and a ``key_rotated`` journal entry signed with the new key
carries the hand-over signed with the old key as well (old and new fingerprints, the heads).  From
then on ``verify`` with the new key accepts the records signed before (through their seals) and
after (through their signatures); the old key no longer signs anything.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from fastimport.errors import ProcessingError
from fastimport.fiscal.integrity import closing_chains, verify_all
from fastimport.processing import chain
from fastimport.processing.verify import Record, document_chains, heads, journal_chain
from fastimport.store.db import Connection, transaction


@dataclass(frozen=True, slots=True)
class Rotation:
    sealed: int
    old_fingerprint: str
    new_fingerprint: str
    journal_seq: int

    def to_json(self) -> dict[str, Any]:
        return {
            "sealed": self.sealed,
            "old_fingerprint": self.old_fingerprint,
            "new_fingerprint": self.new_fingerprint,
            "journal": self.journal_seq,
        }


def rotate(
    con: Connection, old: bytes, new: bytes, old_env: str | None, new_env: str, actor: str
) -> Rotation:
    if not new:
        raise ProcessingError(f"the new key is missing: set the environment variable {new_env}")
    if hmac.compare_digest(old, new):
        raise ProcessingError(f"{new_env} holds the same key as {old_env}: nothing to rotate")
    report = verify_all(con, old, old_env)
    if not report.ok:
        raise ProcessingError(
            f"the records do not verify with the current key ({report.problems[0].message}): a key is only "
            "rotated over intact records"
        )
    old_fp, new_fp = chain.fingerprint(old), chain.fingerprint(new)
    with transaction(con):
        records: list[tuple[str, Record]] = []
        for series, recs in {**document_chains(con), **closing_chains(con)}.items():
            records += [(series, r) for r in recs]
        records += [(chain.JOURNAL_SERIES, r) for r in journal_chain(con)]
        con.execute("DELETE FROM key_seals")
        if records:
            con.executemany(
                "INSERT INTO key_seals VALUES (?, ?, ?)",
                [[series, r[0], chain.seal(new, r[3], r[2], r[4])] for series, r in records],
            )
        con.execute("UPDATE signing_key SET fingerprint = ?, since = now() WHERE id = 1", [new_fp])
        handover = chain.canonical(
            {"old": old_fp, "new": new_fp, "heads": {s: [h[1], h[2]] for s, h in sorted(heads(con).items())}}
        )
        seq = chain.journal(
            con, new, "key_rotated", actor, new_env,
            {"old_fingerprint": old_fp[:16], "new_fingerprint": new_fp[:16], "sealed": len(records),
             "handover_sha256": hashlib.sha256(handover).hexdigest(),
             "handover_old_key": hmac.new(old, handover, hashlib.sha256).hexdigest(),
             "handover_new_key": hmac.new(new, handover, hashlib.sha256).hexdigest()},
        )  # fmt: skip
    return Rotation(len(records), old_fp[:16], new_fp[:16], seq)
