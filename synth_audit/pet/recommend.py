"""From a search's trials to a recommended setting, with the evidence.

:func:`candidates`: the trials near the front. Two objectives: the trials on the Pareto front of the
told values (feasible ones first when there is a constraint); one objective: the best feasible
trials. At most ``[search] confirm_top`` of them.

:func:`confirm_and_recommend`: each candidate is re-run with ``confirm_seeds`` seeds (its trial's
runs are seed indices ``0..seeds-1`` and are reused), and judged on the seed means: feasible when
the mean of the constraint's statistic is at most ``max``; the recommendation is the feasible
candidate with the best mean of the utility objective (the first ``maximize`` objective, else the
first objective), with the spread over seeds (a normal interval of the mean, and min/max). When no
candidate is feasible the recommendation is ``None`` and the reason says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from synth_audit.progress import ProgressCallback, silent
from synth_audit.report.wording import run_label

if TYPE_CHECKING:
    from synth_audit.pet.search import Trial
    from synth_audit.pet.spec import SearchSpec
    from synth_audit.store import Store
    from synth_audit.study.spec import RunSpec

__all__ = ["candidates", "confirm_and_recommend", "dominates"]


def _signed(values: list[float], directions: Sequence[str]) -> list[float]:
    """Values turned into 'lower is better'."""
    return [v if d == "minimize" else -v for v, d in zip(values, directions, strict=True)]


def dominates(a: list[float], b: list[float]) -> bool:
    """``a`` dominates ``b`` (both 'lower is better')."""
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(
        x < y for x, y in zip(a, b, strict=True)
    )


def candidates(spec: SearchSpec, trials: list[Trial]) -> list[Trial]:
    """The trials to confirm with more seeds (distinct parameters, best first)."""
    s = spec.search
    directions = [o.direction for o in s.objectives]
    done = [t for t in trials if t.state == "complete" and t.values is not None]
    seen: set[str] = set()
    uniq: list[Trial] = []
    for t in done:
        key = repr(sorted(t.params.items()))
        if key not in seen:
            seen.add(key)
            uniq.append(t)
    feasible = [t for t in uniq if t.feasible]
    pool = feasible if s.constraint is not None else uniq
    if not pool and s.constraint is not None:
        # none feasible: confirm the ones closest to the constraint (noise may have hidden some)
        pool = sorted(uniq, key=lambda t: t.constraint if t.constraint is not None else math.inf)
        return pool[: s.confirm_top]
    signed = {t.number: _signed(list(t.values or []), directions) for t in pool}
    front = [
        t for t in pool if not any(dominates(signed[o.number], signed[t.number]) for o in pool)
    ]
    ui = _utility_index(spec)
    rest = [t for t in pool if t not in front]
    front.sort(key=lambda t: signed[t.number][ui])
    rest.sort(key=lambda t: signed[t.number][ui])
    return (front + rest)[: s.confirm_top]


def _name(o: Any) -> str:
    """An objective's name: its metric, with the statistic when it is a CI bound."""
    return str(o.metric) if o.stat == "value" else f"{o.metric}.{o.stat}"


def _utility_index(spec: SearchSpec) -> int:
    for i, o in enumerate(spec.search.objectives):
        if o.direction == "maximize":
            return i
    return 0


def _summary(xs: list[float | None]) -> dict[str, Any]:
    vals = [float(x) for x in xs if x is not None]
    n = len(vals)
    if n == 0:
        return {"mean": None, "n": 0, "seeds": list(xs)}
    mean = sum(vals) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1)) if n > 1 else None
    half = None if sd is None else 1.96 * sd / math.sqrt(n)
    return {
        "mean": mean,
        "ci_low": None if half is None else mean - half,
        "ci_high": None if half is None else mean + half,
        "min": min(vals),
        "max": max(vals),
        "n": n,
        "complete": n == len(xs),
        "seeds": list(xs),
    }


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3g}"


def confirm_and_recommend(
    spec: SearchSpec,
    cands: list[Trial],
    *,
    store: Store,
    run: Callable[[list[RunSpec]], dict[str, str]],
    progress: ProgressCallback = silent,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Re-run ``cands`` with more seeds (``run`` records and executes runs, returning
    ``{run_key: run_id}``); returns (the confirmed candidates, the recommendation or a dict with
    ``setting: None`` and the reason)."""
    from synth_audit.pet.search import seed_values, trial_runs

    s = spec.search
    g = spec.study.generators[0]
    if not cands:
        return [], {
            "setting": None,
            "why": "No trial finished with every objective measured; nothing to recommend.",
        }
    per = {t.number: trial_runs(spec, t.params, s.confirm_seeds) for t in cands}
    progress("confirming candidates", 0, len(cands))
    keys = run([r for rs in per.values() for r in rs])
    progress("confirming candidates", len(cands), len(cands))
    confirmed: list[dict[str, Any]] = []
    for t in cands:
        run_ids = [keys[r.run_key] for r in per[t.number]]
        entry: dict[str, Any] = {
            "trial": t.number,
            "params": dict(t.params),
            "label": run_label(g.name, {**g.params, **t.params}),
            "run_ids": run_ids,
            "objectives": {},
        }
        for o in s.objectives:
            name = _name(o)
            entry["objectives"][name] = {
                "direction": o.direction,
                **_summary(seed_values(store, run_ids, o.metric, o.stat)),
            }
        if s.constraint is not None:
            c = _summary(seed_values(store, run_ids, s.constraint.metric, s.constraint.stat))
            entry["constraint"] = {
                "metric": s.constraint.metric,
                "stat": s.constraint.stat,
                "max": s.constraint.max,
                **c,
            }
            entry["feasible"] = (
                bool(c.get("complete")) and c["mean"] is not None and c["mean"] <= s.constraint.max
            )
        else:
            entry["feasible"] = all(v.get("complete") for v in entry["objectives"].values())
        confirmed.append(entry)
    ui = _utility_index(spec)
    uo = s.objectives[ui]
    uname = _name(uo)
    sign = -1.0 if uo.direction == "maximize" else 1.0
    ok = [c for c in confirmed if c["feasible"] and c["objectives"][uname]["mean"] is not None]
    if not ok:
        why = (
            f"None of the {len(confirmed)} candidate(s) near the front meets the constraint "
            f"{s.constraint.metric} {s.constraint.stat} <= {s.constraint.max:g} on the mean over "
            f"{s.confirm_seeds} seeds; no setting is recommended. Widen the search range, raise "
            "the budget or accept a higher risk."
            if s.constraint is not None
            else "No candidate has every objective measured on all seeds; nothing to recommend."
        )
        return confirmed, {"setting": None, "why": why}
    ok.sort(key=lambda c: sign * c["objectives"][uname]["mean"])
    best = ok[0]
    u = best["objectives"][uname]
    parts = [
        f"{best['label']} (trial {best['trial']}) has the best mean {uname} among the "
        f"{len(confirmed)} candidate(s) near the front, re-run with {s.confirm_seeds} seeds: "
        f"{_fmt(u['mean'])} (95 % interval of the mean {_fmt(u.get('ci_low'))} to "
        f"{_fmt(u.get('ci_high'))}; seeds {_fmt(u.get('min'))} to {_fmt(u.get('max'))})."
    ]
    if s.constraint is not None:
        c = best["constraint"]
        parts.append(
            f"It meets the constraint {s.constraint.metric} {s.constraint.stat} <= "
            f"{s.constraint.max:g}: mean {_fmt(c['mean'])} over the seeds (worst seed "
            f"{_fmt(c.get('max'))})."
        )
    for name, v in best["objectives"].items():
        if name != uname:
            parts.append(
                f"{name}: mean {_fmt(v['mean'])} (seeds {_fmt(v.get('min'))} to "
                f"{_fmt(v.get('max'))})."
            )
    if len(ok) > 1:
        nxt = ok[1]
        parts.append(
            f"Next: {nxt['label']} with mean {uname} {_fmt(nxt['objectives'][uname]['mean'])}."
        )
    rec = {
        "setting": {**g.params, **best["params"]},
        "searched": dict(best["params"]),
        "label": best["label"],
        "trial": best["trial"],
        "run_ids": best["run_ids"],
        "utility_metric": uname,
        "utility": u,
        "constraint": best.get("constraint"),
        "objectives": best["objectives"],
        "why": " ".join(parts),
    }
    return confirmed, rec
