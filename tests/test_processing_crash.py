"""Real processes on one store (a DuckDB file, a PostgreSQL server): tills invoicing at once, one killed mid-batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from fastimport.processing.settings import load_settings
from fastimport.processing.verify import verify
from fastimport.store import connect
from tests.conftest import ShopFactory
from tests.test_processing_support import SIGNING_KEY, W0, W1, env, import_shop, processing_config, write_toml

ROOT = Path(__file__).resolve().parent.parent
SLOW_BATCH = """
import sys
from fastimport.config import load_config
from fastimport.processing import invoicing
from fastimport.processing.settings import load_settings
from fastimport.store import connect
config = load_config(sys.argv[1])
con = connect(config.target)
def progress(report):
    print("chunk", len(report.issued), flush=True)
invoicing.invoice_orders(con, load_settings(config), invoicing.pending_keys(con, config), progress=progress)
print("done", flush=True)
"""


def _check_invariants(db: Path | str) -> list[int]:
    con = connect(db)
    try:
        seqs = [r[0] for r in con.execute("SELECT seq FROM invoices ORDER BY seq").fetchall()]
        assert seqs == list(range(1, len(seqs) + 1))
        orphans = con.execute(
            "SELECT count(*) FROM stock_movements m WHERE m.invoice_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM invoices i WHERE i.invoice_id = m.invoice_id)"
        ).fetchall()[0][0]
        half = con.execute(
            "SELECT count(*) FROM invoices i WHERE i.line_count <> (SELECT count(*) FROM invoice_lines l "
            "WHERE l.invoice_id = i.invoice_id)"
        ).fetchall()[0][0]
        states = con.execute(
            "SELECT count(*) FROM invoices i JOIN orders o USING (store_id, order_id) WHERE o.state <> 'invoiced'"
        ).fetchall()[0][0]
        twice = con.execute(
            "SELECT count(*) FROM (SELECT order_id FROM invoices GROUP BY 1 HAVING count(*) > 1) t"
        ).fetchall()[0][0]
        assert (orphans, half, states, twice) == (0, 0, 0, 0)
        return seqs
    finally:
        con.close()


async def test_tills_invoicing_at_once(tmp_path: Path, shop_factory: ShopFactory, backend: str) -> None:
    # Three tills on a PostgreSQL store; two processes on one DuckDB file (each waits up to 30 s for
    # the file, which a third one on a loaded machine overran).
    tills = 3 if backend == "postgres" else 2
    _shop, url = await shop_factory(orders=400, start=W0, end=W1)
    config = processing_config(tmp_path, url, chunk=25)
    await import_shop(config)
    toml = write_toml(tmp_path, url, chunk=25)
    cmd = [
        sys.executable,
        "-m",
        "fastimport",
        "--config",
        str(toml),
        "invoice",
        "--pending",
        "--json",
    ]
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(tills)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * tills, [o[1] for o in outs]
    import orjson

    numbers = [i["number"] for o in outs for i in orjson.loads(o[0])["invoices"]]
    assert len(numbers) == len(set(numbers)) > 100
    seqs = _check_invariants(config.target)
    assert len(seqs) == len(numbers)
    con = connect(config.target)
    os.environ["FASTIMPORT_TEST_INVOICE_KEY"] = SIGNING_KEY
    assert verify(con, load_settings(config).key()).ok
    con.close()


async def test_sigkill_mid_batch_then_rerun(tmp_path: Path, shop_factory: ShopFactory) -> None:
    _shop, url = await shop_factory(orders=1500, start=W0, end=W1)
    config = processing_config(tmp_path, url, chunk=40)
    await import_shop(config)
    toml = write_toml(tmp_path, url, chunk=40)
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_BATCH, str(toml)], cwd=ROOT, env=env(), stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    seen = [proc.stdout.readline() for _ in range(3)]  # three chunks committed, the fourth under way
    assert all(line.startswith("chunk") for line in seen), seen
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    first = _check_invariants(config.target)
    assert len(first) >= 60  # at least the three chunks seen committed survive the kill
    rerun = subprocess.run(
        [sys.executable, "-c", SLOW_BATCH, str(toml)],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.returncode == 0 and "done" in rerun.stdout, rerun.stderr
    seqs = _check_invariants(config.target)
    assert len(seqs) > len(first)
    con = connect(config.target)
    pending = con.execute(
        "SELECT count(*) FROM orders WHERE state = 'pending' AND paid_at IS NOT NULL AND shop_status IN "
        "('processing', 'on-hold')"
    ).fetchall()[0][0]
    assert pending == 0
    os.environ["FASTIMPORT_TEST_INVOICE_KEY"] = SIGNING_KEY
    assert verify(con, load_settings(config).key()).ok
    con.close()
