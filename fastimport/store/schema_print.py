"""DDL owned by the printing room (the persistent print queue)."""

STATEMENTS: tuple[str, ...] = ()
