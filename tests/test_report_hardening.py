"""Issue 7, reporting side: control banners, gate reasons, unmeasurable criteria, interval display,
CSV formula injection, output-directory guard, utility breakdown, one format per quantity."""

from __future__ import annotations

import subprocess
import sys

from synth_audit.report.wording import (
    GENERATOR_PALETTE,
    display_ci,
    fmt_ci,
    fmt_pct,
    fmt_risk,
    generator_colour,
    run_label,
)

# ---- item 25: one format per quantity ------------------------------------------------------------


def test_card_reexports_the_wording_formatters() -> None:
    from synth_audit.report import card

    assert card.fmt_pct is fmt_pct
    assert card.fmt_ci is fmt_ci


def test_fmt_pct_never_prints_none() -> None:
    assert fmt_pct(None) == "n/a"
    assert fmt_pct(float("nan")) == "n/a"
    assert fmt_pct(0.0083) == "0.83 %"
    assert fmt_pct(0.145) == "14.5 %"


def test_generator_colour_is_stable_across_processes_and_distinct_for_shipped() -> None:
    names = ["copy", "leaky", "independent_marginals", "gaussian_copula", "ctgan", "tvae"]
    here = [generator_colour(n) for n in [*names, "my_plugin_gen"]]
    code = (
        "from synth_audit.report.wording import generator_colour as g;"
        f"print(','.join(g(n) for n in {[*names, 'my_plugin_gen']!r}))"
    )
    # A fresh interpreter with another hash seed gives the same colours (no use of hash()).
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"},
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]),
    )
    assert out.stdout.strip().split(",") == here
    assert len(set(here[: len(names)])) == len(names)
    assert all(c in GENERATOR_PALETTE for c in here)


def test_run_label_uses_the_seed_number_not_the_raw_seed() -> None:
    assert (
        run_label("gaussian_copula", {"b": 2, "a": "x"}, 3) == "gaussian_copula(a=x, b=2) · seed #3"
    )
    assert run_label("copy", {}, None) == "copy"


# ---- item 9: display of a zero-width interval ----------------------------------------------------


def test_legacy_zero_width_interval_reads_as_an_upper_bound() -> None:
    # An old report: the whole unclipped interval below 0, clipped to [0, 0], error 0.0083.
    assert fmt_risk(0.0, 0.0, 0.0, 0.0083) == "< 0.83 % [0.00 %, 0.83 %]"
    assert display_ci(0.0, 0.0, 0.0, 0.0083) == (0.0, 0.0083, True)
    # A new report (interval already honest) is shown as it is.
    assert fmt_risk(0.0, 0.0, 0.0083, 0.004) == "0.00 % [0.00 %, 0.83 %]"
    assert fmt_risk(0.0315, 0.0, 0.0777, 0.046) == "3.15 % [0.00 %, 7.77 %]"
