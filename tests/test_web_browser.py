"""The till page in a real browser: Playwright driving the system's Chromium against a real server.

Import today's orders with the keyboard, watch the progress, open an order, invoice it: the row
leaves the table and the ticket is printed on the loopback printer.  Screenshots of every page go
to ``build/screenshots/`` (or ``$FASTIMPORT_SCREENSHOTS``), and every button, link and field the
shopkeeper touches is at least 44 px high at 1024×768.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Page, async_playwright

from fastimport.web.app import create_app
from tests.conftest import ShopFactory
from tests.printer_fixture import LoopbackPrinter, decode, loopback_printer
from tests.test_processing_support import SIGNING_ENV, SIGNING_KEY
from tests.web_support import shop_of_today, till_config

__all__ = ["loopback_printer"]  # the fixture, imported for pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]  # fmt: skip
SHOTS = Path(
    os.environ.get("FASTIMPORT_SCREENSHOTS") or Path(__file__).parent.parent / "build" / "screenshots"
)
TOUCH_TARGETS = "button, .btn, a.rowlink, select, input:not([type=hidden]), .tabs a"


async def serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def small_targets(page: Page) -> list[str]:
    found: list[str] = await page.eval_on_selector_all(
        TOUCH_TARGETS,
        """els => els.filter(e => e.offsetParent !== null)
                     .filter(e => e.getBoundingClientRect().height < 44)
                     .map(e => e.outerHTML.slice(0, 80) + ' ' + e.getBoundingClientRect().height)""",
    )
    return found


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
    assert await small_targets(page) == [], f"touch targets under 44 px on {name}"


async def test_import_invoice_and_print_in_the_browser(
    tmp_path: Path,
    shop_factory: ShopFactory,
    monkeypatch: pytest.MonkeyPatch,
    loopback_printer: LoopbackPrinter,
) -> None:
    monkeypatch.setenv(SIGNING_ENV, SIGNING_KEY)
    _, url = await shop_of_today(shop_factory, orders=40, evil=True)
    config = till_config(tmp_path, url, loopback_printer.port, store={"per_page": 10}, page_size=12)
    async for base in serve(create_app(config)):
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = await browser.new_page(viewport={"width": 1024, "height": 768})
            await run_the_day(page, base, loopback_printer)
            await browser.close()


async def run_the_day(page: Page, base: str, printer: LoopbackPrinter) -> None:
    await page.goto(base + "/")
    await page.wait_for_selector("text=Aucune commande en attente")
    await shot(page, "pending-empty")

    # Importer → Aujourd'hui, with the keyboard only.
    await page.focus("#import-open")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#import-panel:not([hidden])")
    assert await page.evaluate("document.activeElement.dataset.preset") == "today"
    await shot(page, "import-panel")
    progress_seen: list[Any] = []
    page.on("console", lambda msg: progress_seen.append(msg.text))
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#progress:not([hidden])")
    # The page reloads when the run ends, showing what it did above the table.
    await page.wait_for_selector("#flash.good >> text=Import terminé", timeout=60_000)
    assert "41 nouvelles" in await page.inner_text("#flash")
    rows = page.locator("table.orders tbody tr")
    assert await rows.count() == 12  # one page of the table
    assert "Page 1 sur" in await page.inner_text(".pager")
    text = await page.inner_text("table.orders")
    assert "<b>Émile</b><script>alert(1)</script>" in text  # shown as text, not markup
    await shot(page, "pending")

    # Open a paid order and invoice it.
    row = rows.filter(has_not_text="impayé").first
    number = (await row.locator("a.rowlink").inner_text()).strip()
    await row.locator("a.rowlink").click()
    await page.wait_for_selector("text=Imprimer le bon de préparation")
    await shot(page, "order")
    await page.click("button:has-text('Facturer')")
    await page.wait_for_selector("#flash.good >> text=Facture", timeout=30_000)
    message = await page.inner_text("#flash")
    assert "émise" in message and "imprimé" in message
    await shot(page, "order-invoiced")
    invoice_number = message.split()[1]
    assert invoice_number.startswith("FA-")

    # The row left the pending table; the ticket was printed.
    await page.click(".tabs a:has-text('Commandes en attente')")
    await page.wait_for_selector("table.orders")
    await page.select_option("select[name=order]", "newest")
    await page.wait_for_selector("table.orders")
    numbers = await page.locator("a.rowlink").all_inner_texts()
    assert number not in [n.strip() for n in numbers]
    tickets = printer.wait_for_tickets(1)
    assert any(invoice_number in "\n".join(decode(t).lines) for t in tickets)

    await page.goto(base + "/prints?all=1")
    assert invoice_number in await page.inner_text("table.jobs")
    await shot(page, "prints")
    await page.goto(base + "/stock")
    await shot(page, "stock")
    await page.goto(base + "/journal")
    await page.click("#verify")
    await page.wait_for_selector("#verify-result.good")
    assert "intacte" in await page.inner_text("#verify-result")
    await shot(page, "journal")


async def test_sign_in_with_the_token_in_the_browser(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "till-token-0123456789-abcdefghij"
    monkeypatch.setenv("FASTIMPORT_TEST_TILL_TOKEN", token)
    monkeypatch.setattr("fastimport.web.pages.WRONG_TOKEN_DELAY", 0.0)
    _, url = await shop_of_today(shop_factory, orders=2)
    config = till_config(tmp_path, url, token_env="FASTIMPORT_TEST_TILL_TOKEN")
    async for base in serve(create_app(config, host="0.0.0.0")):
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = await browser.new_page(viewport={"width": 1024, "height": 768})
            answer = await page.goto(base + "/stock")
            assert answer is not None and answer.status == 401
            await page.fill("#token", "not-the-token")
            await page.keyboard.press("Enter")
            await page.wait_for_selector("text=Ce jeton n'est pas le bon")
            await page.fill("#token", token)
            await shot(page, "login")
            await page.keyboard.press("Enter")
            await page.wait_for_selector("text=Aucune commande en attente")
            cookies = await page.context.cookies()
            session = next(c for c in cookies if c["name"] == "fastimport_session")
            assert session["httpOnly"] and session["sameSite"] == "Strict" and session["value"] != token
            assert token not in await page.content()
            await page.click("button:has-text('Se déconnecter')")
            await page.wait_for_selector("#token")
            assert (await page.goto(base + "/")).status == 401  # type: ignore[union-attr]
            await browser.close()
