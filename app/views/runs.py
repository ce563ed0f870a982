"""Runs: the store's history, newest first, filtered and paginated in the database; each run's
status, error, results and reports."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from app import common as ui
from synth_audit import service
from synth_audit.report.card import section_finding_cells

ALL = "(all)"
PAGE_SIZES = [25, 50, 100]
COLUMNS = [
    "details",
    "status",
    "run",
    "study",
    "risk",
    "risk_ci_high",
    "utility",
    "progress",
    "created",
    "finished",
    "seconds",
    "error",
    "seed",
    "worker",
    "run_id",
]


def _selected_from_table(event: object, frame_ids: list[str]) -> str | None:
    try:
        rows = event.selection.rows  # type: ignore[attr-defined]
    except AttributeError:
        return None
    if rows:
        i = int(rows[0])
        if 0 <= i < len(frame_ids):
            return frame_ids[i]
    return None


def _when(t: Any) -> str | None:
    """A timestamp to the second (UTC), or None (shown as n/a)."""
    try:
        return None if t is None or t != t else t.strftime("%Y-%m-%d %H:%M:%S")
    except (AttributeError, ValueError):
        return None


def show_sections(report: Any, *, key: str) -> None:
    """Every section of a report (model audits, anonymity, DPIA, ...): summary, findings table,
    tables, images and warnings, rendered without knowing the section's kind."""
    sections: Mapping[str, Mapping[str, Any]] = getattr(report, "sections", {}) or {}
    for name, sec in sections.items():
        st.subheader(str(sec.get("title", name)))
        st.caption(f"section {name} · {sec.get('kind', '')}")
        if sec.get("summary"):
            st.markdown(str(sec["summary"]))
        for w in sec.get("warnings", []) or []:
            st.warning(f"{w.get('code', '')}: {w.get('message', '')}", icon=":material/warning:")
        findings = [section_finding_cells(f) for f in sec.get("findings", []) or []]
        if findings:
            st.dataframe(
                pd.DataFrame(
                    findings, columns=["name", "value", "ci", "role", "better", "reading"]
                ),
                hide_index=True,
                width="stretch",
                key=f"{key}-{name}-findings",
            )
        for i, t in enumerate(sec.get("tables", []) or []):
            rows = list(t.get("rows", []))
            st.markdown(f"**{t.get('title', '')}**")
            frame = pd.DataFrame(
                [[str(v) for v in r] for r in rows[:500]], columns=list(t.get("columns", []))
            )
            st.dataframe(frame, hide_index=True, width="stretch", key=f"{key}-{name}-t{i}")
            if len(rows) > 500:
                st.caption(f"{len(rows) - 500:,} more rows in report.json.")
        for img in sec.get("images", []) or []:
            try:
                data = base64.b64decode(str(img.get("data_base64", "")), validate=True)
            except (binascii.Error, ValueError):
                st.caption(f"Image {img.get('title', '')!r} could not be decoded.")
                continue
            if img.get("media_type") == "image/svg+xml":
                st.image(data.decode("utf-8", "replace"), caption=str(img.get("title", "")))
            else:
                st.image(data, caption=str(img.get("title", "")))
        dpia_md = (sec.get("data") or {}).get("dpia_md")
        if isinstance(dpia_md, str) and dpia_md:
            with st.expander("DPIA evidence (dpia.md)"):
                st.markdown(dpia_md)
            st.download_button("dpia.md", dpia_md, file_name="dpia.md", key=f"{key}-{name}-dpia-md")


def show_dpia(report: Any, *, key: str) -> None:
    """DPIA evidence of a report under a DPIA profile the user uploads (defaults, announced,
    without one): the CNIL risk level with its trace, people exposed, and dpia.md / dpia.json."""
    import tomllib

    from synth_audit.dpia import build_dpia, dpia_files
    from synth_audit.errors import SynthAuditError

    up = st.file_uploader(
        "DPIA profile (dpia.toml; optional)", type=["toml"], key=f"{key}-dpia-profile"
    )
    profile: dict[str, Any] = {}
    if up is not None:
        try:
            profile = tomllib.loads(up.getvalue().decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            st.error(f"{up.name} is not a valid UTF-8 TOML file: {exc}. Fix it and upload again.")
            return
    try:
        ev = build_dpia(report, profile)
    except SynthAuditError as exc:
        st.error(str(exc).replace("(profile given in code)", up.name if up else "the profile"))
        return
    r = ev.rating
    c1, c2, c3 = st.columns(3)
    c1.metric("CNIL risk level", r.level, help=r.trace)
    c2.metric("Severity", r.severity)
    c3.metric("Likelihood", r.likelihood)
    u = ev.exposure.union
    if u is not None:
        st.caption(
            f"People exposed by at least one attack: {u.expected:,.0f} "
            f"[{u.expected_ci[0]:,.0f}, {u.expected_ci[1]:,.0f}] of {ev.exposure.population_size:,}."
        )
    for n in ev.profile.notices:
        st.info(n, icon=":material/info:")
    files = dpia_files(ev)
    d1, d2 = st.columns(2)
    d1.download_button("dpia.md", files["dpia.md"], file_name="dpia.md", key=f"{key}-dmd")
    d2.download_button("dpia.json", files["dpia.json"], file_name="dpia.json", key=f"{key}-djs")
    with st.expander("DPIA evidence (dpia.md)", expanded=False):
        st.markdown(files["dpia.md"].decode("utf-8"))


def _run_sections(run_id: str, *, key: str) -> None:
    report = service.report_for_run(ui.get_store(), run_id)
    if report is None:
        return
    if report.sections:
        st.divider()
        st.markdown("#### Findings of this audit (report sections)")
        show_sections(report, key=key)
    if "dpia" not in report.sections:
        with st.expander("DPIA evidence for this run (GDPR Art. 35, CNIL risk level)"):
            show_dpia(report, key=key)


def main() -> None:
    st.title("Runs")
    store = ui.get_store()
    studies = service.study_names(store)
    c1, c2, c3, c4 = st.columns([2, 1, 2, 1])
    study = c1.selectbox("Study", [ALL, *studies], key="runs.study")
    status = c2.selectbox("Status", [ALL, "queued", "running", "done", "failed"], key="runs.status")
    generator = c3.selectbox("Generator", [ALL, *ui.generators_in_store()], key="runs.generator")
    size = c4.selectbox(
        "Per page", PAGE_SIZES, index=0 if "runs.size" in st.session_state else 1, key="runs.size"
    )
    filters: dict[str, Any] = {
        "study": None if study == ALL else study,
        "status": None if status == ALL else status,
        "generator": None if generator == ALL else generator,
    }
    total = store.count_runs(**filters)
    pages = max(1, math.ceil(total / size))
    p1, p2 = st.columns([1, 4])
    page_no = int(
        p1.number_input("Page", min_value=1, max_value=pages, value=1, step=1, key="runs.page")
    )
    p2.button("Refresh", key="runs.refresh", icon=":material/refresh:")
    page = service.list_runs_frame(store, **filters, limit=size, offset=(page_no - 1) * size)
    first = 0 if page.total == 0 else page.offset + 1
    st.caption(
        f"{page.total:,} run(s) match; showing {first:,}-{page.offset + len(page.frame):,}, newest "
        "first. Select a row (or open its details link) to see the run."
    )
    frame = page.frame.copy()
    frame.insert(0, "details", [f"runs?run={rid}" for rid in frame["run_id"]])
    frame = frame[COLUMNS]
    frame["progress"] = frame["progress"].fillna(0.0)  # not started: an empty bar
    frame["created"] = [_when(t) for t in frame["created"]]
    frame["finished"] = [_when(t) for t in frame["finished"]]
    event = st.dataframe(
        ui.styled(
            frame,
            pct=("risk", "risk_ci_high"),
            num={"utility": 3, "seconds": 1},
        ),
        hide_index=True,
        width="stretch",
        height=ui.table_height(len(frame)),
        on_select="rerun",
        selection_mode="single-row",
        key=f"runs.table.{page_no}.{size}.{study}.{status}.{generator}",
        column_config={
            "details": st.column_config.LinkColumn("details", display_text="open"),
            "progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0),
            "risk": st.column_config.Column("risk"),
            "risk_ci_high": st.column_config.Column("risk CI high"),
            "utility": st.column_config.Column("utility"),
            "seconds": st.column_config.Column("seconds"),
            "created": st.column_config.TextColumn("created (UTC)"),
            "finished": st.column_config.TextColumn("finished (UTC)"),
        },
    )
    ids = list(page.frame["run_id"])
    chosen = _selected_from_table(event, ids)
    wanted = st.query_params.get("run")
    options = list(ids)
    if wanted and wanted not in options:
        options.insert(0, wanted)
    if chosen is None and options:
        default = options.index(wanted) if wanted in options else None
        chosen = st.selectbox(
            "Show run",
            options,
            index=default,
            placeholder="choose a run",
            format_func=lambda rid: (
                rid
                if rid not in ids
                else (
                    f"{rid[:8]} · {page.frame.loc[ids.index(rid), 'run']} · "
                    f"{page.frame.loc[ids.index(rid), 'status']}"
                )
            ),
            key="runs.show",
        )
    if chosen:
        st.divider()
        ui.show_run(chosen, key=f"runs-{chosen[:8]}")
        _run_sections(chosen, key=f"runs-sec-{chosen[:8]}")


if __name__ == "__main__":  # Streamlit runs a page as __main__; importing show_sections does not
    with ui.guard("The Runs page"):
        main()
