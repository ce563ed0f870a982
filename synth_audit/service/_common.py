"""Small pieces the service modules share: run kinds, settings, the store cache, ``samples/``."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synth_audit.store import RunRecord, Store


#: Study that holds the release evaluations queued by the app.
EVALUATIONS_STUDY = "evaluations"
#: ``params["kind"]`` of a release evaluation run (what the runner dispatches on).
RELEASE_KIND = "release_evaluation"
#: ``generator`` of a release evaluation run (nothing is generated: the release is given).
RELEASE_GENERATOR = "release"
#: Environment variable that gives the app its store URL (``synth-audit app`` sets it).
STORE_ENV = "SYNTH_AUDIT_STORE"
#: Environment variable with the upload limit in MB (``synth-audit app --max-upload-mb`` sets it).
MAX_UPLOAD_ENV = "SYNTH_AUDIT_MAX_UPLOAD_MB"
DEFAULT_MAX_UPLOAD_MB = 200
ROLES: tuple[str, ...] = ("train", "synthetic", "control")
_INPUT_DIR = "inputs"
_EVALUATIONS_SPEC = {
    "kind": "release_evaluations",
    "description": "Releases evaluated from the app: train, synthetic and control tables given.",
}


_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def open_app_store(url: str | None = None) -> Store:
    """The store at ``url`` (else ``$SYNTH_AUDIT_STORE``, else the workspace default), opened once
    per process and URL."""
    from synth_audit.store import open_store

    url = url or os.environ.get(STORE_ENV) or None
    key = url or ""
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = open_store(url)
            _stores[key] = store
        return store


def max_upload_bytes() -> int:
    """The upload size limit (``$SYNTH_AUDIT_MAX_UPLOAD_MB``, default 200 MB), in bytes."""
    raw = os.environ.get(MAX_UPLOAD_ENV)
    try:
        mb = float(raw) if raw else float(DEFAULT_MAX_UPLOAD_MB)
    except ValueError:
        mb = float(DEFAULT_MAX_UPLOAD_MB)
    return int(max(mb, 0.001) * 1_000_000)


def samples_root() -> Path:
    """``samples/`` of the source checkout this package runs from."""
    return Path(__file__).resolve().parents[2] / "samples"  # <repo>/synth_audit/service/


def _now() -> datetime:
    return datetime.now(UTC)


def is_release_evaluation(run: RunRecord) -> bool:
    """Whether ``run`` is a release evaluation (target kind ``release``) rather than a generator run."""
    return run.target_kind == "release" or run.params.get("kind") == RELEASE_KIND
