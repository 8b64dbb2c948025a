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


def pdf_rate(tmp: Path, count: int, business: bool) -> dict[str, Any]:
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
    docs_settings = DocumentsSettings()
    pdf.render(records.load_document(con, settings, numbers[0]), docs_settings)  # warm-up: fonts, templates
    out: dict[str, Any] = {"documents": len(numbers)}
    # One thread (each PDF after the other), then the batch path of ``invoice --pdf DIR``: the
    # records read here, rendered by a pool of os.cpu_count() processes (pool start-up included).
    for label, workers in (("single", 1), ("pool", os.cpu_count() or 1)):
        started = time.perf_counter()
        cpu = time.process_time()
        size = facturx = 0
        docs = records.load_fiscal(con, settings, numbers)
        for rendered in batch.render_many(docs, docs_settings, workers=workers):
            size += len(rendered.pdf)
            facturx += rendered.facturx
        seconds = time.perf_counter() - started
        out[label] = {"workers": workers, "facturx": facturx, "seconds": round(seconds, 3),
                      "per_second": round(len(numbers) / seconds, 1), "mean_bytes": size // len(numbers),
                      "parent_cpu_seconds": round(time.process_time() - cpu, 3)}  # fmt: skip
    if not business:
        out["before"] = _as_before(docs)
    con.close()
    return out


def _as_before(docs: list[records.StoredFiscal]) -> dict[str, Any]:
    """The same consumer PDFs rendered as fastimport did before the batch path: one thread, and
    WeasyPrint's default of looking the fonts up again for every document."""
    import weasyprint

    css = weasyprint.CSS(filename=str(pdf.TEMPLATES / "style.css"))
    started = time.perf_counter()
    for doc in docs:
        weasyprint.HTML(string=pdf.html(doc, DocumentsSettings()), base_url=str(pdf.TEMPLATES)).write_pdf(
            stylesheets=[css]
        )
    seconds = time.perf_counter() - started
    return {"workers": 1, "seconds": round(seconds, 3), "per_second": round(len(docs) / seconds, 1)}


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


def run(pdfs: int, mails: int) -> dict[str, Any]:
    os.environ.setdefault("FASTIMPORT_BENCH_KEY", "bench-signing-key")
    load_before = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory() as tmp:
        consumer = pdf_rate(Path(tmp), pdfs, business=False)
        business = pdf_rate(Path(tmp), pdfs, business=True)
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
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.pdfs, args.mails)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    if args.json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    else:
        c, b, m = result["pdf_consumer"], result["pdf_business_facturx"], result["mail_loopback"]
        for name, r in (("consumer", c), ("business, Factur-X", b)):
            one, pool = r["single"], r["pool"]
            before = f"as before {r['before']['per_second']}/s, " if "before" in r else ""
            print(
                f"PDF ({name}): {r['documents']} documents: {before}one thread {one['per_second']}/s, "
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
