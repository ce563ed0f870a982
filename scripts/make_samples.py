"""Build the sample datasets under ``samples/`` from data bundled with statsmodels.

Run from the repository root::

    .venv/bin/python scripts/make_samples.py

Nothing is downloaded: both datasets ship inside the ``statsmodels`` wheel
(``statsmodels/datasets/randhie`` and ``statsmodels/datasets/fair``).

For each dataset the script writes, under ``samples/<name>/``:

* ``population.csv`` - the whole cleaned dataset;
* ``train.csv`` / ``control.csv`` - equal-sized, disjoint random draws from the population
  (``train`` is what the synthesizer saw, ``control`` never was);
* ``synthetic.csv`` - rows sampled from an SDV ``GaussianCopulaSynthesizer`` fitted on
  ``train.csv`` only;
* ``meta.json`` - seeds, versions, counts and SHA-256 digests of the CSVs (for tests and for
  checking that a regeneration reproduced the same files).

``audit.toml`` and ``samples/README.md`` are hand-written and not touched by this script.
Every transformation is documented in ``samples/README.md`` and in the functions below.
The output is deterministic: the same package versions and seeds give byte-identical CSVs.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 42  # numpy Generator seed for the splits and the synthesizer's sampling seed
FLOAT_FORMAT = "%.7g"  # the bundled CSVs carry at most 7 significant digits

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


# --------------------------------------------------------------------------------------------
# randhie: RAND Health Insurance Experiment
# --------------------------------------------------------------------------------------------

RANDHIE_TRAIN = 2000
RANDHIE_CONTROL = 2000
RANDHIE_SYNTHETIC = 2000

# audit columns, in file order, with their kinds (the SDV sdtype follows from the kind;
# coinsurance_pct and site are integer codes that SDV treats as categorical, see below)
RANDHIE_COLUMNS = {
    "age": "numeric",
    "sex": "categorical",
    "race": "categorical",
    "site": "categorical",  # integer code 1..6, no names in the package
    "family_size": "numeric",
    "income": "numeric",
    "decision_maker_educ": "numeric",
    "coinsurance_pct": "numeric",  # 5 plan levels: 0, 25, 50, 95, 100
    "individual_deductible": "categorical",
    "log_incentive": "numeric",
    "log_mde_ratio": "numeric",
    "physical_limitation": "categorical",
    "chronic_diseases": "numeric",
    "mental_health_index": "numeric",
    "health": "categorical",
    "md_visits": "numeric",
}
RANDHIE_INT_COLUMNS = ["age", "site", "family_size", "income", "coinsurance_pct", "md_visits"]
# integer-coded columns that the Gaussian copula should sample as categories, so that the
# synthetic release only contains levels that exist (a coinsurance of 37 % is no plan)
RANDHIE_SDV_CATEGORICAL = ["site", "coinsurance_pct"]


def _randhie_src_path() -> Path:
    import statsmodels.datasets.randhie as mod

    return Path(mod.__file__).parent / "src" / "randhie.csv"


def _yes_no_unknown(values: pd.Series, yes: str, no: str) -> pd.Series:
    """Map a 0/1 indicator to labels; fractional values (imputed group means) to "unknown"."""
    out = pd.Series("unknown", index=values.index, dtype=object)
    out[values == 1] = yes
    out[values == 0] = no
    return out


def load_randhie() -> pd.DataFrame:
    """Return the cleaned RAND HIE person-year table (20,190 rows).

    Columns ``person_id`` and ``year`` come first (panel keys); the audit columns follow.
    """
    from statsmodels.datasets import randhie

    core = randhie.load_pandas().data  # the 10 documented columns
    src = pd.read_csv(_randhie_src_path())  # the fuller original extract bundled beside it
    if len(core) != len(src):
        raise SystemExit(f"randhie: {len(core)} rows in load_pandas() but {len(src)} in src/")

    # the two files are row-aligned: check every documented column against the source
    for col in ["mdvis", "idp", "lpi", "fmde", "physlm", "disea", "hlthg", "hlthf", "hlthp"]:
        if not np.allclose(core[col].to_numpy(float), src[col].to_numpy(float), atol=1e-5):
            raise SystemExit(f"randhie: column {col} differs between load_pandas() and src/")
    # lncoins = ln(coins + 1) (src's own `logc` column does not match it, see README)
    if not np.allclose(core["lncoins"], np.log1p(src["coins"]), atol=1e-5):
        raise SystemExit("randhie: lncoins is not ln(1 + coins)")

    # self-rated health: three indicators of a 4-level variable, excellent omitted
    hsum = core["hlthg"] + core["hlthf"] + core["hlthp"]
    if not hsum.isin([0, 1]).all():
        raise SystemExit("randhie: hlthg/hlthf/hlthp are not mutually exclusive")
    health = pd.Series("excellent", index=core.index, dtype=object)
    health[core["hlthg"] == 1] = "good"
    health[core["hlthf"] == 1] = "fair"
    health[core["hlthp"] == 1] = "poor"

    if not core["idp"].isin([0, 1]).all() or not src["female"].isin([0, 1]).all():
        raise SystemExit("randhie: idp/female are expected to be 0/1")

    df = pd.DataFrame(
        {
            "person_id": src["zper"].astype(int),
            "year": src["year"].astype(int),
            # xage is age in (fractional) years in that study year; floor = completed years
            "age": np.floor(src["xage"]).astype(int),
            "sex": np.where(src["female"] == 1, "female", "male"),
            # `black` is 0/1 except for 251 rows holding imputed fractions
            "race": _yes_no_unknown(src["black"], "black", "other"),
            "site": src["site"].astype(int),
            "family_size": src["num"].astype(int),
            "income": src["income"].round().astype(int),  # whole dollars
            "decision_maker_educ": src["educdec"],  # 4 missing, 244 imputed fractions
            "coinsurance_pct": src["coins"].round().astype(int),
            "individual_deductible": np.where(core["idp"] == 1, "yes", "no"),
            "log_incentive": core["lpi"],
            "log_mde_ratio": core["fmde"],
            # physlm is 0/1 except for 1,052 rows holding imputed fractions
            "physical_limitation": _yes_no_unknown(core["physlm"], "yes", "no"),
            "chronic_diseases": core["disea"],
            "mental_health_index": src["mhi"],
            "health": health,
            "md_visits": core["mdvis"].astype(int),
        }
    )
    assert list(df.columns[2:]) == list(RANDHIE_COLUMNS)
    return df


def split_by_person(pop: pd.DataFrame, n_train: int, n_control: int, rng: np.random.Generator):
    """One row per person: shuffle persons, take disjoint groups, pick one year at random each.

    randhie has up to 5 rows (study years) per person, with every column except age,
    family_size and md_visits constant within a person. Drawing whole persons keeps the same
    individual from appearing on both sides of the train/control boundary, and one row per
    person keeps each record one individual, which is what the attacks assume.
    """
    persons = np.sort(pop["person_id"].unique())
    if n_train + n_control > len(persons):
        raise SystemExit("randhie: not enough persons for the requested split sizes")
    order = rng.permutation(persons)
    rows_by_person = pop.groupby("person_id").indices  # person -> positional row indices
    out = []
    for group in (order[:n_train], order[n_train : n_train + n_control]):
        idx = np.array([rng.choice(rows_by_person[p]) for p in group])
        out.append(np.sort(idx))
    return out


# --------------------------------------------------------------------------------------------
# fair: extramarital affairs survey (Redbook, 1974)
# --------------------------------------------------------------------------------------------

FAIR_TRAIN = 1500
FAIR_CONTROL = 1500
FAIR_SYNTHETIC = 1500

FAIR_COLUMNS = {
    "rate_marriage": "categorical",
    "age": "numeric",
    "yrs_married": "numeric",
    "children": "numeric",
    "religious": "categorical",
    "educ": "categorical",
    "occupation": "categorical",
    "occupation_husb": "categorical",
    "affairs": "numeric",
}

# codings as given in statsmodels.datasets.fair.NOTE
RATE_MARRIAGE = {1: "very_poor", 2: "poor", 3: "fair", 4: "good", 5: "very_good"}
RELIGIOUS = {1: "not", 2: "mildly", 3: "fairly", 4: "strongly"}
EDUC = {
    9: "grade_school",
    12: "high_school",
    14: "some_college",
    16: "college_graduate",
    17: "some_graduate_school",
    20: "advanced_degree",
}
OCCUPATION = {
    1: "student",
    2: "farming_semiskilled_unskilled",
    3: "white_collar",
    4: "teacher_nurse_artist_technician",
    5: "managerial_business",
    6: "professional_advanced_degree",
}


def _map_codes(values: pd.Series, mapping: dict[int, str], name: str) -> pd.Series:
    codes = values.round().astype(int)
    unknown = sorted(set(codes) - set(mapping))
    if unknown or not np.allclose(values, codes):
        raise SystemExit(f"fair: column {name} has codes outside the documented coding: {unknown}")
    return codes.map(mapping)


def load_fair() -> pd.DataFrame:
    """Return the cleaned affairs survey (6,366 rows, one row per respondent)."""
    from statsmodels.datasets import fair

    raw = fair.load_pandas().data
    df = pd.DataFrame(
        {
            "rate_marriage": _map_codes(raw["rate_marriage"], RATE_MARRIAGE, "rate_marriage"),
            # age, yrs_married, children are interval mid-points (17.5, 5.5, ...): keep floats
            "age": raw["age"],
            "yrs_married": raw["yrs_married"],
            "children": raw["children"],
            "religious": _map_codes(raw["religious"], RELIGIOUS, "religious"),
            "educ": _map_codes(raw["educ"], EDUC, "educ"),
            "occupation": _map_codes(raw["occupation"], OCCUPATION, "occupation"),
            "occupation_husb": _map_codes(raw["occupation_husb"], OCCUPATION, "occupation_husb"),
            "affairs": raw["affairs"],
        }
    )
    assert list(df.columns) == list(FAIR_COLUMNS)
    return df


def split_by_row(n_rows: int, n_train: int, n_control: int, rng: np.random.Generator):
    order = rng.permutation(n_rows)
    return np.sort(order[:n_train]), np.sort(order[n_train : n_train + n_control])


# --------------------------------------------------------------------------------------------
# synthesizer and writing
# --------------------------------------------------------------------------------------------


def synthesize(
    train: pd.DataFrame,
    kinds: dict[str, str],
    int_columns: list[str],
    sdv_categorical: list[str],
    n_rows: int,
    seed: int,
    sdv_metadata_out: dict,
) -> pd.DataFrame:
    """Fit SDV 2.0's GaussianCopulaSynthesizer on ``train`` and sample ``n_rows`` rows.

    sdtypes are set explicitly (never left to detection); integer columns get
    ``decimal_places=0``. SDV's defaults enforce the training min/max and decimal places.
    Sampling is seeded through the synthesizer's ``_set_random_state`` (SDV otherwise uses its
    own fixed seed, 73251, on the first sample after fit).
    """
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    md = Metadata.detect_from_dataframes({"t": train}, infer_keys=None)
    for col, kind in kinds.items():
        if kind == "categorical" or col in sdv_categorical:
            md.update_column(col, table_name="t", sdtype="categorical")
        else:
            extra = {"decimal_places": 0} if col in int_columns else {}
            md.update_column(col, table_name="t", sdtype="numerical", **extra)
    md.validate()
    sdv_metadata_out.update(md.to_dict())
    np.random.seed(seed)  # belt and braces: any legacy global-RNG use inside fit
    synth = GaussianCopulaSynthesizer(md)
    synth.fit({"t": train})
    synth._set_random_state(seed)
    out = synth.sample(n_rows)["t"]
    out = out[list(train.columns)].reset_index(drop=True)
    for col in int_columns:
        if out[col].isna().any():
            raise SystemExit(f"synthetic column {col} has missing values")
        out[col] = out[col].astype(int)
    return out


def write_csv(df: pd.DataFrame, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def exact_duplicates(df: pd.DataFrame) -> dict[str, int]:
    dup_later = int(df.duplicated().sum())
    return {
        "rows": len(df),
        "distinct_rows": len(df) - dup_later,
        "rows_repeating_an_earlier_row": dup_later,
        "rows_in_a_duplicate_group": int(df.duplicated(keep=False).sum()),
    }


def rows_found_in(a: pd.DataFrame, b: pd.DataFrame) -> int:
    """How many rows of ``a`` equal (all columns) at least one row of ``b``."""
    keys_b = set(map(tuple, b.astype(str).itertuples(index=False)))
    return int(sum(tuple(r) in keys_b for r in a.astype(str).itertuples(index=False)))


def versions() -> dict[str, str]:
    import sdv
    import statsmodels

    return {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "statsmodels": statsmodels.__version__,
        "sdv": sdv.__version__,
    }


def build(
    name: str,
    population: pd.DataFrame,
    audit_cols: list[str],
    train_idx: np.ndarray,
    control_idx: np.ndarray,
    kinds: dict[str, str],
    int_columns: list[str],
    sdv_categorical: list[str],
    n_synth: int,
    extra: dict,
) -> dict:
    out_dir = SAMPLES / name
    # disjointness by population row index (and below by person where there is one)
    if len(set(train_idx) & set(control_idx)) != 0:
        raise SystemExit(f"{name}: train and control share population rows")
    train = population.iloc[train_idx][audit_cols].reset_index(drop=True)
    control = population.iloc[control_idx][audit_cols].reset_index(drop=True)
    sdv_metadata: dict = {}
    synthetic = synthesize(train, kinds, int_columns, sdv_categorical, n_synth, SEED, sdv_metadata)

    digests = {
        "population.csv": write_csv(population, out_dir / "population.csv"),
        "train.csv": write_csv(train, out_dir / "train.csv"),
        "control.csv": write_csv(control, out_dir / "control.csv"),
        "synthetic.csv": write_csv(synthetic, out_dir / "synthetic.csv"),
    }
    # compare what a reader of the files sees (values after the CSV round trip)
    train, control, synthetic = (
        pd.read_csv(out_dir / f) for f in ("train.csv", "control.csv", "synthetic.csv")
    )
    meta = {
        "dataset": name,
        "seed": SEED,
        "versions": versions(),
        "columns": kinds,
        "rows": {
            "population": len(population),
            "train": len(train),
            "control": len(control),
            "synthetic": len(synthetic),
        },
        "train_population_rows": [int(i) for i in train_idx],
        "control_population_rows": [int(i) for i in control_idx],
        "train_control_shared_population_rows": 0,
        "duplicates_population_all_columns": exact_duplicates(population),
        "duplicates_population_audit_columns": exact_duplicates(population[audit_cols]),
        "duplicates_train": exact_duplicates(train),
        "control_rows_equal_to_some_train_row": rows_found_in(control, train),
        "synthetic_rows_equal_to_some_train_row": rows_found_in(synthetic, train),
        "synthetic_rows_equal_to_some_control_row": rows_found_in(synthetic, control),
        "synthesizer": {
            "class": "sdv.single_table.GaussianCopulaSynthesizer",
            "parameters": "defaults (enforce_min_max_values=True, enforce_rounding=True)",
            "fitted_on": "train.csv",
            "sampling_seed": SEED,
            "sdv_metadata": sdv_metadata,
        },
        "sha256": digests,
        **extra,
    }
    text = json.dumps(meta, indent=1)
    # keep the long row-index lists on one line each
    text = re.sub(
        r"\[\n\s*(\d[\d,\s]*?)\n\s*\]",
        lambda m: "[" + re.sub(r"\s+", "", m.group(1)).replace(",", ", ") + "]",
        text,
    )
    (out_dir / "meta.json").write_text(text + "\n")
    return meta


def main() -> None:
    warnings.filterwarnings("ignore", category=FutureWarning)
    # SDV asks to save metadata to JSON; it is recorded in meta.json instead
    warnings.filterwarnings("ignore", message=".*save_to_json.*")

    # randhie ------------------------------------------------------------------------------
    pop = load_randhie()
    rng = np.random.default_rng(SEED)
    tr, co = split_by_person(pop, RANDHIE_TRAIN, RANDHIE_CONTROL, rng)
    shared_persons = set(pop["person_id"].iloc[tr]) & set(pop["person_id"].iloc[co])
    if shared_persons:
        raise SystemExit("randhie: a person is in both train and control")
    from statsmodels.datasets import randhie

    raw = randhie.load_pandas().data
    meta_r = build(
        "randhie",
        pop,
        list(RANDHIE_COLUMNS),
        tr,
        co,
        RANDHIE_COLUMNS,
        RANDHIE_INT_COLUMNS,
        RANDHIE_SDV_CATEGORICAL,
        RANDHIE_SYNTHETIC,
        {
            "persons": int(pop["person_id"].nunique()),
            "train_control_shared_persons": 0,
            "duplicates_statsmodels_load_pandas_10_columns": exact_duplicates(raw),
        },
    )

    # fair ---------------------------------------------------------------------------------
    fpop = load_fair()
    rng = np.random.default_rng(SEED)
    tr, co = split_by_row(len(fpop), FAIR_TRAIN, FAIR_CONTROL, rng)
    meta_f = build(
        "fair",
        fpop,
        list(FAIR_COLUMNS),
        tr,
        co,
        FAIR_COLUMNS,
        [],
        [],
        FAIR_SYNTHETIC,
        {},
    )

    for meta in (meta_r, meta_f):
        d = meta["dataset"]
        print(f"{d}: rows {meta['rows']}")
        print(f"  population duplicates (all columns): {meta['duplicates_population_all_columns']}")
        print(
            f"  population duplicates (audit cols):  {meta['duplicates_population_audit_columns']}"
        )
        if "duplicates_statsmodels_load_pandas_10_columns" in meta:
            print(
                f"  statsmodels 10-column duplicates:    {meta['duplicates_statsmodels_load_pandas_10_columns']}"
            )
        print(f"  train duplicates: {meta['duplicates_train']}")
        print(
            f"  control rows equal to a train row:   {meta['control_rows_equal_to_some_train_row']}"
        )
        print(
            f"  synthetic rows equal to a train row: {meta['synthetic_rows_equal_to_some_train_row']}"
        )
        print(
            f"  synthetic rows equal to a control row: {meta['synthetic_rows_equal_to_some_control_row']}"
        )
        for f in ("population.csv", "train.csv", "control.csv", "synthetic.csv"):
            print(f"  {f}: {(SAMPLES / d / f).stat().st_size} bytes")


if __name__ == "__main__":
    main()
