"""Telling a PrestaShop shop about each step of the till (:class:`~fastimport.io.pushback.OrderNewsTeller`).

- the step's **order state**: ``[stores.push_statuses]`` gives a state id or the name of the shop
  configuration holding it, read from ``/configurations`` (defaults: ``PS_OS_PREPARATION`` for the
  slip, ``PS_OS_SHIPPING`` for the shipment, ``PS_OS_REFUND`` for a full credit note), set with
  ``POST /order_histories``;
- a **message on the order** (``POST /messages``) for the buyer: the till's invoice number, the
  delivery note and tracking, the credit note;
- a shipment's tracking number on the order's carrier row (``set_tracking``).
"""

from __future__ import annotations

from fastimport.errors import FetchError
from fastimport.io.echo import same_but, without
from fastimport.io.fetcher import Fetcher
from fastimport.io.prestashop.connector import STATE_WORDS, PrestaShopConnector
from fastimport.io.pushback import OrderNews

STEP_STATES = {"prepared": "PS_OS_PREPARATION", "invoiced": "", "shipped": "PS_OS_SHIPPING",
               "refunded": "PS_OS_REFUND", "partially_refunded": ""}  # fmt: skip
_CLOSED = frozenset(STATE_WORDS.values())


# What a push changes on a PrestaShop order: a new order state (and what the state brings: validity,
# invoice and delivery numbers), the carrier row's tracking number.
_PUSHED_KEYS = frozenset({"current_state", "date_upd", "valid", "invoice_number", "invoice_date", "delivery_number",
                          "delivery_date", "shipping_number", "total_paid_real"})  # fmt: skip


def till_echo(last: bytes, new: bytes, statuses: frozenset[str]) -> bool:
    """Whether ``new`` differs from ``last`` only in what the till's pushes set (:mod:`fastimport.io.echo`)."""
    return same_but(last, new, lambda o: without(o, _PUSHED_KEYS))


class PrestaShopPush(PrestaShopConnector):
    """PushBack and OrderNewsTeller for one PrestaShop store."""

    async def _configured(self, fetcher: Fetcher, names: list[str]) -> dict[str, str]:
        found = await self.get(
            fetcher,
            "/configurations",
            [("display", "[name,value]"), ("filter[name]", f"[{'|'.join(names)}]")],
        )
        rows = found.get("configurations", []) if isinstance(found, dict) else []
        return {str(c["name"]): str(c["value"]) for c in rows if c.get("value")}

    async def tell(self, fetcher: Fetcher, news: OrderNews) -> str | None:
        if news.step == "shipped" and news.tracking:
            await self.set_tracking(fetcher, news.order_id, news.tracking, company=news.carrier)
        if news.note:
            await self._write(
                fetcher, "POST", "/messages", "message",
                {"id_order": news.order_id, "message": news.note, "private": 0},
            )  # fmt: skip
        wanted = STEP_STATES.get(news.step, "") if news.status is None else news.status
        if not wanted or news.shop_status in _CLOSED:
            return None  # no state for this step, or never reopen an order the shop closed
        names = [n for n in {wanted, *STATE_WORDS} if not n.isdigit()]
        values = await self._configured(fetcher, names)
        state = wanted if wanted.isdigit() else values.get(wanted)
        if state is None:
            raise FetchError(
                f"store '{self.store.name}': the shop's configuration has no {wanted} (set "
                f"[stores.push_statuses] {news.step} to an order-state id)"
            )
        await self._write(
            fetcher,
            "POST",
            "/order_histories",
            "order_history",
            {"id_order": news.order_id, "id_order_state": state},
        )
        words = {values[name]: word for name, word in STATE_WORDS.items() if name in values}
        return words.get(state, state)  # as the till stores a PrestaShop status
