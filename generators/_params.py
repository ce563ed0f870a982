"""Parameter constraints: moved to :mod:`synth_audit.validation` (the one validation module)."""

from synth_audit.validation import *  # noqa: F403
from synth_audit.validation import (  # noqa: F401
    BOOL,
    DICT,
    INT_TUPLE,
    NON_NEGATIVE_INT,
    NONE,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    STR,
    Constraint,
    Interval,
    Options,
    Predicate,
    TypeIs,
    check_params,
    param_error,
)
