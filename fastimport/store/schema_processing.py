"""DDL owned by the processing room (invoices, stock ledger, shipments, payments, comments)."""

STATEMENTS: tuple[str, ...] = ()
