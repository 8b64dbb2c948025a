"""The library API: ``fastimport.*`` is enough to import a week and invoice it (no submodule imports)."""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import fastimport
from fastimport.sim import SimOptions, SimShopThread
from tests.conftest import store_table
from tests.test_processing_support import SELLER, SIGNING_ENV, SIGNING_KEY

PARIS = ZoneInfo("Europe/Paris")
PACKAGE = Path(fastimport.__file__).parent

API = {
    "load_config", "connect", "import_stores", "ImportReport", "RangeRequest", "invoice", "credit_note",
    "ship", "print_slips", "add_comment", "push_stock", "verify", "FastImportError", "ConfigError",
    "FetchError", "ParseError", "StoreError", "ProcessingError", "PrintError",
}  # fmt: skip


def test_the_public_api_is_listed_and_every_name_resolves() -> None:
    assert set(fastimport.__all__) >= API
    for name in fastimport.__all__:
        assert getattr(fastimport, name) is not None, name
    with pytest.raises(AttributeError):
        _ = fastimport.no_such_name  # type: ignore[attr-defined]
    assert issubclass(fastimport.ProcessingError, fastimport.FastImportError)


def test_the_command_line_calls_only_the_library_api() -> None:
    """cli/ parses and prints: it reaches the rooms below only through fastimport.api (and config/errors)."""
    allowed = ("fastimport.api", "fastimport.cli", "fastimport.config", "fastimport.errors",
               "fastimport.ranges", "fastimport.sim", "fastimport.core", "fastimport")  # fmt: skip
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fastimport"):
                if node.module.startswith(("fastimport.processing", "fastimport.print")) and all(
                    a.name[0].isupper() for a in node.names
                ):
                    continue  # types for annotations (reports, outcomes) are fine
                assert node.module.startswith(allowed) or node.module == "fastimport", (
                    path.name,
                    node.module,
                )


@pytest.fixture
def week_shop() -> Iterator[str]:
    """A simulated WooCommerce shop whose orders were all created this week (Paris time), until now."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    local_today = now.astimezone(PARIS).date()
    monday = local_today - dt.timedelta(days=local_today.weekday())
    start = dt.datetime(monday.year, monday.month, monday.day, tzinfo=PARIS).astimezone(dt.UTC)
    with SimShopThread(
        SimOptions(orders=300, start=start, end=max(now, start + dt.timedelta(minutes=1)))
    ) as url:
        yield url


def test_a_week_imported_and_invoiced_through_fastimport_names_only(
    tmp_path: Path, week_shop: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)
    toml = tmp_path / "fastimport.toml"
    store = store_table(week_shop)
    toml.write_text(
        "[database]\npath = 'till.duckdb'\n\n[[stores]]\n"
        + "".join(f"{k} = {v!r}\n" for k, v in store.items())
        + "\n[seller]\n"
        + "".join(f"{k} = {v!r}\n" for k, v in SELLER.items())
        + f"\n[invoicing]\nsecret_env = '{SIGNING_ENV}'\n",
        encoding="utf-8",
    )

    config = fastimport.load_config(toml)
    with fastimport.connect(config) as con:
        fastimport.sync_catalog(config, con)
        [report] = fastimport.import_stores(config, con, fastimport.RangeRequest.week())
        assert report.ok and report.new > 0 and report.mode == "week"
        [again] = fastimport.import_stores(config, con, fastimport.RangeRequest.week())
        assert again.new == 0 and again.unchanged == report.new

        pending = fastimport.pending_orders(config, con)
        assert pending and all(row["state"] == "pending" for row in pending)
        done = fastimport.invoice(config, con, pending=True, actor="test")
        issued = {i.order_id for i in done.result.issued}
        refused = {r.order_id for r in done.result.refused}
        assert issued and issued | refused == {row["id"] for row in pending}
        assert {row["id"] for row in fastimport.pending_orders(config, con)} == refused
        assert fastimport.verify(config, con).ok

        order = fastimport.find_order(con, next(iter(issued)))
        twice = fastimport.invoice(config, con, [order], actor="test")
        assert not twice.result.issued and "already invoiced" in twice.result.refused[0].reason


def test_the_async_api_refuses_to_block_a_running_loop(tmp_path: Path) -> None:
    import asyncio

    config = fastimport.parse_config(
        {"database": {"path": str(tmp_path / "t.duckdb")}, "stores": [store_table("http://127.0.0.1:9")]}
    )

    async def inside_a_loop() -> None:
        with fastimport.connect(config) as con:
            fastimport.import_stores(config, con, fastimport.RangeRequest.today())

    with pytest.raises(fastimport.FastImportError, match="await import_stores_async"):
        asyncio.run(inside_a_loop())


def test_the_pending_table_pages_both_ways(tmp_path: Path, week_shop: str) -> None:
    config = fastimport.parse_config(
        {"database": {"path": str(tmp_path / "t.duckdb")}, "stores": [store_table(week_shop)]}
    )
    with fastimport.connect(config) as con:
        fastimport.import_stores(config, con, fastimport.RangeRequest.week())
        everything = fastimport.pending_orders(config, con)
        assert fastimport.count_pending(config, con) == len(everything) > 20
        pages = [
            fastimport.pending_orders(config, con, limit=7, offset=o) for o in range(0, len(everything), 7)
        ]
        assert [row for page in pages for row in page] == everything
        newest = fastimport.pending_orders(config, con, limit=5, newest_first=True)
        assert newest == everything[::-1][:5]
