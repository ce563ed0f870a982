"""``engine = "anonymeter"``: the same audit, run by anonymeter 1.1.0 itself (the reference).

Results are converted into the same :class:`~synth_audit.results.AttackResult` values, with the same
Wilson rates and residual risk (anonymeter's formulas; ``synth_audit.stats`` reproduces them), so the
two engines can be compared number for number. What differs is listed in the README ("Deliberate
differences"); what anonymeter cannot give is stated in each result's ``params``:

* no per-record outcomes (anonymeter does not return them for all attacks);
* column names are replaced by safe aliases before anonymeter sees them (names with spaces, quotes,
  hyphens or non-ASCII characters break its query strings, anonymeter issues #37 and #43) and mapped
  back in every message;
* anonymeter's linkability has no seed (it draws targets from NumPy's global generator, which we seed,
  and its baseline from an unseeded generator, so the baseline varies between runs);
* the number of singling-out predicates anonymeter *generated* is not kept by its evaluator
  (``SinglingOutEvaluator.queries()`` returns only the successful ones); it is read from the warning
  anonymeter 1.1.0 logs when generation falls short ("could generate only N singling out queries"),
  and is the number requested when no such warning is logged.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd

from synth_audit.attacks._common import (
    MAX_ATTEMPTS,
    MAX_NEIGHBORS,
    MAX_PREDICATES,
    NAttacks,
    assemble,
    check_n_attacks,
    check_size,
)
from synth_audit.data import AuditData
from synth_audit.encoding import _numeric_values
from synth_audit.results import AttackResult, AuditWarning

__all__ = ["anonymeter_inference", "anonymeter_linkability", "anonymeter_singling_out"]


@contextlib.contextmanager
def _quiet_seeded(seed: int | None) -> Iterator[None]:
    state = np.random.get_state()
    logger = logging.getLogger("anonymeter")
    level = logger.level
    logger.setLevel(logging.ERROR)
    if seed is not None:
        np.random.seed(seed % 2**32)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        np.random.set_state(state)
        logger.setLevel(level)


_SO_LOGGER = "anonymeter.evaluators.singling_out_evaluator"
_SHORT = re.compile(r"could generate only (\d+) singling out queries out of the requested (\d+)")


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _capture_short_generation() -> Iterator[_Capture]:
    """Collect anonymeter's singling-out warnings (without letting them reach the user's logs)."""
    logger = logging.getLogger(_SO_LOGGER)
    handler = _Capture()
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def n_generated_from_log(messages: list[str], n_requested: int) -> int:
    """Predicates anonymeter generated: from its shortfall warning, else the number requested."""
    for m in messages:
        hit = _SHORT.search(m)
        if hit:
            return int(hit.group(1))
    return n_requested


def _aliased(data: AuditData) -> tuple[dict[str, pd.DataFrame | None], dict[str, str]]:
    """Frames restricted to usable columns, renamed c0..cN; datetimes as epoch seconds."""
    alias = {c: f"c{i}" for i, c in enumerate(data.columns)}
    out: dict[str, pd.DataFrame | None] = {}
    for role, df in (
        ("train", data.train),
        ("synthetic", data.synthetic),
        ("control", data.control),
    ):
        if df is None:
            out[role] = None
            continue
        cols = {}
        for c in data.columns:
            if data.schema.kind(c).is_numeric:
                cols[alias[c]] = _numeric_values(df[c])
            else:
                cols[alias[c]] = df[c].astype(object)
        out[role] = pd.DataFrame(cols)
    return out, alias


def _n(n_attacks: NAttacks, n_rows: int) -> int:
    return n_rows if n_attacks == "all" else min(int(n_attacks), n_rows)


_NOTE = "anonymeter engine: no per-record outcomes"


def anonymeter_singling_out(
    data: AuditData,
    *,
    mode: str = "multivariate",
    n_attacks: int = 500,
    n_cols: int = 3,
    max_attempts: int | None = 100_000,
    random_state: int | None = None,
    confidence_level: float = 0.95,
) -> AttackResult:
    from anonymeter.evaluators import SinglingOutEvaluator

    n_attacks = check_size(
        n_attacks,
        "n_attacks",
        "SinglingOutEvaluator",
        MAX_PREDICATES,
        "Lower [singling_out] n_attacks.",
    )
    if max_attempts is not None:
        check_size(
            max_attempts,
            "max_attempts",
            "SinglingOutEvaluator",
            MAX_ATTEMPTS,
            "Lower [singling_out] max_attempts.",
        )
    frames, _ = _aliased(data)
    with _quiet_seeded(random_state), _capture_short_generation() as log:
        ev = SinglingOutEvaluator(
            ori=frames["train"],
            syn=frames["synthetic"],
            control=frames["control"],
            n_attacks=n_attacks,
            n_cols=n_cols,
            max_attempts=max_attempts,
            seed=random_state,
        ).evaluate(mode=mode)
        res = ev.results(confidence_level=confidence_level)
    # ev.queries() holds only the *successful* predicates; the generated count is in anonymeter's log.
    n_generated = n_generated_from_log(log.messages, n_attacks)
    extra = []
    if n_generated < n_attacks:
        extra.append(
            AuditWarning(
                "few_queries",
                f"anonymeter generated {n_generated} of {n_attacks} {mode} predicates and divides by "
                f"{n_attacks}, so its rate under-reports (the native engine divides by {n_generated}).",
            )
        )
    return assemble(
        attack=f"singling_out_{mode}",
        engine="anonymeter",
        n_success=float(res.n_success),
        n_total=res.n_attacks_ori,
        n_baseline_success=float(res.n_baseline),
        n_baseline_total=res.n_attacks_baseline,
        n_control_success=None if res.n_control is None else float(res.n_control),
        n_control_total=None if res.n_control is None else res.n_attacks_control,
        confidence_level=confidence_level,
        seed=random_state,
        params={
            "mode": mode,
            "n_attacks_requested": n_attacks,
            "n_queries_generated": n_generated,
            "n_successful_queries": len(ev.queries()),
            "n_cols": 1 if mode == "univariate" else n_cols,
            "max_attempts": max_attempts,
            "note": _NOTE,
        },
        extra_warnings=extra,
        n_measured=n_generated,
        what=f"{mode} singling-out predicates",
    )


def anonymeter_linkability(
    data: AuditData,
    *,
    aux_cols: tuple[list[str], list[str]] | list[list[str]],
    n_neighbors: int = 1,
    n_attacks: NAttacks = "all",
    random_state: int | None = None,
    confidence_level: float = 0.95,
    n_jobs: int | None = None,
) -> AttackResult:
    from anonymeter.evaluators import LinkabilityEvaluator

    n_attacks = check_n_attacks(n_attacks, "LinkabilityEvaluator", len(data.train))
    check_size(
        n_neighbors,
        "n_neighbors",
        "LinkabilityEvaluator",
        MAX_NEIGHBORS,
        "Lower [linkability] n_neighbors.",
    )
    frames, alias = _aliased(data)
    n = _n(n_attacks, len(data.train))
    if data.control is not None:
        n = min(n, len(data.control))
    aux = ([alias[c] for c in aux_cols[0]], [alias[c] for c in aux_cols[1]])
    with _quiet_seeded(random_state):
        ev = LinkabilityEvaluator(
            ori=frames["train"],
            syn=frames["synthetic"],
            control=frames["control"],
            aux_cols=aux,
            n_attacks=n,
            n_neighbors=n_neighbors,
        ).evaluate(n_jobs=n_jobs or -2)
        res = ev.results(confidence_level=confidence_level)
    return assemble(
        attack="linkability",
        engine="anonymeter",
        n_success=float(res.n_success),
        n_total=res.n_attacks_ori,
        n_baseline_success=float(res.n_baseline),
        n_baseline_total=res.n_attacks_baseline,
        n_control_success=None if res.n_control is None else float(res.n_control),
        n_control_total=None if res.n_control is None else res.n_attacks_control,
        confidence_level=confidence_level,
        seed=random_state,
        params={
            "aux_cols": [list(aux_cols[0]), list(aux_cols[1])],
            "n_neighbors": n_neighbors,
            "n_attacks": n,
            "note": _NOTE + "; baseline unseeded in anonymeter",
        },
        what="linkability attacks",
    )


def anonymeter_inference(
    data: AuditData,
    *,
    secret: str,
    aux_cols: list[str] | None = None,
    n_attacks: NAttacks = "all",
    numeric_tolerance: float = 0.05,
    random_state: int | None = None,
    confidence_level: float = 0.95,
    n_jobs: int | None = None,
    **_: object,
) -> AttackResult:
    """anonymeter's inference; numeric secrets use its rule ``|guess − true| / guess ≤ 0.05``."""
    from anonymeter.evaluators import InferenceEvaluator

    n_attacks = check_n_attacks(n_attacks, "InferenceEvaluator", len(data.train))
    frames, alias = _aliased(data)
    aux = aux_cols if aux_cols is not None else [c for c in data.columns if c != secret]
    numeric = data.schema.kind(secret).is_numeric
    n = _n(n_attacks, len(data.train))
    with _quiet_seeded(random_state):
        ev = InferenceEvaluator(
            ori=frames["train"],
            syn=frames["synthetic"],
            control=frames["control"],
            aux_cols=[alias[c] for c in aux],
            secret=alias[secret],
            regression=numeric,
            n_attacks=n,
        ).evaluate(n_jobs=n_jobs or -2)
        res = ev.results(confidence_level=confidence_level)
    extra = []
    if numeric:
        extra.append(
            AuditWarning(
                "anonymeter_tolerance",
                f"anonymeter judges the numeric secret {secret!r} by |guess − true| / guess ≤ 0.05, so "
                f"every negative guess counts as correct; the native engine uses the true value.",
            )
        )
    return assemble(
        attack=f"inference[{secret}]",
        engine="anonymeter",
        n_success=float(res.n_success),
        n_total=res.n_attacks_ori,
        n_baseline_success=float(res.n_baseline),
        n_baseline_total=res.n_attacks_baseline,
        n_control_success=None if res.n_control is None else float(res.n_control),
        n_control_total=None if res.n_control is None else res.n_attacks_control,
        confidence_level=confidence_level,
        seed=random_state,
        params={
            "secret": secret,
            "aux_cols": list(aux),
            "n_attacks": n,
            "numeric_secret": numeric,
            "numeric_tolerance": 0.05 if numeric else None,
            "tolerance_mode": "anonymeter (divides by the guess)" if numeric else None,
            "note": _NOTE,
        },
        extra_warnings=extra,
        what="inference attacks",
    )
