"""Distance-based diagnostics. These are *diagnostics, not proof of privacy*.

Distance to closest record (DCR): for every synthetic record, the Gower distance to its closest
training record and to its closest control record. If the generator did not memorise, a synthetic
record is as likely to sit closest to any real record of the population, so the share of synthetic
records closer to train than to control should be about ``n_train / (n_train + n_control)`` (ties
count one half). A share clearly above that expectation points at memorisation; a share at the
expectation says nothing about attacks the distances do not capture (a release can be far from every
record and still let an attacker infer attributes).

What the warnings say, and what they do not. The one-sided binomial test shows that synthetic
records are closer to train than to control *more often than expected*; it does not show that
records were reproduced. Two things make a significant p-value weak evidence on its own: a release
with no memorisation crosses p < 0.05 in one audit in twenty, and with tens of thousands of
synthetic records a negligible excess is significant. The size of the excess is therefore stated
as the share of synthetic records that sit nearer a training record than chance explains,
``(share - expected) / (1 - expected)``: the share of memorised records that would produce the
observed share if every other record sat where chance puts it. The warning ``dcr_closer_to_train``
needs both significance and an excess of at least ``material_excess`` (default 5 %); a significant
but smaller excess gives the milder ``dcr_small_excess``.

Exact copies: synthetic records identical to a training record on every usable column, counted
separately, and set against exact matches with a control record (real people coincide, and a
release of people the generator never saw matches train and control alike). Only when copies of
training records outnumber copies of control records beyond chance (one-sided binomial test of the
records that match only train against those that match only control, at the expected share) does
a warning, ``exact_copies``, say that the release reproduces training records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from synth_audit.data import AuditData
from synth_audit.encoding import MixedEncoder, nearest_gower
from synth_audit.report.wording import fmt_pct
from synth_audit.results import AuditWarning, jsonable

__all__ = ["MATERIAL_EXCESS", "DcrDiagnostic", "dcr_diagnostic", "dcr_warnings"]

#: The excess share of synthetic records nearer train than chance explains from which
#: ``dcr_closer_to_train`` is raised (below it, a significant excess gives ``dcr_small_excess``).
MATERIAL_EXCESS = 0.05


@dataclass(frozen=True)
class DcrDiagnostic:
    n_synthetic: int
    n_train: int
    n_control: int
    share_closer_to_train: float
    share_ci: tuple[float, float]
    expected_share: float
    p_value: float
    exact_copies_of_train: int
    exact_copies_of_control: int
    dcr_train_quantiles: dict[str, float]
    dcr_control_quantiles: dict[str, float]
    confidence_level: float
    warnings: tuple[AuditWarning, ...] = ()
    per_record: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k not in ("per_record", "warnings")}
        d["label"] = "diagnostic (not proof of privacy)"
        d["warnings"] = [w.to_dict() for w in self.warnings]
        return jsonable(d)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DcrDiagnostic:
        kw = {k: v for k, v in d.items() if k not in ("label", "warnings")}
        kw["share_ci"] = tuple(kw["share_ci"])
        return cls(**kw, warnings=tuple(AuditWarning.from_dict(w) for w in d.get("warnings", ())))


_Q = (0.01, 0.05, 0.5)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def dcr_warnings(
    *,
    n_synthetic: int,
    share: float,
    expected: float,
    p_value: float,
    only_train_copies: int,
    only_control_copies: int,
    copies_of_train: int,
    copies_of_control: int,
    confidence_level: float = 0.95,
    material_excess: float = MATERIAL_EXCESS,
) -> list[AuditWarning]:
    """The warnings of a DCR diagnostic, worded for what each test shows (module docstring).

    ``only_train_copies`` / ``only_control_copies``: synthetic records identical to a training
    record and to no control record, and the reverse (the records the copy test compares).
    """
    alpha = 1 - confidence_level
    warns: list[AuditWarning] = []
    matched = only_train_copies + only_control_copies
    copy_p = (
        float(binomtest(only_train_copies, matched, expected, alternative="greater").pvalue)
        if matched
        else 1.0
    )
    reproduces = only_train_copies > only_control_copies and copy_p < alpha
    equal = _plural(copies_of_train, "synthetic record equals", "synthetic records equal")
    copies = (
        f"Exact copies were counted separately: {equal} a training record on every column, "
        f"{copies_of_control:,} a control record."
    )
    if reproduces:
        copies += " The release reproduces training records (see exact_copies)."
    elif copies_of_train == 0:
        copies += " None is a copy of a training record."
    else:
        copies += (
            " Real people coincide that often: this count alone does not show that the generator "
            "reproduces training records."
        )
    excess = (share - expected) / (1 - expected) if expected < 1 else 0.0
    if p_value < alpha:
        shown = (
            f"{fmt_pct(share)} of {n_synthetic:,} synthetic records are closer to a training record "
            f"than to a control record, against {fmt_pct(expected)} expected if the generator did "
            f"not favour its training records (one-sided binomial p = {p_value:.2g}): about "
            f"{fmt_pct(excess)} of synthetic records sit nearer a training record than chance "
            "explains."
        )
        if excess >= material_excess:
            warns.append(
                AuditWarning(
                    "dcr_closer_to_train",
                    f"{shown} That excess is material (at least "
                    f"{fmt_pct(material_excess, digits=0)}): the generator places records near its "
                    f"training records. {copies}",
                )
            )
        else:
            warns.append(
                AuditWarning(
                    "dcr_small_excess",
                    f"{shown} The excess is statistically detectable but small (under "
                    f"{fmt_pct(material_excess, digits=0)}), and a release with no memorisation "
                    f"gives p < {alpha:.2g} in one audit in {1 / alpha:.0f}. {copies}",
                )
            )
    if reproduces:
        are_copies = _plural(
            copies_of_train,
            "synthetic record is an exact copy",
            "synthetic records are exact copies",
        )
        warns.append(
            AuditWarning(
                "exact_copies",
                f"The release reproduces training records: {are_copies} of a training record, "
                f"against {copies_of_control:,} exact matches with a control "
                f"record of the population (one-sided binomial p = {copy_p:.2g} for the "
                f"{matched:,} records that match only one side, expected share "
                f"{fmt_pct(expected)}).",
            )
        )
    return warns


def dcr_diagnostic(
    data: AuditData,
    *,
    confidence_level: float = 0.95,
    encoder: MixedEncoder | None = None,
    n_jobs: int | None = None,
    material_excess: float = MATERIAL_EXCESS,
) -> DcrDiagnostic | None:
    """DCR of synthetic→train against synthetic→control. ``None`` without a control set.

    ``material_excess``: the share of synthetic records nearer train than chance explains from
    which the excess is reported as ``dcr_closer_to_train`` (see the module docstring).
    """
    if data.control is None:
        return None
    cols = data.columns
    enc = encoder or MixedEncoder(data.schema).fit([data.train, data.synthetic, data.control])
    d_tr, i_tr = nearest_gower(data.synthetic, data.train, enc, cols, n_jobs=n_jobs)
    d_ct, _ = nearest_gower(data.synthetic, data.control, enc, cols, n_jobs=n_jobs)
    eps = 1e-12
    closer = (d_tr < d_ct - eps).astype(float) + 0.5 * (np.abs(d_tr - d_ct) <= eps)
    n = len(closer)
    share = float(closer.mean())
    expected = len(data.train) / (len(data.train) + len(data.control))
    k = round(closer.sum())
    test = binomtest(k, n, expected, alternative="greater")
    ci = test.proportion_ci(confidence_level=confidence_level, method="exact")
    copies_tr = int((d_tr <= eps).sum())
    copies_ct = int((d_ct <= eps).sum())
    only_tr = int(((d_tr <= eps) & (d_ct > eps)).sum())
    only_ct = int(((d_ct <= eps) & (d_tr > eps)).sum())
    warns = dcr_warnings(
        n_synthetic=n,
        share=share,
        expected=expected,
        p_value=float(test.pvalue),
        only_train_copies=only_tr,
        only_control_copies=only_ct,
        copies_of_train=copies_tr,
        copies_of_control=copies_ct,
        confidence_level=confidence_level,
        material_excess=material_excess,
    )
    per = pd.DataFrame(
        {
            "synthetic_record": np.arange(n),
            "dcr_train": d_tr,
            "dcr_control": d_ct,
            "closest_train": i_tr,
        }
    )
    return DcrDiagnostic(
        n_synthetic=n,
        n_train=len(data.train),
        n_control=len(data.control),
        share_closer_to_train=share,
        share_ci=(float(ci.low), float(ci.high)),
        expected_share=expected,
        p_value=float(test.pvalue),
        exact_copies_of_train=copies_tr,
        exact_copies_of_control=copies_ct,
        dcr_train_quantiles={f"q{int(q * 100):02d}": float(np.quantile(d_tr, q)) for q in _Q},
        dcr_control_quantiles={f"q{int(q * 100):02d}": float(np.quantile(d_ct, q)) for q in _Q},
        confidence_level=confidence_level,
        warnings=tuple(warns),
        per_record=per,
    )
