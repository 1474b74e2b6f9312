"""`check` and `render` load only what they need: no database, and premailer's `requests` never runs;
importing `newsletter.render` for its types (as schedule and deliver do) loads no compiler."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "issues" / "2026-11-20-muscle-loss-culprit.yaml"
PROBE = """
import json, sys
from newsletter.cli import main
try:
    main(sys.argv[1:], prog_name="newsletter")
except SystemExit:
    pass
requests = sys.modules.get("requests")
print(json.dumps({"modules": sorted(sys.modules), "requests": type(requests).__name__}), file=sys.stderr)
"""


def _probe(*args: str) -> dict[str, object]:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True)
    return dict(json.loads(result.stderr.strip().splitlines()[-1]))


def test_check_loads_no_database_and_leaves_requests_unexecuted() -> None:
    seen = _probe("check", str(SAMPLE))
    modules = set(seen["modules"])  # type: ignore[call-overload]
    assert "premailer" in modules  # it did render (for the size check)
    assert (
        sorted(m for m in modules if m.split(".")[0] in {"sqlalchemy", "alembic", "starlette", "uvicorn"})
        == []
    )
    assert seen["requests"] == "_Deferred"
    assert "urllib3" not in modules


def test_render_types_load_no_compiler() -> None:
    heavy = "('jinja2', 'mjml', 'premailer', 'pydantic')"
    code = f"import sys, newsletter.render; print(sorted(m for m in {heavy} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
