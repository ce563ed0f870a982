"""Where a run's numbers came from: the code version and the worker that computed them."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from functools import lru_cache
from pathlib import Path

__all__ = ["code_version", "worker_id"]


@lru_cache(maxsize=1)
def code_version() -> str:
    """``synth-audit <version>``, plus ``git describe`` of the source checkout when there is one."""
    from synth_audit import __version__

    version = f"synth-audit {__version__}"
    root = Path(__file__).resolve().parents[2]
    if (root / ".git").exists():
        with contextlib.suppress(Exception):
            out = subprocess.run(
                ["git", "describe", "--always", "--dirty", "--tags"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
            if out.returncode == 0 and out.stdout.strip():
                version += f" (git {out.stdout.strip()})"
    return version


def worker_id() -> str:
    """``host:pid`` of this process (how :func:`run_study` tells a dead local worker)."""
    return f"{socket.gethostname()}:{os.getpid()}"
