"""Telling a Shopify shop about each step of the till (:class:`~fastimport.io.pushback.OrderNewsTeller`).

Shopify has no order status a till may set (only cancel and close), so each step adds a **tag** to the
order (``[stores.push_statuses]``; default ``en-preparation``, ``facture``, ``expediee``, ``rembourse``,
``rembourse-partiel``) and a **note attribute** naming the till's document (``Facture``,
``Bon de livraison``, ``Avoir``), written with ``PUT /orders/{id}.json`` after reading the order's
current tags and attributes (the API replaces both lists whole).  A shipment with a tracking number
also fulfils the order (``ShopifyConnector.set_tracking``).
"""

from __future__ import annotations

from typing import Any

import orjson

from fastimport.io.echo import same_but, without
from fastimport.io.fetcher import Fetcher, Request
from fastimport.io.pushback import OrderNews
from fastimport.io.shopify.connector import ShopifyConnector

STEP_TAGS = {"prepared": "en-preparation", "invoiced": "facture", "shipped": "expediee",
             "refunded": "rembourse", "partially_refunded": "rembourse-partiel"}  # fmt: skip
DOCUMENT_ATTRIBUTE = {"invoiced": "Facture", "shipped": "Bon de livraison", "refunded": "Avoir",
                      "partially_refunded": "Avoir"}  # fmt: skip


# What a push changes on a Shopify order: tags, note attributes, and a shipment's fulfilment.
_PUSHED_KEYS = frozenset(
    {"updated_at", "tags", "note_attributes", "fulfillment_status", "fulfillments", "closed_at"}
)
_PUSHED_LINE_KEYS = frozenset({"fulfillment_status", "fulfillable_quantity"})


def till_echo(last: bytes, new: bytes, statuses: frozenset[str]) -> bool:
    """Whether ``new`` differs from ``last`` only in what the till's pushes set (:mod:`fastimport.io.echo`)."""
    return same_but(last, new, lambda o: without(o, _PUSHED_KEYS, "line_items", _PUSHED_LINE_KEYS))


class ShopifyPush(ShopifyConnector):
    """PushBack and OrderNewsTeller for one Shopify store."""

    async def tell(self, fetcher: Fetcher, news: OrderNews) -> str | None:
        expected = None
        if news.step == "shipped" and news.tracking:
            await self.set_tracking(fetcher, news.order_id, news.tracking, company=news.carrier)
            expected = "fulfilled"
        tag = STEP_TAGS.get(news.step, "") if news.status is None else news.status
        name = DOCUMENT_ATTRIBUTE.get(news.step)
        if not tag and not (name and news.document):
            return expected
        answer = await self.call(fetcher, self.request(f"/orders/{news.order_id}.json"))
        order: dict[str, Any] = orjson.loads(answer.body).get("order") or {}
        update: dict[str, Any] = {"id": news.order_id}
        if tag:
            tags = [t.strip() for t in str(order.get("tags") or "").split(",") if t.strip()]
            if tag not in tags:
                update["tags"] = ", ".join([*tags, tag])
        if name and news.document:
            attributes = [a for a in order.get("note_attributes") or [] if isinstance(a, dict)]
            if {"name": name, "value": news.document} not in attributes:
                update["note_attributes"] = [*attributes, {"name": name, "value": news.document}]
        if len(update) > 1:
            body = orjson.dumps({"order": update})
            put = self.request(f"/orders/{news.order_id}.json", body={})
            headers = put.headers
            await self.call(fetcher, Request("PUT", put.url, (), headers, body))
        return expected
