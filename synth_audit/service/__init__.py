"""The thin API the Streamlit app calls: enqueue work, read where it stands, read results back.

The app never runs long work in its script. It *enqueues* runs in the result store and a worker
(``synth-audit worker``, started by ``synth-audit app`` unless told otherwise) executes them; the page
polls :func:`run_status`. The package is split by job; this module re-exports the app's API:

:mod:`~synth_audit.service.uploads`
    Read uploaded tables (CSV or Parquet; never unpickled), validate them together
    (:func:`check_release`), infer column kinds and offer the threat model's defaults.
:mod:`~synth_audit.service.evaluations`
    Release evaluations (the *Evaluate a release* view). :func:`submit_evaluation` writes the three
    tables as content-addressed Parquet inputs in the store and adds a run to the study
    :data:`EVALUATIONS_STUDY` with generator ``"release"`` and params ``{"kind":
    "release_evaluation", "inputs": {...}, "config": {...}, "label": ...}``; the same evaluation
    twice finds the first run (:class:`Submission`). :func:`execute_release_evaluation` is what the
    worker runs for such a run; it writes the artefacts ``report`` (one row: the report's JSON, HTML
    and audit card), ``per_record`` and ``exposed_records``, and the usual result rows.
:mod:`~synth_audit.service.tuning`
    Tuning runs (the *Tune a generator* view): :func:`generator_param_fields` (the fields the form
    offers, hints declared by the generator) and :func:`submit_tuning_run`, which adds one run (a
    generator, its parameters, a seed index) to the study of a shipped sample
    (``samples/<dataset>/study.toml``, e.g. ``randhie-demo``), so the new run lands on the same
    frontier as the study's earlier runs and is evaluated in exactly the same way.
:mod:`~synth_audit.service.readback`
    :func:`list_runs_frame` (one page of runs, newest first, without touching artefacts),
    :func:`run_status`, :func:`frontier_data`, :func:`run_details`, :func:`report_for_run`,
    :func:`report_files` (the report.json / report.html / audit_card.md of any run that has a
    report), :func:`exposed_records` and :func:`compare_runs`.
:mod:`~synth_audit.service.samples`
    The shipped sample releases and their configs.

Callers use the names here (``service.list_runs_frame``), not the submodules', so a test may replace
one on this module. Every function raises :class:`~synth_audit.errors.SynthAuditError` (with a
message a user can act on) for anything a user can cause; the app shows that message and nothing
else. The service may import the study, store, report and frontier layers; nothing below imports it.
"""

from __future__ import annotations

from synth_audit.service._common import (
    DEFAULT_MAX_UPLOAD_MB,
    EVALUATIONS_STUDY,
    MAX_UPLOAD_ENV,
    RELEASE_GENERATOR,
    RELEASE_KIND,
    ROLES,
    STORE_ENV,
    is_release_evaluation,
    max_upload_bytes,
    open_app_store,
    samples_root,
)
from synth_audit.service.evaluations import (
    Submission,
    enqueue_evaluation,
    execute_release_evaluation,
    submit_evaluation,
)
from synth_audit.service.readback import (
    RunsPage,
    RunStatusView,
    compare_runs,
    describe_run,
    exposed_records,
    format_metric,
    frontier_data,
    is_rate_metric,
    list_runs_frame,
    report_files,
    report_for_run,
    requeue,
    results_display,
    run_details,
    run_label,
    run_status,
    seed_text,
    study_names,
)
from synth_audit.service.samples import sample_config, sample_release, sample_releases
from synth_audit.service.tuning import (
    ParamField,
    enqueue_run,
    enqueue_tuning_run,
    generator_choices,
    generator_param_fields,
    submit_run,
    submit_tuning_run,
    tuning_datasets,
    tuning_spec,
)
from synth_audit.service.uploads import (
    COLUMN_KINDS,
    ReleaseCheck,
    check_release,
    default_threat_model,
    inferred_kinds,
    load_upload,
)
from synth_audit.study.tasks import read_input

__all__ = [
    "COLUMN_KINDS",
    "DEFAULT_MAX_UPLOAD_MB",
    "EVALUATIONS_STUDY",
    "MAX_UPLOAD_ENV",
    "RELEASE_GENERATOR",
    "RELEASE_KIND",
    "ROLES",
    "STORE_ENV",
    "ParamField",
    "ReleaseCheck",
    "RunStatusView",
    "RunsPage",
    "Submission",
    "check_release",
    "compare_runs",
    "default_threat_model",
    "describe_run",
    "enqueue_evaluation",
    "enqueue_run",
    "enqueue_tuning_run",
    "execute_release_evaluation",
    "exposed_records",
    "format_metric",
    "frontier_data",
    "generator_choices",
    "generator_param_fields",
    "inferred_kinds",
    "is_rate_metric",
    "is_release_evaluation",
    "list_runs_frame",
    "load_upload",
    "max_upload_bytes",
    "open_app_store",
    "read_input",
    "report_files",
    "report_for_run",
    "requeue",
    "results_display",
    "run_details",
    "run_label",
    "run_status",
    "sample_config",
    "sample_release",
    "sample_releases",
    "samples_root",
    "seed_text",
    "study_names",
    "submit_evaluation",
    "submit_run",
    "submit_tuning_run",
    "tuning_datasets",
    "tuning_spec",
]
