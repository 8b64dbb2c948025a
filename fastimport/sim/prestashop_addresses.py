"""PrestaShop's ``/api/addresses`` and ``/api/countries``: where a business buyer's company, VAT
number and ``dni`` live (an order names its invoice address by ``id_address_invoice`` only).

Each order's invoice address is its billing address (id ``ADDRESS_BASE`` + order id).  A buyer
with a company gets an intra-EU VAT number (``FR`` + key + SIREN, the key computed as the French
tax office does); one company in two also gets its SIRET in ``dni``, as French shops often ask.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

from aiohttp import web

ADDRESS_BASE = 200_000
# PrestaShop's default country ids (install data) -> ISO 3166 code
COUNTRIES = {1: "DE", 3: "BE", 6: "ES", 8: "FR", 10: "IT", 12: "LU", 17: "GB", 19: "CH"}
_COUNTRY_IDS = {code: cid for cid, code in COUNTRIES.items()}


def siren_for(company: str) -> str:
    """A stable 9-digit SIREN for a company name."""
    return f"{100_000_000 + zlib.crc32(company.encode()) % 900_000_000:09d}"


def vat_for(siren: str) -> str:
    """The French intra-EU VAT number of a SIREN: FR + (12 + 3 x (SIREN mod 97)) mod 97 + SIREN."""
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


def address_row(aid: int, customer_id: int, billing: dict[str, Any]) -> dict[str, Any]:
    company = str(billing.get("company") or "")
    siren = siren_for(company) if company else ""
    return {
        "id": aid,
        "id_customer": str(customer_id),
        "id_manufacturer": "0",
        "id_supplier": "0",
        "id_warehouse": "0",
        "id_country": str(_COUNTRY_IDS.get(str(billing.get("country") or "FR"), 8)),
        "id_state": "0",
        "alias": "Mon adresse",
        "company": company,
        "lastname": billing.get("last_name") or "",
        "firstname": billing.get("first_name") or "",
        "vat_number": vat_for(siren) if siren else "",
        "address1": billing.get("address_1") or "",
        "address2": billing.get("address_2") or "",
        "postcode": billing.get("postcode") or "",
        "city": billing.get("city") or "",
        "other": "",
        "phone": billing.get("phone") or "",
        "phone_mobile": "",
        "dni": f"{siren}00012" if siren and int(siren) % 2 == 0 else "",
        "deleted": "0",
        "date_add": "2024-01-15 10:00:00",
        "date_upd": "2024-01-15 10:00:00",
    }


class AddressesApi:
    """The two resources, over ``address_of(id)`` (None: no such address)."""

    def __init__(
        self,
        address_of: Callable[[int], dict[str, Any] | None],
        ids_of: Callable[[web.Request, str], list[str] | None],
        respond: Callable[[Any], web.Response],
    ) -> None:
        self.address_of, self.ids_of, self.respond = address_of, ids_of, respond

    async def addresses(self, request: web.Request) -> web.Response:
        rows = [
            row
            for value in self.ids_of(request, "id") or []
            if value.isdigit() and (row := self.address_of(int(value))) is not None
        ]
        return self.respond({"addresses": rows} if rows else b"[]")

    async def countries(self, request: web.Request) -> web.Response:
        wanted = self.ids_of(request, "id")
        rows = [
            {"id": cid, "iso_code": code, "active": "1", "contains_states": "0", "need_zip_code": "1"}
            for cid, code in COUNTRIES.items()
            if wanted is None or str(cid) in wanted
        ]
        return self.respond({"countries": rows} if rows else b"[]")
