"""Kills at random points while documents leave the till: ``fastimport archive export`` (a signed zip of a
period) and ``fastimport invoice --pending --email`` (mails to a real SMTP server on loopback, aiosmtpd),
SIGKILLed N times in a row on one store."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import hashlib
import threading
from collections import Counter
from email.message import Message
from pathlib import Path
from typing import Any

import duckdb
import pytest
from aiosmtpd.controller import Controller

from tests.chaos import harness
from tests.chaos.harness import check, command
from tests.conftest import ShopFactory
from tests.test_documents_mail import free_port, mail_table
from tests.test_processing_support import env

pytestmark = pytest.mark.chaos


async def test_archive_export_killed_n_times_is_whole_or_absent(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    rng, _shop, url = await harness.seeded_shop("archive-export", shop_factory, 300)
    toml = await harness.imported_till(tmp_path, url)
    environ = env()
    code, _, err = await harness.run(command(toml, "invoice", "--pending"), environ)
    check(code == 0, err)
    keys = tmp_path / "keys"
    code, _, err = await harness.run(command(toml, "archive", "keygen", str(keys)), environ)
    check(code == 0, err)
    with toml.open("a", encoding="utf-8") as f:
        f.write(f'\n[archive]\nprivate_key_file = "{keys / "archive.key"}"\n')
    today = dt.date.today().isoformat()
    out = tmp_path / "export" / "archive.zip"
    argv = command(toml, "archive", "export", "--from", "2026-01-01", "--to", today, "--out", str(out))
    pub = str(keys / "archive.pub")

    async def whole_or_absent() -> None:
        if out.exists():  # a file at the archive's name is a whole, verifiable archive
            code, text, err = await harness.run(
                command(toml, "archive", "verify", str(out), "--public-key", pub), environ
            )
            check(code == 0, f"a half archive left as {out.name}: {text} {err}")
            digest = hashlib.sha256(out.read_bytes()).hexdigest()
            con = duckdb.connect(str(tmp_path / "till.duckdb"), read_only=True)
            try:
                journaled = {str(r[0]) for r in con.execute(
                    "SELECT json_extract_string(detail, '$.sha256') FROM journal WHERE kind = 'archive_export'"
                ).fetchall()}  # fmt: skip
            finally:
                con.close()
            check(digest in journaled, f"an archive on disk that the journal does not record ({digest})")
        else:
            check(True, "no archive yet")
        code, text, err = await harness.run(command(toml, "verify", "--json"), environ)
        check(code == 0, text + err)

    for _ in range(harness.runs()):
        out.unlink(missing_ok=True)  # each run starts without an archive: a kill must not leave a half one
        await harness.kill_at_random(argv, environ, rng, 0.5, 3.0)
        await whole_or_absent()
    code, text, err = await harness.run([*argv, "--json"], environ)
    check(code == 0 and out.exists(), text + err)
    await whole_or_absent()
    leftovers = [p.name for p in out.parent.iterdir() if p != out and not p.name.endswith(".part")]
    check(not leftovers, f"files left beside the archive: {leftovers}")


class Inbox:
    """An aiosmtpd handler keeping every message; each takes a moment, so kills land mid-conversation."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.05)
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def documents(self) -> list[str]:
        with self.lock:
            return [str(m["Subject"]).split()[1] for m in self.messages]


def _mail_jobs(db: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT document_ref, status, possibly_duplicated, copy_number FROM mail_jobs ORDER BY mail_id"
        ).fetchall()
    finally:
        con.close()


def check_mails(db: Path, issued: set[str], kills: int, received: list[str] | None) -> None:
    """One original mail per invoice, queued in its transaction; at the end every one sent, once unless flagged."""
    jobs = _mail_jobs(db)
    originals = Counter(ref for ref, _, _, copy in jobs if not copy)
    check(set(originals) == issued, f"invoices without their mail, or mails without their invoice: "
          f"{issued ^ set(originals)}")  # fmt: skip
    check(all(c == 1 for c in originals.values()), f"an invoice mailed twice in the queue: {originals}")
    if received is None:
        return
    check(
        all(status == "sent" for _, status, _, _ in jobs),
        f"mails left: {[j for j in jobs if j[1] != 'sent']}",
    )
    counts = Counter(received)
    check(issued <= set(counts), f"mails the server never got: {issued - set(counts)}")
    doubled = {ref for ref, c in counts.items() if c > 1}
    flagged = {ref for ref, _, dup, _ in jobs if dup}
    check(doubled <= flagged, f"mails sent twice without a flag: {doubled - flagged}")
    check(
        len(doubled) <= kills and all(c <= 1 + kills for c in counts.values()), f"too many doubles {counts}"
    )


async def test_invoice_email_killed_n_times_then_every_mail_once(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    rng, _shop, url = await harness.seeded_shop("invoice-email", shop_factory, 60)
    toml = await harness.imported_till(tmp_path, url)
    port = free_port()
    with toml.open("a", encoding="utf-8") as f:
        f.write("\n[mail]\n" + "".join(
            f"{k} = {str(v).lower() if isinstance(v, bool) else repr(v).replace(chr(39), chr(34))}\n"
            for k, v in mail_table(port).items()
        ))  # fmt: skip
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    db = tmp_path / "till.duckdb"
    environ = env()
    try:
        argv = command(toml, "invoice", "--pending", "--email", "--mail-timeout", "60")
        kills = 0
        retry = command(toml, "mail", "retry", "--mail-timeout", "60")
        for _ in range(harness.runs()):
            # mostly invoicing with mails; sometimes the queue alone, as `mail retry` sends it
            kills += await harness.kill_at_random(rng.choice([argv, argv, retry]), environ, rng, 1.0, 6.0)
            issued = harness.check_documents(db)
            check_mails(db, {str(r) for r in _invoice_numbers(db)}, kills, None)
            check(issued == len(_invoice_numbers(db)), "invoices counted twice")
        code, _, err = await harness.run(argv, environ, timeout=600)
        check(code in (0, 1), err)  # 1: some mail still waits (sent below)
        code, text, err = await harness.run(
            command(toml, "mail", "retry", "--mail-timeout", "300"), environ, timeout=600
        )
        check(code == 0, text + err)
        issued_numbers = set(_invoice_numbers(db))
        check(bool(issued_numbers), "nothing invoiced")
        check_mails(db, issued_numbers, kills, inbox.documents())
        code, text, err = await harness.run(command(toml, "verify", "--json"), environ)
        check(code == 0, text + err)
    finally:
        server.stop()


def _invoice_numbers(db: Path) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [
            str(r[0]) for r in con.execute("SELECT number FROM invoices WHERE kind = 'invoice'").fetchall()
        ]
    finally:
        con.close()
