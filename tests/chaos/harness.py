"""The chaos harness: kill a real ``fastimport`` process at random moments, then check what is left.

Every random choice comes from one seed, printed at the start of each test (``CHAOS_SEED=… pytest``
replays a run). ``CHAOS_RUNS`` is the number of kills per test: 5 in the test run, 50 in
``make chaos``. :data:`FIGURES` counts runs, kills, faults and invariants checked; the chaos
conftest prints them at the end of the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import random
import signal
import sys
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from tests.conftest import ShopFactory
from tests.test_processing_support import W0, W1, import_shop, processing_config, write_toml

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Figures:
    runs: int = 0  # fastimport processes started
    kills: int = 0  # SIGKILLs that landed on a running process
    faults: int = 0  # network faults, full disks
    invariants: int = 0  # invariant checks that passed
    seeds: list[str] = field(default_factory=list)


FIGURES = Figures()


def runs() -> int:
    return int(os.environ.get("CHAOS_RUNS", "5"))


def seeded(name: str) -> random.Random:
    """The test's random source; its seed is printed (and kept in FIGURES) so a failure can be replayed."""
    seed = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(2**32))
    FIGURES.seeds.append(f"{name}: CHAOS_SEED={seed}")
    print(f"\n{name}: CHAOS_SEED={seed}", flush=True)
    return random.Random(seed)


async def seeded_shop(
    name: str, shop_factory: ShopFactory, orders: int, **options: Any
) -> tuple[random.Random, Any, str]:
    """The test's random source (:func:`seeded`: its seed printed) and a simulated shop of ``orders``
    orders in [W0, W1) generated from it, so that ``CHAOS_SEED`` replays the shop too: (rng, shop, url)."""
    rng = seeded(name)
    shop, url = await shop_factory(orders=orders, start=W0, end=W1, seed=rng.randrange(2**31), **options)
    return rng, shop, url


async def imported_till(tmp_path: Path, url: str, chunk: int = 500) -> Path:
    """The shop's orders imported into the test's till, and its ``fastimport.toml`` for the commands."""
    await import_shop(processing_config(tmp_path, url, chunk=chunk))
    return write_toml(tmp_path, url, chunk=chunk)


def check(condition: bool, what: str) -> None:
    """One invariant: counted when it holds, a plain assertion message when it does not."""
    assert condition, what
    FIGURES.invariants += 1


def command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "fastimport", "--config", str(config), *args]


async def kill_at_random(
    argv: list[str], env: dict[str, str], rng: random.Random, low: float, high: float
) -> bool:
    """Start ``argv``, SIGKILL it after a random delay in [low, high); True when the kill landed."""
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    FIGURES.runs += 1
    await asyncio.sleep(rng.uniform(low, high))
    landed = proc.returncode is None
    with contextlib.suppress(ProcessLookupError):  # a fast run may have finished already
        proc.send_signal(signal.SIGKILL)
    await proc.wait()
    landed = landed and proc.returncode == -signal.SIGKILL
    FIGURES.kills += landed
    return landed


async def run(argv: list[str], env: dict[str, str], timeout: float = 120, **kw: Any) -> tuple[int, str, str]:
    """Run ``argv`` to completion (no kill); the event loop (and a simulated shop on it) keeps running."""
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, **kw
    )
    FIGURES.runs += 1
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _gmt(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def check_orders(db: Path, shop: Any, start: dt.datetime, end: dt.datetime, partial: bool = False) -> int:
    """Every shop order of [start, end) stored exactly once, with the shop's id, number, total, status, lines.

    ``partial``: a run that stopped may have stored only some of them, but those exactly once and whole.
    """
    truth = {
        o["id"]: o
        for o in shop.truth()
        if o["status"] != "trash" and start <= _gmt(o["date_created_gmt"]) < end
    }
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT o.order_id, o.number, o.total, o.shop_status, o.line_count, "
            "(SELECT count(*) FROM order_lines l WHERE l.store_id = o.store_id AND l.order_id = o.order_id) "
            "FROM orders o"
        ).fetchall()
    finally:
        con.close()
    ids = [r[0] for r in rows]
    check(len(ids) == len(set(ids)), f"orders stored twice: {[i for i, c in Counter(ids).items() if c > 1]}")
    if partial:
        check(set(ids) <= set(truth), f"orders the shop does not have: {set(ids) - set(truth)}")
    else:
        check(set(ids) == set(truth), f"missing {set(truth) - set(ids)}, extra {set(ids) - set(truth)}")
    wrong = []
    for order_id, number, total, status, line_count, lines in rows:
        o = truth.get(order_id)
        if o is None:
            continue
        if (str(number), Decimal(total), status) != (str(o["number"]), Decimal(str(o["total"])), o["status"]):
            wrong.append((order_id, number, total, status, o["number"], o["total"], o["status"]))
        elif not line_count == lines == o["line_count"]:
            wrong.append((order_id, "lines", line_count, lines, o["line_count"]))
    check(not wrong, f"orders that differ from the shop (stored, then shop): {wrong[:5]}")
    return len(ids)


def check_documents(db: Path) -> int:
    """Series gapless, no half invoice, no stock movement without its invoice, no order invoiced twice."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        series = con.execute("SELECT series, list(seq ORDER BY seq) FROM invoices GROUP BY series").fetchall()
        for name, seqs in series:
            check(seqs == list(range(1, len(seqs) + 1)), f"series {name} has gaps or doubles: {seqs}")
        one = con.execute  # the queries below each return one count

        def count(sql: str) -> int:
            return int(one(sql).fetchall()[0][0])

        check(
            count(
                "SELECT count(*) FROM stock_movements m WHERE m.kind = 'invoice' AND NOT EXISTS "
                "(SELECT 1 FROM invoices i WHERE i.invoice_id = m.invoice_id)"
            )
            == 0,
            "stock movements without their invoice",
        )
        check(
            count(
                "SELECT count(*) FROM invoices i WHERE i.line_count <> (SELECT count(*) FROM invoice_lines l "
                "WHERE l.invoice_id = i.invoice_id)"
            )
            == 0,
            "an invoice without all its lines",
        )
        check(
            count(
                "SELECT count(*) FROM (SELECT order_id FROM invoices GROUP BY store_id, order_id HAVING count(*) > 1)"
            )
            == 0,
            "an order invoiced twice",
        )
        check(
            count(
                "SELECT count(*) FROM invoices i JOIN orders o USING (store_id, order_id) WHERE o.state = 'pending'"
            )
            == 0,
            "an invoiced order still pending",
        )
        return sum(len(s) for _, s in series)
    finally:
        con.close()


def check_print_jobs(db: Path, received: list[str], kills: int) -> None:
    """Every job printed; a ticket received twice was in flight at a kill and is flagged."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        jobs = con.execute("SELECT document_ref, status, possibly_duplicated FROM print_jobs").fetchall()
    finally:
        con.close()
    check(
        all(status == "printed" for _, status, _ in jobs),
        f"jobs left: {[j for j in jobs if j[1] != 'printed']}",
    )
    counts = Counter(received)
    refs = {ref for ref, _, _ in jobs}
    check(refs <= set(counts), f"printed jobs the printer never got: {refs - set(counts)}")
    doubled = {ref for ref, c in counts.items() if c > 1}
    flagged = {ref for ref, _, dup in jobs if dup}
    check(doubled <= flagged, f"tickets printed twice without a flag: {doubled - flagged}")
    check(
        len(doubled) <= kills and all(c <= 1 + kills for c in counts.values()), f"too many doubles {counts}"
    )
