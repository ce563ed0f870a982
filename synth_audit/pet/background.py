"""A PET search in a background process (what the app's search page starts).

:func:`start_search` launches ``python -m synth_audit optimise FILE --json OUT`` as its own process
(the same command a user types, so a page reload, a closed browser or a crashed app leaves it
running, and starting it again resumes it from the store). :func:`search_job` reads its state: the
process alive or not, the trials stored so far, and the result JSON once it is written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synth_audit.errors import ConfigError

__all__ = ["SearchJob", "search_job", "start_search"]

_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class SearchJob:
    study: str
    pid: int
    result_path: Path
    log_path: Path

    def running(self) -> bool:
        try:
            pid, _status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:  # not our child (another app process): probe it
            try:
                os.kill(self.pid, 0)
            except OSError:
                return False
            return True
        return pid == 0

    def result(self) -> dict[str, Any] | None:
        if not self.result_path.is_file():
            return None
        try:
            out: dict[str, Any] = json.loads(self.result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return out

    def log_tail(self, n: int = 2000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-n:]
        except OSError:
            return ""


def start_search(
    search_file: str | Path,
    *,
    store_url: str,
    workdir: str | Path,
    trials: int | None = None,
    executor: str = "local",
    workers: int | None = None,
) -> SearchJob:
    """Start the search of ``search_file`` in a background process writing to ``store_url``."""
    from synth_audit.pet.spec import load_search
    from synth_audit.store import STORE_ENV

    spec = load_search(search_file)  # refuses a bad file now, in the page, not in the log
    if trials is not None and (isinstance(trials, bool) or int(trials) < 1):
        raise ConfigError(f"The number of trials must be an int >= 1; got {trials!r}.")
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    result = work / f"{spec.study.name}.search.json"
    log = work / f"{spec.study.name}.search.log"
    result.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "synth_audit",
        "optimise",
        str(search_file),
        "--executor",
        executor,
        "--json",
        str(result),
        "--quiet",
    ]
    if trials is not None:
        cmd += ["--trials", str(int(trials))]
    if workers is not None:
        cmd += ["--workers", str(int(workers))]
    env = dict(os.environ)
    env[STORE_ENV] = store_url  # not on the command line: a password would show in `ps`
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH", "")) if p)
    with log.open("w", encoding="utf-8") as fh:
        proc = subprocess.Popen(
            cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    return SearchJob(study=spec.study.name, pid=proc.pid, result_path=result, log_path=log)


def search_job(state: dict[str, Any]) -> SearchJob:
    """A :class:`SearchJob` from its plain form (what the app keeps in its session)."""
    return SearchJob(
        study=str(state["study"]),
        pid=int(state["pid"]),
        result_path=Path(state["result_path"]),
        log_path=Path(state["log_path"]),
    )
