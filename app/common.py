"""What every view shares: the store, the error guard, cached reads, the run-status fragment and
the display of an audit report.

The views call :mod:`synth_audit.service` only; nothing here runs long work. Reads that grow with
the store (a study's frontier, the list of generators) are cached with ``st.cache_data`` under a key
that includes the store URL and a cheap stamp (the number of matching runs), so a cached value is
never stale after a run finishes and a store of thousands of runs still renders in well under 2 s.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

import streamlit as st

from synth_audit import service
from synth_audit.errors import SynthAuditError

if TYPE_CHECKING:
    import pandas as pd

    from synth_audit.frontier import Frontier
    from synth_audit.report.model import AuditReport
    from synth_audit.store import Store

_log = logging.getLogger("synth_audit.app")

POLL_S = 1.0
STATUS_ICONS = {
    "queued": ":material/schedule:",
    "running": ":material/autorenew:",
    "done": ":material/check_circle:",
    "failed": ":material/error:",
}


# --------------------------------------------------------------------------------------------------
# Store
# --------------------------------------------------------------------------------------------------


def store_url() -> str | None:
    """``--store URL`` after ``--`` on the ``streamlit run`` command line, else
    ``$SYNTH_AUDIT_STORE``, else None (the workspace default)."""
    argv = sys.argv
    if argv and argv[0].endswith("streamlit_app.py"):
        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument("--store", default=None)
        known, _ = parser.parse_known_args(argv[1:])
        if known.store:
            return str(known.store)
    import os

    return os.environ.get(service.STORE_ENV) or None


def get_store() -> Store:
    """The app's store (opened once per process and URL)."""
    return service.open_app_store(store_url())


def store_key() -> str:
    """The store's URL with the password masked: the part of cache keys that names the store."""
    return get_store().url


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


@contextmanager
def guard(what: str = "This page") -> Iterator[None]:
    """Show a user error as its message, and anything else as a short internal-error note with the
    details folded away. Streamlit's own control flow (rerun, stop) passes through: it is not an
    ``Exception``."""
    try:
        yield
    except SynthAuditError as exc:
        st.error(str(exc), icon=":material/error:")
    except Exception as exc:
        _log.exception("internal error in the app")
        st.error(
            f"{what} hit an internal error ({type(exc).__name__}); this is a bug in synth-audit, "
            "not a problem with your data. Nothing stored was changed. The details below help to "
            "report it.",
            icon=":material/bug_report:",
        )
        with st.expander("Details for a bug report"):
            st.code("".join(traceback.format_exception(exc)), language="text")


def safe_bytes(fn: Callable[[], bytes]) -> bytes:
    """Deferred download data that never raises into Streamlit's download handler."""
    try:
        return fn()
    except SynthAuditError as exc:
        return f"This file could not be produced: {exc}\n".encode()
    except Exception as exc:
        _log.exception("download failed")
        return f"This file could not be produced (internal error: {type(exc).__name__}).\n".encode()


# --------------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------------


def pct(x: float | None) -> str:
    """A rate or risk, exactly as every other surface writes it (``0.83 %``, ``14.5 %``, ``n/a``)."""
    from synth_audit.report.wording import fmt_pct

    return fmt_pct(x)


def ci(lo: float | None, hi: float | None) -> str:
    from synth_audit.report.wording import fmt_ci

    return fmt_ci(lo, hi)


def risk(
    value: float | None, lo: float | None, hi: float | None, error: float | None = None
) -> str:
    """A risk with its interval (``3.15 % [0.00 %, 7.77 %]``; never a zero-width interval at 0)."""
    from synth_audit.report.wording import fmt_risk

    return fmt_risk(value, lo, hi, error)


def num(x: Any, digits: int = 3) -> str:
    """A score with ``digits`` decimals (utility: ``0.990``); ``n/a`` when missing."""
    from synth_audit.report.wording import MISSING

    if x is None:
        return MISSING
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    return MISSING if v != v or v in (float("inf"), float("-inf")) else f"{v:.{digits}f}"


def seed_label(seed: Any, seed_index: Any = None) -> str:
    """``seed #3`` (the study's seed number), else ``seed 42`` (a seed the user chose)."""
    if seed_index is not None:
        return f"seed #{int(seed_index)}"
    return "seed n/a" if seed is None else f"seed {seed}"


def styled(
    frame: pd.DataFrame,
    *,
    pct: Sequence[str] = (),
    num: Mapping[str, int] | None = None,
    text: Sequence[str] = (),
) -> Any:
    """``frame`` for ``st.dataframe`` with one format per quantity: the ``pct`` columns as rates
    (:func:`pct`), the ``num`` columns with their decimals, text as is, and no missing cell reading
    ``None``. Complete numeric columns stay numbers underneath (they sort by value) with the text
    shown on top; a column with missing cells becomes its text (``n/a`` where missing), since the
    browser writes ``None`` for a missing number whatever text is given for it."""
    import pandas as pd

    from synth_audit.report.wording import MISSING

    numbers = dict(num or {})
    formats: dict[str, Any] = {c: pct_cell for c in pct if c in frame.columns}
    for c, digits in numbers.items():
        if c in frame.columns:
            formats[c] = partial(num_cell, digits=digits)
    for c in text:
        if c in frame.columns:
            formats[c] = text_cell
    out = frame.copy()
    for c in out.columns:
        col = out[c]
        if c not in formats and (
            pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)
        ):
            formats[c] = text_cell
        if col.isna().any():
            fmt = formats.get(c, text_cell)
            out[c] = [MISSING if _is_missing(v) else fmt(v) for v in col]
            formats[c] = text_cell
    return out.style.format(formats, na_rep=MISSING)


def _is_missing(v: Any) -> bool:
    try:
        return bool(v is None or v != v)
    except (TypeError, ValueError):
        return False


def pct_cell(x: Any) -> str:
    return pct(x)


def num_cell(x: Any, digits: int = 3) -> str:
    return num(x, digits)


def text_cell(x: Any) -> str:
    from synth_audit.report.wording import MISSING

    if x is None or (isinstance(x, float) and x != x):
        return MISSING
    return str(x)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds // 60:.0f} min {seconds % 60:.0f} s"


# --------------------------------------------------------------------------------------------------
# Cached reads (keyed on the store and a cheap stamp)
# --------------------------------------------------------------------------------------------------


@st.cache_data(ttl=600, max_entries=32, show_spinner=False)
def _frontier_cached(
    url: str, study: str, risk: str | None, conservative: bool, stamp: int
) -> Frontier:
    return service.frontier_data(get_store(), study, risk=risk, conservative=conservative)


def frontier(study: str, *, risk: str | None = None, conservative: bool = False) -> Frontier:
    """The study's frontier, recomputed only when its number of done runs changes."""
    store = get_store()
    stamp = store.count_runs(study=study, status="done")
    return _frontier_cached(store_key(), study, risk, conservative, stamp)


@st.cache_data(ttl=600, max_entries=8, show_spinner=False)
def _generators_in_store(url: str, stamp: int) -> list[str]:
    return sorted({r.generator for r in get_store().list_runs()})


def generators_in_store() -> list[str]:
    """Distinct generators of the stored runs (re-read when the number of runs changes)."""
    store = get_store()
    return _generators_in_store(store_key(), store.count_runs())


@st.cache_data(ttl=3600, show_spinner=False)
def generator_choices() -> dict[str, dict[str, Any]]:
    return service.generator_choices()


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False)
def sample_release(name: str) -> dict[str, pd.DataFrame]:
    return service.sample_release(name)


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False)
def sample_config(name: str) -> dict[str, Any]:
    return service.sample_config(name)


# --------------------------------------------------------------------------------------------------
# Sidebar
# --------------------------------------------------------------------------------------------------


def sidebar() -> None:
    """The store and its queue at a glance."""
    with st.sidebar, guard("The sidebar"):
        store = get_store()
        counts = store.status_counts()
        st.caption(f"Store: `{store.url}`")
        st.caption(" · ".join(f"{icon} {k} {counts.get(k, 0)}" for k, icon in STATUS_ICONS.items()))


# --------------------------------------------------------------------------------------------------
# Run status (polled by a fragment; long work never runs in the script)
# --------------------------------------------------------------------------------------------------


def status_line(s: service.RunStatusView) -> str:
    icon = STATUS_ICONS.get(s.status, "")
    if s.status == "queued":
        ahead = f"; {s.queued_before} other run(s) queued" if s.queued_before else ""
        return f"{icon} Queued for {duration(s.waited_s)}{ahead}: waiting for a worker."
    if s.status == "running":
        return f"{icon} Running on {s.worker_id} for {duration(s.elapsed_s)}: {s.message}"
    if s.status == "done":
        return f"{icon} Done in {duration(s.elapsed_s)}."
    return f"{icon} Failed: {s.error or 'no message'}"


def render_progress(run_id: str) -> bool:
    """Progress of a queued or running run; True when it has finished (the caller reruns)."""
    s = service.run_status(get_store(), run_id)
    if s.finished:
        return True
    st.progress(s.progress, text=status_line(s))
    silent = s.silent_s
    if silent is not None and silent > 30:
        st.warning(
            f"The worker {s.worker_id} has sent no heartbeat for {duration(silent)}: it may have "
            "died. The run is marked failed when another worker finds it stale, and can then be "
            "re-queued.",
            icon=":material/heart_broken:",
        )
    if s.status == "queued" and s.waited_s > 20:
        st.caption(
            "No worker has taken this run yet. `synth-audit app` starts one; if you started the "
            f"app another way, start a worker: `synth-audit worker --store {get_store().url}`."
        )
    return False


def reused_note(run_id: str, *, key: str) -> None:
    """ "Already done, reused" (or queued, running, re-queued) when the last submission of this view
    found a stored run with the same data and settings instead of making a new one."""
    last = st.session_state.get(f"{key}.reused")
    if last and last[0] == run_id and last[1]:
        st.info(last[1], icon=":material/recycling:")


def progress_fragment(run_id: str, *, key: str) -> None:
    """Poll the run every second in a fragment; rerun the whole page when it finishes."""

    @st.fragment(run_every=POLL_S)
    def _poll() -> None:
        finished = False
        with guard("The progress display"):
            finished = render_progress(run_id)
        if finished:
            st.rerun()

    _poll()


# --------------------------------------------------------------------------------------------------
# An audit report on the page
# --------------------------------------------------------------------------------------------------


def criteria_frame(report: AuditReport) -> pd.DataFrame:
    """One row per attack: the risk with its CI beside the attack, baseline and control rates."""
    import pandas as pd

    from synth_audit.report.card import attack_family, attack_title

    families = {
        "singling_out": "Singling out",
        "linkability": "Linkability",
        "inference": "Inference",
    }
    rows = []
    for name, r in report.risks():
        rows.append(
            {
                "criterion": families.get(attack_family(name), name),
                "attack": attack_title(name, r),
                "risk": r.risk.value,
                "ci_low": r.risk.ci_low,
                "ci_high": r.risk.ci_high,
                "attack_rate": r.attack_rate.value,
                "baseline_rate": r.baseline_rate.value,
                "control_rate": None if r.control_rate is None else r.control_rate.value,
                "n_attacks": r.n_attacks,
                "beats_baseline": bool(r.beats_baseline),
                "warning": "; ".join(w.code for w in r.warnings) or "",
            }
        )
    return pd.DataFrame(rows)


def rates_chart(report: AuditReport) -> Any:
    """Per attack: the risk with its CI (left), and the attack, baseline and control success rates
    with theirs (right), one row per attack."""
    import altair as alt

    from synth_audit.report.card import attack_title

    risks, rates = [], []
    order = []
    for name, r in report.risks():
        title = attack_title(name, r)
        order.append(title)
        risks.append(
            {
                "attack": title,
                "risk": r.risk.value,
                "lo": r.risk.ci_low,
                "hi": r.risk.ci_high,
                "text": risk(r.risk.value, r.risk.ci_low, r.risk.ci_high),
            }
        )
        for which, rate in (
            ("attack", r.attack_rate),
            ("baseline", r.baseline_rate),
            ("control", r.control_rate),
        ):
            if rate is None:
                continue
            lo, hi = rate.ci
            rates.append(
                {
                    "attack": title,
                    "which": which,
                    "rate": rate.value,
                    "lo": lo,
                    "hi": hi,
                    "text": f"{pct(rate.value)} {ci(lo, hi)}",
                }
            )
    height = 30 * max(1, len(order))
    y = alt.Y("attack:N", title=None, sort=order, axis=alt.Axis(labelLimit=260))
    pct_axis = alt.Axis(format="%")
    risk_base = alt.Chart(alt.Data(values=risks))
    risk_chart = alt.layer(
        risk_base.mark_rule(strokeWidth=3, color="#d62728", opacity=0.6).encode(
            x=alt.X("lo:Q", title="risk with its CI", axis=pct_axis), x2="hi:Q", y=y
        ),
        risk_base.mark_point(filled=True, size=70, color="#d62728").encode(
            x="risk:Q",
            y=y,
            tooltip=["attack:N", alt.Tooltip("text:N", title="risk [CI]")],
        ),
    ).properties(width=260, height=height)
    rate_base = alt.Chart(alt.Data(values=rates))
    y_off = alt.YOffset("which:N", sort=["attack", "baseline", "control"])
    color = alt.Color(
        "which:N",
        title="success rate of",
        scale=alt.Scale(
            domain=["attack", "baseline", "control"], range=["#d62728", "#9e9e9e", "#1f77b4"]
        ),
        legend=alt.Legend(orient="top"),
    )
    rate_chart = alt.layer(
        rate_base.mark_bar(opacity=0.85).encode(
            x=alt.X("rate:Q", title="success rates with their CIs", axis=pct_axis),
            y=alt.Y(
                "attack:N",
                title=None,
                sort=order,
                axis=None,
                scale=alt.Scale(paddingInner=0.2, paddingOuter=0.1),
            ),
            yOffset=y_off,
            color=color,
            tooltip=["attack:N", "which:N", alt.Tooltip("text:N", title="success rate [CI]")],
        ),
        rate_base.mark_rule(color="black").encode(
            x="lo:Q",
            x2="hi:Q",
            y=alt.Y(
                "attack:N",
                sort=order,
                axis=None,
                scale=alt.Scale(paddingInner=0.2, paddingOuter=0.1),
            ),
            yOffset=y_off,
        ),
    ).properties(width=420, height=height)
    # Both panels list the attacks in the same order over the same height, so their rows line up.
    return alt.hconcat(risk_chart, rate_chart, spacing=16).resolve_scale(y="independent")


def table_height(n_rows: int) -> int:
    return int(min(35 * (n_rows + 1) + 3, 900))


def show_report(
    report: AuditReport,
    *,
    run_id: str,
    key: str,
    exposed: pd.DataFrame | None = None,
    eager: bool = False,
    downloads: bool = True,
) -> None:
    """The three criteria with CIs, the most exposed records, utility, warnings and downloads."""
    from synth_audit.report.card import attack_title, reading, threat_model
    from synth_audit.report.html import all_report_warnings

    summary = report.summary()
    warnings = all_report_warnings(report)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        "Highest risk",
        pct(summary["max_risk"]),
        help=f"from {summary['max_risk_attack']}" if summary["max_risk_attack"] else None,
    )
    c2.metric("Highest upper CI bound", pct(summary["max_risk_ci_high"]))
    c3.metric(
        "Utility score",
        "not measured" if report.utility_score is None else f"{report.utility_score:.3f}",
    )
    c4.metric("Warnings", str(len(warnings)))

    st.subheader("The three anonymisation criteria")
    st.caption(
        "Risk = (attack − control) / (1 − control): what the release lets an attacker do beyond "
        "what real people it never saw reveal anyway, with its confidence interval. An attack no "
        "better than its naive baseline carries a warning: it is weak evidence of safety."
    )
    frame = criteria_frame(report)
    if frame.empty:
        st.info("No attack was run (all were disabled in the settings).")
    else:
        st.dataframe(
            styled(frame, pct=RATE_COLUMNS, num={"n_attacks": 0}),
            hide_index=True,
            width="stretch",
            height=table_height(len(frame)),
            column_config={
                "risk": st.column_config.Column("risk"),
                "ci_low": st.column_config.Column("CI low"),
                "ci_high": st.column_config.Column("CI high"),
                "attack_rate": st.column_config.Column("attack"),
                "baseline_rate": st.column_config.Column("baseline"),
                "control_rate": st.column_config.Column("control"),
                "attack": st.column_config.TextColumn("attack", width="medium"),
                "n_attacks": st.column_config.Column("n"),
                "beats_baseline": st.column_config.CheckboxColumn("beats baseline"),
            },
        )
        st.altair_chart(rates_chart(report), width="content")
        with st.expander("What each risk means: the attacker, the success, the reading"):
            for name, r in report.risks():
                st.markdown(
                    f"**{attack_title(name, r)}**: {pct(r.risk.value)} "
                    f"{ci(r.risk.ci_low, r.risk.ci_high)}. {reading(name, r)}"
                )
                st.caption(threat_model(name, r))

    st.subheader("Most exposed records")
    if exposed is None:
        exposed = report.exposed_records(20)
    if exposed.empty:
        st.write("No training record was attacked successfully.")
    else:
        st.caption(
            "Training records (row number in the train file, from 0) ranked by how many attacks "
            "succeeded against them."
        )
        st.dataframe(
            styled(exposed, num={"record": 0, "n_successful_attacks": 0}),
            hide_index=True,
            width="stretch",
            height=table_height(len(exposed)),
        )

    if report.dcr is not None:
        d = report.dcr
        st.subheader("Distance to closest record (diagnostic, not proof of privacy)")
        st.write(
            f"{pct(d.share_closer_to_train)} {ci(*d.share_ci)} of synthetic records are closer to a "
            f"training record than to a control record (expected without leakage: "
            f"{pct(d.expected_share)}); {d.exact_copies_of_train} exact copies of training records, "
            f"{d.exact_copies_of_control} exact matches with control records."
        )

    show_utility(report)

    st.subheader(f"Warnings ({len(warnings)})")
    if not warnings:
        st.write("None.")
    for w in warnings:
        st.warning(w.message, icon=":material/warning:")

    if downloads:
        download_buttons(run_id, key=key, eager=eager)


RATE_COLUMNS = ("risk", "ci_low", "ci_high", "attack_rate", "baseline_rate", "control_rate")


def utility_frame(report: AuditReport) -> pd.DataFrame:
    """One row per utility metric: value, CI, what is best and the range."""
    import pandas as pd

    rows = []
    for name, m in report.utility.items():
        bounds = m.get("bounds") or [None, None]
        rows.append(
            {
                "metric": name,
                "value": m.get("value"),
                "ci_low": m.get("ci_low"),
                "ci_high": m.get("ci_high"),
                "better when": "higher" if m.get("direction") == "maximize" else "lower",
                "range": f"{num(bounds[0], 1)} to {num(bounds[1], 1)}",
            }
        )
    return pd.DataFrame(
        rows, columns=["metric", "value", "ci_low", "ci_high", "better when", "range"]
    )


def show_utility(report: AuditReport) -> None:
    """The utility score, each metric with its reading, the detection classifier's AUC, the
    per-column and per-pair scores (worst first), and why marginals-only metrics can rank
    ``independent_marginals`` above a copula. The same readings as report.html and the card."""
    import pandas as pd

    from synth_audit.report.card import UTILITY_RANKING_NOTE, utility_breakdown

    st.subheader("Utility")
    if not report.utility:
        st.write("No utility metric was computed.")
        return
    b = utility_breakdown(report.utility)
    table = utility_frame(report)
    st.dataframe(
        styled(table, num={"value": 3, "ci_low": 3, "ci_high": 3}),
        hide_index=True,
        width="stretch",
        column_config={
            "ci_low": st.column_config.Column("CI low"),
            "ci_high": st.column_config.Column("CI high"),
        },
    )
    if b["detection_auc"] is not None:
        from synth_audit.report.wording import fmt_num

        lo, hi = b["detection_auc_ci"]
        st.metric(
            "Detection classifier AUC",
            fmt_num(b["detection_auc"], 3),  # as the readings below and the reports write it
            help="How well a classifier tells synthetic rows from real ones: 0.5 = it cannot tell "
            f"them apart, 1 = it always can. CI [{fmt_num(lo, 3)}, {fmt_num(hi, 3)}].",
        )
    for line in b["readings"]:
        st.markdown(f"- {line}")
    st.info(UTILITY_RANKING_NOTE, icon=":material/balance:")
    if b["columns"]:
        with st.expander(f"Per-column scores ({b['n_columns']} columns, worst first)"):
            cols = pd.DataFrame(b["columns"], columns=["column", "score", "test"])
            st.dataframe(
                styled(cols, num={"score": 3}),
                hide_index=True,
                width="stretch",
                height=table_height(len(cols)),
            )
            st.caption(
                "1 = the column's distribution in the release is as in the real data (KS test for "
                "numbers, total variation distance for categories)."
            )
    if b["pairs"]:
        with st.expander(f"Per-pair scores ({b['n_pairs']} pairs, worst first)"):
            pairs = pd.DataFrame(b["pairs"], columns=["pair", "score", "kind"])
            st.dataframe(
                styled(pairs, num={"score": 3}),
                hide_index=True,
                width="stretch",
                height=table_height(len(pairs)),
            )
            st.caption("1 = the two columns are related in the release as in the real data.")


def download_buttons(run_id: str, *, key: str, eager: bool = False) -> None:
    """report.json, report.html and audit_card.md of a run. ``eager`` reads them now (stored
    evaluation reports: a small read); otherwise each is produced when its button is clicked
    (study runs: the HTML is rendered from the stored report)."""
    mimes = {
        "report.json": "application/json",
        "report.html": "text/html",
        "audit_card.md": "text/markdown",
    }
    files = service.report_files(get_store(), run_id) if eager else None
    if eager and not files:
        st.info("This run has no report to download.")
        return
    st.subheader("Download")
    cols = st.columns(len(mimes))
    for col, (name, mime) in zip(cols, mimes.items()):
        data: Any
        if files is not None:
            data = files.get(name, b"")
        else:

            def produce(name: str = name) -> bytes:
                out = service.report_files(get_store(), run_id).get(name)
                return out if out is not None else b"This run has no report.\n"

            data = partial(safe_bytes, produce)
        col.download_button(
            f"Download {name}",
            data=data,
            file_name=f"{run_id[:8]}-{name}",
            mime=mime,
            key=f"{key}-download-{name}",
            on_click="ignore",
            icon=":material/download:",
        )


# --------------------------------------------------------------------------------------------------
# One run
# --------------------------------------------------------------------------------------------------


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def _run_report(url: str, run_id: str) -> tuple[Any, Any]:
    store = get_store()
    return service.report_for_run(store, run_id), service.exposed_records(store, run_id)


def show_run(run_id: str, *, key: str) -> None:
    """A run's status, error, numbers, parameters, results, reports and (on demand) its report."""
    store = get_store()
    d = service.run_details(store, run_id)
    run = d["run"]
    s = run.summary
    seed = seed_label(run.seed, s.get("seed_index"))
    st.markdown(
        f"**{d['label']}** · study `{run.study}` · {seed} · "
        f"{STATUS_ICONS.get(run.status, '')} {run.status} · run `{run.id}`"
    )
    if run.status in ("queued", "running"):
        st.progress(float(run.progress or 0.0), text=status_line(service.run_status(store, run_id)))
    if run.error:
        st.error(f"Error: {run.error}", icon=":material/error:")
    if run.status == "failed" and st.button(
        "Re-queue this run", key=f"{key}-requeue-{run_id}", icon=":material/replay:"
    ):
        service.requeue(store, run_id)
        st.rerun()
    if run.status == "done":
        c1, c2, c3 = st.columns(3)
        c1.metric(
            "Risk",
            pct(s.get("risk")),
            help=f"{s.get('risk_definition', 'worst')}: from {s.get('risk_attack') or 'n/a'}; "
            f"{risk(s.get('risk'), s.get('risk_ci_low'), s.get('risk_ci_high'))}",
        )
        c2.metric("Utility", num(s.get("utility")), help=str(s.get("utility_metric", "")))
        c3.metric("Took", duration(s.get("seconds")))
    with st.expander("Parameters and provenance"):
        st.json(
            {
                "generator": run.generator,
                "params": run.params,
                "seed": run.seed,
                "code_version": run.code_version,
                "worker": run.worker_id,
                "created_at": run.created_at.isoformat(),
                "finished_at": None if run.finished_at is None else run.finished_at.isoformat(),
                "data_fingerprints": run.data_fingerprints,
                "summary": s,
            },
            expanded=False,
        )
    if not d["results"].empty:
        st.dataframe(
            service.results_display(d["results"]),
            hide_index=True,
            width="stretch",
            height=table_height(len(d["results"])),
        )
    if "report" in d["artefacts"]:
        download_buttons(run_id, key=key)
        if st.toggle("Show the full audit report", key=f"{key}-full-{run_id}"):
            report, exposed = _run_report(store_key(), run_id)
            if report is not None:
                show_report(
                    report, run_id=run_id, key=f"{key}-report", exposed=exposed, downloads=False
                )
    elif run.status == "done":
        st.caption("This run has no stored report.")
