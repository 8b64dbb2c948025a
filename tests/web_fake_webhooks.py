"""A stand-in for the webhook intake module (``fastimport.web.webhooks``), to test where it is mounted."""

from __future__ import annotations

from aiohttp import web


async def _intake(request: web.Request) -> web.Response:
    return web.json_response({"store": request.match_info["store"], "bytes": len(await request.read())})


def add_webhook_routes(app: web.Application) -> None:
    app.router.add_post("/webhooks/{store}", _intake)
