"""The JSON API under ``/api/``: the page's own calls, mirroring the command line's ``--json`` contracts."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp_sse import sse_response

import fastimport
from fastimport.config import Config
from fastimport.store.db import Connection
from fastimport.web.actions import ACTIONS, run_action
from fastimport.web.context import CONFIG_KEY, DATABASE_KEY, MESSAGES_KEY, SETTINGS_KEY
from fastimport.web.runs import RUNS_KEY, range_request

MAX_LIMIT = 500

routes = web.RouteTableDef()


def _int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise web.HTTPBadRequest(text=f"{name} must be between {low} and {high}")
    return value


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise web.HTTPBadRequest(text="the body is not JSON") from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="the body must be a JSON object")
        return body
    form = await request.post()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def store_names(request: web.Request) -> list[str] | None:
    store = request.query.get("store")
    return [store] if store else None


@routes.get("/api/pending")
async def pending(request: web.Request) -> web.Response:
    """The objects of ``pending --json``, one page of them; ``X-Total-Count`` says how many in all."""
    limit = _int(request, "limit", request.app[SETTINGS_KEY].page_size, 1, MAX_LIMIT)
    offset = _int(request, "offset", 0, 0, 10**12)
    newest = request.query.get("order", "oldest") == "newest"
    stores = store_names(request)

    rows, total = await read_pending(request, stores, limit, offset, newest)
    return web.json_response(rows, headers={"X-Total-Count": str(total)})


async def read_pending(
    request: web.Request, stores: list[str] | None, limit: int, offset: int, newest: bool
) -> tuple[list[dict[str, Any]], int]:
    """One page of the pending table and the count, for the page and the API alike: read on the reader
    thread (answered while an import writes), one query for every client asking the same page at once."""

    def work(config: Config, con: Connection) -> tuple[list[dict[str, Any]], int]:
        total = fastimport.count_pending(config, con, stores)
        rows = fastimport.pending_orders(config, con, stores, limit=limit, offset=offset, newest_first=newest)
        return rows, total

    key = ("pending", tuple(stores or ()), limit, offset, newest)
    return await request.app[DATABASE_KEY].read(work, key=key)


@routes.post("/api/import")
async def start_import(request: web.Request) -> web.Response:
    body = await _body(request)
    store = body.get("store")
    stores = [str(store)] if store else None
    config = request.app[CONFIG_KEY]
    if stores:
        config.store(stores[0])  # an unknown store is refused before anything starts
    run = request.app[RUNS_KEY].start(config, range_request(body), stores)
    return web.json_response({"run": run.id}, status=202)


def _run(request: web.Request) -> Any:
    run = request.app[RUNS_KEY].runs.get(request.match_info["run"])
    if run is None:
        raise web.HTTPNotFound(text="no such import run (runs are kept while the server runs)")
    return run


@routes.get("/api/import/{run}")
async def import_state(request: web.Request) -> web.Response:
    return web.json_response(_run(request).to_json())


@routes.get("/api/import/{run}/events")
async def import_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the run's state as JSON after each change, until it has finished."""
    run = _run(request)
    async with sse_response(request) as sse:
        async for state in run.changes():
            await sse.send(json.dumps(state), event="progress")
        await sse.send("{}", event="end")
    return sse


@routes.get("/api/orders/{store}/{order}")
async def order(request: web.Request) -> web.Response:
    store, number = request.match_info["store"], request.match_info["order"]
    details = await request.app[DATABASE_KEY].run(
        lambda _config, con: fastimport.order_details(con, number, store)
    )
    return web.json_response(details)


@routes.post("/api/orders/{store}/{order}/{action}")
async def order_action(request: web.Request) -> web.Response:
    action = request.match_info["action"].replace("-", "_")
    if action not in ACTIONS:
        raise web.HTTPNotFound(text=f"no such action: use one of {', '.join(ACTIONS)}")
    app = request.app
    result = await run_action(
        app[DATABASE_KEY], app[MESSAGES_KEY], app[SETTINGS_KEY].print_timeout,
        request.match_info["store"], request.match_info["order"], action, await _body(request),
    )  # fmt: skip
    if not result["ok"]:
        return web.json_response(result | {"error": result["message"]}, status=409)
    return web.json_response(result)


@routes.get("/api/verify")
async def verify(request: web.Request) -> web.Response:
    report = await request.app[DATABASE_KEY].run(
        lambda config, con: fastimport.verify(config, con, actor="till")
    )
    return web.json_response(report.to_json())


@routes.get("/api/print/queue")
async def print_queue(request: web.Request) -> web.Response:
    jobs = await request.app[DATABASE_KEY].run(
        lambda _c, con: fastimport.print_queue(con, include_printed=request.query.get("all") == "1")
    )
    return web.json_response([j.as_json() for j in jobs])


@routes.post("/api/print/retry")
async def print_retry(request: web.Request) -> web.Response:
    body = await _body(request)
    job = int(body["job"]) if str(body.get("job", "")).isdigit() else None
    result = await request.app[DATABASE_KEY].run(
        lambda config, con: fastimport.retry_and_send(config, con, job)
    )
    return web.json_response(result)


@routes.get("/api/print/{job:\\d+}.png")
async def ticket_png(request: web.Request) -> web.Response:
    job = int(request.match_info["job"])
    png = await request.app[DATABASE_KEY].run(lambda _c, con: fastimport.ticket_png(con, job))
    if png is None:
        raise web.HTTPNotFound(text="no such ticket")
    return web.Response(body=png, content_type="image/png")


@routes.get("/api/stock")
async def stock(request: web.Request) -> web.Response:
    changed = request.query.get("changed") == "1"
    rows = await request.app[DATABASE_KEY].run(
        lambda _c, con: fastimport.stock_levels(con, changed_only=changed)
    )
    return web.json_response(rows)


@routes.post("/api/stock/push")
async def stock_push(request: web.Request) -> web.Response:
    result = await request.app[DATABASE_KEY].run(fastimport.push_stock)
    return web.json_response(result)


@routes.get("/api/journal")
async def journal(request: web.Request) -> web.Response:
    runs = await request.app[DATABASE_KEY].run(lambda _c, con: fastimport.import_journal(con))
    return web.json_response({"runs": runs, "webhooks": await webhook_status(request)})


async def webhook_status(request: web.Request) -> Any:
    """What the library says about webhooks (``fastimport.webhook_status``), when it is there."""
    status = getattr(fastimport, "webhook_status", None) if "webhook_status" in fastimport.__all__ else None
    if status is None:
        return None
    return await request.app[DATABASE_KEY].run(status)
