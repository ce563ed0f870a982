"""The app, view by view, with Streamlit's AppTest (no browser): navigation, uploads, forms, status,
downloads and the messages for bad uploads; plus the ``synth-audit app`` command and the service API
the views call.

Each test gets a fresh SQLite store through ``$SYNTH_AUDIT_STORE``. Long work is queued by the app
exactly as in production; the tests then execute the queued runs in-process (:func:`run_queued`,
what a worker does) instead of starting a worker process, which keeps them fast.
"""

from __future__ import annotations

import io
import json
import pickle
import socket
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from synth_audit import service
from synth_audit.cli import main
from synth_audit.errors import ConfigError, DataValidationError
from synth_audit.store import ResultRow, make_run_key
from synth_audit.study.runner import execute_claimed_run

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app" / "streamlit_app.py"
SAMPLES = ROOT / "samples"
VIEWS = {
    "evaluate": "Evaluate a release",
    "tune": "Tune a generator",
    "frontier": "Frontier",
    "runs": "Runs",
}


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = str(tmp_path / "store.sqlite")
    monkeypatch.setenv(service.STORE_ENV, url)
    monkeypatch.setenv("SYNTH_AUDIT_HOME", str(tmp_path))
    monkeypatch.delenv(service.MAX_UPLOAD_ENV, raising=False)
    return url


def open_app(view: str = "evaluate") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    if view != "evaluate":
        at.switch_page(f"views/{view}.py")
        at.run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    """No exception box and no traceback anywhere on the page."""
    assert not at.exception, [e.value for e in at.exception]
    texts = [m.value for m in at.markdown] + [e.value for e in at.error]
    assert not any("Traceback (most recent call last)" in str(t) for t in texts)


def errors(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.error]


def button(at: AppTest, label: str) -> Any:
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    return found[0]


def widget(elements: Any, label: str) -> Any:
    found = [w for w in elements if w.label.startswith(label)]
    assert found, f"no widget {label!r}; widgets: {[w.label for w in elements]}"
    return found[0]


def run_queued(url: str) -> list[str]:
    """Execute every queued run in this process, as ``synth-audit worker`` would; their ids."""
    store = service.open_app_store(url)
    done = []
    while (run := store.claim_run("test-worker")) is not None:
        if service.is_release_evaluation(run):
            summary, rows, arts = service.execute_release_evaluation(store, run)
            store.finish_run(run.id, results=rows, summary=summary, artefacts=arts)
        else:
            execute_claimed_run(store, run)
        done.append(run.id)
    return done


def csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode("utf-8")


def parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


@pytest.fixture(scope="module")
def fair_small() -> dict[str, pd.DataFrame]:
    """300 rows of each part of the fair sample: quick to audit."""
    return {
        role: pd.read_csv(SAMPLES / "fair" / f"{role}.csv").head(300)
        for role in ("train", "synthetic", "control")
    }


def upload(at: AppTest, files: dict[str, tuple[str, bytes]]) -> AppTest:
    """Switch the Evaluate view to uploads and upload ``{role: (filename, content)}``."""
    at.radio(key="eval.source").set_value("Upload files").run()
    for role, (name, content) in files.items():
        at.file_uploader(key=f"eval.upload.{role}").upload(name, content)
    return at.run()


# --------------------------------------------------------------------------------------------------
# Navigation
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("view", list(VIEWS))
def test_every_view_renders_on_an_empty_store(store_url: str, view: str) -> None:
    at = open_app(view)
    assert [t.value for t in at.title] == [VIEWS[view]]
    assert not errors(at)
    sidebar = " ".join(str(c.value) for c in at.sidebar.caption)
    assert "store.sqlite" in sidebar and "queued 0" in sidebar


def test_navigation_moves_between_views_keeping_the_session(store_url: str) -> None:
    at = open_app("tune")
    at.selectbox(key="tune.dataset").set_value("randhie").run()
    for view, title in VIEWS.items():
        at.switch_page(f"views/{view}.py").run()
        assert_clean(at)
        assert at.title[0].value == title
    at.switch_page("views/tune.py").run()
    assert at.selectbox(key="tune.dataset").value == "randhie"


def test_an_unusable_store_is_one_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "notes.sqlite"
    bad.write_text("these are notes, not a database\n" * 50)
    monkeypatch.setenv(service.STORE_ENV, str(bad))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert_clean(at)
    assert any("not an SQLite database" in e for e in errors(at)), errors(at)
    assert not at.title  # the view did not run on a broken store


def test_an_internal_error_is_contained(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "list_runs_frame", broken)
    at = open_app("runs")
    assert any("internal error (RuntimeError)" in e for e in errors(at)), errors(at)
    assert [x.label for x in at.expander] == ["Details for a bug report"]


# --------------------------------------------------------------------------------------------------
# Evaluate a release
# --------------------------------------------------------------------------------------------------


def test_evaluate_a_sample_release(store_url: str) -> None:
    at = open_app()
    assert at.selectbox(key="eval.sample").value == "randhie"
    # The sample's audit.toml gives the threat model's defaults.
    aux_a = widget(at.multiselect, "Columns A").value
    assert aux_a == ["age", "sex", "race", "site", "family_size"]
    assert widget(at.multiselect, "Secret columns").value == ["health", "mental_health_index"]
    assert widget(at.selectbox, "Utility").value == "health"
    assert any(x.label.startswith("The threat model") for x in at.expander)

    button(at, "Run the evaluation").click().run()
    assert_clean(at)
    run_id = at.session_state["eval.run_id"]
    assert service.run_status(service.open_app_store(store_url), run_id).status == "queued"
    assert len(at.get("progress")) == 1  # polled by a fragment until a worker finishes it
    assert "Queued" in at.get("progress")[0].proto.text

    assert run_queued(store_url) == [run_id]
    at.run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) == {
        "Highest risk",
        "Highest upper CI bound",
        "Utility score",
        "Warnings",
        "Detection classifier AUC",
    }
    criteria = at.dataframe[0].value
    assert list(criteria["attack"]) == [
        "Singling out (univariate)",
        "Singling out (multivariate)",
        "Linkability",
        "Inference of 'health'",
        "Inference of 'mental_health_index'",
    ]
    assert (
        (criteria["ci_low"] <= criteria["risk"]) & (criteria["risk"] <= criteria["ci_high"])
    ).all()
    subheaders = [s.value for s in at.subheader]
    for heading in (
        "The three anonymisation criteria",
        "Most exposed records",
        "Utility",
        "Download",
    ):
        assert heading in subheaders
    assert any(s.startswith("Warnings (") for s in subheaders)
    downloads = [b.label for b in at.get("download_button")]
    assert downloads == [
        "Download report.json",
        "Download report.html",
        "Download audit_card.md",
    ]
    files = service.report_files(service.open_app_store(store_url), run_id)
    report = json.loads(files["report.json"])
    assert report["schema_version"] == "1.2"
    assert set(report["attacks"]["inference"]) == {"health", "mental_health_index"}
    assert files["report.html"].startswith(b"<!DOCTYPE html>")
    assert b"Singling out" in files["audit_card.md"]

    # Submitting the same evaluation again finds the stored run: no second audit.
    button(at, "Run the evaluation").click().run()
    assert at.session_state["eval.run_id"] == run_id
    assert run_queued(store_url) == []


def test_evaluate_uploaded_csv_and_parquet(store_url: str, fair_small: dict[str, Any]) -> None:
    at = open_app()
    upload(
        at,
        {
            "train": ("train.csv", csv_bytes(fair_small["train"])),
            "synthetic": ("synthetic.parquet", parquet_bytes(fair_small["synthetic"])),
            "control": ("control.csv", csv_bytes(fair_small["control"])),
        },
    )
    assert_clean(at)
    assert not errors(at)
    captions = [str(c.value) for c in at.caption]
    assert captions.count("300 rows × 9 columns") == 3
    columns = list(fair_small["train"].columns)
    a = widget(at.multiselect, "Columns A").value
    b = widget(at.multiselect, "Columns B").value
    assert a + b == columns  # no audit.toml: the columns split in half
    assert widget(at.multiselect, "Secret columns").value == columns  # every column in turn
    widget(at.multiselect, "Secret columns").set_value(["affairs"])
    with_settings = at.number_input(key=next(k for k in at.session_state if "eval.n_so." in k))
    with_settings.set_value(50)
    button(at, "Run the evaluation").click().run()
    assert_clean(at)
    run_queued(store_url)
    at.run()
    assert_clean(at)
    criteria = at.dataframe[0].value
    assert list(criteria["attack"])[-1] == "Inference of 'affairs'"
    assert (criteria.loc[criteria["criterion"] == "Singling out", "n_attacks"] <= 50).all()
    # The most exposed records come with their values from the uploaded train table.
    exposed = at.dataframe[1].value
    assert {"record", "n_successful_attacks", "age", "affairs"} <= set(exposed.columns)


def _tiny_pickle() -> bytes:
    return pickle.dumps({"a": [1, 2, 3]})


BAD_UPLOADS = {
    "not a table": (
        "synthetic.csv",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff" * 30,
        "could not be read as CSV",
    ),
    "empty": ("synthetic.csv", b"", "is empty (0 bytes)"),
    "header only": ("synthetic.csv", b"age,sex\n", "has a header but no rows"),
    "pickle as parquet": ("synthetic.parquet", _tiny_pickle(), "not a Parquet file"),
    "pickle": ("synthetic.pkl", _tiny_pickle(), "supported are"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_upload_is_a_clear_message(store_url: str, case: str) -> None:
    name, content, expected = BAD_UPLOADS[case]
    at = open_app()
    upload(at, {"synthetic": (name, content)})
    if case == "pickle":
        # Streamlit itself refuses a file type the uploader does not list (the browser does not
        # even offer it); the app's own check (see test_load_upload_never_unpickles) is second.
        assert "Invalid file extension: `.pkl`" in str(at.exception[0].value)
        assert service.open_app_store(store_url).count_runs() == 0
        return
    assert_clean(at)
    msgs = errors(at)
    assert any(expected in m for m in msgs), msgs
    assert any("synthetic" in m for m in msgs), msgs
    assert not [b for b in at.button if b.label == "Run the evaluation"]
    assert service.open_app_store(store_url).count_runs() == 0


def test_too_large_an_upload_is_refused(
    store_url: str, monkeypatch: pytest.MonkeyPatch, fair_small: dict[str, Any]
) -> None:
    monkeypatch.setenv(service.MAX_UPLOAD_ENV, "0.002")  # 2 kB
    at = open_app()
    upload(at, {"train": ("train.csv", csv_bytes(fair_small["train"]))})
    assert_clean(at)
    assert any("the limit is" in m and "train" in m for m in errors(at)), errors(at)


def test_uploads_with_different_columns_are_refused(
    store_url: str, fair_small: dict[str, Any]
) -> None:
    at = open_app()
    upload(
        at,
        {
            "train": ("train.csv", csv_bytes(fair_small["train"])),
            "synthetic": ("synthetic.csv", csv_bytes(fair_small["synthetic"].drop(columns="age"))),
            "control": (
                "control.csv",
                csv_bytes(fair_small["control"].rename(columns={"educ": "education"})),
            ),
        },
    )
    assert_clean(at)
    (msg,) = errors(at)
    assert "synthetic file 'synthetic.csv'" in msg and "'age'" in msg
    assert "control file 'control.csv'" in msg and "'education'" in msg and "'educ'" in msg
    assert not [b for b in at.button if b.label == "Run the evaluation"]


def test_evaluation_settings_are_checked(store_url: str) -> None:
    at = open_app()
    aux_a = widget(at.multiselect, "Columns A").value
    widget(at.multiselect, "Columns B").set_value(
        [*widget(at.multiselect, "Columns B").value, aux_a[0]]
    )
    widget(at.multiselect, "Secret columns").set_value([])
    button(at, "Run the evaluation").click().run()
    assert_clean(at)
    (msg,) = errors(at)
    assert "cannot be in both sources A and B (age)" in msg
    assert "at least one secret column" in msg
    assert service.open_app_store(store_url).count_runs() == 0


def test_a_failed_evaluation_shows_its_error_and_can_be_retried(store_url: str) -> None:
    at = open_app()
    button(at, "Run the evaluation").click().run()
    run_id = at.session_state["eval.run_id"]
    store = service.open_app_store(store_url)
    store.start_run(run_id, "test-worker")
    store.fail_run(run_id, "the worker ran out of memory")
    at.run()
    assert_clean(at)
    assert any("the worker ran out of memory" in m for m in errors(at))
    button(at, "Try again").click().run()
    assert store.get_run(run_id).status == "queued"


# --------------------------------------------------------------------------------------------------
# Tune a generator, then the frontier
# --------------------------------------------------------------------------------------------------


def _queue(at: AppTest, generator: str) -> str:
    at.selectbox(key="tune.generator").set_value(generator).run()
    button(at, "Queue the run").click().run()
    assert_clean(at)
    assert not errors(at), errors(at)
    return str(at.session_state["tune.current"])


def test_tune_queue_watch_and_see_the_frontier(store_url: str) -> None:
    at = open_app("tune")
    at.selectbox(key="tune.dataset").set_value("randhie").run()
    assert "randhie-demo" in " ".join(str(c.value) for c in at.caption)
    copy_id = _queue(at, "copy")
    assert "Queued" in at.get("progress")[0].proto.text
    assert "No run of this study is done yet" in at.info[0].value
    run_queued(store_url)
    at.run()
    assert_clean(at)
    assert "copy: risk" in at.success[0].value
    assert len(at.get("vega_lite_chart")) == 1
    marginals_id = _queue(at, "independent_marginals")
    run_queued(store_url)
    at.run()
    assert "independent_marginals: risk" in at.success[0].value
    session = at.dataframe[0].value
    assert list(session["run_id"]) == [marginals_id, copy_id]
    assert list(session["status"]) == ["done", "done"]

    at.switch_page("views/frontier.py").run()
    assert_clean(at)
    assert at.selectbox(key="frontier.study").value == "randhie-demo"
    assert len(at.get("vega_lite_chart")) == 1
    assert "2 run(s); 2 on the front" in " ".join(str(c.value) for c in at.caption)
    # The chart's click selection cannot be driven here; the selectbox fallback can.
    compare = at.multiselect(key="frontier.compare.randhie-demo")
    compare.set_value([copy_id]).run()
    assert_clean(at)
    assert any(s.value.startswith("Run copy") for s in at.subheader)
    assert {m.label for m in at.metric} == {"Risk", "Utility", "Took"}
    compare.set_value([copy_id, marginals_id]).run()
    assert_clean(at)
    table = at.dataframe[1].value  # [0] is the front's table
    assert table.shape[1] == 2
    assert {"utility.score", "linkability.risk", "status"} <= set(table.index)

    # The view's frontier (from the runs' summaries) is the one computed from their results.
    from synth_audit.frontier import frontier_for_study

    store = service.open_app_store(store_url)
    fast = service.frontier_data(store, "randhie-demo")
    full = frontier_for_study(store, "randhie-demo")

    def key(fr: Any) -> list[tuple[Any, ...]]:
        return sorted(
            (p.run_id, p.risk, p.risk_ci_low, p.risk_ci_high, p.risk_attack, p.utility, p.on_front)
            for p in fr.points
        )

    assert key(fast) == key(full)
    slow = service.frontier_data(store, "randhie-demo", risk="membership.dcr.auc")
    assert slow.risk == "membership.dcr.auc" and len(slow.points) == 2


def test_tune_form_offers_the_generators_parameters(store_url: str) -> None:
    at = open_app("tune")
    at.selectbox(key="tune.dataset").set_value("randhie").run()
    at.selectbox(key="tune.generator").set_value("ctgan").run()
    assert_clean(at)
    epochs = widget(at.number_input, "Epochs")
    assert epochs.value == 30  # randhie's study.toml runs CTGAN with 30 epochs
    assert widget(at.number_input, "Batch size").value == 500
    # A combination the generator refuses is reported on the page; nothing is queued.
    widget(at.number_input, "Batch size").set_value(501)
    button(at, "Queue the run").click().run()
    assert_clean(at)
    assert any("'batch_size'" in m and "even" in m for m in errors(at)), errors(at)
    assert service.open_app_store(store_url).count_runs() == 0

    at.selectbox(key="tune.generator").set_value("dpgan").run()
    assert widget(at.number_input, "Privacy budget ε").value == 1.0
    assert widget(at.selectbox, "Generator").format_func("dpgan") == "dpgan (ε)"


# --------------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------------


def _fill(url: str, n: int) -> list[str]:
    """``n`` runs of a study: every third failed, every third done with results, the rest queued."""
    store = service.open_app_store(url)
    store.ensure_study("bulk", {"kind": "test"})
    ids = []
    for i in range(n):
        params = {"i": i}
        gen = "copy" if i % 2 else "ctgan"
        rid = store.add_run(
            study="bulk",
            run_key=make_run_key(study="bulk", generator=gen, params=params, seed=i),
            generator=gen,
            params=params,
            seed=i,
            code_version="test",
        )
        if i % 3 == 1:
            store.start_run(rid, "w")
            store.fail_run(rid, f"GeneratorFitError: run {i} diverged")
        elif i % 3 == 2:
            store.start_run(rid, "w")
            store.finish_run(
                rid,
                results=[
                    ResultRow("linkability.risk", 0.01 * (i % 50), 0.0, 0.02 * (i % 50), 0.95, 100),
                    ResultRow("utility.score", 0.5 + 0.004 * (i % 100)),
                ],
                summary={"risk": 0.01 * (i % 50), "utility": 0.5 + 0.004 * (i % 100)},
            )
        ids.append(rid)
    return ids


def test_runs_filters_pages_errors_and_requeue(store_url: str) -> None:
    ids = _fill(store_url, 120)
    at = open_app("runs")
    assert "120 run(s) match; showing 1-50, newest first" in at.caption[0].value
    table = at.dataframe[0].value
    assert len(table) == 50 and list(table["run_id"][:2]) == [ids[119], ids[118]]
    at.number_input(key="runs.page").set_value(3).run()
    assert_clean(at)
    assert list(at.dataframe[0].value["run_id"]) == ids[19::-1]

    at.selectbox(key="runs.status").set_value("failed").run()
    at.number_input(key="runs.page").set_value(1).run()
    assert "40 run(s) match" in at.caption[0].value
    failed = at.dataframe[0].value
    assert set(failed["status"]) == {"failed"} and failed["error"].str.contains("diverged").all()
    at.selectbox(key="runs.generator").set_value("copy").run()
    assert "20 run(s) match" in at.caption[0].value

    first = at.dataframe[0].value["run_id"].iloc[0]
    at.selectbox(key="runs.show").set_value(first).run()
    assert_clean(at)
    assert any("diverged" in m for m in errors(at))
    button(at, "Re-queue this run").click().run()
    assert service.open_app_store(store_url).get_run(first).status == "queued"


def test_runs_link_opens_a_run(store_url: str) -> None:
    ids = _fill(store_url, 6)
    done = ids[2]
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["run"] = done
    at.run()
    at.switch_page("views/runs.py").run()
    assert_clean(at)
    assert at.selectbox(key="runs.show").value == done
    assert {m.label for m in at.metric} == {"Risk", "Utility", "Took"}
    details = at.dataframe[1].value
    assert list(details["metric"]) == ["linkability.risk", "utility.score"]


def test_runs_of_a_real_evaluation_offer_its_reports(store_url: str) -> None:
    at = open_app()
    button(at, "Run the evaluation").click().run()
    run_id = at.session_state["eval.run_id"]
    run_queued(store_url)
    at.switch_page("views/runs.py").run()
    at.selectbox(key="runs.show").set_value(run_id).run()
    assert_clean(at)
    assert [b.label for b in at.get("download_button")] == [
        "Download report.json",
        "Download report.html",
        "Download audit_card.md",
    ]
    at.toggle(key=f"runs-{run_id[:8]}-full-{run_id}").set_value(True).run()
    assert_clean(at)
    assert "The three anonymisation criteria" in [s.value for s in at.subheader]


# --------------------------------------------------------------------------------------------------
# The service API
# --------------------------------------------------------------------------------------------------


def test_runs_pages_newest_first(store_url: str) -> None:
    ids = _fill(store_url, 7)
    store = service.open_app_store(store_url)
    pages = [service.list_runs_frame(store, limit=3, offset=o) for o in (0, 3, 6, 9)]
    assert [list(p.frame["run_id"]) for p in pages] == [
        ids[6:3:-1],
        ids[3:0:-1],
        ids[0:1],
        [],
    ]
    assert {p.total for p in pages} == {7}
    with pytest.raises(ConfigError):
        service.list_runs_frame(store, limit=0)


def test_load_upload_never_unpickles(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("pickle.loads was called on an upload")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    for name in ("x.parquet", "x.pkl", "x.csv"):
        with pytest.raises(DataValidationError):
            service.load_upload(_tiny_pickle(), name, role="train")


def test_default_threat_model() -> None:
    cols = ["a", "b", "c", "d", "e"]
    d = service.default_threat_model(cols)
    assert d == {"aux_a": ["a", "b"], "aux_b": ["c", "d", "e"], "secrets": cols, "target": None}
    cfg = {"linkability": {"aux_cols": [["a"], ["zz"]]}, "inference": {"secrets": ["e"]}}
    d = service.default_threat_model(cols, cfg)
    assert (d["aux_a"], d["secrets"]) == (["a", "b"], ["e"])  # 'zz' is not a column: default split


def test_generator_param_fields() -> None:
    fields = {f.name: f for f in service.generator_param_fields("privbayes")}
    assert fields["epsilon"].kind == "float" and fields["epsilon"].primary
    assert fields["k"].optional and fields["k"].kind == "int"
    assert "device" not in fields and "n_threads" not in fields
    names = [f.name for f in service.generator_param_fields("ctgan")]
    assert names[:2] == ["epochs", "batch_size"]
    assert "generator_dim" not in names  # tuples are set in a study.toml, not the form


# --------------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------------


def test_app_command_help_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["app", "--help"]) == 0
    assert "--store" in capsys.readouterr().out
    bad = tmp_path / "bad.sqlite"
    bad.write_text("not a database\n" * 20)
    assert main(["app", "--store", str(bad)]) == 2
    assert "not an SQLite database" in capsys.readouterr().err
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["app", "--store", str(tmp_path / "s.sqlite"), "--port", str(port)]) == 2
    assert f"Port {port}" in capsys.readouterr().err
    assert main(["app", "--port", "0"]) == 2


def test_streamlit_command_binds_localhost_with_limits() -> None:
    from synth_audit.cli.app import app_entry, streamlit_command

    entry = app_entry()
    assert entry == APP.resolve()
    cmd = streamlit_command(entry, host="127.0.0.1", port=8600, max_upload_mb=50)
    flags = dict(zip(cmd[5::2], cmd[6::2]))
    assert cmd[2:5] == ["streamlit", "run", str(entry)]
    assert flags["--server.address"] == "127.0.0.1"
    assert flags["--server.port"] == "8600"
    assert flags["--server.maxUploadSize"] == "50"
    assert flags["--server.fileWatcherType"] == "none"
    assert flags["--server.headless"] == "true"
    assert flags["--browser.gatherUsageStats"] == "false"
