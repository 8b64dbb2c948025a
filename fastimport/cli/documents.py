"""``fastimport document pdf|send`` and ``fastimport mail queue|retry``: the customer's documents."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastimport.cli.common import EXIT_FAILURE, EXIT_OK, Session, output

if TYPE_CHECKING:
    from fastimport.api.documents import MailSending

MAIL_TIMEOUT_HELP = "send for at most this long, then leave the rest queued (default 30; 0: queue only)"


def add_documents_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doc = sub.add_parser("document", help="A4 PDF of an invoice, credit note or delivery note; mail it")
    dsub = doc.add_subparsers(dest="document_command", metavar="ACTION", required=True)
    p = dsub.add_parser(
        "pdf", help="write the A4 PDF (Factur-X for a business buyer); a later copy is a DUPLICATA"
    )
    p.add_argument("number", metavar="NUMBER", help="e.g. FA-2026-eshop-000042, AV-..., BL-...")
    p.add_argument("--out", metavar="FILE", help="where to write it (default: NUMBER.pdf here; - for stdout)")
    p.add_argument("--actor", help="who asks for it (recorded with a copy; default: $USER)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_document_pdf)
    s = dsub.add_parser("send", help="mail the PDF to the buyer (through the mail queue)")
    s.add_argument("number", metavar="NUMBER", help="the document to mail, e.g. FA-2026-eshop-000042")
    s.add_argument("--to", metavar="ADDRESS", help="another address than the buyer's")
    s.add_argument("--mail-timeout", type=float, default=30.0, metavar="SECONDS", help=MAIL_TIMEOUT_HELP)
    s.add_argument("--actor", help="who sends it (recorded with a copy; default: $USER)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(handler=cmd_document_send)

    mail = sub.add_parser("mail", help="the mail queue: what waits, and sending it again")
    msub = mail.add_subparsers(dest="mail_command", metavar="ACTION", required=True)
    q = msub.add_parser("queue", help="list the mails (queued, sending, sent, failed)")
    q.add_argument(
        "--status", choices=("queued", "sending", "sent", "failed"), help="only mails in this state"
    )
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_mail_queue)
    r = msub.add_parser("retry", help="send the waiting and failed mails now (or one of them)")
    r.add_argument(
        "mail_id", nargs="?", type=int, metavar="ID", help="one mail (default: every waiting or failed mail)"
    )
    r.add_argument("--mail-timeout", type=float, default=30.0, metavar="SECONDS", help=MAIL_TIMEOUT_HELP)
    r.add_argument("--json", action="store_true")
    r.set_defaults(handler=cmd_mail_retry)


def add_invoice_options(parser: argparse.ArgumentParser) -> None:
    """``invoice --pdf DIR --email``: the documents room's options on the invoice command."""
    parser.add_argument("--pdf", metavar="DIR", help="write each invoice's A4 PDF to DIR (NUMBER.pdf)")
    parser.add_argument(
        "--email", action="store_true", help="mail each invoice's PDF to its buyer (queued with the invoice)"
    )
    parser.add_argument("--mail-timeout", type=float, default=30.0, metavar="SECONDS", help=MAIL_TIMEOUT_HELP)


def cmd_document_pdf(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.documents import document_pdf

    rendered = document_pdf(session.config, session.con, args.number, actor=args.actor)
    if args.out == "-":
        sys.stdout.buffer.write(rendered.pdf)
        return EXIT_OK
    path = Path(args.out or rendered.filename)
    path.write_bytes(rendered.pdf)
    value = {"number": rendered.number, "kind": rendered.kind, "file": str(path), "facturx": rendered.facturx,
             "bytes": len(rendered.pdf)}  # fmt: skip
    output(
        args, value, lambda: print(f"{rendered.number}: {path}" + (" (Factur-X)" if rendered.facturx else ""))
    )
    return EXIT_OK


def _say(outcome_lines: list[str]) -> None:
    print(outcome_lines[0])
    for line in outcome_lines[1:]:
        print(line, file=sys.stderr)


def cmd_document_send(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.documents import send_document

    outcome = send_document(
        session.config, session.con, args.number, to=args.to, timeout=args.mail_timeout, actor=args.actor
    )
    output(args, outcome.to_json(), lambda: _say(outcome.describe()))
    return EXIT_OK if outcome.ok or args.mail_timeout == 0 else EXIT_FAILURE


def cmd_mail_queue(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.documents import mail_queue

    mails = mail_queue(session.con, args.status)

    def text() -> None:
        if not mails:
            print("the mail queue is empty")
        for m in mails:
            flag = " (may have been sent twice)" if m.possibly_duplicated else ""
            error = f": {m.last_error}" if m.last_error and m.status != "sent" else ""
            print(f"{m.mail_id:>5} {m.status:<8} {m.document_ref} to {m.recipient or '?'}, "
                  f"{m.attempts} attempt{'s' if m.attempts != 1 else ''}{flag}{error}")  # fmt: skip

    output(args, [m.to_json() for m in mails], text)
    return EXIT_OK


def cmd_mail_retry(args: argparse.Namespace, session: Session) -> int:
    from fastimport.api.documents import retry_mails

    released, outcome = retry_mails(session.config, session.con, args.mail_id, timeout=args.mail_timeout)
    output(args, {"released": released} | outcome.to_json(), lambda: _say(outcome.describe()))
    return EXIT_OK if outcome.ok or args.mail_timeout == 0 else EXIT_FAILURE


def invoice_mailing(args: argparse.Namespace, session: Session) -> MailSending | None:
    """The mail request of ``invoice --email`` (the [mail] table checked before anything is written)."""
    if not getattr(args, "email", False):
        return None
    from fastimport.api.documents import MailRequest, mail_hook

    return mail_hook(session.config, MailRequest(timeout=args.mail_timeout))


def after_invoice(
    args: argparse.Namespace, session: Session, numbers: list[str], mailing: MailSending | None
) -> tuple[dict[str, Any], list[str], bool]:
    """``invoice --pdf/--email`` once the invoices committed: (JSON fields, lines to say, all went well)."""
    from fastimport.api.documents import write_pdfs

    value: dict[str, Any] = {}
    lines: list[str] = []
    ok = True
    if getattr(args, "pdf", None) and numbers:
        paths = write_pdfs(session.config, session.con, numbers, args.pdf)
        value["pdf"] = [str(p) for p in paths]
        lines.append(f"PDF: {len(paths)} written to {args.pdf}")
    if mailing is not None:
        outcome = mailing.send(session.con)
        value["mail"] = outcome.to_json()
        lines += outcome.describe()
        ok = outcome.ok or args.mail_timeout == 0
    return value, lines, ok
