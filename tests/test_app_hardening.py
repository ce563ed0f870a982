"""Issue 7, the app's side: direct links to every view, "already done, reused", utility readings,
column-kind overrides for uploads, one format per quantity, and no traceback for the uploads that
crashed the audit (datetime columns, infinities, Parquet list columns).

AppTest (no browser); the fixtures and helpers are those of ``test_app.py``. The browser checks of
item 19 (favicon without the network, ``/evaluate``) are in ``test_e2e.py``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from test_app import (
    APP,
    SAMPLES,
    _fill,
    assert_clean,
    button,
    csv_bytes,
    errors,
    open_app,
    parquet_bytes,
    run_queued,
    store_url,
    upload,
    widget,
)

from synth_audit import service
from synth_audit.errors import DataValidationError

__all__ = ["store_url"]  # the fixture, imported for the tests below


@pytest.fixture(scope="module")
def fair_small() -> dict[str, pd.DataFrame]:
    return {
        role: pd.read_csv(SAMPLES / "fair" / f"{role}.csv").head(300)
        for role in ("train", "synthetic", "control")
    }


def _fair_upload(fair: dict[str, pd.DataFrame]) -> dict[str, tuple[str, bytes]]:
    return {role: (f"{role}.csv", csv_bytes(df)) for role, df in fair.items()}


# --------------------------------------------------------------------------------------------------
# Item 19: every view has a working URL path
# --------------------------------------------------------------------------------------------------


def test_every_view_has_its_own_url_path(store_url: str) -> None:
    """``/evaluate`` used to be no page at all (the default page is served at "/"), so a direct
    link opened Streamlit's "Page not found" pop-up. Every view's path is a registered page now,
    and ``/evaluate`` opens the Evaluate view."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=90).run()
    assert_clean(at)
    paths = {info.get("url_pathname"): h for h, info in at._registered_pages.items()}
    assert {"", "evaluate", "tune", "frontier", "runs"} <= set(paths)
    # What the server does for a browser that opens /evaluate: run the page registered there.
    at._page_hash = paths["evaluate"]
    at.run()
    assert_clean(at)
    assert [t.value for t in at.title] == ["Evaluate a release"]


# --------------------------------------------------------------------------------------------------
# Item 22: a stored result reused for a new request says so
# --------------------------------------------------------------------------------------------------


def test_submission_says_new_reused_or_requeued(store_url: str, fair_small: Any) -> None:
    store = service.open_app_store(store_url)
    kw: dict[str, Any] = {
        "train": fair_small["train"],
        "synthetic": fair_small["synthetic"],
        "control": fair_small["control"],
        "config": {"singling_out": {"n_attacks": 20}, "inference": {"secrets": ["affairs"]}},
    }
    first = service.submit_evaluation(store, **kw)
    assert not first.reused and first.status == "queued" and first.message is None
    again = service.submit_evaluation(store, **kw)
    assert again.run_id == first.run_id and again.reused and again.status == "queued"
    assert again.message is not None and again.message.startswith("Already queued, reused")
    store.start_run(first.run_id, "w")
    store.fail_run(first.run_id, "out of memory")
    retry = service.submit_evaluation(store, **kw)
    assert retry.reused and retry.requeued and retry.status == "queued"
    assert "failed" in (retry.message or "")
    run_queued(store_url)
    done = service.submit_evaluation(store, **kw)
    assert done.reused and done.status == "done"
    assert done.message is not None and done.message.startswith("Already done, reused")
    assert first.run_id[:8] in done.message
    assert service.enqueue_evaluation(store, **kw) == first.run_id  # the old API is unchanged
    other = service.submit_evaluation(store, **{**kw, "config": {**kw["config"], "seed": 7}})
    assert not other.reused and other.run_id != first.run_id


def test_evaluate_view_says_already_done_reused(store_url: str) -> None:
    at = open_app()
    button(at, "Run the evaluation").click().run()
    run_id = at.session_state["eval.run_id"]
    assert not [i for i in at.info if "reused" in str(i.value)]
    run_queued(store_url)
    at.run()
    button(at, "Run the evaluation").click().run()
    assert_clean(at)
    assert at.session_state["eval.run_id"] == run_id
    notes = [str(i.value) for i in at.info if "reused" in str(i.value)]
    assert len(notes) == 1 and notes[0].startswith("Already done, reused"), notes
    assert run_queued(store_url) == []


def test_tune_view_says_already_done_reused(store_url: str) -> None:
    at = open_app("tune")
    at.selectbox(key="tune.dataset").set_value("randhie").run()
    at.selectbox(key="tune.generator").set_value("copy").run()
    button(at, "Queue the run").click().run()
    assert_clean(at)
    assert not errors(at), errors(at)
    assert not [i for i in at.info if "reused" in str(i.value)]
    assert len(run_queued(store_url)) == 1
    at.run()
    button(at, "Queue the run").click().run()
    assert_clean(at)
    notes = [str(i.value) for i in at.info if "reused" in str(i.value)]
    assert len(notes) == 1 and notes[0].startswith("Already done, reused"), notes
    assert run_queued(store_url) == []


# --------------------------------------------------------------------------------------------------
# Item 24: column kinds of an upload can be declared in the app
# --------------------------------------------------------------------------------------------------


def test_upload_column_kinds_can_be_overridden(store_url: str, fair_small: Any) -> None:
    """A record number in train and control but not in the release is refused as a missing column
    until it is declared an identifier; an integer column declared categorical reaches the
    evaluation's config ``[columns]`` and its report."""
    frames = {role: df.copy() for role, df in fair_small.items()}
    # Not 0, 1, 2, ...: a person number that synth-audit cannot tell from a measurement.
    frames["train"].insert(0, "record", [7 * i + 13 for i in range(len(frames["train"]))])
    frames["control"].insert(0, "record", [7 * i + 5013 for i in range(len(frames["control"]))])
    at = open_app()
    upload(at, _fair_upload(frames))
    assert_clean(at)
    kinds = {s.label: s for s in at.selectbox if str(s.key).startswith("eval.kind.")}
    assert set(kinds) == {"record", *fair_small["train"].columns}
    assert kinds["children"].value == "numeric"  # detected
    assert kinds["record"].value == "numeric"
    assert kinds["children"].format_func("numeric") == "numeric (detected)"
    assert any("'record'" in m for m in errors(at)), errors(at)  # the release lacks it
    assert not [b for b in at.button if b.label == "Run the evaluation"]

    kinds["record"].set_value("id").run()
    assert_clean(at)
    assert not errors(at), errors(at)
    kinds = {s.label: s for s in at.selectbox if str(s.key).startswith("eval.kind.")}
    kinds["children"].set_value("categorical").run()
    assert_clean(at)
    assert "record" not in widget(at.multiselect, "Columns A").options
    assert "record" not in widget(at.multiselect, "Secret columns").options
    widget(at.multiselect, "Secret columns").set_value(["children"])
    at.number_input(key=next(k for k in at.session_state if "eval.n_so." in k)).set_value(20)
    button(at, "Run the evaluation").click().run()
    assert_clean(at)
    assert not errors(at), errors(at)
    run_id = at.session_state["eval.run_id"]
    store = service.open_app_store(store_url)
    assert store.get_run(run_id).params["config"]["columns"] == {
        "record": "id",
        "children": "categorical",
    }
    run_queued(store_url)
    assert store.get_run(run_id).status == "done", store.get_run(run_id).error
    report = service.report_for_run(store, run_id)
    assert report is not None
    assert report.schema.kind("children").value == "categorical"
    assert report.schema.kind("record").value == "id"


def test_inferred_kinds_names_each_columns_kind(fair_small: Any) -> None:
    kinds = service.inferred_kinds(fair_small["train"])
    assert kinds["age"][0] == "numeric" and kinds["occupation"][0] == "categorical"
    assert all(k in service.COLUMN_KINDS and why for k, why in kinds.values())
    nested = fair_small["train"].assign(tags=[[1, 2]] * len(fair_small["train"]))
    with pytest.raises(DataValidationError, match="'tags'"):
        service.inferred_kinds(nested)


def test_a_semicolon_separated_upload_is_read(store_url: str) -> None:
    """The delimiter is detected (item 20); the app used to refuse such a file."""
    at = open_app()
    upload(at, {"synthetic": ("synthetic.csv", b"age;sex;income\n1;2;3\n4;5;6\n")})
    assert_clean(at)
    assert not errors(at), errors(at)
    assert "2 rows × 3 columns" in [str(c.value) for c in at.caption]


# --------------------------------------------------------------------------------------------------
# Items 23 and 25: utility readings; one format per quantity, no "None" in tables, colours, seeds
# --------------------------------------------------------------------------------------------------


def shown(element: Any) -> pd.DataFrame:
    """The table as the browser shows it: the display values of a styled frame (Arrow IPC), else
    the values themselves as text. A missing cell reads ``None`` in the browser whatever display
    text it is given, so no table may hold one."""
    import pyarrow as pa

    value = element.value
    assert not value.isna().any().any(), f"missing cells read None in the browser:\n{value}"
    display = element.proto.arrow_data.styler.display_values
    if display:
        return pa.ipc.open_stream(display).read_pandas().astype(str)
    return value.astype(str)


def assert_types_fit(element: Any) -> None:
    """A column configured as numbers holds numbers (text there gets the browser's red
    wrong-type marker in every cell)."""
    import json

    config = json.loads(element.proto.columns or "{}")
    value = element.value
    for name, cfg in config.items():
        kind = (cfg.get("type_config") or {}).get("type")
        col = name.removeprefix("name:") if name.startswith("name:") else name
        if kind in ("number", "progress") and col in value.columns:
            assert pd.api.types.is_numeric_dtype(value[col]), (col, value[col].dtype)


def assert_no_none(at: Any) -> list[pd.DataFrame]:
    for d in at.dataframe:
        assert_types_fit(d)
    tables = [shown(d) for d in at.dataframe]
    for t in tables:
        bad = t.isin(["None", "nan", "NaN", "NaT", "<NA>"])
        assert not bad.any().any(), f"a table shows a missing value as text:\n{t[bad.any(axis=1)]}"
    return tables


def test_result_view_reads_the_utility_and_formats_every_quantity_once(store_url: str) -> None:
    from synth_audit.report.card import UTILITY_RANKING_NOTE
    from synth_audit.report.wording import fmt_pct

    at = open_app()
    button(at, "Run the evaluation").click().run()
    run_queued(store_url)
    at.run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    auc = float(metrics["Detection classifier AUC"])
    assert 0.5 <= auc <= 1.0
    # The same text as the reading beside it (and report.html, the card).
    assert f"with AUC {metrics['Detection classifier AUC']} [" in " ".join(
        str(m.value) for m in at.markdown
    )
    assert any(str(i.value) == UTILITY_RANKING_NOTE for i in at.info)
    assert "independent_marginals" in UTILITY_RANKING_NOTE
    labels = [e.label for e in at.expander]
    assert "Per-column scores (16 columns, worst first)" in labels
    assert any(x.startswith("Per-pair scores (") for x in labels)
    readings = " ".join(str(m.value) for m in at.markdown)
    assert "a classifier tells synthetic rows from real ones with AUC" in readings
    tables = assert_no_none(at)
    # The criteria: every rate as fmt_pct writes it (the CLI, report and card use the same).
    criteria, raw = tables[0], at.dataframe[0].value
    for col in ("risk", "ci_low", "ci_high", "attack_rate", "baseline_rate"):
        assert list(criteria[col]) == [fmt_pct(v) for v in raw[col]], col
    columns = next(t for t in tables if list(t.columns) == ["column", "score", "test"])
    assert len(columns) == 16 and all(len(x.split(".")[-1]) == 3 for x in columns["score"])
    assert any(list(t.columns) == ["pair", "score", "kind"] for t in tables)


def test_runs_and_frontier_tables_show_no_none_and_seed_numbers(store_url: str) -> None:
    _fill(store_url, 9)  # queued runs have no risk, utility, finish time or worker
    at = open_app("runs")
    (table,) = assert_no_none(at)
    queued = table[table["status"] == "queued"]
    assert (queued["risk"] == "n/a").all() and (queued["finished"] == "n/a").all()
    done = table[table["status"] == "done"]
    assert all(x.endswith(" %") for x in done["risk"])

    at = open_app("tune")
    at.selectbox(key="tune.dataset").set_value("randhie").run()
    for generator in ("copy", "independent_marginals"):
        at.selectbox(key="tune.generator").set_value(generator).run()
        button(at, "Queue the run").click().run()
        run_queued(store_url)
        at.run()
    assert_clean(at)
    assert "seed #0" in str(at.success[0].value)
    assert_no_none(at)
    at.switch_page("views/frontier.py").run()
    assert_clean(at)
    front = assert_no_none(at)[0]
    assert all(r.endswith("· seed #0") for r in front["run"]), list(front["run"])
    store = service.open_app_store(store_url)
    ids = [r.id for r in store.list_runs(study="randhie-demo")]
    at.multiselect(key="frontier.compare.randhie-demo").set_value(ids).run()
    assert_clean(at)
    tables = assert_no_none(at)
    compare = at.dataframe[1].value
    assert set(compare.loc["seed"]) == {"seed #0"}
    risk_cells = list(compare.loc["linkability.risk"])
    assert all(" %" in c and "[" in c for c in risk_cells), risk_cells
    results = next(t for t in tables if "value [CI]" in t.columns)
    assert any(" %" in v for v in results["value [CI]"])


def test_frontier_chart_colours_are_the_generators_colours(store_url: str) -> None:
    from app import charts
    from synth_audit.frontier import Frontier, FrontierPoint
    from synth_audit.report.wording import generator_colour

    points = [
        FrontierPoint(
            f"r{i}", g, {}, 12345 + i, 0.1 * i, 0.0, 0.2, "linkability", 0.5, seed_index=i
        )
        for i, g in enumerate(["gaussian_copula", "copy", "ctgan"])
    ]
    fr = Frontier.from_points(
        points, study="s", risk="worst", utility="utility.score", conservative=False, excluded={}
    )
    spec = charts.frontier_chart(fr).to_dict()
    scales = [
        layer["encoding"]["color"]["scale"]
        for layer in spec["layer"]
        if "color" in layer.get("encoding", {}) and "scale" in layer["encoding"]["color"]
    ]
    assert scales
    for scale in scales:
        assert dict(zip(scale["domain"], scale["range"])) == {
            g: generator_colour(g) for g in ("copy", "ctgan", "gaussian_copula")
        }
    records = charts.frontier_records(fr)
    assert [r["configuration"] for r in records] == [
        "gaussian_copula · seed #0",
        "copy · seed #1",
        "ctgan · seed #2",
    ]
    # Tooltips carry the texts every other surface writes, not d3's own percent format.
    assert [(r["risk_text"], r["risk_ci_text"]) for r in records][1] == (
        "10.0 %",
        "[0.00 %, 20.0 %]",
    )
    tips = {t.get("title", t["field"]) for t in spec["layer"][-1]["encoding"]["tooltip"]}
    assert {"risk", "risk CI", "utility"} <= tips


# --------------------------------------------------------------------------------------------------
# Items 13 and 14: uploads that crashed the audit reach the user as messages, never a traceback
# --------------------------------------------------------------------------------------------------


def _small_settings(at: Any, secrets: list[str]) -> None:
    widget(at.multiselect, "Secret columns").set_value(secrets)
    at.number_input(key=next(k for k in at.session_state if "eval.n_so." in k)).set_value(30)


def test_upload_with_a_date_column_is_audited(store_url: str, fair_small: Any) -> None:
    """Item 13: a date column crashed singling out (TypeError ... 'Timestamp')."""
    frames = {role: df.copy() for role, df in fair_small.items()}
    for i, df in enumerate(frames.values()):
        df["visit"] = pd.date_range(f"202{i}-01-01", periods=len(df), freq="D").strftime("%Y-%m-%d")
    at = open_app()
    upload(at, _fair_upload(frames))
    assert_clean(at)
    assert not errors(at), errors(at)
    kinds = {s.label: s.value for s in at.selectbox if str(s.key).startswith("eval.kind.")}
    assert kinds["visit"] == "datetime"
    _small_settings(at, ["visit", "affairs"])
    button(at, "Run the evaluation").click().run()
    assert_clean(at)
    run_id = at.session_state["eval.run_id"]
    run_queued(store_url)
    run = service.open_app_store(store_url).get_run(run_id)
    assert run.status == "done", run.error
    at.run()
    assert_clean(at)
    assert "Inference of 'visit'" in list(at.dataframe[0].value["attack"])


def test_upload_with_infinite_values_is_a_warning_not_a_crash(
    store_url: str, fair_small: Any
) -> None:
    """Item 14: inf, -inf and ±1e308 in a numeric column."""
    frames = {role: df.copy() for role, df in fair_small.items()}
    frames["train"]["age"] = frames["train"]["age"].astype(float)
    frames["train"].loc[[3, 4, 5], "age"] = [float("inf"), float("-inf"), -1e308]
    at = open_app()
    upload(at, _fair_upload(frames))
    assert_clean(at)
    assert not errors(at), errors(at)
    notes = [str(w.value) for w in at.warning]
    assert any("'age'" in n and "inf" in n for n in notes), notes
    _small_settings(at, ["age"])
    button(at, "Run the evaluation").click().run()
    assert_clean(at)
    run_id = at.session_state["eval.run_id"]
    run_queued(store_url)
    run = service.open_app_store(store_url).get_run(run_id)
    assert run.status == "done", run.error
    at.run()
    assert_clean(at)


def test_parquet_with_a_list_column_is_a_clear_message(store_url: str, fair_small: Any) -> None:
    """Item 14: Parquet with list or struct columns."""
    synthetic = fair_small["synthetic"].copy()
    synthetic["tags"] = [[1, 2]] * len(synthetic)
    train = fair_small["train"].copy()
    train["tags"] = [{"a": 1}] * len(train)
    at = open_app()
    upload(
        at,
        {
            "train": ("train.parquet", parquet_bytes(train)),
            "synthetic": ("synthetic.parquet", parquet_bytes(synthetic)),
            "control": ("control.csv", csv_bytes(fair_small["control"])),
        },
    )
    assert_clean(at)
    msgs = errors(at)
    assert msgs and any("'tags'" in m for m in msgs), msgs
    assert not [b for b in at.button if b.label == "Run the evaluation"]
    assert service.open_app_store(store_url).count_runs() == 0


def test_frontier_chart_axis_fits_the_bulk_of_the_runs() -> None:
    """A copy baseline at risk ~1 no longer squeezes the realistic generators into the first few
    percent of the chart: the axis ends near them and the copy is drawn at its edge, labelled."""
    from app import charts
    from synth_audit.frontier import Frontier, FrontierPoint

    risks = [0.01, 0.02, 0.015, 0.03, 0.025, 0.99]
    points = [
        FrontierPoint(
            f"r{i}", "copy" if r > 0.5 else "ctgan", {"i": i}, i, r, r / 2, r * 1.2, "link", 0.5 + r
        )
        for i, r in enumerate(risks)
    ]
    fr = Frontier.from_points(
        points, study="s", risk="worst", utility="utility.score", conservative=False, excluded={}
    )
    spec = charts.frontier_chart(fr).to_dict()
    domains = [
        layer["encoding"]["x"]["scale"]["domain"]
        for layer in spec["layer"]
        if "scale" in layer.get("encoding", {}).get("x", {})
    ]
    assert domains and all(d[0] == 0 and 0.03 < d[1] < 0.1 for d in domains), domains
    records = {r["run_id"]: r for r in charts.frontier_records(fr)}
    assert records["r5"]["off_scale"] and not any(records[f"r{i}"]["off_scale"] for i in range(5))
    assert records["r5"]["risk_text"] == "99.0 %"
    # Without an outlier the axis is not cut.
    fr2 = Frontier.from_points(
        points[:5],
        study="s",
        risk="worst",
        utility="utility.score",
        conservative=False,
        excluded={},
    )
    assert not any(r["off_scale"] for r in charts.frontier_records(fr2))
