"""PDFs in batch (``invoice … --pdf DIR``): rendered by a process pool, the same documents as one by one."""

from __future__ import annotations

import io
from pathlib import Path

import facturx
import pytest
from pypdf import PdfReader

from fastimport.api.documents import write_pdfs
from fastimport.documents import batch, pdf, records
from fastimport.documents.settings import DocumentsSettings
from fastimport.processing.settings import load_settings
from fastimport.store import connect
from tests.documents_support import add_order, documents_config, invoice_all, setup_store
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_batch_renders_in_a_pool_the_same_pdfs_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = documents_config(tmp_path)
    con = connect(config.target)
    setup_store(con)
    count = 9
    for oid in range(1, count + 1):
        lines = [(1 + oid % 5, 1 + oid % 3, 1000 + 37 * oid, ""), (6, 1, 899, "taux-reduit-5-5")]
        add_order(con, oid, lines, shipping_cents=490 * (oid % 2), business=oid % 3 == 0,
                  email=f"client{oid}@example.org")  # fmt: skip
    numbers = invoice_all(con, config)
    assert len(numbers) == count
    settings = DocumentsSettings()
    docs = records.load_fiscal(con, load_settings(config), numbers)
    alone = [pdf.render(doc, settings) for doc in docs]
    pooled = list(batch.render_many(docs, settings, workers=2, min_batch=2))
    assert [r.number for r in pooled] == numbers  # in the documents' order
    for one, many in zip(alone, pooled, strict=True):
        assert (many.kind, many.facturx) == (one.kind, one.facturx)
        assert _text(many.pdf) == _text(one.pdf) and many.number in _text(many.pdf)
        if one.facturx:
            _, xml_one = facturx.get_facturx_xml_from_pdf(io.BytesIO(one.pdf), check_xsd=False)
            _, xml_many = facturx.get_facturx_xml_from_pdf(io.BytesIO(many.pdf), check_xsd=True)
            assert xml_many == xml_one
    assert sum(r.facturx for r in pooled) == count // 3

    # ``invoice --pdf DIR``'s writer (on the pool: this batch counts as big): each original written once.
    monkeypatch.setattr(batch, "MIN_POOL_BATCH", 2)
    out = tmp_path / "pdfs"
    paths = write_pdfs(config, con, numbers, out)
    assert [p.name for p in paths] == [f"{n}.pdf" for n in numbers]
    assert all(_text(p.read_bytes()) == _text(r.pdf) for p, r in zip(paths, alone, strict=True))
    copies = con.execute("SELECT document_ref, copy_number FROM document_copies ORDER BY 1").fetchall()
    assert copies == sorted((n, 0) for n in numbers)
    con.close()
