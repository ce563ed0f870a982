"""Audit a model: a trained classifier, attacked for membership and attribute inference.

Either a shipped example (``samples/classifier/*.toml``, a recipe trained here), or your own model
file (.skops with its trusted types, .safetensors with its JSON config, .onnx) with the records it
was trained on, records it never saw and, optionally, the attacker's reference sample. Pickle and
joblib files are refused. The audit runs in this session (small models: seconds to a minute)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app import common as ui
from synth_audit.data import read_table_bytes

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "classifier"


def _show(report: Any) -> None:
    from synth_audit.report.card import render_audit_card
    from synth_audit.report.html import render_html

    target = report.target or {}
    st.subheader(f"{target.get('kind', 'model')} {target.get('name', '')!r}")
    rows = []
    for name, m in report.membership.items():
        tpr = {round(t["target_fpr"], 6): t for t in m["tpr_at"]}
        base = m.get("baseline") or {}
        rows.append(
            {
                "attack": name,
                "AUC": round(m["auc"], 3),
                "AUC CI": ui.ci(*m["auc_ci"]),
                "TPR @ 0.1% FPR": round(tpr[0.001]["tpr"], 3) if 0.001 in tpr else None,
                "TPR @ 1% FPR": round(tpr[0.01]["tpr"], 3) if 0.01 in tpr else None,
                "TPR @ 10% FPR": round(tpr[0.1]["tpr"], 3) if 0.1 in tpr else None,
                "baseline AUC": round(base["auc"], 3) if base else None,
            }
        )
    if rows:
        st.markdown("**Membership attacks** (higher AUC / TPR: more is revealed about members)")
        st.dataframe(pd.DataFrame(rows), hide_index=True, use_container_width=True)
    for sec in report.sections.values():
        with st.expander(sec["title"], expanded=sec["kind"] in ("model", "dp")):
            if sec.get("summary"):
                st.write(sec["summary"])
            finds = [
                {
                    "finding": f["name"],
                    "value": f["value"],
                    "role": f["role"],
                    "reading": f["reading"],
                }
                for f in sec["findings"]
            ]
            if finds:
                st.dataframe(pd.DataFrame(finds), hide_index=True, use_container_width=True)
            for t in sec["tables"]:
                st.caption(t["title"])
                st.dataframe(
                    pd.DataFrame(t["rows"], columns=t["columns"]),
                    hide_index=True,
                    use_container_width=True,
                )
            for w in sec["warnings"]:
                st.warning(w["message"])
    c1, c2, c3 = st.columns(3)
    c1.download_button("report.json", report.to_json(), "report.json", "application/json")
    c2.download_button(
        "report.html", ui.safe_bytes(lambda: render_html(report).encode()), "report.html"
    )
    c3.download_button(
        "audit_card.md", ui.safe_bytes(lambda: render_audit_card(report).encode()), "audit_card.md"
    )


def _progress() -> Any:
    bar = st.progress(0.0, text="Starting")

    def cb(step: str, done: int, total: int) -> None:
        bar.progress(min(1.0, done / max(total, 1)), text=step)

    return cb


st.header("Audit a model")
st.write(
    "How much does a trained classifier reveal about the people in its training set? Membership "
    "attacks (LOSS, confidence, entropy, LiRA, RMIA), each beside a model-free baseline; attribute "
    "inference with the model's outputs; risk factors; the empirical ε beside any claimed ε."
)
source = st.radio(
    "Model", ["A shipped example", "My model file"], horizontal=True, key="model.source"
)

with ui.guard("The model audit"):
    if source == "A shipped example":
        examples = sorted(p.name for p in SAMPLES.glob("*.toml") if p.name != "study.toml")
        choice = st.selectbox("Example", examples, key="model.example")
        st.caption("The example's settings (samples/classifier/" + str(choice) + "):")
        st.code((SAMPLES / str(choice)).read_text(encoding="utf-8"), language="toml")
        if st.button("Run the audit", type="primary", key="model.run_example"):
            from synth_audit.models.audit import audit_model_from_toml

            st.session_state["model.report"] = audit_model_from_toml(
                SAMPLES / str(choice), progress=_progress()
            )
    else:
        model_file = st.file_uploader(
            "Model file (.skops, .safetensors, .onnx; pickle and joblib are refused)",
            key="model.file",
        )
        config_file = st.file_uploader(
            "Its JSON config (for .safetensors)", type=["json"], key="model.config"
        )
        trusted = st.text_input(
            "Trusted types of a .skops file (comma-separated; the audit lists any it finds)",
            key="model.trusted",
        )
        label = st.text_input("Label column (what the model predicts)", key="model.label")
        members_up = st.file_uploader("Training records (members)", key="model.members")
        non_up = st.file_uploader("Records it never saw (non-members)", key="model.nonmembers")
        ref_up = st.file_uploader("Attacker's reference sample (optional)", key="model.reference")
        if st.button("Run the audit", type="primary", key="model.run_upload"):
            from synth_audit.errors import ConfigError
            from synth_audit.models.attacks import MembershipSettings
            from synth_audit.models.audit import audit_model
            from synth_audit.models.loaders import load_model

            if model_file is None or members_up is None or non_up is None or not label:
                raise ConfigError(
                    "Give the model file, the label column, the members and the non-members."
                )
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / Path(model_file.name).name
                path.write_bytes(model_file.getvalue())
                conf = None
                if config_file is not None:
                    conf = Path(tmp) / "config.json"
                    conf.write_bytes(config_file.getvalue())
                target = load_model(
                    path,
                    label=label,
                    trusted=[t.strip() for t in trusted.split(",") if t.strip()],
                    config=conf,
                )
            members = read_table_bytes(members_up.getvalue(), members_up.name)
            nonmembers = read_table_bytes(non_up.getvalue(), non_up.name)
            reference = None if ref_up is None else read_table_bytes(ref_up.getvalue(), ref_up.name)
            st.session_state["model.report"] = audit_model(
                target,
                members=members,
                nonmembers=nonmembers,
                reference=reference,
                settings=MembershipSettings(reference_mode="none"),
                progress=_progress(),
            )
    report = st.session_state.get("model.report")
    if report is not None:
        _show(report)
