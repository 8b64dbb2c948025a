"""A PrestaShop business buyer: company, VAT number and dni read from the invoice address at import,
one request per page of orders, and the invoice is a Factur-X PDF naming the buyer's VAT id."""

from __future__ import annotations

import io
from pathlib import Path

import facturx
import orjson
import pytest
from lxml import etree

from fastimport.documents import pdf, records
from fastimport.documents.facturx import NS
from fastimport.documents.settings import DocumentsSettings
from fastimport.io.registry import buyer_of
from fastimport.processing import invoicing
from fastimport.processing.settings import load_settings
from fastimport.sim.prestashop_addresses import siren_for, vat_for
from fastimport.store import connect
from tests.conftest import ShopFactory
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY, W0, W1, import_shop, processing_config


@pytest.fixture
def platform() -> str:
    return "prestashop"


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)


def test_the_buyer_is_read_from_the_invoice_address_in_the_payload() -> None:
    order = {
        "id": 7, "total_shipping_tax_incl": "5.900000", "total_shipping_tax_excl": "4.920000",
        "fastimport_invoice_address": {
            "company": "Atelier Dupont SAS", "vat_number": "fr 40 303265045", "dni": "303 265 045 00012",
            "firstname": "Ada", "lastname": "Dupont", "address1": "3 rue Neuve", "address2": "",
            "postcode": "69002", "city": "Lyon", "country": "FR",
        },
    }  # fmt: skip
    b = buyer_of("prestashop", orjson.dumps(order))
    assert (b.company, b.vat_number, b.siren) == ("Atelier Dupont SAS", "FR40303265045", "303265045")
    assert (b.address_1, b.address_2, b.postcode, b.city, b.country) == (
        "3 rue Neuve",
        None,
        "69002",
        "Lyon",
        "FR",
    )
    assert b.shipping_tax == "0.98"
    plain = buyer_of(
        "prestashop", orjson.dumps({"id": 8, "total_shipping_tax_incl": "0", "total_shipping_tax_excl": "0"})
    )
    assert (plain.company, plain.vat_number, plain.siren) == (None, None, None)
    odd = order | {
        "fastimport_invoice_address": {"company": "X", "dni": "12345678Z"}
    }  # a Spanish NIF: not a SIREN
    assert buyer_of("prestashop", orjson.dumps(odd)).siren is None


async def test_a_prestashop_business_order_gets_a_factur_x_invoice(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    shop, url = await shop_factory(orders=160, start=W0, end=W1)
    config = processing_config(tmp_path, url, per_page=50)
    await import_shop(config)
    listings = [p for m, p, s in shop.requests_log if p.startswith("/api/orders?") and s == 200]
    addresses = [p for m, p, s in shop.requests_log if p.startswith("/api/addresses?")]
    assert addresses and len(addresses) <= len(listings)  # one request per page of orders, not per order
    con = connect(config.target)
    try:
        assert con.execute("SELECT count(*) FROM orders WHERE company <> ''").fetchone()[0] > 0
        settings = load_settings(config)
        report = invoicing.invoice_orders(
            con, settings, invoicing.pending_keys(con, config), allow_unpaid=True
        )
        assert report.issued, report.refused
        docs = records.load_fiscal(con, settings, [i.number for i in report.issued])
    finally:
        con.close()
    business = [d for d in docs if d.business]
    assert business and len(business) < len(docs)  # some buyers are companies, most are not
    with_dni = [d for d in business if d.buyer.get("siren")]
    assert with_dni, "the simulated shop gives one company in two its SIRET in dni"
    for doc in business[:3] + with_dni[:1]:
        company = str(doc.buyer["company"])
        assert doc.buyer["vat_number"] == vat_for(siren_for(company))
        assert doc.buyer["postcode"] and doc.buyer["city"] and doc.buyer["country"] == "FR"
        rendered = pdf.render(doc, DocumentsSettings())
        assert rendered.facturx
        _, xml = facturx.get_facturx_xml_from_pdf(io.BytesIO(rendered.pdf), check_xsd=True)
        assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
        root = etree.fromstring(xml)
        buyer = ".//ram:BuyerTradeParty"
        assert (
            root.findtext(f"{buyer}/ram:SpecifiedTaxRegistration/ram:ID", namespaces=NS)
            == doc.buyer["vat_number"]
        )
        assert root.findtext(f"{buyer}/ram:Name", namespaces=NS) == company
        siren = root.findtext(f"{buyer}/ram:SpecifiedLegalOrganization/ram:ID", namespaces=NS)
        assert siren == (doc.buyer.get("siren") or None)
    # A consumer's invoice stays a plain PDF.
    consumer = next(d for d in docs if not d.business)
    assert not pdf.render(consumer, DocumentsSettings()).facturx
