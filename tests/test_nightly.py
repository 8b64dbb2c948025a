"""The nightly job as cron runs it: subprocesses over several simulated shops and one DuckDB file.

Per-store locks (a busy store is skipped, exit 3), one failing store among three (exit 1, the
others imported), the JSON lines of ``--log-file`` (no credential in them), ``--quiet``, and
``fastimport db migrate`` / ``db version``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import orjson
import pytest

from fastimport.api.imports import connect, import_stores
from fastimport.api.locks import lock_stores, max_stores
from fastimport.config import parse_config
from fastimport.errors import ConfigError
from fastimport.ranges import RangeRequest
from fastimport.store.db import latest_version
from tests.conftest import CREDENTIALS, ShopFactory, store_table, subprocess_env
from tests.test_cli import SINCE, UNTIL, fastimport
from tests.test_import import WEEK_END, WEEK_START

# Every field `import --json` had before locks, which a locked report keeps.
REPORT_FIELDS = (
    "new", "updated", "unchanged", "unknown_articles", "unknown_customers", "pages", "seconds", "core",
    "store", "run_id", "mode", "range_start", "range_end", "ok", "error", "repeated", "locked_changes",
    "catalog_synced", "requests", "retries", "stages",
)  # fmt: skip


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return f'"{value}"' if isinstance(value, str) else str(value)


def write_stores(tmp_path: Path, tables: list[dict[str, Any]], extra: str = "") -> Path:
    """A configuration file with several ``[[stores]]`` sharing one DuckDB file."""
    lines = ["[database]", f'path = "{tmp_path / "till.duckdb"}"', ""]
    for table in tables:
        lines += ["[[stores]]", *(f"{k} = {_toml(v)}" for k, v in table.items()), ""]
    path = tmp_path / "fastimport.toml"
    path.write_text("\n".join(lines) + extra, encoding="utf-8")
    return path


async def test_a_store_another_run_holds_is_skipped_with_exit_3(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    _, url = await shop_factory(orders=200, start=WEEK_START, end=WEEK_END, latency=0.4)
    config = write_stores(tmp_path, [store_table(url, per_page=10, concurrency=1)])
    first = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fastimport", "--config", str(config), "import", "--since", SINCE, "--until", UNTIL,
        "--json", cwd=tmp_path, env=subprocess_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    lock = tmp_path / "till.duckdb.locks" / "eshop.lock"
    for _ in range(200):  # until the first run has written itself into the store's lock
        if lock.exists() and lock.read_bytes():
            break
        await asyncio.sleep(0.05)
    assert orjson.loads(lock.read_bytes())["pid"] == first.pid
    code, out, err = await fastimport(
        "--config", str(config), "import", "--since", SINCE, "--until", UNTIL, "--json", cwd=tmp_path
    )
    assert first.returncode is None, "the first run must still hold the store"
    assert code == 3, err
    report = orjson.loads(out)
    assert all(key in report for key in REPORT_FIELDS)
    assert report["locked"] is True and report["ok"] is False and report["new"] == 0
    assert f"process {first.pid}" in report["error"] and "since 20" in report["error"]
    assert "is being imported by" in err
    code, out, err = await fastimport(
        "--config", str(config), "import", "--incremental", "--quiet", cwd=tmp_path
    )
    assert first.returncode is None, "the first run must still hold the store"
    assert code == 3 and out == "" and len(err.splitlines()) == 1 and "is being imported by" in err
    out_first, err_first = await first.communicate()
    assert first.returncode == 0, err_first.decode()
    done = orjson.loads(out_first)
    assert done["locked"] is False and done["new"] == 200
    # Released: the next run imports again (nothing new).
    code, out, err = await fastimport(
        "--config", str(config), "import", "--since", SINCE, "--until", UNTIL, "--json", cwd=tmp_path
    )
    assert code == 0 and orjson.loads(out)["unchanged"] == 200, err


async def test_two_runs_in_one_process_through_the_library(tmp_path: Path, shop_factory: ShopFactory) -> None:
    _, url = await shop_factory(orders=20, start=WEEK_START, end=WEEK_END)
    config = parse_config({"database": {"path": str(tmp_path / "till.duckdb")}, "stores": [store_table(url)]})
    request = RangeRequest.between(SINCE, UNTIL)
    with lock_stores(config, ["eshop"], run="other") as held, connect(config) as con:
        assert list(held.held) == ["eshop"]
        (report,) = await asyncio.to_thread(import_stores, config, con, request)
        assert report.locked and not report.ok and "run other" in (report.error or "")
        assert report.failed_stage == "lock"
    with connect(config) as con:
        (report,) = await asyncio.to_thread(import_stores, config, con, request)
    assert report.ok and not report.locked and report.new == 20


def recent_window() -> tuple[dt.datetime, dt.datetime]:
    """The last half hour, within this week in Paris: what a first ``--incremental`` run imports."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    local = now.astimezone(ZoneInfo("Europe/Paris"))
    monday = (local - dt.timedelta(days=local.weekday())).replace(hour=0, minute=0)
    return max(now - dt.timedelta(minutes=30), monday.astimezone(dt.UTC)), now


async def test_one_failing_store_never_stops_the_others(tmp_path: Path, shop_factory: ShopFactory) -> None:
    start, end = recent_window()
    _, good_a = await shop_factory(orders=120, start=start, end=end, seed=1)
    _, down = await shop_factory(orders=50, start=start, end=end, faults="always:500")
    _, good_b = await shop_factory(orders=80, start=start, end=end, seed=2)
    config = write_stores(
        tmp_path,
        [
            store_table(good_a, name="lyon"),
            store_table(down, name="nice", retries=2),
            store_table(good_b, name="lille"),
        ],
        extra="[import]\nmax_stores = 1\n",
    )
    log = tmp_path / "nightly.log"
    code, out, err = await fastimport(
        "--config", str(config), "import", "--incremental", "--json", "--max-stores", "2", "--log-file", str(log),
        cwd=tmp_path,
    )  # fmt: skip
    assert code == 1, err
    reports = {r["store"]: r for r in orjson.loads(out)}
    assert list(reports) == ["lyon", "nice", "lille"]
    assert reports["lyon"]["ok"] and reports["lyon"]["new"] == 120
    assert reports["lille"]["ok"] and reports["lille"]["new"] == 80
    nice = reports["nice"]
    assert not nice["ok"] and not nice["locked"] and nice["failed_stage"] == "fetch" and nice["retries"] == 2
    assert err.count("fastimport: ") == 1, err

    text = log.read_text(encoding="utf-8")
    lines = [orjson.loads(line) for line in text.splitlines()]
    assert lines[0]["event"] == "run_start" and lines[-1]["event"] == "run_end"
    assert len({x["run"] for x in lines}) == 1 and lines[-1]["exit"] == 1 and lines[-1]["failed"] == 1
    stores = {x["store"]: x for x in lines if x["event"] == "store"}
    assert set(stores) == {"lyon", "nice", "lille"}
    for entry in stores.values():
        for key in ("ts", "level", "run", "run_id", "stage", "new", "updated", "unchanged", "retries", "error",
                    "duration", "started_at", "finished_at"):  # fmt: skip
            assert key in entry, key
        assert entry["duration"] >= 0
    assert (
        stores["lyon"]["stage"] == "done"
        and stores["lyon"]["new"] == 120
        and stores["lyon"]["level"] == "info"
    )
    assert (
        stores["nice"]["stage"] == "fetch" and stores["nice"]["error"] and stores["nice"]["level"] == "error"
    )
    assert stores["nice"]["retries"] == 2
    for secret in CREDENTIALS.values():
        assert secret not in text

    # --quiet: nothing at all when every store succeeded (the log file still grows) ...
    code, out, err = await fastimport(
        "--config", str(config), "import", "--incremental", "--quiet", "--store", "lyon", "--store", "lille",
        "--log-file", str(log), cwd=tmp_path,
    )  # fmt: skip
    assert (code, out, err) == (0, "", "")
    assert len(log.read_text(encoding="utf-8").splitlines()) == len(lines) + 4
    # ... and only the plain-words error lines when one failed.
    code, out, err = await fastimport(
        "--config", str(config), "import", "--incremental", "--quiet", cwd=tmp_path
    )
    assert code == 1 and out == "" and err.startswith("fastimport: ") and len(err.strip().splitlines()) == 1


async def test_db_migrate_and_version(tmp_path: Path, shop_factory: ShopFactory) -> None:
    _, url = await shop_factory(orders=5, start=WEEK_START, end=WEEK_END)
    config = write_stores(tmp_path, [store_table(url)])
    latest = latest_version()
    code, out, err = await fastimport("--config", str(config), "db", "version", "--json", cwd=tmp_path)
    assert code == 0, err
    assert orjson.loads(out) == {
        "database": str(tmp_path / "till.duckdb"), "schema_version": 0, "latest": latest, "up_to_date": False,
    }  # fmt: skip
    code, out, err = await fastimport("--config", str(config), "db", "migrate", "--json", cwd=tmp_path)
    assert code == 0, err
    done = orjson.loads(out)
    assert (done["schema_version_before"], done["schema_version_after"], done["migrated"]) == (
        0,
        latest,
        True,
    )
    code, out, _ = await fastimport("--config", str(config), "db", "migrate", "--json", cwd=tmp_path)
    assert (
        code == 0 and orjson.loads(out)["schema_version_before"] == orjson.loads(out)["schema_version_after"]
    )
    assert orjson.loads(out)["migrated"] is False
    code, out, _ = await fastimport("--config", str(config), "db", "migrate", cwd=tmp_path)
    assert code == 0 and "already up to date" in out
    code, out, _ = await fastimport("--config", str(config), "db", "version", cwd=tmp_path)
    assert code == 0 and f"schema {latest}" in out and "up to date" in out

    with duckdb.connect(str(tmp_path / "till.duckdb")) as con:
        con.execute("INSERT INTO schema_version VALUES (?, 'from the future', now())", [latest + 1])
    code, out, err = await fastimport("--config", str(config), "db", "migrate", cwd=tmp_path)
    assert code == 1 and out == "" and "newer fastimport" in err
    code, _, err = await fastimport("--config", str(config), "db", "version", cwd=tmp_path)
    assert code == 1 and "newer fastimport" in err


async def test_max_stores_bounds_the_stores_imported_at_once(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    tables = []
    for name in ("a", "b", "c"):
        _, url = await shop_factory(orders=30, start=WEEK_START, end=WEEK_END, latency=0.05)
        tables.append(store_table(url, name=name, per_page=10, concurrency=1))
    config = parse_config(
        {"database": {"path": str(tmp_path / "till.duckdb")}, "stores": tables, "import": {"max_stores": 1}}
    )
    request = RangeRequest.between(SINCE, UNTIL)
    with connect(config) as con:
        reports = await asyncio.to_thread(import_stores, config, con, request)
    assert [r.new for r in reports] == [30, 30, 30]
    spans = sorted((r.started_at, r.finished_at) for r in reports)
    assert all(end <= spans[i + 1][0] for i, (_, end) in enumerate(spans[:-1])), spans  # one after the other
    with connect(config) as con:  # --max-stores wins over the file: all three at once
        again = await asyncio.to_thread(lambda: import_stores(config, con, request, max_stores=3))
    spans = sorted((r.started_at, r.finished_at) for r in again)
    assert spans[-1][0] < spans[0][1]
    bad = {"database": {"path": str(tmp_path / "x.duckdb")}, "stores": tables, "import": {"max_stores": 0}}
    with pytest.raises(ConfigError, match="max_stores"):
        max_stores(parse_config(bad))


async def test_a_log_file_that_cannot_be_written_is_one_plain_line(tmp_path: Path) -> None:
    config = write_stores(tmp_path, [store_table("http://127.0.0.1:9")])
    code, out, err = await fastimport(
        "--config",
        str(config),
        "import",
        "--today",
        "--log-file",
        str(tmp_path / "no" / "such.log"),
        cwd=tmp_path,
    )
    assert (
        code == 1
        and out == ""
        and err.startswith("fastimport: cannot write the log file")
        and "Traceback" not in err
    )


async def test_an_unset_credential_fails_only_its_store(tmp_path: Path, shop_factory: ShopFactory) -> None:
    """It used to stop every store: the connectors were built before any store ran."""
    _, url = await shop_factory(orders=15, start=WEEK_START, end=WEEK_END)
    tables = [
        store_table(url, name="ok"),
        store_table(url, name="unset", secret_env="FASTIMPORT_UNSET_VARIABLE"),
    ]
    config = parse_config({"database": {"path": str(tmp_path / "till.duckdb")}, "stores": tables})
    with connect(config) as con:
        good, bad = await asyncio.to_thread(import_stores, config, con, RangeRequest.between(SINCE, UNTIL))
    assert good.ok and good.new == 15
    assert (
        not bad.ok
        and not bad.locked
        and bad.failed_stage == "config"
        and "FASTIMPORT_UNSET_VARIABLE" in (bad.error or "")
    )
