"""A full disk (a file-size limit, ``RLIMIT_FSIZE``, set in the child): import, invoicing and printing stop
with "the disk is full", exit 1, no traceback; once the limit is lifted a re-run completes, nothing lost or
doubled. (A tmpfs mount needs privileges the test machines do not always grant; the limit needs none.)"""

from __future__ import annotations

import resource
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.chaos import harness
from tests.chaos.harness import check, command
from tests.conftest import ShopFactory
from tests.invoice_print_support import add_printers, network
from tests.printer_fixture import LoopbackPrinter, loopback_printer  # noqa: F401  (fixture)
from tests.test_processing_support import W0, W1, env, write_toml

pytestmark = pytest.mark.chaos
SINCE, UNTIL = "2026-03-23", "2026-03-31"


def file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:  # runs in the child, before exec
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


async def disk_full(toml: Path, limit: int, *args: str) -> None:
    code, out, err = await harness.run(command(toml, *args), env(), preexec_fn=file_size_limit(limit))
    harness.FIGURES.faults += 1
    check(code == 1, f"exit {code} on a full disk: {out}{err}")
    check("the disk is full" in err and "Traceback" not in err, err)


async def test_full_disk_import_invoice_print_then_rerun(
    tmp_path: Path,
    shop_factory: ShopFactory,
    loopback_printer: LoopbackPrinter,  # noqa: F811
) -> None:
    _rng, shop, url = await harness.seeded_shop("disk", shop_factory, 1000)
    toml = write_toml(tmp_path, url, chunk=20)
    add_printers(toml, network(loopback_printer.port))
    db = tmp_path / "till.duckdb"
    await disk_full(toml, 500_000, "import", "--since", SINCE, "--until", UNTIL)
    code, _, err = await harness.run(command(toml, "import", "--since", SINCE, "--until", UNTIL), env())
    check(code == 0, err)
    harness.check_orders(db, shop, W0, W1)
    # invoicing and printing: no file may grow beyond 128 KB (the log, the database, the anchors)
    await disk_full(toml, 128 * 1024, "invoice", "--pending", "--print")
    harness.check_documents(db)
    code, _, err = await harness.run(command(toml, "invoice", "--pending", "--print"), env())
    check(code == 0, err)
    check(harness.check_documents(db) > 0, "nothing invoiced")
    code, out, err = await harness.run(command(toml, "verify"), env())
    check(code == 0, out + err)
    harness.check_orders(db, shop, W0, W1)
