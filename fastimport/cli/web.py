"""``fastimport serve``: the till page in a browser (see :mod:`fastimport.web`)."""

from __future__ import annotations

import argparse
from typing import Any

from fastimport.cli.common import EXIT_OK, Session


def add_web_commands(sub: Any) -> None:
    p = sub.add_parser(
        "serve", help="serve the till page (pending orders, import, invoice, print) in a browser"
    )
    p.add_argument("--host", help="address to listen on (default: [server] host, else 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: [server] port, else 8765)")
    p.add_argument(
        "--config", default=argparse.SUPPRESS, help="configuration file (default: fastimport.toml)"
    )
    p.set_defaults(handler=serve)


def serve(args: argparse.Namespace, session: Session) -> int:
    from aiohttp import web

    from fastimport.web.app import create_app
    from fastimport.web.settings import server_settings

    config = session.config
    settings = server_settings(config)
    host = args.host or settings.host
    port = args.port or settings.port
    app = create_app(config, host=host)  # refuses a bind beyond loopback without a token
    shown = f"[{host}]" if ":" in host else host
    print(f"fastimport: the till page is at http://{shown}:{port}/ (Ctrl-C stops it)", flush=True)
    web.run_app(app, host=host, port=port, print=None, access_log=None, handle_signals=True)
    return EXIT_OK
