"""Documents side of the library API: A4 PDFs, Factur-X, and the mail queue.

* :func:`document_pdf` makes the PDF of a stored invoice, credit note or delivery note (the
  first one made is the original, each later one a journaled DUPLICATA n);
* :func:`write_pdfs` writes the originals of documents just issued (``invoice --pdf DIR``);
* :class:`MailRequest` / :func:`mail_hook` enqueue each new document's mail inside the
  document's own transaction (``invoice --email``); :func:`send_mails` runs the sender;
* :func:`send_document` mails a stored document again (``document send``);
* :func:`mail_queue` and :func:`retry_mails` show and release the queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastimport.config import Config
from fastimport.errors import ProcessingError
from fastimport.store.db import Connection

if TYPE_CHECKING:
    from fastimport.documents.mail import MailEnqueued, MailInfo
    from fastimport.documents.pdf import Rendered
    from fastimport.processing.invoicing import DocumentsHook

DEFAULT_MAIL_TIMEOUT = 30.0


def _actor(actor: str | None) -> str:
    from fastimport.api.processing import default_actor

    return actor or default_actor()


def _next_copy(con: Connection, number: str) -> int:
    row = con.execute(
        "SELECT max(copy_number) FROM document_copies WHERE document_ref = ?", [number]
    ).fetchall()
    return 0 if row[0][0] is None else int(row[0][0]) + 1


def _render(config: Config, con: Connection, number: str, copy_number: int) -> Rendered:
    from fastimport.documents import pdf, records
    from fastimport.documents.settings import documents_settings, logo_path
    from fastimport.processing.settings import load_settings

    settings = documents_settings(config)
    doc = records.load_document(con, load_settings(config), number, copy_number)
    return pdf.render(doc, settings, logo_path(config, settings))


def document_pdf(config: Config, con: Connection, number: str, *, actor: str | None = None) -> Rendered:
    """The A4 PDF of a stored document; a copy after the first says DUPLICATA n and is journaled."""
    from fastimport.processing import chain
    from fastimport.processing.settings import load_settings
    from fastimport.store.db import transaction

    with transaction(con):
        copy = _next_copy(con, number)
        rendered = _render(config, con, number, copy)
        who = _actor(actor)
        con.execute("INSERT INTO document_copies VALUES (?, ?, now(), 'pdf', ?)", [number, copy, who])
        if copy:
            key = load_settings(config).key()
            chain.journal(con, key, "document_copy", who, number, {"copy": copy, "channel": "pdf"})
    return rendered


def write_pdfs(config: Config, con: Connection, numbers: Sequence[str], directory: str | Path) -> list[Path]:
    """Write the original PDF of each document just issued to ``directory`` (``NUMBER.pdf``)."""
    from fastimport.documents import records
    from fastimport.documents.batch import render_many
    from fastimport.documents.settings import documents_settings, logo_path
    from fastimport.processing.settings import load_settings
    from fastimport.store.db import transaction

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    # Read here, rendered on every core (plain records go to the workers, never the store).
    docs = records.load_documents(con, load_settings(config), list(numbers))
    settings = documents_settings(config)
    for number, rendered in zip(
        numbers, render_many(docs, settings, logo_path(config, settings)), strict=True
    ):
        path = out / rendered.filename
        path.write_bytes(rendered.pdf)
        paths.append(path)
        with transaction(con):
            con.execute("INSERT INTO document_copies VALUES (?, 0, now(), 'pdf', 'till')", [number])
    return paths


@dataclass(frozen=True, slots=True)
class MailRequest:
    """Mail each new document to its buyer, then send for at most ``timeout`` seconds (0: queue only)."""

    timeout: float = DEFAULT_MAIL_TIMEOUT


class MailSending:
    """A mail request resolved before anything is written: the [mail] table checked, the queued mails."""

    def __init__(self, config: Config, request: MailRequest) -> None:
        from fastimport.documents.mail import MailEnqueued
        from fastimport.documents.settings import mail_settings

        if request.timeout < 0:
            raise ProcessingError("the mail timeout must be 0 (queue only) or a number of seconds")
        mail_settings(config).require()
        self.config, self.timeout = config, request.timeout
        self.enqueued: MailEnqueued = MailEnqueued()

    def hook(self) -> DocumentsHook:
        from fastimport.documents.mail import mail_hook

        return mail_hook(self.enqueued)

    def send(self, con: Connection) -> MailOutcome:
        return send_mails(self.config, con, timeout=self.timeout, enqueued=len(self.enqueued.mails))


@dataclass
class MailOutcome:
    enqueued: int
    sent: int
    waiting: list[MailInfo] = field(default_factory=list)
    failed: list[MailInfo] = field(default_factory=list)
    recovered: int = 0

    @property
    def ok(self) -> bool:
        return not self.waiting and not self.failed

    def to_json(self) -> dict[str, Any]:
        return {
            "enqueued": self.enqueued, "sent": self.sent, "recovered": self.recovered,
            "waiting": [m.to_json() for m in self.waiting], "failed": [m.to_json() for m in self.failed],
        }  # fmt: skip

    def describe(self) -> list[str]:
        lines = [f"mails: {self.enqueued} queued, {self.sent} sent"]
        for m in self.waiting:
            lines.append(
                f"  mail {m.mail_id} ({m.document_ref} to {m.recipient}) waits: {m.last_error or 'not sent yet'}"
            )
        for m in self.failed:
            lines.append(
                f"  mail {m.mail_id} ({m.document_ref}) failed: {m.last_error} (`fastimport mail retry {m.mail_id}`)"
            )
        return lines


def mail_hook(config: Config, request: MailRequest | None = None) -> MailSending:
    """Resolve a mail request; pass ``.hook()`` as ``on_documents`` and call ``.send(con)`` afterwards."""
    return MailSending(config, request or MailRequest())


def send_mails(
    config: Config, con: Connection, *, timeout: float = DEFAULT_MAIL_TIMEOUT, enqueued: int = 0,
    actor: str | None = None,
) -> MailOutcome:  # fmt: skip
    """Send the queue for at most ``timeout`` seconds (0: do not send); what is left waits, nothing is lost."""
    from fastimport.documents.mail import MailWorker, list_mails
    from fastimport.documents.settings import documents_settings, logo_path, mail_settings
    from fastimport.processing.settings import load_settings

    sent = recovered = 0
    if timeout > 0:
        docs = documents_settings(config)
        worker = MailWorker(con, mail_settings(config).require(), docs, load_settings(config),
                            logo=logo_path(config, docs), actor=_actor(actor))  # fmt: skip
        report = worker.run(until_empty=True, max_seconds=timeout)
        sent, recovered = report.sent, report.recovered
    queue = list_mails(con)
    return MailOutcome(
        enqueued, sent, [m for m in queue if m.status in ("queued", "sending")],
        [m for m in queue if m.status == "failed"], recovered,
    )  # fmt: skip


def send_document(
    config: Config, con: Connection, number: str, *, to: str | None = None, timeout: float = DEFAULT_MAIL_TIMEOUT,
    actor: str | None = None,
) -> MailOutcome:  # fmt: skip
    """Mail a stored document (a copy after the first is a DUPLICATA) to its buyer, or to ``to``."""
    from fastimport.documents import mail, records
    from fastimport.documents.settings import mail_settings
    from fastimport.store.db import transaction

    mail_settings(config).require()
    kind = records.document_kind(con, number)
    if kind is None:
        raise ProcessingError(f"no invoice, credit note or delivery note numbered {number}: check the number")
    address = to
    if address is None:
        lookup = number
        if kind == "delivery_note":
            row = con.execute("SELECT invoice_number FROM shipments WHERE number = ?", [number]).fetchall()
            lookup = str(row[0][0]) if row and row[0][0] else number
        address = mail.buyer_emails(con, [lookup]).get(lookup, "")
    if not address:
        raise ProcessingError(f"{number}: the buyer has no e-mail address; give one with --to")
    with transaction(con):
        copy = _next_copy(con, number)
        mail.enqueue(con, number, address, copy)
        con.execute(
            "INSERT INTO document_copies VALUES (?, ?, now(), 'mail', ?)", [number, copy, _actor(actor)]
        )
    return send_mails(config, con, timeout=timeout, enqueued=1, actor=actor)


def mail_queue(con: Connection, status: str | None = None) -> list[MailInfo]:
    from fastimport.documents.mail import list_mails

    return list_mails(con, status)


def retry_mails(config: Config, con: Connection, mail_id: int | None = None, *,
                timeout: float = DEFAULT_MAIL_TIMEOUT) -> tuple[int, MailOutcome]:  # fmt: skip
    """Release failed / waiting mails (one or all) and send; returns (how many released, the outcome)."""
    from fastimport.documents.mail import retry

    released = retry(con, mail_id)
    if mail_id is not None and released == 0:
        raise ProcessingError(f"no mail {mail_id} waiting or failed (see `fastimport mail queue`)")
    return released, send_mails(config, con, timeout=timeout)
