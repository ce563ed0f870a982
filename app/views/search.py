"""PET search: start a search of privacy settings (a search.toml), watch its trials arrive on the
study's privacy-utility frontier, and read the recommended setting and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app import charts
from app import common as ui
from synth_audit.errors import StoreError

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _search_files() -> dict[str, Path]:
    return {f"{p.parent.name}/{p.name}": p for p in sorted(SAMPLES.glob("*/search.toml"))}


def _describe(path: Path) -> Any:
    from synth_audit.pet import load_search

    spec = load_search(path)
    s = spec.search
    ranges = []
    for name, p in s.params.items():
        if p.type == "categorical":
            ranges.append(f"{name} in {p.choices}")
        else:
            ranges.append(f"{name} from {p.low:g} to {p.high:g}{' (log scale)' if p.log else ''}")
    objectives = "; ".join(
        f"{o.direction} {o.metric}{'' if o.stat == 'value' else f' ({o.stat})'}"
        for o in s.objectives
    )
    cons = (
        f" subject to {s.constraint.metric} {s.constraint.stat} ≤ {s.constraint.max:g}"
        if s.constraint
        else ""
    )
    st.caption(
        f"Study **{spec.study.name}**: {spec.target.name} over {', '.join(ranges)}; {objectives}"
        f"{cons}. Sampler {s.sampler_name} (seed {s.seed}); candidates near the front are re-run "
        f"with {s.confirm_seeds} seeds before one is recommended."
    )
    return spec


def _recommendation(result: dict[str, Any]) -> None:
    rec = result.get("recommendation") or {}
    if rec.get("setting") is not None:
        st.success(f"Recommended: **{rec['label']}**", icon=":material/verified:")
    else:
        st.warning("No setting is recommended.", icon=":material/warning:")
    st.write(rec.get("why", ""))
    rows = []
    for c in result.get("candidates", []):
        row: dict[str, Any] = {"trial": c["trial"], "setting": c["label"]}
        for name, o in c["objectives"].items():
            row[name] = o.get("mean")
        if c.get("constraint"):
            row["constraint (mean)"] = c["constraint"].get("mean")
        row["feasible"] = c.get("feasible")
        rows.append(row)
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _progress(study: str, job_state: dict[str, Any] | None) -> None:
    from synth_audit.pet.background import search_job

    store = ui.get_store()
    try:
        counts = store.status_counts(study)
    except StoreError:
        counts = {}
    running = False
    if job_state is not None and job_state.get("study") == study:
        job = search_job(job_state)
        running = job.running()
        result = job.result()
        if running:
            st.info(
                f"The search is running (process {job.pid}): {counts.get('done', 0)} run(s) done, "
                f"{counts.get('running', 0)} running.",
                icon=":material/hourglass_top:",
            )
        elif result is not None:
            _recommendation(result)
        else:
            st.error("The search stopped without a result. Its log:", icon=":material/error:")
            st.code(job.log_tail(), language="text")
    try:
        fr = ui.frontier(study)
    except StoreError:
        fr = None
    if fr is None or not fr.points:
        st.info("No trial of this search is done yet.")
    else:
        st.altair_chart(
            charts.frontier_chart(fr, highlight=set(), selectable=False, height=360),
            width="stretch",
        )
        st.caption(
            f"{len(fr.points)} done run(s) (each trial and each confirmation seed is one run); "
            f"{len(fr.front())} on the Pareto front{charts.off_scale_note(fr)}."
        )
    if running:
        st.caption("This view refreshes every few seconds while the search runs.")


def main() -> None:
    st.title("PET search")
    st.write(
        "Search a privacy-enhancing technology's settings (a DP generator's ε, any generator "
        "parameter) for the most utility at an accepted risk. Every trial is a stored run of the "
        "search's study: it runs the same attacks as a study run, appears on the frontier below as "
        "it finishes, and a stopped search resumes where it was when started again."
    )
    files = _search_files()
    if not files:
        st.warning("No search file (samples/*/search.toml) ships with this installation.")
        return
    name = st.selectbox("Search file", list(files), key="search.file")
    spec = _describe(files[name])
    with st.form("search.form"):
        c1, c2 = st.columns(2)
        trials = c1.number_input(
            "Trials", min_value=1, max_value=500, value=int(spec.search.trials), step=1
        )
        workers = c2.number_input(
            "Worker processes",
            min_value=1,
            max_value=16,
            value=int(spec.search.batch),
            step=1,
            help="Trials of a batch run in parallel on this many processes.",
        )
        go = st.form_submit_button("Start the search", type="primary", icon=":material/play_arrow:")
    if go:
        from synth_audit.pet.background import start_search

        store = ui.get_store()
        job = start_search(
            files[name],
            store_url=ui.store_url() or store.url,
            workdir=Path(store.artefact_root) / "searches",
            trials=int(trials),
            workers=int(workers),
        )
        st.session_state["search.job"] = {
            "study": job.study,
            "pid": job.pid,
            "result_path": str(job.result_path),
            "log_path": str(job.log_path),
        }
    job_state = st.session_state.get("search.job")
    st.subheader(f"Trials of {spec.study.name} on the frontier")
    running = isinstance(job_state, dict) and job_state.get("study") == spec.study.name

    @st.fragment(run_every=3 if running else None)
    def live() -> None:
        _progress(spec.study.name, st.session_state.get("search.job"))

    live()


with ui.guard("The PET search page"):
    main()
