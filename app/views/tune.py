"""Tune a generator: choose a dataset, a generator and its parameters, queue the run, watch it, and
see where it lands on the study's privacy-utility frontier next to the earlier runs."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app import charts
from app import common as ui
from synth_audit import service
from synth_audit.errors import StoreError

LABELS = {
    "epochs": "Epochs",
    "n_iter": "Training iterations (epochs)",
    "batch_size": "Batch size",
    "epsilon": "Privacy budget ε (smaller is more private)",
    "delta": "δ (empty: 1 / number of training records)",
    "fraction": "Share of training records leaked",
    "default_distribution": "Marginal distribution",
    "k": "Network degree k (empty: chosen from the data)",
    "n_bins": "Bins per numeric column",
}
PREFERRED = ("gaussian_copula", "ctgan", "independent_marginals")


def _widget(f: service.ParamField, key: str) -> Any:
    label = LABELS.get(f.name, f.name.replace("_", " "))
    k = f"{key}.{f.name}"
    if f.kind == "bool":
        return st.checkbox(label, value=bool(f.default), key=k)
    if f.kind == "choice":
        options = list(f.options)
        index = options.index(f.default) if f.default in options else 0
        return st.selectbox(label, options, index=index, key=k)
    if f.kind == "text":
        return st.text_input(label, value=str(f.default or ""), key=k)
    if f.kind == "int":
        return st.number_input(
            label,
            min_value=None if f.minimum is None else int(f.minimum),
            max_value=None if f.maximum is None else int(f.maximum),
            value=None if f.default is None else int(f.default),
            step=1,
            key=k,
            placeholder="automatic" if f.optional else None,
        )
    value = None if f.default is None else float(f.default)
    step = 0.1 if value is None or value == 0 else max(abs(value) / 10, 1e-9)
    return st.number_input(
        label,
        min_value=None if f.minimum is None else float(f.minimum),
        max_value=None if f.maximum is None else float(f.maximum),
        value=value,
        step=step,
        format="%g",
        key=k,
        placeholder="automatic" if f.optional else None,
    )


def _form(dataset: str, generator: str) -> tuple[dict[str, Any], int] | None:
    fields = service.generator_param_fields(generator, dataset=dataset)
    key = f"tune.{dataset}.{generator}"
    with st.form(key):
        values: dict[str, Any] = {}
        primary = [f for f in fields if f.primary]
        others = [f for f in fields if not f.primary]
        if primary:
            cols = st.columns(min(3, len(primary)))
            for i, f in enumerate(primary):
                with cols[i % len(cols)]:
                    values[f.name] = _widget(f, key)
        elif not others:
            st.caption(f"{generator} has no parameters to tune.")
        if others:
            with st.expander("More parameters"):
                more = st.columns(3)
                for i, f in enumerate(others):
                    with more[i % 3]:
                        values[f.name] = _widget(f, key)
        seed_index = st.number_input(
            "Seed index",
            min_value=0,
            max_value=999,
            value=0,
            step=1,
            key=f"{key}.seed",
            help="Runs with the same seed index share their random numbers (data split, attacks), "
            "so configurations are compared on the same footing. Use another index to repeat a "
            "configuration.",
        )
        submitted = st.form_submit_button("Queue the run", type="primary", icon=":material/send:")
    if not submitted:
        return None
    params = {
        k: v
        for k, v in values.items()
        if not (v is None and next(f for f in fields if f.name == k).optional)
    }
    return params, int(seed_index)


def _session_runs(runs: list[str]) -> None:
    store = ui.get_store()
    rows = []
    for rid in reversed(runs[-20:]):
        s = service.run_status(store, rid)
        rows.append(
            {
                "run": s.label,
                "status": s.status,
                "risk": s.summary.get("risk"),
                "utility": s.summary.get("utility"),
                "run_id": rid,
            }
        )
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["run", "status", "risk", "utility", "run_id"])
    st.dataframe(
        ui.styled(frame, pct=("risk",), num={"utility": 3}),
        hide_index=True,
        width="stretch",
    )


def _current(run_id: str) -> bool:
    """The run just queued: progress while it runs, its numbers once done. True when done."""
    s = service.run_status(ui.get_store(), run_id)
    st.caption(f"Run `{run_id}` · {s.label}")
    ui.reused_note(run_id, key="tune")
    if not s.finished:
        ui.progress_fragment(run_id, key="tune")
        return False
    if s.status == "failed":
        st.error(f"The run failed: {s.error}", icon=":material/error:")
        if st.button("Re-queue it", key="tune.retry"):
            service.requeue(ui.get_store(), run_id)
            st.rerun()
        return False
    risk = s.summary.get("risk")
    st.success(
        f"{s.label}: risk {ui.risk(risk, s.summary.get('risk_ci_low'), s.summary.get('risk_ci_high'))}"
        f" ({s.summary.get('risk_attack') or 'n/a'}), utility {ui.num(s.summary.get('utility'))}"
        f" · {ui.seed_label(None, s.summary.get('seed_index'))}. It is the ringed point below.",
        icon=":material/check_circle:",
    )
    return True


def main() -> None:
    st.title("Tune a generator")
    st.write(
        "Fit a generator on a dataset's training split, sample a release and audit it exactly as "
        "the dataset's study does. Each run becomes a point on the study's privacy-utility "
        "frontier, next to the earlier runs, so you can iterate towards a better trade-off."
    )
    datasets = service.tuning_datasets()
    if not datasets:
        st.warning("No dataset with a study.toml ships with this installation (samples/).")
        return
    c1, c2 = st.columns(2)
    dataset = c1.selectbox(
        "Dataset",
        datasets,
        index=0
        if "tune.dataset" in st.session_state or "randhie" not in datasets
        else datasets.index("randhie"),
        key="tune.dataset",
    )
    spec = service.tuning_spec(dataset)
    c1.caption(
        f"Study **{spec.name}**. {spec.description.rstrip('.')}. Train {spec.split.train:,}, control "
        f"{spec.split.control:,}, reference {spec.split.reference:,} records."
    )
    gens = ui.generator_choices()
    names = list(gens)
    default = next((g for g in PREFERRED if g in gens), names[0])
    generator = c2.selectbox(
        "Generator",
        names,
        index=0 if "tune.generator" in st.session_state else names.index(default),
        key="tune.generator",
        format_func=lambda g: f"{g}{' (ε)' if gens[g]['has_epsilon'] else ''}",
    )
    c2.caption(gens[generator]["description"])
    submitted = _form(dataset, generator)
    if submitted is not None:
        params, seed_index = submitted
        sub = service.submit_tuning_run(
            ui.get_store(), dataset, generator, params, seed_index=seed_index
        )
        run_id = sub.run_id
        st.session_state["tune.reused"] = (run_id, sub.message)
        st.session_state.setdefault("tune.runs", [])
        if run_id not in st.session_state["tune.runs"]:
            st.session_state["tune.runs"].append(run_id)
        st.session_state["tune.current"] = run_id

    current = st.session_state.get("tune.current")
    highlight: set[str] = set()
    if current:
        st.subheader("This run")
        if _current(current):
            highlight.add(current)
    st.subheader(f"The frontier of study {spec.name}")
    try:
        fr = ui.frontier(spec.name)
    except StoreError:
        fr = None  # the study is not in the store yet
    if fr is None or not fr.points:
        st.info("No run of this study is done yet: queue one above.")
    else:
        st.altair_chart(
            charts.frontier_chart(fr, highlight=highlight, selectable=False, height=360),
            width="stretch",
        )
        on_front = fr.front()
        st.caption(
            f"{len(fr.points)} done run(s); {len(on_front)} on the Pareto front (solid line)"
            f"{charts.off_scale_note(fr)}. "
            "The dashed line is the conservative front (each risk at its CI's upper bound). "
            "The Frontier page lets you select and compare runs."
        )
    runs = st.session_state.get("tune.runs", [])
    if runs:
        st.subheader("Your runs in this session")
        _session_runs(runs)


with ui.guard("The Tune page"):
    main()
