"""Audit a language model: train a tiny GPT-2 on the sample corpus (API documentation, with
canaries inserted), attack it, and see the canary exposure chart and the documents most exposed."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app import common as ui

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "lm"

st.header("Audit a language model")
st.caption(
    "A tiny GPT-2 is trained here on AWS API documentation (the botocore sample, Apache-2.0) with "
    "random secrets ('canaries') inserted 0, 1, 4 and 16 times. The audit asks which documents "
    "an attacker can tell were in the training text, and whether the secrets can be pulled out."
)

with st.form("lm_audit"):
    c1, c2, c3 = st.columns(3)
    members = c1.number_input("Training documents (members)", 20, 1000, 120, step=20)
    epochs = c2.number_input("Epochs", 1, 50, 8)
    noise = c3.number_input("DP noise multiplier (0: no DP)", 0.0, 10.0, 0.0, step=0.5)
    c4, c5, c6 = st.columns(3)
    per_count = c4.number_input("Canaries per insertion count", 1, 8, 2)
    digits = c5.number_input("Digits per secret", 2, 6, 3)
    seed = c6.number_input("Seed", 0, 2**31 - 1, 0)
    go = st.form_submit_button("Run the audit", type="primary")


def _config() -> dict[str, Any]:
    n = int(members)
    return {
        "target": {
            "kind": "causal_lm",
            "name": "tiny-gpt2-api-docs",
            "recipe": {
                "vocab_size": 1024,
                "n_layer": 2,
                "n_embd": 64,
                "n_head": 2,
                "context": 64,
                "epochs": int(epochs),
                "batch_size": 16,
                "noise_multiplier": float(noise),
            },
        },
        "data": {
            "path": "corpus.csv",
            "text_column": "text",
            "id_column": "doc_id",
            "where": {"source": "operation"},
            "members": n,
            "nonmembers": n,
            "reference": n,
            "seed": int(seed),
        },
        "canaries": {"counts": [0, 1, 4, 16], "per_count": int(per_count), "digits": int(digits)},
        "audit": {"random_state": int(seed)},
    }


if go:
    from synth_audit.lm.audit import audit_lm_from_config

    bar = st.progress(0.0, text="Training the model")

    def progress(step: str, done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"Audit: {step}")

    with ui.guard("The language-model audit"):
        st.session_state["lm_report"] = audit_lm_from_config(
            _config(), base=SAMPLE, source="the form", progress=progress
        )
    bar.empty()

report = st.session_state.get("lm_report")
if report is None:
    st.info("Choose the settings and run the audit (about a minute on two CPU cores).")
    st.stop()

st.subheader("Membership: which documents were in the training text?")
rows = []
for name, m in report.membership.items():
    tpr = next((t for t in m["tpr_at"] if abs(t["target_fpr"] - 0.01) < 1e-12), None)
    base = m.get("baseline") or {}
    rows.append(
        {
            "attack": name,
            "AUC": ui.num(m["auc"]),
            "AUC CI": f"[{m['auc_ci'][0]:.3f}, {m['auc_ci'][1]:.3f}]",
            "TPR at 1% FPR": "-" if tpr is None else ui.pct(tpr["tpr"]),
            "blind baseline AUC": ui.num(base.get("auc")) if base else "-",
        }
    )
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
for w in report.warnings:
    st.warning(w.message)

canaries = report.sections.get("canaries")
if canaries:
    st.subheader("Canary exposure")
    st.write(canaries["summary"])
    for img in canaries["images"]:
        st.image(base64.b64decode(img["data_base64"]), caption=img["alt"])
    per = canaries["tables"][0]
    st.dataframe(pd.DataFrame(per["rows"], columns=per["columns"]), hide_index=True)
ext = report.sections.get("extraction")
if ext:
    st.write(ext["summary"])

st.subheader("The documents most exposed")
membership = report.membership
if membership:
    best = max(membership, key=lambda k: membership[k]["auc"])
    top = membership[best]["top_exposed"][:10]
    corpus = pd.read_csv(SAMPLE / "corpus.csv").set_index("doc_id")
    st.caption(f"Members with the highest score of the strongest attack ({best}).")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "document": t["record_id"],
                    "score": ui.num(t["score"]),
                    "text": str(corpus["text"].get(t["record_id"], ""))[:200],
                }
                for t in top
            ]
        ),
        hide_index=True,
        width="stretch",
    )

model = report.sections.get("model")
if model:
    st.subheader("Utility")
    st.write(model["summary"])
