"""A4 PDFs and Factur-X from stored invoices: the text layer, the embedded XML, the amounts to the cent."""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import facturx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pypdf import PdfReader

from fastimport.api.documents import document_pdf
from fastimport.cli import main
from fastimport.documents import pdf, records
from fastimport.documents.facturx import NS
from fastimport.documents.settings import DocumentsSettings
from fastimport.processing import credit
from fastimport.store import connect
from tests.conftest import fresh_store
from tests.documents_support import (
    BUSINESS,
    add_order,
    documents_config,
    invoice_all,
    setup_store,
    store_with_invoices,
)
from tests.test_processing_property import line_st
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _fr(value: Decimal) -> str:
    return pdf._eur(value)


def _xml_amounts(xml: bytes) -> dict[str, Decimal]:
    root = etree.fromstring(xml)
    sums = root.find(".//ram:SpecifiedTradeSettlementHeaderMonetarySummation", NS)
    assert sums is not None
    return {etree.QName(el).localname: Decimal(el.text) for el in sums}


def test_invoice_pdf_text_layer_shows_the_stored_invoice(tmp_path: Path) -> None:
    config = documents_config(tmp_path)
    con, s, numbers = store_with_invoices(tmp_path, config)
    for number in numbers:
        doc = records.load_document(con, s, number)
        assert isinstance(doc, records.StoredFiscal)
        text = _text(pdf.render(doc, DocumentsSettings()).pdf)
        assert number in text and "FACTURE" in text
        for rate, base, vat in doc.vat:
            assert f"TVA {pdf._rate(rate)}" in text
            assert _fr(base) in text and _fr(vat) in text
        for total in (doc.total_ht, doc.total_vat, doc.total_ttc):
            assert f"{_fr(total)} €" in text
        assert "SIREN 123456789" in text and "FR12123456789" in text and "RCS Lyon" in text
        assert "Article n°1 <b>" in text or "Article n°3 <b>" in text  # shop text escaped, shown as written
        assert ("40 €" in text) == doc.business  # late-payment mentions for business buyers only
    first = records.load_document(con, s, numbers[0])
    assert isinstance(first, records.StoredFiscal) and first.adjustment == Decimal("0.01")
    assert "Ajustement d'arrondi" in _text(pdf.render(first, DocumentsSettings()).pdf)
    con.close()


def test_copies_after_the_first_say_duplicata(tmp_path: Path) -> None:
    config = documents_config(tmp_path)
    con, _, numbers = store_with_invoices(tmp_path, config)
    original = document_pdf(config, con, numbers[0])
    copy = document_pdf(config, con, numbers[0])
    assert "DUPLICATA" not in _text(original.pdf)
    assert "DUPLICATA 1" in _text(copy.pdf)
    journal = con.execute("SELECT kind, subject FROM journal WHERE kind = 'document_copy'").fetchall()
    assert journal == [("document_copy", numbers[0])]
    con.close()


def test_business_invoice_is_factur_x_en16931(tmp_path: Path) -> None:
    config = documents_config(tmp_path)
    con, s, numbers = store_with_invoices(tmp_path, config)
    consumer, business = (records.load_document(con, s, n) for n in numbers)
    assert isinstance(business, records.StoredFiscal) and business.business
    assert isinstance(consumer, records.StoredFiscal) and not consumer.business
    assert not pdf.render(consumer, DocumentsSettings()).facturx
    rendered = pdf.render(business, DocumentsSettings())
    assert rendered.facturx
    _, xml = facturx.get_facturx_xml_from_pdf(io.BytesIO(rendered.pdf), check_xsd=True)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert facturx.get_level(etree.fromstring(xml)) == "en16931"
    root = etree.fromstring(xml)
    assert root.findtext(".//rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == "380"
    assert (
        root.findtext(".//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID", namespaces=NS)
        == BUSINESS["vat_number"]
    )
    amounts = _xml_amounts(xml)
    assert amounts["TaxBasisTotalAmount"] == business.total_ht
    assert amounts["TaxTotalAmount"] == business.total_vat
    assert amounts["GrandTotalAmount"] + amounts.get("RoundingAmount", Decimal(0)) == business.total_ttc
    # A credit note of it: Factur-X 381 naming the invoice, amounts positive.
    cn = credit.credit_note(con, s, numbers[1], "retour")
    note = records.load_document(con, s, cn.number)
    assert isinstance(note, records.StoredFiscal)
    rendered = pdf.render(note, DocumentsSettings())
    _, xml = facturx.get_facturx_xml_from_pdf(io.BytesIO(rendered.pdf), check_xsd=True)
    root = etree.fromstring(xml)
    assert root.findtext(".//rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == "381"
    assert root.findtext(".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID", namespaces=NS) == numbers[1]
    assert _xml_amounts(xml)["GrandTotalAmount"] == -note.total_ttc
    text = _text(rendered.pdf)
    assert "AVOIR" in text and numbers[1] in text
    con.close()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(line_st, min_size=1, max_size=5),
    shipping=st.sampled_from([0, 490, 990]),
    rounding=st.sampled_from([-1, 0, 1, 2]),
)
def test_factur_x_amounts_equal_the_stored_invoice(
    tmp_path_factory: pytest.TempPathFactory, lines, shipping, rounding
) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("fx")
    config = documents_config(tmp)
    con = connect(fresh_store(config))
    setup_store(con)
    add_order(con, 1, lines, shipping_cents=shipping, rounding_cents=rounding, business=True)
    [number] = invoice_all(con, config)
    from fastimport.processing.settings import load_settings

    doc = records.load_document(con, load_settings(config), number)
    assert isinstance(doc, records.StoredFiscal)
    from fastimport.documents.facturx import cii_xml

    xml = cii_xml(doc)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    amounts = _xml_amounts(xml)
    assert amounts["LineTotalAmount"] == doc.total_ht
    assert amounts["TaxTotalAmount"] == doc.total_vat
    assert amounts.get("RoundingAmount", Decimal(0)) == doc.adjustment
    assert amounts["GrandTotalAmount"] + amounts.get("RoundingAmount", Decimal(0)) == doc.total_ttc
    root = etree.fromstring(xml)
    taxes = root.findall(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS)
    xml_vat = sorted(
        (Decimal(t.findtext("ram:RateApplicablePercent", namespaces=NS)), Decimal(t.findtext("ram:BasisAmount", namespaces=NS)),
         Decimal(t.findtext("ram:CalculatedAmount", namespaces=NS)))
        for t in taxes
    )  # fmt: skip
    assert xml_vat == sorted(doc.vat)
    line_sum = (
        sum(Decimal(e.text) for e in root.iterfind(".//ram:LineTotalAmount", NS)) - amounts["LineTotalAmount"]
    )
    assert line_sum == doc.total_ht  # the lines add up to the header
    con.close()


def test_document_pdf_command_and_page_image(tmp_path: Path) -> None:
    config = documents_config(tmp_path)
    con, _, numbers = store_with_invoices(tmp_path, config)
    con.close()
    toml = tmp_path / "fastimport.toml"
    from tests.test_processing_support import write_toml

    toml = write_toml(tmp_path, "http://127.0.0.1:9")
    out = tmp_path / "facture.pdf"
    assert main(["--config", str(toml), "document", "pdf", numbers[1], "--out", str(out)]) == 0
    assert numbers[1] in _text(out.read_bytes())
    assert main(["--config", str(toml), "document", "pdf", "FA-2099-nope-000001"]) == 1
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "poppler-utils (pdftoppm) is a system package of this project"
    subprocess.run(
        [pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", str(out), str(tmp_path / "page")], check=True
    )
    page = next(tmp_path.glob("page*.png"))
    assert page.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and page.stat().st_size > 10_000


def test_logo_from_the_documents_table(tmp_path: Path) -> None:
    from PIL import Image

    from fastimport.documents.settings import documents_settings, logo_path

    Image.new("RGB", (120, 40), (200, 30, 30)).save(tmp_path / "logo.png")
    (tmp_path / "fastimport.toml").write_text("")
    config = documents_config(tmp_path, documents={"logo": "logo.png"})
    config = dataclasses.replace(config, source=tmp_path / "fastimport.toml")
    con, s, numbers = store_with_invoices(tmp_path, config)
    settings = documents_settings(config)
    logo = logo_path(config, settings)
    assert logo == tmp_path / "logo.png"
    with_logo = pdf.render(records.load_document(con, s, numbers[0]), settings, logo).pdf
    without = pdf.render(records.load_document(con, s, numbers[0]), settings).pdf
    assert len(PdfReader(io.BytesIO(with_logo)).pages[0].images) == 1
    assert len(PdfReader(io.BytesIO(without)).pages[0].images) == 0
    bad = documents_config(tmp_path, documents={"logo": "missing.png"})
    from fastimport.errors import ConfigError

    with pytest.raises(ConfigError, match=r"missing\.png"):
        logo_path(bad, documents_settings(bad))
    con.close()


def test_delivery_note_pdf(tmp_path: Path) -> None:
    from fastimport.processing import lifecycle, shipping

    config = documents_config(tmp_path)
    con, s, _ = store_with_invoices(tmp_path, config)
    order = lifecycle.find_order(con, "W2", None)
    result = shipping.ship(con, config, s, order, "Colissimo", "6A123456789", push=False)
    rendered = document_pdf(config, con, result.number)
    assert rendered.kind == "delivery_note" and not rendered.facturx
    text = _text(rendered.pdf)
    (tmp_path / "bl.pdf").write_bytes(rendered.pdf)
    assert "BON DE LIVRAISON" in text and result.number in text and "6A123456789" in text
    assert "Total articles" in text and "5" in text  # 3 + 2 articles shipped
    assert "non valable comme facture" in text
    con.close()


def _docs_of_every_kind(tmp_path: Path) -> tuple[list[records.StoredDocument], Path]:
    """A consumer invoice, its DUPLICATA 1, a business invoice, its credit note and a delivery note."""
    from fastimport.processing import lifecycle, shipping

    config = documents_config(tmp_path)
    con, s, numbers = store_with_invoices(tmp_path, config)
    note = credit.credit_note(con, s, numbers[1], "retour")
    shipped = shipping.ship(
        con, config, s, lifecycle.find_order(con, "W2", None), "Colissimo", "6A1", push=False
    )
    docs = [records.load_document(con, s, numbers[0]), records.load_document(con, s, numbers[0], 1)]
    docs += [records.load_document(con, s, n) for n in (numbers[1], note.number, shipped.number)]
    con.close()
    from PIL import Image

    Image.new("RGB", (120, 40), (200, 30, 30)).save(tmp_path / "logo.png")
    return docs, tmp_path / "logo.png"


def test_our_user_agent_sheet_draws_the_same_pdf_as_weasyprints(tmp_path: Path) -> None:
    """``templates/ua.css`` (WeasyPrint's default sheet cut to the template's tags) changes nothing:
    the same bytes as with WeasyPrint's full sheet, for every kind of document, logo and DUPLICATA
    included.  A tag added to the template without its rules in ua.css fails here."""
    import weasyprint

    docs, logo = _docs_of_every_kind(tmp_path)
    settings = DocumentsSettings()
    for doc in docs:
        business = isinstance(doc, records.StoredFiscal) and doc.business
        text = pdf.html(doc, settings, logo, facturx=business)
        ours = pdf._page_class()(string=text, base_url=str(pdf.TEMPLATES)).write_pdf(**pdf._reused())
        full = weasyprint.HTML(string=text, base_url=str(pdf.TEMPLATES)).write_pdf(**pdf._reused())
        assert ours == full, doc.number
    assert "DUPLICATA 1" in _text(pdf.render(docs[1], settings).pdf)


def test_style_sheets_and_logo_are_kept_and_a_new_logo_path_is_read(tmp_path: Path) -> None:
    from PIL import Image

    docs, red = _docs_of_every_kind(tmp_path)
    Image.new("RGB", (60, 60), (30, 30, 200)).save(tmp_path / "blue.png")
    settings = DocumentsSettings()
    pdf.render(docs[0], settings, red)
    sheets, page = pdf._stylesheet.cache_info().hits, pdf._page_class()
    first = pdf.render(docs[0], settings, red).pdf
    assert pdf._stylesheet.cache_info().hits > sheets and pdf._page_class() is page  # parsed once
    assert red.as_uri() in pdf._IMAGES  # decoded once, kept for the next document
    (image,) = PdfReader(io.BytesIO(first)).pages[0].images
    assert image.image is not None and image.image.size == (120, 40)
    # Another logo file (the documents table changed): that one is drawn, not the kept one.
    (image,) = PdfReader(io.BytesIO(pdf.render(docs[0], settings, tmp_path / "blue.png").pdf)).pages[0].images
    assert image.image is not None and image.image.size == (60, 60)
