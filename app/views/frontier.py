"""Frontier: every done run of a study as a point (utility against risk, with CI bars), the Pareto
front and the conservative front. Click a point (or pick runs below) to see and compare runs."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app import charts
from app import common as ui
from synth_audit import service
from synth_audit.errors import ConfigError
from synth_audit.frontier import WORST, risk_options


def risk_label(name: str) -> str:
    """How a risk choice reads in the picker, derived from its name (no list of known attacks)."""
    if name == WORST:
        return "worst risk of each run (every result whose role is 'risk')"
    if name.startswith("membership.") and name.endswith(".auc_advantage"):
        attack = name.removeprefix("membership.").removesuffix(".auc_advantage")
        return f"membership ({attack}): AUC advantage, max(0, 2·AUC − 1)"
    if name.endswith(".risk"):
        return f"{name.removesuffix('.risk').replace('_', ' ')} risk"
    return name


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def _risk_options(url: str, study: str, stamp: int) -> list[str]:
    return risk_options(ui.get_store(), study)


def _chart_selection(event: Any) -> list[str]:
    try:
        picked = event.selection.get(charts.SELECTION) or []
    except AttributeError:
        return []
    out = []
    for item in picked:
        rid = item.get("run_id") if isinstance(item, dict) else None
        if rid:
            out.append(str(rid))
    return out


def main() -> None:
    st.title("Frontier")
    st.write(
        "Each done run of a study is a point: its privacy risk (lower is better, with the CI as a "
        "bar) against its utility (higher is better). A run is on the **Pareto front** (solid line) "
        "when no other run has both a lower risk and a higher utility; the **conservative front** "
        "(dashed) does the same with each risk at its CI's upper bound."
    )
    store = ui.get_store()
    studies = service.study_names(store)
    if not studies:
        st.info(
            "The store holds no study yet. Run one (`synth-audit study run`) or tune a generator."
        )
        return
    preferred = None
    tuned = st.session_state.get("tune.dataset")
    if tuned:
        try:
            preferred = service.tuning_spec(tuned).name
        except ConfigError:
            preferred = None
    if preferred not in studies:
        preferred = next((s for s in studies if s != service.EVALUATIONS_STUDY), studies[0])
    if st.session_state.get("frontier.study") not in studies:
        st.session_state.pop("frontier.study", None)
    c1, c2, c3 = st.columns([2, 2, 1])
    study = c1.selectbox(
        "Study",
        studies,
        index=None if "frontier.study" in st.session_state else studies.index(preferred),
        key="frontier.study",
    )
    choices = (
        _risk_options(ui.store_key(), study, store.count_runs(study=study, status="done"))
        if study is not None
        else [WORST]
    )
    if st.session_state.get("frontier.risk") not in choices:
        st.session_state.pop("frontier.risk", None)
    risk = c2.selectbox("Risk axis", choices, format_func=risk_label, key="frontier.risk")
    conservative = c3.toggle(
        "Conservative",
        key="frontier.conservative",
        help="List the conservative front (risk at its CI's upper bound) in the table below.",
    )
    if study is None:
        st.info("Choose a study.")
        return
    fr = ui.frontier(study, risk=risk, conservative=conservative)
    if not fr.points:
        st.info(
            f"No run of study {study!r} is done yet"
            + (
                f" ({len(fr.excluded)} done run(s) lack a risk or a utility)."
                if fr.excluded
                else "."
            )
        )
        return
    event = st.altair_chart(
        charts.frontier_chart(fr),
        width="stretch",
        on_select="rerun",
        selection_mode=charts.SELECTION,
        key=f"frontier.chart.{study}.{risk}",
    )
    front = fr.front()
    st.caption(
        f"{len(fr.points)} run(s); {len(front)} on the "
        f"{'conservative ' if conservative else ''}front"
        + (
            f"; {len(fr.excluded)} done run(s) without a risk or utility left out"
            if fr.excluded
            else ""
        )
        + charts.off_scale_note(fr)
        + ". Click a point to select its run (shift-click adds more); double-click clears."
    )
    labels = {p.run_id: f"{charts.point_label(p)} · {p.run_id[:8]}" for p in fr.points}
    with st.expander(f"The {'conservative ' if conservative else ''}front", expanded=False):
        import pandas as pd

        table = pd.DataFrame(
            [
                {
                    "run": charts.point_label(p),
                    "risk": p.risk,
                    "risk CI high": p.risk_upper,
                    "risk from": p.risk_attack,
                    "utility": p.utility,
                    "run_id": p.run_id,
                }
                for p in front
            ],
            columns=["run", "risk", "risk CI high", "risk from", "utility", "run_id"],
        )
        st.dataframe(
            ui.styled(table, pct=("risk", "risk CI high"), num={"utility": 3}),
            hide_index=True,
            width="stretch",
        )
    from_chart = [r for r in _chart_selection(event) if r in labels]
    picked = st.multiselect(
        "Runs to compare (or click points in the chart)",
        list(labels),
        format_func=labels.__getitem__,
        key=f"frontier.compare.{study}",
    )
    selected = list(dict.fromkeys(from_chart + picked))
    if not selected:
        st.caption("Select one run to see its details, or several to compare them.")
        return
    if len(selected) > 1:
        st.subheader(f"Comparing {len(selected)} runs")
        st.dataframe(service.compare_runs(store, selected[:8]), width="stretch")
    for rid in selected[:8]:
        st.subheader(f"Run {labels[rid]}")
        ui.show_run(rid, key=f"frontier-{rid[:8]}")


with ui.guard("The Frontier page"):
    main()
