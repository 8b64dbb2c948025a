"""The persistent queue: transactions, order, 500 jobs through an outage, SIGKILL, CLI and reprints."""

from __future__ import annotations

import argparse
import collections
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from fastimport.cli.printing import add_print_commands
from fastimport.print.config import PrinterConfig, parse_printers
from fastimport.print.content import InvoiceTicket, TicketContent
from fastimport.print.queue import PrintWorker, enqueue, enqueue_document, get_job, list_jobs, render_document
from fastimport.print.reprint import (
    ReprintEvent,
    clear_hooks,
    register_document_source,
    register_reprint_listener,
)
from fastimport.print.samples import sample_invoice
from fastimport.store.db import Connection, connect
from tests.conftest import store_target
from tests.printer_fixture import LoopbackPrinter, decode, loopback_printer

__all__ = ["loopback_printer"]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def con(tmp_path: Path) -> Iterator[Connection]:
    connection = connect(store_target(tmp_path))
    yield connection
    connection.close()


def network_printer(port: int, name: str = "default", **extra: object) -> PrinterConfig:
    entry: dict[str, object] = {
        "name": name,
        "kind": "network",
        "host": "127.0.0.1",
        "port": port,
        "timeout": 2,
    }
    entry.update(extra)
    return parse_printers({"printers": [entry]})[0]


def markers(printer: LoopbackPrinter) -> list[str]:
    """The QR payload (document number) of every complete ticket received, in order."""
    found = []
    for data in printer.tickets():
        qr = decode(data).qr
        if qr:
            found.append(qr[-1])
    return found


def test_enqueue_joins_the_callers_transaction(con: Connection) -> None:
    printer = network_printer(9)
    con.execute("BEGIN TRANSACTION")
    enqueue_document(con, sample_invoice(1), printer)
    con.execute("ROLLBACK")
    assert list_jobs(con) == []
    con.execute("BEGIN TRANSACTION")
    job_id = enqueue_document(con, sample_invoice(2), printer)
    con.execute("COMMIT")
    job = get_job(con, job_id)
    assert job is not None and (job.status, job.kind, job.document_ref) == (
        "queued",
        "invoice",
        "FA-2026-000002",
    )


def test_jobs_of_one_printer_never_overtake_while_another_printer_goes_on(
    con: Connection, loopback_printer: LoopbackPrinter
) -> None:
    good = network_printer(loopback_printer.port, "comptoir")
    dead = network_printer(1, "atelier")  # nothing listens on port 1
    first = enqueue_document(con, sample_invoice(1), dead)
    enqueue_document(con, sample_invoice(2), good)
    second = enqueue_document(con, sample_invoice(3), dead)
    enqueue_document(con, sample_invoice(4), good)
    with PrintWorker(con.cursor, [good, dead], backoff_base=5) as w:
        w.run(until_empty=False, max_seconds=0.5)
    assert markers(loopback_printer) == ["FA-2026-000002", "FA-2026-000004"]
    a, b = get_job(con, first), get_job(con, second)
    assert (
        a is not None
        and a.status == "queued"
        and a.attempts == 1
        and "connection refused" in (a.last_error or "")
    )
    assert b is not None and b.status == "queued" and b.attempts == 0  # never tried before the first


def test_unknown_printer_fails_and_retry_requeues(con: Connection) -> None:
    job_id = enqueue(con, kind="invoice", document_ref="X", printer="gone", payload=b"x", preview="x")
    with PrintWorker(con.cursor, []) as w:
        w.run(max_seconds=1)
    job = get_job(con, job_id)
    assert job is not None and job.status == "failed"
    assert job.last_error == "no printer named 'gone' in the configuration"


def test_500_tickets_through_an_outage_print_exactly_once_in_order(
    con: Connection, loopback_printer: LoopbackPrinter
) -> None:
    printer = network_printer(loopback_printer.port)
    expected = []
    con.execute("BEGIN TRANSACTION")
    for n in range(500):
        job = render_document(sample_invoice(n), printer)
        enqueue(
            con,
            kind=job.kind,
            document_ref=job.document_ref,
            printer=printer.name,
            payload=job.payload,
            preview=job.preview,
        )
        expected.append(job.document_ref)
    con.execute("COMMIT")
    w = PrintWorker(con.cursor, [printer], backoff_base=0.02, backoff_max=0.1, poll_interval=0.05)
    thread = threading.Thread(target=w.run, kwargs={"max_seconds": 50})
    thread.start()
    loopback_printer.wait_for_tickets(150, timeout=30)
    loopback_printer.go_offline()
    time.sleep(0.6)
    loopback_printer.come_online()
    thread.join(60)
    w.close()
    assert not thread.is_alive()
    got = markers(loopback_printer)
    assert got == expected  # every ticket once, in order, none lost, none doubled
    assert w.report.failed_attempts >= 1 and any("connection refused" in e for e in w.report.errors)
    rows = con.execute("SELECT status, count(*) FROM print_jobs GROUP BY status").fetchall()
    assert rows == [("printed", 500)]


WORKER_SCRIPT = textwrap.dedent(
    """
    import sys
    from fastimport.print.config import parse_printers
    from fastimport.print.queue import PrintWorker
    printers = parse_printers({"printer": {"kind": "network", "host": "127.0.0.1", "port": int(sys.argv[2])}})
    PrintWorker(sys.argv[1], printers, backoff_base=0.05, backoff_max=0.2).run(max_seconds=60)
    """
)


def test_sigkill_mid_batch_resumes_and_flags_the_job_in_flight(
    tmp_path: Path, loopback_printer: LoopbackPrinter
) -> None:
    db_path = store_target(tmp_path)
    printer = network_printer(loopback_printer.port)
    con = connect(db_path)
    expected = [enqueue_document(con, sample_invoice(n), printer) for n in range(60)]
    refs = {job_id: f"FA-2026-{n:06d}" for n, job_id in enumerate(expected)}
    con.close()
    loopback_printer.read_delay = 0.02  # each ticket takes a while: a job is in flight most of the time
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER_SCRIPT, str(db_path), str(loopback_printer.port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        loopback_printer.wait_for_tickets(15, timeout=30)
    finally:
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=10)
    assert out == b""  # the worker keeps stdout clean
    loopback_printer.read_delay = 0.0
    time.sleep(0.1)  # let the fixture finish reading what the killed worker had sent
    before = len(markers(loopback_printer))
    assert 15 <= before < 60
    with PrintWorker(db_path, [printer]) as w:
        report = w.run(max_seconds=30)
        jobs = {j.job_id: j for j in list_jobs(w.con, include_printed=True)}
    assert all(j.status == "printed" for j in jobs.values())
    counts = collections.Counter(markers(loopback_printer))
    assert set(counts) == set(refs.values())  # none lost
    doubled = [ref for ref, c in counts.items() if c > 1]
    assert len(doubled) <= 1 and all(c <= 2 for c in counts.values())
    flagged = [refs[j.job_id] for j in jobs.values() if j.possibly_duplicated]
    assert len(report.requeued_after_crash) <= 1 and len(flagged) == len(report.requeued_after_crash)
    assert set(doubled) <= set(flagged)  # a ticket printed twice is always reported
    first_seen = list(dict.fromkeys(markers(loopback_printer)))
    assert first_seen == sorted(first_seen)  # in order


# -- CLI and reprints ----------------------------------------------------------------------


@dataclass
class Ctx:
    con: Connection
    printers: Sequence[PrinterConfig]


def run_cli(ctx: Ctx, *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="fastimport")
    add_print_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    out = io.StringIO()
    code = args.handler(args, ctx, out)
    return int(code), out.getvalue()


@pytest.fixture
def hooks() -> Iterator[list[ReprintEvent]]:
    clear_hooks()
    invoices: dict[str, TicketContent] = {f"FA-2026-{n:06d}": sample_invoice(n) for n in range(3)}
    events: list[ReprintEvent] = []
    register_document_source("invoice", lambda con, ref: invoices.get(ref))
    register_reprint_listener(events.append)
    yield events
    clear_hooks()


def test_cli_queue_retry_and_reprint(
    con: Connection, loopback_printer: LoopbackPrinter, hooks: list[ReprintEvent]
) -> None:
    printer = network_printer(loopback_printer.port, "comptoir")
    ctx = Ctx(con, [printer])
    assert run_cli(ctx, "print", "queue") == (0, "print queue is empty\n")
    job_id = enqueue_document(con, sample_invoice(1), printer)
    loopback_printer.go_offline()
    with PrintWorker(con.cursor, [printer]) as w:
        w.run_once()
    code, out = run_cli(ctx, "print", "queue", "--json")
    [row] = json.loads(out)
    assert code == 0 and row["job"] == job_id and row["status"] == "queued"
    assert "is not answering: connection refused" in row["last_error"]
    code, out = run_cli(ctx, "print", "queue")
    assert "1 waiting, 0 failed" in out and "connection refused" in out
    loopback_printer.come_online()
    code, out = run_cli(ctx, "print", "retry", str(job_id))
    assert code == 0 and "printed 1; 0 still waiting" in out
    assert markers(loopback_printer) == ["FA-2026-000001"]

    code, out = run_cli(ctx, "print", "reprint", "FA-2026-000001")
    assert code == 0 and "DUPLICATA 1" in out
    code, out = run_cli(ctx, "print", "reprint", "FA-2026-000001")
    assert code == 0 and "DUPLICATA 2" in out
    texts = ["\n".join(decode(t).lines) for t in loopback_printer.wait_for_tickets(3)]
    assert "ORIGINAL" in texts[0] and "DUPLICATA 1" in texts[1] and "DUPLICATA 2" in texts[2]
    assert [(e.document_ref, e.copy_number, e.printer) for e in hooks] == [
        ("FA-2026-000001", 1, "comptoir"),
        ("FA-2026-000001", 2, "comptoir"),
    ]
    code, _ = run_cli(ctx, "print", "reprint", "FA-2099-000001")
    assert code == 2


def test_reprint_is_atomic_with_its_journal_event(con: Connection, hooks: list[ReprintEvent]) -> None:
    printer = network_printer(9)

    def broken_journal(event: ReprintEvent) -> None:
        raise RuntimeError("journal is full")

    register_reprint_listener(broken_journal)
    with pytest.raises(RuntimeError):
        from fastimport.print.reprint import reprint

        reprint(con, [printer], "FA-2026-000002")
    assert list_jobs(con, include_printed=True) == []
    assert isinstance(sample_invoice(), InvoiceTicket)


def test_each_tills_worker_takes_only_its_own_jobs(tmp_path: Path, loopback_printer: LoopbackPrinter) -> None:
    """Two tills on one store ([till] name): a till's worker prints its jobs, never the other's."""
    from fastimport.store.db import set_till

    printer = network_printer(loopback_printer.port)
    tills = {}
    for name in ("comptoir-1", "comptoir-2"):
        tills[name] = connect(store_target(tmp_path))
        set_till(tills[name], name)
    mine = [enqueue_document(tills["comptoir-1"], sample_invoice(n), printer) for n in range(3)]
    theirs = [enqueue_document(tills["comptoir-2"], sample_invoice(n + 10), printer) for n in range(2)]
    with PrintWorker(store_target(tmp_path), [printer], till="comptoir-1") as worker:
        assert worker.run(until_empty=True, max_seconds=20).printed == 3
    jobs = {j.job_id: j.status for j in list_jobs(tills["comptoir-2"], include_printed=True)}
    assert [jobs[j] for j in mine] == ["printed"] * 3 and [jobs[j] for j in theirs] == ["queued"] * 2
    row = tills["comptoir-1"].execute("SELECT count(*) FROM print_jobs WHERE till = 'comptoir-2'").fetchone()
    assert row == (2,)
    for con in tills.values():
        con.close()
