"""DDL owned by the processing room (invoices, stock ledger, shipments, payments, comments).

Invoices and credit notes share one table (``kind``); each series is a gapless
sequence (``seq``) and a chain: ``signature`` = HMAC-SHA256(key, prev_signature +
canonical form).  DuckDB has no triggers, so the guards here are constraints
(unique numbers and signatures, one invoice per order, consistent totals); the
rest (edits, deletions, swaps) is caught by ``fastimport verify``.
"""

STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE series_counters (
        series VARCHAR PRIMARY KEY,
        kind VARCHAR NOT NULL,
        last_seq BIGINT NOT NULL,
        last_signature VARCHAR NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE invoices (
        invoice_id BIGINT PRIMARY KEY,
        kind VARCHAR NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
        series VARCHAR NOT NULL,
        seq BIGINT NOT NULL CHECK (seq > 0),
        number VARCHAR NOT NULL UNIQUE,
        issued_at TIMESTAMPTZ NOT NULL,
        store_id INTEGER NOT NULL,
        order_id BIGINT NOT NULL,
        order_number VARCHAR,
        order_key VARCHAR UNIQUE,
        refers_to VARCHAR,
        reason VARCHAR,
        seller VARCHAR NOT NULL,
        buyer VARCHAR NOT NULL,
        currency VARCHAR NOT NULL,
        total_ht DECIMAL(18,2) NOT NULL,
        total_vat DECIMAL(18,2) NOT NULL,
        adjustment DECIMAL(18,2) NOT NULL,
        total_ttc DECIMAL(18,2) NOT NULL,
        payment_method VARCHAR,
        payment_title VARCHAR,
        transaction_id VARCHAR,
        paid_at TIMESTAMPTZ,
        line_count INTEGER NOT NULL,
        actor VARCHAR NOT NULL,
        prev_signature VARCHAR NOT NULL,
        signature VARCHAR NOT NULL UNIQUE,
        UNIQUE (series, seq),
        CHECK (total_ttc = total_ht + total_vat + adjustment),
        CHECK ((kind = 'invoice') = (order_key IS NOT NULL)),
        CHECK ((kind = 'credit_note') = (refers_to IS NOT NULL))
    )""",
    """CREATE TABLE invoice_lines (
        invoice_id BIGINT NOT NULL,
        line_no INTEGER NOT NULL,
        line_kind VARCHAR NOT NULL CHECK (line_kind IN ('item', 'shipping', 'fee', 'adjustment')),
        source_line_no INTEGER,
        product_id BIGINT,
        variation_id BIGINT,
        sku VARCHAR,
        name VARCHAR,
        quantity INTEGER NOT NULL,
        unit_price_ht DECIMAL(18,4) NOT NULL,
        vat_rate DECIMAL(4,1) NOT NULL,
        total_ht DECIMAL(18,2) NOT NULL,
        vat DECIMAL(18,2) NOT NULL,
        total_ttc DECIMAL(18,2) NOT NULL,
        PRIMARY KEY (invoice_id, line_no),
        CHECK (total_ttc = total_ht + vat)
    )""",
    """CREATE TABLE invoice_vat (
        invoice_id BIGINT NOT NULL,
        vat_rate DECIMAL(4,1) NOT NULL,
        base_ht DECIMAL(18,2) NOT NULL,
        vat DECIMAL(18,2) NOT NULL,
        PRIMARY KEY (invoice_id, vat_rate)
    )""",
    "CREATE SEQUENCE stock_movement_seq START 1",
    """CREATE TABLE stock_movements (
        movement_id BIGINT PRIMARY KEY DEFAULT nextval('stock_movement_seq'),
        store_id INTEGER NOT NULL,
        product_id BIGINT NOT NULL,
        variation_id BIGINT NOT NULL,
        sku VARCHAR,
        quantity INTEGER NOT NULL,
        kind VARCHAR NOT NULL CHECK (kind IN ('initial', 'invoice', 'credit_note', 'adjustment')),
        invoice_id BIGINT,
        reference VARCHAR,
        happened_at TIMESTAMPTZ NOT NULL,
        actor VARCHAR,
        note VARCHAR,
        CHECK ((kind IN ('invoice', 'credit_note')) = (invoice_id IS NOT NULL))
    )""",
    "CREATE INDEX stock_movements_item ON stock_movements (store_id, product_id, variation_id)",
    "CREATE SEQUENCE stock_push_seq START 1",
    """CREATE TABLE stock_pushes (
        push_id BIGINT PRIMARY KEY DEFAULT nextval('stock_push_seq'),
        store_id INTEGER NOT NULL,
        product_id BIGINT NOT NULL,
        variation_id BIGINT NOT NULL,
        sku VARCHAR,
        level INTEGER NOT NULL,
        accepted BOOLEAN NOT NULL,
        error VARCHAR,
        pushed_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE shipments (
        shipment_id BIGINT PRIMARY KEY,
        series VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        number VARCHAR NOT NULL UNIQUE,
        store_id INTEGER NOT NULL,
        order_id BIGINT NOT NULL,
        carrier VARCHAR NOT NULL,
        tracking VARCHAR,
        shipped_at TIMESTAMPTZ NOT NULL,
        actor VARCHAR NOT NULL,
        invoice_number VARCHAR,
        parcels INTEGER NOT NULL DEFAULT 1,
        items INTEGER NOT NULL,
        pushed_at TIMESTAMPTZ,
        push_error VARCHAR,
        UNIQUE (series, seq)
    )""",
    "CREATE SEQUENCE payment_seq START 1",
    """CREATE TABLE payments (
        payment_id BIGINT PRIMARY KEY DEFAULT nextval('payment_seq'),
        store_id INTEGER NOT NULL,
        order_id BIGINT NOT NULL,
        method VARCHAR,
        method_title VARCHAR,
        transaction_id VARCHAR,
        amount DECIMAL(18,2) NOT NULL,
        paid_at TIMESTAMPTZ,
        source VARCHAR NOT NULL,
        invoice_number VARCHAR,
        recorded_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE SEQUENCE comment_seq START 1",
    """CREATE TABLE comments (
        comment_id BIGINT PRIMARY KEY DEFAULT nextval('comment_seq'),
        store_id INTEGER NOT NULL,
        order_id BIGINT NOT NULL,
        author VARCHAR NOT NULL,
        written_at TIMESTAMPTZ NOT NULL,
        text VARCHAR NOT NULL
    )""",
    """CREATE TABLE journal (
        seq BIGINT PRIMARY KEY,
        happened_at TIMESTAMPTZ NOT NULL,
        kind VARCHAR NOT NULL,
        actor VARCHAR NOT NULL,
        subject VARCHAR,
        detail VARCHAR NOT NULL,
        prev_signature VARCHAR NOT NULL,
        signature VARCHAR NOT NULL UNIQUE
    )""",
)
