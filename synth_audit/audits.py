"""Audits as small parameter objects: the Article 29 attacks, the DCR diagnostic and the membership
inference attacks (DCR, DOMIAS, shadow modelling).

An audit stores its parameters in the constructor (nothing else happens there), can read them back
(``get_params``), be changed (``set_params``) and copied (``clone``), declares the target
capabilities it ``requires`` and, in :meth:`run`, returns a finding (an
:class:`~synth_audit.results.AttackResult`, a :class:`~synth_audit.diagnostics.DcrDiagnostic`).
Parameters are checked in one place (:mod:`synth_audit.validation`), all problems at once, in the
form "The 'n_attacks' parameter of Linkability must be an int >= 1 or 'all'. Got 0.".

The attack engine is a parameter (``engine="native"`` or ``"anonymeter"``), not a branch at each
call site; so a search over settings (the PET search) clones and changes audits like estimators.
:func:`audits_from_config` turns an ``audit.toml`` into the audits of one release evaluation, keyed
by the names reports use (``singling_out_univariate``, ``linkability``, ``inference[<secret>]``,
``dcr``).

Membership audits (:class:`DcrMembership`, :class:`DomiasMembership`, :class:`ShadowMembership`)
run on a :class:`MembershipData` (members, non-members, the attacker's reference sample, the release
and, for shadow modelling, the re-fittable target) and return a
:class:`~synth_audit.membership.MembershipResult`; :func:`membership_audits` builds them from a
study's ``[membership]`` section and :func:`run_membership_audits` runs the no-box ones of a release
together, as a study run does.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np
import pandas as pd

from synth_audit.data import AuditData
from synth_audit.encoding import MixedEncoder
from synth_audit.errors import ConfigError
from synth_audit.schema import Schema
from synth_audit.targets.base import Capability
from synth_audit.validation import (
    NONE,
    Constraint,
    Interval,
    Options,
    Predicate,
    TypeIs,
    check_params,
)

if TYPE_CHECKING:
    from synth_audit.membership.result import MembershipResult

__all__ = [
    "Audit",
    "DcrDiagnosticAudit",
    "DcrMembership",
    "DomiasMembership",
    "Inference",
    "Linkability",
    "MembershipData",
    "ShadowMembership",
    "SinglingOut",
    "audits_from_config",
    "default_aux_split",
    "membership_audits",
    "run_membership_audits",
]

_ENGINE = Options(("native", "anonymeter"))
_ALL = Options(("all",))
_COLUMNS = Predicate(
    lambda v: isinstance(v, list | tuple) and all(isinstance(c, str) for c in v),
    "a list of column names",
)
_TWO_COLUMN_SETS = Predicate(
    lambda v: (
        isinstance(v, list | tuple)
        and len(v) == 2
        and all(isinstance(s, list | tuple) and s and all(isinstance(c, str) for c in s) for s in v)
    ),
    'two non-empty lists of column names (e.g. [["age"], ["zip"]])',
)


def default_aux_split(columns: list[str]) -> list[list[str]]:
    """Default attacker knowledge for linkability: the usable columns split in two halves."""
    half = max(1, len(columns) // 2)
    return [columns[:half], columns[half:]]


class Audit:
    """Base of the release audits: parameters in the scikit-learn style and a ``run``.

    Subclasses define ``__init__`` with keyword-only parameters stored under the same names, a
    ``_parameter_constraints`` mapping and ``_run``.
    """

    name: ClassVar[str] = "audit"
    requires: ClassVar[frozenset[Capability]] = frozenset({Capability.RELEASE})
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {}

    @classmethod
    def _param_names(cls) -> list[str]:
        return sorted(
            p.name for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"
        )

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params: Any) -> Self:
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ConfigError(
                    f"{type(self).__name__} has no parameter {key!r}. Valid parameters: "
                    f"{', '.join(map(repr, valid))}."
                )
            setattr(self, key, value)
        return self

    def clone(self) -> Self:
        return type(self)(**copy.deepcopy(self.get_params()))

    def validate_params(self) -> None:
        check_params(self.get_params(), self._parameter_constraints, type(self).__name__)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({shown})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.get_params() == self.get_params()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def run(
        self,
        data: AuditData,
        *,
        random_state: int,
        confidence_level: float = 0.95,
        encoder: MixedEncoder | None = None,
        n_jobs: int | None = None,
    ) -> Any:
        """Validate the parameters, then audit ``data`` (train, the release, control)."""
        self.validate_params()
        return self._run(
            data,
            random_state=random_state,
            confidence_level=confidence_level,
            encoder=encoder,
            n_jobs=n_jobs,
        )

    def _run(
        self,
        data: AuditData,
        *,
        random_state: int,
        confidence_level: float,
        encoder: MixedEncoder | None,
        n_jobs: int | None,
    ) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


class SinglingOut(Audit):
    """Singling out (Article 29): predicates learned from the release that isolate one person."""

    name = "singling_out"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "mode": [Options(("univariate", "multivariate"))],
        "n_attacks": [Interval(int, 1, None)],
        "n_cols": [Interval(int, 1, None)],
        "max_attempts": [Interval(int, 1, None), NONE],
        "engine": [_ENGINE],
    }

    def __init__(
        self,
        *,
        mode: str = "multivariate",
        n_attacks: int = 500,
        n_cols: int = 3,
        max_attempts: int | None = 100_000,
        engine: str = "native",
    ) -> None:
        self.mode = mode
        self.n_attacks = n_attacks
        self.n_cols = n_cols
        self.max_attempts = max_attempts
        self.engine = engine

    def _run(self, data, *, random_state, confidence_level, encoder, n_jobs):  # type: ignore[no-untyped-def]
        from synth_audit.attacks import singling_out_attack
        from synth_audit.attacks.anonymeter_engine import anonymeter_singling_out

        fn = singling_out_attack if self.engine == "native" else anonymeter_singling_out
        return fn(
            data,
            mode=self.mode,  # type: ignore[arg-type]
            n_attacks=self.n_attacks,
            n_cols=min(self.n_cols, len(data.columns)),
            max_attempts=self.max_attempts,
            random_state=random_state,
            confidence_level=confidence_level,
        )


class Linkability(Audit):
    """Linkability (Article 29): two pieces of one person's data linked through the release."""

    name = "linkability"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "aux_cols": [_TWO_COLUMN_SETS, NONE],
        "n_neighbors": [Interval(int, 1, None)],
        "n_attacks": [Interval(int, 1, None), _ALL],
        "engine": [_ENGINE],
    }

    def __init__(
        self,
        *,
        aux_cols: list[list[str]] | None = None,
        n_neighbors: int = 1,
        n_attacks: int | str = "all",
        engine: str = "native",
    ) -> None:
        self.aux_cols = aux_cols
        self.n_neighbors = n_neighbors
        self.n_attacks = n_attacks
        self.engine = engine

    def _run(self, data, *, random_state, confidence_level, encoder, n_jobs):  # type: ignore[no-untyped-def]
        from synth_audit.attacks import linkability_attack
        from synth_audit.attacks.anonymeter_engine import anonymeter_linkability

        if len(data.columns) < 2:
            raise ConfigError(
                "Linkability needs at least two usable columns; disable [linkability]."
            )
        aux = self.aux_cols or default_aux_split(data.columns)
        common = {
            "aux_cols": aux,
            "n_neighbors": self.n_neighbors,
            "n_attacks": self.n_attacks,
            "random_state": random_state,
            "confidence_level": confidence_level,
            "n_jobs": n_jobs,
        }
        if self.engine == "native":
            return linkability_attack(data, encoder=encoder, **common)
        return anonymeter_linkability(data, **common)


class Inference(Audit):
    """Attribute inference (Article 29): a person's secret column guessed from the others."""

    name = "inference"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "secret": [TypeIs((str,), "a column name")],
        "aux_cols": [_COLUMNS, NONE],
        "n_attacks": [Interval(int, 1, None), _ALL],
        "numeric_tolerance": [Interval(float, 0, None)],
        "tolerance_mode": [Options(("iqr", "relative", "range"))],
        "engine": [_ENGINE],
    }

    def __init__(
        self,
        *,
        secret: str = "",
        aux_cols: list[str] | None = None,
        n_attacks: int | str = "all",
        numeric_tolerance: float = 0.1,
        tolerance_mode: str = "iqr",
        engine: str = "native",
    ) -> None:
        self.secret = secret
        self.aux_cols = aux_cols
        self.n_attacks = n_attacks
        self.numeric_tolerance = numeric_tolerance
        self.tolerance_mode = tolerance_mode
        self.engine = engine

    def _run(self, data, *, random_state, confidence_level, encoder, n_jobs):  # type: ignore[no-untyped-def]
        from synth_audit.attacks import inference_attack
        from synth_audit.attacks.anonymeter_engine import anonymeter_inference

        aux = None if self.aux_cols is None else [c for c in self.aux_cols if c != self.secret]
        common = {
            "secret": self.secret,
            "aux_cols": aux,
            "n_attacks": self.n_attacks,
            "random_state": random_state,
            "confidence_level": confidence_level,
            "n_jobs": n_jobs,
        }
        if self.engine == "native":
            return inference_attack(
                data,
                numeric_tolerance=self.numeric_tolerance,
                tolerance_mode=self.tolerance_mode,  # type: ignore[arg-type]
                encoder=encoder,
                **common,
            )
        return anonymeter_inference(data, **common)


class DcrDiagnosticAudit(Audit):
    """The DCR diagnostic (distance to closest record): a diagnostic, not proof of privacy."""

    name = "dcr"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "material_excess": [Interval(float, 0, 1)],
    }

    def __init__(self, *, material_excess: float = 0.05) -> None:
        self.material_excess = material_excess

    def _run(self, data, *, random_state, confidence_level, encoder, n_jobs):  # type: ignore[no-untyped-def]
        from synth_audit.diagnostics import dcr_diagnostic

        if data.control is None:
            raise ConfigError("The DCR diagnostic compares with the control set; give one.")
        return dcr_diagnostic(
            data,
            confidence_level=confidence_level,
            encoder=encoder,
            n_jobs=n_jobs,
            material_excess=self.material_excess,
        )


def audits_from_config(cfg: Any, data: AuditData, secrets: list[str]) -> dict[str, Audit]:
    """The audits of one release evaluation from an :class:`~synth_audit.config.AuditConfig`,
    keyed by the names reports use; ``secrets`` are the inference secrets resolved for ``data``."""
    out: dict[str, Audit] = {}
    so = cfg.singling_out
    if so.enabled:
        for mode in so.modes:
            out[f"singling_out_{mode}"] = SinglingOut(
                mode=mode,
                n_attacks=so.n_attacks,
                n_cols=so.n_cols,
                max_attempts=so.max_attempts,
                engine=cfg.engine,
            )
    lk = cfg.linkability
    if lk.enabled:
        out["linkability"] = Linkability(
            aux_cols=lk.aux_cols,
            n_neighbors=lk.n_neighbors,
            n_attacks=lk.n_attacks,
            engine=cfg.engine,
        )
    inf = cfg.inference
    if inf.enabled:
        for secret in secrets:
            out[f"inference[{secret}]"] = Inference(
                secret=secret,
                aux_cols=inf.aux_cols,
                n_attacks=inf.n_attacks,
                numeric_tolerance=inf.numeric_tolerance,
                tolerance_mode=inf.tolerance_mode,
                engine=cfg.engine,
            )
    if cfg.diagnostics.dcr and data.control is not None:
        out["dcr"] = DcrDiagnosticAudit()
    return out


# --------------------------------------------------------------------------------------------------
# Membership inference audits
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MembershipData:
    """What a membership audit attacks: members (the target's training records), non-members
    (records it never saw), the attacker's ``reference`` sample of the population, the ``release``
    (for the no-box attacks on a release) and, for attacks that re-fit it, the ``target``."""

    members: pd.DataFrame
    nonmembers: pd.DataFrame
    reference: pd.DataFrame
    release: pd.DataFrame | None = None
    target: Any = None
    schema: Schema | None = None


def _needs(data: Any, owner: str, *fields: str) -> None:
    if not isinstance(data, MembershipData):
        raise ConfigError(
            f"{owner}.run expects a MembershipData (members, nonmembers, reference, release, "
            f"target). Got {type(data).__name__}."
        )
    missing = [f for f in fields if getattr(data, f) is None]
    if missing:
        raise ConfigError(
            f"{owner} needs {', '.join(map(repr, missing))} in its MembershipData "
            f"({'the synthetic release' if 'release' in missing else 'the re-fittable target'}); "
            "give it, or drop this audit."
        )


class _MembershipAudit(Audit):
    """A membership audit: ``run(MembershipData, random_state=...)`` returns a MembershipResult."""

    def run(  # type: ignore[override]
        self,
        data: MembershipData,
        *,
        random_state: int,
        confidence_level: float = 0.95,
        encoder: MixedEncoder | None = None,
        n_jobs: int | None = None,
        **kwargs: Any,
    ) -> MembershipResult:
        self.validate_params()
        return self._run_membership(  # type: ignore[no-any-return]
            data, random_state=random_state, confidence_level=confidence_level, **kwargs
        )

    def _run_membership(self, data: MembershipData, **kwargs: Any) -> Any:  # pragma: no cover
        raise NotImplementedError


class _NoboxMembership(_MembershipAudit):
    """A no-box attack on a release (:mod:`synth_audit.membership.nobox`)."""

    requires: ClassVar[frozenset[Capability]] = frozenset({Capability.RELEASE})
    baseline: bool

    @property
    def attack(self) -> str:  # the name run_nobox_attacks knows it by
        return self.name

    def _default(self) -> bool:
        """Whether run_nobox_attacks runs this audit as configured (its built-in settings)."""
        return True

    def _run_membership(  # type: ignore[override]
        self, data: MembershipData, *, random_state: int, confidence_level: float
    ) -> MembershipResult:
        return run_membership_audits(
            {self.attack: self}, data, random_state=random_state, confidence_level=confidence_level
        )[self.attack]


class DcrMembership(_NoboxMembership):
    """DCR membership attack: members are closer to the release than non-members.

    ``calibrated`` (default): the distance to the release is set against the distance to the
    attacker's reference sample (``dcr``); otherwise the raw distance (``dcr_raw``). ``baseline``:
    the same attack with half the reference as a stand-in release that never saw the members.
    """

    name = "dcr"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "calibrated": [TypeIs((bool,), "a bool")],
        "baseline": [TypeIs((bool,), "a bool")],
    }

    def __init__(self, *, calibrated: bool = True, baseline: bool = True) -> None:
        self.calibrated = calibrated
        self.baseline = baseline

    @property
    def attack(self) -> str:
        return "dcr" if self.calibrated else "dcr_raw"


class DomiasMembership(_NoboxMembership):
    """DOMIAS density-ratio membership attack (``log p_release(x) - log p_reference(x)``).

    Parameters as :func:`synth_audit.membership.nobox.domias_mia`; ``baseline`` as for
    :class:`DcrMembership`.
    """

    name = "domias"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "density": [Options(("kde", "gmm"))],
        "bandwidth": [Options(("scott", "silverman")), Interval(float, 0, None)],
        "synthetic_bandwidth_factor": [Interval(float, 0, None)],
        "n_components": [Interval(int, 1, None), NONE],
        "gmm_components": [Interval(int, 1, None)],
        "baseline": [TypeIs((bool,), "a bool")],
    }

    def __init__(
        self,
        *,
        density: str = "kde",
        bandwidth: str | float = "scott",
        synthetic_bandwidth_factor: float | None = None,
        n_components: int | None = None,
        gmm_components: int = 10,
        baseline: bool = True,
    ) -> None:
        self.density = density
        self.bandwidth = bandwidth
        self.synthetic_bandwidth_factor = synthetic_bandwidth_factor
        self.n_components = n_components
        self.gmm_components = gmm_components
        self.baseline = baseline

    def validate_params(self) -> None:
        params = self.get_params()
        if params["synthetic_bandwidth_factor"] is None:
            params.pop("synthetic_bandwidth_factor")
        check_params(params, self._parameter_constraints, type(self).__name__)

    def _default(self) -> bool:
        return (
            self.density == "kde"
            and self.bandwidth == "scott"
            and self.synthetic_bandwidth_factor is None
            and self.n_components is None
            and self.gmm_components == 10
        )

    def domias_kwargs(self) -> dict[str, Any]:
        from synth_audit.membership import nobox

        factor = self.synthetic_bandwidth_factor
        return {
            "density": self.density,
            "bandwidth": self.bandwidth,
            "synthetic_bandwidth_factor": nobox._SYN_BANDWIDTH_FACTOR if factor is None else factor,
            "n_components": self.n_components,
            "gmm_components": self.gmm_components,
        }


def run_membership_audits(
    audits: Mapping[str, _NoboxMembership],
    data: MembershipData,
    *,
    random_state: int,
    confidence_level: float = 0.95,
) -> dict[str, MembershipResult]:
    """Run no-box membership audits on one release; ``{name: MembershipResult}``.

    Audits with their built-in settings run together through
    :func:`synth_audit.membership.nobox.run_nobox_attacks` (one coercion of the frames, one
    stand-in release for the baselines, child seeds ``SeedSequence(random_state).spawn`` in the
    order given: a study's numbers are those the attacks always gave). A DOMIAS audit with other
    settings runs :func:`~synth_audit.membership.nobox.domias_mia` (and its baseline) with its
    child seed.
    """
    from synth_audit.membership.nobox import domias_mia, run_nobox_attacks

    _needs(data, "run_membership_audits", "release")
    for name, a in audits.items():
        if not isinstance(a, _NoboxMembership):
            raise ConfigError(
                f"run_membership_audits runs no-box membership audits (DcrMembership, "
                f"DomiasMembership); {name!r} is a {type(a).__name__}."
            )
        a.validate_params()
    attacks = [a.attack for a in audits.values()]
    if len(set(attacks)) < len(attacks):
        raise ConfigError(
            f"run_membership_audits got the same attack twice ({attacks}); give each once."
        )
    release = data.release
    assert release is not None
    common = {
        "synthetic": release,
        "members": data.members,
        "nonmembers": data.nonmembers,
        "reference": data.reference,
        "schema": data.schema,
        "confidence_level": confidence_level,
    }
    baselines = {a.baseline for a in audits.values()}
    if all(a._default() for a in audits.values()) and len(baselines) == 1:
        got = run_nobox_attacks(
            **common, attacks=attacks, random_state=random_state, baseline=baselines.pop()
        )
        return {name: got[a.attack] for name, a in audits.items()}
    seeds = np.random.SeedSequence(random_state).spawn(len(audits))
    out: dict[str, MembershipResult] = {}
    for (name, a), ss in zip(audits.items(), seeds, strict=True):
        child = int(ss.generate_state(1)[0])
        if a._default():
            out[name] = run_nobox_attacks(
                **common, attacks=[a.attack], random_state=child, baseline=a.baseline
            )[a.attack]
            continue
        assert isinstance(a, DomiasMembership)
        kw = {**common, **a.domias_kwargs(), "random_state": child}
        res = domias_mia(**kw)
        ref = data.reference
        if a.baseline and len(ref) >= 4:
            order = np.random.default_rng(child).permutation(len(ref))
            half = len(ref) // 2
            base = domias_mia(
                **{
                    **kw,
                    "synthetic": ref.iloc[order[:half]].reset_index(drop=True),
                    "reference": ref.iloc[order[half:]].reset_index(drop=True),
                }
            )
            base = dataclasses.replace(base, attack="domias (baseline: no release)")
            res = res.with_baseline(base)
        out[name] = res
    return out


class ShadowMembership(_MembershipAudit):
    """Black-box shadow modelling (:func:`synth_audit.membership.shadow.shadow_attack`): re-fits
    the target (a generator) on reference records with and without each challenge record.

    ``n_challenges`` members are drawn at random (the first child of ``random_state``) and
    attacked with the second child. ``train_size`` defaults to ``min(len(members), len(reference)
    // 3)``; ``synth_size`` to ``train_size``.
    """

    name = "shadow"
    requires: ClassVar[frozenset[Capability]] = frozenset({Capability.RELEASE, Capability.REFIT})
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "n_challenges": [Interval(int, 1, None)],
        "n_shadow": [Interval(int, 4, None)],
        "n_eval": [Interval(int, 2, None)],
        "train_size": [Interval(int, 2, None), NONE],
        "synth_size": [Interval(int, 1, None), NONE],
        "classifier": [Options(("rf", "logistic"))],
    }

    def __init__(
        self,
        *,
        n_challenges: int = 5,
        n_shadow: int = 8,
        n_eval: int = 4,
        train_size: int | None = None,
        synth_size: int | None = None,
        classifier: str = "rf",
    ) -> None:
        self.n_challenges = n_challenges
        self.n_shadow = n_shadow
        self.n_eval = n_eval
        self.train_size = train_size
        self.synth_size = synth_size
        self.classifier = classifier

    def shadow_kwargs(self, data: MembershipData, *, random_state: int) -> dict[str, Any]:
        """The arguments of the shadow attack (and of its fit plan,
        :func:`~synth_audit.membership.shadow.plan_shadow_fits`) for ``data`` and the seed."""
        self.validate_params()
        _needs(data, type(self).__name__, "target")
        target = data.target
        generator = getattr(target, "generator", None)
        if generator is None:
            kind = getattr(target, "kind", type(target).__name__)
            raise ConfigError(
                f"Shadow modelling re-fits a tabular generator; the {kind} target is not one. "
                "Remove [membership.shadow] (or the ShadowMembership audit) for it."
            )
        pick, attack_seed = (
            int(s.generate_state(1)[0]) for s in np.random.SeedSequence(random_state).spawn(2)
        )
        members = data.members
        if self.n_challenges > len(members):
            raise ConfigError(
                f"The 'n_challenges' parameter of ShadowMembership is {self.n_challenges}, but "
                f"there are {len(members)} members. Lower n_challenges."
            )
        rows = np.random.default_rng(pick).permutation(len(members))[: self.n_challenges]
        train_size = self.train_size or max(2, min(len(members), len(data.reference) // 3))
        return {
            "generator": generator.__class__(**generator.get_params()),
            "reference": data.reference,
            "challenges": members.iloc[np.sort(rows)],
            "schema": data.schema,
            "n_shadow": self.n_shadow,
            "train_size": train_size,
            "synth_size": self.synth_size or train_size,
            "n_eval": self.n_eval,
            "random_state": attack_seed,
        }

    def _run_membership(  # type: ignore[override]
        self,
        data: MembershipData,
        *,
        random_state: int,
        confidence_level: float,
        samples: Any = None,
        progress: Any = None,
        executor: Any = None,
    ) -> MembershipResult:
        from synth_audit.membership.shadow import shadow_attack

        return shadow_attack(
            **self.shadow_kwargs(data, random_state=random_state),
            classifier=self.classifier,  # type: ignore[arg-type]
            executor=executor,
            confidence_level=confidence_level,
            progress=progress,
            samples=samples,
        )


def membership_audits(spec: Any) -> dict[str, _MembershipAudit]:
    """The membership audits of a study's ``[membership]`` section (a
    :class:`~synth_audit.study.spec.MembershipSpec`), keyed by the names results are stored under;
    ``{}`` when disabled. ``train_size`` of the shadow audit is left to the caller's data."""
    out: dict[str, _MembershipAudit] = {}
    if not spec.enabled:
        return out
    for name in spec.attacks:
        out[name] = (
            DcrMembership(calibrated=name != "dcr_raw")
            if name != "domias"
            else (DomiasMembership())
        )
    sh = spec.shadow
    if sh is not None:
        out["shadow"] = ShadowMembership(
            n_challenges=sh.n_challenges,
            n_shadow=sh.n_shadow,
            n_eval=sh.n_eval,
            train_size=sh.train_size,
            synth_size=sh.synth_size,
            classifier=sh.classifier,
        )
    return out
