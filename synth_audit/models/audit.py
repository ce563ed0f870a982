"""``audit_model``: one audit of a trained classifier, as an :class:`AuditReport`.

The report has the shapes of a release audit: ``membership`` (every attack's
:class:`~synth_audit.membership.MembershipResult`, each with its model-free baseline), ``target``
(the classifier's provenance) and the sections

* ``model``: ``test_accuracy`` (role utility; accuracy on the non-members), ``train_accuracy``
  (on the members) and ``accuracy_gap``;
* ``risk_factors`` (evidence), ``attribute_inference`` (when ``sensitive`` features are given)
  and ``dp`` (the empirical ε lower bound beside the claimed ε).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.errors import ConfigError, DataValidationError, format_names
from synth_audit.models.attacks import MembershipSettings, OutputCache, run_membership
from synth_audit.models.features import class_index
from synth_audit.report.model import AuditReport
from synth_audit.report.sections import finding, make_section
from synth_audit.results import AuditWarning
from synth_audit.schema import Schema
from synth_audit.seeding import check_seed, named_seeds
from synth_audit.stats import wilson_rate

__all__ = ["audit_model", "model_section"]

Progress = Callable[[str, int, int], None]


def _accuracy(target: Any, frame: pd.DataFrame) -> tuple[float, int]:
    p = target.predict_proba(frame)
    y = class_index(frame[target.label], target.classes)
    return float(np.mean(p.argmax(axis=1) == y)), int(np.sum(p.argmax(axis=1) == y))


def model_section(
    target: Any, members: pd.DataFrame, nonmembers: pd.DataFrame, confidence_level: float
) -> tuple[dict[str, Any], float, float]:
    """The ``model`` section and (train accuracy, test accuracy)."""
    tr, k_tr = _accuracy(target, members)
    te, k_te = _accuracy(target, nonmembers)
    r_tr = wilson_rate(k_tr, len(members), confidence_level)
    r_te = wilson_rate(k_te, len(nonmembers), confidence_level)
    sec = make_section(
        "The model",
        "model",
        summary=f"Accuracy {tr:.1%} on its {len(members)} training records and {te:.1%} on "
        f"{len(nonmembers)} records it never saw (gap {tr - te:+.1%}).",
        findings=[
            finding(
                "test_accuracy",
                te,
                role="utility",
                ci=r_te.ci,
                confidence_level=confidence_level,
                direction="higher_is_better",
                bounds=(0.0, 1.0),
                reading="Accuracy on the non-members (records the model never saw).",
            ),
            finding(
                "train_accuracy",
                tr,
                role="diagnostic",
                ci=r_tr.ci,
                confidence_level=confidence_level,
                bounds=(0.0, 1.0),
                reading="Accuracy on the members (its training records).",
            ),
            finding(
                "accuracy_gap",
                tr - te,
                role="diagnostic",
                bounds=(-1.0, 1.0),
                reading="Train minus test accuracy.",
            ),
        ],
    )
    return sec, tr, te


def _check_frames(target: Any, frames: Mapping[str, pd.DataFrame | None]) -> None:
    label = target.label
    cols: list[str] | None = None
    for role, f in frames.items():
        if f is None:
            continue
        if not isinstance(f, pd.DataFrame):
            raise DataValidationError(
                f"The {role!r} records must be a pandas DataFrame; got {type(f).__name__}."
            )
        if label not in f.columns:
            raise DataValidationError(
                f"The {role!r} records lack the label column {label!r}; their columns are "
                f"{format_names(f.columns)}. Set 'label' to the column the model predicts."
            )
        mine = sorted(map(str, f.columns))
        if cols is None:
            cols = mine
        elif mine != cols:
            extra = set(mine) - set(cols)
            missing = set(cols) - set(mine)
            raise DataValidationError(
                f"The {role!r} records have other columns than the members: extra "
                f"{format_names(extra) or '(none)'}, missing {format_names(missing) or '(none)'}. "
                "Give every part the same columns."
            )


def audit_model(
    target: Any,
    *,
    members: pd.DataFrame,
    nonmembers: pd.DataFrame,
    reference: pd.DataFrame | None = None,
    settings: MembershipSettings | None = None,
    sensitive: Sequence[str] = (),
    subgroups: Sequence[str] = (),
    random_state: int = 0,
    executor: Executor | None = None,
    cache: OutputCache | None = None,
    progress: Progress | None = None,
    config: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> AuditReport:
    """Audit the fitted classifier ``target`` (a :class:`~synth_audit.models.ClassifierTarget`).

    ``members`` are its training records, ``nonmembers`` records it never saw, from one random
    split of one pool; ``reference`` is the attacker's own sample of the population (reference
    models, RMIA's population records, the attribute-inference prior). ``sensitive``: features
    whose inference is attacked and whose influence is measured; ``subgroups``: columns whose
    values the attacks are broken down by. Returns an :class:`AuditReport` (write it with
    :func:`synth_audit.report.write.write_report`).
    """
    from synth_audit import __version__
    from synth_audit.data import fingerprint
    from synth_audit.models.dp import dp_section
    from synth_audit.models.inference import attribute_inference, attribute_inference_section
    from synth_audit.models.risk_factors import risk_factors_section

    seed = check_seed(random_state, "audit_model")
    st = settings or MembershipSettings()
    if not getattr(target, "fitted", True):
        raise ConfigError(
            f"The classifier target {target.info().name!r} is not fitted; call fit(members) "
            "first, or load a fitted model."
        )
    _check_frames(target, {"members": members, "nonmembers": nonmembers, "reference": reference})
    seeds = named_seeds(seed, ["membership", "risk_factors", "dp"])
    t_all = time.perf_counter()

    def step(name: str, done: int, total: int) -> None:
        if progress is not None:
            progress(name, done, total)

    step("model", 0, 5)
    msec, tr_acc, te_acc = model_section(target, members, nonmembers, st.confidence_level)
    step("membership", 1, 5)
    outcome = run_membership(
        target,
        members,
        nonmembers,
        reference,
        settings=st,
        random_state=seeds["membership"],
        executor=executor,
        cache=cache,
        progress=progress,
    )
    timings = dict(outcome.timings_s)
    sections: dict[str, Any] = {"model": msec}
    step("risk factors", 2, 5)
    t0 = time.perf_counter()
    sections["risk_factors"] = risk_factors_section(
        target,
        outcome,
        train_accuracy=tr_acc,
        test_accuracy=te_acc,
        subgroups=list(subgroups),
        sensitive=list(sensitive),
        random_state=seeds["risk_factors"],
    )
    timings["risk_factors"] = round(time.perf_counter() - t0, 3)
    warnings: list[AuditWarning] = []
    if sensitive:
        step("attribute inference", 3, 5)
        if reference is None:
            raise DataValidationError(
                "Attribute inference needs the attacker's reference sample (its prior); give "
                "'reference' records or remove 'sensitive'."
            )
        t0 = time.perf_counter()
        res = [
            attribute_inference(
                target, members, nonmembers, reference, s, confidence_level=st.confidence_level
            )
            for s in sensitive
        ]
        sections["attribute_inference"] = attribute_inference_section(res, st.confidence_level)
        timings["attribute_inference"] = round(time.perf_counter() - t0, 3)
    step("dp", 4, 5)
    info = target.info()
    sections["dp"] = dp_section(
        info,
        outcome.scores,
        outcome.labels,
        confidence_level=st.confidence_level,
        random_state=seeds["dp"],
    )
    for name, sec in sections.items():
        warnings.extend(AuditWarning(w["code"], f"{name}: {w['message']}") for w in sec["warnings"])
    for name, r in outcome.results.items():
        warnings.extend(AuditWarning(w.code, f"membership {name}: {w.message}") for w in r.warnings)
    timings["total"] = round(time.perf_counter() - t_all, 3)
    step("done", 5, 5)
    cfg = {
        "kind": "model_audit",
        "membership": st.to_dict(),
        "sensitive": list(sensitive),
        "subgroups": list(subgroups),
        "seed": seed,
        "seeds": dict(outcome.seeds),
        "reference_models": outcome.reference,
        **dict(config or {}),
    }
    ins = dict(inputs or {})
    for role, f in (("members", members), ("nonmembers", nonmembers), ("reference", reference)):
        if f is not None:
            ins.setdefault(role, fingerprint(f))
    return AuditReport(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        tool_version=__version__,
        seed=seed,
        config=cfg,
        inputs=ins,
        schema=Schema(columns=()),
        attacks={},
        inference={},
        membership={n: r.to_dict() for n, r in outcome.results.items()},
        warnings=tuple(warnings),
        timings_s=timings,
        target=info.to_dict(),
        sections=sections,
    )


# --------------------------------------------------------------------------------------------------
# model_audit.toml
# --------------------------------------------------------------------------------------------------


def load_audit_data(cfg: Any, base: Any) -> dict[str, pd.DataFrame | None]:
    """Members, non-members and reference records as ``[data]`` and ``[split]`` say."""
    from pathlib import Path

    from synth_audit.data import load_table, split_frame

    d, sp = cfg.data, cfg.split

    def read(rel: str, key: str) -> pd.DataFrame:
        p = Path(rel) if Path(rel).is_absolute() else Path(base) / rel
        try:
            return load_table(p)
        except DataValidationError as exc:
            raise DataValidationError(f"[data] {key}: {exc}") from None

    if d.members is not None:
        return {
            "members": read(d.members, "members"),
            "nonmembers": read(str(d.nonmembers), "nonmembers"),
            "reference": None if d.reference is None else read(d.reference, "reference"),
        }
    if d.builtin == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits(as_frame=True)
        df = bunch.frame.rename(columns={"target": "digit"})
    else:
        df = read(str(d.path), "path")
    if d.group_by is not None:
        if d.group_by not in df.columns:
            raise DataValidationError(
                f"[data] group_by: the column {d.group_by!r} is not in the data; its columns are "
                f"{format_names(df.columns)}."
            )
        order = np.random.default_rng(sp.seed).permutation(len(df))
        df = df.iloc[order].drop_duplicates(subset=[d.group_by]).sort_index()
    missing = [c for c in d.drop if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"[data] drop names column(s) {format_names(missing)} that the data lacks; its "
            f"columns are {format_names(df.columns)}."
        )
    df = df.drop(columns=list(d.drop)).reset_index(drop=True)
    sizes = {"members": sp.members, "nonmembers": sp.nonmembers}
    if sp.reference:
        sizes["reference"] = sp.reference
    parts = split_frame(df, sizes, random_state=sp.seed)
    return {
        "members": parts["members"],
        "nonmembers": parts["nonmembers"],
        "reference": parts.get("reference"),
    }


def build_target(cfg: Any, base: Any, members: pd.DataFrame | None, seed: int) -> Any:
    """The fitted target of ``[target]``: a recipe trained on the members, or a loaded file."""
    from pathlib import Path

    from synth_audit.models.loaders import load_model
    from synth_audit.models.target import ClassifierTarget

    t = cfg.target
    if t.file is not None:
        p = Path(t.file) if Path(t.file).is_absolute() else Path(base) / t.file
        conf = None if t.config is None else (Path(base) / t.config)
        return load_model(
            p,
            label=str(t.label),
            name=t.name,
            classes=t.classes,
            trusted=t.trusted,
            config=conf,
            features=t.features,
            id_column=t.id_column,
            recipe={**t.params, "model": t.model} if t.model else None,
        )
    params = {**t.params, "model": t.model, "label": t.label}
    if t.classes is not None:
        params["classes"] = t.classes
    target = ClassifierTarget(name=t.name or str(t.model), **params)
    assert members is not None
    return target.fit(members, random_state=seed)


def audit_model_from_toml(path: Any, progress: Progress | None = None) -> AuditReport:
    """Run the audit a ``model_audit.toml`` describes (see :mod:`synth_audit.models.config`)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from synth_audit.models.attacks import ATTACKS, DirCache
    from synth_audit.models.config import load_model_audit_config
    from synth_audit.targets import Capability

    cfg, base = load_model_audit_config(path)
    if cfg.target.kind != "classifier":
        raise ConfigError(
            f"[target] kind = {cfg.target.kind!r}: this audit reads classifiers; the language-model "
            "audit reads kind = 'causal_lm' (synth-audit audit-model dispatches on it)."
        )
    a = cfg.audit
    seeds = named_seeds(a.seed, ["fit", "audit"])
    # A model file is read (or refused) before any data is: a pickle fails fast, unread.
    target = None if cfg.target.file is None else build_target(cfg, base, None, seeds["fit"])
    parts = load_audit_data(cfg, base)
    members, nonmembers, reference = parts["members"], parts["nonmembers"], parts["reference"]
    assert members is not None and nonmembers is not None
    if target is None:
        if progress is not None:
            progress("training the model", 0, 1)
        target = build_target(cfg, base, members, seeds["fit"])
    mode = a.reference_mode
    if mode is None:
        mode = (
            "online"
            if Capability.REFIT in target.capabilities and reference is not None
            else "none"
        )
    attacks = tuple(a.attacks) if a.attacks is not None else ATTACKS
    if mode == "offline" and a.attacks is None:
        attacks = tuple(x for x in ATTACKS if not x.startswith("lira_online"))
    settings = MembershipSettings(
        attacks=attacks,
        n_reference=a.n_reference,
        reference_mode=mode,
        rmia_gamma=a.rmia_gamma,
        rmia_a=a.rmia_a,
        n_population=a.n_population,
        confidence_level=a.confidence_level,
    )
    cache = None if a.cache_dir is None else DirCache(base / a.cache_dir)
    executor = (
        ProcessPoolExecutor(a.workers, mp_context=multiprocessing.get_context("spawn"))
        if a.workers > 1
        else None
    )
    try:
        return audit_model(
            target,
            members=members,
            nonmembers=nonmembers,
            reference=reference,
            settings=settings,
            sensitive=a.sensitive,
            subgroups=a.subgroups,
            random_state=seeds["audit"],
            executor=executor,
            cache=cache,
            progress=progress,
            config={"model_audit": cfg.to_dict(), "source": str(path)},
        )
    finally:
        if executor is not None:
            executor.shutdown()
