"""Distance-based diagnostics. These are *diagnostics, not proof of privacy*.

Distance to closest record (DCR): for every synthetic record, the Gower distance to its closest
training record and to its closest control record. If the generator did not memorise, a synthetic
record is as likely to sit closest to any real record of the population, so the share of synthetic
records closer to train than to control should be about ``n_train / (n_train + n_control)`` (ties
count one half). A share clearly above that expectation points at memorisation; a share at the
expectation says nothing about attacks the distances do not capture (a release can be far from every
record and still let an attacker infer attributes).

Exact copies: synthetic records identical to a training record on every usable column, with the same
count against control as the population's own rate of coincidences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from synth_audit.data import AuditData
from synth_audit.encoding import MixedEncoder, nearest_gower
from synth_audit.results import AuditWarning, jsonable

__all__ = ["DcrDiagnostic", "dcr_diagnostic"]


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


def dcr_diagnostic(
    data: AuditData,
    *,
    confidence_level: float = 0.95,
    encoder: MixedEncoder | None = None,
    n_jobs: int | None = None,
) -> DcrDiagnostic | None:
    """DCR of synthetic→train against synthetic→control. ``None`` without a control set."""
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
    warns = []
    if test.pvalue < 1 - confidence_level:
        warns.append(
            AuditWarning(
                "dcr_closer_to_train",
                f"{share:.1%} of synthetic records are closer to a training record than to a control "
                f"record; without memorisation about {expected:.1%} would be (one-sided binomial "
                f"p = {test.pvalue:.2g}). The generator may reproduce training records.",
            )
        )
    if copies_tr > copies_ct:
        warns.append(
            AuditWarning(
                "exact_copies",
                f"{copies_tr} synthetic records are exact copies of a training record, against "
                f"{copies_ct} exact matches with a control record of the population.",
            )
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
