"""Sequence plots: real against synthetic entities, one small chart per time-varying column.

PNG through matplotlib (a bare ``Figure``: no pyplot, no backend switched) when it is installed, else a hand-written SVG with the
same content. Each chart draws ``n_entities`` random real sequences and as many synthetic ones
(thin lines) and each side's mean by step position (thick), so a reader sees at a glance whether
the release has the level, spread and trend of the real sequences.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.timeseries.panel import PanelData

__all__ = ["sequence_plots"]

_REAL, _SYN = "#1f77b4", "#ff7f0e"


def _pick(panel: PanelData, n: int, rng: np.random.Generator) -> list[pd.DataFrame]:
    idx = rng.permutation(len(panel))[:n]
    return [g for _, g in panel.take(idx).sequences()]


def _mean_by_step(panel: PanelData, col: str) -> np.ndarray:
    f = panel.frame
    step = f.groupby(panel.entity, sort=False).cumcount()
    return f[col].astype(float).groupby(step).mean().to_numpy()


def _png(
    col: str, real: list[np.ndarray], syn: list[np.ndarray], means: tuple[np.ndarray, np.ndarray]
) -> bytes:
    # A bare Figure renders through Agg without pyplot: no global backend is switched.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.0, 2.6), dpi=80)
    ax = fig.add_subplot(1, 1, 1)
    for y in real:
        ax.plot(np.arange(len(y)), y, color=_REAL, alpha=0.35, linewidth=0.8)
    for y in syn:
        ax.plot(np.arange(len(y)), y, color=_SYN, alpha=0.35, linewidth=0.8)
    ax.plot(np.arange(len(means[0])), means[0], color=_REAL, linewidth=2.2, label="real (mean)")
    ax.plot(np.arange(len(means[1])), means[1], color=_SYN, linewidth=2.2, label="synthetic (mean)")
    ax.set_title(col, fontsize=10)
    ax.set_xlabel("step", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _svg(
    col: str, real: list[np.ndarray], syn: list[np.ndarray], means: tuple[np.ndarray, np.ndarray]
) -> bytes:
    w, h, pad = 400.0, 200.0, 24.0
    ys = [v for s in [*real, *syn, *means] for v in s if np.isfinite(v)]
    lo, hi = (min(ys), max(ys)) if ys else (0.0, 1.0)
    hi = hi if hi > lo else lo + 1.0
    n = max([len(s) for s in [*real, *syn, *means]] + [2])

    def path(y: np.ndarray, color: str, width: float, opacity: float) -> str:
        pts = " ".join(
            f"{pad + (w - 2 * pad) * i / (n - 1):.1f},{h - pad - (h - 2 * pad) * (v - lo) / (hi - lo):.1f}"
            for i, v in enumerate(y)
            if np.isfinite(v)
        )
        return (
            f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="{width}" '
            f'stroke-opacity="{opacity}"/>'
        )

    body = [path(y, _REAL, 1, 0.35) for y in real] + [path(y, _SYN, 1, 0.35) for y in syn]
    body += [path(means[0], _REAL, 2.5, 1), path(means[1], _SYN, 2.5, 1)]
    title = col.replace("&", "&amp;").replace("<", "&lt;")
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}">'
        f'<text x="{pad}" y="14" font-size="12">{title} (blue: real, orange: synthetic)</text>'
        + "".join(body)
        + "</svg>"
    )
    return svg.encode("utf-8")


def sequence_plots(
    real: PanelData,
    synthetic: PanelData,
    *,
    columns: list[str] | None = None,
    n_entities: int = 8,
    max_columns: int = 4,
    random_state: int | None = None,
) -> list[dict[str, Any]]:
    """Section images (:func:`synth_audit.report.sections.image`), one per numeric column."""
    from synth_audit.report.sections import image

    try:
        import matplotlib  # noqa: F401

        render, media = _png, "image/png"
    except ImportError:
        render, media = _svg, "image/svg+xml"
    cols = (columns or real.numeric_varying())[:max_columns]
    rng = np.random.default_rng(random_state)
    picked_real, picked_syn = _pick(real, n_entities, rng), _pick(synthetic, n_entities, rng)
    out = []
    for c in cols:
        r = [g[c].to_numpy(dtype=float) for g in picked_real]
        s = [g[c].to_numpy(dtype=float) for g in picked_syn]
        means = (_mean_by_step(real, c), _mean_by_step(synthetic, c))
        out.append(
            image(
                f"Sequences of {c}: real vs synthetic",
                render(c, r, s, means),
                media_type=media,
                alt=f"{n_entities} real (blue) and {n_entities} synthetic (orange) sequences of "
                f"{c} by step, with each side's mean",
            )
        )
    return out
