"""One Shopify Admin REST order (2025-07), shaped like the documented example order 450789469.

Built from the same generated order as the WooCommerce rendering (same id, dates, lines, money),
so one ground truth serves every platform.  Types follow the example: money is a 2-decimal string
except ``refund_line_items[].subtotal``/``total_tax`` (JSON numbers), ids are integers, dates carry
the shop's offset, absent values are ``null``; an order without customer has no ``customer`` key.
"""

from __future__ import annotations

from typing import Any

from fastimport.sim.clock import SiteClock, fmt
from fastimport.sim.orders import OrderState, money

GID = "gid://shopify/"
LOCATION_ID = 655441491
VARIANT_BASE = 40_000_000_000  # variant id = base + WooCommerce variation id (or product id when simple)
INVENTORY_BASE = 50_000_000_000
# WooCommerce status -> (financial_status, fulfillment_status, closed, cancelled)
STATUS_MAP: dict[str, tuple[str, str | None, bool, bool]] = {
    "pending": ("pending", None, False, False),
    "processing": ("paid", None, False, False),
    "on-hold": ("authorized", None, False, False),
    "completed": ("paid", "fulfilled", True, False),
    "cancelled": ("voided", None, True, True),
    "refunded": ("refunded", None, True, False),
    "failed": ("voided", None, False, False),
}
_GATEWAYS = {"stripe": "shopify_payments", "paypal": "paypal", "bacs": "bank_deposit", "cheque": "manual"}


def shop_status(financial: str, fulfillment: str | None, cancelled: bool) -> str:
    """The one status the till keeps for a Shopify order (what the connector derives too)."""
    if cancelled:
        return "cancelled"
    if fulfillment == "fulfilled":
        return "fulfilled"
    return financial


def stamp(clock: SiteClock, ts: int | None) -> str | None:
    """UTC epoch seconds -> "2026-03-28T23:59:59+01:00" in the shop's zone."""
    if ts is None:
        return None
    off = clock.offset(ts)
    sign = "-" if off < 0 else "+"
    return f"{fmt(ts + off)}{sign}{abs(off) // 3600:02d}:{abs(off) % 3600 // 60:02d}"


def cents(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    whole, _, frac = text.lstrip("-").partition(".")
    return sign * (int(whole) * 100 + int((frac + "00")[:2]))


def price_set(amount: str) -> dict[str, Any]:
    return {
        "shop_money": {"amount": amount, "currency_code": "EUR"},
        "presentment_money": {"amount": amount, "currency_code": "EUR"},
    }


def _address(person: dict[str, Any], phone: str | None) -> dict[str, Any]:
    return {
        "first_name": person["first_name"],
        "address1": person["address_1"],
        "phone": phone,
        "city": person["city"],
        "zip": person["postcode"],
        "province": None,
        "country": "France",
        "last_name": person["last_name"],
        "address2": person["address_2"],
        "company": person["company"] or None,
        "latitude": None,
        "longitude": None,
        "name": f"{person['first_name']} {person['last_name']}",
        "country_code": "FR",
        "province_code": None,
    }


def variant_id(line: dict[str, Any]) -> int | None:
    if not line["product_id"] and not line["variation_id"]:
        return None
    return VARIANT_BASE + int(line["variation_id"] or line["product_id"])


def line_item(
    line: dict[str, Any], current: int, allocation_index: int | None, included: bool = True
) -> dict[str, Any]:
    """A line item: ``price`` × ``quantity`` − its discount allocations is the line's amount, with the
    VAT in it when the order's ``taxes_included`` is true, else before the VAT of its ``tax_lines``."""
    qty = line["quantity"]
    gross = cents(line["subtotal"]) + (cents(line["subtotal_tax"]) if included else 0)
    after = cents(line["total"]) + (cents(line["total_tax"]) if included else 0)
    unit = (gross + qty // 2) // qty  # to the cent; the shop's own rounding shows as a cent at most
    product_id = line["product_id"] or None
    title, _, variant_title = line["name"].partition(" - ")
    tax_pct = 0.0
    if cents(line["total"]):
        tax_pct = round(cents(line["total_tax"]) / cents(line["total"]), 3)
    return {
        "id": line["id"],
        "admin_graphql_api_id": f"{GID}LineItem/{line['id']}",
        "attributed_staffs": [],
        "current_quantity": current,
        "fulfillable_quantity": current,
        "fulfillment_service": "manual",
        "fulfillment_status": None,
        "gift_card": line["sku"].startswith("CAR-CAD"),
        "grams": 250,
        "name": line["name"],
        "price": money(unit),
        "price_set": price_set(money(unit)),
        "product_exists": product_id is not None,
        "product_id": product_id,
        "properties": [],
        "quantity": qty,
        "requires_shipping": True,
        "sku": line["sku"],
        "taxable": True,
        "title": title,
        "total_discount": "0.00",
        "total_discount_set": price_set("0.00"),
        "variant_id": variant_id(line),
        "variant_inventory_management": "shopify",
        "variant_title": variant_title or None,
        "vendor": "Boutique simulée",
        "tax_lines": [
            {
                "channel_liable": False,
                "price": line["total_tax"],
                "price_set": price_set(line["total_tax"]),
                "rate": tax_pct,
                "title": "TVA",
            }
        ],
        "duties": [],
        "discount_allocations": []
        if allocation_index is None or unit * qty == after
        else [
            {
                "amount": money(unit * qty - after),
                "amount_set": price_set(money(unit * qty - after)),
                "discount_application_index": allocation_index,
            }
        ],
    }


def render_shopify(
    w: dict[str, Any], st: OrderState, clock: SiteClock, included: bool = True
) -> dict[str, Any]:
    """The Shopify order for the generated order ``w`` (its WooCommerce rendering).

    ``included`` is the shop's ``taxes_included``: line and shipping prices hold the VAT, or the
    VAT (the order's, lines' and shipping lines' ``tax_lines``) is added on top; ``total_price`` is
    the same either way."""
    oid = st.id
    financial, fulfillment, closed, cancelled = STATUS_MAP.get(st.status, ("pending", None, False, False))
    refunded_all = st.status == "refunded"
    lines = w["line_items"]
    coupon = w["coupon_lines"][0] if w["coupon_lines"] else None
    items = [
        line_item(li, 0 if refunded_all else li["quantity"], 0 if coupon else None, included) for li in lines
    ]
    total = cents(w["total"])
    goods_gross = sum(cents(li["price"]) * li["quantity"] for li in items)
    discounts = (
        0
        if coupon is None
        else goods_gross
        - sum(cents(li["total"]) + (cents(li["total_tax"]) if included else 0) for li in lines)
    )
    ship_tax = cents(w["shipping_tax"])
    ship_gross = cents(w["shipping_total"]) + (ship_tax if included else 0)
    tax = cents(w["total_tax"])
    if not included:  # VAT on top of before-tax unit prices rounded to the cent: Shopify's own sum
        total = goods_gross - discounts + ship_gross + tax
    refund_cents = sum(-cents(r["total"]) for r in w["refunds"])
    if refund_cents and not refunded_all:
        financial = "partially_refunded"
    cur_total = 0 if refunded_all else total - refund_cents
    cur_tax = 0 if refunded_all else tax
    cur_sub = 0 if refunded_all else goods_gross - discounts
    cur_disc = 0 if refunded_all else discounts
    created, updated = stamp(clock, st.created), stamp(clock, st.modified)
    email = w["billing"]["email"]
    customer = None
    if w["customer_id"]:
        b = w["billing"]
        customer = {
            "id": w["customer_id"],
            "email": email,
            "created_at": created,
            "updated_at": created,
            "first_name": b["first_name"],
            "last_name": b["last_name"],
            "state": "enabled",
            "note": None,
            "verified_email": True,
            "multipass_identifier": None,
            "tax_exempt": False,
            "phone": None,
            "email_marketing_consent": {
                "state": "not_subscribed",
                "opt_in_level": None,
                "consent_updated_at": None,
            },
            "sms_marketing_consent": None,
            "tags": "",
            "currency": "EUR",
            "tax_exemptions": [],
            "admin_graphql_api_id": f"{GID}Customer/{w['customer_id']}",
            "default_address": {
                "id": w["customer_id"],
                "customer_id": w["customer_id"],
                **{k: v for k, v in _address(b, b["phone"]).items() if k not in ("latitude", "longitude")},
                "country_name": "France",
                "default": True,
            },
        }
    ship = w["shipping_lines"][0]
    refunds: list[dict[str, Any]] = []
    for r in w["refunds"]:  # every refund, in the order they were made
        amount = money(-cents(r["total"]))
        refund_lines = []
        if refunded_all:
            for li in lines:
                refund_lines.append(
                    {
                        "id": li["id"] + 7_000_000,
                        "line_item_id": li["id"],
                        "location_id": LOCATION_ID,
                        "quantity": li["quantity"],
                        "restock_type": "return",
                        "subtotal": cents(li["total"]) / 100,
                        "subtotal_set": price_set(li["total"]),
                        "total_tax": cents(li["total_tax"]) / 100,
                        "total_tax_set": price_set(li["total_tax"]),
                        "line_item": line_item(li, 0, 0 if coupon else None, included),
                    }
                )
        refunds.append(
            {
                "id": r["id"],
                "admin_graphql_api_id": f"{GID}Refund/{r['id']}",
                "created_at": updated,
                "note": r["reason"] or None,
                "order_id": oid,
                "processed_at": updated,
                "restock": refunded_all,
                "total_additional_fees_set": price_set("0.00"),
                "total_duties_set": price_set("0.00"),
                "user_id": 548380009,
                "order_adjustments": []
                if refunded_all
                else [
                    {
                        "id": r["id"] + 1,
                        "amount": money(-cents(amount)),
                        "amount_set": price_set(money(-cents(amount))),
                        "kind": "refund_discrepancy",
                        "order_id": oid,
                        "reason": "Refund discrepancy",
                        "refund_id": r["id"],
                        "tax_amount": "0.00",
                        "tax_amount_set": price_set("0.00"),
                    }
                ],
                "transactions": [
                    {
                        "id": r["id"] + 2,
                        "admin_graphql_api_id": f"{GID}OrderTransaction/{r['id'] + 2}",
                        "amount": amount,
                        "authorization": None,
                        "created_at": updated,
                        "currency": "EUR",
                        "device_id": None,
                        "error_code": None,
                        "gateway": _GATEWAYS.get(w["payment_method"], "manual"),
                        "kind": "refund",
                        "location_id": None,
                        "message": None,
                        "order_id": oid,
                        "parent_id": None,
                        "payment_id": f"#{oid}.2",
                        "processed_at": updated,
                        "receipt": {},
                        "source_name": "web",
                        "status": "success",
                        "test": False,
                        "user_id": None,
                    }
                ],
                "refund_line_items": refund_lines,
                "duties": [],
                "additional_fees": [],
            }
        )
    fulfillments = []
    if fulfillment == "fulfilled":
        fulfillments.append(
            {
                "id": oid * 10 + 1,
                "admin_graphql_api_id": f"{GID}Fulfillment/{oid * 10 + 1}",
                "created_at": updated,
                "location_id": LOCATION_ID,
                "name": f"#{oid}.1",
                "order_id": oid,
                "origin_address": {},
                "receipt": {},
                "service": "manual",
                "shipment_status": None,
                "status": "success",
                "tracking_company": "Colissimo",
                "tracking_number": f"6A{oid:011d}",
                "tracking_numbers": [f"6A{oid:011d}"],
                "tracking_url": f"https://www.laposte.fr/outils/suivre-vos-envois?code=6A{oid:011d}",
                "tracking_urls": [f"https://www.laposte.fr/outils/suivre-vos-envois?code=6A{oid:011d}"],
                "updated_at": updated,
                "line_items": items,
            }
        )
    sub_price = money(goods_gross - discounts)
    order: dict[str, Any] = {
        "id": oid,
        "admin_graphql_api_id": f"{GID}Order/{oid}",
        "app_id": 580111,
        "browser_ip": w["customer_ip_address"],
        "buyer_accepts_marketing": False,
        "cancel_reason": "customer" if cancelled else None,
        "cancelled_at": updated if cancelled else None,
        "cart_token": w["cart_hash"],
        "checkout_id": oid + 900_000_000,
        "checkout_token": w["order_key"][9:] + "0" * 19,
        "client_details": {
            "accept_language": "fr-FR",
            "browser_height": None,
            "browser_ip": w["customer_ip_address"],
            "browser_width": None,
            "session_hash": None,
            "user_agent": w["customer_user_agent"],
        },
        "closed_at": updated if closed else None,
        "confirmation_number": f"{oid:X}".rjust(9, "Q")[-9:],
        "confirmed": True,
        "contact_email": email,
        "created_at": created,
        "currency": "EUR",
        "current_subtotal_price": money(cur_sub),
        "current_subtotal_price_set": price_set(money(cur_sub)),
        "current_total_additional_fees_set": None,
        "current_total_discounts": money(cur_disc),
        "current_total_discounts_set": price_set(money(cur_disc)),
        "current_total_duties_set": None,
        "current_total_price": money(cur_total),
        "current_total_price_set": price_set(money(cur_total)),
        "current_total_tax": money(cur_tax),
        "current_total_tax_set": price_set(money(cur_tax)),
        "customer_locale": "fr",
        "device_id": None,
        "discount_codes": [{"code": coupon["code"], "amount": money(discounts), "type": "percentage"}]
        if coupon
        else [],
        "duties_included": False,
        "email": email,
        "estimated_taxes": False,
        "financial_status": financial,
        "fulfillment_status": fulfillment,
        "landing_site": "/",
        "landing_site_ref": None,
        "location_id": None,
        "merchant_business_entity_id": "MTU0ODM4MDAwOQ",
        "merchant_of_record_app_id": None,
        "name": f"#{oid}",
        "note": w["customer_note"] or None,
        "note_attributes": [],
        "number": oid - 1000,
        "order_number": oid,
        "order_status_url": f"https://boutique-simulee.myshopify.com/548380009/orders/{w['cart_hash']}/authenticate",
        "original_total_additional_fees_set": None,
        "original_total_duties_set": None,
        "payment_gateway_names": [_GATEWAYS.get(w["payment_method"], "manual")],
        "phone": None,
        "po_number": None,
        "presentment_currency": "EUR",
        "processed_at": created,
        "reference": None,
        "referring_site": None,
        "source_identifier": None,
        "source_name": "web",
        "source_url": None,
        "subtotal_price": sub_price,
        "subtotal_price_set": price_set(sub_price),
        "tags": "",
        "tax_exempt": False,
        "tax_lines": [
            {
                "price": t["tax_total"],
                "rate": float(t["rate_percent"]) / 100,
                "title": t["label"],
                "price_set": price_set(t["tax_total"]),
                "channel_liable": False,
            }
            for t in w["tax_lines"]
        ],
        "taxes_included": included,
        "test": False,
        "token": w["cart_hash"],
        "total_cash_rounding_payment_adjustment_set": price_set("0.00"),
        "total_cash_rounding_refund_adjustment_set": price_set("0.00"),
        "total_discounts": money(discounts),
        "total_discounts_set": price_set(money(discounts)),
        "total_line_items_price": money(goods_gross),
        "total_line_items_price_set": price_set(money(goods_gross)),
        "total_outstanding": "0.00" if financial != "pending" else money(total),
        "total_price": money(total),
        "total_price_set": price_set(money(total)),
        "total_shipping_price_set": price_set(money(ship_gross)),
        "total_tax": w["total_tax"],
        "total_tax_set": price_set(w["total_tax"]),
        "total_tip_received": "0.00",
        "total_weight": 250 * sum(li["quantity"] for li in lines),
        "updated_at": updated,
        "user_id": None,
        "billing_address": _address(w["billing"], w["billing"]["phone"]),
    }
    if customer is not None:
        order["customer"] = customer
    order.update(
        {
            "discount_applications": [
                {
                    "target_type": "line_item",
                    "type": "discount_code",
                    "value": "10.0" if coupon["code"] == "bienvenue10" else "5.0",
                    "value_type": "percentage",
                    "allocation_method": "across",
                    "target_selection": "all",
                    "code": coupon["code"],
                }
            ]
            if coupon
            else [],
            "fulfillments": fulfillments,
            "line_items": items,
            "payment_terms": None,
            "refunds": refunds,
            "shipping_address": _address(w["shipping"], None),
            "shipping_lines": [
                {
                    "id": ship["id"],
                    "carrier_identifier": None,
                    "code": ship["method_id"],
                    "discounted_price": money(ship_gross),
                    "discounted_price_set": price_set(money(ship_gross)),
                    "is_removed": False,
                    "phone": None,
                    "price": money(ship_gross),
                    "price_set": price_set(money(ship_gross)),
                    "requested_fulfillment_service_id": None,
                    "source": "shopify",
                    "title": ship["method_title"],
                    "tax_lines": [
                        {
                            "channel_liable": False,
                            "price": money(ship_tax),
                            "price_set": price_set(money(ship_tax)),
                            "rate": 0.2,
                            "title": "TVA",
                        }
                    ]
                    if ship_tax
                    else [],
                    "discount_allocations": [],
                }
            ],
        }
    )
    return order


def truth_lines(w: dict[str, Any], status: str) -> list[dict[str, Any]]:
    """What the till must store for the order's lines: what is still owed after refunds."""
    out = []
    for li in w["line_items"]:
        gone = status == "refunded"
        out.append(
            {
                "sku": li["sku"],
                "quantity": 0 if gone else li["quantity"],
                "total": "0.00" if gone else li["total"],
                "total_tax": "0.00" if gone else li["total_tax"],
            }
        )
    return out
