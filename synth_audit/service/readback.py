"""Reading back: one page of runs (newest first, without touching artefacts), a run's status and
details, its report and report files, its most exposed records, runs side by side, and a study's
frontier."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from synth_audit.errors import ConfigError, StoreError
from synth_audit.frontier import as_float
from synth_audit.service._common import _now, is_release_evaluation
from synth_audit.study.tasks import read_input

if TYPE_CHECKING:
    import pandas as pd

    from synth_audit.frontier import Frontier
    from synth_audit.report.model import AuditReport
    from synth_audit.store import RunRecord, Store


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


def _privacy_text(target: Any) -> str | None:
    """The formal guarantee a run's target claims ("ε = 1, δ = 1e-05"), None when none."""
    if not isinstance(target, Mapping):
        return None
    from synth_audit.report.wording import privacy_claim

    privacy = target.get("privacy") or {}
    if privacy.get("epsilon") is None and privacy.get("delta") is None:
        return None
    return privacy_claim(privacy).split(" (")[0]


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
        "target": run.target_kind,
        "privacy": _privacy_text(s.get("target")),
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
    "target",
    "privacy",
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
