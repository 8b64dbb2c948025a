"""Printers from the configuration file: ``[printer]`` or ``[[printers]]``.

Keys (all optional except ``kind`` and the connection key of that kind)::

    [printer]                 # or [[printers]] with a name each
    name = "comptoir"         # default "default"
    kind = "network"          # network | usb | serial | cups | file
    host = "192.168.1.50"     # network
    port = 9100               # network, default 9100
    vendor_id = 0x04b8        # usb (integer or "0x04b8")
    product_id = 0x0e15       # usb
    device = "/dev/ttyUSB0"   # serial
    baudrate = 9600           # serial, default 9600
    cups_name = "TM-T20"      # cups
    path = "/dev/usb/lp0"     # file
    profile = "TM-T20II"      # python-escpos profile, default TM-T20II (48 columns)
    columns = 48              # default: the profile's font A width
    codepage = "CP858"        # one fixed code page, must be on the profile
    timeout = 5               # seconds
    max_text_lines = 6        # a shop name or note on a ticket: at most this many lines, then "..."
    paper_check = true        # ask a network printer for its paper status (DLE EOT 4) first
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import msgspec
from msgspec import UNSET, UnsetType

from fastimport.errors import ConfigError
from fastimport.print import _escpos
from fastimport.print.ticket import Paper
from fastimport.typed import convert, invalid

KINDS: Final[tuple[str, ...]] = ("network", "usb", "serial", "cups", "file")
DEFAULT_PROFILE: Final[str] = "TM-T20II"
DEFAULT_CODEPAGE: Final[str] = "CP858"
DEFAULT_TIMEOUT: Final[float] = 5.0
DEFAULT_PORT: Final[int] = 9100
DEFAULT_BAUDRATE: Final[int] = 9600

_COMMON_KEYS = frozenset({"name", "kind", "profile", "columns", "codepage", "timeout", "max_text_lines"})
DEFAULT_MAX_TEXT_LINES: Final[int] = 6
_KIND_KEYS: Final[dict[str, frozenset[str]]] = {
    "network": frozenset({"host", "port", "paper_check"}),
    "usb": frozenset({"vendor_id", "product_id"}),
    "serial": frozenset({"device", "baudrate"}),
    "cups": frozenset({"cups_name"}),
    "file": frozenset({"path"}),
}
_ALL_KEYS = _COMMON_KEYS.union(*_KIND_KEYS.values())


@dataclass(frozen=True, slots=True, kw_only=True)
class PrinterConfig:
    name: str = "default"
    kind: str
    profile: str = DEFAULT_PROFILE
    columns: int
    codepage: str = DEFAULT_CODEPAGE
    timeout: float = DEFAULT_TIMEOUT
    host: str | None = None
    port: int = DEFAULT_PORT
    paper_check: bool = True
    vendor_id: int | None = None
    product_id: int | None = None
    device: str | None = None
    baudrate: int = DEFAULT_BAUDRATE
    cups_name: str | None = None
    path: str | None = None
    max_text_lines: int = DEFAULT_MAX_TEXT_LINES

    @property
    def where(self) -> str:
        """Where the printer is, in words: ``192.168.1.50:9100``, ``/dev/usb/lp0``..."""
        if self.kind == "network":
            return f"{self.host}:{self.port}"
        if self.kind == "usb":
            return f"USB {self.vendor_id or 0:04x}:{self.product_id or 0:04x}"
        if self.kind == "serial":
            return f"{self.device} at {self.baudrate} baud"
        if self.kind == "cups":
            return f"CUPS queue {self.cups_name}"
        return str(self.path)

    def describe(self) -> str:
        return f"printer '{self.name}' ({self.where})"

    def paper(self) -> Paper:
        """What layouts need to know about this printer."""
        return paper_for(self.profile, self.codepage, self.columns, self.max_text_lines)


def paper_for(
    profile: str = DEFAULT_PROFILE,
    codepage: str = DEFAULT_CODEPAGE,
    columns: int | None = None,
    max_text_lines: int = DEFAULT_MAX_TEXT_LINES,
) -> Paper:
    """A :class:`Paper` for a python-escpos profile (``KeyError`` / ``LookupError`` if unknown)."""
    data = _escpos.profiles()[profile]
    pages = _escpos.profile_code_pages(profile)
    cols = columns if columns is not None else _profile_columns(data)
    pixels = data.get("media", {}).get("width", {}).get("pixels")
    pixel_width = pixels if isinstance(pixels, int) and pixels > 0 else cols * 12
    features = data.get("features", {})
    return Paper(
        columns=cols,
        codepage=codepage.upper(),
        codec=_escpos.python_codec(codepage),
        codepage_number=pages[codepage.upper()],
        pixel_width=pixel_width,
        native_qr=bool(features.get("qrCode")),
        code128=bool(features.get("barcodeB")),
        max_text_lines=max_text_lines,
    )


def _profile_columns(data: Mapping[str, Any]) -> int:
    fonts = data.get("fonts", {})
    font_a = fonts.get("0") or {}
    columns = font_a.get("columns")
    return int(columns) if isinstance(columns, int) else 42


def parse_printers(raw: Mapping[str, Any]) -> list[PrinterConfig]:
    """Read ``[printer]`` or ``[[printers]]`` from the whole parsed TOML document.

    Returns an empty list when neither is present.  Raises :class:`ConfigError`
    naming the bad key (``err.key``, e.g. ``"printers[0].kind"``).
    """
    single = raw.get("printer")
    several = raw.get("printers")
    if single is not None and several is not None:
        raise ConfigError(
            "use either [printer] (one printer) or [[printers]] (several), not both", key="printers"
        )
    entries: list[tuple[str, Any]]
    if single is not None:
        entries = [("printer", single)]
    elif several is not None:
        if not isinstance(several, list):
            raise ConfigError("[[printers]] must be a list of tables", key="printers")
        entries = [(f"printers[{i}]", entry) for i, entry in enumerate(several)]
    else:
        return []
    printers: list[PrinterConfig] = []
    seen: dict[str, str] = {}
    for path, entry in entries:
        printer = _parse_one(path, entry, named=several is not None and len(entries) > 1)
        if printer.name in seen:
            raise ConfigError(
                f"printer '{printer.name}' is defined twice ({seen[printer.name]} and {path})",
                key=f"{path}.name",
            )
        seen[printer.name] = path
        printers.append(printer)
    return printers


class PrinterTable(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One ``[printer]`` / ``[[printers]]`` table as written; :class:`PrinterConfig` is what it resolves to.

    Keys left out stay UNSET, so a key of another kind (``host`` on a file printer) is told apart
    from a default.  Ranges keep their "from low to high" wording, hence the checks by hand.
    """

    name: str | UnsetType = UNSET
    kind: str  # one of KINDS, checked below to list them in this order (msgspec sorts a Literal's values)
    profile: str = DEFAULT_PROFILE
    columns: int | str | UnsetType = UNSET
    codepage: str = DEFAULT_CODEPAGE
    timeout: float = DEFAULT_TIMEOUT
    host: str | UnsetType = UNSET
    port: int | str | UnsetType = UNSET
    paper_check: bool | UnsetType = UNSET
    vendor_id: int | str | UnsetType = UNSET  # any whole number may be text: 0x04b8 or "0x04b8"
    product_id: int | str | UnsetType = UNSET
    device: str | UnsetType = UNSET
    baudrate: int | str | UnsetType = UNSET
    cups_name: str | UnsetType = UNSET
    path: str | UnsetType = UNSET
    max_text_lines: int | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise invalid("kind", f"must be one of {', '.join(KINDS)}")
        given = {k for k in self.__struct_fields__ if getattr(self, k) is not UNSET}
        foreign = sorted((given & _ALL_KEYS) - _COMMON_KEYS - _KIND_KEYS[self.kind])
        if foreign:
            raise invalid(foreign[0], f"does not apply to a {self.kind} printer")
        for key in ("profile", "codepage", "host", "device", "cups_name", "path"):
            value = getattr(self, key)
            if isinstance(value, str) and not value.strip():
                raise invalid(key, "must be a non-empty string")
        for key in _REQUIRED[self.kind]:
            if getattr(self, key) is UNSET:
                raise invalid(key, f"is required for a {self.kind} printer{_EXAMPLE.get(key, '')}")
        all_profiles = _escpos.profiles()
        profile = self.profile.strip()
        if profile not in all_profiles:
            close = [p for p in all_profiles if p.lower().startswith(profile.lower()[:4])]
            hint = f"; did you mean {', '.join(close[:5])}?" if close else ""
            raise invalid("profile", f"{profile!r} is an unknown python-escpos profile{hint}")
        pages = _escpos.profile_code_pages(profile)
        codepage = self.codepage.strip().upper()
        if codepage not in pages:
            raise invalid(
                "codepage",
                f"{self.codepage!r}: profile {profile} has no code page {codepage} usable here "
                f"(it has: {', '.join(sorted(pages))})",
            )
        if not 0 < self.timeout <= 300:
            raise invalid("timeout", "must be a number of seconds above 0, at most 300")
        for key, (low, high) in _RANGES.items():
            value = getattr(self, key)
            if value is UNSET:
                continue
            number = _whole(value)
            if number is None:
                raise invalid(key, "must be a whole number")
            if not low <= number <= high:
                raise invalid(key, f"must be a whole number from {low} to {high}")

    def resolve(self, name: str) -> PrinterConfig:
        profile = self.profile.strip()
        return PrinterConfig(
            name=name,
            kind=self.kind,
            profile=profile,
            columns=_whole(self.columns) or _profile_columns(_escpos.profiles()[profile]),
            codepage=self.codepage.strip().upper(),
            timeout=float(self.timeout),
            host=_text(self.host),
            port=_whole(self.port) or DEFAULT_PORT,
            paper_check=self.paper_check if isinstance(self.paper_check, bool) else True,
            vendor_id=_whole(self.vendor_id),
            product_id=_whole(self.product_id),
            device=_text(self.device),
            baudrate=_whole(self.baudrate) or DEFAULT_BAUDRATE,
            cups_name=_text(self.cups_name),
            path=_text(self.path),
            max_text_lines=_whole(self.max_text_lines) or DEFAULT_MAX_TEXT_LINES,
        )


_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "network": ("host",),
    "usb": ("vendor_id", "product_id"),
    "serial": ("device",),
    "cups": ("cups_name",),
    "file": ("path",),
}
_EXAMPLE = {"vendor_id": " (e.g. 0x04b8)", "product_id": " (e.g. 0x0e15)"}
_RANGES: Final[dict[str, tuple[int, int]]] = {
    "columns": (16, 96),
    "port": (1, 65535),
    "vendor_id": (0, 0xFFFF),
    "product_id": (0, 0xFFFF),
    "baudrate": (50, 4_000_000),
    "max_text_lines": (1, 100),
}


def _whole(value: int | str | UnsetType) -> int | None:
    """An integer key, which USB ids may also give as text (``"0x04b8"``); None if absent or not a number."""
    if isinstance(value, UnsetType):
        return None
    if isinstance(value, str):
        try:
            return int(value, 0)
        except ValueError:
            return None
    return value


def _text(value: str | UnsetType) -> str | None:
    return None if isinstance(value, UnsetType) else value.strip()


def _parse_one(path: str, entry: Any, *, named: bool) -> PrinterConfig:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{path} must be a table of keys", key=path)
    name_value = entry.get("name")
    if name_value is None:
        if named:
            raise ConfigError(f"{path}: each of several printers needs a name", key=f"{path}.name")
        name_value = "default"
    if not isinstance(name_value, str) or not name_value.strip():
        raise ConfigError(f"{path}: name must be a non-empty string (got {name_value!r})", key=f"{path}.name")
    name = name_value.strip()
    # Checked before the table's types so an unknown key is named even next to other mistakes.
    unknown = sorted(set(entry) - _ALL_KEYS)
    if unknown:
        raise ConfigError(
            f"printer '{name}': unknown key '{unknown[0]}' (known keys: {', '.join(sorted(_ALL_KEYS))})",
            key=f"{path}.{unknown[0]}",
            printer=name,
        )
    if "kind" not in entry:
        raise ConfigError(
            f"printer '{name}': kind is missing (one of {', '.join(KINDS)})", key=f"{path}.kind", printer=name
        )
    try:
        table = convert(entry, PrinterTable)
    except ConfigError as exc:
        # The message names the key within the printer; say which printer, and give the full path as key.
        raise ConfigError(f"printer '{name}': {exc.message}", key=f"{path}.{exc.key}", printer=name) from exc  # type: ignore[attr-defined]
    return table.resolve(name)
