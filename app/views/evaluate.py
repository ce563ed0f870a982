"""Evaluate a release: train, synthetic and control tables in; the three criteria, exposed records,
utility, warnings and the reports out. The audit is queued and a worker runs it."""

from __future__ import annotations

import hashlib
from functools import partial
from typing import Any

import streamlit as st

from app import common as ui
from synth_audit import service
from synth_audit.errors import SynthAuditError

UPLOAD_TYPES = ["csv", "tsv", "txt", "parquet", "pq"]
ROLE_HELP = {
    "train": "The real records the release was made from: the people at risk.",
    "synthetic": "The release: the synthetic records to be published or shared.",
    "control": "Real records from the same population that were never used to make the release "
    "(a holdout). They tell what the population reveals anyway.",
}
THREAT_MODEL = """
Each attack is run against the **training** records and, identically, against the **control**
records the release never saw; the risk is what the release adds beyond the control, with a
confidence interval. A naive **baseline** (random guesses) shows whether the attack works at all.

- **Singling out**: the attacker writes rules from the release (e.g. *age ≥ 61 and site = 4*) that
  match exactly one synthetic record, hoping they isolate one real person.
- **Linkability**: the attacker holds two separate pieces of information about the same people,
  for instance demographics from one database (columns **A**) and health facts from another
  (columns **B**). Using the release as a bridge, the attacker tries to join them. Choose A and B as
  what an attacker could plausibly hold; by default the columns are split in half.
- **Inference**: the attacker knows the other columns of a person and guesses a **secret** column
  from the closest synthetic record. Each secret is attacked in turn; by default every column is.

Every attack is a lower bound: a stronger attacker may do better. Identifier and free-text columns
are excluded from all attacks.
"""


def _read_uploads() -> tuple[dict[str, Any], dict[str, str], str] | None:
    """The three uploaded tables (each read once per upload), or None while one is missing/bad."""
    limit = service.max_upload_bytes()
    cache: dict[str, Any] = st.session_state.setdefault("eval.parsed", {})
    cols = st.columns(3)
    frames: dict[str, Any] = {}
    names: dict[str, str] = {}
    ids = []
    for col, role in zip(cols, service.ROLES):
        with col:
            up = st.file_uploader(
                f"{role.capitalize()} file",
                type=UPLOAD_TYPES,
                key=f"eval.upload.{role}",
                help=ROLE_HELP[role] + f" CSV or Parquet, at most {limit // 1_000_000} MB.",
                max_upload_size=max(1, limit // 1_000_000),
            )
            if up is None:
                continue
            cache_key = f"{role}:{up.file_id}:{up.name}"
            if cache_key not in cache:
                try:
                    cache[cache_key] = service.load_upload(
                        up.getvalue(), up.name, role=role, max_bytes=limit
                    )
                except SynthAuditError as exc:
                    cache[cache_key] = exc
            value = cache[cache_key]
            if isinstance(value, SynthAuditError):
                st.error(str(value), icon=":material/error:")
                continue
            st.caption(f"{len(value):,} rows × {value.shape[1]} columns")
            frames[role], names[role] = value, up.name
            ids.append(cache_key)
    missing = [r for r in service.ROLES if r not in frames]
    if missing:
        st.info(
            f"Upload the {', '.join(missing)} file{'s' if len(missing) > 1 else ''} "
            "(CSV with a header row, or Parquet; files are read as tables, never unpickled)."
        )
        return None
    return frames, names, hashlib.sha256("|".join(ids).encode()).hexdigest()[:12]


@st.cache_data(max_entries=8, show_spinner=False)
def _check(
    train: Any, synthetic: Any, control: Any, kinds: dict[str, str], names: dict[str, str]
) -> service.ReleaseCheck:
    return service.check_release(train, synthetic, control, column_kinds=kinds, names=names)


def _inputs() -> tuple[dict[str, Any], dict[str, str], dict[str, Any], str, str] | None:
    """(frames, names, base config, label, source key) of the chosen data, or None."""
    source = st.radio(
        "Data",
        ["Use a sample", "Upload files"],
        horizontal=True,
        key="eval.source",
        help="The samples ship with synth-audit: real public data, a synthetic release made from "
        "it and a control set.",
    )
    if source == "Use a sample":
        samples = service.sample_releases()
        if not samples:
            st.warning("No sample ships with this installation; upload files instead.")
            return None
        name = st.selectbox(
            "Sample",
            samples,
            index=0
            if "eval.sample" in st.session_state or "randhie" not in samples
            else samples.index("randhie"),
            key="eval.sample",
        )
        frames = ui.sample_release(name)
        names = {r: f"samples/{name}/{r}.csv" for r in service.ROLES}
        return frames, names, ui.sample_config(name), f"sample {name}", f"sample-{name}"
    read = _read_uploads()
    if read is None:
        return None
    frames, names, key = read
    return frames, names, {}, f"upload {names['synthetic']}", f"upload-{key}"


KIND_LABELS = {
    "numeric": "numeric",
    "categorical": "categorical",
    "boolean": "boolean",
    "datetime": "date / time",
    "id": "identifier (left out of the attacks)",
}


@st.cache_data(max_entries=8, show_spinner=False)
def _inferred(train: Any) -> dict[str, tuple[str, str]]:
    return service.inferred_kinds(train)


def _kind_label(kind: str, *, detected: str) -> str:
    return KIND_LABELS[kind] + (" (detected)" if kind == detected else "")


def _kinds_editor(train: Any, base: dict[str, str], key: str) -> dict[str, str]:
    """One selector per column, preset to the kind synth-audit detected (or the sample's config);
    returns the ``[columns]`` overrides to audit with. Offered before the tables are checked, so a
    column refused for its detected kind can be declared another kind."""
    try:
        detected = _inferred(train)
    except SynthAuditError:
        return dict(base)  # the check below reports what is wrong with the table
    overrides = {c: k for c, k in base.items() if c not in detected}
    options = list(service.COLUMN_KINDS)
    changed = sum(1 for c, k in base.items() if c in detected and k != detected[c][0])
    with st.expander(
        f"Column kinds: {len(detected)} columns"
        + (f", {changed} declared by the settings" if changed else "")
        + " (change any that is wrong)",
        icon=":material/view_column:",
    ):
        st.caption(
            "synth-audit reads each column as one kind; the attacks and metrics treat the kinds "
            "differently (numbers are compared by distance, categories only by equality). Integer "
            "codes (occupation, region) are categories; person or record ids are identifiers and "
            "are left out of the attacks, and a release need not contain them."
        )
        grid = st.columns(4)
        for i, (col, (kind, why)) in enumerate(detected.items()):
            preset = str(base.get(col, kind))
            chosen: str | None = grid[i % 4].selectbox(
                col,
                options,
                index=options.index(preset) if preset in options else options.index(kind),
                key=f"eval.kind.{key}.{col}",
                format_func=partial(_kind_label, detected=kind),
                help=f"Detected as {KIND_LABELS[kind]}: {why}.",
            )
            if chosen is not None and chosen != kind:
                overrides[col] = chosen
    return overrides


def _settings_form(
    check: service.ReleaseCheck, base: dict[str, Any], key: str
) -> dict[str, Any] | None:
    """The threat model and the audit's settings; the config to run on submit."""
    cols = check.columns
    defaults = service.default_threat_model(cols, base)
    with st.expander("The threat model: what each attack assumes", icon=":material/info:"):
        st.markdown(THREAT_MODEL)
    if check.excluded:
        st.caption(
            f"Excluded from the attacks (identifiers or free text): {', '.join(check.excluded)}."
        )
    for w in check.warnings:
        st.warning(w, icon=":material/warning:")
    so = dict(base.get("singling_out") or {})
    with st.form(f"eval.form.{key}"):
        st.markdown("**Linkability**: the two pieces of information the attacker holds")
        aux_a = st.multiselect(
            "Columns A (first source)", cols, default=defaults["aux_a"], key=f"eval.aux_a.{key}"
        )
        aux_b = st.multiselect(
            "Columns B (second source)", cols, default=defaults["aux_b"], key=f"eval.aux_b.{key}"
        )
        st.markdown("**Inference**: the secrets the attacker tries to learn")
        secrets = st.multiselect(
            "Secret columns (each attacked in turn; the attacker knows all other columns)",
            cols,
            default=defaults["secrets"],
            key=f"eval.secrets.{key}",
        )
        targets = ["(none: skip ML efficacy)", *cols]
        target = st.selectbox(
            "Utility: column a model should predict (ML efficacy)",
            targets,
            index=targets.index(defaults["target"]) if defaults["target"] in cols else 0,
            key=f"eval.target.{key}",
        )
        with st.expander("More settings"):
            a1, a2, a3 = st.columns(3)
            n_so = a1.number_input(
                "Singling-out rules per mode",
                min_value=10,
                max_value=100_000,
                value=int(so.get("n_attacks", 500)),
                step=50,
                key=f"eval.n_so.{key}",
            )
            seed = a2.number_input(
                "Seed",
                min_value=0,
                max_value=2**32 - 1,
                value=int(base.get("seed", 42)),
                key=f"eval.seed.{key}",
            )
            level = a3.selectbox(
                "Confidence level",
                [0.9, 0.95, 0.99],
                index=[0.9, 0.95, 0.99].index(float(base.get("confidence_level", 0.95)))
                if float(base.get("confidence_level", 0.95)) in (0.9, 0.95, 0.99)
                else 1,
                key=f"eval.level.{key}",
            )
        submitted = st.form_submit_button(
            "Run the evaluation", type="primary", icon=":material/play_arrow:"
        )
    if not submitted:
        return None
    problems = []
    if not aux_a or not aux_b:
        problems.append("choose at least one column for each of the linkability sources A and B")
    if set(aux_a) & set(aux_b):
        problems.append(
            f"a column cannot be in both sources A and B ({', '.join(sorted(set(aux_a) & set(aux_b)))})"
        )
    if not secrets:
        problems.append("choose at least one secret column for inference")
    if problems:
        st.error("Cannot run the evaluation: " + "; ".join(problems) + ".")
        return None
    config = {k: v for k, v in base.items() if k != "n_jobs"}
    config.update(
        {
            "seed": int(seed),
            "confidence_level": float(level),
            "singling_out": {**so, "n_attacks": int(n_so)},
            "linkability": {
                **(base.get("linkability") or {}),
                "enabled": True,
                "aux_cols": [list(aux_a), list(aux_b)],
            },
            "inference": {
                **(base.get("inference") or {}),
                "enabled": True,
                "secrets": list(secrets),
            },
            "utility": {
                **(base.get("utility") or {}),
                "target": None if target == targets[0] else target,
            },
        }
    )
    return config


def _kinds_key(kinds: dict[str, str]) -> str:
    return hashlib.sha256(repr(sorted(kinds.items())).encode()).hexdigest()[:8]


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def _report(url: str, run_id: str) -> tuple[Any, Any]:
    store = ui.get_store()
    return service.report_for_run(store, run_id), service.exposed_records(store, run_id)


def _result(run_id: str) -> None:
    store = ui.get_store()
    st.divider()
    st.header("Result")
    s = service.run_status(store, run_id)
    st.caption(f"Run `{run_id}` · {s.label}")
    ui.reused_note(run_id, key="eval")
    if not s.finished:
        ui.progress_fragment(run_id, key="eval")
        return
    if s.status == "failed":
        st.error(f"The evaluation failed: {s.error}", icon=":material/error:")
        if st.button("Try again", key="eval.retry"):
            service.requeue(store, run_id)
            st.rerun()
        return
    report, exposed = _report(ui.store_key(), run_id)
    if report is None:
        st.error("The run is done but has no report artefact; see the Runs page for its details.")
        return
    ui.show_report(report, run_id=run_id, key="eval", exposed=exposed, eager=True)


def main() -> None:
    st.title("Evaluate a release")
    st.write(
        "Give the real training data, the synthetic release made from it and a control set of real "
        "records that were never used. synth-audit attacks the release the way an adversary would "
        "(singling out, linkability, inference) and reports each risk with its confidence interval, "
        "beside a naive baseline and the same attack on the control set."
    )
    chosen = _inputs()
    if chosen is not None:
        frames, names, base, label, key = chosen
        base_kinds = {str(c): str(k) for c, k in (base.get("columns") or {}).items()}
        kinds = _kinds_editor(frames["train"], base_kinds, key)
        try:
            check = _check(frames["train"], frames["synthetic"], frames["control"], kinds, names)
        except SynthAuditError as exc:
            st.error(str(exc), icon=":material/error:")
            check = None
        if check is not None:
            # Other kinds give other usable columns: the form (and its column choices) starts afresh.
            config = _settings_form(check, {**base, "columns": kinds}, f"{key}-{_kinds_key(kinds)}")
            if config is not None:
                sub = service.submit_evaluation(
                    ui.get_store(),
                    train=frames["train"],
                    synthetic=frames["synthetic"],
                    control=frames["control"],
                    config=config,
                    names=names,
                    label=label,
                )
                st.session_state["eval.run_id"] = sub.run_id
                st.session_state["eval.reused"] = (sub.run_id, sub.message)
    run_id = st.session_state.get("eval.run_id")
    if run_id:
        _result(run_id)


with ui.guard("The Evaluate page"):
    main()
