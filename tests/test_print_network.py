"""Tickets through python-escpos's Network printer to a loopback printer: content and failures."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import duckdb
import pytest

from fastimport.print.config import PrinterConfig, parse_printers
from fastimport.print.queue import PrintWorker, enqueue, enqueue_document, get_job, list_jobs
from fastimport.print.samples import sample_credit_note, sample_delivery_note, sample_invoice, sample_slip
from fastimport.store.db import connect
from tests.printer_fixture import PAPER_OUT, LoopbackPrinter, decode, loopback_printer

__all__ = ["loopback_printer"]


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(":memory:")
    yield connection
    connection.close()


def network_printer(port: int, profile: str = "TM-T20II", **extra: object) -> PrinterConfig:
    raw = {
        "printer": {"kind": "network", "host": "127.0.0.1", "port": port, "profile": profile, "timeout": 2}
    }
    raw["printer"].update(extra)
    return parse_printers(raw)[0]


def worker(con: duckdb.DuckDBPyConnection, *printers: PrinterConfig, **kw: float) -> PrintWorker:
    kw.setdefault("backoff_base", 0.02)
    kw.setdefault("backoff_max", 0.2)
    return PrintWorker(con.cursor, list(printers), poll_interval=0.05, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("profile", "columns"), [("TM-T20II", 48), ("TM-T88V", 42), ("Sunmi-V2", 32)])
def test_every_ticket_kind_prints_through_the_network(
    con: duckdb.DuckDBPyConnection, loopback_printer: LoopbackPrinter, profile: str, columns: int
) -> None:
    printer = network_printer(loopback_printer.port, profile)
    docs = [sample_invoice(), sample_credit_note(), sample_slip(), sample_delivery_note()]
    for doc in docs:
        enqueue_document(con, doc, printer)
    with worker(con, printer) as w:
        report = w.run(max_seconds=20)
    assert report.printed == 4
    tickets = loopback_printer.wait_for_tickets(4)
    decoded = [decode(t, "cp858", columns) for t in tickets]
    for d in decoded:
        assert d.ends_with_cut and len(d.cuts) == 1
        assert d.inits == [0] and d.drawer_pulses == 0
        assert max(len(line) for line in d.lines if not line.lstrip().startswith("[")) <= columns
    invoice_text = "\n".join(decoded[0].lines)
    assert "54,60 €" in invoice_text and "Émise le" in invoice_text and "Reste dû" in invoice_text
    assert decoded[0].qr == ["FA-2026-004211"]
    assert decoded[1].qr == ["AV-2026-000012"] and "-9,90 €" in "\n".join(decoded[1].lines)
    assert decoded[2].qr == ["https://eshop-lyon.example/admin/orders/10482"]
    assert decoded[2].barcodes == ["W10482"]
    assert (decoded[3].barcodes or decoded[3].qr) == ["BL-2026-000317"]
    # the text preview stored with the job is what was printed, line for line
    for job, d in zip(list_jobs(con, include_printed=True), decoded, strict=True):
        stored = con.execute("SELECT preview FROM print_jobs WHERE job_id = ?", [job.job_id]).fetchone()
        assert stored is not None
        assert [line.rstrip(" ") for line in stored[0].splitlines()] == d.lines
    assert loopback_printer.snapshot()[0].status_queries == 1


def test_offline_printer_keeps_the_job_with_a_plain_reason(
    con: duckdb.DuckDBPyConnection, loopback_printer: LoopbackPrinter
) -> None:
    printer = dataclasses.replace(network_printer(loopback_printer.port), name="comptoir")
    job_id = enqueue_document(con, sample_invoice(), printer)
    loopback_printer.go_offline()
    w = worker(con, printer)
    assert w.run_once() == 0
    job = get_job(con, job_id)
    assert job is not None and job.status == "queued" and job.attempts == 1
    assert job.last_error == (
        f"printer 'comptoir' (127.0.0.1:{loopback_printer.port}) is not answering: connection refused"
    )
    assert job.next_attempt_at > job.created_at
    loopback_printer.come_online()
    w.run(max_seconds=10)
    w.close()
    job = get_job(con, job_id)
    assert job is not None and job.status == "printed" and not job.possibly_duplicated
    assert decode(loopback_printer.wait_for_tickets(1)[0]).qr == ["FA-2026-004211"]


def test_out_of_paper_holds_the_job_until_paper_is_back(
    con: duckdb.DuckDBPyConnection, loopback_printer: LoopbackPrinter
) -> None:
    printer = network_printer(loopback_printer.port)
    job_id = enqueue_document(con, sample_slip(), printer)
    loopback_printer.paper = PAPER_OUT
    w = worker(con, printer)
    w.run_once()
    job = get_job(con, job_id)
    assert job is not None and job.status == "queued"
    assert "is out of paper" in (job.last_error or "")
    assert loopback_printer.tickets() == []  # nothing was sent
    loopback_printer.paper = 0x12
    w.run(max_seconds=10)
    w.close()
    assert get_job(con, job_id).status == "printed"  # type: ignore[union-attr]
    assert len(loopback_printer.wait_for_tickets(1)) == 1


def test_slow_and_silent_printers_still_print(
    con: duckdb.DuckDBPyConnection, loopback_printer: LoopbackPrinter
) -> None:
    printer = network_printer(loopback_printer.port)
    loopback_printer.read_delay = 0.01
    loopback_printer.chunk = 256
    loopback_printer.answer_status = False  # status is advice: a printer that never answers still prints
    for n in range(3):
        enqueue_document(con, sample_invoice(n), printer)
    with worker(con, printer) as w:
        w.run(max_seconds=20)
    tickets = loopback_printer.wait_for_tickets(3)
    assert [decode(t).qr for t in tickets] == [["FA-2026-000000"], ["FA-2026-000001"], ["FA-2026-000002"]]
    # the first job found the printer silent; later jobs did not ask again
    assert [c.status_queries for c in loopback_printer.snapshot()] == [1, 0, 0]


def test_a_printer_that_stops_reading_times_out_and_is_flagged(
    con: duckdb.DuckDBPyConnection, loopback_printer: LoopbackPrinter
) -> None:
    printer = network_printer(loopback_printer.port, timeout=0.3, paper_check=False)
    loopback_printer.stall = True
    loopback_printer.go_offline()
    loopback_printer.rcvbuf = 4096
    loopback_printer.come_online()
    job_id = enqueue(
        con,
        kind="invoice",
        document_ref="BIG",
        printer=printer.name,
        payload=b"\x1b@" + b"X" * 47 + b"\n" * 12_000_000,
        preview="",
    )
    with worker(con, printer) as w:
        w.run_once()
    job = get_job(con, job_id)
    assert job is not None and job.status == "queued" and job.possibly_duplicated
    assert "did not take the whole ticket: no answer (timed out)" in (job.last_error or "")
    assert "may have printed twice" in (job.last_error or "")


def test_control_bytes_from_the_shop_never_reach_the_printer(
    con: duckdb.DuckDBPyConnection, loopback_printer: LoopbackPrinter
) -> None:
    printer = network_printer(loopback_printer.port)
    nasty = "Jean\x1bp\x00\x19\x19Dupont"
    slip = dataclasses.replace(
        sample_slip(customer=nasty),
        customer_note="porte\x1b@\x1dV\x00 B\x10\x14\x01\x00\x05",
        store="shop\x1bp0",
    )
    enqueue_document(con, sample_invoice(customer=nasty), printer)
    enqueue_document(con, slip, printer)
    with worker(con, printer) as w:
        w.run(max_seconds=10)
    for data in loopback_printer.wait_for_tickets(2):
        assert b"\x1bp" not in data
        assert data.count(b"\x1b@") == 1 and data.startswith(b"\x1b@\x1bt")
        assert data.count(b"\x1dV") == 1
        assert b"\x10\x14" not in data
        text = decode(data)
        assert not text.stray_controls and text.drawer_pulses == 0
        assert any("JeanpDupont" in line for line in text.lines)
