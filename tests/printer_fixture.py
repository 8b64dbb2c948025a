"""A loopback ESC/POS printer and an ESC/POS decoder, for the print tests.

Import explicitly: ``from tests.printer_fixture import LoopbackPrinter, decode, loopback_printer``.

:class:`LoopbackPrinter` is a threaded TCP server on 127.0.0.1 (free port)
that stores the bytes of each connection and can play a printer that is
offline (listening socket closed: connection refused), slow (reads in small
chunks with a delay), out of paper (answers ``DLE EOT 4`` with the paper-out
bits), silent (never answers status queries), stalled (never reads), and
comes back online on the same port.

:func:`decode` turns ESC/POS bytes back into printed text lines, QR and
barcode payloads, cuts, INITs and drawer pulses, independently of the
renderer under test.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

PAPER_OK = 0x12
PAPER_NEAR_END = 0x1E
PAPER_OUT = 0x72
ONLINE = 0x12


@dataclass
class Connection:
    data: bytes = b""
    status_queries: int = 0
    complete: bool = False  # the client closed its side cleanly


class LoopbackPrinter:
    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.paper = PAPER_OK
        self.answer_status = True
        self.read_delay = 0.0
        self.chunk = 65536
        self.stall = False
        self.rcvbuf: int | None = None  # small receive buffer (set before start/come_online)
        self.connections: list[Connection] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._handlers: list[threading.Thread] = []
        self._closing = threading.Event()

    # -- life cycle ----------------------------------------------------------------
    def start(self) -> LoopbackPrinter:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.rcvbuf:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        listener.bind((self.host, self.port))
        self.port = listener.getsockname()[1]
        listener.listen(16)
        listener.settimeout(0.05)
        self._listener = listener
        stop = threading.Event()
        self._stop_accept = stop
        self._accept_thread = threading.Thread(target=self._accept_loop, args=(listener, stop), daemon=True)
        self._accept_thread.start()
        return self

    def go_offline(self) -> None:
        """Close the listening socket: new connections are refused."""
        self._stop_accept.set()
        if self._accept_thread is not None:
            self._accept_thread.join()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def come_online(self) -> None:
        self.start()

    def close(self) -> None:
        self._closing.set()
        self.go_offline()
        for thread in self._handlers:
            thread.join(timeout=2)

    # -- serving -------------------------------------------------------------------
    def _accept_loop(self, listener: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            record = Connection()
            with self._lock:
                self.connections.append(record)
            thread = threading.Thread(target=self._serve, args=(conn, record), daemon=True)
            self._handlers.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, record: Connection) -> None:
        buf = bytearray()
        in_prefix = True
        conn.settimeout(0.05)
        try:
            while not self._closing.is_set():
                if self.stall:
                    time.sleep(0.02)
                    continue
                if self.read_delay:
                    time.sleep(self.read_delay)
                try:
                    chunk = conn.recv(self.chunk)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not chunk:
                    record.complete = True
                    break
                buf += chunk
                # Status queries are answered only before the job's data (like the tests' worker sends them).
                while in_prefix and len(buf) >= 3 and buf[0] == 0x10 and buf[1] == 0x04:
                    query = buf[2]
                    del buf[:3]
                    record.status_queries += 1
                    if self.answer_status:
                        conn.sendall(bytes([self.paper if query == 4 else ONLINE]))
                if buf and not (buf[0] == 0x10 and (len(buf) < 2 or buf[1] == 0x04)):
                    in_prefix = False
                record.data = bytes(buf)
        finally:
            record.data = bytes(buf)
            conn.close()

    # -- inspection ----------------------------------------------------------------
    def snapshot(self) -> list[Connection]:
        with self._lock:
            return list(self.connections)

    def tickets(self) -> list[bytes]:
        """The bytes of every connection that delivered something."""
        return [c.data for c in self.snapshot() if c.data]

    def wait_for_tickets(self, count: int, timeout: float = 10.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [c.data for c in self.snapshot() if c.complete and c.data]
            if len(done) >= count:
                return done
            time.sleep(0.01)
        raise AssertionError(f"the loopback printer got {len(self.tickets())} tickets, expected {count}")


@pytest.fixture
def loopback_printer() -> Iterator[LoopbackPrinter]:
    printer = LoopbackPrinter().start()
    try:
        yield printer
    finally:
        printer.close()


# -- decoding -------------------------------------------------------------------------

ONE_PARAM_ESC = {0x21, 0x2D, 0x33, 0x45, 0x47, 0x4A, 0x4D, 0x52, 0x61, 0x64, 0x74, 0x7B, 0x20, 0x56}
ONE_PARAM_GS = {0x21, 0x42, 0x48, 0x66, 0x68, 0x77, 0x62}


@dataclass
class Decoded:
    lines: list[str] = field(default_factory=list)
    qr: list[str] = field(default_factory=list)
    barcodes: list[str] = field(default_factory=list)
    cuts: list[int] = field(default_factory=list)  # byte offsets of GS V
    inits: list[int] = field(default_factory=list)  # byte offsets of ESC @
    drawer_pulses: int = 0
    codepages: list[int] = field(default_factory=list)
    stray_controls: list[int] = field(default_factory=list)
    unknown: list[bytes] = field(default_factory=list)
    length: int = 0

    @property
    def ends_with_cut(self) -> bool:
        return bool(self.cuts) and self.cuts[-1] >= self.length - 4


def decode(data: bytes, codec: str = "cp858", columns: int = 48) -> Decoded:
    """Printed lines of an ESC/POS stream (double-width characters followed by a space)."""
    out = Decoded(length=len(data))
    line: list[str] = []
    double = False
    n = len(data)
    i = 0

    def flush() -> None:
        out.lines.append("".join(line).rstrip(" "))
        line.clear()

    while i < n:
        b = data[i]
        if b == 0x0A:
            flush()
            i += 1
        elif b == 0x1B and i + 1 < n:
            c = data[i + 1]
            if c == 0x40:
                out.inits.append(i)
                double = False
                i += 2
            elif c == 0x70:
                out.drawer_pulses += 1
                i += 5
            elif c in ONE_PARAM_ESC:
                param = data[i + 2] if i + 2 < n else 0
                if c == 0x21:
                    double = bool(param & 0x20)
                elif c == 0x74:
                    out.codepages.append(param)
                elif c == 0x64 and line:
                    flush()
                i += 3
            else:
                out.unknown.append(data[i : i + 2])
                i += 2
        elif b == 0x1D and i + 1 < n:
            c = data[i + 1]
            if c == 0x56:
                out.cuts.append(i)
                m = data[i + 2]
                i += 3 if m in (0, 1, 48, 49) else 4
            elif c == 0x6B:
                m = data[i + 2]
                if m >= 65:
                    length = data[i + 3]
                    payload = data[i + 4 : i + 4 + length].decode("ascii")
                    i += 4 + length
                else:
                    end = data.index(b"\x00", i + 3)
                    payload = data[i + 3 : end].decode("ascii")
                    i = end + 1
                if payload[:1] == "{" and payload[1:2] in "ABC":
                    payload = payload[2:].replace("{{", "{")  # "{{" is one "{" in CODE128 data
                out.barcodes.append(payload)
                if line:
                    flush()
                out.lines.append(f"[CODE128: {payload}]".center(columns).rstrip(" "))
            elif c == 0x28 and i + 4 < n:
                length = data[i + 3] + 256 * data[i + 4]
                body = data[i + 5 : i + 5 + length]
                if data[i + 2] == 0x6B and body[:2] == b"1P":
                    payload = body[3:].decode("utf-8")
                    out.qr.append(payload)
                    if line:
                        flush()
                    out.lines.append(f"[QR: {payload}]".center(columns).rstrip(" "))
                i += 5 + length
            elif c in ONE_PARAM_GS:
                if c == 0x21:
                    double = bool(data[i + 2] & 0xF0)
                i += 3
            else:
                out.unknown.append(data[i : i + 2])
                i += 2
        elif b == 0x10 and i + 2 < n and data[i + 1] == 0x04:
            i += 3
        elif b < 0x20 or b == 0x7F:
            out.stray_controls.append(b)
            i += 1
        else:
            char = bytes([b]).decode(codec)
            line.append(char + " " if double else char)
            i += 1
    if line:
        flush()
    return out
