"""The privacy-utility frontier of a study: which runs are not beaten on both axes at once.

Every done run of a study becomes a point: a **privacy risk** (lower is better) and a **utility**
(higher is better).

Risk, chosen with ``risk=``:

``"worst"`` (default)
    The largest of the run's risks: every result row whose ``extra["role"]`` is ``"risk"`` (the
    Article 29 risks, membership ``auc_advantage`` = max(0, 2·AUC − 1), anything a plugin declares
    as a risk; rows stored before roles existed count when their name ends in ``.risk``), shown
    with the value *and* the interval of that same row (never the bound of another attack). Any
    run with a risk row is a point, including a run with membership rows only. Criteria that could not be measured
    (a result whose warnings hold ``unmeasurable``: its interval says nothing, e.g. [0, 1] from
    three predicates) are left out unless ``include_unmeasurable=True``; a run with no measurable
    criterion is listed in :attr:`Frontier.excluded`. Results stored before that code existed
    count as measurable.
any result name
    That result's value and CI, e.g. ``"membership.dcr.tpr_at_0.01_fpr"`` (TPR at 1 % FPR of the
    no-box DCR attack) or ``"linkability.risk"``.

Utility: ``"utility.score"`` (the mean normalised utility, see :func:`metrics.utility_score`) by
default, or any other result name (higher must be better).

Pareto front. Point ``q`` dominates ``p`` when ``q.risk <= p.risk`` and ``q.utility >= p.utility``
with at least one strict inequality; the front is the set of points no point dominates. Ties:
points with *equal* risk and utility do not dominate each other, so all copies of a
non-dominated point are on the front; among points with equal risk only those with the highest
utility can be on it (and among equal utilities only the lowest risk). Points without a risk or a
utility are left out of both fronts (listed in :attr:`Frontier.excluded`). The **conservative
front** is the same construction with each run's risk replaced by the upper end of its CI (the
point estimate where a run has no CI): a run on it is not beaten even when every risk is taken at
its plausible worst.

Output: :meth:`Frontier.to_dict` / :meth:`Frontier.to_json` (versioned, exact round trip through
:meth:`Frontier.from_dict`), :func:`frontier_chart` (an Altair chart: points with CI error bars,
both fronts as lines, tooltips) and :func:`write_frontier`, which writes a self-contained HTML page
(an inline SVG drawn here, no JavaScript, no CDN: Altair's own offline HTML export needs the
``vl-convert`` package, which is not a dependency), the frontier's JSON and the chart's Vega-Lite
spec beside it.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synth_audit.errors import ConfigError, DataValidationError, format_names
from synth_audit.report.wording import fmt_pct, generator_colour, run_label

if TYPE_CHECKING:
    from synth_audit.store import Store

__all__ = [
    "FRONTIER_SCHEMA_VERSION",
    "Frontier",
    "FrontierPoint",
    "RiskValue",
    "frontier_chart",
    "frontier_for_study",
    "frontier_html",
    "pareto_front",
    "risk_options",
    "row_role",
    "run_risk",
    "write_frontier",
]

FRONTIER_SCHEMA_VERSION = "1.0"
WORST = "worst"
#: :data:`synth_audit.results.UNMEASURABLE`, not imported so that this module stays light.
UNMEASURABLE = "unmeasurable"


# --------------------------------------------------------------------------------------------------
# Risk of one run
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskValue:
    value: float
    ci_low: float | None
    ci_high: float | None
    attack: str


def _field(x: Any, name: str) -> Any:
    if isinstance(x, Mapping):
        return x.get(name)
    return getattr(x, name, None)


def as_float(x: Any) -> float | None:
    """A finite-or-inf float, or None for missing, NaN and non-numbers (store values, summaries)."""
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def is_measurable(row: Any) -> bool:
    """False when a result row says it could not be measured: ``measurable`` false, or the code
    ``unmeasurable`` among its warnings (``extra["warnings"]`` of a stored row, or ``warnings`` as
    codes or ``{"code": ...}`` mappings). Rows without either count as measurable."""
    flag = _field(row, "measurable")
    if flag is False:
        return False
    extra = _field(row, "extra")
    found: list[Any] = [_field(row, "warnings")]
    if isinstance(extra, Mapping):
        found.append(extra.get("warnings"))  # codes; some rows store only a count here
    warnings = [w for ws in found if isinstance(ws, list | tuple) for w in ws]
    codes = {w.get("code") if isinstance(w, Mapping) else w for w in warnings}
    return UNMEASURABLE not in codes


def row_role(name: str, row: Any) -> str | None:
    """The role of a result row: ``extra["role"]`` (``risk``, ``utility``, ``diagnostic``, or any
    role a plugin declares). Rows stored before roles existed have none; for them the old naming
    rule stands in: a name ending in ``.risk`` is a risk, a name starting with ``utility.`` a
    utility, anything else a diagnostic."""
    extra = _field(row, "extra")
    if isinstance(extra, Mapping) and extra.get("role") is not None:
        return str(extra["role"])
    if name.endswith(".risk"):
        return "risk"
    if name.startswith("utility."):
        return "utility"
    return None


def risk_names(results: Mapping[str, Any]) -> list[str]:
    """The names of a run's rows whose role is ``risk`` (see :func:`row_role`), sorted."""
    return sorted(n for n, r in results.items() if row_role(n, r) == "risk")


def run_risk(
    results: Mapping[str, Any], risk: str = WORST, *, include_unmeasurable: bool = False
) -> RiskValue | None:
    """The risk of one run from its results (metric name → row with value/ci_low/ci_high/extra).

    ``"worst"``: the largest value among the rows whose role is ``risk`` (:func:`row_role`:
    ``extra["role"]``; rows stored before roles existed count when their name ends in ``.risk``),
    ties broken by the higher upper bound. ``None`` when the run has no such row (or no measurable
    one; a named result that could not be measured is ``None`` too unless ``include_unmeasurable``).
    The interval is always that of the row the value comes from.
    """
    if risk == WORST:
        cands = [
            (
                name,
                as_float(_field(r, "value")),
                as_float(_field(r, "ci_low")),
                as_float(_field(r, "ci_high")),
            )
            for name, r in results.items()
            if row_role(name, r) == "risk" and (include_unmeasurable or is_measurable(r))
        ]
        cands = [c for c in cands if c[1] is not None]
        if not cands:
            return None
        name, value, lo, hi = max(
            cands, key=lambda c: (c[1], c[3] if c[3] is not None else c[1], c[0])
        )
        assert value is not None
        return RiskValue(value=value, ci_low=lo, ci_high=hi, attack=name.removesuffix(".risk"))
    row = results.get(risk)
    if row is None or not (include_unmeasurable or is_measurable(row)):
        return None
    value = as_float(_field(row, "value"))
    if value is None:
        return None
    return RiskValue(value, as_float(_field(row, "ci_low")), as_float(_field(row, "ci_high")), risk)


# --------------------------------------------------------------------------------------------------
# Pareto front
# --------------------------------------------------------------------------------------------------


def pareto_front(
    points: Sequence[Any], *, risk_key: str = "risk", utility_key: str = "utility"
) -> list[bool]:
    """For each point (a mapping or an object with those attributes), whether it is on the front.

    Minimises ``risk_key`` and maximises ``utility_key``; ties as in the module docstring; points
    where either value is missing or NaN are never on the front and dominate nothing. O(n log n).
    """
    vals: list[tuple[float, float, int]] = []
    for i, p in enumerate(points):
        r, u = as_float(_field(p, risk_key)), as_float(_field(p, utility_key))
        if r is not None and u is not None:
            vals.append((r, u, i))
    on = [False] * len(points)
    # Sweep by increasing risk; within a risk, by decreasing utility.
    vals.sort(key=lambda t: (t[0], -t[1]))
    best_before = -math.inf  # highest utility among points of strictly lower risk
    k = 0
    while k < len(vals):
        risk = vals[k][0]
        j = k
        while j < len(vals) and vals[j][0] == risk:
            j += 1
        top = vals[k][1]  # highest utility at this risk
        if top > best_before:
            for _, u, i in vals[k:j]:
                if u == top:
                    on[i] = True
        best_before = max(best_before, top)
        k = j
    return on


# --------------------------------------------------------------------------------------------------
# Frontier value
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrontierPoint:
    run_id: str
    generator: str
    params: dict[str, Any]
    seed: int
    risk: float
    risk_ci_low: float | None
    risk_ci_high: float | None
    risk_attack: str
    utility: float
    utility_ci_low: float | None = None
    utility_ci_high: float | None = None
    on_front: bool = False
    on_conservative_front: bool = False
    seed_index: int | None = None

    @property
    def risk_upper(self) -> float:
        """The risk the conservative front uses: the CI's upper end, else the estimate."""
        return self.risk if self.risk_ci_high is None else self.risk_ci_high

    @property
    def label(self) -> str:
        """Generator and parameters: ``ctgan(epochs=50)``."""
        return run_label(self.generator, self.params)

    @property
    def run_label(self) -> str:
        """Generator, parameters and seed number: ``ctgan(epochs=50) · seed #2``."""
        return run_label(self.generator, self.params, self.seed_index)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FrontierPoint:
        return cls(
            run_id=str(d["run_id"]),
            generator=str(d["generator"]),
            params=dict(d.get("params") or {}),
            seed=int(d["seed"]),
            risk=float(d["risk"]),
            risk_ci_low=as_float(d.get("risk_ci_low")),
            risk_ci_high=as_float(d.get("risk_ci_high")),
            risk_attack=str(d.get("risk_attack", "")),
            utility=float(d["utility"]),
            utility_ci_low=as_float(d.get("utility_ci_low")),
            utility_ci_high=as_float(d.get("utility_ci_high")),
            on_front=bool(d.get("on_front", False)),
            on_conservative_front=bool(d.get("on_conservative_front", False)),
            seed_index=None if d.get("seed_index") is None else int(d["seed_index"]),
        )


@dataclass(frozen=True)
class Frontier:
    """The points of a study's done runs and their two fronts."""

    study: str
    risk: str
    utility: str
    points: tuple[FrontierPoint, ...]
    conservative: bool = False
    excluded: dict[str, str] = field(default_factory=dict)
    created_at: str = ""
    schema_version: str = FRONTIER_SCHEMA_VERSION
    include_unmeasurable: bool = False

    @classmethod
    def from_points(
        cls,
        points: Sequence[FrontierPoint],
        *,
        study: str,
        risk: str = WORST,
        utility: str = "utility.score",
        conservative: bool = False,
        excluded: Mapping[str, str] | None = None,
        include_unmeasurable: bool = False,
    ) -> Frontier:
        """Compute both fronts over ``points`` (their ``on_*`` flags are recomputed)."""
        pts = list(points)
        front = pareto_front(pts, risk_key="risk", utility_key="utility")
        cons = pareto_front(pts, risk_key="risk_upper", utility_key="utility")
        pts = [replace(p, on_front=f, on_conservative_front=c) for p, f, c in zip(pts, front, cons)]
        return cls(
            study=study,
            risk=risk,
            utility=utility,
            points=tuple(pts),
            conservative=conservative,
            excluded=dict(excluded or {}),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            include_unmeasurable=include_unmeasurable,
        )

    def front(self, *, conservative: bool | None = None) -> list[FrontierPoint]:
        """The points on the front (the conservative one if asked, default: as built), by risk."""
        cons = self.conservative if conservative is None else conservative
        if cons:
            pts = [p for p in self.points if p.on_conservative_front]
            return sorted(pts, key=lambda p: (p.risk_upper, -p.utility))
        pts = [p for p in self.points if p.on_front]
        return sorted(pts, key=lambda p: (p.risk, -p.utility))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "study": self.study,
            "risk": self.risk,
            "utility": self.utility,
            "conservative": self.conservative,
            "include_unmeasurable": self.include_unmeasurable,
            "created_at": self.created_at,
            "definition": {
                "risk": "lower is better",
                "utility": "higher is better",
                "front": "runs no other run beats on both risk and utility",
                "conservative_front": "the same with each risk at its CI's upper bound",
                "worst": "the largest measurable risk of a run, with that criterion's own CI",
            },
            "points": [p.to_dict() for p in self.points],
            "front": [p.run_id for p in self.front(conservative=False)],
            "conservative_front": [p.run_id for p in self.front(conservative=True)],
            "excluded": dict(self.excluded),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Frontier:
        version = str(d.get("schema_version", ""))
        if version.split(".")[0] != FRONTIER_SCHEMA_VERSION.split(".")[0]:
            raise DataValidationError(
                f"This frontier has schema_version {version!r}; this synth-audit reads "
                f"{FRONTIER_SCHEMA_VERSION}. Recompute it with `synth-audit frontier`."
            )
        try:
            return cls(
                study=str(d["study"]),
                risk=str(d["risk"]),
                utility=str(d["utility"]),
                points=tuple(FrontierPoint.from_dict(p) for p in d["points"]),
                conservative=bool(d.get("conservative", False)),
                excluded=dict(d.get("excluded") or {}),
                created_at=str(d.get("created_at", "")),
                schema_version=version,
                include_unmeasurable=bool(d.get("include_unmeasurable", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataValidationError(
                f"Not a synth-audit frontier (missing or malformed {exc})."
            ) from None

    @classmethod
    def from_json(cls, text: str) -> Frontier:
        return cls.from_dict(json.loads(text))


def frontier_for_study(
    store: Store,
    study: str,
    *,
    risk: str | None = None,
    utility: str | None = None,
    conservative: bool = False,
    include_unmeasurable: bool = False,
) -> Frontier:
    """The frontier of the study's done runs. ``risk``/``utility`` default to the study's
    ``[frontier]`` settings (``"worst"`` and ``"utility.score"``). Criteria that could not be
    measured are left out of the risk unless ``include_unmeasurable``."""
    record = store.get_study(study)
    settings = dict(record.spec.get("frontier") or {})
    risk = risk or str(settings.get("risk") or WORST)
    utility = utility or str(settings.get("utility") or "utility.score")
    results = store.results_for_study(study)
    runs = {r.id: r for r in store.list_runs(study=study, status="done")}
    per_run: dict[str, dict[str, dict[str, Any]]] = {rid: {} for rid in runs}
    has_extra = "extra" in getattr(results, "columns", ())
    for row in results.to_dict("records"):
        if row["run_id"] in per_run:
            per_run[row["run_id"]][str(row["metric"])] = {
                "value": row["value"],
                "ci_low": row["ci_low"],
                "ci_high": row["ci_high"],
                "extra": row.get("extra") if has_extra else None,
            }
    if not has_extra:
        # Roles and warning codes live in each result's ``extra``, which the study table leaves
        # out: read them run by run.
        for rid, res in per_run.items():
            if res:
                for r in store.results_for(rid):
                    if r.metric in res:
                        res[r.metric]["extra"] = dict(r.extra)
    metrics = sorted({m for res in per_run.values() for m in res})
    if per_run and risk != WORST and risk not in metrics:
        raise ConfigError(
            f"No run of study {study!r} has the result {risk!r} to use as risk. Use 'worst' or one "
            f"of: {format_names([m for m in metrics if not m.startswith('utility.')], limit=40)}."
        )
    if per_run and utility not in metrics:
        raise ConfigError(
            f"No run of study {study!r} has the result {utility!r} to use as utility. Use one of: "
            f"{format_names([m for m in metrics if m.startswith('utility.')], limit=40)}."
        )
    points: list[FrontierPoint] = []
    excluded: dict[str, str] = {}
    for rid, res in per_run.items():
        run = runs[rid]
        rv = run_risk(res, risk, include_unmeasurable=include_unmeasurable)
        u = res.get(utility, {})
        uv = as_float(u.get("value"))
        if rv is None or uv is None:
            missing = [n for n, v in (("risk", rv), ("utility", uv)) if v is None]
            why = f"no {' and no '.join(missing)} result"
            if rv is None and run_risk(res, risk, include_unmeasurable=True) is not None:
                why = (
                    "no measurable risk (every candidate criterion could not be measured; "
                    "include_unmeasurable / --include-unmeasurable counts them)"
                )
            excluded[rid] = why
            continue
        points.append(
            FrontierPoint(
                run_id=rid,
                generator=run.generator,
                params=dict(run.params),
                seed=int(run.seed),
                seed_index=run.summary.get("seed_index"),
                risk=rv.value,
                risk_ci_low=rv.ci_low,
                risk_ci_high=rv.ci_high,
                risk_attack=rv.attack,
                utility=uv,
                utility_ci_low=as_float(u.get("ci_low")),
                utility_ci_high=as_float(u.get("ci_high")),
            )
        )
    return Frontier.from_points(
        points,
        study=study,
        risk=risk,
        utility=utility,
        conservative=conservative,
        excluded=excluded,
        include_unmeasurable=include_unmeasurable,
    )


def risk_options(store: Store, study: str) -> list[str]:
    """The risks a frontier of ``study`` can be drawn on: ``"worst"``, then the names of the done
    runs' rows whose role is ``risk`` (:func:`row_role`), sorted. Read from the stored roles, so a
    plugin's risk appears without any change here; one run per distinct set of result names is
    read for the roles."""
    results = store.results_for_study(study)
    done = {r.id for r in store.list_runs(study=study, status="done")}
    by_run: dict[str, set[str]] = {}
    for rid, metric in zip(results["run_id"], results["metric"]):
        if rid in done:
            by_run.setdefault(str(rid), set()).add(str(metric))
    seen: set[frozenset[str]] = set()
    names: set[str] = set()
    for rid, metrics in by_run.items():
        key = frozenset(metrics)
        if key in seen:
            continue
        seen.add(key)
        names.update(r.metric for r in store.results_for(rid) if row_role(r.metric, r) == "risk")
    return [WORST, *sorted(names)]


# --------------------------------------------------------------------------------------------------
# Chart (Altair) and self-contained HTML (SVG)
# --------------------------------------------------------------------------------------------------


def _risk_title(frontier: Frontier) -> str:
    if frontier.risk == WORST:
        return "privacy risk (worst risk of each run; lower is better)"
    return f"privacy risk: {frontier.risk} (lower is better)"


def _records(frontier: Frontier) -> list[dict[str, Any]]:
    out = []
    for p in frontier.points:
        out.append(
            {
                "run_id": p.run_id,
                "generator": p.generator,
                "configuration": p.label,
                "run": p.run_label,
                "params": json.dumps(p.params, sort_keys=True),
                "seed": p.seed,
                "risk": p.risk,
                "risk_ci_low": p.risk if p.risk_ci_low is None else p.risk_ci_low,
                "risk_ci_high": p.risk_upper,
                "risk_attack": p.risk_attack,
                "utility": p.utility,
                "on_front": p.on_front,
                "on_conservative_front": p.on_conservative_front,
            }
        )
    return out


def frontier_chart(frontier: Frontier) -> Any:
    """An Altair layered chart: points (colour = generator) with the risk CI as error bars, the
    front as a solid line, the conservative front (risk at its CI's upper end) as a dashed line,
    tooltips with generator, parameters, seed and the numbers."""
    import altair as alt

    data = alt.Data(values=_records(frontier))
    base = alt.Chart(data)
    x_title = _risk_title(frontier)
    y_title = f"{frontier.utility} (higher is better)"
    tooltip = [
        alt.Tooltip("run:N"),
        alt.Tooltip("generator:N"),
        alt.Tooltip("params:N"),
        alt.Tooltip("seed:Q"),
        alt.Tooltip("risk:Q", format=".3f"),
        alt.Tooltip("risk_ci_low:Q", title="risk CI low", format=".3f"),
        alt.Tooltip("risk_ci_high:Q", title="risk CI high", format=".3f"),
        alt.Tooltip("risk_attack:N", title="risk from"),
        alt.Tooltip("utility:Q", format=".3f"),
        alt.Tooltip("on_front:N", title="on front"),
        alt.Tooltip("on_conservative_front:N", title="on conservative front"),
        alt.Tooltip("run_id:N"),
    ]
    gens = sorted({p.generator for p in frontier.points})
    colours = alt.Scale(domain=gens, range=[generator_colour(g) for g in gens])
    bars = base.mark_rule(opacity=0.5).encode(
        x=alt.X("risk_ci_low:Q", title=x_title),
        x2="risk_ci_high:Q",
        y=alt.Y("utility:Q", title=y_title, scale=alt.Scale(zero=False)),
        color=alt.Color("generator:N", scale=colours),
    )
    points = base.mark_point(filled=True, size=70).encode(
        x="risk:Q",
        y="utility:Q",
        color=alt.Color("generator:N", title="generator", scale=colours),
        shape=alt.Shape("on_front:N", title="on front"),
        tooltip=tooltip,
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
    return alt.layer(bars, front, cons, points).properties(
        title=f"Privacy-utility frontier of study {frontier.study}", width=640, height=400
    )


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not math.isfinite(lo) or not math.isfinite(hi) or hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t <= hi + step * 1e-9:
        if t >= lo - step * 1e-9:
            ticks.append(round(t, 12))
        t += step
    return ticks


def _fmt(x: float | None) -> str:
    """A risk for people, as on every other surface (``3.15 %``; ``n/a`` when missing)."""
    return fmt_pct(x)


def _fmt_score(x: float | None) -> str:
    """A utility score (0 to 1), as the reports print it (``0.551``)."""
    return "n/a" if x is None else f"{x:.3f}"


def _tick(t: float, step: float) -> str:
    digits = 0 if step >= 0.01 - 1e-12 else (1 if step >= 0.001 - 1e-12 else 2)
    return fmt_pct(t, digits=digits)


def risk_axis_max(frontier: Frontier) -> tuple[float, bool]:
    """The right end of the risk axis, and whether points lie beyond it (drawn as off-scale).

    The axis is fitted to the bulk of the runs: the 95th percentile (lower value) of the points'
    drawn extents (risk and CI upper end). When the largest extent is more than twice that, the
    axis stops at the percentile plus a margin and the runs beyond it are drawn at the right edge
    with an arrow and their value, so one ``copy`` baseline at risk 1 does not squeeze every
    realistic generator into the first few percent of the chart.
    """
    ext = sorted(max(p.risk, p.risk_upper) for p in frontier.points)
    if not ext:
        return 1.0, False
    top = ext[-1]
    p95 = ext[math.floor(0.95 * (len(ext) - 1))]
    if len(ext) >= 2 and p95 > 0 and top > 2 * p95:
        return p95 * 1.15, True
    return top, False


def _svg(frontier: Frontier) -> str:
    w, h = 760, 460
    left, right, top, bottom = 70, 190, 20, 60
    pw, ph = w - left - right, h - top - bottom
    pts = frontier.points
    esc = html.escape
    if not pts:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="80" role="img">'
            '<text x="10" y="40" font-size="14">No run of this study is done yet.</text></svg>'
        )
    xs = [v for p in pts for v in (p.risk, p.risk_ci_low, p.risk_upper) if v is not None]
    ys = [p.utility for p in pts]
    axis_max, clipped = risk_axis_max(frontier)
    x0, x1 = min(0.0, min(xs)), axis_max
    if x1 - x0 < 1e-9:
        x1 = x0 + 0.05
    y0, y1 = min(ys), max(ys)
    pad = (y1 - y0) * 0.08 or 0.05
    y0, y1 = y0 - pad, y1 + pad
    xt, yt = _nice_ticks(x0, x1), _nice_ticks(y0, y1)
    x0, x1 = min(x0, xt[0]), max(x1, xt[-1])
    y0, y1 = min(y0, yt[0]), max(y1, yt[-1])

    def sx(v: float) -> float:
        return left + (min(v, x1) - x0) / (x1 - x0) * pw

    def sy(v: float) -> float:
        return top + ph - (v - y0) / (y1 - y0) * ph

    gens = sorted({p.generator for p in pts})
    colour = {g: generator_colour(g) for g in gens}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'role="img" aria-label="privacy-utility frontier" font-family="sans-serif" font-size="12">',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#ccc"/>',
    ]
    for t in xt:
        X = sx(t)
        out.append(f'<line x1="{X:.1f}" y1="{top}" x2="{X:.1f}" y2="{top + ph}" stroke="#eee"/>')
        label = _tick(t, xt[1] - xt[0] if len(xt) > 1 else 0.01)
        out.append(f'<text x="{X:.1f}" y="{top + ph + 16}" text-anchor="middle">{label}</text>')
    for t in yt:
        Y = sy(t)
        out.append(f'<line x1="{left}" y1="{Y:.1f}" x2="{left + pw}" y2="{Y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{Y + 4:.1f}" text-anchor="end">{t:g}</text>')
    out.append(
        f'<text x="{left + pw / 2:.1f}" y="{h - 18}" text-anchor="middle">'
        f"{esc(_risk_title(frontier))}</text>"
    )
    out.append(
        f'<text transform="translate(16,{top + ph / 2:.1f}) rotate(-90)" text-anchor="middle">'
        f"{esc(frontier.utility)} (higher is better)</text>"
    )
    for attr, style, key in (
        ("on_front", 'stroke="#000" stroke-width="1.6"', "risk"),
        (
            "on_conservative_front",
            'stroke="#777" stroke-width="1.6" stroke-dasharray="6 4"',
            "upper",
        ),
    ):
        front = [p for p in pts if getattr(p, attr)]
        front.sort(key=lambda p: ((p.risk if key == "risk" else p.risk_upper), -p.utility))
        coords = " ".join(
            f"{sx(p.risk if key == 'risk' else p.risk_upper):.1f},{sy(p.utility):.1f}"
            for p in front
        )
        if len(front) > 1:
            out.append(f'<polyline points="{coords}" fill="none" {style}/>')
    for p in pts:
        c = colour[p.generator]
        X, Y = sx(p.risk), sy(p.utility)
        tip = (
            f"{p.run_label} (seed {p.seed})\nrisk {_fmt(p.risk)} [{_fmt(p.risk_ci_low)}, "
            f"{_fmt(p.risk_ci_high)}] ({p.risk_attack})\nutility {_fmt_score(p.utility)}\n"
            f"on front: {'yes' if p.on_front else 'no'}; on conservative front: "
            f"{'yes' if p.on_conservative_front else 'no'}\nrun {p.run_id}"
        )
        out.append(f'<g class="point"><title>{esc(tip)}</title>')
        lo = p.risk if p.risk_ci_low is None else p.risk_ci_low
        out.append(
            f'<line x1="{sx(lo):.1f}" y1="{Y:.1f}" x2="{sx(p.risk_upper):.1f}" y2="{Y:.1f}" '
            f'stroke="{c}" stroke-opacity="0.6" stroke-width="1.5"/>'
        )
        if p.risk > x1:  # off scale: an arrow at the right edge with the value
            out.append(
                f'<path class="offscale" d="M{X - 7:.1f},{Y - 6:.1f} L{X + 3:.1f},{Y:.1f} '
                f'L{X - 7:.1f},{Y + 6:.1f} Z" fill="{c}" stroke="#000"/>'
                f'<text x="{X - 10:.1f}" y="{Y - 8:.1f}" text-anchor="end" font-size="11">'
                f"{esc(_fmt(p.risk))} →</text>"
            )
        elif p.on_front:
            out.append(f'<circle cx="{X:.1f}" cy="{Y:.1f}" r="5.5" fill="{c}" stroke="#000"/>')
        else:
            out.append(
                f'<circle cx="{X:.1f}" cy="{Y:.1f}" r="4.5" fill="{c}" fill-opacity="0.75"/>'
            )
        out.append("</g>")
    lx, ly = left + pw + 16, top + 10
    for i, g in enumerate(gens):
        out.append(f'<circle cx="{lx + 5}" cy="{ly + i * 18}" r="5" fill="{colour[g]}"/>')
        out.append(f'<text x="{lx + 16}" y="{ly + i * 18 + 4}">{esc(g)}</text>')
    ly += len(gens) * 18 + 12
    out.append(
        f'<line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" stroke="#000" stroke-width="1.6"/>'
    )
    out.append(f'<text x="{lx + 30}" y="{ly + 4}">front</text>')
    ly += 18
    out.append(
        f'<line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" stroke="#777" stroke-width="1.6" '
        'stroke-dasharray="6 4"/>'
    )
    out.append(f'<text x="{lx + 30}" y="{ly + 4}">conservative front</text>')
    ly += 18
    out.append(f'<text x="{lx}" y="{ly + 4}">bars: risk CI</text>')
    if clipped:
        ly += 18
        out.append(
            f'<text x="{lx}" y="{ly + 4}">▶ beyond the axis ({esc(_fmt(x1))}),</text>'
            f'<text x="{lx}" y="{ly + 20}">drawn at its edge</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1100px; }
table { border-collapse: collapse; margin-top: 1em; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.front td { font-weight: 600; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; }
.note { color: #555; font-size: 0.9em; }
"""


def frontier_html(frontier: Frontier, *, chart_spec: Mapping[str, Any] | None = None) -> str:
    """A self-contained HTML page: the SVG chart, the definitions and a table of every point.
    ``chart_spec`` (a Vega-Lite dict) is embedded as inert JSON for tools that render it."""
    esc = html.escape
    rows = []
    for p in sorted(frontier.points, key=lambda p: (p.risk, -p.utility)):
        rows.append(
            f'<tr class="{"front" if p.on_front else ""}">'
            f'<td><span class="swatch" style="background:{generator_colour(p.generator)}"></span>'
            f"{esc(p.generator)}</td>"
            f"<td>{esc(json.dumps(p.params, sort_keys=True))}</td>"
            f'<td class="num" title="seed {p.seed}">'
            f"{'n/a' if p.seed_index is None else f'#{p.seed_index}'}</td>"
            f'<td class="num">{_fmt(p.risk)}</td>'
            f'<td class="num">[{_fmt(p.risk_ci_low)}, {_fmt(p.risk_ci_high)}]</td>'
            f"<td>{esc(p.risk_attack)}</td>"
            f'<td class="num">{_fmt_score(p.utility)}</td>'
            f"<td>{'yes' if p.on_front else ''}</td>"
            f"<td>{'yes' if p.on_conservative_front else ''}</td>"
            f'<td><code title="{esc(p.run_id)}">{esc(p.run_id[:12])}</code></td></tr>'
        )
    excluded = ""
    if frontier.excluded:
        items = "".join(
            f"<li><code>{esc(k)}</code>: {esc(v)}</li>"
            for k, v in sorted(frontier.excluded.items())
        )
        excluded = f"<h2>Runs left out</h2><ul>{items}</ul>"
    spec = ""
    if chart_spec is not None:
        text = json.dumps(chart_spec, sort_keys=True).replace("</", "<\\/")
        spec = f'<script type="application/json" id="vega-lite-spec">{text}</script>'
    risk_def = (
        "the worst (largest) risk of each run: every result whose role is 'risk' (the Article 29 "
        "risks of singling out, linkability and inference, membership AUC advantage "
        "max(0, 2·AUC − 1), any risk a plugin adds), with the confidence interval of that same "
        "result"
        + (
            "; criteria that could not be measured are included"
            if frontier.include_unmeasurable
            else "; criteria that could not be measured are left out"
        )
        if frontier.risk == WORST
        else f"the result {esc(frontier.risk)}"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Privacy-utility frontier: {esc(frontier.study)}</title>
<style>{_CSS}</style></head>
<body>
<h1>Privacy-utility frontier of study <code>{esc(frontier.study)}</code></h1>
<p class="note">Risk: {risk_def} (lower is better); bars show its confidence interval. Utility:
{esc(frontier.utility)} (higher is better). A run is on the <b>front</b> when no other run has both
lower-or-equal risk and higher-or-equal utility (one of them strictly); on the <b>conservative
front</b> when the same holds with every risk at the upper end of its confidence interval.
{len(frontier.points)} run(s); {sum(p.on_front for p in frontier.points)} on the front,
{sum(p.on_conservative_front for p in frontier.points)} on the conservative front.</p>
{_svg(frontier)}
<h2>Runs</h2>
<table><thead><tr><th>generator</th><th>params</th><th>seed #</th><th>risk</th><th>risk CI</th>
<th>risk from</th><th>utility</th><th>front</th><th>conservative front</th><th>run</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
{excluded}
{spec}
</body></html>
"""


def write_frontier(frontier: Frontier, out_path: str | Path) -> dict[str, Path]:
    """Write ``out_path`` (HTML, self-contained), ``<stem>.json`` (the frontier) and
    ``<stem>.vl.json`` (the Altair chart's Vega-Lite spec) beside it; returns the paths.

    An ``out_path`` ending in ``.json`` writes only the frontier's JSON.
    """
    out = Path(out_path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"Cannot create the folder of {str(out)!r}: {exc}.") from None
    paths: dict[str, Path] = {}
    if out.suffix.lower() == ".json":
        out.write_text(frontier.to_json() + "\n", encoding="utf-8")
        return {"json": out}
    spec: dict[str, Any] | None = None
    try:
        spec = frontier_chart(frontier).to_dict()
    except Exception:  # altair missing or its schema check failed: the HTML needs no spec
        spec = None
    json_path = out.with_suffix(".json")
    json_path.write_text(frontier.to_json() + "\n", encoding="utf-8")
    paths["json"] = json_path
    if spec is not None:
        vl = out.with_suffix(".vl.json")
        vl.write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        paths["chart"] = vl
    out.write_text(frontier_html(frontier, chart_spec=spec), encoding="utf-8")
    paths["html"] = out
    return paths
