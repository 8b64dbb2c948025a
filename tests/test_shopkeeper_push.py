"""The shop hears back at each step, through the persistent push queue (issue #14 point 2, #15 point 4).

Real path: a simulated shop of each platform on loopback, the ``fastimport`` command, a DuckDB file;
what the shop received is read from the simulator's record of writes.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import PLATFORMS, ShopFactory
from tests.invoice_print_support import Till, make_till, run, run_json
from tests.test_processing_support import import_shop

pytestmark = pytest.mark.usefixtures("signing_key")


@pytest.fixture(params=PLATFORMS)
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _spool(tmp_path: Path) -> dict[str, Any]:
    return {"name": "fichier", "kind": "file", "path": str(tmp_path / "spool.bin")}


async def _pending_paid(till: Till) -> int:
    """An order waiting at the till (pending on the shop too), paid."""
    code, rows = await run_json(till, "pending")
    assert code == 0
    paid = {
        int(r[0])
        for r in till.query(
            "SELECT o.order_id FROM orders o WHERE paid_at IS NOT NULL AND coalesce(discount_total, 0) = 0 AND "
            "total = coalesce(shipping_total, 0) + (SELECT sum(l.total + coalesce(l.total_tax, 0)) FROM order_lines l "
            "WHERE l.store_id = o.store_id AND l.order_id = o.order_id) + coalesce((SELECT 0), 0) "
            "OR (paid_at IS NOT NULL AND total_tax IS NULL)"
        )
    }
    store = till.shop.store
    return next(
        int(r["id"]) for r in rows if int(r["id"]) in paid and not store.order(store.find(int(r["id"]))).get("refunds")
    )  # fmt: skip


def _writes(till: Till, order: int) -> list[tuple[str, str, str]]:
    """(method, path, body as text) of every write the shop received about this order."""
    out = []
    for method, path, body in till.shop.received:
        text = body if isinstance(body, str) else orjson.dumps(body).decode()
        if str(order) in path or f">{order}<" in text or f"[{order}]" in text or f'"id":{order}' in text:
            out.append((method, path, text))
    return out


def _events(till: Till, order: int) -> list[tuple[Any, ...]]:
    return till.query(
        "SELECT kind, from_state, to_state FROM order_events WHERE order_id = ? AND kind = 'shop_change_after_invoice'",
        [order],
    )


async def test_every_step_reaches_the_shop_and_is_not_taken_back_for_a_shop_change(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    till = await make_till(tmp_path, shop_factory, 40, _spool(tmp_path))
    till.shop.received.clear()
    code, slips = await run_json(till, "slip", "--pending", "--print-timeout", "0")
    assert code == 0 and slips["push"] == {"sent": len(slips["slips"]), "waiting": 0, "errors": []}
    code, invoiced = await run_json(till, "invoice", "--pending")
    assert code == 0 and invoiced["push"]["sent"] == len(invoiced["invoices"]) > 0, str(invoiced)
    order, number = invoiced["invoices"][0]["order"], invoiced["invoices"][0]["number"]
    code, shipped = await run_json(till, "ship", str(order), "--carrier", "Colissimo", "--tracking", "6A99")
    assert code == 0 and shipped["pushed"] is True and shipped["push_error"] is None, str(shipped)
    code, credited = await run_json(till, "credit-note", number, "--reason", "retour")
    assert code == 0 and credited["push"]["sent"] == 1
    credit = credited["number"]
    writes = _writes(till, order)
    text = "\n".join(f"{m} {p} {b}" for m, p, b in writes)
    if platform == "woocommerce":
        notes = [b for m, p, b in writes if p.endswith("/notes")]
        assert any("préparation" in n for n in notes) and any(number in n for n in notes)
        assert any("6A99" in n for n in notes) and any(credit in n for n in notes)
        puts = [orjson.loads(b) for m, p, b in writes if m == "PUT"]
        assert {"meta_data": [{"key": "_fastimport_invoice_number", "value": number}]} in puts
        assert {"status": "completed"} in puts and {"status": "refunded"} in puts
        shown = orjson.loads(till.shop.store.blob(till.shop.store.find(order)))
        assert {"key": "_fastimport_invoice_number", "value": number} in [
            {"key": m["key"], "value": m["value"]} for m in shown["meta_data"]
        ]
    elif platform == "shopify":
        shown = orjson.loads(till.shop.store.blob(till.shop.store.find(order)))
        assert {"name": "Facture", "value": number} in shown["note_attributes"]
        assert {"name": "Avoir", "value": credit} in shown["note_attributes"]
        tags = [t.strip() for t in shown["tags"].split(",")]
        assert {"en-preparation", "facture", "expediee", "rembourse"} <= set(tags)
        fulfilments = [b for m, p, b in till.shop.received if p.endswith("/fulfillments.json")]
        assert any(f["fulfillment"]["tracking_info"]["number"] == "6A99" for f in fulfilments)
    else:
        states = [b for m, p, b in writes if p.endswith("/order_histories")]
        assert [
            s for s in ("[3]", "[4]", "[7]") if any(f"<id_order_state><![CDATA{s}" in b for b in states)
        ] == [
            "[3]",
            "[4]",
            "[7]",
        ]  # preparation, shipped, refunded: read from the shop's PS_OS_* configuration
        messages = [b for m, p, b in writes if p.endswith("/messages")]
        assert any(number in b for b in messages) and any(credit in b for b in messages)
        assert "6A99" in text  # on the order's carrier row
    code, queue = await run_json(till, "push", "queue")
    assert code == 0 and queue == []
    code, everything = await run_json(till, "push", "queue", "--all")
    steps = [p["step"] for p in everything if p["order"] == order]
    assert sum(p["step"] == "prepared" for p in everything) == len(slips["slips"])
    assert steps == ["prepared", "invoiced", "shipped", "refunded"]
    assert all(p["state"] == "sent" for p in everything)
    # The till's own writes come back in the next import: not news from the shop.
    await import_shop(till.config)
    assert _events(till, order) == []
    code, proposed = await run_json(till, "credit-note", "--proposed")
    assert all(p["order"] != order for p in proposed)


async def test_a_push_that_fails_waits_in_the_queue_then_succeeds_on_retry(
    tmp_path: Path, shop_factory: ShopFactory, platform: str
) -> None:
    till = await make_till(tmp_path, shop_factory, 30, _spool(tmp_path))
    good = till.path.read_text()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    till.path.write_text(good.replace(till.url, dead))  # the shop is down
    code, invoiced = await run_json(till, "invoice", "--pending")
    assert code == 0, invoiced  # the till is never blocked
    count = len(invoiced["invoices"])
    assert (
        invoiced["push"]["sent"] == 0
        and invoiced["push"]["waiting"] == count > 0
        and invoiced["push"]["errors"]
    )
    order = invoiced["invoices"][0]["order"]
    code, shipped = await run_json(till, "ship", str(order), "--carrier", "Colissimo", "--tracking", "T1")
    assert shipped["pushed"] is False and shipped["push_error"]  # `ship`'s contract is kept
    code, queue = await run_json(till, "push", "queue")
    assert [(p["step"], p["state"]) for p in queue] == [("invoiced", "queued")] * count + [
        ("shipped", "queued")
    ]
    assert queue[0]["attempts"] >= 1 and queue[0]["last_error"] and queue[0]["next_attempt_at"]
    code, out, err = await run(till, "push", "retry")
    assert code == 1 and "kept failing" in out + err  # still down
    till.shop.received.clear()
    till.path.write_text(good)  # the shop is back
    code, report = await run_json(till, "push", "retry")
    assert code == 0 and report == {"sent": count + 1, "waiting": 0, "errors": []}
    states = till.query("SELECT step, state, attempts > 1 FROM push_jobs ORDER BY push_id")
    assert states[:count] == [("invoiced", "sent", True)] * count  # failed first, then sent
    assert states[count] == ("shipped", "sent", False)  # waited behind the invoice's push, then sent once
    assert _writes(till, order)  # the shop received them
    code, again = await run_json(till, "ship", str(order))
    assert code == 1 or again.get("pushed") is not False  # already shipped and told: nothing left to retry


@pytest.mark.parametrize("platform", ["woocommerce"])
async def test_push_statuses_override_the_platform_default(tmp_path: Path, shop_factory: ShopFactory) -> None:
    till = await make_till(tmp_path, shop_factory, 30, _spool(tmp_path))
    with till.path.open("a") as f:
        f.write('\n[stores.push_statuses]\nprepared = "on-hold"\nshipped = ""\n')
    order = await _pending_paid(till)
    till.shop.received.clear()
    assert (await run(till, "slip", str(order), "--print-timeout", "0"))[0] == 0
    assert ("PUT", f"/wp-json/wc/v3/orders/{order}", {"status": "on-hold"}) in till.shop.received
    assert (await run(till, "invoice", str(order)))[0] == 0
    code, shipped = await run_json(till, "ship", str(order), "--carrier", "Colissimo")
    assert code == 0 and shipped["pushed"] is True
    puts = [b for m, p, b in till.shop.received if m == "PUT" and isinstance(b, dict) and "status" in b]
    assert puts == [{"status": "on-hold"}]  # no "completed": the store said so


def test_push_statuses_keys_are_checked(tmp_path: Path) -> None:
    from fastimport.config import parse_config
    from fastimport.errors import ConfigError
    from tests.conftest import store_table

    with pytest.raises(ConfigError, match="preparing"):
        parse_config(
            {
                "database": {"path": str(tmp_path / "x.duckdb")},
                "stores": [store_table("http://127.0.0.1:1", push_statuses={"preparing": "x"})],
            }
        )
