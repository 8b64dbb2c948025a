"""The store on PostgreSQL: a connection that speaks the part of DuckDB's API fastimport uses.

The rooms above the store call ``con.execute(sql, params)``, ``con.sql(sql).to_arrow_table()``,
``con.register(name, arrow_table)``; :class:`PgConnection` offers exactly those over psycopg 3, so
the same SQL text runs on both backends.  DuckDB's ``?`` placeholders become psycopg's (parameters
are bound client-side: literals take their type from the context, as in DuckDB); a registered Arrow
table becomes a TEMP table filled by COPY.  psycopg is imported when a connection is opened:
a DuckDB till never loads it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import duckdb

from fastimport.errors import StoreError

if TYPE_CHECKING:
    import polars as pl
    import psycopg
    import pyarrow as pa

# The DuckDB names of the few types the schema uses that PostgreSQL spells otherwise.
_DDL_TYPES = (
    (re.compile(r"\bBLOB\b"), "BYTEA"),
    (re.compile(r"\bDOUBLE\b(?! PRECISION)"), "DOUBLE PRECISION"),
)

# DuckDB functions the shared SQL uses, defined once per PostgreSQL database (migration 1).
COMPAT_FUNCTIONS = (
    """CREATE OR REPLACE FUNCTION epoch_us(t TIMESTAMPTZ) RETURNS BIGINT
       LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
       AS $$ SELECT ((extract(epoch FROM t) * 1000000)::NUMERIC)::BIGINT $$""",
    """CREATE OR REPLACE FUNCTION make_timestamp(us BIGINT) RETURNS TIMESTAMP
       LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
       AS $$ SELECT (to_timestamp(us / 1000000.0) AT TIME ZONE 'UTC')::TIMESTAMP $$""",
)


def translate_ddl(statement: str) -> str:
    """A migration statement written for DuckDB, in PostgreSQL's words."""
    for pattern, replacement in _DDL_TYPES:
        statement = pattern.sub(replacement, statement)
    return statement


_EMPTY_IN = re.compile(r"\bIN \(\s*\)")
_EMPTY_NOT_IN = re.compile(r"\bNOT IN \(\s*\)")


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """DuckDB's ``?`` placeholders as psycopg's ``%s``; a literal ``%`` doubled (quoted text keeps its ``?``).

    An empty ``IN ()`` list (DuckDB takes it, PostgreSQL does not) becomes a comparison with an
    empty array of the left side's type.
    """
    sql = _EMPTY_IN.sub("= ANY('{}')", _EMPTY_NOT_IN.sub("<> ALL('{}')", sql))
    out: list[str] = []
    quoted = False
    for char in sql:
        if char == "'":
            quoted = not quoted
            out.append(char)
        elif char == "%":
            out.append("%%")
        elif char == "?" and not quoted:
            out.append("%s")
        else:
            out.append(char)
    return "".join(out)


def shown(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = (
        f"{parts.username + '@' if parts.username else ''}{host}{':' + str(parts.port) if parts.port else ''}"
    )
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def is_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


# Arrow types of registered tables, as PostgreSQL column types (binary COPY needs them exactly).
def _pg_type(kind: pa.DataType) -> str:
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        return _pg_type(kind.value_type)
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_int8(kind) or pa.types.is_int16(kind) or pa.types.is_uint8(kind):
        return "smallint"
    if pa.types.is_int32(kind) or pa.types.is_uint16(kind):
        return "integer"
    if pa.types.is_integer(kind):
        return "bigint"
    if pa.types.is_floating(kind):
        return "double precision"
    if pa.types.is_decimal(kind):
        return "numeric"
    if pa.types.is_timestamp(kind):
        return "timestamptz" if kind.tz else "timestamp"
    if pa.types.is_date(kind):
        return "date"
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind):
        return "bytea"
    return "text"  # strings, and all-null columns


# PostgreSQL type OIDs of results, as Arrow types (the rest is inferred from the values).
@functools.cache
def _arrow_of_oid() -> dict[int, pa.DataType]:
    import pyarrow as pa

    return {
        16: pa.bool_(),
        20: pa.int64(),
        21: pa.int16(),
        23: pa.int32(),
        25: pa.string(),
        1043: pa.string(),
        700: pa.float32(),
        701: pa.float64(),
        17: pa.binary(),
        1082: pa.date32(),
        1114: pa.timestamp("us"),
        1184: pa.timestamp("us", tz="UTC"),
    }


class PgConnection:
    """One psycopg connection in autocommit mode; ``BEGIN``/``COMMIT`` come from the store's ``transaction``."""

    backend = "postgres"

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        try:
            self.raw: psycopg.Connection[Any] = psycopg.connect(
                url, autocommit=True, cursor_factory=psycopg.ClientCursor, application_name="fastimport"
            )
        except psycopg.Error as exc:
            raise StoreError(f"cannot reach the PostgreSQL store {shown(url)}: {first_line(exc)}") from exc
        self.raw.execute("SET TimeZone = 'UTC'")
        self._cursor: psycopg.Cursor[Any] | None = None
        self._count: list[tuple[Any, ...]] | None = None
        # Each registered name: (its TEMP table's oid, its columns) when this connection created it.
        self._registered: dict[str, tuple[int, str]] = {}

    # --- DuckDB's connection API, as fastimport uses it ---------------------------------------

    def execute(self, query: str, parameters: Sequence[Any] | None = None) -> PgConnection:
        try:
            self._cursor = self.raw.execute(translate(query), _params(parameters))
            self._count = None
        except Exception as exc:
            raise translated(exc, self.url) from exc
        return self

    def executemany(self, query: str, parameters: Sequence[Sequence[Any]]) -> PgConnection:
        try:
            with self.raw.cursor() as cur:
                cur.executemany(translate(query), [_params(p) for p in parameters])
        except Exception as exc:
            raise translated(exc, self.url) from exc
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        rows = self._counted()
        if rows is not None:
            return rows.pop(0) if rows else None
        return self._cursor.fetchone() if self._cursor is not None else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows = self._counted()
        if rows is not None:
            self._count, out = [], rows
            return out
        return self._cursor.fetchall() if self._cursor is not None else []

    def fetchmany(self, size: int = 1) -> list[tuple[Any, ...]]:
        rows = self._counted()
        if rows is not None:
            out, rows[:] = rows[:size], rows[size:]
            return out
        return self._cursor.fetchmany(size) if self._cursor is not None else []

    def _counted(self) -> list[tuple[Any, ...]] | None:
        """A statement without a result gives DuckDB's one row: how many rows it changed."""
        cur = self._cursor
        if cur is None or cur.description is not None:
            return None
        if self._count is None:
            self._count = [(cur.rowcount,)] if cur.rowcount >= 0 else []
        return self._count

    @property
    def description(self) -> Any:
        return self._cursor.description if self._cursor is not None else None

    def sql(self, query: str, params: Sequence[Any] | None = None) -> PgRelation:
        return PgRelation(self, query, params)

    def cursor(self) -> PgConnection:
        """DuckDB's ``cursor()`` is a second connection to the same database (for another thread)."""
        return PgConnection(self.url)

    def register(self, name: str, table: pa.Table) -> PgConnection:
        """``name`` becomes a TEMP table holding ``table``'s rows, written by COPY (CSV from Arrow, or binary)."""
        try:
            self._register(name, table)
        except Exception as exc:
            raise translated(exc, self.url) from exc
        return self

    def _register(self, name: str, table: pa.Table) -> None:
        columns = ", ".join(f'"{f.name}" {_pg_type(f.type)}' for f in table.schema)
        if self._registered.get(name) == (self._temp_oid(name), columns):
            # The same table again (the next batch): emptied, not dropped and created anew.  A dropped
            # table keeps its locks until the transaction ends, and db copy's one transaction ran out
            # of max_locks_per_transaction ("out of shared memory") on a till of a million orders.
            self.raw.execute(f'TRUNCATE pg_temp."{name}"')
        else:
            self.raw.execute(f'DROP TABLE IF EXISTS pg_temp."{name}"')
            self.raw.execute(f'CREATE TEMP TABLE "{name}" ({columns})')
            oid = self._temp_oid(name)
            assert oid is not None
            self._registered[name] = (oid, columns)
        if not table.num_rows:
            return
        if all(_csv_ready(f.type) for f in table.schema):
            # Arrow writes the CSV in C++: the rows never become Python objects.  Row by row through
            # psycopg's binary COPY, the store thread spent 5.5 of its 8.5 s on a 50,000-order import.
            data = _csv(table)
            with self.raw.cursor() as cur, cur.copy(f'COPY "{name}" FROM STDIN (FORMAT csv)') as copy:
                for at in range(0, data.size, _COPY_SLICE):
                    copy.write(memoryview(data)[at : at + _COPY_SLICE])
            return
        types = [_pg_type(f.type) for f in table.schema]
        values = [_python_values(table.column(i)) for i in range(table.num_columns)]
        with self.raw.cursor() as cur, cur.copy(f'COPY "{name}" FROM STDIN (FORMAT BINARY)') as copy:
            copy.set_types(types)
            for row in zip(*values, strict=True):
                copy.write_row(row)

    def _temp_oid(self, name: str) -> int | None:
        """The oid of this session's TEMP table ``name`` (None: there is none, e.g. rolled back)."""
        row = self.raw.execute("SELECT to_regclass(%s)::oid", [f'pg_temp."{name}"']).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def unregister(self, name: str) -> PgConnection:
        self.raw.execute(f'DROP TABLE IF EXISTS pg_temp."{name}"')
        self._registered.pop(name, None)
        return self

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> PgConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PgRelation:
    """What ``con.sql(...)`` gives: a query run when its rows are asked for."""

    def __init__(self, con: PgConnection, query: str, params: Sequence[Any] | None) -> None:
        self.con, self.query, self.params = con, query, params

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.con.execute(self.query, self.params).fetchall()

    def to_arrow_table(self) -> pa.Table:
        cur = self.con.execute(self.query, self.params)._cursor
        assert cur is not None
        names = [c.name for c in cur.description or ()]
        oids = [c.type_code for c in cur.description or ()]
        rows = cur.fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        arrays = [_arrow(list(values), oid) for values, oid in zip(columns, oids, strict=True)]
        import pyarrow as pa

        return pa.table(arrays, names=names)

    def arrow(self) -> pa.Table:
        return self.to_arrow_table()

    def pl(self) -> pl.DataFrame:
        import polars

        frame = polars.from_arrow(self.to_arrow_table())
        assert isinstance(frame, polars.DataFrame)
        return frame


def _arrow(values: list[Any], oid: int) -> pa.Array:
    import pyarrow as pa

    kind = _arrow_of_oid().get(oid)
    if kind is not None:
        return pa.array(values, type=kind)
    if oid == 1700 and any(isinstance(v, Decimal) for v in values):
        scale = max(-int(v.as_tuple().exponent) for v in values if isinstance(v, Decimal))
        return pa.array([v if v is None else v.quantize(Decimal(1).scaleb(-scale)) for v in values],
                        type=pa.decimal128(38, scale))  # fmt: skip
    return pa.array(values) if values else pa.array([], type=pa.null())


_COPY_SLICE = 1 << 20  # bytes handed to COPY at a time


def _csv_ready(kind: pa.DataType) -> bool:
    """Whether Arrow's CSV writer gives a column as PostgreSQL's COPY reads it (bytes and nested values
    are not: those tables take the binary COPY)."""
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        return _csv_ready(kind.value_type)
    return not (pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind)
                or pa.types.is_nested(kind))  # fmt: skip


def _csv(table: pa.Table) -> pa.Buffer:
    """``table``'s rows as CSV for ``COPY … (FORMAT csv)``: every value quoted, so an empty text stays
    empty and only a null is left bare (PostgreSQL's NULL); timestamps in ISO 8601 with their zone."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as csv

    columns = []
    for column in table.columns:
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        if text and pc.any(pc.match_substring(column, "\x00")).as_py():
            column = pc.replace_substring(column, "\x00", "")  # as _text: PostgreSQL's text holds no NUL
        columns.append(column)
    sink = pa.BufferOutputStream()
    options = csv.WriteOptions(include_header=False, quoting_style="all_valid")
    csv.write_csv(pa.table(columns, names=table.column_names), sink, options)
    return sink.getvalue()


def _python_values(column: pa.ChunkedArray) -> list[Any]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    values: list[Any] = column.to_pylist()
    if pa.types.is_timestamp(column.type) and not column.type.tz:
        return values
    if pa.types.is_timestamp(column.type):
        return [v if v is None else v.astimezone(dt.UTC) for v in values]
    text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
    if text and pc.any(pc.match_substring(column, "\x00")).as_py():
        return [v if v is None else _text(v) for v in values]
    return values


def _params(parameters: Sequence[Any] | None) -> list[Any]:
    return [] if parameters is None else [_param(p) for p in parameters]


def _param(value: Any) -> Any:
    # DuckDB takes a tuple where PostgreSQL wants an array.
    if isinstance(value, tuple | list):
        return [_param(v) for v in value]
    return _text(value) if isinstance(value, str) else value


def _text(value: str) -> str:
    # PostgreSQL's text cannot hold NUL (DuckDB's can): a NUL the shop sent is dropped (as the
    # terminal and printer sanitising would); the shop's exact bytes stay in the raw payload (BYTEA).
    return value.replace("\x00", "") if "\x00" in value else value


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class PgError(duckdb.Error):
    """An error from PostgreSQL, in the store's one error language (the rooms above catch ``duckdb.Error``)."""


class PgConstraintError(duckdb.ConstraintException):
    """A unique, foreign-key or check constraint refused a row on PostgreSQL."""


def translated(exc: Exception, url: str) -> Exception:
    """A psycopg error as the store reports it: plain words for a lost server or a full disk."""
    import psycopg

    if not isinstance(exc, psycopg.Error):
        return exc
    plain = store_error(exc, url)
    if plain is not None:
        return plain
    if isinstance(exc, psycopg.IntegrityError):
        return PgConstraintError(f"Constraint Error: {exc}")
    return PgError(str(exc))


def store_error(exc: BaseException, url: str) -> StoreError | None:
    """Plain words for a lost server or a full disk on the PostgreSQL side, else None."""
    import psycopg

    if not isinstance(exc, psycopg.Error):
        return None
    state = getattr(exc, "sqlstate", None) or ""
    if state == "53100":
        return StoreError(
            f"the PostgreSQL server {shown(url)} has no disk space left: nothing of this step was stored "
            "(what was committed before is kept). Free some space on the server and run the command again",
            disk_full=True,
        )
    if isinstance(exc, psycopg.OperationalError) and (
        state.startswith("08") or state in ("57P01", "57P02", "")
    ):
        return StoreError(
            f"the connection to the PostgreSQL server {shown(url)} was lost ({first_line(exc)}): nothing of "
            "this step was stored. Check that the server is running and reachable, then run the command again"
        )
    return None
