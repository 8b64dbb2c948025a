"""What only the PostgreSQL store has: advisory store locks across sessions, migrations, plain-words errors."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import json
import os
import sys
from decimal import Decimal
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest

from fastimport.cli import main as cli
from fastimport.config import load_config
from fastimport.errors import StoreError, StoreLockedError
from fastimport.store import connect
from fastimport.store.db import latest_version, schema_version, transaction
from fastimport.store.locks import Owner, PgStoreLocks, store_locks
from fastimport.store.postgres import PgConnection
from tests.conftest import DATABASE_URL_ENV, ShopFactory, store_target, subprocess_env, write_config_file

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


def test_store_locks_are_advisory_locks_held_per_session(backend: str) -> None:
    url = os.environ[DATABASE_URL_ENV]
    locks = store_locks(url)
    assert isinstance(locks, PgStoreLocks)
    first = locks.try_acquire("eshop", Owner.current("run-a"))
    with pytest.raises(StoreLockedError) as busy:
        PgStoreLocks(url).try_acquire("eshop", Owner.current("run-b"))
    assert "run-a" in str(busy.value) and busy.value.store == "eshop"
    other = locks.try_acquire("lyon", Owner.current("run-b"))  # another store is free
    first.release()
    again = locks.try_acquire("eshop", Owner.current("run-c"))
    for lease in (again, other):
        lease.release()


def test_db_version_and_migrate_on_postgresql(tmp_path: Path, backend: str) -> None:
    config = write_config_file(tmp_path, "http://127.0.0.1:9")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli(["--config", str(config), "db", "version"]) == 0
    assert f"schema {latest_version()}" in out.getvalue()
    assert "@" in out.getvalue() and ":" in out.getvalue()  # the server's URL, not a file


def test_registered_arrow_tables_round_trip(tmp_path: Path, backend: str) -> None:
    con = connect(store_target(tmp_path))
    table = pa.table(
        {
            "n": pa.array([1, None, 3], pa.int64()),
            "s": pa.array(["a", "50 % off?", None]),
            "b": pa.array([b"\x00\x1b", b"", None]),
            "d": pa.array([Decimal("1.25"), Decimal("-0.01"), None], pa.decimal128(18, 2)),
        }
    )
    con.register("t", table)
    try:
        rows = con.execute("SELECT n, s, b, d FROM t WHERE s IS NULL OR s LIKE '%?' ORDER BY n").fetchall()
        assert rows == [(3, None, None, None), (None, "50 % off?", b"", Decimal("-0.01"))]
        assert con.sql("SELECT n FROM t ORDER BY n").to_arrow_table().column("n").to_pylist() == [1, 3, None]
    finally:
        con.unregister("t")
    assert schema_version(con) == latest_version()
    con.close()


def test_a_table_written_as_csv_reads_back_as_the_binary_copy_gives_it(tmp_path: Path, backend: str) -> None:
    """Tables without bytes go through Arrow's CSV writer; the same values with a bytes column added take
    the binary COPY, row by row.  Both must read back the same: empty text is not NULL, NUL dropped,
    quotes, commas, newlines, zones, decimals, dictionaries, an all-null column."""
    con = connect(store_target(tmp_path))
    paris = pa.array(
        [dt.datetime(2025, 3, 30, 1, 59, 59, 999999, tzinfo=dt.UTC)] * 6, pa.timestamp("us", tz="UTC")
    )
    table = pa.table(
        {
            "n": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
            "i": pa.array([-(2**31), 2**31 - 1, None, 0, 7, 8], pa.int32()),
            "s": pa.array(["", None, 'say "hi", then\nbye', "a\x00b", "é€😀", "\\."]),
            "k": pa.array(["x", "y", None, "x", "", "z"]).dictionary_encode(),
            "t": pa.array(
                [dt.datetime(2025, 1, 1, 12, 0, 0, 123456, tzinfo=dt.UTC), None, *[None] * 4],
                pa.timestamp("us", tz="UTC"),
            ),
            "p": paris.cast(pa.timestamp("us", tz="Europe/Paris")),
            "l": pa.array([dt.datetime(2025, 6, 1, 8, 30), None, *[None] * 4], pa.timestamp("us")),
            "d": pa.array(
                [Decimal("1.25"), Decimal("-0.01"), None, Decimal("0"), Decimal("999999.99"), None],
                pa.decimal128(18, 2),
            ),
            "f": pa.array([True, False, None, True, False, None]),
            "z": pa.array([None] * 6, pa.null()),
            "day": pa.array([dt.date(2024, 2, 29), None, *[None] * 4], pa.date32()),
        }
    )
    columns = "n, i, s, k, t, p, l, d, f, z, day"
    con.register("as_csv", table)
    con.register("as_binary", table.append_column("b", pa.array([b"\x00"] * 6, pa.binary())))
    try:
        csv_rows = con.execute(f"SELECT {columns} FROM as_csv ORDER BY n").fetchall()
        assert csv_rows == con.execute(f"SELECT {columns} FROM as_binary ORDER BY n").fetchall()
        assert [r[2] for r in csv_rows] == ["", None, 'say "hi", then\nbye', "ab", "é€😀", "\\."]
        assert csv_rows[0][4] == dt.datetime(2025, 1, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
        assert csv_rows[0][5] == dt.datetime(2025, 3, 30, 1, 59, 59, 999999, tzinfo=dt.UTC)
        assert csv_rows[0][6] == dt.datetime(2025, 6, 1, 8, 30)
    finally:
        con.unregister("as_csv")
        con.unregister("as_binary")
    con.close()


def test_registering_batch_after_batch_in_one_transaction_holds_no_more_locks(
    tmp_path: Path, backend: str
) -> None:
    """db copy registers every batch of every table in one transaction: a table dropped and created anew
    per batch kept its locks to the end, and a million orders ran out of max_locks_per_transaction."""
    con = connect(store_target(tmp_path))
    assert isinstance(con, PgConnection)
    locks = "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()"
    held = []
    with transaction(con):
        for i in range(60):
            con.register("batch", pa.table({"n": pa.array([i, i + 1], pa.int64()), "s": ["a", None]}))
            assert con.execute("SELECT sum(n) FROM batch").fetchall() == [(2 * i + 1,)]
            held.append(con.execute(locks).fetchall()[0][0])
        con.register("batch", pa.table({"other": ["x"]}))  # other columns: a table of its own
        assert con.execute("SELECT other FROM batch").fetchall() == [("x",)]
    assert held[-1] == held[1], held  # flat, where each batch used to add its own
    with contextlib.suppress(RuntimeError), transaction(con):
        con.register("batch", pa.table({"other": ["y"]}))
        raise RuntimeError("rolled back: the registered table goes with it")
    con.register("batch", pa.table({"other": ["z"]}))
    assert con.execute("SELECT other FROM batch").fetchall() == [("z",)]
    con.close()


def test_a_lost_server_is_a_store_error_in_plain_words(tmp_path: Path, backend: str) -> None:
    con = connect(store_target(tmp_path))
    pid = con.execute("SELECT pg_backend_pid()").fetchone()
    assert pid is not None
    with psycopg.connect(os.environ[DATABASE_URL_ENV], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid[0]])
    with pytest.raises(StoreError, match=r"connection to the PostgreSQL server .* was lost"):
        con.execute("SELECT count(*) FROM orders").fetchone()
    con.close()


IMPORTER = """
import asyncio, datetime as dt, sys
from fastimport.config import load_config
from fastimport.importer import run_imports
from fastimport.ranges import ImportRange
from fastimport.store import connect
config = load_config(sys.argv[1])
start, end = (dt.datetime.fromisoformat(a) for a in sys.argv[2:4])
con = connect(config.target)
report = asyncio.run(run_imports(con, [(config.stores[0], ImportRange(start, end, "created", "range"))], batch_orders=40))[0]
print(report.new, report.updated, report.ok, report.error, flush=True)
"""


async def test_four_importers_on_overlapping_ranges_store_every_order_once(
    tmp_path: Path, shop_factory: ShopFactory, backend: str
) -> None:
    """Real processes, one PostgreSQL store, a shop that fails now and then: each order stored once."""
    start = dt.datetime(2026, 3, 23, tzinfo=dt.UTC)
    shop, url = await shop_factory(
        orders=600, start=start, end=start + dt.timedelta(days=8), faults="500:2,429@0.1:1"
    )
    config = write_config_file(tmp_path, url, per_page=20, retries=6, timeout=5)
    days = [start + dt.timedelta(days=d) for d in range(9)]
    ranges = [(days[0], days[5]), (days[2], days[8]), (days[1], days[7]), (days[0], days[8])]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", IMPORTER, str(config), a.isoformat(), b.isoformat(),
            cwd=ROOT, env=subprocess_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        for a, b in ranges
    ]  # fmt: skip
    outs = [await p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [o[1].decode()[-2000:] for o in outs]
    assert all(o[0].split()[2] == b"True" for o in outs), outs
    con = connect(store_target(tmp_path))
    ids = [r[0] for r in con.execute("SELECT order_id FROM orders").fetchall()]
    truth = {o["id"] for o in shop.truth() if o["status"] != "trash"}
    assert len(ids) == len(set(ids)) and set(ids) == truth  # every order once, none missing
    lines = con.execute(
        "SELECT count(*) FROM orders o WHERE line_count <> "
        "(SELECT count(*) FROM order_lines l WHERE l.store_id = o.store_id AND l.order_id = o.order_id)"
    ).fetchone()
    assert lines == (0,)
    # Each order is new to exactly one importer (the others found it stored and left it as it was).
    assert sum(int(o[0].split()[0]) for o in outs) == len(truth)
    con.close()


async def test_db_copy_moves_a_duckdb_till_into_an_empty_postgresql_store(
    tmp_path: Path, shop_factory: ShopFactory, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Orders, invoices, a credit note, the journal: copied; verify holds on the copy; a second copy is refused."""
    from fastimport.processing import credit, invoicing
    from fastimport.processing.settings import load_settings
    from fastimport.processing.verify import verify
    from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY, W0, W1, import_shop, write_toml

    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)
    _shop, url = await shop_factory(orders=120, start=W0, end=W1)
    toml = write_toml(tmp_path, url)
    duck = tmp_path / "till.duckdb"
    toml.write_text(toml.read_text().replace(f'url_env = "{DATABASE_URL_ENV}"', f'path = "{duck}"'))
    config = load_config(toml)
    assert config.target == duck
    await import_shop(config)
    con = connect(duck)
    settings = load_settings(config)
    issued = invoicing.invoice_orders(con, settings, invoicing.pending_keys(con, config)).issued
    credit.credit_note(con, settings, issued[0].number, "copy test")
    counts = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone() for t in ("orders", "invoices", "journal")
    }
    con.close()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli(["--config", str(toml), "db", "copy", "--to-env", DATABASE_URL_ENV, "--json"]) == 0
    result = json.loads(out.getvalue())
    assert result["tables"]["invoices"]["rows"] == counts["invoices"][0] == len(issued) + 1
    pg = connect(os.environ[DATABASE_URL_ENV])
    assert {t: pg.execute(f"SELECT count(*) FROM {t}").fetchone() for t in counts} == counts
    report = verify(pg, settings.key())
    assert report.ok, report.problems
    assert sum(n for series, n in report.series.items() if series != "journal") == len(issued) + 1
    assert report.series["journal"] >= 2  # the chains came along: invoices, credit note, journal
    # The sequences follow: the next import run on the copy takes a fresh id.
    run = pg.execute("SELECT nextval('import_run_seq') > (SELECT max(run_id) FROM import_runs)").fetchone()
    assert run == (True,)
    pg.close()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        assert cli(["--config", str(toml), "db", "copy", "--to-env", DATABASE_URL_ENV]) == 1
    assert "not empty" in err.getvalue()
