"""``TimeSeriesGeneratorTarget``: a panel generator as a target (kind ``timeseries_generator``).

Capabilities ``release`` (it releases synthetic entities) and ``refit`` (``get_params`` /
``set_params`` / ``clone`` / ``fit``). In a study (``[[generators]]`` with
``kind = "timeseries_generator"``), :meth:`TimeSeriesGeneratorTarget.execute_run` fits it on the
train entities, releases ``synthetic_size`` entities (default: as many as were trained on) and
audits the release with :func:`synth_audit.timeseries.evaluate_panel_release`. The study must split
by entity (``[data] entity`` and ``time``): a row-level split would put one person's rows on both
sides of the membership question, so such a study is refused. ``[membership.shadow]`` runs
:func:`synth_audit.timeseries.shadow.panel_shadow_attack` on challenge entities of the train split.
Its fits go through the study's fit cache: :meth:`TimeSeriesGeneratorTarget.plan_fits` gives the
runner the run's shadow fits as tasks (the runner makes them on its executor before the run), and
the run reads them from the cache, fitting and caching any that are missing (a ``synth-audit
worker`` run has no prefit). The run's split and the attack's arguments come from one function
(:func:`_run_split`, :func:`_shadow_args`) in both places.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Self

import pandas as pd

from synth_audit.errors import ConfigError, NotFittedError
from synth_audit.targets.base import Capability, TargetInfo
from synth_audit.timeseries.generators import PanelGenerator, make_panel_generator
from synth_audit.timeseries.panel import PanelData

if TYPE_CHECKING:
    from synth_audit.store import RunRecord, Store
    from synth_audit.study.data import StudyData
    from synth_audit.study.spec import StudySpec
    from synth_audit.timeseries.shadow import PanelFitTask

__all__ = ["TimeSeriesGeneratorTarget"]


class TimeSeriesGeneratorTarget:
    """A :class:`~synth_audit.timeseries.generators.PanelGenerator` as a target.

    ``entity`` / ``time`` (and optionally ``static``) name the panel's columns when :meth:`fit` is
    given a plain DataFrame; a :class:`PanelData` carries its own. :meth:`release` gives a long
    DataFrame (entity, time, columns; entity ids 0..n-1), :meth:`release_panel` the same as a panel.
    """

    kind: ClassVar[str] = "timeseries_generator"

    def __init__(
        self,
        generator: PanelGenerator,
        *,
        entity: str | None = None,
        time: str | None = None,
        static: list[str] | None = None,
    ) -> None:
        if not isinstance(generator, PanelGenerator):
            raise ConfigError(
                "TimeSeriesGeneratorTarget expects a panel generator (see "
                f"synth_audit.timeseries.generators). Got {type(generator).__name__}."
            )
        self.generator = generator
        self.entity = entity
        self.time = time
        self.static = static
        self._fit_fingerprint: str | None = None
        self._train: PanelData | None = None

    @classmethod
    def from_config(cls, name: str, params: dict[str, Any]) -> TimeSeriesGeneratorTarget:
        """The target a study run builds: the panel generator ``name`` with ``params``."""
        return cls(make_panel_generator(name, **dict(params)))

    @property
    def name(self) -> str:
        return self.generator.name

    @property
    def capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.RELEASE, Capability.REFIT})

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return self.generator.get_params(deep=deep)

    def set_params(self, **params: Any) -> Self:
        self.generator.set_params(**params)
        self._fit_fingerprint = None
        return self

    def clone(self) -> TimeSeriesGeneratorTarget:
        return type(self)(
            self.generator.clone(), entity=self.entity, time=self.time, static=self.static
        )

    def _panel(self, data: PanelData | pd.DataFrame, role: str) -> PanelData:
        if isinstance(data, PanelData):
            return data
        if not isinstance(data, pd.DataFrame):
            raise ConfigError(
                f"TimeSeriesGeneratorTarget.fit expects a PanelData or a DataFrame for {role!r}. "
                f"Got {type(data).__name__}."
            )
        if self.entity is None or self.time is None:
            raise ConfigError(
                "TimeSeriesGeneratorTarget.fit got a DataFrame but no entity and time columns: "
                "pass a PanelData, or TimeSeriesGeneratorTarget(generator, entity=..., time=...)."
            )
        return PanelData(
            data, entity=self.entity, time=self.time, static=self.static, source=f"the {role} panel"
        )

    def fit(
        self,
        train: PanelData | pd.DataFrame,
        *,
        schema: Any = None,
        random_state: int | None = None,
        holdout: PanelData | pd.DataFrame | None = None,
    ) -> Self:
        """Fit on the training entities (``schema`` is accepted for the engine and not used)."""
        from synth_audit.store import canonical_json

        panel = self._panel(train, "train")
        hold = None if holdout is None else self._panel(holdout, "holdout")
        self.generator.fit(panel, random_state=random_state, holdout=hold)
        payload = canonical_json(
            {
                "generator": self.name,
                "params": TargetInfo(
                    kind=self.kind, name=self.name, params=self.get_params()
                ).params,
                "random_state": random_state,
                "train": panel.fingerprint()["sha256"],
            }
        )
        self._fit_fingerprint = hashlib.sha256(payload.encode("utf-8")).hexdigest()
        self._train = panel
        return self

    def release_panel(self, n: int, *, random_state: int | None = None) -> PanelData:
        if self._fit_fingerprint is None:
            raise NotFittedError(
                f"The time-series generator target {self.name!r} is not fitted yet. Call "
                "fit(train, ...) before release(n)."
            )
        return self.generator.sample(n, random_state=random_state)

    def release(self, n: int, *, random_state: int | None = None) -> pd.DataFrame:
        """``n`` synthetic entities as a long table (entity ids 0..n-1)."""
        return self.release_panel(n, random_state=random_state).frame

    def info(self) -> TargetInfo:
        return TargetInfo(
            kind=self.kind,
            name=self.name,
            params=self.get_params(),
            privacy={},
            fingerprint=self._fit_fingerprint,
            capabilities=tuple(self.capabilities),
        )

    # ---- study runs ----------------------------------------------------------------------------
    @staticmethod
    def result_names() -> tuple[list[str], list[str]]:
        """(risk-like, utility) result names a panel run records beyond the study's own audit
        sections: the panel utility section, which ``[frontier] utility`` may name."""
        utility = [
            f"timeseries_utility.{m}"
            for m in ("indistinguishability", "marginals", "autocorrelation")
        ]
        return [], utility

    @staticmethod
    def plan_fits(st: Store, run: RunRecord, data: StudyData | None = None) -> list[PanelFitTask]:
        """The shadow fits of ``run`` as fit tasks (:class:`~synth_audit.timeseries.shadow.
        PanelFitTask`), for the runner to make before the run; none without
        ``[membership.shadow]`` (or without a reference split). ``data``: the study's data as the
        runner loaded it (loaded here when None). The split and the attack's arguments are those
        :meth:`execute_run` uses (:func:`_run_split`, :func:`_shadow_args`)."""
        from synth_audit.study.data import load_study_data
        from synth_audit.study.tasks import spec_of
        from synth_audit.timeseries.shadow import plan_panel_shadow_fits

        if run.study is None:
            return []
        spec = spec_of(st, run.study)
        mem = spec.membership
        if not (mem.enabled and mem.shadow is not None):
            return []
        _check_entity_split(spec, run)
        data = load_study_data(spec) if data is None else data
        train, parts = _run_split(spec, run, data)
        args = _shadow_args(spec, run, train, parts)
        return [] if args is None else plan_panel_shadow_fits(**args)

    @staticmethod
    def execute_run(
        st: Store, run: RunRecord, beat: Any
    ) -> tuple[dict[str, Any], list[Any], list[Any]]:
        """One study run: fit on the train entities, release, audit at the entity level.

        Returns ``(summary, rows, artefacts)`` as :func:`synth_audit.study.tasks.
        execute_generator_run` does. Artefacts: ``synthetic`` (the released long table),
        ``per_record`` (per-entity outcomes: ``record`` is the entity id), ``membership_exposed``
        and ``report`` (``report_json``).
        """
        import dataclasses

        from synth_audit import __version__
        from synth_audit.frontier import run_risk
        from synth_audit.membership import MembershipResult
        from synth_audit.study.data import load_study_data
        from synth_audit.study.provenance import worker_id
        from synth_audit.study.rows import report_rows
        from synth_audit.study.tasks import (
            parquet_safe,
            run_seeds,
            seed_index,
            spec_of,
        )
        from synth_audit.targets.registry import make_target
        from synth_audit.timeseries.audit import evaluate_panel_release

        assert run.study is not None
        spec = spec_of(st, run.study)
        _check_entity_split(spec, run)
        seeds = run_seeds(run.seed)
        timings: dict[str, float] = {}

        def step(name: str, progress: float) -> Callable[[], None]:
            beat.update(progress, name)
            t = time.perf_counter()

            def done() -> None:
                timings[name] = round(time.perf_counter() - t, 3)

            return done

        end = step("data", 0.01)
        data = load_study_data(spec)
        train, parts = _run_split(spec, run, data)
        end()

        end = step("fit", 0.05)
        target = make_target(run.target_kind, run.generator, run.params)
        if not isinstance(target, TimeSeriesGeneratorTarget):
            raise ConfigError(
                f"Run {run.id}: the target kind {run.target_kind!r} is not a panel one."
            )
        target.fit(train, random_state=seeds["fit"], holdout=parts.get("holdout"))
        end()

        end = step("sample", 0.3)
        n_synth = spec.synthetic_size or len(train)
        synthetic = target.release_panel(n_synth, random_state=seeds["sample"])
        arts = [st.write_artefact(run.id, "synthetic", synthetic.frame)]
        end()

        end = step("audit", 0.35)

        def audit_progress(step: str, done: int, total: int) -> None:
            beat.update(0.35 + 0.55 * (done / max(total, 1)), f"audit: {step}")

        # The table utility metrics would score entity summaries; the panel's own utility section
        # (timeseries_utility) replaces them.
        cfg = spec.audit_config(seed=seeds["audit"])
        cfg = cfg.model_copy(update={"utility": cfg.utility.model_copy(update={"enabled": False})})
        mem = spec.membership
        info = target.info()
        report = evaluate_panel_release(
            train=train,
            synthetic=synthetic,
            control=parts["control"],
            reference=parts.get("reference"),
            config=cfg,
            membership=list(mem.attacks) if mem.enabled else [],
            target=info.to_dict(),
            progress=audit_progress,
        )
        report = dataclasses.replace(report, study=run.study, run_id=run.id)
        end()

        membership = {k: MembershipResult.from_dict(v) for k, v in report.membership.items()}
        shadow_args = _shadow_args(spec, run, train, parts)
        cache = None
        if shadow_args is not None:
            from synth_audit.timeseries.shadow import PanelCachedSamples, panel_shadow_attack

            end = step("shadow", 0.9)
            # Fits from the study's fit cache (made by the runner's fit tasks before the run);
            # missing ones are made here and cached.
            cache = PanelCachedSamples(st)
            membership["shadow"] = panel_shadow_attack(
                **shadow_args, confidence_level=spec.confidence_level, samples=cache
            )
            report = dataclasses.replace(
                report,
                membership={**dict(report.membership), "shadow": membership["shadow"].to_dict()},
            )
            end()
        rows = report_rows(report)
        from synth_audit.study.rows import membership_rows

        for name, res in membership.items():
            rows.extend(membership_rows(name, res))

        beat.update(0.95, "artefacts")
        arts.append(st.write_artefact(run.id, "per_record", parquet_safe(report.per_record())))
        if membership:
            exposed = [
                {"attack": name, "rank": i + 1, "record_id": str(rid), "score": float(score)}
                for name, res in membership.items()
                for i, (rid, score, _m) in enumerate(res.top_exposed)
            ]
            arts.append(
                st.write_artefact(
                    run.id,
                    "membership_exposed",
                    pd.DataFrame(exposed, columns=["attack", "rank", "record_id", "score"]),
                )
            )
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
            "unit": "entity",
            "target": info.to_dict(),
            "seeds": seeds,
            "seed_index": seed_index(spec, run.seed),
            "n_warnings": len(report.all_warnings()),
            "worker": worker_id(),
            "worker_code_version": f"synth-audit {__version__}",
            "timings_s": timings,
        }
        if membership:
            summary["membership_auc"] = {k: v.auc for k, v in membership.items()}
        if cache is not None:
            # Shadow fits read from the fit cache, and made by the run itself.
            summary["shadow_cache_hits"] = cache.hits
            summary["shadow_fitted"] = cache.fitted
        if beat.lost:
            from synth_audit.errors import StoreError

            raise StoreError(f"The run lost its claim while executing: {beat.lost}")
        return summary, rows, arts


def _check_entity_split(spec: StudySpec, run: RunRecord) -> None:
    if getattr(spec.data, "entity", None) is None or getattr(spec.data, "time", None) is None:
        raise ConfigError(
            f"Study {run.study!r} runs the time-series generator {run.generator!r} but its "
            "[data] table names no entity and time column: a row-level split would put one "
            "person's rows on both sides of the membership question. Add [data] entity = "
            '"<id column>" and time = "<time column>" to the study file.'
        )


def _run_split(
    spec: StudySpec, run: RunRecord, data: StudyData
) -> tuple[PanelData, dict[str, PanelData]]:
    """The run's train panel and its other parts (control, reference, holdout when not empty),
    checked against the fingerprints recorded with the run and for disjoint entities. The one
    split both :meth:`~TimeSeriesGeneratorTarget.execute_run` and
    :meth:`~TimeSeriesGeneratorTarget.plan_fits` use."""
    from synth_audit.study.tasks import check_fingerprints
    from synth_audit.timeseries.panel import check_disjoint

    _check_entity_split(spec, run)
    entity, time_col = spec.data.entity, spec.data.time
    assert entity is not None and time_col is not None
    check_fingerprints(run, data)
    src = f"study {run.study!r}"
    train = PanelData(data.train, entity=entity, time=time_col, source=f"{src}: train", sort=True)
    parts = {
        name: train.like(getattr(data, name), source=f"{src}: {name}", sort=True)
        for name in ("control", "reference", "holdout")
        if len(getattr(data, name))
    }
    check_disjoint({"train": train, **parts})
    return train, parts


def _shadow_args(
    spec: StudySpec, run: RunRecord, train: PanelData, parts: dict[str, PanelData]
) -> dict[str, Any] | None:
    """The arguments of the run's panel shadow attack and of its fit plan (None: no attack, as
    without ``[membership.shadow]`` or a reference split). Challenge entities and the attack's
    seed come from the run's ``shadow`` seed."""
    import numpy as np

    from synth_audit.study.tasks import run_seeds

    mem = spec.membership
    sh = mem.shadow if mem.enabled else None
    if sh is None or "reference" not in parts:
        return None
    n_ch = int(getattr(sh, "n_challenges", None) or sh.n_targets)
    pick, attack_seed = (
        int(c.generate_state(1)[0])
        for c in np.random.SeedSequence(run_seeds(run.seed)["shadow"]).spawn(2)
    )
    chosen = np.sort(np.random.default_rng(pick).permutation(len(train))[:n_ch])
    return {
        "generator": run.generator,
        "params": dict(run.params),
        "reference": parts["reference"],
        "challenges": train.take(chosen),
        "n_shadow": sh.n_shadow,
        "train_size": min(sh.resolved_train_size(spec.split), len(parts["reference"]) // 2),
        "n_eval": sh.n_eval,
        "random_state": attack_seed,
    }
