"""The DuckDB schema, versioned: each migration runs once, in order, in one transaction.

Migrations are appended, never edited: a database created by an older fastimport
is brought up to date by running the ones it lacks.  Each room that owns tables
(processing, printing) keeps its DDL in its own ``schema_*`` module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastimport.store import (
    schema_documents,
    schema_fiscal,
    schema_print,
    schema_processing,
    schema_shopkeeper,
    schema_webhooks,
)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]
    # The backend whose database runs the statements; on the other one the migration runs nothing but
    # is recorded all the same, so a DuckDB file and a PostgreSQL database reach the same version.
    backend: Literal["both", "duckdb", "postgres"] = "both"


# Money is DECIMAL(18,2): exact, and wide enough for any till.
CORE_SCHEMA = Migration(
    1,
    "stores, orders, lines, catalogue, import runs, order events",
    (
        """CREATE TABLE stores (
            store_id INTEGER PRIMARY KEY,
            name VARCHAR NOT NULL UNIQUE,
            platform VARCHAR NOT NULL,
            url VARCHAR NOT NULL,
            timezone VARCHAR NOT NULL,
            watermark TIMESTAMPTZ,
            catalog_synced_at TIMESTAMPTZ
        )""",
        """CREATE TABLE orders (
            store_id INTEGER NOT NULL,
            order_id BIGINT NOT NULL,
            number VARCHAR,
            shop_status VARCHAR NOT NULL,
            state VARCHAR NOT NULL DEFAULT 'pending',
            currency VARCHAR,
            created_at TIMESTAMPTZ NOT NULL,
            modified_at TIMESTAMPTZ NOT NULL,
            paid_at TIMESTAMPTZ,
            total DECIMAL(18,2) NOT NULL,
            total_tax DECIMAL(18,2),
            shipping_total DECIMAL(18,2),
            discount_total DECIMAL(18,2),
            prices_include_tax BOOLEAN,
            customer_id BIGINT,
            email VARCHAR,
            first_name VARCHAR,
            last_name VARCHAR,
            company VARCHAR,
            phone VARCHAR,
            ship_name VARCHAR,
            ship_address VARCHAR,
            ship_postcode VARCHAR,
            ship_city VARCHAR,
            ship_country VARCHAR,
            shipping_method VARCHAR,
            shipping_method_title VARCHAR,
            payment_method VARCHAR,
            payment_method_title VARCHAR,
            transaction_id VARCHAR,
            customer_note VARCHAR,
            line_count INTEGER NOT NULL,
            content_hash BIGINT NOT NULL,
            -- The shop's JSON, byte for byte, lives in raw_chunks (see there): chunk, offset, length.
            raw_chunk BIGINT NOT NULL,
            raw_offset INTEGER NOT NULL,
            raw_length INTEGER NOT NULL,
            first_run BIGINT NOT NULL,
            last_run BIGINT NOT NULL,
            imported_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (store_id, order_id)
        )""",
        # Raw payloads, compressed a page at a time (zstd via Arrow). One 3 KB value per order made
        # DuckDB's insert the slowest stage of an import (27k orders/s at best, with column zstd);
        # a ~50 KB compressed chunk per page of orders inserts at over 150k orders/s and is as small.
        """CREATE TABLE raw_chunks (
            chunk_id BIGINT PRIMARY KEY,
            store_id INTEGER NOT NULL,
            codec VARCHAR NOT NULL,
            size INTEGER NOT NULL,
            data BLOB NOT NULL
        )""",
        """CREATE TABLE order_lines (
            store_id INTEGER NOT NULL,
            order_id BIGINT NOT NULL,
            line_no INTEGER NOT NULL,
            line_id BIGINT NOT NULL,
            product_id BIGINT,
            variation_id BIGINT,
            sku VARCHAR,
            name VARCHAR,
            quantity INTEGER NOT NULL,
            unit_price DECIMAL(18,2),
            subtotal DECIMAL(18,2),
            total DECIMAL(18,2) NOT NULL,
            total_tax DECIMAL(18,2),
            tax_class VARCHAR
        )""",
        """CREATE TABLE products (
            store_id INTEGER NOT NULL,
            product_id BIGINT NOT NULL,
            variation_id BIGINT NOT NULL DEFAULT 0,
            sku VARCHAR,
            name VARCHAR,
            price DECIMAL(18,2),
            tax_class VARCHAR,
            manage_stock BOOLEAN,
            stock_quantity INTEGER,
            synced_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (store_id, product_id, variation_id)
        )""",
        """CREATE TABLE customers (
            store_id INTEGER NOT NULL,
            customer_id BIGINT NOT NULL,
            email VARCHAR,
            first_name VARCHAR,
            last_name VARCHAR,
            synced_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (store_id, customer_id)
        )""",
        "CREATE SEQUENCE import_run_seq START 1",
        """CREATE TABLE import_runs (
            run_id BIGINT PRIMARY KEY,
            store_id INTEGER NOT NULL,
            mode VARCHAR NOT NULL,
            range_start TIMESTAMPTZ,
            range_end TIMESTAMPTZ,
            started_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ,
            status VARCHAR NOT NULL,
            new_orders BIGINT NOT NULL DEFAULT 0,
            updated_orders BIGINT NOT NULL DEFAULT 0,
            unchanged_orders BIGINT NOT NULL DEFAULT 0,
            locked_changes BIGINT NOT NULL DEFAULT 0,
            unknown_articles BIGINT NOT NULL DEFAULT 0,
            unknown_customers BIGINT NOT NULL DEFAULT 0,
            pages BIGINT NOT NULL DEFAULT 0,
            error VARCHAR
        )""",
        "CREATE SEQUENCE order_event_seq START 1",
        """CREATE TABLE order_events (
            event_id BIGINT PRIMARY KEY DEFAULT nextval('order_event_seq'),
            store_id INTEGER NOT NULL,
            order_id BIGINT NOT NULL,
            happened_at TIMESTAMPTZ NOT NULL,
            kind VARCHAR NOT NULL,
            actor VARCHAR,
            from_state VARCHAR,
            to_state VARCHAR,
            detail VARCHAR,
            needs_action BOOLEAN NOT NULL DEFAULT false,
            remote_hash BIGINT,
            raw_chunk BIGINT,
            raw_offset INTEGER,
            raw_length INTEGER
        )""",
        "CREATE INDEX order_lines_order ON order_lines (store_id, order_id)",
        # A line is unknown when the catalogue has neither its product/variation nor its SKU.
        # Computed, not stored: a catalogue sync clears the flags without touching orders.
        """CREATE VIEW line_flags AS
            SELECT l.store_id, l.order_id, l.line_no,
                   (s.catalog_synced_at IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM products p WHERE p.store_id = l.store_id
                                    AND p.product_id = l.product_id AND p.variation_id = l.variation_id
                                    AND l.product_id <> 0)
                    AND NOT EXISTS (SELECT 1 FROM products p WHERE p.store_id = l.store_id
                                    AND p.sku = l.sku AND l.sku <> '')) AS unknown_article
            FROM order_lines l JOIN stores s USING (store_id)""",
        """CREATE VIEW order_flags AS
            SELECT o.store_id, o.order_id,
                   coalesce((SELECT count(*) FROM line_flags f WHERE f.store_id = o.store_id
                             AND f.order_id = o.order_id AND f.unknown_article), 0) AS unknown_articles,
                   (s.catalog_synced_at IS NOT NULL AND o.customer_id > 0
                    AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.store_id = o.store_id
                                    AND c.customer_id = o.customer_id)) AS unknown_customer
            FROM orders o JOIN stores s USING (store_id)""",
    ),
)

MIGRATIONS: tuple[Migration, ...] = (
    CORE_SCHEMA,
    Migration(
        2,
        "processing: invoices, credit notes, stock, shipments, payments, comments",
        schema_processing.STATEMENTS,
    ),
    Migration(3, "printing: persistent print queue", schema_print.STATEMENTS),
    Migration(4, "fiscal: key fingerprint, key seals, closings, pending events", schema_fiscal.STATEMENTS),
    Migration(5, "documents: mail queue, PDF copies", schema_documents.STATEMENTS),
    Migration(6, "shopkeeper: push queue (the shop hears back at each step)", schema_shopkeeper.STATEMENTS),
    Migration(7, "webhooks: signed deliveries kept until processed", schema_webhooks.STATEMENTS),
    Migration(
        8,
        "tills: each print job belongs to the till that queued it ([till] name)",
        ("ALTER TABLE print_jobs ADD COLUMN till VARCHAR",),
    ),
    Migration(
        9,
        "import: refunds fetched apart from their orders, remembered for re-imports",
        # Per order written with refunds fetched apart (WooCommerce, PrestaShop): the XXH3 of the shop's
        # listing bytes of that version and the refunds' bytes; a re-import meeting the same listing lays
        # them instead of asking the shop (fastimport.io.refund_lines).  Written with the order.
        (
            """CREATE TABLE fetched_refunds (
            store_id INTEGER NOT NULL,
            order_id BIGINT NOT NULL,
            listing_hash BIGINT NOT NULL,
            modified_at TIMESTAMPTZ NOT NULL,
            refunds BLOB NOT NULL,
            PRIMARY KEY (store_id, order_id)
        )""",
        ),
    ),
    Migration(
        10,
        "import: raw payloads of a DuckDB file in a log beside it (segment, offset, length, checksum)",
        # A DuckDB file store appends the compressed chunks to <database>.payloads/ (fastimport.store.
        # payload_log) and keeps only their place here: data is NULL for those rows.  PostgreSQL and
        # rows written before keep data inline; readers take both.
        (
            "ALTER TABLE raw_chunks ADD COLUMN log_segment INTEGER",
            "ALTER TABLE raw_chunks ADD COLUMN log_offset BIGINT",
            "ALTER TABLE raw_chunks ADD COLUMN log_length INTEGER",
            "ALTER TABLE raw_chunks ADD COLUMN log_checksum BIGINT",
            "ALTER TABLE raw_chunks ALTER COLUMN data DROP NOT NULL",
        ),
    ),
    Migration(
        11,
        "PostgreSQL: indexes for one order's reads (find, details, payments, pushes) and the invoicing clock",
        # PostgreSQL reads a whole table where no index serves the WHERE: at a million orders the order
        # page took 510-608 ms (15-25 ms on DuckDB), each such read 110-320 ms, the invoicing clock's
        # max(issued_at) 137-199 ms a batch; with these, 2.5-2.9 ms and 0.7 ms (bench/bench_order_page.py).
        # Not on DuckDB: its zone maps already skip to one order's rows in these tables, written in
        # order, and an ART index costs every insert of an import or an invoice batch.
        (
            # find_order asks by number or shop id with no store (the primary key leads with the store).
            "CREATE INDEX orders_number ON orders (number)",
            "CREATE INDEX orders_order_id ON orders (order_id)",
            "CREATE INDEX invoices_order ON invoices (store_id, order_id)",
            "CREATE INDEX invoices_issued ON invoices (issued_at)",  # max(issued_at): one index probe
            "CREATE INDEX order_events_order ON order_events (store_id, order_id)",
            "CREATE INDEX shipments_order ON shipments (store_id, order_id)",
            "CREATE INDEX payments_order ON payments (store_id, order_id)",
            "CREATE INDEX comments_order ON comments (store_id, order_id)",
            "CREATE INDEX push_jobs_order ON push_jobs (store_id, order_id)",
            "CREATE INDEX print_jobs_document ON print_jobs (document_ref)",
        ),
        backend="postgres",
    ),
)
