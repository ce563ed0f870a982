"""The privacy-utility frontier: Pareto fronts against brute force, risks per run, the JSON round trip,
the chart and the self-contained HTML, on stores filled by hand (no generator is run here)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth_audit.errors import ConfigError, DataValidationError
from synth_audit.frontier import (
    Frontier,
    FrontierPoint,
    frontier_chart,
    frontier_for_study,
    frontier_html,
    pareto_front,
    run_risk,
    write_frontier,
)
from synth_audit.store import ResultRow, Store, make_run_key, open_store


def brute_force(
    points: list[dict[str, Any]], risk: str = "risk", utility: str = "utility"
) -> list[bool]:
    """The definition, literally: on the front iff no point dominates it."""

    def ok(p: dict[str, Any]) -> bool:
        return all(
            p[k] is not None and not (isinstance(p[k], float) and math.isnan(p[k]))
            for k in (risk, utility)
        )

    out = []
    for p in points:
        if not ok(p):
            out.append(False)
            continue
        dominated = any(
            ok(q)
            and q[risk] <= p[risk]
            and q[utility] >= p[utility]
            and (q[risk] < p[risk] or q[utility] > p[utility])
            for q in points
        )
        out.append(not dominated)
    return out


# Few distinct values so that ties in risk, in utility and in both are common.
coarse = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 1.0])
maybe = st.one_of(coarse, st.none(), st.just(float("nan")))
fine = st.floats(min_value=0, max_value=1, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.fixed_dictionaries({"risk": maybe, "utility": maybe}), max_size=30))
def test_pareto_front_equals_brute_force_with_ties_and_missing(
    points: list[dict[str, Any]],
) -> None:
    assert pareto_front(points) == brute_force(points)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(fine, fine, fine, st.booleans()), max_size=40))
def test_conservative_front_equals_brute_force(raw: list[tuple[float, float, float, bool]]) -> None:
    points = [
        FrontierPoint(
            run_id=f"r{i}",
            generator="g",
            params={},
            seed=i,
            risk=r,
            risk_ci_low=max(0.0, r - w),
            risk_ci_high=min(1.0, r + w) if has_ci else None,
            risk_attack="x",
            utility=u,
        )
        for i, (r, u, w, has_ci) in enumerate(raw)
    ]
    f = Frontier.from_points(points, study="s")
    rows = [{"risk": p.risk, "upper": p.risk_upper, "utility": p.utility} for p in f.points]
    assert [p.on_front for p in f.points] == brute_force(rows)
    assert [p.on_conservative_front for p in f.points] == brute_force(rows, risk="upper")
    # Every point off a front is dominated by a point on it.
    front = f.front()
    for p in f.points:
        if not p.on_front:
            assert any(q.risk <= p.risk and q.utility >= p.utility for q in front)


def test_pareto_front_hand_checked_ties() -> None:
    pts = [
        {"risk": 0.1, "utility": 0.5},  # on: lowest risk
        {"risk": 0.1, "utility": 0.5},  # on: an exact copy is not dominated
        {"risk": 0.1, "utility": 0.4},  # off: same risk, lower utility
        {"risk": 0.3, "utility": 0.5},  # off: higher risk, same utility
        {"risk": 0.3, "utility": 0.9},  # on
        {"risk": 0.2, "utility": None},  # off: no utility
        {"risk": 0.9, "utility": 0.9},  # off: dominated by (0.3, 0.9)
    ]
    assert pareto_front(pts) == [True, True, False, False, True, False, False]
    assert pareto_front([]) == []


def test_run_risk_worst_and_named() -> None:
    rows = {
        "singling_out_univariate.risk": ResultRow("singling_out_univariate.risk", 0.10, 0.05, 0.40),
        "linkability.risk": ResultRow("linkability.risk", 0.20, 0.15, 0.25),
        "inference[x].risk": ResultRow("inference[x].risk", None),
        "membership.dcr.tpr_at_0.01_fpr": ResultRow(
            "membership.dcr.tpr_at_0.01_fpr", 0.03, 0.01, 0.07
        ),
        "utility.score": ResultRow("utility.score", 0.8),
    }
    worst = run_risk(rows)
    assert worst is not None
    # The value and the interval of the same criterion (not singling out's upper bound 0.40).
    assert (worst.value, worst.ci_low, worst.ci_high, worst.attack) == (
        0.20,
        0.15,
        0.25,
        "linkability",
    )
    tpr = run_risk(rows, "membership.dcr.tpr_at_0.01_fpr")
    assert tpr is not None and (tpr.value, tpr.ci_high) == (0.03, 0.07)
    assert run_risk(rows, "nope") is None
    assert run_risk({"utility.score": rows["utility.score"]}) is None


def _store_with_runs(
    tmp_path: Path, runs: list[tuple[str, dict[str, Any], float, float, float, float]]
) -> Store:
    """Runs (generator, params, risk, ci_low, ci_high, utility) recorded as done, by hand."""
    store = open_store(str(tmp_path / "store.sqlite"))
    store.ensure_study(
        "s", {"name": "s", "frontier": {"risk": "worst", "utility": "utility.score"}}
    )
    for i, (gen, params, risk, lo, hi, util) in enumerate(runs):
        run_id = store.add_run(
            study="s",
            run_key=make_run_key(study="s", generator=gen, params=params, seed=i),
            generator=gen,
            params=params,
            seed=i,
            code_version="test",
        )
        store.start_run(run_id, "test:1")
        store.finish_run(
            run_id,
            results=[
                ResultRow("linkability.risk", risk, lo, hi, 0.95, n=100),
                ResultRow("singling_out_univariate.risk", risk / 2, 0.0, hi / 2, 0.95, n=100),
                ResultRow("membership.dcr.tpr_at_0.01_fpr", 0.01 * i, 0.0, 0.02 * i + 0.01, 0.95),
                ResultRow("utility.score", util),
            ],
            summary={"risk": risk, "utility": util, "seed_index": 0},
        )
    return store


RUNS = [
    ("copy", {}, 0.95, 0.9, 1.0, 1.0),
    ("marginals", {}, 0.30, 0.2, 0.4, 0.6),
    ("ctgan", {"epochs": 10}, 0.10, 0.0, 0.5, 0.7),  # low risk, wide CI
    ("ctgan", {"epochs": 50}, 0.20, 0.15, 0.25, 0.75),
    ("bad", {}, 0.50, 0.4, 0.6, 0.5),  # dominated
]


def test_frontier_for_study_and_json_round_trip(tmp_path: Path) -> None:
    store = _store_with_runs(tmp_path, RUNS)
    f = frontier_for_study(store, "s")
    by_gen = {(p.generator, json.dumps(p.params)): p for p in f.points}
    on = {k for k, p in by_gen.items() if p.on_front}
    assert on == {("copy", "{}"), ("ctgan", '{"epochs": 10}'), ("ctgan", '{"epochs": 50}')}
    # At the upper CI bounds (1.0, 0.4, 0.5, 0.25, 0.6) epochs=10 is beaten by epochs=50, and
    # the marginals baseline (0.4, 0.6) is not beaten by anything below its bound.
    cons = {k for k, p in by_gen.items() if p.on_conservative_front}
    assert cons == {("copy", "{}"), ("ctgan", '{"epochs": 50}')}
    assert [p.risk for p in f.front()] == [0.10, 0.20, 0.95]
    assert by_gen[("copy", "{}")].risk_attack == "linkability"
    again = Frontier.from_json(f.to_json())
    assert again == f
    assert json.loads(again.to_json()) == json.loads(f.to_json())
    with pytest.raises(DataValidationError, match="schema_version"):
        Frontier.from_dict({**f.to_dict(), "schema_version": "9.0"})

    tpr = frontier_for_study(store, "s", risk="membership.dcr.tpr_at_0.01_fpr", conservative=True)
    assert tpr.conservative and tpr.risk == "membership.dcr.tpr_at_0.01_fpr"
    assert min(p.risk for p in tpr.points) == 0.0
    with pytest.raises(ConfigError, match=r"membership\.dcr\.tpr_at_0\.01_fpr"):
        frontier_for_study(store, "s", risk="membership.dcr.tpr_at_0.5_fpr")
    with pytest.raises(ConfigError, match=r"utility\.score"):
        frontier_for_study(store, "s", utility="utility.nothing")


def test_frontier_skips_unfinished_runs(tmp_path: Path) -> None:
    store = _store_with_runs(tmp_path, RUNS[:2])
    run_id = store.add_run(
        study="s",
        run_key=make_run_key(study="s", generator="queued", params={}, seed=9),
        generator="queued",
        params={},
        seed=9,
        code_version="test",
    )
    f = frontier_for_study(store, "s")
    assert run_id not in {p.run_id for p in f.points} and len(f.points) == 2


def test_chart_and_self_contained_html(tmp_path: Path) -> None:
    store = _store_with_runs(tmp_path, RUNS)
    f = frontier_for_study(store, "s")
    spec = frontier_chart(f).to_dict()
    assert len(spec["layer"]) == 4
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["rule", "line", "line", "point"]
    tooltips = {t["field"] for t in spec["layer"][3]["encoding"]["tooltip"]}
    assert {"generator", "params", "seed", "risk", "utility"} <= tooltips

    paths = write_frontier(f, tmp_path / "out" / "frontier.html")
    assert set(paths) == {"html", "json", "chart"}
    page = paths["html"].read_text(encoding="utf-8")
    assert "<svg" in page and "polyline" in page
    # Nothing is loaded from anywhere: no script, stylesheet or image references; the only URLs
    # are the SVG namespace and the $schema inside the inert Vega-Lite JSON.
    assert "src=" not in page and "href=" not in page and "@import" not in page
    body, _, embedded = page.partition('<script type="application/json" id="vega-lite-spec">')
    assert "https://" not in body and "http://" not in body.replace(
        "http://www.w3.org/2000/svg", ""
    )
    assert json.loads(embedded.partition("</script>")[0])["layer"]
    assert Frontier.from_json(paths["json"].read_text()) == f
    assert json.loads(paths["chart"].read_text())["layer"]
    only = write_frontier(f, tmp_path / "f.json")
    assert set(only) == {"json"} and Frontier.from_json(only["json"].read_text()) == f


def test_html_escapes_names_and_handles_an_empty_study() -> None:
    p = FrontierPoint("r1", "<b>gen</b>", {"x": "</script>"}, 1, 0.1, None, None, "a&b", 0.5)
    page = frontier_html(Frontier.from_points([p], study="<s>"))
    assert "<b>gen</b>" not in page and "&lt;b&gt;gen&lt;/b&gt;" in page
    assert "No run of this study is done yet." in frontier_html(Frontier.from_points([], study="s"))


# ---- issue 7: unmeasurable criteria, axes fitted to the data, one colour per generator ----------


def _store_with_unmeasurable(tmp_path: Path) -> Store:
    """Two runs. The copula: linkability 0.01 [0.0, 0.03] and univariate singling out from three
    predicates, CI [0, 1], flagged unmeasurable. The leaky release: linkability 0.55 [0.5, 0.6]."""
    store = open_store(str(tmp_path / "store.sqlite"))
    store.ensure_study(
        "s", {"name": "s", "frontier": {"risk": "worst", "utility": "utility.score"}}
    )
    for i, (gen, link, lo, hi, util) in enumerate(
        [("gaussian_copula", 0.01, 0.0, 0.03, 0.7), ("leaky", 0.55, 0.5, 0.6, 0.8)]
    ):
        run_id = store.add_run(
            study="s",
            run_key=make_run_key(study="s", generator=gen, params={}, seed=i),
            generator=gen,
            params={},
            seed=i,
            code_version="test",
        )
        store.start_run(run_id, "test:1")
        so = (
            ResultRow(
                "singling_out_univariate.risk",
                0.6,
                0.0,
                1.0,
                0.95,
                n=3,
                extra={"warnings": ["unmeasurable", "not_better_than_baseline"]},
            )
            if gen == "gaussian_copula"
            else ResultRow("singling_out_univariate.risk", 0.02, 0.0, 0.05, 0.95, n=500)
        )
        store.finish_run(
            run_id,
            results=[
                ResultRow("linkability.risk", link, lo, hi, 0.95, n=500),
                so,
                ResultRow("utility.score", util),
            ],
            summary={"seed_index": i},
        )
    return store


def test_unmeasurable_criterion_stays_out_of_the_worst_risk(tmp_path: Path) -> None:
    store = _store_with_unmeasurable(tmp_path)
    f = frontier_for_study(store, "s", conservative=True)
    by_gen = {p.generator: p for p in f.points}
    copula = by_gen["gaussian_copula"]
    assert (copula.risk, copula.risk_ci_high, copula.risk_attack) == (0.01, 0.03, "linkability")
    # On the conservative front the copula (upper 0.03, utility 0.7) is kept beside the leaky
    # release (upper 0.6, utility 0.8); with the [0, 1] interval counted it would be dropped.
    assert {p.generator for p in f.front()} == {"gaussian_copula", "leaky"}
    assert not f.include_unmeasurable
    asked = frontier_for_study(store, "s", conservative=True, include_unmeasurable=True)
    copula = {p.generator: p for p in asked.points}["gaussian_copula"]
    assert (copula.risk, copula.risk_ci_high) == (0.6, 1.0)
    assert copula.risk_attack == "singling_out_univariate"
    assert [p.generator for p in asked.front()] == ["leaky"]
    assert Frontier.from_json(asked.to_json()).include_unmeasurable
    # A named criterion that could not be measured leaves the run out, with the reason.
    named = frontier_for_study(store, "s", risk="singling_out_univariate.risk")
    assert [p.generator for p in named.points] == ["leaky"]
    assert "no measurable risk" in next(iter(named.excluded.values()))


def test_is_measurable_reads_every_form() -> None:
    from synth_audit.frontier import UNMEASURABLE, is_measurable
    from synth_audit.results import UNMEASURABLE as CONTRACT

    assert UNMEASURABLE == CONTRACT
    assert is_measurable({"value": 0.1})  # stored before the code existed
    assert not is_measurable({"measurable": False})
    assert not is_measurable({"warnings": [{"code": "unmeasurable", "message": "x"}]})
    assert not is_measurable(ResultRow("a.risk", 0.1, extra={"warnings": ["unmeasurable"]}))
    assert is_measurable(ResultRow("membership.auc", 0.5, extra={"warnings": 2}))  # a count


def test_axis_is_fitted_to_the_bulk_of_the_runs(tmp_path: Path) -> None:
    from synth_audit.frontier import risk_axis_max

    runs = [
        ("copy", {}, 1.0, 0.99, 1.0, 1.0),
        ("gaussian_copula", {}, 0.02, 0.0, 0.05, 0.7),
        ("ctgan", {}, 0.03, 0.01, 0.06, 0.6),
        ("tvae", {}, 0.01, 0.0, 0.04, 0.65),
        ("independent_marginals", {}, 0.0, 0.0, 0.02, 0.5),
    ]
    f = frontier_for_study(_store_with_runs(tmp_path, runs), "s")
    axis, clipped = risk_axis_max(f)
    assert clipped and 0.06 <= axis < 0.1
    page = frontier_html(f)
    svg = page.split("<svg")[1].split("</svg>")[0]
    assert svg.count('class="offscale"') == 1  # the copy run, drawn at the edge with its value
    assert "100.0 % →" in svg
    # The realistic runs spread over the chart instead of the first few percent of it.
    xs = [
        float(line.split('cx="')[1].split('"')[0])
        for line in svg.splitlines()
        if "<circle" in line and 'r="5"' not in line
    ]
    assert max(xs) - min(xs) > 150  # of a 500 px plot; 15 px on an axis running to 100 %
    # Every run close together: no clipping.
    assert not risk_axis_max(Frontier.from_points(f.points[1:], study="s"))[1]


def test_frontier_page_formats_and_colours(tmp_path: Path) -> None:
    from synth_audit.report.wording import generator_colour

    f = frontier_for_study(_store_with_runs(tmp_path, RUNS), "s")
    page = frontier_html(f)
    assert ">None<" not in page and "None]" not in page
    assert "95.0 %" in page  # risks as percentages, as in every report
    for g in {p.generator for p in f.points}:
        assert generator_colour(g) in page
    spec = frontier_chart(f).to_dict()
    scale = spec["layer"][3]["encoding"]["color"]["scale"]
    assert scale["range"] == [generator_colour(g) for g in scale["domain"]]
    assert "seed #0" in page


# ---- roles (issue 8, item 4): the frontier reads extra["role"], not names ------------------------


def _membership_rows(name: str, shift: float, seed: int) -> list[ResultRow]:
    import numpy as np

    from synth_audit.membership.result import MembershipResult

    rng = np.random.default_rng(seed)
    labels = np.r_[np.ones(300), np.zeros(300)]
    scores = rng.normal(size=600) + shift * labels
    res = MembershipResult.from_scores(scores, labels, attack=name, target="release", seed=seed)
    return [ResultRow.from_dict(r) for r in res.rows(name)]


def _finish(store: Store, gen: str, seed: int, results: list[ResultRow]) -> str:
    run_id = store.add_run(
        study="s",
        run_key=make_run_key(study="s", generator=gen, params={}, seed=seed),
        generator=gen,
        params={},
        seed=seed,
        code_version="test",
    )
    store.start_run(run_id, "test:1")
    store.finish_run(run_id, results=results, summary={})
    return run_id


def test_run_with_only_membership_rows_is_on_the_frontier(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "store.sqlite"))
    store.ensure_study(
        "s", {"name": "s", "frontier": {"risk": "worst", "utility": "utility.score"}}
    )
    rows = _membership_rows("x", 2.0, 0)
    adv = next(r for r in rows if r.metric == "membership.x.auc_advantage")
    assert adv.extra["role"] == "risk" and adv.value is not None and adv.value > 0.5
    only_mia = _finish(store, "plugin_model", 0, [*rows, ResultRow("utility.score", 0.9)])
    # An Article 29 run with a lower risk but also a lower utility: both are on the front.
    a29 = _finish(
        store,
        "copula",
        1,
        [
            ResultRow("linkability.risk", 0.05, 0.0, 0.1, extra={"role": "risk"}),
            ResultRow("utility.score", 0.5, extra={"role": "utility"}),
        ],
    )
    f = frontier_for_study(store, "s")
    by_id = {p.run_id: p for p in f.points}
    assert set(by_id) == {only_mia, a29} and not f.excluded
    p = by_id[only_mia]
    assert p.on_front and p.risk_attack == "membership.x.auc_advantage"
    assert (p.risk, p.risk_ci_low, p.risk_ci_high) == (adv.value, adv.ci_low, adv.ci_high)
    assert by_id[a29].on_front and by_id[a29].risk_attack == "linkability"
    # The app's choices come from the stored roles: no diagnostic (auc, tpr_at_*) among them.
    from synth_audit.frontier import risk_options

    assert risk_options(store, "s") == ["worst", "linkability.risk", "membership.x.auc_advantage"]


def test_worst_reads_roles_and_keeps_the_ci_of_the_same_row() -> None:
    mia = {r.metric: r for r in _membership_rows("domias", 0.6, 1)}
    adv = mia["membership.domias.auc_advantage"]
    assert adv.value is not None and adv.ci_high is not None
    rows: dict[str, Any] = {
        **mia,
        # A lower estimate with a wider interval: its upper bound must not be borrowed.
        "linkability.risk": ResultRow(
            "linkability.risk",
            adv.value / 2,
            0.0,
            min(1.0, adv.ci_high + 0.2),
            extra={"role": "risk"},
        ),
        # A name ending in .risk whose declared role is diagnostic does not count.
        "shadow.risk": ResultRow("shadow.risk", 0.99, 0.9, 1.0, extra={"role": "diagnostic"}),
        # Diagnostics with larger values (the AUC itself) do not count either.
        "utility.score": ResultRow("utility.score", 0.7, extra={"role": "utility"}),
    }
    worst = run_risk(rows)
    assert worst is not None
    assert (worst.value, worst.ci_low, worst.ci_high, worst.attack) == (
        adv.value,
        adv.ci_low,
        adv.ci_high,
        "membership.domias.auc_advantage",
    )
    assert mia["membership.domias.auc"].value > adv.value  # would win if roles were ignored


def test_legacy_rows_without_roles_keep_the_name_rule() -> None:
    rows = {
        "linkability.risk": ResultRow("linkability.risk", 0.20, 0.15, 0.25),
        "singling_out_multivariate.risk": ResultRow(
            "singling_out_multivariate.risk", 0.10, 0.0, 0.6
        ),
        # Stored before roles: not a risk, whatever its value.
        "membership.dcr.auc": ResultRow("membership.dcr.auc", 0.9, 0.85, 0.95),
        "utility.score": ResultRow("utility.score", 0.8),
    }
    worst = run_risk(rows)
    assert worst is not None
    assert (worst.value, worst.ci_low, worst.ci_high, worst.attack) == (
        0.20,
        0.15,
        0.25,
        "linkability",
    )
