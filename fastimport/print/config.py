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
    paper_check = true        # ask a network printer for its paper status (DLE EOT 4) first
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from fastimport.errors import ConfigError
from fastimport.print import _escpos
from fastimport.print.ticket import Paper

KINDS: Final[tuple[str, ...]] = ("network", "usb", "serial", "cups", "file")
DEFAULT_PROFILE: Final[str] = "TM-T20II"
DEFAULT_CODEPAGE: Final[str] = "CP858"
DEFAULT_TIMEOUT: Final[float] = 5.0
DEFAULT_PORT: Final[int] = 9100
DEFAULT_BAUDRATE: Final[int] = 9600

_COMMON_KEYS = frozenset({"name", "kind", "profile", "columns", "codepage", "timeout"})
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
        return paper_for(self.profile, self.codepage, self.columns)


def paper_for(
    profile: str = DEFAULT_PROFILE, codepage: str = DEFAULT_CODEPAGE, columns: int | None = None
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
    who = f"printer '{name}'"

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(f"{who}: {message}", key=f"{path}.{key}", printer=name)

    unknown = sorted(set(entry) - _ALL_KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key '{unknown[0]}' (known keys: {', '.join(sorted(_ALL_KEYS))})")

    kind = entry.get("kind")
    if kind is None:
        raise fail("kind", f"kind is missing (one of {', '.join(KINDS)})")
    if kind not in KINDS:
        raise fail("kind", f"kind must be one of {', '.join(KINDS)} (got {kind!r})")
    foreign = sorted((set(entry) - _COMMON_KEYS) - _KIND_KEYS[kind])
    if foreign:
        raise fail(foreign[0], f"key '{foreign[0]}' does not apply to a {kind} printer")

    def text(key: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = entry.get(key, default)
        if value is None:
            if required:
                raise fail(key, f"{key} is required for a {kind} printer")
            return None
        if not isinstance(value, str) or not value.strip():
            raise fail(key, f"{key} must be a non-empty string (got {value!r})")
        return value.strip()

    def integer(key: str, default: int | None, low: int, high: int) -> int | None:
        value = entry.get(key, default)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = int(value, 0)
            except ValueError:
                raise fail(key, f"{key} must be a whole number (got {value!r})") from None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise fail(key, f"{key} must be a whole number from {low} to {high} (got {value!r})")
        return value

    profile = text("profile", default=DEFAULT_PROFILE) or DEFAULT_PROFILE
    all_profiles = _escpos.profiles()
    if profile not in all_profiles:
        close = [p for p in all_profiles if p.lower().startswith(profile.lower()[:4])]
        hint = f"; did you mean {', '.join(close[:5])}?" if close else ""
        raise fail("profile", f"unknown python-escpos profile {profile!r}{hint}")
    columns = integer("columns", _profile_columns(all_profiles[profile]), 16, 96)
    assert columns is not None
    codepage = (text("codepage", default=DEFAULT_CODEPAGE) or DEFAULT_CODEPAGE).upper()
    pages = _escpos.profile_code_pages(profile)
    if codepage not in pages:
        raise fail(
            "codepage",
            f"profile {profile} has no code page {codepage} usable here (it has: {', '.join(sorted(pages))})",
        )

    timeout_value = entry.get("timeout", DEFAULT_TIMEOUT)
    if (
        isinstance(timeout_value, bool)
        or not isinstance(timeout_value, int | float)
        or not 0 < timeout_value <= 300
    ):
        raise fail(
            "timeout", f"timeout must be a number of seconds above 0, at most 300 (got {timeout_value!r})"
        )
    paper_check = entry.get("paper_check", True)
    if not isinstance(paper_check, bool):
        raise fail("paper_check", f"paper_check must be true or false (got {paper_check!r})")

    host = text("host", required=kind == "network")
    port = integer("port", DEFAULT_PORT, 1, 65535)
    vendor_id = integer("vendor_id", None, 0, 0xFFFF)
    product_id = integer("product_id", None, 0, 0xFFFF)
    if kind == "usb":
        for key, value in (("vendor_id", vendor_id), ("product_id", product_id)):
            if value is None:
                raise fail(key, f"{key} is required for a usb printer (e.g. 0x04b8)")
    baudrate = integer("baudrate", DEFAULT_BAUDRATE, 50, 4_000_000)

    return PrinterConfig(
        name=name,
        kind=kind,
        profile=profile,
        columns=columns,
        codepage=codepage,
        timeout=float(timeout_value),
        host=host,
        port=port or DEFAULT_PORT,
        paper_check=paper_check,
        vendor_id=vendor_id,
        product_id=product_id,
        device=text("device", required=kind == "serial"),
        baudrate=baudrate or DEFAULT_BAUDRATE,
        cups_name=text("cups_name", required=kind == "cups"),
        path=text("path", required=kind == "file"),
    )
