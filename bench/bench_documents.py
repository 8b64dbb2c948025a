"""Documents for the customer: A4 PDFs per second in batch, and mails per second to a loopback SMTP server.

    python -m bench.bench_documents [--pdfs 100] [--mails 100] [--json]

The invoices are made as ``bench.bench_invoice`` makes them (1 to 5 lines at four VAT rates,
shipping, a rounding cent on every 50th order), then read back from the store and rendered:
consumers' invoices (plain A4 PDF) and business buyers' (Factur-X PDF/A-3 with its EN 16931
XML checked against the XSD).  Mails go through the persistent queue to an ``aiosmtpd``
server on loopback, each rendering its PDF.  PDFs are rendered one
thread first, then by ``fastimport.documents.batch`` (a pool of ``os.cpu_count()`` processes, the
way ``invoice --pdf DIR`` renders): both figures come from the same run.  Results go to
bench/results/documents.json with the versions of everything involved.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from bench.bench_invoice import setup
from bench.machine import versions
from fastimport.config import parse_config
from fastimport.documents import batch, mail, pdf, records
from fastimport.documents.settings import DocumentsSettings, MailSettings
from fastimport.processing import invoicing
from fastimport.processing.settings import load_settings
from fastimport.store import connect, raw

RESULTS = Path(__file__).parent / "results" / "documents.json"
TARGET_PDF_PER_S = 20
ROUNDS = 3
_BUSINESS = (
    b'{"billing":{"first_name":"Marie","last_name":"Durand","company":"Atelier Durand SARL",'
    b'"address_1":"12 rue des Lilas","postcode":"69003","city":"Lyon","country":"FR","email":"marie@example.fr"},'
    b'"meta_data":[{"key":"_billing_vat_number","value":"FR40303265045"}],"shipping_tax":"1.15"}'
)


def _make_business(path: Path) -> None:
    """Every order's stored payload becomes a business buyer's (company + VAT number)."""
    con = connect(path)
    chunk, size, _, lengths = raw.pack(pa.array([_BUSINESS], pa.binary()))
    con.execute("UPDATE raw_chunks SET size = ?, data = ? WHERE chunk_id = 1", [size, chunk])
    con.execute("UPDATE orders SET raw_length = ?", [int(lengths[0].as_py())])
    con.close()


def _config(path: Path) -> Any:
    return parse_config(
        {
            "database": {"path": str(path)},
            "stores": [{"name": "eshop", "platform": "woocommerce", "url": "http://x", "timezone": "Europe/Paris",
                        "key_env": "K", "secret_env": "S"}],
            "seller": {"name": "Boutique", "legal_form": "SARL", "capital": "10000", "address": "3 place Bellecour, 69002 Lyon",
                       "siren": "123456789", "siret": "12345678900012", "rcs": "RCS Lyon 123 456 789",
                       "vat_number": "FR12123456789"},
            "invoicing": {"secret_env": "FASTIMPORT_BENCH_KEY"},
        }
    )  # fmt: skip


def pdf_rate(tmp: Path, count: int, business: bool, rounds: int = ROUNDS) -> dict[str, Any]:
    """PDFs per second, three ways side by side, interleaved ``rounds`` times (the machine may be
    shared: each way keeps its best round, and every round is listed).

    * ``before``: as fastimport rendered before the batch path (consumer invoices only): one thread,
      WeasyPrint looking the fonts up again for every document;
    * ``single``: one thread, fonts, style sheets and images kept between documents, the
      user-agent sheet cut to the template's tags;
    * ``pool``: the batch path of ``invoice --pdf DIR``: the records read here, rendered by a pool of
      ``os.cpu_count()`` processes (the pool's start-up included).

    ``cpu_ms_per_document`` (this process's CPU time, so one-thread ways only) does not depend on
    what else the machine runs.
    """
    path = tmp / f"pdf-{int(business)}.duckdb"
    setup(path, count)
    if business:
        _make_business(path)
    config = _config(path)
    settings = load_settings(config)
    con = connect(path)
    numbers = [
        i.number for i in invoicing.invoice_orders(con, settings, invoicing.pending_keys(con, config)).issued
    ]
    docs = records.load_fiscal(con, settings, numbers)
    con.close()
    docs_settings = DocumentsSettings()
    pdf.render(docs[0], docs_settings)  # warm-up: fonts, templates
    ways: dict[str, Callable[[], tuple[int, int]]] = {
        "single": lambda: _render_all(docs, docs_settings, 1),
        "pool": lambda: _render_all(docs, docs_settings, os.cpu_count() or 1),
    }
    if not business:
        ways = {"before": lambda: _as_before(docs)} | ways
    runs: dict[str, list[tuple[float, float, int, int]]] = {name: [] for name in ways}
    for _ in range(rounds):
        for name, way in ways.items():
            started, cpu = time.perf_counter(), time.process_time()
            size, facturx = way()
            runs[name].append((time.perf_counter() - started, time.process_time() - cpu, size, facturx))
    out: dict[str, Any] = {"documents": len(docs)}
    for name, measured in runs.items():
        seconds, cpu, size, facturx = min(measured)
        out[name] = {
            "workers": os.cpu_count() if name == "pool" else 1, "facturx": facturx, "seconds": round(seconds, 3),
            "per_second": round(len(docs) / seconds, 1),
            "rounds_per_second": [round(len(docs) / m[0], 1) for m in measured],
            "mean_bytes": size // len(docs),
        }  # fmt: skip
        if name != "pool":
            out[name]["cpu_ms_per_document"] = round(1000 * min(m[1] for m in measured) / len(docs), 1)
    return out


def _render_all(
    docs: list[records.StoredFiscal], settings: DocumentsSettings, workers: int
) -> tuple[int, int]:
    size = facturx = 0
    for rendered in batch.render_many(docs, settings, workers=workers, min_batch=2):
        size += len(rendered.pdf)
        facturx += rendered.facturx
    return size, facturx


def _as_before(docs: list[records.StoredFiscal]) -> tuple[int, int]:
    """The consumer PDFs rendered as fastimport did before the batch path (same HTML, same style
    sheet, parsed once): WeasyPrint's default of looking the fonts up again for every document,
    and its full user-agent style sheet (``pdf.render`` uses ``templates/ua.css``)."""
    import weasyprint

    css = weasyprint.CSS(filename=str(pdf.TEMPLATES / "style.css"))
    size = 0
    for doc in docs:
        page = weasyprint.HTML(string=pdf.html(doc, DocumentsSettings()), base_url=str(pdf.TEMPLATES))
        size += len(page.write_pdf(stylesheets=[css]))
    return size, 0


def weasyprint_floor(count: int) -> dict[str, Any]:
    """The library's own floor on this machine: an A4 page holding one line of text, no stylesheet."""
    import weasyprint

    page = "<html><body><p>Facture FA-2026-eshop-000001</p></body></html>"
    weasyprint.HTML(string=page).write_pdf()
    started = time.perf_counter()
    for _ in range(count):
        weasyprint.HTML(string=page).write_pdf()
    seconds = time.perf_counter() - started
    return {"documents": count, "seconds": round(seconds, 3), "per_second": round(count / seconds, 1)}


def mail_rate(tmp: Path, count: int) -> dict[str, Any]:
    import socket

    from aiosmtpd.controller import Controller

    class Sink:
        received = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            Sink.received += 1
            return "250 OK"

    path = tmp / "mail.duckdb"
    setup(path, count)
    config = _config(path)
    settings = load_settings(config)
    con = connect(path)
    enqueued = mail.MailEnqueued()
    invoicing.invoice_orders(
        con, settings, invoicing.pending_keys(con, config), on_documents=mail.mail_hook(enqueued)
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = Controller(Sink(), hostname="127.0.0.1", port=port)
    server.start()
    try:
        smtp = MailSettings(host="127.0.0.1", port=port, starttls=False, sender="factures@example.fr")
        worker = mail.MailWorker(con, smtp, DocumentsSettings(), settings)
        started = time.perf_counter()
        report = worker.run(until_empty=True, max_seconds=600)
        seconds = time.perf_counter() - started
    finally:
        server.stop()
        con.close()
    return {"mails": report.sent, "received": Sink.received, "seconds": round(seconds, 3),
            "per_second": round(report.sent / seconds, 1)}  # fmt: skip


def run(pdfs: int, mails: int, rounds: int = ROUNDS) -> dict[str, Any]:
    os.environ.setdefault("FASTIMPORT_BENCH_KEY", "bench-signing-key")
    load_before = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory() as tmp:
        consumer = pdf_rate(Path(tmp), pdfs, business=False, rounds=rounds)
        business = pdf_rate(Path(tmp), pdfs, business=True, rounds=rounds)
        sent = mail_rate(Path(tmp), mails)
    floor = weasyprint_floor(max(10, pdfs // 2))
    return {
        "benchmark": "documents: A4 PDFs (one thread, then a process pool) and mails",
        "pdf_consumer": consumer,
        "pdf_business_facturx": business,
        "mail_loopback": sent,
        "ceiling_weasyprint_one_line_page": floor,
        "target_pdf_per_second": TARGET_PDF_PER_S,
        # The machine may be shared: the 1-minute load average says how much of it the run had.
        "load_average": [load_before, round(os.getloadavg()[0], 2)],
        "cores": os.cpu_count(),
        "versions": versions() | {k: _version(k) for k in ("weasyprint", "factur-x", "jinja2", "aiosmtpd")},
    }


def _version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_documents")
    parser.add_argument("--pdfs", type=int, default=100)
    parser.add_argument("--mails", type=int, default=100)
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help="interleaved rounds of each PDF way (best kept)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.pdfs, args.mails, args.rounds)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    if args.json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    else:
        c, b, m = result["pdf_consumer"], result["pdf_business_facturx"], result["mail_loopback"]
        for name, r in (("consumer", c), ("business, Factur-X", b)):
            one, pool = r["single"], r["pool"]
            before = (
                f"as before {r['before']['per_second']}/s ({r['before']['cpu_ms_per_document']} ms CPU each), "
                if "before" in r
                else ""
            )
            print(
                f"PDF ({name}): {r['documents']} documents, best of {len(one['rounds_per_second'])}: {before}"
                f"one thread {one['per_second']}/s ({one['cpu_ms_per_document']} ms CPU each), "
                f"{pool['workers']} processes {pool['per_second']}/s (target {TARGET_PDF_PER_S}/s)"
            )
        f = result["ceiling_weasyprint_one_line_page"]
        print(f"ceiling: WeasyPrint, a page of one line, no stylesheet: {f['per_second']}/s")
        print(f"load average before / after: {result['load_average']}")
        print(
            f"mails to loopback SMTP (PDF rendered per mail): {m['mails']} in {m['seconds']} s, {m['per_second']}/s"
        )
    return 0 if m["received"] == m["mails"] == args.mails else 1


if __name__ == "__main__":
    raise SystemExit(main())
