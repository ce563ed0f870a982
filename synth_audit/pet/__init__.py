"""PET search: privacy settings along the privacy-utility frontier (issue 15).

* :mod:`synth_audit.pet.spec`: the search file (``search.toml``), validated whole;
* :mod:`synth_audit.pet.search`: :func:`run_search`, Optuna ask-and-tell whose trials are study runs;
* :mod:`synth_audit.pet.recommend`: candidates near the front, confirmed with more seeds;
* :mod:`synth_audit.pet.anonymise`: model-guided k-anonymisation of training data (Goldsteen et al.);
* :mod:`synth_audit.pet.minimise`: data minimisation (Goldsteen et al.; apt fails here, see there);
* :mod:`synth_audit.pet.training`: both applied to a classifier's training data (its ``anonymise_k``,
  ``minimise_accuracy`` and ``quasi_identifiers``), so a search can set them;
* :mod:`synth_audit.pet.background`: a search in a background process (the app).
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
