"""``report.html``: one self-contained page (inline CSS, inline SVG drawn here; no CDN, no scripts,
no external fonts), readable offline, printable, and safe to e-mail.

Every string that comes from the user (column names, file paths, warning messages quoting them,
parameters) goes through :func:`_e` (``html.escape`` with quotes), including text inside SVG.
The plain-language explanations are shared with the audit card (:mod:`synth_audit.report.card`).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from synth_audit.report.card import (
    CRITERIA,
    LIMITATIONS,
    MEMBERSHIP_THREAT,
    UTILITY_RANKING_NOTE,
    all_report_warnings,
    article29_assessed,
    attack_family,
    attack_title,
    audited_items,
    claimed_epsilon,
    control_banners,
    fmt_num,
    fmt_param,
    fmt_pct,
    membership_reading,
    membership_tpr,
    reading,
    section_finding_cells,
    sections_evidence,
    threat_model,
    utility_breakdown,
)
from synth_audit.report.model import AuditReport
from synth_audit.report.wording import display_ci, threat_model_words
from synth_audit.results import AttackResult, AuditWarning

__all__ = ["RISK_BANDS", "all_report_warnings", "render_html"]

# Orientation bands for the summary box, applied to the highest upper CI bound of any risk. They are
# shown on the page with their thresholds; the release decision stays with the reader.
RISK_BANDS: tuple[tuple[float, str, str], ...] = (
    (0.05, "low", "Low measured risk"),
    (0.20, "moderate", "Moderate measured risk"),
    (math.inf, "high", "High measured risk"),
)

_COLORS = {"attack": "#d9480f", "baseline": "#7b8794", "control": "#1c7ed6", "risk": "#5f3dc4"}

_CSS = """
:root{--ink:#1f2933;--muted:#52606d;--line:#d9e2ec;--bg:#f3f5f8;--card:#fff;--accent:#1f3a5f;
--ok:#2b8a3e;--okbg:#ebfbee;--mid:#b35c00;--midbg:#fff4e6;--bad:#c92a2a;--badbg:#fff5f5;}
*{box-sizing:border-box}
body{margin:0;color:var(--ink);background:var(--bg);font:15px/1.55 -apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif}
.wrap{max-width:1100px;margin:0 auto;padding:0 28px}
header.top{background:var(--accent);color:#fff;padding:26px 0 20px}
header.top h1{margin:0 0 4px;font-size:26px;font-weight:650;letter-spacing:.2px}
header.top .sub{opacity:.85;font-size:14px}
header.top dl{display:flex;flex-wrap:wrap;gap:6px 28px;margin:14px 0 0;font-size:13.5px}
header.top dt{opacity:.7;margin:0}header.top dd{margin:0;font-weight:600}
nav.toc{background:#fff;border-bottom:1px solid var(--line);position:sticky;top:0;z-index:2}
nav.toc .wrap{display:flex;flex-wrap:wrap;gap:4px 18px;padding-top:9px;padding-bottom:9px;font-size:13.5px}
nav.toc a{color:var(--accent);text-decoration:none}nav.toc a:hover{text-decoration:underline}
section.card,.attack{scroll-margin-top:52px}
section.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:20px 26px;
margin:18px 0;break-inside:avoid}
h2{font-size:20px;margin:0 0 10px;color:var(--accent)}
h3{font-size:16.5px;margin:22px 0 6px}
h3 .crit,h2 .crit{font-weight:500;color:var(--muted);font-size:13px;margin-left:8px}
p{margin:6px 0 10px}.muted{color:var(--muted)}.small{font-size:13px}
table{border-collapse:collapse;width:100%;font-size:14px;margin:8px 0 12px}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:12.5px;text-transform:uppercase;letter-spacing:.3px;
background:#f8fafc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;
font-size:12.5px;overflow-wrap:anywhere}
.hash{word-break:break-all}
.verdict{display:grid;grid-template-columns:1.6fr 1fr 1fr;gap:16px;margin-top:6px}
.kpi{border:1px solid var(--line);border-radius:8px;padding:14px 16px;background:#fbfcfd}
.kpi .label{font-size:12.5px;color:var(--muted);text-transform:uppercase;letter-spacing:.3px}
.kpi .big{font-size:30px;font-weight:700;line-height:1.2;font-variant-numeric:tabular-nums}
.kpi .ci{font-size:13.5px;color:var(--muted)}
.kpi.low{border-color:#b2f2bb;background:var(--okbg)}.kpi.low .big{color:var(--ok)}
.kpi.moderate{border-color:#ffd8a8;background:var(--midbg)}.kpi.moderate .big{color:var(--mid)}
.kpi.high{border-color:#ffc9c9;background:var(--badbg)}.kpi.high .big{color:var(--bad)}
.band{display:inline-block;border-radius:999px;padding:1px 10px;font-size:12.5px;font-weight:600;
margin-left:6px;vertical-align:middle}
.band.low{background:#d3f9d8;color:var(--ok)}.band.moderate{background:#ffe8cc;color:var(--mid)}
.band.high{background:#ffe3e3;color:var(--bad)}.band.na{background:#e9ecef;color:var(--muted)}
.warnbox{background:#fff8e6;border:1px solid #f5c26b;border-left:6px solid #e67700;border-radius:10px}
.warnbox h2{color:#8a4b00}
.warnbox ul{margin:6px 0 0;padding-left:20px}.warnbox li{margin:5px 0}
.code{display:inline-block;font-family:ui-monospace,Menlo,Consolas,"Liberation Mono",monospace;
font-size:11.5px;background:#ffe8cc;color:#8a4b00;border-radius:4px;padding:0 6px;margin-right:6px}
.inline-warn{background:#fff8e6;border-left:4px solid #e67700;padding:7px 12px;margin:8px 0;
font-size:13.5px;border-radius:4px}
.attack{border-top:1px solid var(--line);padding-top:4px;margin-top:18px}
.attack:first-of-type{border-top:none}
.grid2{display:grid;grid-template-columns:minmax(0,1.25fr) minmax(0,1fr);gap:18px;align-items:start}
.threat{background:#f8fafc;border:1px solid var(--line);border-radius:8px;padding:9px 13px;
font-size:13.5px}
.reading{font-size:14.5px;border-left:4px solid #5f3dc4;padding:4px 12px;background:#f6f3ff;
border-radius:4px}
.riskline{font-size:15px;margin:4px 0}.riskline b{font-size:18px}
.diag{display:inline-block;background:#e7f5ff;color:#1864ab;border-radius:999px;padding:1px 10px;
font-size:12.5px;font-weight:600;margin-left:8px;vertical-align:middle}
.legend span{display:inline-block;margin-right:14px;font-size:12.5px;color:var(--muted)}
.legend i{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;
vertical-align:-1px}
details{margin:6px 0}summary{cursor:pointer;color:var(--accent);font-size:14px}
pre{background:#f8fafc;border:1px solid var(--line);border-radius:6px;padding:10px;overflow:auto;
font-size:12px;max-height:420px}
svg{max-width:100%;height:auto;display:block}
svg text{font-family:-apple-system,"Segoe UI",Roboto,Arial,"Liberation Sans",sans-serif}
footer{color:var(--muted);font-size:12.5px;padding:10px 0 40px}
.empty{color:var(--muted);font-style:italic}
.role{display:inline-block;border-radius:999px;padding:0 8px;font-size:12px;font-weight:600;
background:#e9ecef;color:var(--muted)}.role.risk{background:#ffe3e3;color:var(--bad)}
.role.utility{background:#d3f9d8;color:var(--ok)}.role.evidence{background:#e7f5ff;color:#1864ab}
figure{margin:10px 0}figure img{max-width:100%;height:auto;border:1px solid var(--line)}
figcaption{font-size:13px;color:var(--muted)}
@media (max-width:820px){.verdict,.grid2{grid-template-columns:1fr}}
@media print{nav.toc{display:none}body{background:#fff}section.card{border-color:#ccc}}
"""


# ---- small helpers -----------------------------------------------------------------------------


def _e(value: object) -> str:
    """Escape any value for HTML text or attribute context."""
    return html.escape(str(value), quote=True)


def _f(x: float) -> str:
    """A coordinate for SVG."""
    return f"{x:.1f}"


def _ci_text(lo: float | None, hi: float | None) -> str:
    return f"[{fmt_pct(lo)}, {fmt_pct(hi)}]"


def _band(ci_high: float | None) -> tuple[str, str]:
    if ci_high is None:
        return "na", "No attack was run"
    for limit, key, label in RISK_BANDS:
        if ci_high < limit:
            return key, label
    return RISK_BANDS[-1][1], RISK_BANDS[-1][2]


# Axis maxima and the number of intervals that gives round ticks for each (0.05 -> 1 % steps).
_AXES: tuple[tuple[float, int], ...] = (
    (0.005, 5),
    (0.01, 5),
    (0.02, 4),
    (0.05, 5),
    (0.1, 5),
    (0.2, 4),
    (0.25, 5),
    (0.5, 5),
    (0.75, 3),
    (1.0, 4),
)


def _nice_axis(x: float) -> tuple[float, int]:
    for vmax, n in _AXES:
        if x <= vmax:
            return vmax, n
    return _AXES[-1]


def _tick_label(v: float, step: float) -> str:
    pct, st = v * 100, step * 100
    digits = 0 if st >= 1 - 1e-9 else (1 if st >= 0.1 - 1e-9 else 2)
    return f"{pct:.{digits}f} %"


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], num: Sequence[int] = ()) -> str:
    """An HTML table; cells are already-escaped HTML. ``num`` lists right-aligned columns."""
    th = "".join(
        f'<th class="num">{h}</th>' if i in num else f"<th>{h}</th>" for i, h in enumerate(head)
    )
    body = []
    for row in rows:
        tds = "".join(
            f'<td class="num">{c}</td>' if i in num else f"<td>{c}</td>" for i, c in enumerate(row)
        )
        body.append(f"<tr>{tds}</tr>")
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _warn_html(w: AuditWarning) -> str:
    return f'<span class="code">{_e(w.code)}</span>{_e(w.message)}'


# ---- SVG charts --------------------------------------------------------------------------------


def _axis(x0: float, width: float, y: float, vmax: float, n: int = 4) -> str:
    step = vmax / n
    parts = [
        f'<line x1="{_f(x0)}" y1="{_f(y)}" x2="{_f(x0 + width)}" y2="{_f(y)}" stroke="#9aa5b1"/>'
    ]
    for i in range(n + 1):
        v = vmax * i / n
        x = x0 + width * i / n
        parts.append(
            f'<line x1="{_f(x)}" y1="{_f(y)}" x2="{_f(x)}" y2="{_f(y + 4)}" stroke="#9aa5b1"/>'
            f'<text x="{_f(x)}" y="{_f(y + 16)}" font-size="11" fill="#52606d" '
            f'text-anchor="middle">{_e(_tick_label(v, step))}</text>'
        )
    return "".join(parts)


def _grid(x0: float, width: float, y0: float, y1: float, n: int = 4) -> str:
    return "".join(
        f'<line x1="{_f(x0 + width * i / n)}" y1="{_f(y0)}" x2="{_f(x0 + width * i / n)}" '
        f'y2="{_f(y1)}" stroke="#edf0f3"/>'
        for i in range(1, n + 1)
    )


def _bar_row(
    *,
    y: float,
    x0: float,
    width: float,
    vmax: float,
    label: str,
    value: float,
    lo: float,
    hi: float,
    color: str,
    note: str,
) -> str:
    def sx(v: float) -> float:
        return x0 + width * min(max(v, 0.0), vmax) / vmax

    h = 16
    cy = y + h / 2
    tip = f"{label}: {fmt_pct(value)} {_ci_text(lo, hi)} ({note})"
    return (
        f"<g><title>{_e(tip)}</title>"
        f'<text x="{_f(x0 - 10)}" y="{_f(cy + 4)}" font-size="12.5" fill="#1f2933" '
        f'text-anchor="end">{_e(label)}</text>'
        f'<rect x="{_f(x0)}" y="{_f(y)}" width="{_f(max(sx(value) - x0, 1.5))}" height="{h}" '
        f'rx="2" fill="{color}" fill-opacity="0.85"/>'
        f'<line x1="{_f(sx(lo))}" y1="{_f(cy)}" x2="{_f(sx(hi))}" y2="{_f(cy)}" stroke="#1f2933" '
        f'stroke-width="1.4"/>'
        f'<line x1="{_f(sx(lo))}" y1="{_f(cy - 6)}" x2="{_f(sx(lo))}" y2="{_f(cy + 6)}" '
        f'stroke="#1f2933" stroke-width="1.4"/>'
        f'<line x1="{_f(sx(hi))}" y1="{_f(cy - 6)}" x2="{_f(sx(hi))}" y2="{_f(cy + 6)}" '
        f'stroke="#1f2933" stroke-width="1.4"/>'
        f'<text x="{_f(x0 + width + 10)}" y="{_f(cy + 4)}" font-size="12" fill="#1f2933">'
        f"{_e(fmt_pct(value))}</text></g>"
    )


def rates_svg(result: AttackResult) -> str:
    """Attack, baseline and control success rates with CI whiskers, on a shared axis."""
    rows: list[tuple[str, float, float, float, str, str]] = [
        ("Attack (training)", *_rate3(result.attack_rate), _COLORS["attack"], "the people at risk"),
        ("Baseline (naive)", *_rate3(result.baseline_rate), _COLORS["baseline"], "random guessing"),
    ]
    if result.control_rate is not None:
        rows.append(
            (
                "Control (never used)",
                *_rate3(result.control_rate),
                _COLORS["control"],
                "the population",
            )
        )
    vmax, n_ticks = _nice_axis(max(max(r[3], r[1]) for r in rows) * 1.02)
    aria = "Success rates of the attack, the baseline" + (
        " and the control attack" if result.control_rate is not None else " (no control set)"
    )
    label_w, right_w, width = 150.0, 62.0, 560.0
    plot_w = width - label_w - right_w
    top, row_h = 10.0, 30.0
    axis_y = top + row_h * len(rows) + 2
    height = axis_y + 24
    parts = [
        f'<svg viewBox="0 0 {_f(width)} {_f(height)}" '
        f'width="{_f(width)}" height="{_f(height)}" role="img" '
        f'aria-label="{_e(aria)}">',
        _grid(label_w, plot_w, top - 4, axis_y, n_ticks),
    ]
    for i, (label, v, lo, hi, color, note) in enumerate(rows):
        parts.append(
            _bar_row(
                y=top + i * row_h + 3,
                x0=label_w,
                width=plot_w,
                vmax=vmax,
                label=label,
                value=v,
                lo=lo,
                hi=hi,
                color=color,
                note=note,
            )
        )
    parts.append(_axis(label_w, plot_w, axis_y, vmax, n_ticks))
    parts.append("</svg>")
    return "".join(parts)


def _rate3(rate: Any) -> tuple[float, float, float]:
    lo, hi = rate.ci
    return float(rate.value), float(lo), float(hi)


def risk_svg(result: AttackResult) -> str:
    """The residual risk and its CI on a fixed 0-100 % scale, with the orientation bands."""
    r = result.risk
    ci_low, ci_high, _ = display_ci(r.value, r.ci_low, r.ci_high, r.error)
    lo, hi = float(ci_low or 0.0), float(ci_high or 0.0)
    label_w, right_w, width = 150.0, 62.0, 560.0
    plot_w = width - label_w - right_w
    y, h = 10.0, 18.0
    axis_y = y + h + 8
    height = axis_y + 24

    def sx(v: float) -> float:
        return label_w + plot_w * min(max(v, 0.0), 1.0)

    bands = []
    start = 0.0
    for (limit, key, _), fill in zip(RISK_BANDS, ("#ebfbee", "#fff4e6", "#fff5f5")):
        end = min(limit, 1.0)
        bands.append(
            f'<rect x="{_f(sx(start))}" y="{_f(y - 3)}" width="{_f(sx(end) - sx(start))}" '
            f'height="{_f(h + 6)}" fill="{fill}"><title>{_e(key)} band</title></rect>'
        )
        start = end
    cy = y + h / 2
    tip = f"Risk {fmt_pct(r.value)} {_ci_text(lo, hi)}"
    return (
        f'<svg viewBox="0 0 {_f(width)} {_f(height)}" '
        f'width="{_f(width)}" height="{_f(height)}" role="img" aria-label="{_e(tip)}">'
        + "".join(bands)
        + f"<g><title>{_e(tip)}</title>"
        f'<text x="{_f(label_w - 10)}" y="{_f(cy + 4)}" font-size="12.5" font-weight="600" '
        f'fill="#1f2933" text-anchor="end">Risk</text>'
        f'<rect x="{_f(label_w)}" y="{_f(y)}" width="{_f(max(sx(r.value) - label_w, 1.5))}" '
        f'height="{_f(h)}" rx="2" fill="{_COLORS["risk"]}" fill-opacity="0.9"/>'
        f'<line x1="{_f(sx(lo))}" y1="{_f(cy)}" x2="{_f(sx(hi))}" y2="{_f(cy)}" '
        f'stroke="#1f2933" stroke-width="1.6"/>'
        f'<line x1="{_f(sx(lo))}" y1="{_f(cy - 7)}" x2="{_f(sx(lo))}" y2="{_f(cy + 7)}" '
        f'stroke="#1f2933" stroke-width="1.6"/>'
        f'<line x1="{_f(sx(hi))}" y1="{_f(cy - 7)}" x2="{_f(sx(hi))}" '
        f'y2="{_f(cy + 7)}" stroke="#1f2933" stroke-width="1.6"/>'
        f'<text x="{_f(label_w + plot_w + 10)}" y="{_f(cy + 4)}" font-size="12" font-weight="600" '
        f'fill="#1f2933">{_e(fmt_pct(r.value))}</text></g>'
        + _axis(label_w, plot_w, axis_y, 1.0)
        + "</svg>"
    )


def dcr_svg(share: float, lo: float, hi: float, expected: float) -> str:
    """Share of synthetic records closer to train than to control, its CI and the expectation."""
    label_w, right_w, width = 150.0, 62.0, 560.0
    plot_w = width - label_w - right_w
    y, h = 22.0, 18.0
    axis_y = y + h + 8
    height = axis_y + 24

    def sx(v: float) -> float:
        return label_w + plot_w * min(max(v, 0.0), 1.0)

    cy = y + h / 2
    ex = sx(expected)
    return (
        f'<svg viewBox="0 0 {_f(width)} {_f(height)}" '
        f'width="{_f(width)}" height="{_f(height)}" role="img" '
        f'aria-label="{_e("Share of synthetic records closer to train than to control")}">'
        + _grid(label_w, plot_w, y - 4, axis_y)
        + f'<text x="{_f(label_w - 10)}" y="{_f(cy + 4)}" font-size="12.5" fill="#1f2933" '
        f'text-anchor="end">Closer to train</text>'
        f'<rect x="{_f(label_w)}" y="{_f(y)}" width="{_f(max(sx(share) - label_w, 1.5))}" '
        f'height="{_f(h)}" rx="2" fill="#0b7285" fill-opacity="0.8"/>'
        f'<line x1="{_f(sx(lo))}" y1="{_f(cy)}" x2="{_f(sx(hi))}" y2="{_f(cy)}" stroke="#1f2933" '
        f'stroke-width="1.4"/>'
        f'<line x1="{_f(sx(lo))}" y1="{_f(cy - 6)}" x2="{_f(sx(lo))}" y2="{_f(cy + 6)}" '
        f'stroke="#1f2933" stroke-width="1.4"/>'
        f'<line x1="{_f(ex)}" y1="{_f(y - 10)}" x2="{_f(ex)}" y2="{_f(y + h + 4)}" stroke="#c92a2a" '
        f'stroke-width="1.6" stroke-dasharray="4 3"/>'
        f'<text x="{_f(ex)}" y="{_f(y - 12)}" font-size="11" fill="#c92a2a" text-anchor="middle">'
        f"expected {_e(fmt_pct(expected))}</text>"
        f'<text x="{_f(label_w + plot_w + 10)}" y="{_f(cy + 4)}" font-size="12" fill="#1f2933">'
        f"{_e(fmt_pct(share))}</text>" + _axis(label_w, plot_w, axis_y, 1.0) + "</svg>"
    )


def utility_svg(m: Mapping[str, Any]) -> str:
    """A metric on its declared bounds, oriented so that 'better' is always to the right."""
    bounds = m.get("bounds") or [None, None]
    low, high, value = bounds[0], bounds[1], m.get("value")
    if low is None or high is None or value is None or not float(low) < float(high):
        return '<span class="muted small">unbounded</span>'
    low, high, value = float(low), float(high), float(value)
    maximize = m.get("direction") != "minimize"
    ideal = m.get("ideal")
    best = (high if maximize else low) if ideal is None else float(ideal)
    worst = low if maximize else high
    if best == worst:
        return '<span class="muted small">degenerate bounds</span>'

    def pos(v: float) -> float:
        """0 at the worst bound, 1 at the best bound (or the declared ideal), clipped."""
        return min(max((v - worst) / (best - worst), 0.0), 1.0)

    width, x0, plot_w, y, h = 320.0, 44.0, 200.0, 8.0, 14.0
    left, right = worst, best
    whisker = ""
    if m.get("ci_low") is not None and m.get("ci_high") is not None:
        a = x0 + plot_w * pos(float(m["ci_low"]))
        b = x0 + plot_w * pos(float(m["ci_high"]))
        cy = y + h / 2
        whisker = (
            f'<line x1="{_f(a)}" y1="{_f(cy)}" x2="{_f(b)}" y2="{_f(cy)}" stroke="#1f2933" '
            f'stroke-width="1.3"/><line x1="{_f(a)}" y1="{_f(cy - 5)}" x2="{_f(a)}" '
            f'y2="{_f(cy + 5)}" stroke="#1f2933" stroke-width="1.3"/><line x1="{_f(b)}" '
            f'y1="{_f(cy - 5)}" x2="{_f(b)}" y2="{_f(cy + 5)}" stroke="#1f2933" stroke-width="1.3"/>'
        )
    score = pos(value)
    color = "#2b8a3e" if score >= 0.8 else ("#e67700" if score >= 0.5 else "#c92a2a")
    return (
        f'<svg viewBox="0 0 {_f(width)} 30" width="{_f(width)}" '
        f'height="30" role="img" aria-label="{_e(m.get("name", "metric"))}">'
        f'<text x="{_f(x0 - 6)}" y="{_f(y + 11)}" font-size="10.5" fill="#52606d" '
        f'text-anchor="end">{_e(fmt_num(left, 3))}</text>'
        f'<rect x="{_f(x0)}" y="{_f(y)}" width="{_f(plot_w)}" height="{_f(h)}" rx="3" fill="#edf0f3"/>'
        f'<rect x="{_f(x0)}" y="{_f(y)}" width="{_f(max(plot_w * score, 1.5))}" height="{_f(h)}" '
        f'rx="3" fill="{color}" fill-opacity="0.8"/>'
        + whisker
        + f'<text x="{_f(x0 + plot_w + 6)}" '
        f'y="{_f(y + 11)}" font-size="10.5" fill="#52606d">{_e(fmt_num(right, 3))}{" ideal" if ideal is not None else ""} ★</text></svg>'
    )


def roc_axis_min(n_nonmembers: Any) -> float:
    """The lower end of a log-log ROC's axes: 1e-3, or the decade below 1/n when more
    non-members resolve smaller false-positive rates."""
    n = int(n_nonmembers) if isinstance(n_nonmembers, int | float) and n_nonmembers else 0
    smallest = min(1e-3, 1.0 / n) if n > 0 else 1e-3
    return float(10.0 ** math.floor(math.log10(smallest) + 1e-9))


def roc_svg(
    fpr: Sequence[float],
    tpr: Sequence[float],
    label: str,
    *,
    axis_min: float = 1e-3,
    baseline: tuple[Sequence[float], Sequence[float], str] | None = None,
    marks: Sequence[tuple[float, float, float | None, float | None]] = (),
) -> str:
    """ROC curve on log-log axes (TPR against FPR, both from ``axis_min`` to 1), where the
    low-FPR region that matters for membership inference is visible, with the chance diagonal
    (TPR = FPR). ``baseline``: ``(fpr, tpr, name)`` drawn dashed grey. ``marks``: ``(fpr, tpr,
    ci_low, ci_high)`` of the TPR-at-FPR points, drawn with their CI. Rates below ``axis_min``
    (including 0) are drawn at the axis' edge."""
    size, pad_l, pad_b, pad_t, pad_r = 320.0, 50.0, 40.0, 10.0, 12.0
    w = size - pad_l - pad_r
    h = size - pad_t - pad_b
    lmin = math.log10(axis_min)

    def frac(v: float) -> float:
        v = min(max(float(v), axis_min), 1.0)
        return (math.log10(v) - lmin) / (0.0 - lmin)

    def px(x: float) -> float:
        return pad_l + w * frac(x)

    def py(y: float) -> float:
        return pad_t + h * (1.0 - frac(y))

    def line(xs: Sequence[float], ys: Sequence[float]) -> str:
        return " ".join(f"{_f(px(float(a)))},{_f(py(float(b)))}" for a, b in zip(xs, ys))

    pts = line(fpr, tpr)
    ticks = []
    decades = list(range(round(lmin), 1))
    for d in decades:
        v = 10.0**d
        text = f"{v:g}"
        ticks.append(
            f'<line x1="{_f(px(v))}" y1="{_f(pad_t)}" x2="{_f(px(v))}" y2="{_f(pad_t + h)}" '
            f'stroke="#edf0f3"/><line x1="{_f(pad_l)}" y1="{_f(py(v))}" x2="{_f(pad_l + w)}" '
            f'y2="{_f(py(v))}" stroke="#edf0f3"/>'
            f'<text class="tick" x="{_f(px(v))}" y="{_f(pad_t + h + 14)}" font-size="10.5" '
            f'fill="#52606d" text-anchor="middle">{_e(text)}</text>'
            f'<text class="tick" x="{_f(pad_l - 6)}" y="{_f(py(v) + 4)}" font-size="10.5" '
            f'fill="#52606d" text-anchor="end">{_e(text)}</text>'
        )
    base = ""
    if baseline is not None and len(baseline[0]):
        base = (
            f'<polyline class="baseline" points="{line(baseline[0], baseline[1])}" fill="none" '
            f'stroke="{_COLORS["baseline"]}" stroke-width="1.6" stroke-dasharray="5 3">'
            f"<title>{_e('baseline: ' + baseline[2])}</title></polyline>"
        )
    dots = []
    for f_, t_, lo, hi in marks:
        whisker = (
            f'<line x1="{_f(px(f_))}" y1="{_f(py(lo))}" x2="{_f(px(f_))}" y2="{_f(py(hi))}" '
            f'stroke="#1f2933" stroke-width="1.3"/>'
            if lo is not None and hi is not None
            else ""
        )
        tip = f"TPR {fmt_pct(t_)} at FPR {fmt_pct(f_)}" + (
            f" (CI {fmt_pct(lo)} to {fmt_pct(hi)})" if lo is not None and hi is not None else ""
        )
        dots.append(
            f"<g><title>{_e(tip)}</title>{whisker}"
            f'<circle cx="{_f(px(f_))}" cy="{_f(py(t_))}" r="3.2" fill="#1f2933"/></g>'
        )
    return (
        f'<svg class="roc loglog" viewBox="0 0 {_f(size)} {_f(size)}" '
        f'width="{_f(size)}" height="{_f(size)}" role="img" '
        f'aria-label="{_e("ROC curve on log-log axes: " + label)}">'
        + "".join(ticks)
        + f'<rect x="{_f(pad_l)}" y="{_f(pad_t)}" width="{_f(w)}" height="{_f(h)}" fill="none" '
        f'stroke="#9aa5b1"/>'
        f'<line class="chance" x1="{_f(px(axis_min))}" y1="{_f(py(axis_min))}" x2="{_f(px(1))}" '
        f'y2="{_f(py(1))}" stroke="#9aa5b1" stroke-dasharray="4 3"><title>chance (TPR = FPR)'
        "</title></line>"
        + base
        + (
            f'<polyline class="attack" points="{pts}" fill="none" stroke="{_COLORS["risk"]}" '
            f'stroke-width="2"><title>{_e(label)}</title></polyline>'
            if pts
            else ""
        )
        + "".join(dots)
        + f'<text x="{_f(pad_l + w / 2)}" y="{_f(size - 8)}" font-size="11.5" fill="#1f2933" '
        f'text-anchor="middle">false-positive rate (log scale)</text>'
        f'<text x="12" y="{_f(pad_t + h / 2)}" font-size="11.5" fill="#1f2933" text-anchor="middle" '
        f'transform="rotate(-90 12 {_f(pad_t + h / 2)})">true-positive rate (log scale)</text></svg>'
    )


# ---- sections ----------------------------------------------------------------------------------


def _header(report: AuditReport) -> str:
    cfg = report.config
    conf = fmt_pct(float(cfg.get("confidence_level", 0.95)), digits=0)
    items = [
        ("Created", report.created_at.replace("T", " ").replace("+00:00", " UTC")),
        ("synth-audit", report.tool_version),
        ("Seed", report.seed),
        ("Engine", cfg.get("engine", "native")),
        ("Confidence level", conf),
        ("Report schema", report.schema_version),
    ]
    dl = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in items)
    return (
        f'<header class="top"><div class="wrap"><h1>{_e(_title(report))}</h1>'
        + (
            '<div class="sub">Singling out, linkability and inference (Article 29 Working Party, '
            "Opinion 05/2014), membership inference and utility, each against a baseline"
            + (
                " and a control attack."
                if report.control_status() != "none"
                else " (no control set: no control attack was run)."
            )
            if article29_assessed(report)
            else '<div class="sub">Membership inference and the findings of this audit kind, '
            "each beside its baseline where one was run."
        )
        + f"</div><dl>{dl}</dl></div></header>"
    )


def _title(report: AuditReport) -> str:
    t = report.target
    if t is None or str(t.get("kind", "release")) == "release":
        return "Privacy audit of a synthetic data release"
    kind = str(t.get("kind", "target")).replace("_", " ")
    return f"Privacy audit of the {kind} {str(t.get('name', ''))!r}"


def _nav(report: AuditReport) -> str:
    links = [
        ("summary", "Summary"),
        ("warnings", "Warnings"),
        ("audited", "What was audited"),
        ("inputs", "Inputs"),
    ]
    if article29_assessed(report):
        links += [
            ("singling_out", "Singling out"),
            ("linkability", "Linkability"),
            ("inference", "Inference"),
        ]
    else:
        links.append(("evidence", "Evidence"))
    links.append(("membership", "Membership"))
    if article29_assessed(report):
        links.append(("exposed", "Exposed records"))
    if article29_assessed(report) or report.dcr is not None:
        links.append(("dcr", "Diagnostics"))
    links.append(("utility", "Utility"))
    links += [
        (f"section-{_anchor(name)}", str(sec.get("title", name)))
        for name, sec in report.sections.items()
    ]
    links.append(("limitations", "Limitations"))
    a = "".join(f'<a href="#{k}">{_e(v)}</a>' for k, v in links)
    return f'<nav class="toc"><div class="wrap">{a}</div></nav>'


def _banners(report: AuditReport) -> str:
    """The control-set problems, above everything else on the page."""
    items = control_banners(report)
    if not items:
        return ""
    return "".join(
        f'<section class="card warnbox banner" id="banner-{_e(code)}"><h2>⚠ {_e(title)}</h2>'
        f'<p><span class="code">{_e(code)}</span>{_e(text)}</p></section>'
        for code, title, text in items
    )


def _summary(report: AuditReport, n_warnings: int) -> str:
    s = report.summary()
    worst = report.max_risk()
    top = report.max_ci_high()
    conf = fmt_pct(float(report.config.get("confidence_level", 0.95)), digits=0)
    band_key, band_label = _band(s["max_risk_ci_high"])
    if report.control_status() == "none":
        band_key, band_label = "na", "Raw rates: no control set"
    unmeasurable = [(n, r) for n, r in report.risks() if not r.measurable]
    if worst is None or top is None:
        why = "No attack was run." if not unmeasurable else "No criterion could be measured."
        if not article29_assessed(report):
            why = (
                "The Article 29 criteria do not apply to this target; see membership inference "
                "and the findings below."
            )
        main = (
            '<div class="kpi na"><div class="label">Highest risk</div><div class="big">n/a</div>'
            f'<div class="ci">{_e(why)}</div></div>'
        )
    else:
        name, r = worst
        lo, hi, widened = display_ci(r.risk.value, r.risk.ci_low, r.risk.ci_high, r.risk.error)
        big = f"< {fmt_pct(hi)}" if widened else fmt_pct(r.risk.value)
        main = (
            f'<div class="kpi {band_key}"><div class="label">Highest risk '
            f'<span class="band {band_key}">{_e(band_label)}</span></div>'
            f'<div class="big">{_e(big)}</div>'
            f'<div class="ci">{_e(conf)} CI {_e(_ci_text(lo, hi))} · '
            f"{_e(attack_title(name, r))}</div>"
            f'<div class="ci">Highest upper bound of any risk: '
            f"<b>{_e(fmt_pct(top[1].risk.ci_high))}</b> ({_e(attack_title(*top))})</div></div>"
        )
    if unmeasurable:
        main = main[: -len("</div>")] + (
            '<div class="ci">Not measurable, left out of these figures: '
            + _e(", ".join(attack_title(n, r) for n, r in unmeasurable))
            + "</div></div>"
        )
    util = "n/a" if report.utility_score is None else f"{report.utility_score:.2f}"
    util_note = (
        "not measured" if report.utility_score is None else "0 = useless · 1 = like the real data"
    )
    n_attacks = len(list(report.risks()))
    bands = ", ".join(
        f"{label.split()[0].lower()} below {fmt_pct(limit, digits=0)}"
        for limit, _, label in RISK_BANDS
        if math.isfinite(limit)
    )
    return (
        '<section class="card" id="summary"><h2>Summary</h2><div class="verdict">'
        + main
        + f'<div class="kpi"><div class="label">Utility score</div><div class="big">{_e(util)}</div>'
        f'<div class="ci">{_e(util_note)}</div></div>'
        f'<div class="kpi{" moderate" if n_warnings else ""}"><div class="label">Warnings</div>'
        f'<div class="big">{n_warnings}</div><div class="ci">{n_attacks} risk figure(s) · '
        f"{len(report.membership)} membership attack(s)</div></div></div>"
        + (
            f'<p class="small muted">The band applies to the highest upper confidence bound of any '
            f"risk ({_e(bands)}, high otherwise). It orients the reader; it is not a release "
            "decision. "
            + (
                "Each risk is (attack rate − control rate) / (1 − control rate): the share of what "
                "the population alone does not reveal that the release gives away.</p>"
                if report.control_status() != "none"
                else "Without a control set no band is given: each risk is the attack's raw "
                "success rate, which includes what the population reveals anyway; compare it with "
                "its baseline.</p>"
            )
            if article29_assessed(report)
            else ""
        )
        + _summary_table(report)
        + _summary_membership(report)
        + "</section>"
    )


def _summary_membership(report: AuditReport) -> str:
    mia = report.max_membership()
    if mia is None:
        what = "not assessed" if article29_assessed(report) else "no attack was run"
        return f'<p class="small muted">Membership inference: {what} in this audit.</p>'
    name, m = mia
    return (
        f'<p class="riskline">Membership inference ({len(report.membership)} attack(s)): highest '
        f'AUC <b>{_e(_auc_text(m))}</b> (<a href="#mia-{_e(_anchor(name))}">{_e(name)}</a>).</p>'
        f'<p class="reading">{_e(membership_reading(m, claimed_epsilon(report)))}</p>'
    )


def _summary_table(report: AuditReport) -> str:
    rows = []
    for name, r in report.risks():
        ctrl = "n/a" if r.control_rate is None else fmt_pct(r.control_rate.value)
        flag = " ⚠" if r.warnings else ""
        if not r.measurable:
            flag += ' <span class="band na">not measurable</span>'
        lo, hi, widened = display_ci(r.risk.value, r.risk.ci_low, r.risk.ci_high, r.risk.error)
        shown = f"< {fmt_pct(hi)}" if widened else fmt_pct(r.risk.value)
        rows.append(
            [
                f'<a href="#risk-{_e(_anchor(name))}">{_e(attack_title(name, r))}</a>{flag}',
                f"<b>{_e(shown)}</b>",
                _e(_ci_text(lo, hi)),
                _e(fmt_pct(r.attack_rate.value)),
                _e(fmt_pct(r.baseline_rate.value)),
                _e(ctrl),
                _e(fmt_num(r.n_attacks)),
            ]
        )
    if not rows:
        return ""
    return _table(
        ["Attack", "Risk", "CI", "Attack rate", "Baseline", "Control", "Attacks"],
        rows,
        num=(1, 3, 4, 5, 6),
    )


def _anchor(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name)


def _warnings(warnings: list[AuditWarning]) -> str:
    if not warnings:
        return (
            '<section class="card" id="warnings"><h2>Warnings</h2>'
            '<p class="empty">No warnings.</p></section>'
        )
    items = "".join(f"<li>{_warn_html(w)}</li>" for w in warnings)
    return (
        f'<section class="card warnbox" id="warnings"><h2>⚠ {len(warnings)} warning(s)</h2>'
        '<p class="small">Read these before the numbers: a figure with a warning may not mean '
        f"what it seems to.</p><ul>{items}</ul></section>"
    )


def _audited(report: AuditReport) -> str:
    """What was attacked: the target's kind, name, every parameter, the claimed ε and δ, its
    fingerprint, the threat model its capabilities give, and the study and run."""
    mono = {"Fingerprint", "SHA-256", "Run id", "Release file"}
    rows = [
        [
            f"<b>{_e(k)}</b>",
            f'<span class="mono hash">{_e(v)}</span>' if k in mono else _e(v),
        ]
        for k, v in audited_items(report)
    ]
    return (
        '<section class="card" id="audited"><h2>What was audited</h2>'
        + _table(["", ""], rows)
        + "</section>"
    )


def _inputs(report: AuditReport) -> str:
    rows = [
        [
            f"<b>{_e(role)}</b>",
            f'<span class="mono">{_e(fp.get("source", role))}</span>',
            _e(fmt_num(fp.get("n_rows"))),
            _e(fmt_num(fp.get("n_columns"))),
            f'<span class="mono hash">{_e(fp.get("sha256", "n/a"))}</span>',
        ]
        for role, fp in report.inputs.items()
    ]
    cols = [
        [f'<span class="mono">{_e(c.name)}</span>', _e(c.kind.value), _e(c.reason)]
        for c in report.schema.columns
    ]
    notes = "".join(f'<div class="inline-warn">{_e(n)}</div>' for n in report.schema.notices)
    no_control = (
        ""
        if report.control_status() != "none"
        else '<div class="inline-warn">No control set: risks are raw attack success rates, not '
        "corrected for what the population reveals.</div>"
    )
    config = json.dumps(report.config, indent=2, ensure_ascii=False, sort_keys=True)
    timings = [[_e(k), _e(f"{v:.2f} s")] for k, v in report.timings_s.items()]
    return (
        '<section class="card" id="inputs"><h2>Inputs</h2>'
        "<p>The SHA-256 fingerprints identify the exact data audited: recompute them to check that a "
        "release is the one this report describes.</p>"
        + _table(["Role", "Source", "Rows", "Columns", "SHA-256"], rows, num=(2, 3))
        + no_control
        + notes
        + f"<details><summary>Column kinds ({len(report.schema.used)} attacked, "
        f"{len(report.schema.excluded)} excluded)</summary>"
        + _table(["Column", "Kind", "Why"], cols)
        + "</details><details><summary>Full configuration</summary>"
        f"<pre>{_e(config)}</pre></details>"
        + (
            "<details><summary>Timings</summary>"
            + _table(["Step", "Time"], timings, num=(1,))
            + "</details>"
            if timings
            else ""
        )
        + "</section>"
    )


def _attack_block(name: str, r: AttackResult, show_threat: bool) -> str:
    risk = r.risk
    conf = fmt_pct(risk.confidence_level, digits=0)
    a, b, c = r.attack_rate, r.baseline_rate, r.control_rate
    count_rows = [
        [
            "Attack on training records",
            _e(fmt_pct(a.value)),
            _e(_ci_text(*a.ci)),
            _e(f"{fmt_num(a.n_success)} / {fmt_num(a.n_total)}"),
        ],
        [
            "Baseline (naive attacker)",
            _e(fmt_pct(b.value)),
            _e(_ci_text(*b.ci)),
            _e(f"{fmt_num(b.n_success)} / {fmt_num(b.n_total)}"),
        ],
        (
            ["Control (records never used)", "n/a", "no control set", ""]
            if c is None
            else [
                "Control (records never used)",
                _e(fmt_pct(c.value)),
                _e(_ci_text(*c.ci)),
                _e(f"{fmt_num(c.n_success)} / {fmt_num(c.n_total)}"),
            ]
        ),
    ]
    params = [
        [f'<span class="mono">{_e(k)}</span>', f'<span class="mono">{_e(fmt_param(v))}</span>']
        for k, v in r.params.items()
    ]
    params += [
        ['<span class="mono">engine</span>', f'<span class="mono">{_e(r.engine)}</span>'],
        [
            '<span class="mono">seed</span>',
            f'<span class="mono">{_e("n/a" if r.seed is None else r.seed)}</span>',
        ],
    ]
    warns = "".join(f'<div class="inline-warn">⚠ {_warn_html(w)}</div>' for w in r.warnings)
    threat = (
        f'<div class="threat"><b>Threat model.</b> {_e(threat_model(name, r))}</div>'
        if show_threat
        else ""
    )
    keys: tuple[tuple[str, str], ...] = (("attack", "attack"), ("baseline", "baseline"))
    if c is not None:
        keys += (("control", "control"),)
    legend = (
        '<div class="legend">'
        + "".join(f'<span><i style="background:{_COLORS[k]}"></i>{_e(t)}</span>' for k, t in keys)
        + "<span>whiskers: "
        + _e(conf)
        + " CI</span><span>risk background: low / moderate / high band</span></div>"
    )
    lo, hi, widened = display_ci(risk.value, risk.ci_low, risk.ci_high, risk.error)
    shown = f"< {fmt_pct(hi)}" if widened else fmt_pct(risk.value)
    tag = "" if r.measurable else ' <span class="band na">not measurable</span>'
    return (
        f'<div class="attack" id="risk-{_e(_anchor(name))}"><h3>{_e(attack_title(name, r))}'
        f'{tag}<span class="crit mono">{_e(name)}</span></h3>'
        + threat
        + f'<div class="grid2"><div>{rates_svg(r)}{risk_svg(r)}{legend}</div><div>'
        f'<p class="riskline">Risk <b>{_e(shown)}</b> · {_e(conf)} CI '
        f"{_e(_ci_text(lo, hi))}</p>"
        f'<p class="small muted">Unclipped residual {risk.residual:+.4f} ± {risk.error:.4f}</p>'
        f'<p class="reading">{_e(reading(name, r))}</p></div></div>'
        + warns
        + _table(["", "Success rate", "CI", "Successes / attacks"], count_rows, num=(1, 3))
        + '<p class="small muted">Success rates are Wilson estimates: for small counts they sit '
        "slightly above the raw share (0 successes in 100 reads about 1.9 %).</p>"
        + "<details><summary>Parameters</summary>"
        + _table(["Parameter", "Value"], params)
        + "</details></div>"
    )


def _no_article29(report: AuditReport) -> str:
    """For an audit that ran no Article 29 attack (a model audit): what evidence it gives and the
    threat model its target's capabilities state, instead of three "not assessed" criteria."""
    t = report.target or {}
    kind = str(t.get("kind", "target"))
    items = "".join(f"<li>{_e(x)}</li>" for x in sections_evidence(report))
    return (
        '<section class="card" id="evidence"><h2>Evidence this audit gives</h2>'
        f"<p>This is an audit of a {_e(kind.replace('_', ' '))} target. The Article 29 criteria "
        "(singling out, linkability, inference) are measured on released records; this audit "
        "attacked the target through what it exposes instead, so they do not apply here and are "
        f"not listed. It gives:</p><ul>{items}</ul>"
        f'<div class="threat"><b>Threat model.</b> '
        f"{_e(threat_model_words(t.get('capabilities'), kind))}</div></section>"
    )


# Rows of a section table shown in report.html: the first HTML_TABLE_SHOWN open, up to
# HTML_TABLE_ROWS behind a "more rows" toggle, the rest counted (all are in report.json).
HTML_TABLE_SHOWN = 20
HTML_TABLE_ROWS = 100


def _section_html(name: str, sec: Mapping[str, Any]) -> str:
    parts = [
        f'<section class="card report-section" id="section-{_e(_anchor(name))}">'
        f"<h2>{_e(sec.get('title', name))}"
        f'<span class="crit mono">{_e(name)} · {_e(sec.get("kind", ""))}</span></h2>'
    ]
    if sec.get("summary"):
        parts.append(f'<p class="reading">{_e(sec["summary"])}</p>')
    findings = [f for f in sec.get("findings", []) or [] if isinstance(f, Mapping)]
    if findings:
        rows = []
        for f in findings:
            c = section_finding_cells(f)
            rows.append(
                [
                    f'<span class="mono">{_e(c["name"])}</span>',
                    f"<b>{_e(c['value'])}</b>",
                    _e(c["ci"]),
                    f'<span class="role {_e(c["role"])}">{_e(c["role"])}</span>',
                    _e(c["better"]),
                    _e(c["reading"]),
                ]
            )
        parts.append(
            _table(["Finding", "Value", "CI", "Role", "Better", "Reading"], rows, num=(1,))
        )
    for t in sec.get("tables", []) or []:
        body = list(t.get("rows", []))
        head = [_e(c) for c in t.get("columns", [])]
        parts.append(f"<h3>{_e(t.get('title', ''))}</h3>")
        parts.append(_table(head, [[_e(fmt_param(v)) for v in r] for r in body[:HTML_TABLE_SHOWN]]))
        if len(body) > HTML_TABLE_SHOWN:
            more = body[HTML_TABLE_SHOWN:HTML_TABLE_ROWS]
            parts.append(
                f"<details><summary>{len(more):,} more rows</summary>"
                + _table(head, [[_e(fmt_param(v)) for v in r] for r in more])
                + "</details>"
            )
        if len(body) > HTML_TABLE_ROWS:
            parts.append(
                f'<p class="small muted">{len(body) - HTML_TABLE_ROWS:,} more rows (of '
                f"{len(body):,}) are in report.json.</p>"
            )
    for img in sec.get("images", []) or []:
        media = str(img.get("media_type", "image/png"))
        if media not in ("image/png", "image/svg+xml"):
            continue
        data = re.sub(r"[^A-Za-z0-9+/=]", "", str(img.get("data_base64", "")))
        parts.append(
            f'<figure><img src="data:{media};base64,{data}" alt="{_e(img.get("alt") or "")}">'
            f"<figcaption>{_e(img.get('title', ''))}</figcaption></figure>"
        )
    for w in sec.get("warnings", []) or []:
        parts.append(
            f'<div class="inline-warn">⚠ <span class="code">{_e(w.get("code", ""))}</span>'
            f"{_e(w.get('message', ''))}</div>"
        )
    parts.append("</section>")
    return "".join(parts)


def _sections(report: AuditReport) -> str:
    return "".join(_section_html(str(n), sec) for n, sec in report.sections.items())


def _criteria(report: AuditReport) -> str:
    if not article29_assessed(report):
        return _no_article29(report)
    risks = list(report.risks())
    out = []
    for family, title, question in CRITERIA:
        mine = [(n, r) for n, r in risks if attack_family(n) == family]
        body = [f"<p>{_e(question)}</p>"]
        if not mine:
            body.append(
                '<p class="empty">Not assessed in this audit (disabled in the configuration).</p>'
            )
        seen: set[str] = set()
        for name, r in mine:
            threat = threat_model(name, r)
            body.append(_attack_block(name, r, show_threat=threat not in seen))
            seen.add(threat)
        out.append(
            f'<section class="card" id="{family}"><h2>{_e(title)}</h2>{"".join(body)}</section>'
        )
    return "".join(out)


def _tpr_rows(m: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for t in m.get("tpr_at", []) or []:
        ci = t.get("tpr_ci") or [None, None]
        rows.append(
            [
                _e(fmt_pct(t.get("target_fpr"))),
                f"<b>{_e(fmt_pct(t.get('tpr')))}</b>",
                _e(_ci_text(ci[0], ci[1])),
                _e(fmt_pct(t.get("realised_fpr"))),
                _e(f"{fmt_num(t.get('tp'))} / {fmt_num(t.get('n_members'))}"),
            ]
        )
    return rows


def _roc_of(m: Mapping[str, Any]) -> tuple[list[float], list[float]]:
    roc = m.get("roc") or {}
    return list(roc.get("fpr", []) or []), list(roc.get("tpr", []) or [])


def _marks(m: Mapping[str, Any]) -> list[tuple[float, float, float | None, float | None]]:
    out = []
    for t in m.get("tpr_at", []) or []:
        f_, t_ = t.get("realised_fpr"), t.get("tpr")
        if f_ is None or t_ is None or float(f_) <= 0:
            f_ = t.get("target_fpr")
        if f_ is None or t_ is None:
            continue
        ci = t.get("tpr_ci") or [None, None]
        out.append((float(f_), float(t_), ci[0], ci[1]))
    return out


def _auc_text(m: Mapping[str, Any]) -> str:
    ci = m.get("auc_ci") or [None, None]
    return f"{fmt_num(m.get('auc'), 3)} [{fmt_num(ci[0], 3)}, {fmt_num(ci[1], 3)}]"


def _baseline_block(m: Mapping[str, Any]) -> str:
    base = m.get("baseline")
    if not isinstance(base, Mapping):
        return (
            '<p class="small muted">No baseline was run beside this attack (the same members '
            "and non-members scored without the target).</p>"
        )
    t1 = membership_tpr(m) or {}
    b1 = membership_tpr(base) or {}
    rows = []
    for who, r, t in (("Attack", m, t1), (f"Baseline: {base.get('attack', 'n/a')}", base, b1)):
        ci = t.get("tpr_ci") or [None, None]
        rows.append(
            [
                _e(who),
                _e(_auc_text(r)),
                _e(f"{fmt_pct(t.get('tpr'))} {_ci_text(ci[0], ci[1])}"),
                _e(fmt_num((r.get("epsilon") or {}).get("epsilon"), 3)),
            ]
        )
    return (
        '<div class="baseline-block"><h4>Attack beside its baseline</h4>'
        '<p class="small muted">The baseline scores the same members and non-members without the '
        "target: what an attacker learns from the split alone. Leakage is what the attack finds "
        "beyond it.</p>"
        + _table(["", "AUC [CI]", "TPR at 1 % FPR [CI]", "ε lower bound"], rows, num=(3,))
        + "</div>"
    )


def _top_exposed(m: Mapping[str, Any], unit: str) -> str:
    top = [e for e in m.get("top_exposed", []) or [] if isinstance(e, Mapping)]
    if not top:
        return ""
    shown = top[:10]
    rows = [
        [
            _e(i),
            f'<span class="mono">{_e(e.get("record_id"))}</span>',
            _e(fmt_num(e.get("score"), 4)),
        ]
        for i, e in enumerate(shown, start=1)
    ]
    return (
        f'<div class="exposed-mia"><h4>Most exposed {_e(unit)}s</h4>'
        f'<p class="small muted">The members the attack scores highest ({len(shown)} of '
        f"{len(top)} kept): the first a real attacker would claim. Ids are those of the "
        "members' input.</p>" + _table(["Rank", "Id", "Score"], rows, num=(0, 2)) + "</div>"
    )


def _membership(report: AuditReport) -> str:
    head = (
        '<section class="card" id="membership"><h2>Membership inference</h2>'
        f'<div class="threat"><b>Threat model.</b> {_e(MEMBERSHIP_THREAT)}</div>'
    )
    if not report.membership:
        return head + '<p class="empty">Not part of this audit.</p></section>'
    claimed = claimed_epsilon(report)
    blocks = []
    for name, m in report.membership.items():
        eps = m.get("epsilon") or {}
        unit = str(m.get("unit", "record"))
        warns = "".join(
            '<div class="inline-warn">⚠ '
            + (
                _warn_html(AuditWarning.from_dict(w))
                if isinstance(w, Mapping) and "code" in w
                else _e(w.get("message", "") if isinstance(w, Mapping) else w)
            )
            + "</div>"
            for w in m.get("warnings", []) or []
        )
        fpr, tpr = _roc_of(m)
        base = m.get("baseline")
        base_roc = None
        if isinstance(base, Mapping):
            bf, bt = _roc_of(base)
            base_roc = (bf, bt, str(base.get("attack", "baseline")))
        blocks.append(
            f'<div class="attack membership-attack" id="mia-{_e(_anchor(name))}"><h3>{_e(name)}'
            f'<span class="crit">target: {_e(m.get("target", "n/a"))}</span></h3>'
            f'<p class="reading">{_e(membership_reading(m, claimed))}</p>'
            f'<div class="grid2"><div>'
            f'<p class="riskline">AUC <b>{_e(fmt_num(m.get("auc"), 3))}</b> · CI '
            f"{_e(_auc_text(m).split(' ', 1)[1])} "
            '<span class="muted small">(0.5 = guessing, 1 = perfect)</span></p>'
            f'<p class="riskline">Empirical ε lower bound <b>{_e(fmt_num(eps.get("epsilon"), 3))}</b> '
            f'<span class="muted small">(largest certifiable with these counts: '
            f"{_e(fmt_num(eps.get('ceiling'), 3))}; δ = {_e(fmt_num(eps.get('delta'), 3))})</span></p>"
            f'<p class="small muted">{_e(fmt_num(m.get("n_members")))} members, '
            f"{_e(fmt_num(m.get('n_nonmembers')))} non-members; unit of membership: "
            f"<b>{_e(unit)}</b>; scores pooled over {_e(fmt_num(m.get('n_target_models', 1)))} "
            "target model(s).</p>"
            + _table(
                ["Target FPR", "TPR", "CI", "Realised FPR", "Hits / members"],
                _tpr_rows(m),
                num=(0, 1, 3, 4),
            )
            + "</div><div>"
            + roc_svg(
                fpr,
                tpr,
                name,
                axis_min=roc_axis_min(m.get("n_nonmembers")),
                baseline=base_roc,
                marks=_marks(m),
            )
            + '<div class="legend"><span><i style="background:'
            + _COLORS["risk"]
            + '"></i>attack</span>'
            + (
                f'<span><i style="background:{_COLORS["baseline"]}"></i>baseline</span>'
                if base_roc is not None
                else ""
            )
            + "<span>dashed diagonal: chance · dots: TPR at the target FPRs with CI</span></div>"
            + "</div></div>"
            + _baseline_block(m)
            + _top_exposed(m, unit)
            + warns
            + "</div>"
        )
    return head + "".join(blocks) + "</section>"


def _exposed(report: AuditReport) -> str:
    head = (
        '<section class="card" id="exposed"><h2>Most exposed training records</h2>'
        "<p>Training records ranked by how many attacks succeeded against them (row positions in "
        "the training input, counting from 0). A success on one record is weak evidence on its own; "
        "records hit by several attacks are where a release is most likely to hurt someone. The "
        'full ranking is in <span class="mono">exposed_records.csv</span>, every outcome in '
        '<span class="mono">per_record.csv</span>.</p>'
    )
    if not any(r.per_record is not None for _, r in report.risks()):
        return (
            head + '<p class="empty">Per-record outcomes are not part of this report (it was read '
            "back from report.json).</p></section>"
        )
    ex = report.exposed_records()
    if ex.empty:
        return (
            head + '<p class="empty">No attack succeeded against any training record.</p></section>'
        )
    rows = [
        [
            _e(int(row.record) if isinstance(row.record, int | float) else row.record),
            _e(fmt_num(int(row.n_successful_attacks))),
            _e(row.attacks),
        ]
        for row in ex.itertuples(index=False)
    ]
    return (
        head + _table(["Record", "Successful attacks", "Attacks"], rows, num=(0, 1)) + "</section>"
    )


def _dcr(report: AuditReport) -> str:
    head = (
        '<section class="card" id="dcr"><h2>Distance to closest record '
        '<span class="diag">diagnostic, not proof of privacy</span></h2>'
        "<p>For every synthetic record: is its closest real record a training record or a control "
        "record? Without memorisation the share closer to train matches the share of training "
        "records among all real ones. A share clearly above that points at memorisation; a share at "
        "the expectation does <b>not</b> show the release is private (attributes can leak through "
        "records that are far from everyone).</p>"
    )
    d = report.dcr
    if d is None:
        return head + '<p class="empty">Not run: this diagnostic needs a control set.</p></section>'
    conf = fmt_pct(d.confidence_level, digits=0)
    q_rows = [
        [
            _e(k),
            _e(fmt_num(d.dcr_train_quantiles.get(k), 3)),
            _e(fmt_num(d.dcr_control_quantiles.get(k), 3)),
        ]
        for k in d.dcr_train_quantiles
    ]
    warns = "".join(f'<div class="inline-warn">⚠ {_warn_html(w)}</div>' for w in d.warnings)
    return (
        head
        + '<div class="grid2"><div>'
        + dcr_svg(d.share_closer_to_train, d.share_ci[0], d.share_ci[1], d.expected_share)
        + f'</div><div><p class="riskline">Closer to train <b>{_e(fmt_pct(d.share_closer_to_train))}</b>'
        f" · expected {_e(fmt_pct(d.expected_share))}</p>"
        f'<p class="small muted">One-sided {_e(conf)} CI from {_e(fmt_pct(d.share_ci[0]))}; '
        f"binomial p = {d.p_value:.3g}; {d.n_synthetic:,} synthetic, {d.n_train:,} train, "
        f"{d.n_control:,} control records.</p>"
        f'<p class="riskline">Exact copies: <b>{d.exact_copies_of_train}</b> of a training record, '
        f"{d.exact_copies_of_control} of a control record.</p></div></div>"
        + warns
        + "<details><summary>Distance quantiles (Gower distance, 0 = identical)</summary>"
        + _table(["Quantile", "To train", "To control"], q_rows, num=(1, 2))
        + "</details></section>"
    )


def _utility(report: AuditReport) -> str:
    head = '<section class="card" id="utility"><h2>Utility</h2>'
    if not report.utility:
        return head + '<p class="empty">Utility was not measured in this audit.</p></section>'
    rows = []
    for name, m in report.utility.items():
        ci = (
            f"[{fmt_num(m.get('ci_low'), 3)}, {fmt_num(m.get('ci_high'), 3)}]"
            if m.get("ci_low") is not None and m.get("ci_high") is not None
            else ""
        )
        better = "higher is better" if m.get("direction") != "minimize" else "lower is better"
        rows.append(
            [
                f"<b>{_e(name)}</b>",
                f"<b>{_e(fmt_num(m.get('value'), 4))}</b>",
                _e(ci),
                utility_svg(m),
                _e(better),
            ]
        )
    score = (
        ""
        if report.utility_score is None
        else f'<p class="riskline">Utility score <b>{report.utility_score:.3f}</b> '
        '<span class="muted small">(each metric put on 0 = worst … 1 = best with its declared '
        "direction and bounds, then averaged)</span></p>"
    )
    warns = "".join(
        f'<div class="inline-warn">⚠ {_e(name)}: {_e(w.get("message", ""))}</div>'
        for name, m in report.utility.items()
        for w in m.get("warnings", []) or []
    )
    b = utility_breakdown(report.utility)
    readings = "".join(f"<li>{_e(t)}</li>" for t in b["readings"])
    detail = ""
    if b["worst_columns"]:
        detail += (
            f"<h3>Columns matched least ({len(b['worst_columns'])} of {b['n_columns']})</h3>"
            + _table(
                ["Column", "Score", "Test"],
                [
                    [f'<span class="mono">{_e(c)}</span>', _e(fmt_num(v, 3)), _e(k)]
                    for c, v, k in b["worst_columns"]
                ],
                num=(1,),
            )
        )
    if b["worst_pairs"]:
        detail += (
            f"<h3>Pairs of columns matched least ({len(b['worst_pairs'])} of {b['n_pairs']})</h3>"
            + _table(
                ["Pair", "Score", "Kind"],
                [
                    [f'<span class="mono">{_e(c)}</span>', _e(fmt_num(v, 3)), _e(k)]
                    for c, v, k in b["worst_pairs"]
                ],
                num=(1,),
            )
        )
    every = ""
    if b["n_columns"] > len(b["worst_columns"]) or b["n_pairs"] > len(b["worst_pairs"]):
        every = (
            "<details><summary>Every column and pair</summary>"
            + _table(
                ["Column or pair", "Score", "Test or kind"],
                [
                    [f'<span class="mono">{_e(c)}</span>', _e(fmt_num(v, 3)), _e(k)]
                    for c, v, k in [*b["columns"], *b["pairs"]]
                ],
                num=(1,),
            )
            + "</details>"
        )
    return (
        head
        + score
        + '<p class="small muted">Bars run from the worst bound (left) to the best bound (★, right).</p>'
        + _table(["Metric", "Value", "CI", "Within bounds", "Direction"], rows, num=(1,))
        + f'<ul class="readings">{readings}</ul>'
        + detail
        + every
        + f'<p class="small">{_e(UTILITY_RANKING_NOTE)}</p>'
        + warns
        + "</section>"
    )


def _limitations() -> str:
    items = "".join(f"<li>{_e(t).replace('*', '')}</li>" for t in LIMITATIONS)
    return f'<section class="card" id="limitations"><h2>Limitations</h2><ul>{items}</ul></section>'


def render_html(report: AuditReport, *, dpia_link: str | None = None) -> str:
    """The whole report as one self-contained HTML page (``dpia_link``: the DPIA evidence
    document written beside it, linked at the top)."""
    warnings = all_report_warnings(report)
    body = (
        _header(report)
        + _nav(report)
        + '<main class="wrap">'
        + (
            f'<p class="small">DPIA evidence for this audit: <a href="{_e(dpia_link)}">'
            f"{_e(dpia_link)}</a>.</p>"
            if dpia_link
            else ""
        )
        + _banners(report)
        + _summary(report, len(warnings))
        + _warnings(warnings)
        + _audited(report)
        + _inputs(report)
        + _criteria(report)
        + _membership(report)
        + (_exposed(report) if article29_assessed(report) else "")
        + (_dcr(report) if article29_assessed(report) or report.dcr is not None else "")
        + _utility(report)
        + _sections(report)
        + _limitations()
        + f"<footer>Generated by synth-audit {_e(report.tool_version)} on {_e(report.created_at)}. "
        "This page is self-contained: it loads nothing from the network.</footer></main>"
    )
    # Keep a number and its percent sign on one line.
    body = re.sub(r"(\d) %", "\\1\u00a0%", body)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Privacy audit report · synth-audit {_e(report.tool_version)}</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>\n"
    )
