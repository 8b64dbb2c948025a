"""The till page's JSON API over loopback HTTP: import with progress, pending, an order's actions, prints."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pypdf import PdfReader

from tests.conftest import ShopFactory
from tests.printer_fixture import LoopbackPrinter, decode, loopback_printer
from tests.web_support import EVIL_NAME, csrf_of, shop_of_today, till_client, till_config

__all__ = ["loopback_printer"]  # the fixture, imported for pytest


async def wait_run(client: TestClient[Any, Any], run: str) -> dict[str, Any]:
    for _ in range(600):  # bounded: 60 s at most
        state: dict[str, Any] = await (await client.get(f"/api/import/{run}")).json()
        if state["state"] != "running":
            return state
        await asyncio.sleep(0.1)
    raise AssertionError("the import never finished")


async def import_today(client: TestClient[Any, Any], csrf: str) -> dict[str, Any]:
    answer = await client.post("/api/import", json={"preset": "today"}, headers={"X-CSRF-Token": csrf})
    assert answer.status == 202, await answer.text()
    return await wait_run(client, (await answer.json())["run"])


async def test_import_today_fills_pending_once(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = await shop_of_today(shop_factory, orders=12)
    async with till_client(till_config(tmp_path, url), monkeypatch) as client:
        csrf = await csrf_of(client)
        first = await import_today(client, csrf)
        assert first["state"] == "done" and first["ok"] and first["error"] is None
        assert first["new"] == 12 and first["progress"][0]["store"] == "eshop"
        assert first["reports"][0]["new"] == 12 and "stages" in first["reports"][0]
        page = await client.get("/api/pending", params={"limit": "5", "offset": "0"})
        rows = await page.json()
        total = int(page.headers["X-Total-Count"])
        assert len(rows) == 5 and total >= 1
        assert set(rows[0]) >= {"store", "id", "number", "created_at", "total", "warnings", "state"}
        newest = await (await client.get("/api/pending", params={"limit": "500", "order": "newest"})).json()
        oldest = await (await client.get("/api/pending", params={"limit": "500"})).json()
        assert [r["id"] for r in newest] == [r["id"] for r in reversed(oldest)] and len(oldest) == total
        again = await import_today(client, csrf)
        assert again["new"] == 0 and again["unchanged"] == 12
        assert int((await client.get("/api/pending")).headers["X-Total-Count"]) == total
        journal = await (await client.get("/api/journal")).json()
        assert [r["new"] for r in journal["runs"]] == [0, 12]
        today = journal["runs"][0]["range_start"][:10]
        ranged = await client.post(
            "/api/import", json={"since": today, "until": today}, headers={"X-CSRF-Token": csrf}
        )
        state = await wait_run(client, (await ranged.json())["run"])
        assert state["state"] == "done" and state["unchanged"] == 12 and state["new"] == 0
        for preset in ("yesterday", "week"):
            started = await client.post(
                "/api/import", json={"preset": preset}, headers={"X-CSRF-Token": csrf}
            )
            assert (await wait_run(client, (await started.json())["run"]))["state"] == "done"
        assert int((await client.get("/api/pending")).headers["X-Total-Count"]) == total


async def test_import_progress_is_pushed_as_server_sent_events(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = await shop_of_today(shop_factory, orders=250)
    async with till_client(till_config(tmp_path, url, store={"per_page": 50}), monkeypatch) as client:
        csrf = await csrf_of(client)
        answer = await client.post("/api/import", json={"preset": "today"}, headers={"X-CSRF-Token": csrf})
        run = (await answer.json())["run"]
        events = await client.get(f"/api/import/{run}/events")
        assert events.headers["Content-Type"].startswith("text/event-stream")
        body = await events.text()
        assert "event: progress" in body and "event: end" in body
        assert '"state": "done"' in body and '"new": 250' in body


async def test_import_refuses_bad_requests(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = await shop_of_today(shop_factory, orders=1)
    async with till_client(till_config(tmp_path, url), monkeypatch) as client:
        h = {"X-CSRF-Token": await csrf_of(client)}
        for body, status in [
            ({"preset": "month"}, 400),
            ({"since": "2026-13-01"}, 400),
            ({"since": "2026-03-05", "until": "2026-03-01"}, 400),
            ({}, 400),
            ({"preset": "today", "store": "nowhere"}, 400),
        ]:
            answer = await client.post("/api/import", json=body, headers=h)
            assert answer.status == status, body
            assert (await answer.json())["error"]
        assert (await client.get("/api/import/nope")).status == 404
        assert (await client.get("/api/orders/eshop/999999")).status == 404
        assert "error" in await (await client.get("/api/pending", params={"limit": "x"})).json()


async def test_order_actions_invoice_print_and_refuse(
    tmp_path: Path,
    shop_factory: ShopFactory,
    monkeypatch: pytest.MonkeyPatch,
    loopback_printer: LoopbackPrinter,
) -> None:
    _, url = await shop_of_today(shop_factory, orders=6)
    async with till_client(till_config(tmp_path, url, loopback_printer.port), monkeypatch) as client:
        h = {"X-CSRF-Token": await csrf_of(client)}
        await import_today(client, h["X-CSRF-Token"])
        rows = await (await client.get("/api/pending")).json()
        order = next(r for r in rows if "unpaid" not in r["warnings"])
        base = f"/api/orders/{order['store']}/{order['id']}"
        details = await (await client.get(base)).json()
        assert details["number"] == order["number"] and details["lines"]

        slip = await client.post(f"{base}/slip", json={}, headers=h)
        assert slip.status == 200, await slip.text()
        slip_json = await slip.json()
        assert slip_json["ok"] and slip_json["message"].startswith("Bon de préparation")

        early = await client.post(f"{base}/ship", json={"carrier": "Colissimo"}, headers=h)
        assert early.status == 409 and (await early.json())["error"] == "Facturez d'abord la commande."

        done = await client.post(f"{base}/invoice", json={}, headers=h)
        result = await done.json()
        assert done.status == 200 and result["invoiced"] == 1, result
        assert result["message"].startswith("Facture ") and result["print"]["printed"] == 1
        assert len(loopback_printer.wait_for_tickets(2)) == 2
        pending_ids = [
            r["id"] for r in await (await client.get("/api/pending", params={"limit": "500"})).json()
        ]
        assert order["id"] not in pending_ids

        twice = await client.post(f"{base}/invoice", json={}, headers=h)
        assert twice.status == 409
        assert (await twice.json())["error"].startswith("Déjà facturée")

        comment = await client.post(
            f"{base}/comment", json={"text": "colis fragile", "author": "Léa"}, headers=h
        )
        assert (await comment.json())["message"] == "Commentaire ajouté."
        shipped = await client.post(
            f"{base}/ship", json={"carrier": "Colissimo", "tracking": "6A123"}, headers=h
        )
        assert (await shipped.json())["message"].startswith("Bon de livraison BL-")
        credit = await client.post(f"{base}/credit_note", json={"reason": "retour client"}, headers=h)
        assert (await credit.json())["message"].startswith("Avoir AV-"), await credit.text()
        details = await (await client.get(base)).json()
        assert [c["text"] for c in details["comments"]] == ["colis fragile"]
        assert {d["kind"] for d in details["documents"]} >= {"invoice", "credit_note"}
        invoice_number = next(d["number"] for d in details["documents"] if d["kind"] == "invoice")
        page = await (await client.get(f"/orders/{order['store']}/{order['id']}")).text()
        assert f'href="/documents/{invoice_number}.pdf"' in page
        pdf = await client.get(f"/documents/{invoice_number}.pdf")
        body = await pdf.read()
        assert pdf.status == 200 and pdf.content_type == "application/pdf" and body.startswith(b"%PDF")
        assert invoice_number in "".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
        assert (await client.get("/documents/FA-1999-nope-000001.pdf")).status == 404

        queue = await (await client.get("/api/print/queue", params={"all": "1"})).json()
        assert queue and all(j["status"] == "printed" for j in queue)
        png = await client.get(f"/api/print/{queue[0]['job']}.png")
        assert png.content_type == "image/png" and (await png.read()).startswith(b"\x89PNG")
        assert (await client.get("/api/print/999999.png")).status == 404
        verify = await (await client.get("/api/verify")).json()
        assert verify["ok"] is True and verify["records"] >= 2
        texts = ["\n".join(decode(t).lines) for t in loopback_printer.tickets()]
        assert any(order["number"] in t for t in texts)


async def test_offline_printer_keeps_the_ticket_and_retry_prints_it(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    printer = LoopbackPrinter()  # not started: the port refuses connections
    printer.port = 9  # discard port, nothing listens on loopback here
    _, url = await shop_of_today(shop_factory, orders=3)
    config = till_config(tmp_path, url, printer.port, print_timeout=0.5)
    async with till_client(config, monkeypatch) as client:
        h = {"X-CSRF-Token": await csrf_of(client)}
        await import_today(client, h["X-CSRF-Token"])
        rows = await (await client.get("/api/pending")).json()
        order = next(r for r in rows if "unpaid" not in r["warnings"])
        done = await (
            await client.post(f"/api/orders/eshop/{order['id']}/invoice", json={}, headers=h)
        ).json()
        assert done["ok"] and "file d'impression" in done["message"]
        queue = await (await client.get("/api/print/queue")).json()
        assert len(queue) == 1 and queue[0]["status"] in ("queued", "failed")
        page = await (await client.get("/prints")).text()
        assert queue[0]["document"] in page and "Réessayer" in page


async def test_pages_escape_shop_text_and_translate_warnings(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = await shop_of_today(shop_factory, orders=4, evil=True)
    async with till_client(till_config(tmp_path, url), monkeypatch) as client:
        await import_today(client, await csrf_of(client))
        rows = await (await client.get("/api/pending", params={"limit": "500"})).json()
        evil = next(r for r in rows if EVIL_NAME in (r["customer"] or ""))
        page = await (await client.get("/")).text()
        assert "&lt;b&gt;Émile&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert EVIL_NAME not in page and "<script>alert" not in page
        detail = await (await client.get(f"/orders/eshop/{evil['id']}")).text()
        assert "&lt;img src=x onerror=alert(2)&gt;" in detail and "<img src=x" not in detail
        assert "Commandes en attente" in page and "Aujourd'hui" in page
        if any("unknown customer" in r["warnings"] for r in rows):
            assert "client inconnu" in page
        for name in ("/prints", "/stock", "/journal"):
            assert (await client.get(name)).status == 200


async def test_pending_answers_while_the_writing_thread_is_busy(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pending table reads on its own thread: an import or an invoice batch holding the writing
    thread (here a write held open for seconds) does not hold the page back, and it shows what was committed."""
    import threading

    from fastimport.web.database import DATABASE_KEY

    _, url = await shop_of_today(shop_factory, orders=12)
    async with till_client(till_config(tmp_path, url), monkeypatch) as client:
        await import_today(client, await csrf_of(client))
        db = client.app[DATABASE_KEY]
        release = threading.Event()

        def busy(config: Any, con: Any) -> None:  # a long write, uncommitted until released
            con.execute("BEGIN")
            con.execute("UPDATE orders SET state = 'invoiced'")
            release.wait(30)
            con.execute("ROLLBACK")

        held = asyncio.ensure_future(db.run(busy))
        try:
            api = await asyncio.wait_for(client.get("/api/pending"), 10)
            page = await asyncio.wait_for(client.get("/"), 10)
            assert api.status == 200 and page.status == 200 and not held.done()
            assert int(api.headers["X-Total-Count"]) >= 1  # the committed state, not the open write
        finally:
            release.set()
            await held


async def test_identical_reads_waiting_their_turn_share_one_query(tmp_path: Path) -> None:
    """Fifty clients on the first page cost one query; a read asked after a commit sees it."""
    import threading

    from fastimport.web.database import Database

    db = Database(till_config(tmp_path, "http://127.0.0.1:9"))
    try:
        gate, calls = threading.Event(), []

        def blocked(config: Any, con: Any) -> None:
            gate.wait(30)

        def count(config: Any, con: Any) -> int:
            calls.append(1)
            return int(con.execute("SELECT count(*) FROM stores").fetchone()[0])

        first = asyncio.ensure_future(db.read(blocked))  # the reader is busy: the next reads queue
        await asyncio.sleep(0.1)
        waiting = [asyncio.ensure_future(db.read(count, key="stores")) for _ in range(50)]
        await asyncio.sleep(0.1)
        gate.set()
        answers = await asyncio.gather(first, *waiting)
        assert len(calls) == 1 and set(answers[1:]) == {0}
        await db.run(lambda c, con: con.execute("INSERT INTO stores (store_id, name, platform, url, timezone) "
                                                "VALUES (1, 'x', 'woocommerce', 'http://x', 'UTC')"))  # fmt: skip
        assert await db.read(count, key="stores") == 1 and len(calls) == 2  # asked after: a fresh read
    finally:
        db.close()
