"""The persistent mail queue (table ``mail_jobs``) and the worker that sends it over SMTP.

* :func:`enqueue` stores a mail and opens no transaction, so ``invoice --email`` enqueues
  inside the invoice's own transaction (an invoice never exists without its mail, nor a
  mail without its invoice).
* :class:`MailWorker` sends queued mails in order: the PDF is rendered from the stored
  record, the row is marked ``sending`` (committed) before the SMTP conversation, ``sent``
  once the server accepted the message (and the sending is journaled).  A server that is
  down or answers 4xx keeps the mail queued with exponential backoff; a 5xx refusal of the
  address marks it ``failed`` until ``mail retry``.  At start a worker re-queues any mail
  left ``sending`` by a killed worker and flags it ``possibly_duplicated``: that one, and
  only that one, may reach the buyer twice.

One worker per database at a time (DuckDB lets one process write a file).
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import orjson

from fastimport.documents import pdf, records
from fastimport.documents.settings import DocumentsSettings, MailSettings
from fastimport.errors import FastImportError
from fastimport.processing import chain
from fastimport.processing.invoicing import DocumentsHook
from fastimport.processing.settings import ProcessingSettings
from fastimport.store.db import Connection, transaction

MAY_HAVE_SENT_TWICE = "may have been sent twice (the sender was stopped mid-send)"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class MailInfo:
    mail_id: int
    document_ref: str
    recipient: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    sent_at: datetime | None
    copy_number: int
    possibly_duplicated: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.mail_id, "document": self.document_ref, "to": self.recipient, "status": self.status,
            "attempts": self.attempts, "last_error": self.last_error,
            "next_attempt_at": self.next_attempt_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None, "copy": self.copy_number,
            "possibly_duplicated": self.possibly_duplicated,
        }  # fmt: skip


_COLUMNS = (
    "mail_id, document_ref, recipient, status, attempts, last_error, next_attempt_at, sent_at, copy_number, "
    "possibly_duplicated"
)


def _info(row: Sequence[Any]) -> MailInfo:
    return MailInfo(int(row[0]), str(row[1]), str(row[2]), str(row[3]), int(row[4]), row[5], row[6], row[7],
                    int(row[8]), bool(row[9]))  # fmt: skip


def enqueue(con: Connection, number: str, recipient: str, copy_number: int = 0) -> int:
    """Store a mail of document ``number`` to ``recipient``; opens no transaction of its own.

    No address: the mail is stored ``failed`` with the reason, so the shopkeeper sees it.
    """
    now = utcnow()
    status, error = ("queued", None) if recipient else ("failed", "the buyer has no e-mail address")
    row = con.execute(
        "INSERT INTO mail_jobs (created_at, document_ref, recipient, copy_number, status, last_error, "
        "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING mail_id",
        [now, number, recipient, copy_number, status, error, now],
    ).fetchall()
    return int(row[0][0])


def buyer_emails(con: Connection, numbers: Sequence[str]) -> dict[str, str]:
    """The e-mail address frozen in each invoice / credit note (the buyer at the time of the sale)."""
    rows = con.execute(
        "SELECT number, buyer FROM invoices WHERE number IN (SELECT unnest(?::VARCHAR[]))", [list(numbers)]
    ).fetchall()
    out = {}
    for number, buyer in rows:
        data = orjson.loads(buyer) if buyer else {}
        out[str(number)] = str(data.get("email") or "").strip() if isinstance(data, dict) else ""
    return out


@dataclass
class MailEnqueued:
    """The mails a command queued (filled by its hook, inside the documents' transactions)."""

    mails: list[tuple[int, str]] = field(default_factory=list)  # (mail id, document number)


def mail_hook(enqueued: MailEnqueued) -> DocumentsHook:
    """The ``on_documents`` hook that enqueues each new document's mail to its buyer (copy 0)."""

    def hook(con: Connection, numbers: Sequence[str]) -> None:
        emails = buyer_emails(con, numbers)
        for number in numbers:
            enqueued.mails.append((enqueue(con, number, emails.get(number, "")), number))
            con.execute("INSERT INTO document_copies VALUES (?, 0, now(), 'mail', 'mail')", [number])

    return hook


def list_mails(con: Connection, status: str | None = None) -> list[MailInfo]:
    sql = f"SELECT {_COLUMNS} FROM mail_jobs"
    params: list[Any] = []
    if status is not None:
        sql += " WHERE status = ?"
        params.append(status)
    return [_info(r) for r in con.execute(sql + " ORDER BY mail_id", params).fetchall()]


def retry(con: Connection, mail_id: int | None = None) -> int:
    """Queue failed or waiting mails (one, or all) for sending now; returns how many."""
    with transaction(con):
        sql = (
            "UPDATE mail_jobs SET status = 'queued', next_attempt_at = ? WHERE status IN ('queued', 'failed')"
        )
        params: list[Any] = [utcnow()]
        if mail_id is not None:
            sql += " AND mail_id = ?"
            params.append(mail_id)
        if mail_id is None:
            sql += " AND recipient <> ''"
        rows = con.execute(sql + " RETURNING mail_id", params).fetchall()
    return len(rows)


class SmtpTemporary(Exception):
    """The server is down, or answered 4xx: try again later."""


class SmtpRefused(Exception):
    """The server refused this mail for good (5xx): wait for ``mail retry``."""


@dataclass
class WorkerReport:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    recovered: int = 0
    errors: list[str] = field(default_factory=list)


class MailWorker:
    """Sends the queue over one SMTP connection, kept open across mails and reopened after a failure."""

    def __init__(
        self,
        con: Connection,
        mail: MailSettings,
        documents: DocumentsSettings,
        processing: ProcessingSettings,
        *,
        logo: Path | None = None,
        actor: str = "mail",
        on_sent: Callable[[int], None] | None = None,
    ) -> None:
        self.con, self.mail, self.documents, self.processing = con, mail, documents, processing
        self.logo, self.actor, self.on_sent = logo, actor, on_sent
        self._smtp: smtplib.SMTP | None = None

    # -- the queue ---------------------------------------------------------------------------------

    def recover(self) -> int:
        """Mails left ``sending`` by a killed worker: queued again, flagged (they may have left once)."""
        with transaction(self.con):
            rows = self.con.execute(
                "UPDATE mail_jobs SET status = 'queued', possibly_duplicated = true, last_error = ?, "
                "next_attempt_at = ? WHERE status = 'sending' RETURNING mail_id",
                [MAY_HAVE_SENT_TWICE, utcnow()],
            ).fetchall()
        return len(rows)

    def _next(self) -> MailInfo | None:
        rows = self.con.execute(
            f"SELECT {_COLUMNS} FROM mail_jobs WHERE status = 'queued' AND next_attempt_at <= ? "
            "ORDER BY mail_id LIMIT 1",
            [utcnow()],
        ).fetchall()
        return _info(rows[0]) if rows else None

    def _waiting(self) -> bool:
        return bool(self.con.execute("SELECT 1 FROM mail_jobs WHERE status = 'queued' LIMIT 1").fetchall())

    def run(self, *, until_empty: bool = True, max_seconds: float = 30.0, poll: float = 0.2) -> WorkerReport:
        """Send until the queue is empty (or only holds mails waiting on backoff past the deadline)."""
        report = WorkerReport(recovered=self.recover())
        deadline = time.monotonic() + max_seconds
        try:
            while time.monotonic() < deadline:
                job = self._next()
                if job is None:
                    if until_empty and not self._waiting():
                        break
                    time.sleep(poll)
                    continue
                self._send_one(job, report)
        finally:
            self.close()
        return report

    # -- one mail ----------------------------------------------------------------------------------

    def message(self, job: MailInfo) -> EmailMessage:
        doc = records.load_document(self.con, self.processing, job.document_ref, job.copy_number)
        rendered = pdf.render(doc, self.documents, self.logo)
        values = _template_values(doc)
        msg = EmailMessage()
        msg["From"] = self.mail.sender
        msg["To"] = job.recipient
        if self.mail.reply_to:
            msg["Reply-To"] = self.mail.reply_to
        msg["Subject"] = self.mail.subject.format(**values)
        msg["Message-ID"] = make_msgid(f"mail{job.mail_id}.{job.document_ref}", "fastimport")
        if job.possibly_duplicated:
            msg["X-Fastimport-Resent"] = "yes"
        msg.set_content(self.mail.body.format(**values))
        msg.add_attachment(rendered.pdf, maintype="application", subtype="pdf", filename=rendered.filename)
        return msg

    def _send_one(self, job: MailInfo, report: WorkerReport) -> None:
        try:
            msg = self.message(job)  # rendered before "sending": a crash here sends nothing
        except FastImportError as exc:  # the document is gone, a bad template...: this mail waits for a fix
            self._mark(job, "failed", f"the mail could not be made: {exc.message}", utcnow())
            report.failed += 1
            report.errors.append(exc.message)
            return
        except (KeyError, ValueError, IndexError) as exc:  # a [mail] subject/body naming an unknown {field}
            self._mark(job, "failed", f"the [mail] subject or body template is wrong: {exc!r}", utcnow())
            report.failed += 1
            report.errors.append(str(exc))
            return
        with transaction(self.con):
            self.con.execute(
                "UPDATE mail_jobs SET status = 'sending', attempts = attempts + 1 WHERE mail_id = ?",
                [job.mail_id],
            )
        try:
            self._deliver(msg)
        except SmtpTemporary as exc:
            delay = min(self.mail.backoff_max, self.mail.backoff_base * 2 ** min(job.attempts, 16))
            self._mark(job, "queued", str(exc), utcnow() + timedelta(seconds=delay))
            report.deferred += 1
            report.errors.append(str(exc))
            return
        except SmtpRefused as exc:
            self._mark(job, "failed", str(exc), utcnow())
            report.failed += 1
            report.errors.append(str(exc))
            return
        with transaction(self.con):
            self.con.execute(
                "UPDATE mail_jobs SET status = 'sent', sent_at = ?, message_id = ?, last_error = NULL "
                "WHERE mail_id = ?",
                [utcnow(), str(msg["Message-ID"]), job.mail_id],
            )
            chain.journal(
                self.con, self.processing.key(), "mail_sent", self.actor, job.document_ref,
                {"mail": job.mail_id, "to": job.recipient, "copy": job.copy_number,
                 "possibly_duplicated": job.possibly_duplicated},
            )  # fmt: skip
        report.sent += 1
        if self.on_sent is not None:
            self.on_sent(job.mail_id)

    def _mark(self, job: MailInfo, status: str, error: str, when: datetime) -> None:
        with transaction(self.con):
            self.con.execute(
                "UPDATE mail_jobs SET status = ?, last_error = ?, next_attempt_at = ? WHERE mail_id = ?",
                [status, error, when, job.mail_id],
            )

    # -- SMTP --------------------------------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        m = self.mail
        try:
            smtp: smtplib.SMTP
            if m.ssl:
                smtp = smtplib.SMTP_SSL(
                    m.host, m.port, timeout=m.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(m.host, m.port, timeout=m.timeout)
                if m.starttls:
                    smtp.starttls(context=ssl.create_default_context())
            login = m.credentials()
            if login is not None:
                smtp.login(*login)
        except (OSError, smtplib.SMTPException) as exc:
            raise SmtpTemporary(
                f"the mail server {m.host}:{m.port} cannot be reached ({_reason(exc)})"
            ) from exc
        return smtp

    def _deliver(self, msg: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(code >= 500 for code in codes):
                raise SmtpRefused(
                    f"the mail server refuses the address {msg['To']} ({_reason(exc)})"
                ) from exc
            self.close()
            raise SmtpTemporary(f"the mail server defers the address {msg['To']} ({_reason(exc)})") from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            if exc.smtp_code >= 500:
                raise SmtpRefused(f"the mail server refuses the message ({_reason(exc)})") from exc
            raise SmtpTemporary(f"the mail server asks to try later ({_reason(exc)})") from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise SmtpTemporary(f"the mail server connection failed ({_reason(exc)})") from exc

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return f"{exc.smtp_code} {text}"
    return str(exc) or type(exc).__name__


def _template_values(doc: records.StoredDocument) -> dict[str, str]:
    if isinstance(doc, records.StoredFiscal):
        t = doc.ticket
        title = pdf.TITLES[doc.kind].capitalize()
        buyer = t.buyer_name or str(doc.buyer.get("company") or "")
        return {"title": title, "title_lower": title.lower(), "number": t.number, "seller": t.seller.name,
                "buyer": buyer, "date": t.issued_at.strftime("%d/%m/%Y"), "total": pdf._eur(doc.total_ttc)}  # fmt: skip
    return {"title": "Bon de livraison", "title_lower": "bon de livraison", "number": doc.number,
            "seller": doc.seller.name, "buyer": doc.delivery_name, "date": doc.date.strftime("%d/%m/%Y"),
            "total": ""}  # fmt: skip
