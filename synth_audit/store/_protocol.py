"""The role a result store plays for the study runner, executors and the app.

:class:`~synth_audit.store.Store` is the implementation; code that only records and reads runs can be
typed against :class:`ResultStore` (and tested with any object that has these methods).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ._records import ArtefactRow, ResultRow, RunRecord, RunStatus

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ResultStore"]


@runtime_checkable
class ResultStore(Protocol):
    @property
    def artefact_root(self) -> Path: ...

    def ensure_study(
        self, name: str, spec: Mapping[str, Any], *, replace_spec: bool = False
    ) -> None: ...

    def add_run(
        self,
        *,
        study: str,
        run_key: str,
        generator: str,
        params: Mapping[str, Any],
        seed: int,
        code_version: str,
        data_fingerprints: Mapping[str, Any] | None = None,
        status: RunStatus = "queued",
        target_kind: str = "tabular_generator",
    ) -> str: ...

    def get_run(self, run_id: str) -> RunRecord: ...

    def list_runs(
        self,
        *,
        study: str | None = None,
        status: RunStatus | Sequence[RunStatus] | None = None,
        generator: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[RunRecord]: ...

    def claim_run(
        self, worker_id: str, *, study: str | None = None, heartbeat_timeout_s: float | None = 60.0
    ) -> RunRecord | None: ...

    def start_run(self, run_id: str, worker_id: str) -> RunRecord: ...

    def heartbeat(
        self, run_id: str, *, progress: float | None = None, message: str | None = None
    ) -> None: ...

    def finish_run(
        self,
        run_id: str,
        *,
        results: Sequence[ResultRow],
        summary: Mapping[str, Any],
        artefacts: Sequence[ArtefactRow] = (),
    ) -> None: ...

    def fail_run(self, run_id: str, error: str) -> None: ...

    def results_for(self, run_id: str) -> list[ResultRow]: ...

    def write_artefact(self, run_id: str, kind: str, df: pd.DataFrame) -> ArtefactRow: ...

    def read_artefact(self, run_id: str, kind: str) -> pd.DataFrame: ...
