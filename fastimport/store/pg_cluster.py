"""A throwaway PostgreSQL cluster on a free loopback port, for the tests and the benchmarks.

Like asyncpg's ``_testbase``: the real server, started from Debian's binaries (``initdb`` then
``pg_ctl start``) into a temporary directory, trust authentication on 127.0.0.1 only, stopped and
deleted at the end.  ``initdb`` refuses to run as root, so as root the cluster belongs to the
``postgres`` system user (``runuser``).  Durability is switched off: nothing here outlives the run.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from fastimport.errors import StoreError

# Where Debian puts the server's binaries (one directory per major version; newest first).
_DEBIAN_BINARIES = "/usr/lib/postgresql/*/bin"


def find_binaries() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, or None when PostgreSQL is not installed."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    found = sorted(glob.glob(_DEBIAN_BINARIES), key=lambda d: _major(d), reverse=True)
    for directory in found:
        if Path(directory, "initdb").exists() and Path(directory, "pg_ctl").exists():
            return Path(directory)
    return None


def _major(directory: str) -> int:
    part = Path(directory).parent.name
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """``start()`` a cluster, ``url(db)`` to reach a database in it, ``stop()`` to remove it all."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="fastimport-pg-"))
        self.data = self.root / "data"
        self._as_root = os.geteuid() == 0
        self.user = "postgres" if self._as_root else None

    def _run(self, *args: str) -> None:
        command = [str(self.binaries / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise StoreError(
                f"PostgreSQL test cluster: {args[0]} failed: {done.stderr.strip() or done.stdout}"
            )

    def start(self) -> Cluster:
        if self._as_root:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        options = (
            f"-k {self.root} -c listen_addresses=127.0.0.1 -p {self.port} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-o", options, "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
