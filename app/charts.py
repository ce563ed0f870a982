"""The app's frontier chart: every run a point with its risk CI, both fronts, a clickable selection.

Drawn as SVG (``usermeta.embedOptions.renderer``) up to :data:`SVG_MAX_POINTS` runs, so each point is
an element a browser test can click and a screen reader can name; larger studies are drawn on a
canvas, which renders a thousand points in a fraction of the time.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synth_audit.frontier import Frontier, FrontierPoint

SELECTION = "pick"
SVG_MAX_POINTS = 250
_COLUMNS = (
    "run_id",
    "run",
    "generator",
    "configuration",
    "params",
    "seed",
    "risk",
    "risk_ci_low",
    "risk_ci_high",
    "risk_attack",
    "utility",
    "front",
    "on_front",
    "on_conservative_front",
    "highlight",
    "off_scale",
    "risk_text",
    "risk_ci_text",
    "utility_text",
)


def point_label(p: FrontierPoint) -> str:
    """``ctgan(epochs=30) · seed #2`` (the raw 32-bit seed stays in the tooltip)."""
    from synth_audit.report.wording import run_label

    return run_label(p.generator, p.params, p.seed_index)


def generator_scale(frontier: Frontier) -> Any:
    """Each generator in its colour, the same as in report.html and the frontier page
    (:func:`synth_audit.report.wording.generator_colour`)."""
    import altair as alt

    from synth_audit.report.wording import generator_colour

    names = sorted({p.generator for p in frontier.points})
    return alt.Scale(domain=names, range=[generator_colour(g) for g in names])


def risk_axis(frontier: Frontier) -> tuple[float, bool]:
    """The right end of the risk axis and whether some runs lie beyond it: the same fit as the
    frontier page's (:func:`synth_audit.frontier.risk_axis_max`), so one ``copy`` baseline at risk 1
    does not squeeze every realistic generator into the first few percent."""
    from synth_audit.frontier import risk_axis_max

    return risk_axis_max(frontier)


def off_scale_note(frontier: Frontier) -> str:
    """``"; 1 run beyond the risk axis (up to 99.0 %) is drawn at its right edge"`` or ``""``."""
    from synth_audit.report.wording import fmt_pct

    axis_max, clipped = risk_axis(frontier)
    beyond = [p for p in frontier.points if clipped and p.risk_upper > axis_max]
    if not beyond:
        return ""
    top = max(p.risk for p in beyond)
    n = len(beyond)
    return (
        f"; {n} run{'s' if n > 1 else ''} beyond the risk axis (risk up to {fmt_pct(top)}) "
        f"{'are' if n > 1 else 'is'} drawn at its right edge with the value"
    )


def frontier_records(frontier: Frontier, highlight: Collection[str] = ()) -> list[dict[str, Any]]:
    from synth_audit.report.wording import fmt_ci, fmt_pct

    axis_max, clipped = risk_axis(frontier)
    rows = []
    for p in frontier.points:
        rows.append(
            {
                "run_id": p.run_id,
                "run": p.run_id[:8],
                "generator": p.generator,
                "configuration": point_label(p),
                "params": json.dumps(p.params, sort_keys=True),
                "seed": p.seed,
                "risk": p.risk,
                "risk_ci_low": p.risk if p.risk_ci_low is None else p.risk_ci_low,
                "risk_ci_high": p.risk_upper,
                "risk_attack": p.risk_attack,
                "utility": p.utility,
                "front": "on the front" if p.on_front else "dominated",
                "on_front": p.on_front,
                "on_conservative_front": p.on_conservative_front,
                "highlight": p.run_id in highlight,
                "off_scale": bool(clipped and p.risk_upper > axis_max),
                "risk_text": fmt_pct(p.risk),
                "risk_ci_text": fmt_ci(
                    p.risk if p.risk_ci_low is None else p.risk_ci_low, p.risk_upper
                ),
                "utility_text": f"{p.utility:.3f}",
            }
        )
    return rows


def frontier_chart(
    frontier: Frontier,
    *,
    highlight: Collection[str] = (),
    selectable: bool = True,
    height: int = 420,
) -> Any:
    """Points (colour = generator, shape = on the front) with risk CI bars, the Pareto front (solid)
    and the conservative front (dashed, risk at its CI's upper bound). ``highlight``: run ids drawn
    with a black ring (the run just made). ``selectable``: clicking a point selects its run (the
    selection parameter is named :data:`SELECTION`)."""
    import altair as alt
    import pandas as pd

    from synth_audit.frontier import WORST

    # A DataFrame (not inline values): Streamlit ships it as Arrow and Altair skips validating
    # every row, which keeps a chart of 1,000 runs fast.
    data = pd.DataFrame.from_records(frontier_records(frontier, highlight), columns=list(_COLUMNS))
    base = alt.Chart(data)
    risk_title = (
        "privacy risk: worst risk of each run (lower is better)"
        if frontier.risk == WORST
        else f"privacy risk: {frontier.risk} (lower is better)"
    )
    axis_max, clipped = risk_axis(frontier)
    # Runs far beyond the bulk are drawn at the axis' right edge (clamped) with their value.
    x_scale = (
        alt.Scale(domain=[0.0, axis_max], clamp=True, nice=False, zero=True)
        if clipped
        else alt.Scale(padding=14, nice=False, zero=True)
    )
    x = alt.X("risk:Q", title=risk_title, axis=alt.Axis(format="%"), scale=x_scale)
    y = alt.Y(
        "utility:Q",
        title=f"utility: {frontier.utility} (higher is better)",
        scale=alt.Scale(zero=False),
    )
    tooltip = [
        alt.Tooltip("configuration:N", title="run"),
        alt.Tooltip("seed:Q", title="seed (raw)"),
        # Texts written by report.wording, so a number reads as on every other surface.
        alt.Tooltip("risk_text:N", title="risk"),
        alt.Tooltip("risk_ci_text:N", title="risk CI"),
        alt.Tooltip("risk_attack:N", title="risk from"),
        alt.Tooltip("utility_text:N", title="utility"),
        alt.Tooltip("front:N"),
        alt.Tooltip("run_id:N"),
    ]
    color = alt.Color("generator:N", title="generator", scale=generator_scale(frontier))
    bars = base.mark_rule(opacity=0.45, strokeWidth=2).encode(
        x=alt.X("risk_ci_low:Q", title=risk_title, axis=alt.Axis(format="%"), scale=x_scale),
        x2="risk_ci_high:Q",
        y=y,
        color=color,
    )
    front = (
        base.transform_filter("datum.on_front")
        .mark_line(color="black", strokeWidth=1.5)
        .encode(x="risk:Q", y="utility:Q", order="risk:Q")
    )
    cons = (
        base.transform_filter("datum.on_conservative_front")
        .mark_line(color="grey", strokeDash=[6, 4], strokeWidth=1.5)
        .encode(x="risk_ci_high:Q", y="utility:Q", order="risk_ci_high:Q")
    )
    ring = (
        base.transform_filter("datum.highlight")
        .mark_point(size=420, color="black", strokeWidth=2.5, filled=False, shape="circle")
        .encode(x="risk:Q", y="utility:Q")
    )
    # A thin dark outline keeps light generator colours (e.g. independent_marginals' grey) visible,
    # also when a selection dims the other points.
    points = base.mark_point(filled=True, size=110, stroke="#333333", strokeWidth=0.8).encode(
        x=x,
        y=y,
        color=color,
        shape=alt.Shape("front:N", title="front", scale=alt.Scale(range=["circle", "diamond"])),
        tooltip=tooltip,
    )
    off_scale = (
        base.transform_filter("datum.off_scale")
        .mark_text(align="right", dx=-10, dy=-12, fontSize=11, color="#444")
        .encode(
            x=alt.X("risk:Q", scale=x_scale),
            y="utility:Q",
            text=alt.Text("label:N"),
        )
        .transform_calculate(label="'▶ ' + datum.risk_text + ' (off the axis)'")
    )
    if selectable:
        sel = alt.selection_point(name=SELECTION, fields=["run_id"], on="click", toggle="true")
        points = points.add_params(sel).encode(
            opacity=alt.condition(sel, alt.value(1.0), alt.value(0.5)),
            size=alt.condition(sel, alt.value(110), alt.value(80)),
        )
    return alt.layer(bars, front, cons, ring, off_scale, points).properties(
        height=height,
        width="container",
        usermeta={
            "embedOptions": {
                "renderer": "svg" if len(frontier.points) <= SVG_MAX_POINTS else "canvas"
            }
        },
    )
