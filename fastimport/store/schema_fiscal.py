"""DDL owned by the fiscal room: the signing key's fingerprint, key-rotation seals, closings, pending events.

``signing_key`` holds a keyed hash of a fixed label (never the key): every signing command
compares it before it signs.  ``key_seals`` holds, after a deliberate key rotation, a seal of each
record signed with an earlier key, made with the current key.  ``closings`` are the chained
day / month / year closings (Z) with the perpetual grand total.  ``pending_events`` keeps events
that happened without the right key (a refused key, an import run without a key) until the next
signed journal write folds them into the chain.
"""

STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE signing_key (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        fingerprint VARCHAR NOT NULL,
        since TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE key_seals (
        series VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        seal VARCHAR NOT NULL,
        PRIMARY KEY (series, seq)
    )""",
    """CREATE TABLE closings (
        closing_id BIGINT PRIMARY KEY,
        series VARCHAR NOT NULL,
        seq BIGINT NOT NULL CHECK (seq > 0),
        number VARCHAR NOT NULL UNIQUE,
        store_id INTEGER NOT NULL,
        store VARCHAR NOT NULL,
        period_kind VARCHAR NOT NULL CHECK (period_kind IN ('day', 'month', 'year')),
        period VARCHAR NOT NULL,
        period_start TIMESTAMPTZ NOT NULL,
        period_end TIMESTAMPTZ NOT NULL,
        closed_at TIMESTAMPTZ NOT NULL,
        figures VARCHAR NOT NULL,
        grand_total BIGINT NOT NULL,
        grand_total_abs BIGINT NOT NULL,
        actor VARCHAR NOT NULL,
        prev_signature VARCHAR NOT NULL,
        signature VARCHAR NOT NULL UNIQUE,
        UNIQUE (series, seq),
        UNIQUE (store_id, period_kind, period)
    )""",
    "CREATE SEQUENCE pending_event_seq START 1",
    """CREATE TABLE pending_events (
        event_id BIGINT PRIMARY KEY DEFAULT nextval('pending_event_seq'),
        happened_at TIMESTAMPTZ NOT NULL,
        kind VARCHAR NOT NULL,
        actor VARCHAR NOT NULL,
        subject VARCHAR,
        detail VARCHAR NOT NULL
    )""",
)
