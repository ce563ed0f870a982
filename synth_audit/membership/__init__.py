"""Membership inference: the shared scoring engine.

Every membership attack, whatever the target, reduces to scores for known members (label 1) and
known non-members (label 0), a higher score meaning "more likely a member".
:class:`MembershipResult` turns them into ROC, AUC with a CI, TPR at fixed FPRs with exact CIs,
the most exposed records and an empirical ε lower bound; :mod:`.stats` holds the statistics.
"""

from __future__ import annotations

from synth_audit.membership.result import MembershipResult, per_record_frame
from synth_audit.membership.stats import (
    EpsilonBound,
    TprAtFpr,
    auc,
    auc_ci,
    check_scores_labels,
    clopper_pearson,
    downsample_roc,
    epsilon_lower_bound,
    epsilon_lower_bound_from_scores,
    roc_curve,
    tpr_at_fpr,
)

__all__ = [
    "EpsilonBound",
    "MembershipResult",
    "TprAtFpr",
    "auc",
    "auc_ci",
    "check_scores_labels",
    "clopper_pearson",
    "downsample_roc",
    "epsilon_lower_bound",
    "epsilon_lower_bound_from_scores",
    "per_record_frame",
    "roc_curve",
    "tpr_at_fpr",
]

# Attacks (appended by the membership-attacks work): no-box attacks on a release, target
# (challenge record) selection, black-box shadow modelling on a generator.
from synth_audit.membership.nobox import (
    MIN_REFERENCE_ROWS,
    NOBOX_ATTACKS,
    dcr_mia,
    domias_mia,
    run_nobox_attacks,
)
from synth_audit.membership.selection import (
    ChallengeSelection,
    TargetSelection,
    isolation_scores,
    select_challenges,
    select_targets,
)
from synth_audit.membership.shadow import (
    ChallengeFeaturizer,
    ShadowAttackRun,
    ShadowTimings,
    TargetFeaturizer,
    run_shadow_attack,
    run_shadow_task,
    shadow_attack,
)

__all__ += [
    "MIN_REFERENCE_ROWS",
    "NOBOX_ATTACKS",
    "ChallengeFeaturizer",
    "ChallengeSelection",
    "ShadowAttackRun",
    "ShadowTimings",
    "TargetFeaturizer",
    "TargetSelection",
    "dcr_mia",
    "domias_mia",
    "isolation_scores",
    "run_nobox_attacks",
    "run_shadow_attack",
    "run_shadow_task",
    "select_challenges",
    "select_targets",
    "shadow_attack",
]
