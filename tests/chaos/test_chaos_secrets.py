"""Secrets never leak: every command of a day at the till, run with recognisable secrets (WooCommerce key
and secret, Shopify token, signing key, SMTP password), and every stdout, stderr and file written is
searched for them, also when things go wrong (the shop refuses the keys, a wrong signing key)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.chaos import harness
from tests.chaos.harness import check, command
from tests.conftest import ShopFactory
from tests.invoice_print_support import add_printers, network
from tests.printer_fixture import LoopbackPrinter, loopback_printer  # noqa: F401  (fixture)
from tests.test_documents_mail import Inbox, free_port
from tests.test_processing_support import SELLER, SIGNING_ENV, W0, W1

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]
WRONG_SECRET = "cs_CHAOSWRONGSECRET2b4d6f8a"
SECRETS = {
    "FASTIMPORT_CHAOS_WC_KEY": "ck_CHAOSKEY5e1c0a9b7d3f",
    "FASTIMPORT_CHAOS_WC_SECRET": "cs_CHAOSSECRET8a2d4f6b1e",
    "FASTIMPORT_CHAOS_SHOPIFY": "shpat_CHAOSTOKEN3c7e9a1f5b",
    SIGNING_ENV: "CHAOS-SIGNING-KEY-4f8b2d6a0c9e1b3d",
    "FASTIMPORT_CHAOS_SMTP_PASSWORD": "CHAOS-SMTP-PASSWORD-9d1f3b5a",
}


class Login:
    """Accepts the one login, and remembers it was used (the password really travelled)."""

    def __init__(self) -> None:
        self.ok = 0

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        good = (
            isinstance(data, LoginPassword)
            and data.password.decode() == SECRETS["FASTIMPORT_CHAOS_SMTP_PASSWORD"]
        )
        self.ok += good
        return AuthResult(success=good)


def till_toml(tmp_path: Path, wc: str, shopify: str, smtp_port: int, printer_port: int) -> Path:
    def table(name: str, values: dict[str, Any]) -> list[str]:
        out = [name]
        for k, v in values.items():
            out.append(
                f"{k} = {str(v).lower()}"
                if isinstance(v, bool)
                else f'{k} = "{v}"'
                if isinstance(v, str)
                else f"{k} = {v}"
            )
        return out

    lines = [f'[database]\npath = "{tmp_path / "till.duckdb"}"']
    common = {"timezone": "Europe/Paris", "timeout": 5, "retries": 1}
    lines += table(
        "[[stores]]",
        {"name": "eshop", "platform": "woocommerce", "url": wc, "auth": "query", **common}
        | {"key_env": "FASTIMPORT_CHAOS_WC_KEY", "secret_env": "FASTIMPORT_CHAOS_WC_SECRET"},
    )
    lines += table(
        "[[stores]]",
        {
            "name": "shopify",
            "platform": "shopify",
            "url": shopify,
            "token_env": "FASTIMPORT_CHAOS_SHOPIFY",
            **common,
        },
    )
    lines += table("[seller]", SELLER)
    lines += table("[invoicing]", {"secret_env": SIGNING_ENV, "chunk": 50})
    lines += table(
        "[mail]",
        {"host": "127.0.0.1", "port": smtp_port, "starttls": False, "user_env": "FASTIMPORT_CHAOS_SMTP_USER"}
        | {
            "password_env": "FASTIMPORT_CHAOS_SMTP_PASSWORD",
            "from": "Boutique <factures@example.fr>",
            "timeout": 5,
        },
    )
    path = tmp_path / "fastimport.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    add_printers(path, network(printer_port))
    return path


async def test_no_secret_in_any_output_or_file(
    tmp_path: Path,
    shop_factory: ShopFactory,
    loopback_printer: LoopbackPrinter,  # noqa: F811
) -> None:
    _, wc = await shop_factory(
        platform="woocommerce",
        orders=60,
        start=W0,
        end=W1,
        consumer_key=SECRETS["FASTIMPORT_CHAOS_WC_KEY"],
        consumer_secret=SECRETS["FASTIMPORT_CHAOS_WC_SECRET"],
    )
    _, shopify = await shop_factory(
        platform="shopify", orders=60, start=W0, end=W1, shopify_token=SECRETS["FASTIMPORT_CHAOS_SHOPIFY"]
    )
    login, port = Login(), free_port()
    smtp = Controller(
        Inbox(),
        hostname="127.0.0.1",
        port=port,
        authenticator=login,
        auth_required=True,
        auth_require_tls=False,
    )
    smtp.start()
    toml = till_toml(tmp_path, wc, shopify, port, loopback_printer.port)
    environ = {**os.environ, **SECRETS, "FASTIMPORT_CHAOS_SMTP_USER": "caisse"}
    said: list[str] = []

    async def fastimport(*args: str, expect: int | None = 0, **extra: str) -> None:
        code, out, err = await harness.run(command(toml, *args), {**environ, **extra})
        said.append(f"$ fastimport {' '.join(args)} -> {code}\n{out}{err}")
        if expect is not None:
            check(code == expect, said[-1])

    try:
        await fastimport("import", "--since", "2026-03-23", "--until", "2026-03-31", "--json")
        await fastimport("catalog", "sync", "--json")
        await fastimport("orders", "--json")
        await fastimport("pending", "--json")
        # a long mail timeout: on a loaded machine 30 s of PDFs may not cover every mail (exit 1)
        await fastimport("invoice", "--pending", "--print", "--email", "--mail-timeout", "600", "--json")
        await fastimport("mail", "queue", "--json")
        await fastimport("mail", "retry", "--json")
        await fastimport("print", "queue", "--all", "--json")
        await fastimport("verify", "--json")
        await fastimport("close", "day", "--date", "2026-03-30", "--json", expect=None)
        # things going wrong: the shop refuses the keys, a signing key that is not this till's
        wrong = {"FASTIMPORT_CHAOS_WC_SECRET": WRONG_SECRET}
        await fastimport(
            "import", "--since", "2026-03-23", "--until", "2026-03-31", "--json", expect=1, **wrong
        )
        await fastimport("verify", "--json", expect=1, **{SIGNING_ENV: "CHAOS-WRONG-KEY-0000000000000000"})
    finally:
        smtp.stop()
    check(login.ok > 0, "the SMTP password was never used: the test proves nothing about it")
    written = {str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    written.pop("fastimport.toml")  # names the variables, never their values
    texts = {**written, "outputs": "\n".join(said).encode()}
    for name, value in [*SECRETS.items(), ("a secret the shop refused", WRONG_SECRET)]:
        leaks = [where for where, data in texts.items() if value.encode() in data]
        check(not leaks, f"{name} found in {leaks}")
