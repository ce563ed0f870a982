"""What one run executes, by the kind of target it audits.

A run's ``target_kind`` (stored with the run, see :mod:`synth_audit.targets`) picks its task:

``release``            :func:`execute_release_run`: a given release (uploaded in the app) is audited;
``tabular_generator``  :func:`execute_generator_run`: the generator is fitted on the study's train
                       split, releases data, and the release is audited with membership attacks;
any other kind         when the registered target class has ``execute_run(store, run, beat)``
                       (a classifier, a language model, a time-series or diffusion generator, or a
                       plugin), that task runs the whole run; otherwise a target with the
                       capabilities ``release`` and ``refit`` runs :func:`execute_generator_run`
                       unchanged (the target registry builds it).

A kind's own task uses the same pieces as the built-in ones: :func:`spec_of` (the study's spec),
:func:`run_seeds` (the run's child seeds), :func:`seed_index`, :func:`check_fingerprints`,
:func:`synth_audit.study.rows.report_rows` / ``membership_rows`` / ``section_rows``, and
``store.write_artefact``; it returns the same ``(summary, rows, artefacts)`` (the summary with
``risk``, ``risk_ci_low``, ``risk_ci_high``, ``risk_attack``, ``utility``, ``utility_metric``,
``target``, ``seeds`` and ``timings_s``, as :func:`execute_generator_run` writes it).

Every task returns ``(summary, result rows, artefacts)``; the runner records them with
:meth:`Store.finish_run` or marks the run failed. Runs stored before target kinds existed were
migrated (store revision 0002); a ``release`` run is also recognised by its params (``kind``).
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import numpy as np

from synth_audit._logging import get_logger
from synth_audit.errors import ConfigError, StoreError, format_names
from synth_audit.partition import dask_worker_executor
from synth_audit.store import ArtefactRow, ResultRow, RunRecord, Store
from synth_audit.study.data import StudyData, load_study_data
from synth_audit.study.provenance import worker_id
from synth_audit.study.rows import membership_rows, report_rows
from synth_audit.study.spec import StudySpec
from synth_audit.targets.registry import make_target

if TYPE_CHECKING:
    import pandas as pd

    from synth_audit.membership import MembershipResult
    from synth_audit.report.model import AuditReport

__all__ = [
    "RELEASE_EVALUATION",
    "check_fingerprints",
    "execute_generator_run",
    "execute_release_run",
    "execute_task",
    "parquet_safe",
    "read_input",
    "run_seeds",
    "seed_index",
    "spec_of",
]

_log = get_logger(__name__)

#: ``params["kind"]`` that release-evaluation runs carry (part of their run key; kept as is).
RELEASE_EVALUATION = "release_evaluation"

TaskResult: TypeAlias = "tuple[dict[str, Any], list[ResultRow], list[ArtefactRow]]"


class Beat(Protocol):
    """The running run's heartbeat: progress updates, and whether the run lost its claim."""

    lost: str | None

    def update(self, progress: float, message: str) -> None: ...


def execute_task(st: Store, run: RunRecord, beat: Beat) -> TaskResult:
    """Execute ``run`` with the task of its target kind."""
    if run.target_kind == "release" or run.params.get("kind") == RELEASE_EVALUATION:
        return execute_release_run(st, run, beat)
    if run.target_kind != "tabular_generator":
        from synth_audit.targets.registry import target_class

        own = getattr(target_class(run.target_kind), "execute_run", None)
        if callable(own):
            return own(st, run, beat)  # type: ignore[no-any-return]
    return execute_generator_run(st, run, beat)


def _spec_of(store: Store, study: str) -> StudySpec:
    return StudySpec.from_dict(
        store.get_study(study).spec, source=f"The stored spec of study {study!r}"
    )


def _check_fingerprints(run: RunRecord, data: StudyData) -> None:
    recorded = run.data_fingerprints or {}
    changed = [
        part
        for part, fp in recorded.items()
        if part != "source" and data.fingerprints.get(part, {}).get("sha256") != fp.get("sha256")
    ]
    if changed:
        raise ConfigError(
            f"The study's data changed since run {run.id} was queued: the {', '.join(changed)} "
            f"split(s) differ from the ones recorded (data file "
            f"{recorded.get('source', {}).get('path', '?')}). Restore the file, or run the study "
            "under a new name."
        )


def _seeds(seed: int) -> dict[str, int]:
    names = ("fit", "sample", "audit", "membership", "shadow")
    children = np.random.SeedSequence(int(seed)).spawn(len(names))
    return {n: int(c.generate_state(1)[0]) for n, c in zip(names, children)}


def _per_record_frame(report: AuditReport) -> pd.DataFrame:
    """Per-record outcomes with Parquet-safe columns (mixed object columns become text)."""
    import pandas as pd

    frame = report.per_record()
    out = {}
    for col in frame.columns:
        s = frame[col]
        if s.dtype == object:
            kinds = {type(v) for v in s.dropna()}
            if len(kinds) > 1 or (kinds and not kinds <= {str}):
                if kinds <= {bool}:
                    s = s.astype("boolean")
                else:
                    s = s.map(lambda v: None if v is None or v is pd.NA else str(v))
        out[str(col)] = s
    return pd.DataFrame(out)


def _exposed_frame(results: Mapping[str, MembershipResult]) -> pd.DataFrame:
    import pandas as pd

    rows = [
        {"attack": name, "rank": i + 1, "record_id": str(rid), "score": float(score)}
        for name, res in results.items()
        for i, (rid, score, _member) in enumerate(res.top_exposed)
    ]
    return pd.DataFrame(rows, columns=["attack", "rank", "record_id", "score"])


def execute_release_run(st: Store, run: RunRecord, beat: Beat) -> TaskResult:
    """A queued evaluation of a given release (target kind ``release``): the app's Evaluate view.

    The inputs were written to the store's artefact area when the evaluation was queued
    (:func:`synth_audit.service.submit_evaluation`); their SHA-256 is checked on read. Artefacts
    written: ``report`` (one row: ``report_json``, ``report_html``, ``audit_card_md``),
    ``per_record`` and ``exposed_records``.
    """
    import dataclasses

    import pandas as pd

    from synth_audit.config import AuditConfig
    from synth_audit.evaluate import evaluate_release
    from synth_audit.frontier import run_risk
    from synth_audit.report.card import render_audit_card
    from synth_audit.report.html import render_html
    from synth_audit.targets import ReleaseTarget

    t0 = time.perf_counter()
    beat.update(0.02, "reading the inputs")
    refs = dict(run.params.get("inputs") or {})
    missing = [r for r in ("train", "synthetic") if r not in refs]
    if missing:
        raise ConfigError(f"Run {run.id} lacks the input(s) {format_names(missing)}.")
    frames = {role: read_input(st, ref) for role, ref in refs.items()}
    cfg = AuditConfig.from_mapping(
        dict(run.params.get("config") or {}), source="The evaluation settings"
    )

    def on_step(step: str, done: int, total: int) -> None:
        beat.update(0.05 + 0.85 * done / max(total, 1), f"audit: {step}")

    n_queries = len(frames["train"]) + len(frames.get("control", ()))
    with dask_worker_executor(n_queries) as spread:  # on Dask: the audit spread over the cluster
        report = evaluate_release(
            train=frames["train"],
            synthetic=frames["synthetic"],
            control=frames.get("control"),
            config=cfg,
            progress=on_step,
            executor=spread,
        )
    label = run.params.get("label")
    target = ReleaseTarget(
        frames["synthetic"], name=str(label or refs["synthetic"].get("name") or "release")
    )
    report = dataclasses.replace(
        report, target=target.info().to_dict(), study=run.study, run_id=run.id
    )
    beat.update(0.92, "writing the reports")
    rows = report_rows(report)
    report_frame = pd.DataFrame(
        {
            "report_json": [report.to_json()],
            "report_html": [render_html(report)],
            "audit_card_md": [render_audit_card(report)],
        }
    )
    arts = [
        st.write_artefact(run.id, "report", report_frame),
        st.write_artefact(run.id, "per_record", parquet_safe(report.per_record())),
        st.write_artefact(
            run.id, "exposed_records", parquet_safe(report.exposed_records(top=sys.maxsize))
        ),
    ]
    by_metric = {r.metric: r for r in rows}
    risk = run_risk(by_metric, "worst")
    s = report.summary()
    summary: dict[str, Any] = {
        "kind": RELEASE_EVALUATION,
        "label": label,
        "target": target.info().to_dict(),
        "risk": None if risk is None else risk.value,
        "risk_ci_low": None if risk is None else risk.ci_low,
        "risk_ci_high": None if risk is None else risk.ci_high,
        "risk_attack": None if risk is None else risk.attack,
        "risk_definition": "worst",
        "utility": report.utility_score,
        "utility_metric": "utility.score",
        "max_risk_ci_high": s.get("max_risk_ci_high"),
        "n_warnings": len(report.all_warnings()),
        "worker": worker_id(),
        "timings_s": dict(report.timings_s),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    return summary, rows, arts


def read_input(store: Store, ref: Mapping[str, Any]) -> pd.DataFrame:
    """Read an input table written when an evaluation was queued, after checking its SHA-256."""
    import io

    import pandas as pd

    rel = str(ref.get("path", ""))
    root = store.artefact_root.resolve()
    path = (root / rel).resolve()
    if not rel or not path.is_relative_to(root):
        raise StoreError(f"The input path {rel!r} is not inside the store's artefact root {root}.")
    if not path.is_file():
        raise StoreError(
            f"The input file {path} of this evaluation is missing from the store's artefact area. "
            "Upload the files again."
        )
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != ref.get("sha256"):
        raise StoreError(
            f"The input file {path} does not match the SHA-256 recorded when it was uploaded: it "
            "was modified. Upload the files again."
        )
    return pd.read_parquet(io.BytesIO(data), engine="pyarrow")


def parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Parquet-safe copy: object columns mixing types become text (missing stays missing)."""
    import pandas as pd

    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = (
                out[c].map(lambda v: v if v is None or v != v else str(v)).astype(pd.StringDtype())
            )
    out.columns = [str(c) for c in out.columns]
    return out.reset_index(drop=True)


def execute_generator_run(st: Store, run: RunRecord, beat: Beat) -> TaskResult:
    """A study run of a target that releases data and can be re-fit (a generator).

    Fits the target on ``train``, releases ``synthetic_size`` rows, audits the release against
    ``control`` and runs the configured membership attacks; the stored report carries the target's
    provenance (:class:`~synth_audit.targets.TargetInfo`), the study, the run and every
    membership result.
    """
    import dataclasses

    import pandas as pd

    from synth_audit import __version__
    from synth_audit.evaluate import evaluate_release
    from synth_audit.frontier import run_risk
    from synth_audit.targets import Capability, require

    assert run.study is not None
    spec = _spec_of(st, run.study)
    seeds = _seeds(run.seed)
    timings: dict[str, float] = {}

    def step(name: str, progress: float) -> Callable[[], None]:
        beat.update(progress, name)
        t = time.perf_counter()

        def done() -> None:
            timings[name] = round(time.perf_counter() - t, 3)

        return done

    end = step("data", 0.01)
    data = load_study_data(spec)
    _check_fingerprints(run, data)
    schema = _run_schema(spec, data)
    end()

    end = step("fit", 0.05)
    target = make_target(run.target_kind, run.generator, run.params)
    require(target, [Capability.RELEASE, Capability.REFIT], who=f"Study run {run.id}")
    needs_holdout = getattr(getattr(target, "generator", target), "needs_holdout", False)
    holdout = data.holdout if needs_holdout else None
    target.fit(data.train, schema=schema, random_state=seeds["fit"], holdout=holdout)
    end()

    end = step("sample", 0.3)
    n_synth = spec.synthetic_size or len(data.train)
    synthetic = target.release(n_synth, random_state=seeds["sample"])
    arts = [st.write_artefact(run.id, "synthetic", synthetic)]
    end()

    end = step("audit", 0.35)

    def audit_progress(step: str, done: int, total: int) -> None:
        beat.update(0.35 + 0.45 * (done / max(total, 1)), f"audit: {step}")

    cfg = spec.audit_config(seed=seeds["audit"])
    n_queries = len(data.train) + (len(data.control) if data.control is not None else 0)
    with dask_worker_executor(n_queries) as spread:  # on Dask: the audit spread over the cluster
        report = evaluate_release(
            train=data.train,
            synthetic=synthetic,
            control=data.control,
            config=cfg,
            progress=audit_progress,
            executor=spread,
        )
    rows = report_rows(report)
    end()

    membership: dict[str, MembershipResult] = {}
    audits = _membership_audits(spec)
    nobox = {k: a for k, a in audits.items() if k != "shadow"}
    mdata = _membership_data(data, schema, release=synthetic, target=target)
    if nobox:
        end = step("membership", 0.8)
        from synth_audit.audits import run_membership_audits

        membership.update(
            run_membership_audits(
                nobox,  # type: ignore[arg-type]
                mdata,
                random_state=seeds["membership"],
                confidence_level=spec.confidence_level,
            )
        )
        end()
    if "shadow" in audits:
        end = step("shadow", 0.85)
        membership["shadow"] = _shadow(spec, target, data, schema, seeds["shadow"], beat, st)
        end()
    for name, res in membership.items():
        rows.extend(membership_rows(name, res))
    info = target.info()
    report = dataclasses.replace(
        report,
        membership={name: res.to_dict() for name, res in membership.items()},
        target=info.to_dict(),
        study=run.study,
        run_id=run.id,
    )

    beat.update(0.95, "artefacts")
    arts.append(st.write_artefact(run.id, "per_record", _per_record_frame(report)))
    if membership:
        arts.append(st.write_artefact(run.id, "membership_exposed", _exposed_frame(membership)))
    arts.append(
        st.write_artefact(run.id, "report", pd.DataFrame({"report_json": [report.to_json()]}))
    )

    by_metric = {r.metric: r for r in rows}
    risk = run_risk(by_metric, spec.frontier.risk)
    utility = by_metric.get(spec.frontier.utility)
    summary: dict[str, Any] = {
        "risk": None if risk is None else risk.value,
        "risk_ci_low": None if risk is None else risk.ci_low,
        "risk_ci_high": None if risk is None else risk.ci_high,
        "risk_attack": None if risk is None else risk.attack,
        "risk_definition": spec.frontier.risk,
        "utility": None if utility is None else utility.value,
        "utility_metric": spec.frontier.utility,
        "n_synthetic": int(n_synth),
        "target": info.to_dict(),
        "seeds": seeds,
        "seed_index": _seed_index(spec, run.seed),
        "n_warnings": len(report.all_warnings()),
        "worker": worker_id(),
        "worker_code_version": f"synth-audit {__version__}",
        "timings_s": timings,
    }
    if membership:
        summary["membership_auc"] = {k: v.auc for k, v in membership.items()}
    if beat.lost:
        raise StoreError(f"The run lost its claim while executing: {beat.lost}")
    return summary, rows, arts


def _seed_index(spec: StudySpec, seed: int) -> int | None:
    from synth_audit.study.spec import child_seed

    for i in range(spec.seeds):
        if child_seed(spec.seed, i) == seed:
            return i
    return None


def _run_schema(spec: StudySpec, data: StudyData) -> Any:
    from synth_audit.schema import infer_schema

    return infer_schema(data.train, {k: v.value for k, v in spec.columns.items()})


def _membership_audits(spec: StudySpec) -> dict[str, Any]:
    """The run's membership audits (:func:`synth_audit.audits.membership_audits`), the shadow
    audit's training-set size resolved from the split as the study defines it."""
    from synth_audit.audits import membership_audits

    audits = membership_audits(spec.membership)
    sh = spec.membership.shadow
    if "shadow" in audits and sh is not None:
        audits["shadow"].set_params(train_size=sh.resolved_train_size(spec.split))
    return audits


def _membership_data(
    data: StudyData, schema: Any, *, release: Any = None, target: Any = None
) -> Any:
    from synth_audit.audits import MembershipData

    return MembershipData(
        members=data.train,
        nonmembers=data.control,
        reference=data.reference,
        release=release,
        target=target,
        schema=schema,
    )


def _shadow_kwargs(
    spec: StudySpec, target: Any, data: StudyData, schema: Any, seed: int
) -> dict[str, Any]:
    """The arguments of the run's shadow attack (and of its fit plan): the same in the runner,
    which submits the fits, and in the run's task, which reads them from the cache
    (:meth:`synth_audit.audits.ShadowMembership.shadow_kwargs`)."""
    audit = _membership_audits(spec)["shadow"]
    return audit.shadow_kwargs(  # type: ignore[no-any-return]
        _membership_data(data, schema, target=target), random_state=seed
    )


def plan_run_fits(store: Store, run: RunRecord, data: StudyData | None = None) -> list[Any]:
    """The fit tasks (:class:`~synth_audit.study.fits.FitTask`) the shadow attack of ``run``
    needs; none when its study has no ``[membership.shadow]``. What the runner submits first."""
    return list(iter_run_fits(store, run, data))


def iter_run_fits(store: Store, run: RunRecord, data: StudyData | None = None) -> Iterator[Any]:
    """:func:`plan_run_fits` one task at a time, so that the runner submits the first fit while
    the next ones are planned (each task hashes its training subset)."""
    from synth_audit.membership.shadow import plan_shadow_fits
    from synth_audit.study.fits import FitTask

    if run.study is None:
        return
    if run.target_kind not in ("tabular_generator", "release"):
        # A target kind with its own run task plans its own fits (reference models, shadow
        # fits of a panel or image generator): ``plan_fits(store, run, data)`` returns tasks with
        # ``key()`` and ``run(store)`` (see :func:`synth_audit.study.fits.run_fit_task`). Kinds
        # without it plan none (their run fits what it needs itself).
        from synth_audit.targets.registry import target_class

        planner = getattr(target_class(run.target_kind), "plan_fits", None)
        if callable(planner):
            yield from planner(store, run, data)
        return
    spec = _spec_of(store, run.study)
    mem = spec.membership
    if not (mem.enabled and mem.shadow is not None):
        return
    data = load_study_data(spec) if data is None else data
    target = make_target(run.target_kind, run.generator, run.params)
    kwargs = _shadow_kwargs(spec, target, data, _run_schema(spec, data), _seeds(run.seed)["shadow"])
    for fit in plan_shadow_fits(**kwargs):
        yield FitTask.of(fit, kind=run.target_kind)


def _shadow(
    spec: StudySpec,
    target: Any,
    data: StudyData,
    schema: Any,
    seed: int,
    beat: Beat,
    store: Store | None = None,
) -> MembershipResult:
    """Shadow modelling against ``n_challenges`` random training records (members of the release).

    Runs :class:`synth_audit.audits.ShadowMembership`. The shadow fits are unfitted clones of the
    run's generator (the target's ``refit``). With a
    ``store``, each fit's sample comes from its fit cache (filled by the fit tasks the runner
    submitted before the run); a fit not cached yet is made here and cached.
    """
    from synth_audit.study.fits import cached_samples

    audit = _membership_audits(spec)["shadow"]

    def progress(step: str, done: int, total: int) -> None:
        beat.update(0.85 + 0.1 * (done / max(total, 1)), f"shadow: {step}")

    samples = None if store is None else cached_samples(store, kind=target.kind)
    result = audit.run(
        _membership_data(data, schema, target=target),
        random_state=seed,
        confidence_level=spec.confidence_level,
        samples=samples,
        progress=progress,
    )
    if samples is not None:
        _log.debug("shadow fits: %d from the cache, %d fitted here", samples.hits, samples.fitted)
    return result  # type: ignore[no-any-return]


#: Public names of the pieces a target kind's own ``execute_run`` composes (see the module's doc).
spec_of = _spec_of
run_seeds = _seeds
seed_index = _seed_index
check_fingerprints = _check_fingerprints
