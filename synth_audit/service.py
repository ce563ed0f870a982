"""The thin API the Streamlit app calls: enqueue work, read where it stands, read results back.

The app never runs long work in its script. It *enqueues* runs in the result store and a worker
(``synth-audit worker``, started by ``synth-audit app`` unless told otherwise) executes them; the page
polls :func:`run_status`. Two kinds of run go through the queue:

Release evaluations (the *Evaluate a release* view)
    :func:`enqueue_evaluation` writes the three tables (train, synthetic, control) as Parquet files
    under the store's artefact root (``inputs/<sha256>.parquet``, content-addressed, written before the
    run exists so a worker never sees a run without its inputs) and adds a run to the study
    :data:`EVALUATIONS_STUDY` with generator ``"release"`` and params ``{"kind":
    "release_evaluation", "inputs": {...}, "config": {...}, "label": ...}``. The run key hashes the
    three tables' fingerprints and the configuration, so submitting the same evaluation twice finds
    the first run (done: its results show at once; failed: it is re-queued).
    :func:`execute_release_evaluation` is what the worker runs for such a run; the study runner
    dispatches to it on ``params["kind"]``. It writes the artefacts ``report`` (one row: the report's
    JSON, HTML and audit card), ``per_record`` and ``exposed_records``, and the usual result rows.

Tuning runs (the *Tune a generator* view)
    :func:`enqueue_tuning_run` adds one run (a generator, its parameters, a seed index) to the study
    of a shipped sample (``samples/<dataset>/study.toml``, e.g. ``randhie-demo``), so the new run lands
    on the same frontier as the study's earlier runs and is evaluated in exactly the same way.

Reading back: :func:`list_runs_frame` (one page of runs, newest first, without touching artefacts),
:func:`frontier_data`, :func:`run_details`, :func:`report_for_run` and :func:`report_files` (the
report.json / report.html / audit_card.md of any run that has a report).

Every function raises :class:`~synth_audit.errors.SynthAuditError` (with a message a user can act on)
for anything a user can cause; the app shows that message and nothing else.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from synth_audit.errors import ConfigError, DataValidationError, StoreError, format_names
from synth_audit.frontier import as_float
from synth_audit.study.tasks import read_input

if TYPE_CHECKING:
    import pandas as pd

    from synth_audit.config import AuditConfig
    from synth_audit.frontier import Frontier
    from synth_audit.report.model import AuditReport
    from synth_audit.store import ArtefactRow, ResultRow, RunRecord, Store
    from synth_audit.study.spec import StudySpec

__all__ = [
    "COLUMN_KINDS",
    "DEFAULT_MAX_UPLOAD_MB",
    "EVALUATIONS_STUDY",
    "MAX_UPLOAD_ENV",
    "RELEASE_GENERATOR",
    "RELEASE_KIND",
    "ROLES",
    "STORE_ENV",
    "ParamField",
    "ReleaseCheck",
    "RunStatusView",
    "RunsPage",
    "Submission",
    "check_release",
    "compare_runs",
    "default_threat_model",
    "describe_run",
    "enqueue_evaluation",
    "enqueue_run",
    "enqueue_tuning_run",
    "execute_release_evaluation",
    "exposed_records",
    "format_metric",
    "frontier_data",
    "generator_choices",
    "generator_param_fields",
    "inferred_kinds",
    "is_rate_metric",
    "is_release_evaluation",
    "list_runs_frame",
    "load_upload",
    "max_upload_bytes",
    "open_app_store",
    "read_input",
    "report_files",
    "report_for_run",
    "requeue",
    "results_display",
    "run_details",
    "run_label",
    "run_status",
    "sample_config",
    "sample_release",
    "sample_releases",
    "samples_root",
    "seed_text",
    "study_names",
    "submit_evaluation",
    "submit_run",
    "submit_tuning_run",
    "tuning_datasets",
    "tuning_spec",
]

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
# Parameters the tuning form does not offer: where a generator runs, not what it learns.
_RUNTIME_PARAMS = frozenset({"n_threads", "enable_gpu", "device"})
# Parameters shown first (the rest go under "more parameters").
_PRIMARY_PARAMS = (
    "epochs",
    "n_iter",
    "batch_size",
    "epsilon",
    "delta",
    "fraction",
    "default_distribution",
    "k",
    "n_bins",
    "plugin",
)


# --------------------------------------------------------------------------------------------------
# Store and settings
# --------------------------------------------------------------------------------------------------

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
    return Path(__file__).resolve().parents[1] / "samples"


def _now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------------------
# Samples
# --------------------------------------------------------------------------------------------------


def sample_releases() -> list[str]:
    """Names of the shipped sample releases (``samples/<name>`` with train, synthetic and control)."""
    root = samples_root()
    if not root.is_dir():
        return []
    return sorted(
        d.name
        for d in root.iterdir()
        if d.is_dir() and all((d / f"{r}.csv").is_file() for r in ROLES)
    )


def _sample_dir(name: str) -> Path:
    names = sample_releases()
    if name not in names:
        raise ConfigError(
            f"There is no sample {name!r} (samples: {format_names(names) if names else 'none'}). "
            "The samples ship with a source checkout of synth-audit, in samples/."
        )
    return samples_root() / name


def sample_release(name: str) -> dict[str, pd.DataFrame]:
    """The train, synthetic and control tables of a shipped sample."""
    from synth_audit.data import load_table

    d = _sample_dir(name)
    return {role: load_table(d / f"{role}.csv") for role in ROLES}


def sample_config(name: str) -> dict[str, Any]:
    """The sample's ``audit.toml`` as a plain dict ({} when it has none)."""
    from synth_audit.config import load_audit_config

    path = _sample_dir(name) / "audit.toml"
    if not path.is_file():
        return {}
    return load_audit_config(path).to_dict()


def tuning_datasets() -> list[str]:
    """Names of the shipped samples that have a study (``samples/<name>/study.toml``)."""
    root = samples_root()
    if not root.is_dir():
        return []
    return sorted(d.name for d in root.iterdir() if (d / "study.toml").is_file())


@lru_cache(maxsize=16)
def _load_study_cached(path: str, mtime_ns: int) -> StudySpec:
    from synth_audit.study.spec import load_study

    return load_study(path)


def tuning_spec(dataset: str) -> StudySpec:
    """The study of a shipped sample (``samples/<dataset>/study.toml``), validated."""
    names = tuning_datasets()
    if dataset not in names:
        raise ConfigError(
            f"There is no dataset {dataset!r} to tune on (datasets: "
            f"{format_names(names) if names else 'none'}). A dataset is a folder of samples/ with "
            "a study.toml."
        )
    path = samples_root() / dataset / "study.toml"
    return _load_study_cached(str(path), path.stat().st_mtime_ns)


# --------------------------------------------------------------------------------------------------
# Uploads and the threat model
# --------------------------------------------------------------------------------------------------


def load_upload(
    data: bytes, filename: str, *, role: str, max_bytes: int | None = None
) -> pd.DataFrame:
    """Read an uploaded table (CSV or Parquet; never unpickled) and check it is a usable table.

    ``role`` (train, synthetic, control) names the upload in messages; the limit defaults to
    :func:`max_upload_bytes`.
    """
    from synth_audit.data import read_table_bytes

    limit = max_upload_bytes() if max_bytes is None else max_bytes
    if not data:
        raise DataValidationError(
            f"The {role} upload {filename!r} is empty (0 bytes). Upload a CSV with a header row, or "
            "a Parquet file."
        )
    try:
        df = read_table_bytes(data, filename, max_bytes=limit)
    except DataValidationError as exc:
        text = str(exc).replace(f"Upload {filename!r}", f"The {role} upload {filename!r}", 1)
        raise DataValidationError(text) from None
    if df.shape[1] == 0:
        raise DataValidationError(f"The {role} upload {filename!r} has no columns.")
    if len(df) == 0:
        raise DataValidationError(
            f"The {role} upload {filename!r} has a header but no rows. Upload the records too."
        )
    if df.shape[1] == 1 and len(df) > 0 and filename.lower().endswith((".csv", ".txt")):
        col = str(df.columns[0])
        if any(sep in col for sep in (";", "\t", "|")):
            raise DataValidationError(
                f"The {role} upload {filename!r} was read as a single column named {col[:60]!r}: "
                "it does not look like a comma-separated table. Save it as CSV with commas, or as "
                "Parquet."
            )
    return df


#: The column kinds a user may declare (``[columns]`` in audit.toml; the app's kind selectors).
COLUMN_KINDS: tuple[str, ...] = ("numeric", "categorical", "boolean", "datetime", "id")


def inferred_kinds(train: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """``{column: (kind, why)}`` as synth-audit infers them from the training table alone, before
    any override: what the app offers to change. Raises :class:`DataValidationError` for a table
    whose columns cannot be told apart (duplicate names)."""
    from synth_audit.errors import ConfigError
    from synth_audit.schema import infer_schema

    nested = [str(c) for c in train.columns if _holds_nested(train[c])]
    if nested:
        raise DataValidationError(
            f"The training table's column(s) {format_names(nested)} hold lists or records, not "
            "single values. Flatten them into one column per value, or drop them."
        )
    try:
        schema = infer_schema(train)
    except ConfigError as exc:
        raise DataValidationError(str(exc)) from None
    return {c.name: (c.kind.value, c.reason.removeprefix("inferred: ")) for c in schema.columns}


def _holds_nested(s: pd.Series) -> bool:
    if s.dtype != object:
        return False
    return bool(
        s.map(lambda v: isinstance(v, list | tuple | dict | set) or hasattr(v, "shape")).any()
    )


@dataclass(frozen=True)
class ReleaseCheck:
    """What the page needs to offer the threat-model choices for three validated tables."""

    columns: list[str]  # usable columns (identifiers and free text excluded)
    excluded: list[str]
    kinds: dict[str, str]
    n_rows: dict[str, int]
    warnings: list[str]


def check_release(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    control: pd.DataFrame | None,
    *,
    column_kinds: Mapping[str, str] | None = None,
    names: Mapping[str, str] | None = None,
) -> ReleaseCheck:
    """Validate the three tables together (same columns, readable types, enough rows).

    Raises :class:`DataValidationError` naming the files and columns; returns the usable columns.
    """
    from synth_audit.data import prepare_inputs

    if control is None:
        raise DataValidationError(
            "A control file is needed: real records from the same population that were never used "
            "to make the release. Without it a risk cannot be told apart from what the population "
            "reveals anyway."
        )
    sources = {r: f"{r} file {n!r}" for r, n in (names or {}).items()}
    data = prepare_inputs(
        train, synthetic, control, column_kinds=dict(column_kinds or {}), sources=sources
    )
    kinds = {c.name: c.kind.value for c in data.schema.columns}
    return ReleaseCheck(
        columns=list(data.columns),
        excluded=list(data.schema.excluded),
        kinds=kinds,
        n_rows={"train": len(train), "synthetic": len(synthetic), "control": len(control)},
        warnings=[w.message for w in data.warnings],
    )


def default_threat_model(
    columns: Sequence[str], config: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Defaults for the page: the config's choices where they fit the columns, else the library's.

    Returns ``{"aux_a": [...], "aux_b": [...], "secrets": [...], "target": str | None}``:
    linkability's two attacker sources (default: the usable columns split in half), the inference
    secrets (default: every usable column in turn) and the ML-efficacy target (default: none).
    """
    from synth_audit.evaluate import default_aux_split

    cols = list(columns)
    cfg = dict(config or {})
    aux = (cfg.get("linkability") or {}).get("aux_cols")
    if aux and len(aux) == 2 and all(set(a) <= set(cols) for a in aux):
        aux_a, aux_b = list(aux[0]), list(aux[1])
    else:
        aux_a, aux_b = [*default_aux_split(cols), [], []][:2]
    secrets = (cfg.get("inference") or {}).get("secrets")
    if isinstance(secrets, list) and secrets and set(secrets) <= set(cols):
        chosen = list(secrets)
    else:
        chosen = cols
    target = (cfg.get("utility") or {}).get("target")
    return {
        "aux_a": aux_a,
        "aux_b": aux_b,
        "secrets": chosen,
        "target": target if target in cols else None,
    }


# --------------------------------------------------------------------------------------------------
# Enqueueing a release evaluation
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# Executing a release evaluation (in the worker)
# --------------------------------------------------------------------------------------------------


def is_release_evaluation(run: RunRecord) -> bool:
    return run.target_kind == "release" or run.params.get("kind") == RELEASE_KIND


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


# --------------------------------------------------------------------------------------------------
# Enqueueing a tuning run
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamField:
    """One parameter of a generator, as the tuning form shows it."""

    name: str
    kind: Literal["int", "float", "bool", "choice", "text"]
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    options: tuple[Any, ...] = ()
    optional: bool = False  # None is allowed (the generator then chooses)
    primary: bool = False


def generator_choices() -> dict[str, dict[str, Any]]:
    """Every generator: ``{name: {"description", "has_epsilon", "needs_holdout"}}``."""
    from generators import available_generators

    return {
        name: {
            "description": info.description,
            "has_epsilon": info.has_epsilon,
            "needs_holdout": info.needs_holdout,
        }
        for name, info in available_generators().items()
    }


def _field_for(name: str, default: Any, constraints: Sequence[Any]) -> ParamField | None:
    from generators._params import Interval, Options, TypeIs

    optional = any(isinstance(c, TypeIs) and type(None) in c.types for c in constraints)
    interval = next((c for c in constraints if isinstance(c, Interval)), None)
    options = next((c for c in constraints if isinstance(c, Options)), None)
    primary = name in _PRIMARY_PARAMS
    if options is not None:
        return ParamField(name, "choice", default, options=tuple(options.values), primary=primary)
    if isinstance(default, bool):
        return ParamField(name, "bool", default, primary=primary)
    kind: Literal["int", "float"] | None = None
    if interval is not None:
        kind = "int" if interval.kind is int else "float"
    elif isinstance(default, int):
        kind = "int"
    elif isinstance(default, float):
        kind = "float"
    if kind is not None:
        lo = None if interval is None else interval.left
        hi = None if interval is None else interval.right
        if lo is not None and interval is not None and interval.closed in ("neither", "right"):
            lo = lo + (1 if kind == "int" else 1e-9)
        return ParamField(
            name, kind, default, minimum=lo, maximum=hi, optional=optional, primary=primary
        )
    if isinstance(default, str):
        return ParamField(name, "text", default, primary=primary)
    return None  # tuples, dicts: not offered in the form (set them in a study.toml)


def generator_param_fields(generator: str, *, dataset: str | None = None) -> list[ParamField]:
    """The parameters the tuning form offers for ``generator``, primary ones first.

    Defaults are the generator's own, replaced by the values the dataset's study.toml gives for this
    generator (e.g. ``epochs = 30`` for the demo's CTGAN), so a first run finishes in reasonable time.
    """
    from generators.registry import generator_factory

    factory = generator_factory(generator)
    constraints: Mapping[str, Sequence[Any]] = getattr(factory, "_parameter_constraints", {}) or {}
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return []
    study_params: dict[str, Any] = {}
    if dataset is not None:
        for g in tuning_spec(dataset).generators:
            if g.name == generator:
                study_params = dict(g.params)
                break
    fields = []
    for p in sig.parameters.values():
        if p.kind not in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) or p.name in _RUNTIME_PARAMS:
            continue
        default = None if p.default is inspect.Parameter.empty else p.default
        f = _field_for(p.name, default, constraints.get(p.name, ()))
        if f is None:
            continue
        if p.name in study_params:
            f = ParamField(**{**f.__dict__, "default": study_params[p.name]})
        fields.append(f)
    order = {n: i for i, n in enumerate(_PRIMARY_PARAMS)}
    fields.sort(key=lambda f: (not f.primary, order.get(f.name, 99)))
    return fields


def _generator_defaults(generator: str) -> dict[str, Any]:
    from generators.registry import generator_factory

    try:
        sig = inspect.signature(generator_factory(generator))
    except (TypeError, ValueError):
        return {}
    return {
        p.name: p.default
        for p in sig.parameters.values()
        if p.default is not inspect.Parameter.empty
    }


def _clean_params(generator: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters that differ from the generator's defaults (shorter labels, same run keys for
    the same configuration), with numbers as plain Python numbers."""
    defaults = _generator_defaults(generator)
    out: dict[str, Any] = {}
    for k, v in params.items():
        if hasattr(v, "item"):
            v = v.item()
        if isinstance(v, float) and v.is_integer() and isinstance(defaults.get(k), int):
            v = int(v)
        if k in defaults and defaults[k] == v and type(defaults[k]) is type(v):
            continue
        out[k] = v
    return out


def _record_tuning_study(store: Store, spec: StudySpec) -> None:
    from synth_audit.store import canonical_json
    from synth_audit.study.spec import StudySpec

    try:
        stored = store.get_study(spec.name)
    except StoreError:
        store.ensure_study(spec.name, spec.to_dict())
        return
    old = StudySpec.from_dict(stored.spec, source=f"The stored spec of study {spec.name!r}")
    if canonical_json(old.evaluation_identity()) != canonical_json(spec.evaluation_identity()):
        raise ConfigError(
            f"The study {spec.name!r} in the store {store.url} was run with other settings (data, "
            "split or evaluation) than its study.toml now has, so a new run would not be comparable "
            "with its earlier runs. Run the study under a new name, or use another store."
        )


def enqueue_run(
    store: Store,
    spec: StudySpec,
    *,
    generator: str,
    params: Mapping[str, Any] | None = None,
    seed_index: int = 0,
) -> str:
    """Queue one run of ``generator`` with ``params`` in the study ``spec``; return its id (see
    :func:`submit_run`, which also says whether a stored run was reused)."""
    return submit_run(store, spec, generator=generator, params=params, seed_index=seed_index).run_id


def submit_run(
    store: Store,
    spec: StudySpec,
    *,
    generator: str,
    params: Mapping[str, Any] | None = None,
    seed_index: int = 0,
) -> Submission:
    """Queue one run of ``generator`` with ``params`` in the study ``spec``.

    The seed is the study's child seed ``seed_index`` (so the run is paired with the study's own
    runs of that seed). The generator and its parameters are checked now (a ConfigError lists every
    problem). The same configuration twice gives the same run (re-queued if it had failed).
    """
    from generators import make_generator
    from synth_audit.store import make_run_key
    from synth_audit.study.data import load_study_data
    from synth_audit.study.provenance import code_version
    from synth_audit.study.spec import child_seed

    if isinstance(seed_index, bool) or not isinstance(seed_index, int) or seed_index < 0:
        raise ConfigError(f"The seed index must be an int >= 0. Got {seed_index!r}.")
    clean = _clean_params(generator, dict(params or {}))
    make_generator(generator, **clean)  # ConfigError for unknown names, parameters or values
    seed = child_seed(spec.seed, seed_index)
    data = load_study_data(spec)
    fps = {k: dict(v) for k, v in data.fingerprints.items()}
    _record_tuning_study(store, spec)
    key = make_run_key(study=spec.name, generator=generator, params=clean, seed=seed)
    return _add_or_reuse(
        store,
        what="configuration",
        study=spec.name,
        run_key=key,
        generator=generator,
        params=clean,
        seed=seed,
        code_version=code_version(),
        data_fingerprints=fps,
    )


def enqueue_tuning_run(
    store: Store,
    dataset: str,
    generator: str,
    params: Mapping[str, Any] | None = None,
    seed_index: int = 0,
) -> str:
    """Queue one run in the study of the shipped sample ``dataset`` (see :func:`enqueue_run`)."""
    return submit_tuning_run(store, dataset, generator, params, seed_index=seed_index).run_id


def submit_tuning_run(
    store: Store,
    dataset: str,
    generator: str,
    params: Mapping[str, Any] | None = None,
    seed_index: int = 0,
) -> Submission:
    """Queue one run in the study of the shipped sample ``dataset`` (see :func:`submit_run`)."""
    return submit_run(
        store, tuning_spec(dataset), generator=generator, params=params, seed_index=seed_index
    )


# --------------------------------------------------------------------------------------------------
# Reading back
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunStatusView:
    """Where one run stands, for the page's progress display."""

    run_id: str
    status: str
    progress: float
    message: str
    error: str | None
    study: str | None
    label: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    worker_id: str | None
    queued_before: int = 0
    summary: dict[str, Any] = field(default_factory=dict)
    heartbeat_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def waited_s(self) -> float:
        return (_now() - self.created_at).total_seconds()

    @property
    def silent_s(self) -> float | None:
        """Seconds since the worker's last heartbeat (running runs only)."""
        if self.status != "running":
            return None
        last = self.heartbeat_at or self.started_at
        return None if last is None else (_now() - last).total_seconds()

    @property
    def elapsed_s(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or _now()
        return (end - self.started_at).total_seconds()


def run_label(run: RunRecord) -> str:
    """A short label: ``ctgan(epochs=30)`` or the evaluation's label."""
    if is_release_evaluation(run):
        return str(run.params.get("label") or "release evaluation")
    params = ", ".join(f"{k}={v}" for k, v in sorted(run.params.items()))
    return f"{run.generator}({params})" if params else run.generator


def run_status(store: Store, run_id: str) -> RunStatusView:
    """The run's status, progress and message (one small query; two while it is queued)."""
    run_id = store.resolve_run_id(run_id)  # a unique prefix is enough
    run = store.get_run(run_id)
    queued_before = 0
    if run.status == "queued":
        queued_before = max(0, store.count_runs(status="queued") - 1)
    progress = run.progress if run.progress is not None else 0.0
    if run.status == "done":
        progress = 1.0
    message = (
        run.progress_message
        or {
            "queued": "waiting for a worker",
            "running": "starting",
            "done": "done",
            "failed": "failed",
        }[run.status]
    )
    return RunStatusView(
        run_id=run.id,
        status=run.status,
        progress=float(min(1.0, max(0.0, progress))),
        message=message,
        error=run.error,
        study=run.study,
        label=run_label(run),
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        worker_id=run.worker_id,
        queued_before=queued_before,
        summary=dict(run.summary),
        heartbeat_at=run.heartbeat_at,
    )


def requeue(store: Store, run_id: str) -> None:
    """Put a failed run back in the queue."""
    run_id = store.resolve_run_id(run_id)  # a unique prefix is enough
    store.requeue_run(run_id)


def describe_run(run: RunRecord) -> dict[str, Any]:
    """One row of the runs table (no artefact is read)."""
    s = run.summary
    seconds = s.get("seconds")
    error = (run.error or "").strip().splitlines()
    return {
        "run_id": run.id,
        "study": run.study,
        "run": run_label(run),
        "generator": run.generator,
        "seed": seed_text(run),
        "status": run.status,
        "progress": None if run.progress is None else float(run.progress),
        "risk": as_float(s.get("risk")),
        "risk_ci_high": as_float(s.get("risk_ci_high")),
        "risk_from": s.get("risk_attack"),
        "utility": as_float(s.get("utility")),
        "created": run.created_at,
        "finished": run.finished_at,
        "seconds": as_float(seconds),
        "worker": run.worker_id,
        "error": error[0][:300] if error else None,
    }


@dataclass(frozen=True)
class RunsPage:
    """One page of runs (newest first) and how many match the filters."""

    frame: pd.DataFrame
    total: int
    offset: int
    limit: int


_RUN_COLUMNS = [
    "run_id",
    "study",
    "run",
    "generator",
    "seed",
    "status",
    "progress",
    "risk",
    "risk_ci_high",
    "risk_from",
    "utility",
    "created",
    "finished",
    "seconds",
    "worker",
    "error",
]


def list_runs_frame(
    store: Store,
    *,
    study: str | None = None,
    status: str | Sequence[str] | None = None,
    generator: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> RunsPage:
    """Runs matching the filters, newest first, ``limit`` of them from ``offset`` (paginated in the
    database: a store of any size costs two small queries)."""
    import pandas as pd

    if limit < 1 or offset < 0:
        raise ConfigError(f"Page sizes must be >= 1 and offsets >= 0. Got {limit} and {offset}.")
    filters: dict[str, Any] = {"study": study, "status": status, "generator": generator}
    total = store.count_runs(**filters)
    # Newest first: the page [offset, offset + limit) counted from the newest run is the ascending
    # window [total - offset - limit, total - offset).
    end = max(0, total - offset)
    start = max(0, end - limit)
    records = store.list_runs(**filters, limit=end - start, offset=start) if end > start else []
    rows = [describe_run(r) for r in reversed(records)]
    frame = pd.DataFrame.from_records(rows, columns=_RUN_COLUMNS)
    return RunsPage(frame=frame, total=total, offset=offset, limit=limit)


def study_names(store: Store) -> list[str]:
    """Studies in the store, newest first."""
    return [s.name for s in reversed(store.list_studies())]


def frontier_data(
    store: Store, study: str, *, risk: str | None = None, conservative: bool = False
) -> Frontier:
    """The privacy-utility frontier of a study's done runs.

    Fast path: every done run's summary records its risk (with CI and attack) and utility under
    the study's frontier definitions (the runner and :func:`execute_release_evaluation` write them).
    When the risk asked for is the one recorded, the points come from the summaries (one query,
    no result rows), the same numbers :func:`synth_audit.frontier.frontier_for_study` computes from
    the results. Any other risk (e.g. a membership TPR), or a run without those summary keys, takes
    the full computation over the study's results.
    """
    from synth_audit.frontier import WORST, Frontier, FrontierPoint, frontier_for_study

    settings = dict(store.get_study(study).spec.get("frontier") or {})
    risk_name = risk or str(settings.get("risk") or WORST)
    utility_name = str(settings.get("utility") or "utility.score")
    runs = store.list_runs(study=study, status="done")
    fast = all(
        r.summary.get("risk_definition") == risk_name
        and r.summary.get("utility_metric") == utility_name
        for r in runs
    )
    if not fast:
        return frontier_for_study(store, study, risk=risk, conservative=conservative)
    points: list[FrontierPoint] = []
    excluded: dict[str, str] = {}
    for r in runs:
        s = r.summary
        value, utility = as_float(s.get("risk")), as_float(s.get("utility"))
        if value is None or utility is None:
            missing = [n for n, v in (("risk", value), ("utility", utility)) if v is None]
            excluded[r.id] = f"no {' and no '.join(missing)} result"
            continue
        seed_index = s.get("seed_index")
        points.append(
            FrontierPoint(
                run_id=r.id,
                generator=r.generator,
                params=dict(r.params) if not is_release_evaluation(r) else {"label": run_label(r)},
                seed=int(r.seed),
                seed_index=None if seed_index is None else int(seed_index),
                risk=value,
                risk_ci_low=as_float(s.get("risk_ci_low")),
                risk_ci_high=as_float(s.get("risk_ci_high")),
                risk_attack=str(s.get("risk_attack") or ""),
                utility=utility,
            )
        )
    return Frontier.from_points(
        points,
        study=study,
        risk=risk_name,
        utility=utility_name,
        conservative=conservative,
        excluded=excluded,
    )


def run_details(store: Store, run_id: str) -> dict[str, Any]:
    """A run, its results (a frame: metric, value, ci_low, ci_high, n) and its artefact kinds."""
    run_id = store.resolve_run_id(run_id)  # a unique prefix is enough
    import pandas as pd

    run = store.get_run(run_id)
    results = store.results_for(run_id)
    frame = pd.DataFrame.from_records(
        [
            {
                "metric": r.metric,
                "value": r.value,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "n": r.n,
            }
            for r in results
        ],
        columns=["metric", "value", "ci_low", "ci_high", "n"],
    )
    kinds = [a.kind for a in store.artefacts_for(run_id)]
    return {"run": run, "label": run_label(run), "results": frame, "artefacts": kinds}


def _report_row(store: Store, run_id: str) -> dict[str, Any] | None:
    kinds = {a.kind for a in store.artefacts_for(run_id)}
    if "report" not in kinds:
        return None
    df = store.read_artefact(run_id, "report")
    if df.empty:
        return None
    return {str(k): v for k, v in df.iloc[0].items() if isinstance(v, str)}


def report_for_run(store: Store, run_id: str) -> AuditReport | None:
    """The run's release audit report (``None`` when the run has none yet), with per-record outcomes
    restored from the ``per_record`` artefact where there is one."""
    run_id = store.resolve_run_id(run_id)  # a unique prefix is enough
    from dataclasses import replace

    from synth_audit.report.model import AuditReport

    row = _report_row(store, run_id)
    if row is None or "report_json" not in row:
        return None
    report = AuditReport.from_dict(json.loads(row["report_json"]))
    kinds = {a.kind for a in store.artefacts_for(run_id)}
    if "per_record" not in kinds:
        return report
    per = store.read_artefact(run_id, "per_record")
    if "attack" not in per.columns:
        return report

    def restore(name: str, r: Any) -> Any:
        sub = per[per["attack"] == name].drop(columns=["attack"]).reset_index(drop=True)
        sub = sub.dropna(axis=1, how="all")
        return replace(r, per_record=sub) if len(sub) else r

    attacks = {k: restore(k, r) for k, r in report.attacks.items()}
    inference = {k: restore(f"inference[{k}]", r) for k, r in report.inference.items()}
    return replace(report, attacks=attacks, inference=inference)


def report_files(store: Store, run_id: str) -> dict[str, bytes]:
    """``report.json``, ``report.html`` and ``audit_card.md`` of a run ({} when it has no report).

    Evaluations store all three; for study runs the HTML and the card are rendered from the stored
    report (with its per-record outcomes) on demand.
    """
    run_id = store.resolve_run_id(run_id)  # a unique prefix is enough
    from synth_audit.report.card import render_audit_card
    from synth_audit.report.html import render_html

    row = _report_row(store, run_id)
    if row is None or "report_json" not in row:
        return {}
    out = {"report.json": (row["report_json"].rstrip("\n") + "\n").encode("utf-8")}
    if "report_html" in row and "audit_card_md" in row:
        out["report.html"] = row["report_html"].encode("utf-8")
        out["audit_card.md"] = row["audit_card_md"].encode("utf-8")
        return out
    report = report_for_run(store, run_id)
    if report is not None:
        out["report.html"] = render_html(report).encode("utf-8")
        out["audit_card.md"] = render_audit_card(report).encode("utf-8")
    return out


def exposed_records(store: Store, run_id: str, *, top: int = 20) -> pd.DataFrame:
    """The training records most often attacked successfully, with their values where the run is
    an evaluation (its train table is in the store)."""
    run_id = store.resolve_run_id(run_id)  # a unique prefix is enough
    import pandas as pd

    kinds = {a.kind for a in store.artefacts_for(run_id)}
    if "exposed_records" in kinds:
        exposed = store.read_artefact(run_id, "exposed_records").head(top)
    else:
        report = report_for_run(store, run_id)
        if report is None:
            return pd.DataFrame(columns=["record", "n_successful_attacks", "attacks"])
        exposed = report.exposed_records(top)
    run = store.get_run(run_id)
    ref = (run.params.get("inputs") or {}).get("train") if is_release_evaluation(run) else None
    if ref is None or exposed.empty or "record" not in exposed.columns:
        return exposed.reset_index(drop=True)
    try:
        train = read_input(store, ref)
    except StoreError:
        return exposed.reset_index(drop=True)
    idx = pd.to_numeric(exposed["record"], errors="coerce")
    ok = idx.notna() & (idx >= 0) & (idx < len(train))
    values = train.iloc[idx[ok].astype(int).to_numpy()].reset_index(drop=True)
    values.columns = [str(c) for c in values.columns]
    left = exposed[ok].reset_index(drop=True)
    clash = [c for c in values.columns if c in left.columns]
    values = values.rename(columns={c: f"{c} (value)" for c in clash})
    return pd.concat([left, values], axis=1)


def is_rate_metric(metric: str) -> bool:
    """Whether a result row holds a rate or a risk (shown as a percentage on every surface) rather
    than a score, an AUC or a count (shown as a number)."""
    last = metric.rsplit(".", 1)[-1]
    return last in ("risk", "share_closer_to_train") or last.startswith("tpr_at")


def format_metric(
    metric: str, value: float | None, ci_low: float | None = None, ci_high: float | None = None
) -> str:
    """A result for people, as every surface writes it: rates as ``3.15 % [0.00 %, 7.77 %]``,
    other quantities as ``0.9512 [0.9401, 0.9623]``; ``n/a`` when missing."""
    from synth_audit.report.wording import MISSING, fmt_ci, fmt_num, fmt_pct, fmt_risk

    if as_float(value) is None:
        return MISSING
    has_ci = as_float(ci_low) is not None and as_float(ci_high) is not None
    if is_rate_metric(metric):
        if not has_ci:
            return fmt_pct(value)
        return (
            fmt_risk(value, ci_low, ci_high)
            if metric.endswith(".risk")
            else (f"{fmt_pct(value)} {fmt_ci(ci_low, ci_high)}")
        )
    if has_ci:
        return f"{fmt_num(value)} [{fmt_num(ci_low)}, {fmt_num(ci_high)}]"
    return fmt_num(value)


def results_display(results: pd.DataFrame) -> pd.DataFrame:
    """A run's result rows (:func:`run_details`) as text for a table: one column with each value
    and its CI in the quantity's format, and the number of trials."""
    import pandas as pd

    from synth_audit.report.wording import MISSING, fmt_num

    rows = [
        {
            "metric": str(r["metric"]),
            "value [CI]": format_metric(
                str(r["metric"]), r.get("value"), r.get("ci_low"), r.get("ci_high")
            ),
            "n": MISSING if as_float(r.get("n")) is None else fmt_num(int(r["n"])),
        }
        for r in results.to_dict("records")
    ]
    return pd.DataFrame(rows, columns=["metric", "value [CI]", "n"])


def seed_text(run: RunRecord) -> str:
    """``seed #3`` for a study run (its seed number), ``seed 42`` for an evaluation (the seed the
    user chose, or a study run not finished yet); the raw 32-bit seed of a study run stays in the
    run's details."""
    index = run.summary.get("seed_index")
    return f"seed #{int(index)}" if index is not None else f"seed {run.seed}"


def compare_runs(store: Store, run_ids: Sequence[str]) -> pd.DataFrame:
    """Results of several runs side by side: one row per metric, one column per run (its label and
    short id), each cell ``value [ci_low, ci_high]``; risk and utility first."""
    run_ids = [store.resolve_run_id(r) for r in run_ids]
    import pandas as pd

    columns: dict[str, dict[str, str]] = {}
    order: list[str] = []
    for rid in run_ids:
        run = store.get_run(rid)
        name = f"{run_label(run)} · {rid[:8]}"
        cells: dict[str, str] = {
            "status": run.status,
            "seed": seed_text(run),
        }
        for r in store.results_for(rid):
            cells[r.metric] = format_metric(r.metric, r.value, r.ci_low, r.ci_high)
            if r.metric not in order:
                order.append(r.metric)
        columns[name] = cells

    def rank(metric: str) -> tuple[int, str]:
        if metric in ("status", "seed"):
            return (0, metric)
        if metric == "utility.score":
            return (1, metric)
        if metric.endswith(".risk"):
            return (2, metric)
        if metric.startswith("utility."):
            return (3, metric)
        return (4, metric)

    metrics = sorted(["status", "seed", *order], key=rank)
    frame = pd.DataFrame(columns, index=metrics)
    frame.index.name = "metric"
    return frame.fillna("—")  # not measured in that run
