"""Shared fixtures: a simulated shop on loopback, a configuration pointing at it, a store.

The store is a DuckDB file, or (for the modules in :data:`BOTH_BACKENDS`, whose tests run on each)
a fresh database in a throwaway PostgreSQL cluster started once for the session.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fastimport.config import Config, parse_config
from fastimport.print.reprint import clear_hooks
from fastimport.sim import SimOptions, SimShop
from fastimport.store.pg_cluster import Cluster, find_binaries

PLATFORMS = ("woocommerce", "shopify", "prestashop")
KEY_ENV, SECRET_ENV = "FASTIMPORT_TEST_KEY", "FASTIMPORT_TEST_SECRET"
TOKEN_ENV, WS_KEY_ENV = "FASTIMPORT_TEST_TOKEN", "FASTIMPORT_TEST_WS_KEY"
CREDENTIALS = {
    KEY_ENV: "ck_test",
    SECRET_ENV: "cs_test",
    TOKEN_ENV: SimOptions.shopify_token,
    WS_KEY_ENV: SimOptions.prestashop_key,
}
# Per platform: the configuration key naming the secret the shop checks, and its variable.
SECRET_OF = {
    "woocommerce": ("secret_env", SECRET_ENV),
    "shopify": ("token_env", TOKEN_ENV),
    "prestashop": ("key_env", WS_KEY_ENV),
}
_PLATFORM_OF_URL: dict[str, str] = {}
# The variable naming the invoicing key the tills of the processing tests sign with, and its value.
SIGNING_ENV = "FASTIMPORT_TEST_INVOICE_KEY"
SIGNING_KEY = "test-signing-key-0123456789abcdef"

# The variable the configurations name ([database] url_env) when a test runs on PostgreSQL.
DATABASE_URL_ENV = "FASTIMPORT_DATABASE_URL"
BACKENDS = ("duckdb", "postgres")
# Test modules whose every test runs on both store backends.
BOTH_BACKENDS = {
    "test_raw_log",
    "test_import",
    "test_import_faults",
    "test_processing_invoicing",
    "test_processing_numbering",
    "test_print_queue",
    "test_fiscal_key",
    "test_fiscal_tamper",
    "test_fiscal_archive",
    "test_fiscal_closings",
    "test_fiscal_print",
    "test_fiscal_witness",
    "test_processing_push",
    "test_processing_platforms",
    "test_pending_pages",
    "test_shopkeeper_defects",
    "test_shopkeeper_refunds",
    "test_shopkeeper_money",
    "test_shopkeeper_push",
    "test_shopify_totals",
    "test_platforms",
    "test_tickets",
    "test_processing_crash",
    "test_processing_property",
    "test_documents_mail",
    "test_documents_pdf",
    "test_webhooks_flow",
    "test_webhooks",
    "test_cli",
    "test_api",
    "test_nightly",
    "test_web_security",
    "test_store_raw",
    "test_shopkeeper_echo",
    "test_shopkeeper_refund_lines",
    "test_import_refunds",
    "test_refunds_listing",
    "test_shopkeeper_set_aside",
    "test_documents_buyers",
    "test_invoice_print",
    "test_web_api",
    "test_web_mount",
    "test_report_sales",
    "test_prestashop_buyers",
}
_backend = "duckdb"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "duckdb_only(reason): a test of the DuckDB file itself (run on DuckDB only)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if (
        metafunc.module.__name__.rpartition(".")[2] in BOTH_BACKENDS
        and "backend" in metafunc.fixturenames
        and metafunc.definition.get_closest_marker("duckdb_only") is None
    ):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster for the session, with a migrated template database each test copies."""
    binaries = find_binaries()
    if binaries is None:
        reason = "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: run scripts/system-deps.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    cluster = Cluster(binaries).start()
    try:
        import psycopg

        from fastimport.store import connect

        with psycopg.connect(cluster.url(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE fastimport_template")
        connect(cluster.url("fastimport_template")).close()
        yield cluster
    finally:
        cluster.stop()


_databases = iter(range(1, 1 << 30))


@pytest.fixture(autouse=True)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The store backend of this test: DuckDB, or a fresh PostgreSQL database the configurations name."""
    global _backend
    # What a till keeps in the user's state directory (its witness of a PostgreSQL store's chain
    # heads) stays inside the test.
    state = request.getfixturevalue("tmp_path_factory").mktemp("state")
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    name: str = getattr(request, "param", "duckdb")
    if name != "postgres":
        yield name
        return
    import psycopg

    cluster: Cluster = request.getfixturevalue("pg_cluster")
    database = f"test_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(cluster.url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {database} TEMPLATE fastimport_template")
    monkeypatch.setenv(DATABASE_URL_ENV, cluster.url(database))
    _backend = name
    try:
        yield name
    finally:
        _backend = "duckdb"
        with psycopg.connect(cluster.url(), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def store_target(tmp_path: Path, name: str = "till.duckdb") -> Path | str:
    """What ``fastimport.store.connect`` opens for this test: a DuckDB file, or the test's PostgreSQL database."""
    if _backend == "postgres":
        return os.environ[DATABASE_URL_ENV]
    return tmp_path / name


def fresh_store(config: Config) -> Path | str:
    """An empty store for each generated example (hypothesis): the configured DuckDB file (a new
    one per example), or the test's PostgreSQL database emptied."""
    target = config.target
    if isinstance(target, str):
        import psycopg

        with psycopg.connect(target, autocommit=True) as admin:
            admin.execute("DROP SCHEMA public CASCADE")
            admin.execute("CREATE SCHEMA public")
    return target


def database_table(tmp_path: Path) -> dict[str, str]:
    """The configuration's [database] table for the test's backend."""
    if _backend == "postgres":
        return {"url_env": DATABASE_URL_ENV}
    return {"path": str(tmp_path / "till.duckdb")}


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    yield


@pytest.fixture
def signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The till can sign invoices (the test key is set) and starts with no reprint hook of an
    earlier test: modules that invoice through the command ask for it in ``pytestmark``."""
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)
    clear_hooks()


@pytest.fixture
def platform() -> str:
    """The platform the simulated shops speak; modules parametrize it over PLATFORMS."""
    return "woocommerce"


def store_table(url: str, **overrides: Any) -> dict[str, Any]:
    platform = overrides.pop("platform", _PLATFORM_OF_URL.get(url, "woocommerce"))
    table: dict[str, Any] = {
        "name": "eshop",
        "platform": platform,
        "url": url,
        "timezone": "Europe/Paris",
        "timeout": 5,
        "retries": 3,
    }
    if platform == "woocommerce":
        table.update(key_env=KEY_ENV, secret_env=SECRET_ENV)
    elif platform == "shopify":
        table.update(token_env=TOKEN_ENV)
    else:
        table.update(key_env=WS_KEY_ENV)
    table.update(overrides)
    return table


def config_for(tmp_path: Path, url: str, **overrides: Any) -> Config:
    return parse_config({"database": database_table(tmp_path), "stores": [store_table(url, **overrides)]})


def write_config_file(tmp_path: Path, url: str, **overrides: Any) -> Path:
    """The same configuration as a TOML file, for tests that go through the command line."""
    lines = ["[database]", *(f'{k} = "{v}"' for k, v in database_table(tmp_path).items()), "", "[[stores]]"]
    for key, value in store_table(url, **overrides).items():
        rendered = (
            f'"{value}"'
            if isinstance(value, str)
            else str(value).lower()
            if isinstance(value, bool)
            else value
        )
        lines.append(f"{key} = {rendered}")
    path = tmp_path / "fastimport.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ShopFactory = Callable[..., Any]


@pytest.fixture
async def shop_factory(platform: str) -> AsyncIterator[ShopFactory]:
    """Start simulated shops on free loopback ports; all are stopped at the end of the test.

    Shops speak the ``platform`` fixture's platform; configurations made for their url follow it.
    Shopify shops get the Plus plan's bucket (400 calls, 20/s) so tests do not wait on the
    Standard plan's 2 calls a second (the benchmark does).
    """
    shops: list[SimShop] = []

    async def start(**options: Any) -> tuple[SimShop, str]:
        options.setdefault("platform", platform)
        if options["platform"] == "shopify":
            options.setdefault("shopify_bucket", 400)
            options.setdefault("shopify_leak", 20.0)
        shop = SimShop(SimOptions(**options))
        url = await shop.start()
        _PLATFORM_OF_URL[url] = options["platform"]
        shops.append(shop)
        return shop, url

    yield start
    for shop in shops:
        await shop.stop()


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(CREDENTIALS)
    return env


@contextlib.contextmanager
def shop_command(
    argv: list[str], cwd: Path | None = None, stop: signal.Signals = signal.SIGINT
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``python -m fastimport ARGV`` (``sim ...``) running: its process and the URL it printed once listening.
    Stopped with ``stop`` (Ctrl-C by default) at the end, killed if it has not ended 30 s later; the caller
    reads ``returncode`` after the block."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fastimport", *argv],
        cwd=cwd,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
        yield proc, url
    finally:
        proc.send_signal(stop)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
