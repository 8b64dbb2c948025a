"""The till page's HTML: pending orders (home), an order, prints, stock, journal, and the login form."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from decimal import Decimal, InvalidOperation
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from babel.numbers import format_currency

import fastimport
from fastimport.web.api import read_pending, store_names, webhook_status
from fastimport.web.context import CONFIG_KEY, DATABASE_KEY, MESSAGES_KEY, SETTINGS_KEY
from fastimport.web.i18n import Messages, translate_warning
from fastimport.web.security import GUARD_KEY, LOGIN_PATH, SESSION_COOKIE, SID_KEY, set_session_cookie

routes = web.RouteTableDef()
WRONG_TOKEN_DELAY = 1.0  # seconds before a wrong token is answered

# Strings the page's JavaScript shows (progress, results), handed over in the page.
JS_MESSAGES = (
    "Import running…", "Import finished.", "Import failed:", "%(store)s: %(pages)s pages, %(orders)s orders read",
    "%(new)s new, %(updated)s updated, %(unchanged)s already there", "Working…", "The server did not answer.",
    "The invoice chain is whole: %(records)s records checked.", "The invoice chain is broken:",
    "%(printed)s tickets printed, %(waiting)s still waiting.", "Stock sent to the shop.",
)  # fmt: skip


def base_context(request: web.Request, active: str) -> dict[str, Any]:
    m = request.app[MESSAGES_KEY]
    return {
        "active": active,
        "csrf": request.app[GUARD_KEY].csrf_for(request[SID_KEY]),
        "lang": m.language,
        "login_required": request.app[GUARD_KEY].required,
        "js_messages": {k: m.gettext(k) for k in JS_MESSAGES},
    }


def money(m: Messages, amount: Any, currency: str | None) -> str:
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    return str(format_currency(value, currency or "EUR", locale="fr_FR" if m.language == "fr" else "en_GB"))


def when(m: Messages, iso: str | None) -> str:
    if not iso:
        return ""
    moment = dt.datetime.fromisoformat(iso)
    return moment.strftime("%d/%m/%Y %H:%M" if m.language == "fr" else "%Y-%m-%d %H:%M")


def setup_filters(env: Any, m: Messages) -> None:
    env.filters["money"] = lambda amount, currency=None: money(m, amount, currency)
    env.filters["when"] = lambda iso: when(m, iso)
    env.filters["warning"] = lambda w: translate_warning(m, w)
    env.filters["word"] = lambda w: m.gettext(str(w)) if w else ""


@routes.get("/")
async def pending_page(request: web.Request) -> web.Response:
    config = request.app[CONFIG_KEY]
    size = request.app[SETTINGS_KEY].page_size
    newest = request.query.get("order", "oldest") == "newest"
    stores = store_names(request)
    if stores:
        config.store(stores[0])
    try:
        page = max(1, int(request.query.get("page", "1")))
    except ValueError:
        page = 1

    rows, total = await read_pending(request, stores, size, (page - 1) * size, newest)
    pages = max(1, math.ceil(total / size))
    context = base_context(request, "pending") | {
        "rows": rows, "total": total, "page": page, "pages": pages, "newest": newest,
        "store": stores[0] if stores else "", "stores": [s.name for s in config.stores],
        "today": dt.datetime.now(config.stores[0].zone).date().isoformat() if config.stores else "",
    }  # fmt: skip
    return aiohttp_jinja2.render_template("pending.html", request, context)


@routes.get("/orders/{store}/{order}")
async def order_page(request: web.Request) -> web.Response:
    store, number = request.match_info["store"], request.match_info["order"]
    config = request.app[CONFIG_KEY]
    details = await request.app[DATABASE_KEY].run(
        lambda _c, con: fastimport.order_details(con, number, store)
    )
    carriers = sorted(set(dict(config.raw.get("carriers", {})).values()))
    context = base_context(request, "pending") | {"order": details, "carriers": carriers}
    return aiohttp_jinja2.render_template("order.html", request, context)


@routes.get("/documents/{number}.pdf")
async def document_pdf(request: web.Request) -> web.Response:
    """The customer's A4 PDF of an invoice, credit note or delivery note (a copy says DUPLICATA)."""
    number = request.match_info["number"]
    try:
        rendered = await request.app[DATABASE_KEY].run(fastimport.document_pdf, number)
    except fastimport.FastImportError:
        raise web.HTTPNotFound(text=request.app[MESSAGES_KEY].gettext("No such document.")) from None
    return web.Response(
        body=rendered.pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{rendered.filename}"'},
    )


@routes.get("/prints")
async def prints_page(request: web.Request) -> web.Response:
    show_all = request.query.get("all") == "1"
    jobs = await request.app[DATABASE_KEY].run(
        lambda _c, con: [j.as_json() for j in fastimport.print_queue(con, include_printed=show_all)]
    )
    context = base_context(request, "prints") | {"jobs": jobs, "show_all": show_all}
    return aiohttp_jinja2.render_template("prints.html", request, context)


@routes.get("/stock")
async def stock_page(request: web.Request) -> web.Response:
    changed = request.query.get("changed") == "1"
    rows = await request.app[DATABASE_KEY].run(
        lambda _c, con: fastimport.stock_levels(con, changed_only=changed)
    )
    context = base_context(request, "stock") | {"rows": rows, "changed_only": changed}
    return aiohttp_jinja2.render_template("stock.html", request, context)


@routes.get("/journal")
async def journal_page(request: web.Request) -> web.Response:
    runs = await request.app[DATABASE_KEY].run(lambda _c, con: fastimport.import_journal(con))
    context = base_context(request, "journal") | {"runs": runs, "webhooks": await webhook_status(request)}
    return aiohttp_jinja2.render_template("journal.html", request, context)


@routes.get(LOGIN_PATH)
async def login_form(request: web.Request) -> web.Response:
    if not request.app[GUARD_KEY].required:
        raise web.HTTPFound("/")
    context = {"csrf": request.app[GUARD_KEY].csrf_for(request[SID_KEY]), "failed": False}
    return aiohttp_jinja2.render_template("login.html", request, context)


@routes.post(LOGIN_PATH)
async def login(request: web.Request) -> web.StreamResponse:
    guard = request.app[GUARD_KEY]
    form = await request.post()
    given = form.get("token")
    if not isinstance(given, str) or not guard.token_ok(given):
        await asyncio.sleep(WRONG_TOKEN_DELAY)  # guessing tokens by the thousand is not an option
        context = {"csrf": guard.csrf_for(request[SID_KEY]), "failed": True}
        return aiohttp_jinja2.render_template("login.html", request, context, status=401)
    guard.close_session(request[SID_KEY])
    response = web.HTTPSeeOther("/")
    set_session_cookie(response, guard.open_session(), request.secure)
    raise response


@routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    request.app[GUARD_KEY].close_session(request[SID_KEY])
    response = web.HTTPSeeOther(LOGIN_PATH)
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response
