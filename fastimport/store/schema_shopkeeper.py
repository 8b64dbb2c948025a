"""DDL of migration 6: the push queue (what the shop is told at each step of the till), and who the
customer of each order is (``order_customers``: a registered customer by id, a guest by e-mail).

One row per message to a shop about one order: written in the same transaction as the document
that caused it (slip, invoice, delivery note, credit note), sent after the command, retried with
backoff while the shop does not answer.  ``state`` moves queued → sent (or failed, terminal until
``push retry``); ``shop_status`` is the status the shop reports once the push is applied, as the till
stores it, so an import does not take the till's own write for a change made on the shop.
"""

STATEMENTS: tuple[str, ...] = (
    "CREATE SEQUENCE push_job_seq START 1",
    """CREATE TABLE push_jobs (
        push_id BIGINT PRIMARY KEY DEFAULT nextval('push_job_seq'),
        store_id INTEGER NOT NULL,
        order_id BIGINT NOT NULL,
        step VARCHAR NOT NULL,
        document VARCHAR,
        details VARCHAR NOT NULL DEFAULT '{}',
        created_at TIMESTAMPTZ NOT NULL,
        state VARCHAR NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TIMESTAMPTZ NOT NULL,
        sent_at TIMESTAMPTZ,
        last_error VARCHAR,
        shop_status VARCHAR
    )""",
    # One customer per e-mail per store: a registered customer is known by id; a guest by the e-mail
    # (trimmed, lower case), which is a registered customer's own when the catalogue sync knows it.
    """CREATE VIEW order_customers AS
        SELECT o.store_id, o.order_id, (coalesce(o.customer_id, 0) = 0) AS guest,
               CASE WHEN coalesce(o.customer_id, 0) <> 0 THEN 'id:' || o.customer_id
                    WHEN r.customer_id IS NOT NULL THEN 'id:' || r.customer_id
                    WHEN nullif(trim(o.email), '') IS NOT NULL THEN 'email:' || lower(trim(o.email))
                    ELSE 'order:' || o.order_id END AS customer_key
        FROM orders o LEFT JOIN (SELECT store_id, lower(trim(email)) AS email, min(customer_id) AS customer_id
                                 FROM customers WHERE nullif(trim(email), '') IS NOT NULL GROUP BY store_id, lower(trim(email))) r
          ON coalesce(o.customer_id, 0) = 0 AND r.store_id = o.store_id AND r.email = lower(trim(o.email))""",
    # Orders an import could not read (set aside with their JSON and the reason) until a clean read.
    """CREATE TABLE set_aside_orders (
        store_id INTEGER NOT NULL,
        order_id BIGINT,
        run_id BIGINT NOT NULL,
        raw BLOB NOT NULL,
        reason VARCHAR NOT NULL,
        first_seen TIMESTAMPTZ NOT NULL,
        last_seen TIMESTAMPTZ NOT NULL,
        resolved_at TIMESTAMPTZ
    )""",
)
