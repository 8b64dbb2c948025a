"""parse_printers: [printer] / [[printers]] and errors naming the key."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from fastimport.errors import ConfigError
from fastimport.print.config import parse_printers


def test_single_printer_defaults() -> None:
    raw = tomllib.loads('[printer]\nkind = "network"\nhost = "192.168.1.50"\n')
    [printer] = parse_printers(raw)
    assert (
        printer.name,
        printer.port,
        printer.profile,
        printer.columns,
        printer.codepage,
        printer.timeout,
    ) == ("default", 9100, "TM-T20II", 48, "CP858", 5.0)
    assert printer.describe() == "printer 'default' (192.168.1.50:9100)"


def test_several_printers() -> None:
    raw = tomllib.loads(
        """
        [[printers]]
        name = "comptoir"
        kind = "network"
        host = "10.0.0.5"
        profile = "TM-T88V"
        [[printers]]
        name = "atelier"
        kind = "usb"
        vendor_id = "0x04b8"
        product_id = 0x0e15
        [[printers]]
        name = "mini"
        kind = "file"
        path = "/dev/usb/lp0"
        profile = "Sunmi-V2"
        columns = 30
        """
    )
    printers = parse_printers(raw)
    assert [p.name for p in printers] == ["comptoir", "atelier", "mini"]
    assert printers[0].columns == 42
    assert printers[1].vendor_id == 0x04B8
    assert printers[2].columns == 30
    assert parse_printers({}) == []


@pytest.mark.parametrize(
    ("raw", "key", "words"),
    [
        (
            {"printers": [{"name": "comptoir", "kind": "wifi"}]},
            "printers[0].kind",
            "printer 'comptoir': kind must be one of network, usb, serial, cups, file (got 'wifi')",
        ),
        ({"printer": {"kind": "network"}}, "printer.host", "host is required"),
        ({"printer": {"kind": "network", "host": "x", "port": 70000}}, "printer.port", "from 1 to 65535"),
        ({"printer": {"kind": "network", "host": "x", "profile": "TM-XYZ"}}, "printer.profile", "unknown"),
        (
            {"printer": {"kind": "network", "host": "x", "profile": "TM-T88II"}},
            "printer.codepage",
            "has no code page CP858",
        ),
        ({"printer": {"kind": "network", "host": "x", "timeout": 0}}, "printer.timeout", "timeout"),
        ({"printer": {"kind": "network", "host": "x", "hots": 1}}, "printer.hots", "unknown key 'hots'"),
        ({"printer": {"kind": "usb", "vendor_id": 1}}, "printer.product_id", "product_id is required"),
        ({"printer": {"kind": "file", "path": "/x", "host": "y"}}, "printer.host", "does not apply"),
        (
            {"printers": [{"kind": "file", "path": "/a"}, {"kind": "file", "path": "/b"}]},
            "printers[0].name",
            "needs a name",
        ),
        (
            {
                "printers": [
                    {"name": "a", "kind": "file", "path": "/a"},
                    {"name": "a", "kind": "file", "path": "/b"},
                ]
            },
            "printers[1].name",
            "defined twice",
        ),
        ({"printer": {"kind": "file", "path": "/a"}, "printers": []}, "printers", "not both"),
    ],
)
def test_bad_values_name_the_key(raw: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_printers(raw)
    assert info.value.key == key
    assert words in str(info.value)


def test_whole_numbers_may_be_text_as_before() -> None:
    [printer] = parse_printers({"printer": {"kind": "network", "host": "x", "port": "9100", "columns": "32"}})
    assert (printer.port, printer.columns) == (9100, 32)


@pytest.mark.parametrize(
    ("raw", "key", "words"),
    [
        (
            {"printer": {"kind": "network", "host": "x", "paper_check": "yes"}},
            "printer.paper_check",
            "true or false",
        ),
        (
            {"printer": {"kind": "usb", "vendor_id": "0xzz", "product_id": 1}},
            "printer.vendor_id",
            "whole number",
        ),
        (
            {"printer": {"host": "x"}},
            "printer.kind",
            "kind is missing (one of network, usb, serial, cups, file)",
        ),
    ],
)
def test_typed_table_errors_name_the_printer_and_key(raw: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_printers(raw)
    assert info.value.key == key
    assert str(info.value).startswith("printer 'default': ") and words in str(info.value)
