"""The mail queue through a real SMTP server on loopback (aiosmtpd): delivery, outage, SIGKILL mid-send."""

from __future__ import annotations

import asyncio
import email
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from fastimport.api.documents import mail_hook, mail_queue, retry_mails, send_document, send_mails
from fastimport.api.processing import invoice
from fastimport.config import Config
from fastimport.store import connect
from tests.documents_support import add_order, documents_config, setup_store
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY, write_toml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """An aiosmtpd handler keeping every message; ``stall_on`` holds the n-th message's reply back."""

    def __init__(self, stall_on: int | None = None) -> None:
        self.messages: list[Message] = []
        self.stall_on = stall_on
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
            n = len(self.messages)
        if n == self.stall_on:
            await asyncio.sleep(60)  # received, but the client never hears "250" (it is killed meanwhile)
        return "250 OK"

    def documents(self) -> list[str]:
        return [str(m["Subject"]).split()[1] for m in self.messages]


def mail_table(port: int) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": port, "starttls": False, "from": "Boutique <factures@example.fr>",
            "reply_to": "contact@example.fr", "backoff_base": 0.05, "backoff_max": 0.2, "timeout": 5.0}  # fmt: skip


def _store(tmp_path: Path, port: int, orders: int) -> tuple[Config, list[str]]:
    config = documents_config(tmp_path, mail=mail_table(port))
    con = connect(config.target)
    setup_store(con)
    for oid in range(1, orders + 1):
        add_order(con, oid, [(1 + oid % 6, 1, 1000 + oid, "")], shipping_cents=490, business=oid % 2 == 0,
                  email=f"client{oid}@example.org")  # fmt: skip
    sending = mail_hook(config)
    done = invoice(config, con, pending=True, on_documents=sending.hook())
    numbers = [i.number for i in done.result.issued]
    assert len(numbers) == orders
    queued = mail_queue(con)
    assert [m.document_ref for m in queued] == numbers and all(m.status == "queued" for m in queued)
    con.close()
    return config, numbers


def test_invoice_mail_arrives_with_its_pdf(tmp_path: Path) -> None:
    port = free_port()
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        config, numbers = _store(tmp_path, port, 2)
        con = connect(config.target)
        outcome = send_mails(config, con, timeout=30)
        assert outcome.sent == 2 and outcome.ok
        msg = inbox.messages[0]
        assert msg["Subject"] == f"Facture {numbers[0]} - Boutique Exemple"
        assert msg["To"] == "client1@example.org" and msg["Reply-To"] == "contact@example.fr"
        parts = [p for p in msg.walk() if p.get_content_type() == "application/pdf"]
        assert len(parts) == 1 and parts[0].get_filename() == f"{numbers[0]}.pdf"
        assert parts[0].get_payload(decode=True)[:5] == b"%PDF-"
        body = next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_payload(decode=True)
        assert f"n° {numbers[0]}".encode() in body
        journal = con.execute("SELECT subject FROM journal WHERE kind = 'mail_sent' ORDER BY seq").fetchall()
        assert [r[0] for r in journal] == numbers
        from fastimport.api.processing import verify

        assert verify(config, con).ok  # the mail entries keep the signed journal whole
        # document send: a copy, marked DUPLICATA, to another address
        again = send_document(config, con, numbers[0], to="autre@example.org", timeout=30)
        assert again.sent == 1
        assert inbox.messages[-1]["To"] == "autre@example.org"
        assert mail_queue(con)[-1].copy_number == 1
        con.close()
    finally:
        server.stop()


def test_server_down_then_up_delivers_each_mail_once(tmp_path: Path) -> None:
    port = free_port()
    config, numbers = _store(tmp_path, port, 5)
    con = connect(config.target)
    down = send_mails(config, con, timeout=0.5)  # nobody listens on the port
    assert down.sent == 0 and len(down.waiting) == 5
    assert all("cannot be reached" in (m.last_error or "") for m in mail_queue(con) if m.attempts)
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        released, up = retry_mails(config, con, timeout=30)
        assert released == 5 and up.ok
        assert sorted(inbox.documents()) == sorted(numbers)  # every mail, exactly once
        assert send_mails(config, con, timeout=1).sent == 0  # nothing sent twice
        assert len(inbox.messages) == 5
        assert all(m.status == "sent" and not m.possibly_duplicated for m in mail_queue(con))
    finally:
        server.stop()
        con.close()


SENDER = """
import sys
from fastimport.api.documents import send_mails
from fastimport.config import load_config
from fastimport.store import connect
config = load_config(sys.argv[1])
con = connect(config.target)
send_mails(config, con, timeout=120)
"""


def test_sigkill_mid_queue_resends_only_the_mail_in_flight_flagged(tmp_path: Path) -> None:
    port = free_port()
    config, numbers = _store(tmp_path, port, 5)
    toml = write_toml(tmp_path, "http://127.0.0.1:9")
    with toml.open("a", encoding="utf-8") as f:
        f.write("\n[mail]\n" + "".join(
            f"{k} = {str(v).lower() if isinstance(v, bool) else repr(v).replace(chr(39), chr(34))}\n"
            for k, v in mail_table(port).items()
        ))  # fmt: skip
    inbox = Inbox(stall_on=3)
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        child = subprocess.Popen([sys.executable, "-c", SENDER, str(toml)], env=env, cwd=tmp_path)
        deadline = time.monotonic() + 120
        while len(inbox.messages) < 3 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert len(inbox.messages) == 3, "the sender should be stuck on its third mail"
        child.send_signal(signal.SIGKILL)
        child.wait()
        inbox.stall_on = None
        con = connect(config.target)
        outcome = send_mails(config, con, timeout=30)
        assert outcome.ok and outcome.recovered == 1
        got = inbox.documents()
        assert sorted(set(got)) == sorted(numbers)  # nothing lost
        twice = [n for n in numbers if got.count(n) == 2]
        assert twice == [numbers[2]] and all(got.count(n) == 1 for n in numbers if n not in twice)
        flagged = [m.document_ref for m in mail_queue(con) if m.possibly_duplicated]
        assert flagged == [numbers[2]]
        resent = [m["X-Fastimport-Resent"] for m in inbox.messages if numbers[2] in str(m["Subject"])]
        assert resent == [None, "yes"]
        con.close()
    finally:
        server.stop()


def _toml_with_mail(tmp_path: Path, port: int) -> Path:
    toml = write_toml(tmp_path, "http://127.0.0.1:9")
    with toml.open("a", encoding="utf-8") as f:
        f.write("\n[mail]\n" + "".join(
            f"{k} = {str(v).lower() if isinstance(v, bool) else repr(v).replace(chr(39), chr(34))}\n"
            for k, v in mail_table(port).items()
        ))  # fmt: skip
    return toml


def test_invoice_command_writes_pdfs_and_mails_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fastimport.cli import main

    port = free_port()
    toml = _toml_with_mail(tmp_path, port)
    config = documents_config(tmp_path, mail=mail_table(port))
    con = connect(config.target)
    setup_store(con)
    for oid in (1, 2):
        add_order(con, oid, [(oid, 2, 1500, "")], business=oid == 2, email=f"c{oid}@example.org")
    con.close()
    # The server is down: the invoices are issued, their mails wait (exit 1 says so), nothing is lost.
    out = tmp_path / "pdf"
    code = main(["--config", str(toml), "invoice", "--pending", "--pdf", str(out), "--email",
                 "--mail-timeout", "0.3", "--json"])  # fmt: skip
    assert code == 1
    import orjson

    report = orjson.loads(capsys.readouterr().out)
    numbers = [i["number"] for i in report["invoices"]]
    assert len(numbers) == 2 and sorted(p.name for p in out.iterdir()) == [f"{n}.pdf" for n in numbers]
    assert report["mail"]["sent"] == 0 and len(report["mail"]["waiting"]) == 2
    assert main(["--config", str(toml), "mail", "queue", "--json"]) == 0
    queue = orjson.loads(capsys.readouterr().out)
    assert [m["status"] for m in queue] == ["queued", "queued"] and queue[0]["document"] == numbers[0]
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        assert main(["--config", str(toml), "mail", "retry"]) == 0
        assert sorted(inbox.documents()) == sorted(numbers)
        assert main(["--config", str(toml), "document", "send", numbers[1]]) == 0
        assert len(inbox.messages) == 3
    finally:
        server.stop()
    capsys.readouterr()
    assert main(["--config", str(toml), "mail", "queue"]) == 0
    text = capsys.readouterr().out
    assert text.count(" sent ") == 3
    assert main(["--config", str(toml), "mail", "retry", "99"]) == 1


def test_email_without_mail_table_refuses_before_invoicing(tmp_path: Path) -> None:
    from fastimport.cli import main

    toml = write_toml(tmp_path, "http://127.0.0.1:9")
    config = documents_config(tmp_path)
    con = connect(config.target)
    setup_store(con)
    add_order(con, 1, [(1, 1, 1500, "")])
    con.close()
    assert main(["--config", str(toml), "invoice", "--pending", "--email"]) == 1
    con = connect(config.target)
    assert con.execute("SELECT count(*) FROM invoices").fetchall() == [(0,)]
    con.close()


def test_bad_subject_template_fails_the_mail_in_plain_words(tmp_path: Path) -> None:
    port = free_port()
    _store(tmp_path, port, 1)
    bad = documents_config(tmp_path, mail=mail_table(port) | {"subject": "Facture {numero}"})
    con = connect(bad.target)
    outcome = send_mails(bad, con, timeout=5)
    assert outcome.sent == 0 and len(outcome.failed) == 1
    assert "template is wrong" in (outcome.failed[0].last_error or "")
    con.close()
