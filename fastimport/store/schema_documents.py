"""DDL owned by the documents room (the persistent mail queue, the PDF copies), migration 5.

``mail_jobs``: one row per e-mail of a document to its buyer.  It is written in the
document's own transaction (``invoice --email``) or by ``document send``; the PDF is
rendered when the mail is sent, from the stored, signed record, so a retried mail
carries the same document.  Status moves queued → sending → sent; ``sending`` is
committed before the SMTP conversation starts, so a row found in ``sending`` at
start-up was interrupted and is re-queued with ``possibly_duplicated`` (the mail
may have left once).  ``failed`` (no address, an address the server refuses for
good) waits for ``mail retry``.

``document_copies``: every PDF made of a document (a log, no key): the PDFs made with the
document (``invoice --pdf/--email``) and the first one made later are the original (copy 0),
each later one says DUPLICATA n (as the till's tickets do).
"""

STATEMENTS: tuple[str, ...] = (
    "CREATE SEQUENCE mail_job_seq START 1",
    """CREATE TABLE mail_jobs (
        mail_id BIGINT PRIMARY KEY DEFAULT nextval('mail_job_seq'),
        created_at TIMESTAMPTZ NOT NULL,
        document_ref VARCHAR NOT NULL,
        recipient VARCHAR NOT NULL,
        copy_number INTEGER NOT NULL DEFAULT 0,
        status VARCHAR NOT NULL DEFAULT 'queued'
            CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error VARCHAR,
        next_attempt_at TIMESTAMPTZ NOT NULL,
        sent_at TIMESTAMPTZ,
        message_id VARCHAR,
        possibly_duplicated BOOLEAN NOT NULL DEFAULT false
    )""",
    """CREATE TABLE document_copies (
        document_ref VARCHAR NOT NULL,
        copy_number INTEGER NOT NULL,
        made_at TIMESTAMPTZ NOT NULL,
        channel VARCHAR NOT NULL,
        actor VARCHAR NOT NULL
    )""",
)
