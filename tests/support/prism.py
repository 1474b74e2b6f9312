"""The Prism SendGrid stand-in (../shared/tools/sendgrid-standin): schema-checking mock of the v3 API."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from support.smtp_server import free_port

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
STANDIN = SHARED / "tools" / "sendgrid-standin"


class PrismUnavailable(Exception):
    """Prism cannot run here (no ../shared, no node/npm); the message says what is missing."""


def missing_requirement() -> str | None:
    """Why Prism cannot run on this machine, or None when it can."""
    if not STANDIN.is_file():
        return f"the SendGrid stand-in is not at {STANDIN} (the shared folder beside the repo)"
    for tool in ("node", "npm", "curl"):
        if shutil.which(tool) is None:
            return f"the Prism SendGrid stand-in needs `{tool}` on PATH"
    return None


class Prism:
    """A running Prism on 127.0.0.1:<free port>; `url` is the sendgrid library's `host=`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = ""

    def start(self) -> Prism:
        """Start it (installs Prism into ~/.cache on first use; may take a minute)."""
        problem = missing_requirement()
        if problem:
            raise PrismUnavailable(problem)
        done = subprocess.run(
            [str(STANDIN), "start", str(self.port)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            env={**os.environ},
        )
        if done.returncode != 0:
            self.stop()
            raise PrismUnavailable(f"sendgrid-standin start failed: {done.stderr.strip() or done.stdout}")
        self.url = done.stdout.strip().splitlines()[-1]
        return self

    def stop(self) -> None:
        """Stop it."""
        subprocess.run([str(STANDIN), "stop", str(self.port)], capture_output=True, timeout=60, check=False)

    def __enter__(self) -> Prism:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
