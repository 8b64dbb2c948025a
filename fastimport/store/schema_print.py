"""DDL owned by the printing room (the persistent print queue), migration 3.

One row per print job.  ``payload`` holds the rendered ESC/POS bytes, so a
job prints the same bytes whenever it is sent; ``preview`` is the text
preview of those bytes.  Status moves queued → sending → printed; ``sending``
is committed before the first byte goes out, so a job found in ``sending`` at
start-up was interrupted and is re-queued with ``possibly_duplicated``.
``failed`` is terminal until ``print retry`` (e.g. the printer is no longer
configured).  No secondary index: DuckDB scans this table in well under a
millisecond at a till's volume, and indexed columns that are updated often
are a known DuckDB pitfall.
"""

STATEMENTS: tuple[str, ...] = (
    "CREATE SEQUENCE print_job_seq START 1",
    """CREATE TABLE print_jobs (
        job_id BIGINT PRIMARY KEY DEFAULT nextval('print_job_seq'),
        created_at TIMESTAMPTZ NOT NULL,
        kind VARCHAR NOT NULL,
        document_ref VARCHAR NOT NULL,
        printer VARCHAR NOT NULL,
        payload BLOB NOT NULL,
        preview VARCHAR NOT NULL,
        status VARCHAR NOT NULL DEFAULT 'queued'
            CHECK (status IN ('queued', 'sending', 'printed', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error VARCHAR,
        next_attempt_at TIMESTAMPTZ NOT NULL,
        sent_at TIMESTAMPTZ,
        printed_at TIMESTAMPTZ,
        copy_number INTEGER NOT NULL DEFAULT 0,
        possibly_duplicated BOOLEAN NOT NULL DEFAULT false,
        reprint_of BIGINT
    )""",
)
