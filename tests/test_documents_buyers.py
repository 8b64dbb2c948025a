"""The platforms' buyer readers give a business buyer's VAT number and SIREN (what Factur-X needs)."""

from __future__ import annotations

import orjson

from fastimport.io.registry import buyer_of


def test_woocommerce_reads_vat_number_and_siren_from_order_meta() -> None:
    order = {
        "billing": {"company": "Atelier Dupont SAS", "email": "compta@dupont.fr"},
        "meta_data": [
            {"key": "_billing_vat_number", "value": "fr 40 303265045"},
            {"key": "_billing_siren", "value": "303 265 045"},
        ],
    }
    b = buyer_of("woocommerce", orjson.dumps(order))
    assert (b.company, b.vat_number, b.siren) == ("Atelier Dupont SAS", "FR40303265045", "303265045")
    plain = buyer_of("woocommerce", orjson.dumps({"billing": {"first_name": "Ada"}}))
    assert plain.vat_number is None and plain.siren is None


def test_shopify_reads_them_from_note_attributes() -> None:
    order = {
        "billing_address": {"company": "Atelier Dupont SAS"},
        "note_attributes": [
            {"name": "VAT number", "value": "FR40303265045"},
            {"name": "SIREN", "value": "303265045"},
        ],
    }
    b = buyer_of("shopify", orjson.dumps(order))
    assert (b.company, b.vat_number, b.siren) == ("Atelier Dupont SAS", "FR40303265045", "303265045")


def test_the_readme_documents_and_mail_tables_are_accepted() -> None:
    from fastimport.config import parse_config
    from fastimport.documents.settings import documents_settings, mail_settings
    from tests.test_readme import toml_blocks

    blocks = toml_blocks()
    base = next(b for b in blocks if "database" in b and "stores" in b)
    block = next(b for b in blocks if "mail" in b)
    config = parse_config({"database": base["database"], "stores": base["stores"], **block})
    mail = mail_settings(config).require()
    assert (mail.host, mail.port, mail.starttls, mail.sender) == (
        "smtp.example.fr", 587, True, "Boutique Exemple <factures@example.fr>",
    )  # fmt: skip
    assert documents_settings(config).logo == "logo.png"
