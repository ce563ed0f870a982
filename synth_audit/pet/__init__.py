"""PET search: privacy settings along the privacy-utility frontier (issue 15).

* :mod:`synth_audit.pet.spec`: the search file (``search.toml``), validated whole;
* :mod:`synth_audit.pet.search`: :func:`run_search`, Optuna ask-and-tell whose trials are study runs;
* :mod:`synth_audit.pet.recommend`: candidates near the front, confirmed with more seeds;
* :mod:`synth_audit.pet.anonymise`: k-anonymisation of training data (ai-privacy-toolkit);
* :mod:`synth_audit.pet.minimise`: data minimisation (ai-privacy-toolkit's published method).
"""

from __future__ import annotations

from synth_audit.pet.search import SearchOutcome, Trial, run_search
from synth_audit.pet.spec import SearchSpec, load_search, search_from_mapping

__all__ = [
    "SearchOutcome",
    "SearchSpec",
    "Trial",
    "load_search",
    "run_search",
    "search_from_mapping",
]
