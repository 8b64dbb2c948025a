"""The shop's raw payloads of a DuckDB file store, in an append-only log of frames beside the database.

Inserting the compressed chunks into DuckDB as BLOBs was most of an import's store stage; appending
them to a file is a sequential write.  Each import batch appends its chunks (frames) to the last
segment file of ``<database>.payloads/`` and fsyncs it (and the folder when a segment is created)
before the transaction that references them commits: a committed ``raw_chunks`` row always points
at bytes on disk.  The row keeps the frame's segment, offset, length and XXH3 checksum.

Frames written but never committed (a process killed before its commit, a rolled-back batch) are
orphans: no row references them, readers never see them.  The first append of a process cuts them
off the end of the last segment (no other writer can be mid-batch then: DuckDB lets one process
write the file, and this process has not appended yet); later orphans stay until that next start.

PostgreSQL stores (several machines share them) and in-memory DuckDB keep the chunks inline:
:func:`of` is the one place that decides.
"""

from __future__ import annotations

import itertools
import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import xxhash

from fastimport.errors import StoreError
from fastimport.store.db import Connection, disk_full
from fastimport.store.postgres import PgConnection

SUFFIX = ".payloads"  # the folder beside the database file: <till.duckdb>.payloads/
SEGMENT_BYTES = 256 * 1024 * 1024  # a segment is rolled past this size (a few hundred thousand orders)
# Called once a batch's frames are durable and before the commit that names them (no argument): a test
# process pauses there to be killed between the two.  Empty in use.
AFTER_APPEND: list[Callable[[], None]] = []
_SEGMENT_DIGITS = 6


def checksum(frame: bytes | memoryview) -> int:
    """XXH3 of a frame as a signed 64-bit integer (a BIGINT column)."""
    value = xxhash.xxh3_64_intdigest(frame)
    return value - (1 << 64) if value >= 1 << 63 else value


@dataclass
class PayloadLog:
    """One database's log folder; shared by every connection of the process to that database."""

    folder: Path
    lock: threading.Lock = field(default_factory=threading.Lock)
    orphans_cut: bool = False  # the first append of this process cuts the crash orphans first
    # The first segment new frames may go to: past the frames the database refers to when the folder
    # lacks some (restored from an older backup, or lost), so a referenced place is never reused.
    first_free_segment: int = 0

    def segment_path(self, segment: int) -> Path:
        return self.folder / f"{segment:0{_SEGMENT_DIGITS}d}.seg"

    def append(self, con: Connection, frames: pa.Array) -> pa.Table:
        """Write ``frames`` (binary) after the last frame, durably; their places as columns
        ``log_segment``, ``log_offset``, ``log_length``, ``log_checksum`` (one row per frame)."""
        binary = frames.combine_chunks() if isinstance(frames, pa.ChunkedArray) else frames
        body, starts, lengths = _body(binary)
        sums = [checksum(body[s : s + n]) for s, n in zip(starts, lengths, strict=True)]
        with self.lock:
            if not self.orphans_cut:
                self._cut_orphans(con)
                self.orphans_cut = True
            segment, end = self._tail(len(body))
            self._write(segment, end, body)
        for hook in AFTER_APPEND:
            hook()
        n = len(starts)
        return pa.table(
            {
                "log_segment": pa.array([segment] * n, pa.int32()),
                "log_offset": pa.array([end + s for s in starts], pa.int64()),
                "log_length": pa.array(lengths, pa.int32()),
                "log_checksum": pa.array(sums, pa.int64()),
            }
        )

    def read(self, segment: int, offset: int, length: int, expected: int, what: str) -> bytes:
        """The frame at this place, checked; a plain StoreError naming ``what`` when missing or damaged."""
        path = self.segment_path(segment)
        try:
            with open(path, "rb") as file:
                file.seek(offset)
                frame = file.read(length)
        except FileNotFoundError:
            frame = b""
        except OSError as exc:
            raise StoreError(
                f"could not read the saved copy of {what} from the shop in {path}: {exc.strerror or exc}",
                path=str(path),
            ) from exc
        if len(frame) != length:
            raise StoreError(
                f"the saved copy of {what} from the shop is missing from {self.folder}: "
                "restore the folder beside the database from your backup",
                path=str(path),
            )
        if checksum(frame) != expected:
            raise StoreError(
                f"the saved copy of {what} from the shop is damaged in {path}: "
                "restore the folder beside the database from your backup",
                path=str(path),
            )
        return frame

    def _last_segment(self) -> int:
        numbers = (
            [int(p.stem) for p in self.folder.glob("*.seg") if p.stem.isdigit()]
            if self.folder.is_dir()
            else []
        )
        return max(numbers, default=0)

    def _tail(self, adding: int) -> tuple[int, int]:
        """The segment to append to and its end: the last one, or a new one when it is full."""
        segment = self._last_segment()
        if segment < self.first_free_segment:
            return self.first_free_segment, 0
        end = self.segment_path(segment).stat().st_size if segment else 0
        if not segment or (end and end + adding > SEGMENT_BYTES):
            return segment + 1, 0
        return segment, end

    def _cut_orphans(self, con: Connection) -> None:
        """Cut the last segment after its last committed frame (what a killed writer left)."""
        segment = self._last_segment()
        # fetchall: an unfinished result would refuse the registration of the batch that follows.
        rows = con.execute(
            "SELECT coalesce(max(log_segment), 0), coalesce(max(log_offset + log_length) FILTER "
            "(WHERE log_segment = ?), 0) FROM raw_chunks",
            [segment],
        ).fetchall()
        referenced, committed = int(rows[0][0]), int(rows[0][1])
        size = self.segment_path(segment).stat().st_size if segment else 0
        if referenced > segment or size < committed:  # the folder lacks frames the database refers to
            self.first_free_segment = max(referenced, segment) + 1
        elif size > committed:
            with open(self.segment_path(segment), "r+b") as file:
                file.truncate(committed)
                os.fsync(file.fileno())

    def _write(self, segment: int, end: int, body: memoryview) -> None:
        path = self.segment_path(segment)
        first = end == 0  # a new segment (or one a killed writer created): its name must be durable too
        try:
            if first:
                self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                try:
                    written = 0
                    while written < len(body):
                        written += os.pwrite(fd, body[written:], end + written)
                    os.fsync(fd)
                except BaseException:
                    # Nothing of a failed append may stay (a full disk): the next one starts here again.
                    os.ftruncate(fd, end)
                    raise
            finally:
                os.close(fd)
            if first:
                _fsync_folder(self.folder)
        except OSError as exc:
            full = disk_full(exc)
            if full is not None:
                raise full from exc
            raise StoreError(
                f"could not save the shop's orders in {self.folder}: {exc.strerror or exc}", path=str(path)
            ) from exc


def _body(binary: pa.Array) -> tuple[memoryview, list[int], list[int]]:
    """The frames laid end to end (the array's own data buffer, not copied), their starts and lengths."""
    if binary.type != pa.binary():
        binary = binary.cast(pa.binary())
    # One more offset than frames; a slice starts past 0.
    offsets = pa.Array.from_buffers(
        pa.int32(), len(binary) + 1, [None, binary.buffers()[1]], offset=binary.offset
    ).to_pylist()
    first, last = offsets[0], offsets[-1]
    starts = [o - first for o in offsets[:-1]]
    lengths = [b - a for a, b in itertools.pairwise(offsets)]
    data = binary.buffers()[2]
    view = memoryview(data)[first:last] if data is not None else memoryview(b"")
    return view, starts, lengths


def _fsync_folder(folder: Path) -> None:
    """A new segment's name is durable only once its folder is synced."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_LOGS: dict[Path, PayloadLog] = {}
_LOGS_LOCK = threading.Lock()
_OF: weakref.WeakKeyDictionary[Connection, PayloadLog | None] = weakref.WeakKeyDictionary()


def of(con: Connection) -> PayloadLog | None:
    """The payload log of this connection's store: a DuckDB file's folder; None (chunks inline) for
    PostgreSQL and an in-memory DuckDB."""
    try:
        return _OF[con]
    except KeyError:
        pass
    log = None
    if not isinstance(con, PgConnection):
        # fetchall: an unfinished result would keep the connection busy.
        rows = con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()
        path = rows[0][0] if rows else None
        if path:
            folder = Path(str(path) + SUFFIX).resolve()
            with _LOGS_LOCK:
                log = _LOGS.setdefault(folder, PayloadLog(folder))
    _OF[con] = log
    return log
