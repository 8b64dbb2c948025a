"""One WooCommerce v3 order, shaped exactly like the documented example order 727.

Every order is rebuilt from ``(seed, id)`` plus its mutable state (status, dates), so the shop
needs no per-order dict in memory and a modified order re-renders with the same lines.
Money is integer cents; prices include tax; each line's tax is rounded to the cent.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from fastimport.sim.catalogue import (
    CITIES,
    FIRST_NAMES,
    LAST_NAMES,
    STANDARD,
    STREETS,
    TAX_RATES,
    Customer,
    Product,
    ascii_slug,
)
from fastimport.sim.clock import SiteClock, fmt

STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed")
STATUS_WEIGHTS = (6, 55, 8, 20, 5, 3, 3)
PAID = frozenset({"processing", "completed", "refunded"})
WC_VERSION = "8.9.3"

_PERMILLE = {cls: int(float(pct) * 10) for cls, (_, pct, _) in TAX_RATES.items()}
_USER_AGENTS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0",
]
_NOTES = [
    "",
    "Merci de laisser le colis chez la voisine.",
    "Paquet cadeau s'il vous plaît !",
    "Livraison après 18 h, svp.",
    "Code porte : 4B27.",
]


_MONEY: dict[int, str] = {}


def money(cents: int) -> str:
    """Integer cents -> WooCommerce's 2-decimal string ("19.90", "-5.00"); memoised, it runs a lot."""
    text = _MONEY.get(cents)
    if text is None:
        sign = "-" if cents < 0 else ""
        text = f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
        if len(_MONEY) < 1_000_000:
            _MONEY[cents] = text
    return text


def tax_included(gross: int, tax_class: str) -> int:
    """Tax contained in a tax-included amount, rounded half-up to the cent."""
    pm = _PERMILLE[tax_class]
    return (2 * gross * pm + 1000 + pm) // (2 * (1000 + pm))


@dataclass(frozen=True)
class OrderState:
    id: int
    created: int  # UTC epoch seconds
    modified: int
    status: str


@dataclass
class OrderContext:
    """What every order render needs from the shop."""

    seed: int
    clock: SiteClock
    base_url: str  # API root, e.g. "http://127.0.0.1:8080/wp-json/wc/v3"
    listed: list[Product]
    unlisted: list[Product]
    customers: list[Customer]
    unknown_sku_rate: float
    guest_rate: float


def _dates(ctx: OrderContext, key: str, ts: int | None) -> dict[str, str | None]:
    if ts is None:
        return {key: None, key + "_gmt": None}
    return {key: fmt(ctx.clock.local(ts)), key + "_gmt": fmt(ts)}


def _person(rng: random.Random, customer: Customer | None) -> dict[str, str]:
    if customer is not None:
        return {
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "company": customer.company,
            "address_1": customer.address_1,
            "address_2": "",
            "city": customer.city,
            "state": "",
            "postcode": customer.postcode,
            "country": "FR",
            "email": customer.email,
            "phone": customer.phone,
        }
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, postcode = rng.choice(CITIES)
    return {
        "first_name": first,
        "last_name": last,
        "company": "",
        "address_1": f"{rng.randint(1, 99)} {rng.choice(STREETS)}",
        "address_2": rng.choice(["", "", "", "Bâtiment B, 2ᵉ étage"]),
        "city": city,
        "state": "",
        "postcode": postcode,
        "country": "FR",
        "email": f"{ascii_slug(first)}.{ascii_slug(last)}@{rng.choice(['gmail.com', 'yahoo.fr', 'sfr.fr'])}",
        "phone": "06 " + " ".join(str(rng.randint(10, 99)) for _ in range(4)),
    }


def _pick_line(ctx: OrderContext, rng: random.Random) -> tuple[str, int, int, str, str, int, list[Any]]:
    """(name, product_id, variation_id, sku, tax_class, unit price cents, variation meta)."""
    if ctx.unlisted and rng.random() < ctx.unknown_sku_rate:
        p = rng.choice(ctx.unlisted)
        # A deleted product leaves product_id 0 on old orders; a not-yet-synced one keeps its id.
        return p.name, (0 if rng.random() < 0.5 else p.id), 0, p.sku, p.tax_class, p.price, []
    p = rng.choice(ctx.listed)
    if p.type == "variable":
        v = rng.choice(p.variations)
        meta = [(p.attribute, v.slug)]
        return f"{p.name} - {v.option}", p.id, v.id, v.sku, p.tax_class, v.price, meta
    return p.name, p.id, 0, p.sku, p.tax_class, p.price, []


def render_order(ctx: OrderContext, st: OrderState) -> dict[str, Any]:
    oid = st.id
    rng = random.Random((ctx.seed << 40) ^ oid)
    item_id = oid * 16  # order items have their own id sequence; 16 per order is plenty
    meta_id = oid * 32

    customer = None if rng.random() < ctx.guest_rate or not ctx.customers else rng.choice(ctx.customers)
    billing = _person(rng, customer)
    shipping = {k: v for k, v in billing.items() if k not in ("email", "phone")}
    if rng.random() < 0.15:
        other = _person(rng, None)
        shipping = {k: v for k, v in other.items() if k not in ("email", "phone")}

    coupon = rng.choice([("bienvenue10", 10), ("fidelite5", 5)]) if rng.random() < 0.1 else None
    lines: list[dict[str, Any]] = []
    tax_by_class: dict[str, int] = {}
    goods_gross = sub_sum = sub_tax_sum = line_total = 0
    for _ in range(rng.choices((1, 2, 3, 4, 5), (40, 30, 15, 10, 5))[0]):
        name, pid, vid, sku, tax_class, unit, vmeta = _pick_line(ctx, rng)
        qty = rng.choices((1, 2, 3, 6), (75, 17, 6, 2))[0]
        gross = unit * qty
        gross_after = gross - (gross * coupon[1] + 50) // 100 if coupon else gross
        goods_gross += gross_after
        sub_tax, tot_tax = tax_included(gross, tax_class), tax_included(gross_after, tax_class)
        total = gross_after - tot_tax
        rate_id = TAX_RATES[tax_class][0]
        tax_by_class[tax_class] = tax_by_class.get(tax_class, 0) + tot_tax
        sub_sum, sub_tax_sum, line_total = (
            sub_sum + gross - sub_tax,
            sub_tax_sum + sub_tax,
            line_total + total,
        )
        item_id += 1
        meta = []
        for key, value in vmeta:
            meta_id += 1
            meta.append({"id": meta_id, "key": key, "value": value})
        price = total / qty / 100
        lines.append(
            {
                "id": item_id,
                "name": name,
                "product_id": pid,
                "variation_id": vid,
                "quantity": qty,
                "tax_class": tax_class,
                "subtotal": money(gross - sub_tax),
                "subtotal_tax": money(sub_tax),
                "total": money(total),
                "total_tax": money(tot_tax),
                "taxes": [{"id": rate_id, "total": money(tot_tax), "subtotal": money(sub_tax)}],
                "meta_data": meta,
                "sku": sku,
                # PHP's json_encode prints an integral float as an integer ("price": 3 in the docs).
                "price": int(price) if price == int(price) else price,
            }
        )

    method = rng.choices(("colissimo", "flat_rate", "local_pickup"), (50, 35, 15))[0]
    if method == "local_pickup":
        ship_title, ship_gross = "Retrait en boutique", 0
    elif goods_gross >= 6000:
        method, ship_title, ship_gross = "free_shipping", "Livraison gratuite", 0
    elif method == "colissimo":
        ship_title, ship_gross = "Colissimo suivi", 690
    else:
        ship_title, ship_gross = "Lettre suivie", 490
    ship_tax = tax_included(ship_gross, STANDARD)
    item_id += 1
    shipping_lines = [
        {
            "id": item_id,
            "method_title": ship_title,
            "method_id": method,
            "total": money(ship_gross - ship_tax),
            "total_tax": money(ship_tax),
            "taxes": [{"id": TAX_RATES[STANDARD][0], "total": money(ship_tax), "subtotal": ""}]
            if ship_tax
            else [],
            "meta_data": [],
        }
    ]
    tax_lines = []
    for tax_class in sorted(
        set(tax_by_class) | ({STANDARD} if ship_tax else set()), key=lambda c: TAX_RATES[c][0]
    ):
        rate_id, pct, label = TAX_RATES[tax_class]
        item_id += 1
        tax_lines.append(
            {
                "id": item_id,
                "rate_code": f"FR-{label.upper()}-1",
                "rate_id": rate_id,
                "label": label,
                "compound": False,
                "tax_total": money(tax_by_class.get(tax_class, 0)),
                "shipping_tax_total": money(ship_tax if tax_class == STANDARD else 0),
                "rate_percent": float(pct) if "." in pct else int(pct),
                "meta_data": [],
            }
        )

    cart_tax = sum(tax_by_class.values())
    discount, discount_tax = sub_sum - line_total, sub_tax_sum - cart_tax
    total = line_total + cart_tax + (ship_gross - ship_tax) + ship_tax
    coupon_lines = []
    if coupon:
        item_id += 1
        coupon_lines.append(
            {
                "id": item_id,
                "code": coupon[0],
                "discount": money(discount),
                "discount_tax": money(discount_tax),
                "meta_data": [],
            }
        )

    status = st.status
    # What depends on the status is drawn apart, all of it whatever the status: an order whose status
    # changes keeps every other field as it was (a shop does not change a buyer's IP when it ships).
    late = random.Random((ctx.seed << 40) ^ oid ^ 0x9E3779B9)
    paid_after, gesture, bits = late.randint(5, 90), late.random() < 0.05, late.getrandbits(80)
    paid = st.created + paid_after if status in PAID else None
    if paid is not None:
        paid = min(paid, st.modified)
    refunds = []
    if status == "refunded":
        refunds.append({"id": 900_000_000 + oid, "reason": "", "total": money(-total)})
    elif status == "completed" and gesture:
        refunds.append(
            {"id": 900_000_000 + oid, "reason": "Geste commercial", "total": money(-min(500, total))}
        )

    wire = late.choice([("bacs", "Virement bancaire"), ("cheque", "Paiement par chèque")])
    card = late.choice([("stripe", "Carte bancaire (Stripe)"), ("paypal", "PayPal")])
    pay = wire if status == "on-hold" else card
    txn = ""
    if paid is not None:
        txn = f"pi_3{bits:020x}" if pay[0] == "stripe" else f"{bits >> 16:017X}"[:17]
    meta_data = []
    for key, value in (
        ("is_vat_exempt", "no"),
        ("_wc_order_attribution_source_type", rng.choice(["typein", "organic", "referral"])),
        ("_wc_order_attribution_utm_source", rng.choice(["(direct)", "google", "instagram.com"])),
        ("_wc_order_attribution_device_type", rng.choice(["Mobile", "Desktop"])),
        ("_wc_order_attribution_session_pages", str(rng.randint(1, 12))),
    ):
        meta_id += 1
        meta_data.append({"id": meta_id, "key": key, "value": value})
    links: dict[str, Any] = {
        "self": [{"href": f"{ctx.base_url}/orders/{oid}"}],
        "collection": [{"href": f"{ctx.base_url}/orders"}],
    }
    if customer is not None:
        links["customer"] = [{"href": f"{ctx.base_url}/customers/{customer.id}"}]

    return {
        "id": oid,
        "parent_id": 0,
        "number": str(oid),
        "order_key": f"wc_order_{rng.getrandbits(52):013x}",
        "created_via": "checkout",
        "version": WC_VERSION,
        "status": status,
        "currency": "EUR",
        **_dates(ctx, "date_created", st.created),
        **_dates(ctx, "date_modified", st.modified),
        "discount_total": money(discount),
        "discount_tax": money(discount_tax),
        "shipping_total": money(ship_gross - ship_tax),
        "shipping_tax": money(ship_tax),
        "cart_tax": money(cart_tax),
        "total": money(total),
        "total_tax": money(cart_tax + ship_tax),
        "prices_include_tax": True,
        "customer_id": customer.id if customer else 0,
        "customer_ip_address": ".".join(str(rng.randint(1, 223)) for _ in range(4)),
        "customer_user_agent": rng.choice(_USER_AGENTS),
        "customer_note": rng.choice(_NOTES) if rng.random() < 0.1 else "",
        "billing": billing,
        "shipping": shipping,
        "payment_method": pay[0],
        "payment_method_title": pay[1],
        "transaction_id": txn,
        **_dates(ctx, "date_paid", paid),
        **_dates(ctx, "date_completed", st.modified if status == "completed" else None),
        "cart_hash": f"{rng.getrandbits(128):032x}",
        "meta_data": meta_data,
        "line_items": lines,
        "tax_lines": tax_lines,
        "shipping_lines": shipping_lines,
        "fee_lines": [],
        "coupon_lines": coupon_lines,
        "refunds": refunds,
        "_links": links,
    }
