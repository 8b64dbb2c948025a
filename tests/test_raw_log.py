"""The shop's raw payloads in the log beside a DuckDB file (``fastimport.store.payload_log``, issue #12).

Real imports from the simulated shop into real DuckDB files (and PostgreSQL, where the chunks stay
inline); crashes simulated by orphan bytes, a rolled-back batch, a full disk, and a real SIGKILL of an
import paused between its log write and its commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import os
import shutil
import signal
import threading
import weakref
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from fastimport.config import Config
from fastimport.errors import StoreError
from fastimport.importer import run_imports
from fastimport.store import connect, payload_log, raw
from fastimport.store.db import Connection, transaction
from tests.chaos import harness
from tests.chaos.harness import command
from tests.conftest import ShopFactory, config_for, subprocess_env, write_config_file
from tests.test_import import WEEK_END, WEEK_START, run_import, whole_window

SINCE, UNTIL = "2026-03-23", "2026-03-31"


def _keys(con: Connection) -> list[tuple[int, int]]:
    return [(int(s), int(o)) for s, o in con.execute("SELECT store_id, order_id FROM orders").fetchall()]


def _segments(config: Config) -> list[Path]:
    return sorted(Path(str(config.target) + payload_log.SUFFIX).glob("*.seg"))


def _committed_end(con: Connection) -> int:
    row = con.execute("SELECT coalesce(max(log_offset + log_length), 0) FROM raw_chunks").fetchone()
    return int(row[0]) if row else 0


def _new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a new process starts with: no log seen yet (so its first append looks for crash orphans)."""
    monkeypatch.setattr(payload_log, "_LOGS", {})
    monkeypatch.setattr(payload_log, "_OF", weakref.WeakKeyDictionary())


async def _imported(
    tmp_path: Path, shop_factory: ShopFactory, orders: int, per_page: int
) -> tuple[Any, Config]:
    """A shop of ``orders`` orders imported whole into a DuckDB file under ``tmp_path``."""
    shop, url = await shop_factory(orders=orders, start=WEEK_START, end=WEEK_END)
    config = config_for(tmp_path, url, per_page=per_page)
    assert (await run_import(config, whole_window())).ok
    return shop, config


async def _inline_copy(config: Config) -> dict[tuple[int, int], bytes]:
    """The same shop imported into an in-memory DuckDB, where the chunks stay inline (the path of before)."""
    con = connect(":memory:")
    try:
        assert payload_log.of(con) is None
        reports = await run_imports(con, [(config.stores[0], whole_window())])
        assert reports[0].ok, reports[0].error
        return raw.payloads(con, _keys(con))
    finally:
        con.close()


async def test_payloads_read_back_byte_for_byte(
    tmp_path: Path, shop_factory: ShopFactory, backend: str
) -> None:
    shop, url = await shop_factory(orders=300, start=WEEK_START, end=WEEK_END)
    config = config_for(tmp_path, url, per_page=50)
    report = await run_import(config, whole_window())
    assert report.ok and report.new == 300, report.error
    expected = await _inline_copy(config)
    assert len(expected) == 300
    for _ in range(2):  # and again after reopening the store
        con = connect(config.target)
        try:
            assert raw.payloads(con, _keys(con)) == expected
            for order in shop.truth()[:5]:
                one = raw.payload(con, 1, order["id"])
                assert one is not None and orjson.loads(one)["id"] == order["id"]
            row = con.execute(
                "SELECT count(*), count(data), count(log_segment), count(*) FILTER (WHERE data IS NULL "
                "AND log_segment IS NOT NULL AND log_checksum IS NOT NULL) FROM raw_chunks"
            ).fetchone()
        finally:
            con.close()
        assert row is not None and row[0] > 0
        if backend == "postgres":  # shared by several machines: the chunks stay in the database
            assert row[1:] == (row[0], 0, 0) and not (tmp_path / "till.duckdb.payloads").exists()
        else:
            assert row[1:] == (0, row[0], row[0])
            assert [p.name for p in _segments(config)] == ["000001.seg"]


@pytest.mark.duckdb_only("damages the log beside the DuckDB file")
async def test_a_damaged_or_missing_frame_is_told_in_plain_words(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    _, config = await _imported(tmp_path, shop_factory, 60, 20)
    con = connect(config.target)
    try:
        chunk, offset = con.execute(
            "SELECT chunk_id, log_offset FROM raw_chunks ORDER BY chunk_id LIMIT 1"
        ).fetchone() or (0, 0)
        order = con.execute("SELECT min(order_id) FROM orders WHERE raw_chunk = ?", [chunk]).fetchall()[0]
        segment = _segments(config)[0]
        with open(segment, "r+b") as file:  # one byte flipped inside the first frame
            file.seek(offset + 10)
            byte = file.read(1)
            file.seek(offset + 10)
            file.write(bytes([byte[0] ^ 0xFF]))
        with pytest.raises(StoreError) as damaged:
            raw.payload(con, 1, int(order[0]))
        assert f"order {order[0]}" in damaged.value.message and "damaged" in damaged.value.message
        assert "restore the folder beside the database from your backup" in damaged.value.message
        with pytest.raises(StoreError, match=f"payload chunk {chunk} .*damaged"):
            raw.slice_of(con, int(chunk), 0, 10)

        segment.unlink()
        with pytest.raises(StoreError) as missing:
            raw.payloads(con, _keys(con))
        assert f"is missing from {segment.parent}" in missing.value.message
    finally:
        con.close()


@pytest.mark.duckdb_only("orphan frames in the log beside the DuckDB file")
async def test_orphans_are_ignored_and_cut_by_the_next_process(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop, config = await _imported(tmp_path, shop_factory, 120, 30)
    segment = _segments(config)[-1]
    con = connect(config.target)
    try:
        committed = _committed_end(con)
        assert segment.stat().st_size == committed
        # A batch rolled back after its frames were written: they stay as orphans, never read.
        frame = raw.pack(pa.array([b'{"rolled": "back"}'], pa.binary()))[0]
        log = payload_log.of(con)
        assert log is not None
        with contextlib.suppress(RuntimeError), transaction(con):
            log.append(con, pa.array([frame], pa.binary()))
            raise RuntimeError("the batch failed after its log write")
        assert segment.stat().st_size > committed
        assert len(raw.payloads(con, _keys(con))) == 120
    finally:
        con.close()
    with open(segment, "ab") as file:  # and half a frame of a writer killed mid-write
        file.write(b"\x28\xb5\x2f\xfd half a frame")

    _new_process(monkeypatch)
    for order in shop.truth()[:10]:  # the shop moves on: ten orders to store again
        shop.modify_order(order["id"], "completed")
    report = await run_import(config, whole_window())
    assert report.ok and report.updated == 10, report.error
    con = connect(config.target)
    try:
        # The orphans were cut before the new frames: the segment ends at the last committed frame.
        assert segment.stat().st_size == _committed_end(con)
        first_new = con.execute("SELECT min(log_offset) FROM raw_chunks WHERE log_offset >= ?", [committed])
        assert (first_new.fetchone() or (None,))[0] == committed
        expected = await _inline_copy(config)
        assert raw.payloads(con, _keys(con)) == expected
    finally:
        con.close()


@pytest.mark.duckdb_only("a full disk under the log beside the DuckDB file")
async def test_a_full_disk_while_logging_stores_nothing_of_the_batch(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = await shop_factory(orders=100, start=WEEK_START, end=WEEK_END)
    config = config_for(tmp_path, url, per_page=25)
    real_pwrite = os.pwrite
    calls = 0

    def full_after_a_few_bytes(fd: int, data: Any, offset: int) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            return int(real_pwrite(fd, bytes(data)[:100], offset))  # a partial write, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patch:
        patch.setattr(payload_log.os, "pwrite", full_after_a_few_bytes)
        report = await run_import(config, whole_window())
    assert not report.ok and report.error is not None
    assert "the disk is full" in report.error and "Free some space" in report.error
    con = connect(config.target)
    try:
        counts = con.execute(
            "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM raw_chunks)"
        ).fetchone()
        assert counts == (0, 0)
    finally:
        con.close()
    assert all(p.stat().st_size == 0 for p in _segments(config))  # the partial frame was taken back

    report = await run_import(config, whole_window())
    assert report.ok and report.new == 100, report.error
    con = connect(config.target)
    try:
        assert raw.payloads(con, _keys(con)) == await _inline_copy(config)
    finally:
        con.close()


@pytest.mark.duckdb_only("kills an import between its log write and its commit")
async def test_an_import_killed_between_its_log_write_and_its_commit(
    tmp_path: Path, shop_factory: ShopFactory
) -> None:
    """A real SIGKILL while a batch's frames are on disk and its transaction is not committed."""
    shop, url = await shop_factory(orders=200, start=WEEK_START, end=WEEK_END, latency=0.005)
    config_file = write_config_file(tmp_path, url, per_page=20)
    config = config_for(tmp_path, url, per_page=20)
    argv = command(config_file, "import", "--since", SINCE, "--until", UNTIL)
    environ = {**subprocess_env(), "FASTIMPORT_BATCH_ORDERS": "50"}
    proc = await asyncio.create_subprocess_exec(
        *_pausing_after_log_write(argv),
        cwd=harness.ROOT,
        env=environ,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        for _ in range(
            600
        ):  # the first batch's frames reach the log, then the import sleeps before its commit
            if any(p.stat().st_size for p in _segments(config)) or proc.returncode is not None:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        assert proc.returncode is None, (await proc.communicate())[1].decode()
        proc.send_signal(signal.SIGKILL)
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    orphans = sum(p.stat().st_size for p in _segments(config))
    assert orphans > 0
    con = connect(config.target)
    try:  # frames on disk, no row referencing them
        assert con.execute(
            "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM raw_chunks)"
        ).fetchone() == (
            0,
            0,
        )
    finally:
        con.close()

    code, _, err = await harness.run(argv, environ)
    assert code == 0, err
    harness.check_orders(tmp_path / "till.duckdb", shop, WEEK_START, WEEK_END)  # every order exactly once
    con = connect(config.target)
    try:
        assert _segment_sizes(config) == _committed_end(con)  # the orphans were cut, not kept in front
        assert raw.payloads(con, _keys(con)) == await _inline_copy(config)
    finally:
        con.close()


def _pausing_after_log_write(argv: list[str]) -> list[str]:
    """``argv`` (``python -m fastimport ...``) in a process that sleeps once a batch's frames are on disk,
    before its commit: the kill lands there."""
    python, _, _, *args = argv
    hook = (
        "import sys, time; from fastimport.store import payload_log; "
        "payload_log.AFTER_APPEND.append(lambda: time.sleep(60)); "
        "from fastimport.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    return [python, "-c", hook, *args]


def _segment_sizes(config: Config) -> int:
    return sum(p.stat().st_size for p in _segments(config))


@pytest.mark.duckdb_only("appends to the log beside the DuckDB file from several threads")
def test_appends_from_several_threads_never_overlap(tmp_path: Path) -> None:
    """Connections of one process (the till page's threads, an import) share one log and its lock."""
    con = connect(tmp_path / "till.duckdb")
    try:
        cursors = [con.cursor() for _ in range(4)]
        logs = {id(payload_log.of(c)) for c in cursors}
        assert len(logs) == 1  # one log per database, whichever connection asks
        placed: list[tuple[bytes, pa.Table]] = []

        def append(cursor: Connection, n: int) -> None:
            log = payload_log.of(cursor)
            assert log is not None
            for i in range(25):
                frames = [f"thread {n} frame {i} ".encode() * (1 + i * 37 % 50), os.urandom(4096)]
                placed.append((b"".join(frames), log.append(cursor, pa.array(frames))))

        threads = [threading.Thread(target=append, args=(c, n)) for n, c in enumerate(cursors)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        log = payload_log.of(con)
        assert log is not None
        spans = []
        for joined, table in placed:
            got = b"".join(
                log.read(s, o, n, c, "a test frame")
                for s, o, n, c in zip(*(table.column(k).to_pylist() for k in table.column_names), strict=True)
            )
            assert got == joined
            offsets, lengths = table.column("log_offset").to_pylist(), table.column("log_length").to_pylist()
            spans += list(zip(offsets, lengths, strict=True))
        spans.sort()
        assert all(a + n <= b for (a, n), (b, _) in itertools.pairwise(spans))  # no two frames share a byte
        assert (
            spans[-1][0] + spans[-1][1] == (tmp_path / "till.duckdb.payloads" / "000001.seg").stat().st_size
        )
    finally:
        con.close()


@pytest.mark.duckdb_only("loses the folder beside the DuckDB file")
async def test_a_lost_folder_is_named_and_new_frames_never_take_the_old_places(
    tmp_path: Path, shop_factory: ShopFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop, config = await _imported(tmp_path, shop_factory, 80, 20)
    folder = Path(str(config.target) + payload_log.SUFFIX)
    shutil.rmtree(folder)  # lost (or an older backup put back without it)
    _new_process(monkeypatch)
    changed = [o["id"] for o in shop.truth()[:5]]
    for oid in changed:
        shop.modify_order(oid, "completed")
    report = await run_import(config, whole_window())
    assert report.ok and report.updated == 5, report.error
    assert [p.name for p in _segments(config)] == ["000002.seg"]  # past the segment the database refers to
    con = connect(config.target)
    try:
        got = raw.payloads(con, [(1, oid) for oid in changed])  # the new versions read back
        assert {orjson.loads(v)["status"] for v in got.values()} == {"completed"} and len(got) == 5
        untouched = next(o["id"] for o in shop.truth() if o["id"] not in changed)
        with pytest.raises(StoreError, match=f"order {untouched} from the shop is missing from {folder}"):
            raw.payload(con, 1, untouched)
    finally:
        con.close()
