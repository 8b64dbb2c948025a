"""A faulty network on loopback: an asyncio TCP proxy between fastimport and the simulated shop.

Each new connection draws, with probability ``rate``, one fault for the first response it carries:

- ``reset``: the response cut mid-body by a TCP reset (``SO_LINGER`` 0);
- ``truncate``: the response cut mid-body by a clean close (fewer bytes than ``Content-Length``);
- ``stall``: the headers forwarded, then nothing (the client's timeout must fire);
- ``drip``: the whole response, in small pieces with pauses;
- ``drop``: the request reached the shop, the connection is closed before any answer.

Faults are drawn from a seeded RNG in the order connections arrive (that order depends on the scheduler,
so a seed replays the same mix of faults, not always on the same requests). ``injected`` counts the
faults that actually fired.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections import Counter

FAULTS = ("reset", "truncate", "stall", "drip", "drop")


class FaultyProxy:
    def __init__(self, target_port: int, rng: random.Random, rate: float = 0.3) -> None:
        self.target_port = target_port
        self.rng = rng
        self.rate = rate
        self.injected: Counter[str] = Counter()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def _draw(self) -> tuple[str | None, int]:
        """A fault (or None) for the next response, and how many bytes of its body pass before a cut."""
        fault = self.rng.choice(FAULTS) if self.rng.random() < self.rate else None
        return fault, self.rng.randint(1, 3000)

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            shop_r, shop_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_w.close()
            return
        up = asyncio.create_task(self._pipe(client_r, shop_w))
        try:
            await self._down(shop_r, client_w)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            up.cancel()
            for w in (client_w, shop_w):
                with contextlib.suppress(Exception):
                    w.close()
            self._tasks.discard(task)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
            writer.close()

    async def _down(self, shop_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        """Forward the shop's responses; each one that starts (``HTTP/``, keep-alive) draws its fault."""
        fault: str | None = None
        cut = 0
        buf = b""
        while data := await shop_r.read(65536):
            if data.startswith(b"HTTP/") and not buf:
                fault, cut = self._draw()
            if fault is None:
                client_w.write(data)
                await client_w.drain()
                continue
            if fault == "drop":
                self.injected[fault] += 1
                return _reset(client_w)
            if fault == "drip":
                self.injected[fault] += 1
                for i in range(0, len(data), 1024):
                    client_w.write(data[i : i + 1024])
                    await client_w.drain()
                    await asyncio.sleep(0.002)
                fault = None  # the rest of this response flows
                continue
            buf += data
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                continue
            if fault == "stall":
                self.injected[fault] += 1
                client_w.write(buf[: end + 4])
                await client_w.drain()
                await asyncio.sleep(3600)  # until the client gives up (or the proxy stops)
            if len(buf) < end + 4 + cut:
                continue  # not enough body yet to cut inside it
            self.injected[fault] += 1
            client_w.write(buf[: end + 4 + cut])
            await client_w.drain()
            if fault == "reset":
                return _reset(client_w)
            client_w.close()
            return None
        if buf:  # the response ended before the cut: it goes through whole
            client_w.write(buf)
            await client_w.drain()
        return None


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
