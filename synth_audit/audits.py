"""Audits as small parameter objects: the Article 29 attacks and the DCR diagnostic of a release.

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
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, ClassVar, Self

from synth_audit.data import AuditData
from synth_audit.encoding import MixedEncoder
from synth_audit.errors import ConfigError
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

__all__ = [
    "Audit",
    "DcrDiagnosticAudit",
    "Inference",
    "Linkability",
    "SinglingOut",
    "audits_from_config",
    "default_aux_split",
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
