"""A4 PDF of a stored document: Jinja2 HTML + CSS (``templates/``) rendered by WeasyPrint.

Every value comes from the stored, signed record (:mod:`.records`): the page shows what
was signed, in French, with every legal mention the till's ticket carries, plus the
late-payment mentions for a business buyer.  ``copy_number`` > 0 prints DUPLICATA n.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2

from fastimport.documents.records import StoredDocument, StoredFiscal
from fastimport.documents.settings import DocumentsSettings
from fastimport.print.content import DeliveryNote, Seller

TEMPLATES = Path(__file__).parent / "templates"
TITLES = {"invoice": "FACTURE", "credit_note": "AVOIR", "delivery_note": "BON DE LIVRAISON"}


def _eur(value: Decimal, places: str = "0.01") -> str:
    """``Decimal("-1234.5")`` → ``-1 234,50`` (French: narrow space for thousands, comma for decimals)."""
    text = f"{Decimal(value).quantize(Decimal(places)):,}"
    return text.replace(",", "\u202f").replace(".", ",")


def _eur4(value: Decimal) -> str:
    """A unit price: cents, or up to 4 decimals when the stored price has them."""
    q = Decimal(value).quantize(Decimal("0.0001"))
    return _eur(q, "0.01") if q == q.quantize(Decimal("0.01")) else _eur(q, "0.0001")


def _rate(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}".replace(".", ",") + " %"


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    env.filters.update(eur=_eur, eur4=_eur4, rate=_rate)
    return env


# Kept between documents (per process): the fonts found once, the style sheet parsed once with them,
# and WeasyPrint's image cache, so a logo is read and decoded once, not once per page.
@functools.cache
def _fonts() -> Any:
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@functools.cache
def _stylesheet() -> Any:
    import weasyprint

    return weasyprint.CSS(filename=str(TEMPLATES / "style.css"), font_config=_fonts())


@functools.cache
def _page_class() -> Any:
    """``weasyprint.HTML`` with our user-agent style sheet (``templates/ua.css``) for WeasyPrint's.

    ``_ua_stylesheets`` is the hook WeasyPrint's own tests override to the same end."""
    import weasyprint

    ua = weasyprint.CSS(filename=str(TEMPLATES / "ua.css"))

    class Page(weasyprint.HTML):  # type: ignore[misc]  # WeasyPrint has no type hints
        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            return [ua]

    return Page


_IMAGES: dict[str, Any] = {}
# What is kept is shared: one document at a time per process (WeasyPrint holds the GIL anyway).
_RENDERING = threading.Lock()


def warm() -> None:
    """Load what every document reuses (fonts, style sheets, template) before the first one."""
    _stylesheet()
    _page_class()
    _environment().get_template("document.html")


def _seller_form(seller: Seller) -> str:
    if seller.capital is not None:
        return f"{seller.legal_form} au capital de {_eur(seller.capital)} €"
    return seller.legal_form


@dataclass(frozen=True, slots=True)
class Rendered:
    number: str
    kind: str
    pdf: bytes
    facturx: bool = False

    @property
    def filename(self) -> str:
        return f"{self.number}.pdf"


def context(
    doc: StoredDocument, settings: DocumentsSettings, logo: Path | None, facturx: bool
) -> dict[str, Any]:
    """The template's values (all from the stored record)."""
    common: dict[str, Any] = {"logo": logo.as_uri() if logo else "", "software": "", "signature": ""}
    if isinstance(doc, DeliveryNote):
        return common | {
            "delivery": True, "credit": False, "title": TITLES["delivery_note"], "number": doc.number,
            "date": doc.date.strftime("%d/%m/%Y"), "copy_number": doc.copy_number, "seller": doc.seller,
            "seller_form": _seller_form(doc.seller), "buyer_lines": (doc.delivery_name, *doc.delivery_address),
            "buyer_vat": "", "buyer_siren": "", "ship_to": "", "web_order_ref": doc.web_order_ref, "sale_date": "",
            "invoice_ref": "", "reason": "", "carrier": doc.carrier, "tracking": doc.tracking or "",
            "parcels": doc.parcels, "till": "", "lines": doc.lines, "total_items": doc.total_items,
        }  # fmt: skip
    t = doc.ticket
    credit = doc.kind == "credit_note"
    buyer = doc.buyer
    buyer_lines = [t.buyer_name, *t.buyer_address]
    if buyer.get("email"):
        buyer_lines.append(str(buyer["email"]))
    return common | {
        "delivery": False, "credit": credit, "title": TITLES[doc.kind], "number": t.number,
        "date": t.issued_at.strftime("%d/%m/%Y"), "copy_number": t.copy_number, "seller": t.seller,
        "seller_form": _seller_form(t.seller), "buyer_lines": [b for b in buyer_lines if b],
        "buyer_vat": str(buyer.get("vat_number") or ""), "buyer_siren": str(buyer.get("siren") or ""), "ship_to": str(buyer.get("ship_to") or ""),
        "web_order_ref": t.web_order_ref, "sale_date": t.sale_date.strftime("%d/%m/%Y"),
        "invoice_ref": doc.refers_to or "",
        "invoice_date": doc.refers_to_date.strftime("%d/%m/%Y") if doc.refers_to_date else "",
        "reason": getattr(t, "reason", ""), "carrier": "", "tracking": "", "parcels": 0,
        "till": t.till, "operator": t.operator,
        "lines": [line for line in doc.lines if line.kind != "adjustment"], "vat": doc.vat,
        "total_ht": doc.total_ht, "total_vat": doc.total_vat, "adjustment": doc.adjustment,
        "total_ttc": doc.total_ttc, "payments": t.payments, "amount_due": t.amount_due,
        "payment_terms": t.payment_terms, "payment_due": settings.payment_due, "b2b": t.b2b or doc.business,
        "late_rate": settings.late_penalty_rate, "facturx": facturx,
        "software": f"{t.software_name} {t.software_version}", "signature": t.signature_excerpt,
    }  # fmt: skip


def html(
    doc: StoredDocument, settings: DocumentsSettings, logo: Path | None = None, facturx: bool = False
) -> str:
    return _environment().get_template("document.html").render(context(doc, settings, logo, facturx))


def _reused() -> dict[str, Any]:
    return {"stylesheets": [_stylesheet()], "font_config": _fonts(), "cache": _IMAGES}


def render(doc: StoredDocument, settings: DocumentsSettings, logo: Path | None = None) -> Rendered:
    """The A4 PDF of ``doc``; a business buyer's invoice or credit note becomes Factur-X (PDF/A-3)."""
    make_facturx = isinstance(doc, StoredFiscal) and doc.business and settings.facturx
    text = html(doc, settings, logo, make_facturx)
    page = _page_class()(string=text, base_url=str(TEMPLATES))
    if make_facturx:
        assert isinstance(doc, StoredFiscal)
        from fastimport.documents import facturx

        with _RENDERING:
            pdf = page.write_pdf(pdf_variant="pdf/a-3b", **_reused())
        return Rendered(doc.number, doc.kind, facturx.embed(pdf, facturx.cii_xml(doc)), facturx=True)
    with _RENDERING:
        pdf = page.write_pdf(**_reused())
    kind = "delivery_note" if isinstance(doc, DeliveryNote) else doc.kind
    return Rendered(doc.number, kind, bytes(pdf))
