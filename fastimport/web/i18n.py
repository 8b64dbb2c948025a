"""Message catalogs: every string the shopkeeper reads, in gettext ``.po`` files read at start-up.

The message ids are English; ``locale/fr/LC_MESSAGES/messages.po`` holds the French.  Babel reads the
``.po`` file directly, so nothing is compiled at install.  A message missing from a catalog shows in
English rather than failing.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("fr", "en")


class Messages:
    def __init__(self, language: str) -> None:
        self.language = language
        self._singular: dict[str, str] = {}
        self._plural: dict[str, tuple[str, str]] = {}
        path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
        if path.exists():
            with path.open("rb") as f:
                catalog = read_po(f, locale=language)
            for message in catalog:
                if not message.id or message.fuzzy:
                    continue
                if isinstance(message.id, tuple | list):
                    strings = tuple(str(x) for x in message.string or ())
                    if all(strings):
                        self._plural[message.id[0]] = (
                            strings[0],
                            strings[1] if len(strings) > 1 else strings[0],
                        )
                elif message.string:
                    self._singular[message.id] = str(message.string)

    def gettext(self, message: str) -> str:
        return self._singular.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        forms = self._plural.get(singular)
        if forms is None:
            return singular if n == 1 else plural
        # French: 0 and 1 are singular.
        one = n in (0, 1) if self.language == "fr" else n == 1
        return forms[0] if one else forms[1]

    def known(self) -> set[str]:
        return set(self._singular) | set(self._plural)


# The English words of the library's ``warnings`` (``pending --json``), as message ids.
_WARNINGS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(\d+) unknown articles?$"), "unknown article"),
    (re.compile(r"^unknown customer$"), "unknown customer"),
    (re.compile(r"^unpaid$"), "unpaid"),
    (re.compile(r"^(.+) on the shop$"), "%(status)s on the shop"),
    (re.compile(r"^shop changed it after invoicing$"), "shop changed it after invoicing"),
]

# The library's refusals (plain English sentences), recognised by their words.
_REFUSALS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"was already shipped"), "Already shipped."),
    (re.compile(r"invoice it before shipping"), "Invoice the order first."),
    (re.compile(r"already fully credited"), "This invoice is already fully credited."),
    (re.compile(r"^no carrier for"), "Choose the carrier."),
    (
        re.compile(r"already invoiced"),
        "Already invoiced: an invoice is never issued twice (a credit note corrects it).",
    ),
    (re.compile(r"is unpaid"), "The order is not paid: it is not invoiced."),
    (re.compile(r"cancelled|refunded|failed|voided"), "The order is cancelled: there is nothing to do."),
    (
        re.compile(r"is already (prepared|invoiced|shipped)"),
        "This order is already past preparation: no slip.",
    ),
    (re.compile(r"no printer"), "No printer is configured."),
    (re.compile(r"not invoiced|before it is invoiced|invoice it first"), "Invoice the order first."),
]


def translate_warning(messages: Messages, warning: str) -> str:
    for pattern, msgid in _WARNINGS:
        match = pattern.match(warning)
        if match is None:
            continue
        if msgid == "unknown article":
            n = int(match.group(1))
            return messages.ngettext("%(n)d unknown article", "%(n)d unknown articles", n) % {"n": n}
        if msgid == "%(status)s on the shop":
            return messages.gettext(msgid) % {"status": match.group(1)}
        return messages.gettext(msgid)
    return warning


def translate_refusal(messages: Messages, reason: str) -> str:
    """A library refusal in the page's language; an unknown one is shown as the library wrote it."""
    for pattern, msgid in _REFUSALS:
        if pattern.search(reason):
            return messages.gettext(msgid)
    return reason
