"""The ``diffusion`` target: a DDPM trained here on images held as pixel columns, and its audit.

:class:`DiffusionTarget` has the capabilities ``release`` (generated images as a table),
``refit`` (``get_params``/``set_params``/``clone``/``fit``), ``loss`` (per-image denoising loss)
and ``noise_prediction`` (ε_θ(x_t, t)). :func:`audit_diffusion` runs the gray-box membership
attacks (:mod:`.attacks`), the memorisation test (:mod:`.memorisation`) and image utility
(:mod:`.utility`) and returns one :class:`~synth_audit.report.model.AuditReport` with
``membership``, ``target`` and the sections ``memorisation``, ``image_utility`` and ``samples``.
:meth:`DiffusionTarget.execute_run` is a study run of kind ``diffusion``; with the attack
``shadow`` in ``attacks`` (:mod:`.shadow`), :meth:`DiffusionTarget.plan_fits` gives the runner its
shadow fits as fit tasks, and the run reads them from the fit cache.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np
import pandas as pd

from synth_audit._logging import get_logger
from synth_audit.diffusion.attacks import ATTACKS, KNOWN_ATTACKS, run_attacks
from synth_audit.diffusion.images import grid_png
from synth_audit.diffusion.memorisation import memorisation
from synth_audit.diffusion.model import (
    DiffusionConfig,
    DiffusionModel,
    ImageData,
    image_data,
    load_model,
)
from synth_audit.diffusion.shadow import (
    ShadowLosses,
    ShadowPlan,
    check_shadow_settings,
    plan_shadow,
    shadow_losses,
)
from synth_audit.diffusion.utility import image_utility
from synth_audit.errors import ConfigError, NotFittedError, format_names
from synth_audit.results import AuditWarning
from synth_audit.seeding import check_seed, named_seeds
from synth_audit.targets.base import Capability, TargetInfo, content_fingerprint

if TYPE_CHECKING:
    from concurrent.futures import Executor

    import torch

    from synth_audit.report.model import AuditReport

__all__ = [
    "AUDIT_DEFAULTS",
    "DiffusionTarget",
    "audit_diffusion",
    "execute_diffusion_run",
    "shadow_plan",
]

_log = get_logger(__name__)

#: Audit settings a study gives beside the model's (``[[generators]] params``).
AUDIT_DEFAULTS: dict[str, Any] = {
    "attacks": list(ATTACKS),
    "n_generated": 256,
    "calibration_quantile": 0.01,
    "n_shadow": 4,
    "shadow_mode": "auto",
}

#: Child seeds of an audit's ``random_state``, by step (a name added at the end leaves the
#: others unchanged).
AUDIT_SEEDS = ("attacks", "generate", "memorisation", "utility", "reference", "shadow")


class DiffusionTarget:
    """A diffusion model the engine trains itself (see the module docstring).

    Parameters: every field of :class:`~synth_audit.diffusion.model.DiffusionConfig` (model,
    training, sampling) and the audit settings ``attacks`` (of "loss", "pia", "secmi"; also
    "loss_calibrated" with a reference model and "shadow" with shadow models),
    ``n_generated`` (images generated for memorisation and utility), ``calibration_quantile``
    (of the extraction threshold), ``n_shadow`` (shadow models of the attack "shadow", an even
    number) and ``shadow_mode`` ("auto", "online" or "offline"; see :mod:`.shadow`).
    """

    kind: ClassVar[str] = "diffusion"

    def __init__(self, *, name: str = "ddpm", **params: Any) -> None:
        self.name = str(name)
        self._params: dict[str, Any] = {}
        self.model: DiffusionModel | None = None
        self._fingerprint: str | None = None
        self.set_params(**params)

    @classmethod
    def from_config(cls, name: str, params: Mapping[str, Any]) -> DiffusionTarget:
        return cls(name=name, **dict(params))

    @classmethod
    def from_model(cls, model: DiffusionModel, *, name: str = "ddpm") -> DiffusionTarget:
        """A target around a trained or loaded model (``fit`` would train a new one)."""
        target = cls(name=name, **model.config.to_dict())
        target.model = model
        target._fingerprint = content_fingerprint(model.state_bytes())
        return target

    @classmethod
    def load(cls, path: str | Path, *, name: str = "ddpm", device: str = "auto") -> DiffusionTarget:
        """A target from a folder saved by :meth:`save` (safetensors + config.json only)."""
        return cls.from_model(load_model(path, device=device), name=name)

    def save(self, folder: str | Path) -> Path:
        return self._fitted("save").save(folder)

    # ---------------------------------------------------------------------------- parameters

    @property
    def capabilities(self) -> frozenset[Capability]:
        return frozenset(
            {Capability.RELEASE, Capability.REFIT, Capability.LOSS, Capability.NOISE_PREDICTION}
        )

    @property
    def config(self) -> DiffusionConfig:
        return DiffusionConfig.from_params(
            {k: v for k, v in self._params.items() if k not in AUDIT_DEFAULTS},
            who=f"The diffusion target {self.name!r}",
        )

    @property
    def audit(self) -> dict[str, Any]:
        return {k: self._params[k] for k in AUDIT_DEFAULTS}

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, list | tuple) else v) for k, v in self._params.items()}

    def set_params(self, **params: Any) -> Self:
        known = set(DiffusionConfig.__dataclass_fields__) | set(AUDIT_DEFAULTS)
        unknown = sorted(set(params) - known)
        if unknown:
            raise ConfigError(
                f"The diffusion target {self.name!r} does not accept the parameter(s) "
                f"{format_names(unknown)}. Known parameters: {format_names(known, limit=30)}."
            )
        merged = {**DiffusionConfig().to_dict(), **AUDIT_DEFAULTS, **self._params, **params}
        cfg = DiffusionConfig.from_params(
            {k: v for k, v in merged.items() if k not in AUDIT_DEFAULTS},
            who=f"The diffusion target {self.name!r}",
        )
        attacks = merged["attacks"]
        if isinstance(attacks, str) or not isinstance(attacks, list | tuple) or not attacks:
            raise ConfigError(
                f"The 'attacks' parameter of the diffusion target {self.name!r} must be a "
                f"non-empty list of {', '.join(map(repr, KNOWN_ATTACKS))}. Got {attacks!r}."
            )
        bad = sorted(set(attacks) - set(KNOWN_ATTACKS))
        if bad:
            raise ConfigError(
                f"The 'attacks' parameter of the diffusion target {self.name!r} names unknown "
                f"attack(s) {format_names(bad)}. Known: {', '.join(map(repr, KNOWN_ATTACKS))}."
            )
        n_gen = merged["n_generated"]
        if isinstance(n_gen, bool) or not isinstance(n_gen, int) or n_gen < 4:
            raise ConfigError(
                f"The 'n_generated' parameter of the diffusion target {self.name!r} must be an "
                f"int >= 4. Got {n_gen!r}."
            )
        q = merged["calibration_quantile"]
        if isinstance(q, bool) or not isinstance(q, int | float) or not 0 < q < 1:
            raise ConfigError(
                f"The 'calibration_quantile' parameter of the diffusion target {self.name!r} "
                f"must be in (0, 1). Got {q!r}."
            )
        check_shadow_settings(
            merged["n_shadow"], merged["shadow_mode"], who=f"the diffusion target {self.name!r}"
        )
        self._params = {
            **cfg.to_dict(),
            "attacks": list(attacks),
            "n_generated": n_gen,
            "calibration_quantile": float(q),
            "n_shadow": merged["n_shadow"],
            "shadow_mode": merged["shadow_mode"],
        }
        self.model = None
        self._fingerprint = None
        return self

    def clone(self) -> DiffusionTarget:
        return type(self)(name=self.name, **self.get_params())

    # ---------------------------------------------------------------------------- fit / query

    def _fitted(self, what: str) -> DiffusionModel:
        if self.model is None:
            raise NotFittedError(
                f"The diffusion target {self.name!r} is not fitted yet. Call fit(train, ...) "
                f"before {what}()."
            )
        return self.model

    def images(self, frame: pd.DataFrame, *, what: str = "the images") -> ImageData:
        """A table of images checked against the model's columns and pixel range."""
        cfg = self.config if self.model is None else self.model.config
        cols = None if self.model is None else self.model.columns
        return image_data(
            frame,
            label_column=cfg.label_column,
            pixel_columns=cols,
            pixel_range=cfg.pixel_range,
            what=what,
        )

    def fit(
        self,
        train: pd.DataFrame,
        *,
        schema: Any = None,
        random_state: int | None = None,
        holdout: pd.DataFrame | None = None,
        on_epoch: Callable[[int, DiffusionModel], None] | None = None,
    ) -> Self:
        """Train a new model on ``train`` (one row per image). ``schema``/``holdout`` are unused."""
        seed = 0 if random_state is None else check_seed(random_state, "DiffusionTarget.fit")
        data = self.images(train, what="the training images")
        self.model = DiffusionModel.train(data, self.config, random_state=seed, on_epoch=on_epoch)
        self._fingerprint = content_fingerprint(self.model.state_bytes())
        return self

    def release(self, n: int, *, random_state: int | None = None) -> pd.DataFrame:
        """``n`` generated images as a table with the training columns (and labels)."""
        model = self._fitted("release")
        seed = 0 if random_state is None else check_seed(random_state, "DiffusionTarget.release")
        return model.frame(model.sample(int(n), random_state=seed))

    def loss(
        self,
        images: pd.DataFrame,
        *,
        timesteps: Sequence[int] | None = None,
        n_noise: int = 4,
        random_state: int = 0,
    ) -> np.ndarray:
        """Per-image denoising loss (default timesteps: 10 %, 20 % and 30 % of the schedule)."""
        model = self._fitted("loss")
        T = model.config.num_train_timesteps
        ts = (
            list(timesteps)
            if timesteps is not None
            else sorted({int(T * f) for f in (0.1, 0.2, 0.3)})
        )
        return model.loss(
            self.images(images), timesteps=ts, n_noise=n_noise, random_state=random_state
        )

    def predict_noise(
        self, x_t: torch.Tensor, t: torch.Tensor | int, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        """ε_θ(x_t, t) for noised images in network scale, shape (n, 1, side, side)."""
        return self._fitted("predict_noise").predict_noise(x_t, t, labels)

    def info(self) -> TargetInfo:
        return TargetInfo(
            kind=self.kind,
            name=self.name,
            params=self.get_params(),
            privacy={},
            fingerprint=self._fingerprint,
            capabilities=tuple(self.capabilities),
        )

    # ---------------------------------------------------------------------------- studies

    @classmethod
    def result_names(cls) -> tuple[list[str], list[str]]:
        """(risk-like, utility) result names a study run of this kind records (what
        ``[frontier] risk`` and ``utility`` may name)."""
        from synth_audit.membership.result import DEFAULT_FPRS

        measures = ["auc_advantage", "auc", *(f"tpr_at_{f:g}_fpr" for f in DEFAULT_FPRS)]
        risks = [f"membership.{a}.{m}" for a in KNOWN_ATTACKS for m in [*measures, "epsilon_lb"]]
        risks += ["memorisation.extraction_rate", "memorisation.heldout_rate"]
        utility = [f"image_utility.{m}" for m in ("class_accuracy", "precision", "recall")]
        return risks, utility

    @staticmethod
    def execute_run(store: Any, run: Any, beat: Any) -> Any:
        """A study run of kind ``diffusion`` (see :func:`execute_diffusion_run`)."""
        return execute_diffusion_run(store, run, beat)

    @staticmethod
    def plan_fits(store: Any, run: Any, data: Any = None) -> list[Any]:
        """The shadow fits of a study run whose ``attacks`` include "shadow" (none otherwise):
        the tasks the runner submits before the run, with the keys the run then looks up."""
        from synth_audit.study.tasks import run_seeds

        if run.study is None:
            return []
        _spec, data, target = _run_setup(store, run, data, check=False)
        if "shadow" not in target.audit["attacks"]:
            return []
        plan = shadow_plan(
            target,
            data.train,
            data.control,
            data.reference,
            random_state=run_seeds(run.seed)["audit"],
        )
        return list(plan.tasks)


# --------------------------------------------------------------------------------------------------
# The audit
# --------------------------------------------------------------------------------------------------


def shadow_plan(
    target: DiffusionTarget,
    members: pd.DataFrame,
    nonmembers: pd.DataFrame,
    reference: pd.DataFrame | None = None,
    *,
    random_state: int = 0,
) -> ShadowPlan:
    """The shadow fits :func:`audit_diffusion` (same arguments) makes for the attack "shadow":
    ``n_shadow`` models of the target's recipe on halves of ``members`` + ``nonmembers`` (the
    challenge images) filled with ``reference`` images to the target's training size
    (:func:`~synth_audit.diffusion.shadow.plan_shadow`). Needs no fitted target."""
    import dataclasses

    seeds = named_seeds(check_seed(random_state, "shadow_plan"), AUDIT_SEEDS)
    mem = target.images(members, what="the members (training images)")
    if target.model is not None:
        cfg, num_classes = target.model.config, target.model.num_classes
    else:
        cfg = target.config
        num_classes = None
        if cfg.label_column is not None and mem.labels is not None:
            num_classes = cfg.num_classes or int(mem.labels.max()) + 1
    return plan_shadow(
        dataclasses.replace(cfg, num_classes=num_classes),
        pd.concat([members, nonmembers], ignore_index=True),
        reference,
        train_size=len(members),
        columns=mem.columns,
        n_shadow=int(target.audit["n_shadow"]),
        mode=str(target.audit["shadow_mode"]),
        seed=seeds["shadow"],
        loss_seed=seeds["attacks"],
    )


def audit_diffusion(
    target: DiffusionTarget,
    members: pd.DataFrame,
    nonmembers: pd.DataFrame,
    *,
    reference: pd.DataFrame | None = None,
    utility_train: pd.DataFrame | None = None,
    generated: pd.DataFrame | None = None,
    random_state: int = 0,
    confidence_level: float = 0.95,
    progress: Callable[[str, float], None] | None = None,
    store: Any = None,
    executor: Executor | None = None,
) -> AuditReport:
    """Audit a fitted diffusion target trained on ``members`` (one report, module docstring).

    ``nonmembers``: images of the same population the model never saw (the attacks' non-members,
    the memorisation test's held-out images and utility's real comparison set). ``reference``:
    the attacker's own images (the attacks' baseline). ``utility_train``: labelled real images the
    utility classifier is trained on (default: ``reference``; without labels, no utility section).
    ``generated``: the model's release to test (default: ``n_generated`` images drawn here).

    With the attack "shadow", the shadow models (:func:`shadow_plan`) are read from ``store``'s fit
    cache when given and there, and the others fitted here, inline or on ``executor``, and cached
    in ``store``; ``inputs["shadow_models"]`` of the report says how many were read and fitted.
    """
    from synth_audit import __version__
    from synth_audit.report.model import AuditReport
    from synth_audit.report.sections import image, make_section
    from synth_audit.schema import Schema

    model = target._fitted("audit")
    seed = check_seed(random_state, "audit_diffusion")
    seeds = named_seeds(seed, AUDIT_SEEDS)
    say = progress or (lambda step, frac: None)
    timings: dict[str, float] = {}
    warnings: list[AuditWarning] = []
    audit = target.audit
    cfg = model.config

    mem = target.images(members, what="the members (training images)")
    non = target.images(nonmembers, what="the non-members")
    ref = (
        None
        if reference is None or not len(reference)
        else target.images(reference, what="the reference images")
    )
    if ref is None:
        warnings.append(
            AuditWarning(
                "no_baseline",
                "No reference images: the membership attacks have no model-free baseline. Give "
                "the attacker's reference images (a study's [split] reference).",
            )
        )

    reference_model = None
    if "loss_calibrated" in audit["attacks"]:
        if ref is None:
            raise ConfigError(
                "The attack 'loss_calibrated' trains a reference model on the attacker's "
                "reference images, and none were given. Give reference images (a study's [split] "
                "reference), or drop the attack from 'attacks'."
            )
        t = time.perf_counter()
        say("training the reference model", 0.02)
        import dataclasses

        ref_config = dataclasses.replace(cfg, num_classes=model.num_classes)
        reference_model = DiffusionModel.train(ref, ref_config, random_state=seeds["reference"])
        timings["reference_model"] = round(time.perf_counter() - t, 3)

    shadow: ShadowLosses | None = None
    if "shadow" in audit["attacks"]:
        t = time.perf_counter()
        say("shadow models", 0.03)
        plan = shadow_plan(target, members, nonmembers, reference, random_state=seed)
        shadow = shadow_losses(
            plan,
            store=store,
            executor=executor,
            progress=lambda step, done, total: say(f"{step} {done}/{total}", 0.03),
        )
        timings["shadow_models"] = round(time.perf_counter() - t, 3)

    t = time.perf_counter()
    say("membership attacks", 0.05)
    ids = [f"member:{i}" for i in members.index] + [f"nonmember:{i}" for i in nonmembers.index]
    membership = run_attacks(
        model,
        mem,
        non,
        ref,
        attacks=audit["attacks"],
        random_state=seeds["attacks"],
        target=target.name,
        confidence_level=confidence_level,
        record_ids=ids,
        reference_model=reference_model,
        shadow=shadow,
    )
    timings["membership"] = round(time.perf_counter() - t, 3)

    t = time.perf_counter()
    say("generating images", 0.5)
    if generated is None:
        gen = model.sample(int(audit["n_generated"]), random_state=seeds["generate"])
    else:
        gen = target.images(generated, what="the generated images")
    timings["generate"] = round(time.perf_counter() - t, 3)

    t = time.perf_counter()
    say("memorisation", 0.7)
    memo = memorisation(
        gen,
        mem,
        non,
        calibration_quantile=float(audit["calibration_quantile"]),
        confidence_level=confidence_level,
        random_state=seeds["memorisation"],
    )
    sections: dict[str, Any] = {"memorisation": memo.section(gen, mem, pixel_range=cfg.pixel_range)}
    timings["memorisation"] = round(time.perf_counter() - t, 3)

    t = time.perf_counter()
    say("image utility", 0.8)
    util_frame = utility_train if utility_train is not None else reference
    util_data = (
        None
        if util_frame is None or not len(util_frame)
        else target.images(util_frame, what="the utility classifier's training images")
    )
    if util_data is not None and util_data.labels is not None and non.labels is not None:
        util = image_utility(
            gen,
            util_data,
            non,
            pixel_range=cfg.pixel_range,
            confidence_level=confidence_level,
            random_state=seeds["utility"],
        )
        sections["image_utility"] = util.section()
    else:
        warnings.append(
            AuditWarning(
                "no_image_utility",
                "Image utility was not measured: it needs labelled real images to train its "
                "classifier (reference or utility_train with the label column).",
            )
        )
    timings["utility"] = round(time.perf_counter() - t, 3)

    shown = gen.pixels[:64]
    sections["samples"] = make_section(
        "Generated images",
        "diffusion_samples",
        summary=f"{min(64, len(gen))} of {len(gen)} images generated by the model "
        f"({cfg.sampler.upper()}, {cfg.sample_steps if cfg.sampler == 'ddim' else cfg.num_train_timesteps} steps).",
        images=[
            image(
                "Generated images",
                grid_png(shown, pixel_range=cfg.pixel_range, columns=16),
                alt="a grid of generated images",
            )
        ],
        data={"n_generated": len(gen), "seed": seeds["generate"]},
    )
    return AuditReport(
        created_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        tool_version=__version__,
        seed=seed,
        config={**target.get_params(), "confidence_level": confidence_level, "seeds": seeds},
        inputs={
            "members": {"n_rows": len(members), "n_columns": members.shape[1]},
            "nonmembers": {"n_rows": len(nonmembers), "n_columns": nonmembers.shape[1]},
            "reference": {"n_rows": 0 if reference is None else len(reference)},
            **(
                {}
                if shadow is None
                else {
                    "shadow_models": {
                        "n_shadow": len(shadow.plan.tasks),
                        "cached": shadow.hits,
                        "fitted": shadow.fitted,
                        "train_size": shadow.plan.train_size,
                    }
                }
            ),
        },
        schema=Schema(columns=()),
        attacks={},
        inference={},
        membership={name: r.to_dict() for name, r in membership.items()},
        warnings=tuple(warnings),
        timings_s={"train_epochs": float(len(model.history)), **timings},
        target=target.info().to_dict(),
        sections=sections,
    )


def execute_diffusion_run(store: Any, run: Any, beat: Any) -> Any:
    """A study run of kind ``diffusion``: train on ``train`` (the members), audit against
    ``control`` (the non-members) with the attacker's ``reference`` images as the baseline and
    the utility classifier's training set (with ``holdout``). Writes the ``report`` artefact and
    rows like :func:`synth_audit.study.tasks.execute_generator_run`."""
    import dataclasses

    from synth_audit import __version__
    from synth_audit.frontier import run_risk
    from synth_audit.membership import MembershipResult
    from synth_audit.study.rows import membership_rows, section_rows
    from synth_audit.study.tasks import run_seeds, seed_index

    assert run.study is not None
    seeds = run_seeds(run.seed)
    timings: dict[str, float] = {}
    beat.update(0.01, "data")
    spec, data, target = _run_setup(store, run, None, check=True)

    t = time.perf_counter()
    n_epochs = target.config.epochs

    def on_epoch(epoch: int, _model: DiffusionModel) -> None:
        beat.update(0.02 + 0.5 * epoch / n_epochs, f"training: epoch {epoch}/{n_epochs}")

    target.fit(data.train, random_state=seeds["fit"], on_epoch=on_epoch)
    timings["fit"] = round(time.perf_counter() - t, 3)

    def prog(step: str, frac: float) -> None:
        beat.update(0.55 + 0.4 * frac, f"audit: {step}")

    util_train = pd.concat([data.reference, data.holdout], ignore_index=True)
    t = time.perf_counter()
    beat.update(0.53, "generating images")
    synthetic = target.release(int(target.audit["n_generated"]), random_state=seeds["sample"])
    timings["sample"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    report = audit_diffusion(
        target,
        data.train,
        data.control,
        reference=data.reference,
        utility_train=util_train,
        generated=synthetic,
        random_state=seeds["audit"],
        confidence_level=spec.confidence_level,
        progress=prog,
        store=store,
    )
    timings["audit"] = round(time.perf_counter() - t, 3)
    report = dataclasses.replace(report, study=run.study, run_id=run.id)
    results = {n: MembershipResult.from_dict(d) for n, d in report.membership.items()}
    rows = [r for n, res in results.items() for r in membership_rows(n, res)]
    rows.extend(section_rows(report.sections))
    beat.update(0.96, "artefacts")
    arts = [
        store.write_artefact(run.id, "report", pd.DataFrame({"report_json": [report.to_json()]})),
        store.write_artefact(run.id, "synthetic", synthetic),
    ]
    by_metric = {r.metric: r for r in rows}
    risk = run_risk(by_metric, spec.frontier.risk)
    utility = by_metric.get(spec.frontier.utility)
    info = target.info()
    summary: dict[str, Any] = {
        "risk": None if risk is None else risk.value,
        "risk_ci_low": None if risk is None else risk.ci_low,
        "risk_ci_high": None if risk is None else risk.ci_high,
        "risk_attack": None if risk is None else risk.attack,
        "risk_definition": spec.frontier.risk,
        "utility": None if utility is None else utility.value,
        "utility_metric": spec.frontier.utility,
        "target": info.to_dict(),
        "seeds": seeds,
        "seed_index": seed_index(spec, run.seed),
        "n_warnings": len(report.all_warnings()),
        "worker_code_version": f"synth-audit {__version__}",
        "timings_s": {**timings, **dict(report.timings_s)},
        "membership_auc": {k: v.auc for k, v in results.items()},
    }
    if "shadow_models" in report.inputs:
        summary["shadow_fits"] = dict(report.inputs["shadow_models"])
    if beat.lost:
        from synth_audit.errors import StoreError

        raise StoreError(f"The run lost its claim while executing: {beat.lost}")
    return summary, rows, arts


def _run_setup(store: Any, run: Any, data: Any, *, check: bool) -> tuple[Any, Any, DiffusionTarget]:
    """A run's spec, data (loaded unless given) and unfitted target, with ``num_classes`` set from
    every split (what the run trains and what :meth:`DiffusionTarget.plan_fits` plans with)."""
    from synth_audit.study.data import load_study_data
    from synth_audit.study.tasks import check_fingerprints, spec_of
    from synth_audit.targets.registry import make_target

    spec = spec_of(store, run.study)
    data = load_study_data(spec) if data is None else data
    if check:
        check_fingerprints(run, data)
    target = make_target(run.target_kind, run.generator, run.params)
    assert isinstance(target, DiffusionTarget)
    label = target.config.label_column
    if target.config.num_classes is None and label is not None and label in data.train.columns:
        # Every split's classes: a small training set may lack a class the others hold.
        parts = [data.train, data.control, data.reference, data.holdout]
        top = max(float(pd.to_numeric(p[label], errors="coerce").max()) for p in parts if len(p))
        if np.isfinite(top) and top >= 0:  # bad labels are reported by image_data, by column
            target.set_params(num_classes=int(top) + 1)
    return spec, data, target
