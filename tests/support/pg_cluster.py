"""A throwaway PostgreSQL cluster on its own port, started and stopped by a test (initdb / pg_ctl).

Debian keeps the server programs in /usr/lib/postgresql/<version>/bin. They refuse to run as root, so
as root they run as the `postgres` user (runuser); the data folder is a fresh one under /tmp.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from support.smtp_server import free_port


class ClusterUnavailable(Exception):
    """initdb / pg_ctl cannot be run here; the message says why."""


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    if found:
        return Path(found[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ClusterUnavailable("no initdb: PostgreSQL's server programs are not installed")


class ThrowawayCluster:
    """`start()` makes and starts a cluster (trust authentication, 127.0.0.1:<port>); `stop(mode)`,
    `start()` again, `remove()` at the end."""

    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.port = free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise ClusterUnavailable("running as root and there is no postgres user") from None
            self._as = ["runuser", "-u", "postgres", "--"]
        self.folder = Path(tempfile.mkdtemp(prefix="newsletter-pg-"))
        self.data = self.folder / "data"
        if self._as:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the cluster's `postgres` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start the server and wait until it takes connections."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-o", options, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`immediate`: as a crash would, no clean shutdown)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        """Stop it if running, and delete its files."""
        subprocess.run(
            [*self._as, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [*self._as, str(self.bin / program), *args]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        except OSError as exc:
            raise ClusterUnavailable(f"{program}: {exc}") from exc
        if done.returncode != 0:
            raise ClusterUnavailable(f"{program} failed: {(done.stderr or done.stdout).strip()[-500:]}")
