"""Studies: compare generators on one dataset under one evaluation, every run recorded in the store.

    from synth_audit.executors import make_executor
    from synth_audit.store import open_store
    from synth_audit.study import load_study, run_study

    spec = load_study("samples/randhie/study.toml")
    with make_executor("local", max_workers=2) as executor:
        outcome = run_study(spec, store=open_store(), executor=executor)

:mod:`.spec` reads and expands the TOML spec, :mod:`.data` splits the study's data, :mod:`.runner`
executes the runs. Re-running a study skips the runs already done; a study killed mid-way resumes
where it stopped.
"""

from __future__ import annotations

from synth_audit.study.data import StudyData, load_study_data
from synth_audit.study.runner import StudyOutcome, code_version, execute_run, run_study
from synth_audit.study.spec import RunSpec, StudySpec, child_seed, expand, load_study

__all__ = [
    "RunSpec",
    "StudyData",
    "StudyOutcome",
    "StudySpec",
    "child_seed",
    "code_version",
    "execute_run",
    "expand",
    "load_study",
    "load_study_data",
    "run_study",
]
