"""Every string the shopkeeper reads comes from the message catalog, and the French one has them all."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from fastimport.web import i18n
from fastimport.web.i18n import Messages, translate_refusal, translate_warning
from fastimport.web.pages import JS_MESSAGES
from tests.conftest import ShopFactory
from tests.web_support import till_client, till_config

WEB = Path(i18n.__file__).parent
STATES = ("pending", "prepared", "invoiced", "shipped", "cancelled", "processing", "on-hold", "paid", "queued",
          "printed", "failed", "invoice", "credit_note", "delivery_note", "ok", "running")  # fmt: skip


def used_messages() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB), method_map, options, keywords={"gettext": None, "ngettext": (1, 2), "_": None}
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    found |= set(JS_MESSAGES)
    found |= {msgid for _p, msgid in i18n._REFUSALS}
    found |= {msgid for _p, msgid in i18n._WARNINGS if msgid != "unknown article"}
    return found | set(STATES)


def test_the_french_catalog_has_every_message() -> None:
    used = used_messages()
    assert len(used) > 100
    missing = sorted(used - Messages("fr").known())
    assert not missing, f"messages without a French translation: {missing}"


def test_warnings_and_refusals_read_in_french() -> None:
    fr = Messages("fr")
    assert translate_warning(fr, "1 unknown article") == "1 article inconnu"
    assert translate_warning(fr, "3 unknown articles") == "3 articles inconnus"
    assert translate_warning(fr, "unknown customer") == "client inconnu"
    assert translate_warning(fr, "unpaid") == "impayé"
    assert translate_warning(fr, "cancelled on the shop") == "cancelled sur la boutique"
    assert translate_refusal(fr, "the order is unpaid: invoice it anyway with --allow-unpaid").startswith(
        "La commande n'est pas payée"
    )
    assert translate_refusal(fr, "order 12 was already shipped (BL-2026-000001)") == "Déjà expédiée."
    assert translate_refusal(
        fr, "order 12 is pending: invoice it before shipping (fastimport invoice 12)"
    ) == ("Facturez d'abord la commande.")
    assert translate_refusal(fr, "something new") == "something new"  # shown as the library wrote it
    en = Messages("en")
    assert translate_warning(en, "3 unknown articles") == "3 unknown articles"


async def test_the_page_speaks_english_when_asked(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = await shop_factory(orders=1)
    async with till_client(till_config(tmp_path, url, language="en"), monkeypatch) as client:
        page = await (await client.get("/")).text()
        assert "Pending orders" in page and "Commandes en attente" not in page and 'lang="en"' in page
    async with till_client(till_config(tmp_path, url), monkeypatch) as client:
        page = await (await client.get("/")).text()
        assert "Commandes en attente" in page and "Importer" in page and 'lang="fr"' in page


def test_the_catalog_is_a_plain_po_file() -> None:
    text = (WEB / "locale" / "fr" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    assert 'msgstr "Commandes en attente"' in text
    assert not list((WEB / "locale").rglob("*.mo"))  # read at run time: nothing compiled
    assert io.StringIO(text).readline().startswith("#")
