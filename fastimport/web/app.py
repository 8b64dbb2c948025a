"""The till page's application: ``create_app(config)`` for ``fastimport serve`` and for tests in-process."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from fastimport.config import Config
from fastimport.web import api, pages
from fastimport.web.context import CONFIG_KEY, DATABASE_KEY, MESSAGES_KEY, SETTINGS_KEY
from fastimport.web.database import Database
from fastimport.web.i18n import Messages
from fastimport.web.runs import RUNS_KEY, ImportRuns
from fastimport.web.security import GUARD_KEY, Guard, error_middleware, guard_middleware
from fastimport.web.settings import access_token, server_settings

HERE = Path(__file__).parent
WEBHOOKS_MODULE = "fastimport.web.webhooks"


def create_app(config: Config, *, host: str | None = None) -> web.Application:
    """The till page for ``config``; ``host`` is where it will listen (default: ``[server] host``).

    Refuses (ConfigError) a ``host`` beyond loopback without ``[server] token_env``.  The store is
    opened when the application starts and closed when it stops.
    """
    settings = server_settings(config)
    token = access_token(settings, host or settings.host)
    app = web.Application(middlewares=[error_middleware, guard_middleware], client_max_size=4 * 1024**2)
    app[CONFIG_KEY] = config
    app[SETTINGS_KEY] = settings
    app[GUARD_KEY] = Guard(token)
    messages = Messages(settings.language)
    app[MESSAGES_KEY] = messages
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    env.install_gettext_callables(messages.gettext, messages.ngettext, newstyle=True)  # type: ignore[attr-defined]
    pages.setup_filters(env, messages)
    app.router.add_routes(pages.routes)
    app.router.add_routes(api.routes)
    app.router.add_static("/static/", HERE / "static", name="static")
    mount_webhooks(app)
    app.cleanup_ctx.append(_database)
    return app


def mount_webhooks(app: web.Application) -> None:
    """Webhook intake (``POST /webhooks/<store>``) lives in its own module; mounted when present."""
    if importlib.util.find_spec(WEBHOOKS_MODULE) is not None:
        importlib.import_module(WEBHOOKS_MODULE).add_webhook_routes(app)


async def _database(app: web.Application) -> AsyncIterator[None]:
    db = Database(app[CONFIG_KEY])
    app[DATABASE_KEY] = db
    runs = ImportRuns(db)
    app[RUNS_KEY] = runs
    _warm(app)
    yield
    await runs.close()
    db.close()


def _warm(app: web.Application) -> None:
    """Compile the home page's templates and load the money format's locale data now, at start-up:
    on the first ``GET /`` they cost ~50 ms and ~30 ms, more than the store's answer at a million orders."""
    env = aiohttp_jinja2.get_env(app)
    for name in ("base.html", "pending.html"):
        env.get_template(name)
    pages.money(app[MESSAGES_KEY], "0.00", "EUR")
