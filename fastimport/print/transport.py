"""Sending rendered bytes to a printer through python-escpos.

Every failure becomes a :class:`PrinterUnavailable` (transient: the job stays
queued) whose message says, in plain words, which printer and why.
``maybe_printed`` tells whether some bytes may already have reached the
printer (the job might print twice when retried).
"""

from __future__ import annotations

import errno
import os
import socket
from typing import Any, Protocol

from fastimport.errors import PrintError
from fastimport.print._escpos import escpos_module
from fastimport.print.config import PrinterConfig

# How long to wait for a DLE EOT answer before deciding the printer does not answer
# status queries (then we stop asking it): status is advice, not truth.
STATUS_WAIT_SECONDS = 0.5
# After the last byte, how long to wait for the printer to close its side
# (it has then read everything).  A printer that keeps the connection open is
# taken at its word once sendall() returned.
CLOSE_WAIT_SECONDS = 2.0


class PrinterUnavailable(PrintError):
    """The printer could not take the job now (offline, refused, timed out, no paper)."""

    transient = True


class Transport(Protocol):
    def send(self, payload: bytes) -> None:
        """Deliver ``payload``; raise :class:`PrinterUnavailable` if it was not accepted."""


def _reason(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "no answer (timed out)"
    if isinstance(exc, socket.gaierror):
        return "unknown host name"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the printer"
    if isinstance(exc, BrokenPipeError):
        return "the printer closed the connection"
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "no route to the printer (host unreachable)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class NetworkTransport:
    """Raw TCP (port 9100) through ``escpos.printer.Network``."""

    def __init__(self, config: PrinterConfig) -> None:
        self.config = config
        self.answers_status: bool | None = None  # None: not known yet

    def _unavailable(self, what: str, *, maybe_printed: bool = False) -> PrinterUnavailable:
        return PrinterUnavailable(
            f"{self.config.describe()} {what}", printer=self.config.name, maybe_printed=maybe_printed
        )

    def paper_status(self, printer: Any) -> int | None:
        """2 ok, 1 near end, 0 out, None when the printer does not answer."""
        if not self.config.paper_check or self.answers_status is False:
            return None
        sock: socket.socket = printer.device
        sock.settimeout(min(self.config.timeout, STATUS_WAIT_SECONDS))
        try:
            status = int(printer.paper_status())
        except TimeoutError:
            self.answers_status = False
            return None
        finally:
            sock.settimeout(self.config.timeout)
        self.answers_status = True
        return status

    def send(self, payload: bytes) -> None:
        escpos = escpos_module()
        cfg = self.config
        printer: Any = escpos.printer.Network(cfg.host, cfg.port, timeout=cfg.timeout, profile=cfg.profile)
        try:
            printer.open()
        except escpos.exceptions.DeviceNotFoundError as exc:
            raise self._unavailable(f"is not answering: {_reason(exc.__context__)}") from exc
        sent = False
        try:
            sock: socket.socket = printer.device
            try:
                status = self.paper_status(printer)
            except OSError as exc:
                raise self._unavailable(f"is not answering: {_reason(exc)}") from exc
            if status == 0:
                raise self._unavailable("is out of paper (or its cover is open)")
            sent = True
            printer._raw(payload)  # sendall
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(min(cfg.timeout, CLOSE_WAIT_SECONDS))
            try:
                while sock.recv(256):  # late status bytes, if any, are dropped
                    pass
            except TimeoutError:
                pass
        except PrinterUnavailable:
            raise
        except OSError as exc:
            raise self._unavailable(
                f"did not take the whole ticket: {_reason(exc)}", maybe_printed=sent
            ) from exc
        finally:
            printer.close()


class DeviceTransport:
    """USB, serial, CUPS and file printers: open, write, close."""

    def __init__(self, config: PrinterConfig) -> None:
        self.config = config

    def _printer(self) -> Any:
        escpos = escpos_module()
        cfg = self.config
        kinds = escpos.printer
        try:
            if cfg.kind == "usb":
                return kinds.Usb(
                    cfg.vendor_id, cfg.product_id, timeout=int(cfg.timeout * 1000), profile=cfg.profile
                )
            if cfg.kind == "serial":
                return kinds.Serial(
                    devfile=cfg.device, baudrate=cfg.baudrate, timeout=cfg.timeout, profile=cfg.profile
                )
            if cfg.kind == "cups":
                return kinds.CupsPrinter(cfg.cups_name, profile=cfg.profile)
            return kinds.File(devfile=cfg.path, profile=cfg.profile)
        except Exception as exc:  # missing optional dependency (pyusb, pyserial, pycups)
            raise PrinterUnavailable(
                f"{cfg.describe()} cannot be used: {_reason(exc)}", printer=cfg.name, maybe_printed=False
            ) from exc

    def _append_to_file(self, payload: bytes) -> None:
        """A ``file`` printer is often a device or a spool: every ticket is appended, never overwritten."""
        cfg = self.config
        path = cfg.path or ""
        folder = os.path.dirname(path) or "."
        if not os.path.isdir(folder):
            raise PrinterUnavailable(
                f"{cfg.describe()}: the path '{path}' does not exist (no folder '{folder}')",
                printer=cfg.name,
                maybe_printed=False,
                transient=False,
            )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise PrinterUnavailable(
                f"{cfg.describe()} cannot be opened: {_reason(exc)}", printer=cfg.name, maybe_printed=False
            ) from exc
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
        except OSError as exc:
            raise PrinterUnavailable(
                f"{cfg.describe()} did not take the whole ticket: {_reason(exc)}",
                printer=cfg.name,
                maybe_printed=True,
            ) from exc
        finally:
            os.close(fd)

    def send(self, payload: bytes) -> None:
        cfg = self.config
        if cfg.kind == "file":
            self._append_to_file(payload)
            return
        printer = self._printer()
        escpos = escpos_module()
        try:
            printer.open()
        except escpos.exceptions.DeviceNotFoundError as exc:
            raise PrinterUnavailable(
                f"{cfg.describe()} is not answering: {_reason(exc.__context__ or exc)}",
                printer=cfg.name,
                maybe_printed=False,
            ) from exc
        except Exception as exc:
            raise PrinterUnavailable(
                f"{cfg.describe()} cannot be opened: {_reason(exc)}", printer=cfg.name, maybe_printed=False
            ) from exc
        try:
            printer._raw(payload)
            if cfg.kind == "cups":
                printer.close()  # CUPS submits the job on close
        except Exception as exc:
            raise PrinterUnavailable(
                f"{cfg.describe()} did not take the whole ticket: {_reason(exc)}",
                printer=cfg.name,
                maybe_printed=True,
            ) from exc
        finally:
            if cfg.kind != "cups":
                printer.close()


def transport_for(config: PrinterConfig) -> Transport:
    if config.kind == "network":
        return NetworkTransport(config)
    return DeviceTransport(config)
