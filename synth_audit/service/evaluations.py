"""Release evaluations: queue the audit of a release, and the worker's entry point that runs it.

:func:`submit_evaluation` writes the three tables (train, synthetic, control) as Parquet files under
the store's artefact root (``inputs/<sha256>.parquet``, content-addressed, written before the run
exists so a worker never sees a run without its inputs) and adds a run to the study
:data:`~synth_audit.service.EVALUATIONS_STUDY` with generator ``"release"`` and params ``{"kind":
"release_evaluation", "inputs": {...}, "config": {...}, "label": ...}``. The run key hashes the three
tables' fingerprints and the configuration, so submitting the same evaluation twice finds the first
run (done: its results show at once; failed: it is re-queued). :func:`execute_release_evaluation`
is what the worker runs for such a run.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from synth_audit.errors import ConfigError, StoreError, format_names
from synth_audit.service._common import (
    _EVALUATIONS_SPEC,
    _INPUT_DIR,
    EVALUATIONS_STUDY,
    RELEASE_GENERATOR,
    RELEASE_KIND,
    ROLES,
    _now,
    is_release_evaluation,
)
from synth_audit.service.uploads import check_release

if TYPE_CHECKING:
    import pandas as pd

    from synth_audit.config import AuditConfig
    from synth_audit.store import ArtefactRow, ResultRow, RunRecord, Store


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    import io

    import pandas as pd
    import pyarrow as pa

    buf = io.BytesIO()
    try:
        df.to_parquet(buf, engine="pyarrow", index=False)
    except (pa.ArrowException, TypeError, ValueError):
        # Object columns mixing numbers and text: store their values as text (missing stays missing).
        fixed = df.copy()
        for c in fixed.columns:
            if fixed[c].dtype == object:
                fixed[c] = (
                    fixed[c]
                    .map(lambda v: v if v is None or v != v else str(v))
                    .astype(pd.StringDtype())
                )
        buf = io.BytesIO()
        fixed.to_parquet(buf, engine="pyarrow", index=False)
    return buf.getvalue()


def _write_input(store: Store, df: pd.DataFrame) -> dict[str, Any]:
    """Write ``df`` as ``<artefact_root>/inputs/<sha256>.parquet`` (atomic; content-addressed)."""
    data = _parquet_bytes(df)
    sha = hashlib.sha256(data).hexdigest()
    rel = f"{_INPUT_DIR}/{sha}.parquet"
    root = store.artefact_root
    target = root / rel
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            with tmp.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return {"path": rel, "sha256": sha, "bytes": len(data), "n_rows": len(df)}


def _audit_config(config: AuditConfig | Mapping[str, Any] | None) -> AuditConfig:
    from synth_audit.config import AuditConfig

    if isinstance(config, AuditConfig):
        return config
    return AuditConfig.from_mapping(dict(config or {}), source="The evaluation settings")


def _check_config_columns(cfg: AuditConfig, columns: Sequence[str]) -> None:
    """Every column the settings name must be a usable column (one message for all problems)."""
    cols = set(columns)
    problems = []
    lk = cfg.linkability
    if lk.enabled and lk.aux_cols:
        a, b = lk.aux_cols
        bad = sorted((set(a) | set(b)) - cols)
        if bad:
            problems.append(f"linkability's attacker columns {format_names(bad)} are not usable")
        if set(a) & set(b):
            problems.append(
                f"linkability's two attacker sources share {format_names(set(a) & set(b))}; "
                "each column belongs to one source only"
            )
    inf = cfg.inference
    if inf.enabled and isinstance(inf.secrets, list):
        if not inf.secrets:
            problems.append("inference needs at least one secret column (or disable it)")
        bad = sorted(set(inf.secrets) - cols)
        if bad:
            problems.append(f"the inference secrets {format_names(bad)} are not usable columns")
    if cfg.utility.enabled and cfg.utility.target is not None and cfg.utility.target not in cols:
        problems.append(f"the utility target {cfg.utility.target!r} is not a usable column")
    if problems:
        raise ConfigError(
            "The evaluation settings do not fit the data: "
            + "; ".join(problems)
            + f". Usable columns: {format_names(columns, limit=40)}."
        )


def enqueue_evaluation(
    store: Store,
    *,
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    control: pd.DataFrame,
    config: AuditConfig | Mapping[str, Any] | None = None,
    names: Mapping[str, str] | None = None,
    label: str | None = None,
) -> str:
    """Queue the audit of a release; return the run's id (see :func:`submit_evaluation`, which
    also says whether a stored run was reused)."""
    return submit_evaluation(
        store,
        train=train,
        synthetic=synthetic,
        control=control,
        config=config,
        names=names,
        label=label,
    ).run_id


def submit_evaluation(
    store: Store,
    *,
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    control: pd.DataFrame,
    config: AuditConfig | Mapping[str, Any] | None = None,
    names: Mapping[str, str] | None = None,
    label: str | None = None,
) -> Submission:
    """Queue the audit of a release; return the run and whether it was new or reused.

    The tables are validated first (:func:`check_release`) and the settings checked against their
    columns, so a bad upload is refused here, not minutes later in a worker. Submitting the same
    tables with the same settings again finds the same run (``reused``; re-queued if it had failed):
    nothing is audited twice, and :attr:`Submission.message` says so.
    """
    from synth_audit.data import fingerprint
    from synth_audit.store import canonical_json
    from synth_audit.study.provenance import code_version

    cfg = _audit_config(config)
    names = {r: str((names or {}).get(r) or r) for r in ROLES}
    check = check_release(train, synthetic, control, column_kinds=cfg.columns, names=names)
    _check_config_columns(cfg, check.columns)
    frames = {"train": train, "synthetic": synthetic, "control": control}
    fps = {r: fingerprint(df) for r, df in frames.items()}
    config_dict = cfg.to_dict()
    key = hashlib.sha256(
        canonical_json(
            {
                "kind": RELEASE_KIND,
                "inputs": {r: fps[r]["sha256"] for r in ROLES},
                "config": config_dict,
            }
        ).encode("utf-8")
    ).hexdigest()
    inputs = {}
    for role, df in frames.items():
        ref = _write_input(store, df)
        ref["name"] = names[role]
        inputs[role] = ref
    params = {
        "kind": RELEASE_KIND,
        "inputs": inputs,
        "config": config_dict,
        "label": label
        or f"{names['synthetic']} (train {names['train']}, control {names['control']})",
    }
    store.ensure_study(EVALUATIONS_STUDY, _EVALUATIONS_SPEC)
    return _add_or_reuse(
        store,
        what="evaluation",
        study=EVALUATIONS_STUDY,
        run_key=key,
        generator=RELEASE_GENERATOR,
        target_kind="release",
        params=params,
        seed=int(cfg.seed),
        code_version=code_version(),
        data_fingerprints={r: {"name": names[r], **fps[r]} for r in ROLES},
    )


@dataclass(frozen=True)
class Submission:
    """What became of a request to run something: the run, and whether it is new or reused.

    ``reused``: a stored run with the same key (same data, same settings) was found and no new run
    was made; ``status`` is that run's status now (``done``: its stored result answers the request
    at once); ``requeued``: it had failed and was put back in the queue.
    """

    run_id: str
    reused: bool
    status: str
    requeued: bool = False
    what: str = "run"
    finished_at: datetime | None = None

    @property
    def message(self) -> str | None:
        """One sentence for the user when the run was reused (None for a new run)."""
        if not self.reused:
            return None
        short = self.run_id[:8]
        same = f"the same {self.what} (same data, same settings)"
        if self.requeued:
            return (
                f"Already run before, and failed: {same} is run {short}, which was put back in the "
                "queue to run again."
            )
        if self.status == "done":
            when = (
                ""
                if self.finished_at is None
                else f" on {self.finished_at.strftime('%Y-%m-%d %H:%M')} UTC"
            )
            return (
                f"Already done, reused: {same} finished as run {short}{when}; its stored result is "
                "shown and nothing was run again."
            )
        return (
            f"Already {'running' if self.status == 'running' else 'queued'}, reused: {same} is run "
            f"{short}, submitted before; this request follows it instead of queueing a second one."
        )


def _add_or_reuse(store: Store, *, run_key: str, what: str = "run", **kwargs: Any) -> Submission:
    """``add_run``; a run with the same key that failed is re-queued; one with different params
    under the same key (a label changed) is reused as is. Says whether the run was new."""
    before = _now()
    try:
        run_id = store.add_run(run_key=run_key, **kwargs)
    except StoreError:
        existing = [r for r in store.list_runs(study=kwargs["study"]) if r.run_key == run_key]
        if not existing:
            raise
        run_id = existing[0].id
    run = store.get_run(run_id)
    # A new run is created queued, after ``before``; anything else is a run that was there already.
    reused = run.status != "queued" or run.created_at < before
    requeued = False
    if run.status == "failed":
        store.requeue_run(run_id)
        requeued = True
    return Submission(
        run_id=run_id,
        reused=reused,
        status="queued" if requeued else run.status,
        requeued=requeued,
        what=what,
        finished_at=run.finished_at,
    )


class _ProgressBeat:
    """A run task's heartbeat interface over a plain progress callback."""

    lost: str | None = None

    def __init__(self, progress: Callable[[float, str], None] | None) -> None:
        self._progress = progress

    def update(self, progress: float, message: str) -> None:
        if self._progress is not None:
            self._progress(progress, message)


def execute_release_evaluation(
    store: Store,
    run: RunRecord,
    *,
    progress: Callable[[float, str], None] | None = None,
) -> tuple[dict[str, Any], list[ResultRow], list[ArtefactRow]]:
    """Audit the release of a queued evaluation run; return (summary, result rows, artefacts).

    The task of target kind ``release`` (:func:`synth_audit.study.tasks.execute_release_run`),
    which the worker runs for such a run; the caller records the outcome with
    :meth:`Store.finish_run`, or marks the run failed if this raises.
    """
    from synth_audit.study.tasks import execute_release_run

    if not is_release_evaluation(run):
        raise ConfigError(
            f"Run {run.id} is not a release evaluation (its target kind is {run.target_kind!r})."
        )
    return execute_release_run(store, run, _ProgressBeat(progress))
