"""Factur-X for business buyers: the EN 16931 CII XML of a stored invoice or credit note, embedded in its PDF.

The XML is written from the stored, signed record (:class:`.records.StoredFiscal`), never
recomputed: each line's net amount, each VAT rate's base and amount, the totals.  The
shop's rounding adjustment (an adjustment line on the invoice) is the XML's
``RoundingAmount`` (BT-114), so ``GrandTotalAmount + RoundingAmount`` is the stored total.

A credit note is type code 381 and names its invoice (``InvoiceReferencedDocument``,
BT-25/26); its amounts, stored negative, are written positive as the standard wants
(the type code carries the sign).  The PDF is made PDF/A-3 by WeasyPrint and the
``factur-x`` library embeds and checks the XML against its XSD.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from fastimport.documents.records import StoredFiscal

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
EN16931 = "urn:cen.eu:en16931:2017"
TYPE_CODES = {"invoice": "380", "credit_note": "381"}


def _q(tag: str) -> str:
    prefix, name = tag.split(":")
    return f"{{{NS[prefix]}}}{name}"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    el = etree.SubElement(parent, _q(tag), attrib)
    if text is not None:
        el.text = text
    return el


def _amount(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def _rate(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def _category(rate: Decimal) -> str:
    return "S" if rate else "Z"  # standard rate, or zero-rated


def _party(parent: etree._Element, tag: str, name: str, siren: str, address: list[str], postcode: str,
           city: str, country: str, vat_number: str) -> None:  # fmt: skip
    party = _sub(parent, tag)
    _sub(party, "ram:Name", name)
    if siren:
        org = _sub(party, "ram:SpecifiedLegalOrganization")
        _sub(org, "ram:ID", siren, schemeID="0002")
    addr = _sub(party, "ram:PostalTradeAddress")
    if postcode:
        _sub(addr, "ram:PostcodeCode", postcode)
    for tag_line, text in zip(("ram:LineOne", "ram:LineTwo", "ram:LineThree"), address, strict=False):
        _sub(addr, tag_line, text)
    if city:
        _sub(addr, "ram:CityName", city)
    _sub(addr, "ram:CountryID", (country or "FR").upper()[:2])
    if vat_number:
        reg = _sub(party, "ram:SpecifiedTaxRegistration")
        _sub(reg, "ram:ID", vat_number, schemeID="VA")


def _seller_address(lines: tuple[str, ...]) -> tuple[list[str], str, str]:
    """("3 place Bellecour", "69002 Lyon") → (street lines, postcode, city)."""
    street, postcode, city = list(lines), "", ""
    if street:
        last = street[-1].split(maxsplit=1)
        if len(last) == 2 and last[0].isdigit() and len(last[0]) == 5:
            postcode, city = last
            street = street[:-1]
    return street, postcode, city


def cii_xml(doc: StoredFiscal) -> bytes:
    """The CII XML (Factur-X EN 16931 profile) of a stored invoice or credit note."""
    sign = Decimal(-1) if doc.kind == "credit_note" else Decimal(1)
    t = doc.ticket
    root = etree.Element(_q("rsm:CrossIndustryInvoice"), nsmap=NS)
    ctx = _sub(root, "rsm:ExchangedDocumentContext")
    _sub(_sub(ctx, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931)
    head = _sub(root, "rsm:ExchangedDocument")
    _sub(head, "ram:ID", t.number)
    _sub(head, "ram:TypeCode", TYPE_CODES[doc.kind])
    issued = _sub(head, "ram:IssueDateTime")
    _sub(issued, "udt:DateTimeString", t.issued_at.strftime("%Y%m%d"), format="102")
    if doc.kind == "invoice":
        note = _sub(head, "ram:IncludedNote")
        _sub(
            note,
            "ram:Content",
            "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 €.",
        )
        _sub(note, "ram:SubjectCode", "PMT")
    trade = _sub(root, "rsm:SupplyChainTradeTransaction")
    for line in doc.lines:
        if line.kind == "adjustment":
            continue  # the XML's RoundingAmount
        item = _sub(trade, "ram:IncludedSupplyChainTradeLineItem")
        _sub(_sub(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(line.line_no))
        product = _sub(item, "ram:SpecifiedTradeProduct")
        if line.sku:
            _sub(product, "ram:SellerAssignedID", line.sku)
        _sub(product, "ram:Name", line.name or line.kind)
        price = _sub(_sub(item, "ram:SpecifiedLineTradeAgreement"), "ram:NetPriceProductTradePrice")
        _sub(price, "ram:ChargeAmount", f"{line.unit_price_ht.quantize(Decimal('0.0001'))}")
        delivery = _sub(item, "ram:SpecifiedLineTradeDelivery")
        _sub(delivery, "ram:BilledQuantity", str(int(sign * line.quantity)), unitCode="C62")
        settle = _sub(item, "ram:SpecifiedLineTradeSettlement")
        tax = _sub(settle, "ram:ApplicableTradeTax")
        _sub(tax, "ram:TypeCode", "VAT")
        _sub(tax, "ram:CategoryCode", _category(line.vat_rate))
        _sub(tax, "ram:RateApplicablePercent", _rate(line.vat_rate))
        total = _sub(settle, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _sub(total, "ram:LineTotalAmount", _amount(sign * line.total_ht))
    agreement = _sub(trade, "ram:ApplicableHeaderTradeAgreement")
    seller = t.seller
    street, postcode, city = _seller_address(seller.address)
    _party(agreement, "ram:SellerTradeParty", seller.name, seller.siren, street, postcode, city, "FR",
           seller.vat_number)  # fmt: skip
    b = doc.buyer
    _party(agreement, "ram:BuyerTradeParty", str(b.get("company") or b.get("name") or ""),
           str(b.get("siren") or ""), [str(b["address"])] if b.get("address") else [],
           str(b.get("postcode") or ""), str(b.get("city") or ""), str(b.get("country") or ""),
           str(b.get("vat_number") or ""))  # fmt: skip
    if t.web_order_ref:
        _sub(_sub(agreement, "ram:SellerOrderReferencedDocument"), "ram:IssuerAssignedID", t.web_order_ref)
    delivery_head = _sub(trade, "ram:ApplicableHeaderTradeDelivery")
    event = _sub(delivery_head, "ram:ActualDeliverySupplyChainEvent")
    _sub(
        _sub(event, "ram:OccurrenceDateTime"),
        "udt:DateTimeString",
        t.sale_date.strftime("%Y%m%d"),
        format="102",
    )
    settlement = _sub(trade, "ram:ApplicableHeaderTradeSettlement")
    _sub(settlement, "ram:InvoiceCurrencyCode", doc.currency)
    means = _sub(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    _sub(means, "ram:TypeCode", "ZZZ")
    if t.payments:
        _sub(means, "ram:Information", t.payments[0].method)
    for rate, base, vat in doc.vat:
        tax = _sub(settlement, "ram:ApplicableTradeTax")
        _sub(tax, "ram:CalculatedAmount", _amount(sign * vat))
        _sub(tax, "ram:TypeCode", "VAT")
        if not rate:
            _sub(tax, "ram:ExemptionReason", "Taux zéro")
        _sub(tax, "ram:BasisAmount", _amount(sign * base))
        _sub(tax, "ram:CategoryCode", _category(rate))
        _sub(tax, "ram:RateApplicablePercent", _rate(rate))
    terms = _sub(settlement, "ram:SpecifiedTradePaymentTerms")
    _sub(terms, "ram:Description", t.payment_terms)
    sums = _sub(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    currency = {"currencyID": doc.currency}
    total_ht, total_vat, adjustment = sign * doc.total_ht, sign * doc.total_vat, sign * doc.adjustment
    grand = total_ht + total_vat
    payable = grand + adjustment
    prepaid = payable if doc.paid and doc.kind == "invoice" else Decimal(0)
    _sub(sums, "ram:LineTotalAmount", _amount(total_ht))
    _sub(sums, "ram:TaxBasisTotalAmount", _amount(total_ht))
    _sub(sums, "ram:TaxTotalAmount", _amount(total_vat), **currency)
    if adjustment:
        _sub(sums, "ram:RoundingAmount", _amount(adjustment))
    _sub(sums, "ram:GrandTotalAmount", _amount(grand))
    _sub(sums, "ram:TotalPrepaidAmount", _amount(prepaid))
    _sub(sums, "ram:DuePayableAmount", _amount(payable - prepaid))
    if doc.refers_to:
        ref = _sub(settlement, "ram:InvoiceReferencedDocument")
        _sub(ref, "ram:IssuerAssignedID", doc.refers_to)
        if doc.refers_to_date:
            when = _sub(ref, "ram:FormattedIssueDateTime")
            _sub(when, "qdt:DateTimeString", doc.refers_to_date.strftime("%Y%m%d"), format="102")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def embed(pdf: bytes, xml: bytes) -> bytes:
    """``pdf`` (a PDF/A-3) with ``xml`` embedded as ``factur-x.xml``, checked against the EN 16931 XSD."""
    import facturx

    out = facturx.generate_from_binary(
        pdf, xml, flavor="factur-x", level="en16931", check_xsd=True, lang="fr-FR"
    )
    return bytes(out)
