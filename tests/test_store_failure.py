"""A database DuckDB has invalidated (an internal error, a full disk) is told in plain words, once."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from fastimport.errors import StoreError
from fastimport.store.db import store_failure, transaction

FATAL = (
    "FATAL Error: Failed: database has been invalidated because of a previous fatal error. The database "
    'must be restarted prior to being used again.\nOriginal error: "Failed to create checkpoint because of '
    "error: failed to pin block of size 256.0 KiB (60.7 MiB/61.0 MiB used)\n\nPossible solutions:"
)


class InvalidatedAt:
    """A connection that DuckDB invalidates at ``statement``: that one and every one after it fail."""

    backend = "duckdb"

    def __init__(self, statement: str) -> None:
        self.statement = statement
        self.dead = False
        self.seen: list[str] = []

    def execute(self, sql: str, *args: Any) -> InvalidatedAt:
        self.seen.append(sql)
        if self.dead or sql.startswith(self.statement):
            self.dead = True
            raise duckdb.FatalException(FATAL)
        return self


def test_a_fatal_error_is_worded_with_its_cause() -> None:
    failure = store_failure(duckdb.FatalException(FATAL))
    assert failure is not None
    assert failure.message.startswith(
        "the database stopped after an internal error (Failed to create checkpoint"
    )
    assert "failed to pin block" in failure.message and "committed before is kept" in failure.message
    assert "Possible solutions" not in failure.message
    assert store_failure(duckdb.ConstraintException("duplicate key")) is None  # a plain error stays itself


def test_a_commit_that_invalidates_the_database_says_so() -> None:
    con = InvalidatedAt("COMMIT")
    with (
        pytest.raises(StoreError, match="the database stopped after an internal error"),
        transaction(con),  # type: ignore[arg-type]
    ):
        con.execute("INSERT INTO t VALUES (1)")


def test_a_statement_that_invalidates_the_database_is_the_error_told() -> None:
    # The ROLLBACK fails too (the database refuses everything): the first error is the one raised.
    con = InvalidatedAt("INSERT")
    with (
        pytest.raises(StoreError, match="internal error") as caught,
        transaction(con),  # type: ignore[arg-type]
    ):
        con.execute("INSERT INTO t VALUES (1)")
    assert isinstance(caught.value.__cause__, duckdb.FatalException)
    assert con.seen[-1] == "ROLLBACK"
