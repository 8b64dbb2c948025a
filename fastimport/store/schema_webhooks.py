"""Webhook deliveries: each signed delivery kept as received, before the till answers the shop.

A delivery is written (and committed) before the 200 goes back, then processed through the
import's parse -> dedup -> store path; ``processed_at`` stays NULL until then, so a till stopped
between the answer and the processing processes it at its next start.  ``order_id`` is the order
the delivery carried once processed; ``run_id`` the ``import_runs`` row (mode ``webhook``) that
stored it.
"""

from __future__ import annotations

STATEMENTS: tuple[str, ...] = (
    "CREATE SEQUENCE webhook_delivery_seq START 1",
    """CREATE TABLE webhook_deliveries (
        delivery_id BIGINT PRIMARY KEY DEFAULT nextval('webhook_delivery_seq'),
        store_id INTEGER NOT NULL,
        remote_id VARCHAR,
        topic VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        received_at TIMESTAMPTZ NOT NULL,
        body BLOB NOT NULL,
        order_id BIGINT,
        processed_at TIMESTAMPTZ,
        run_id BIGINT,
        error VARCHAR
    )""",
)
