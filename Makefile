# Two entry points, both safe on a fresh machine with only Python 3.11 and pip:
#   make run   -> create .venv, install everything, run the main job on the embedded defaults
#   make test  -> create .venv, install everything with test extras, run ruff, mypy and pytest
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
CONSTRAINTS := requirements/constraints.txt
STAMP  := $(VENV)/.synth-audit-installed
OUT    ?= reports/sample
PORT   ?= 8501

.PHONY: run test test-fast install lint typecheck pytest bench clean demo app

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade "pip>=24" setuptools wheel

# Installation order matters: synthcity's metadata pins torch<2.3, so its dependencies are installed
# explicitly under our constraints and synthcity itself with --no-deps (README, "Installation notes").
$(STAMP): $(BIN)/python pyproject.toml $(wildcard requirements/*.txt)
	$(PIP) install -q -c $(CONSTRAINTS) -e ".[test]"
	$(PIP) install -q -c $(CONSTRAINTS) -r requirements/synthcity.txt
	$(PIP) install -q --no-deps -r requirements/synthcity-nodeps.txt
	$(PIP) check >/dev/null 2>&1 || true
	touch $(STAMP)

install: $(STAMP)

# The main job on the embedded defaults (SQLite store in ./.synth_audit): a small demo study of
# generators (re-running skips finished runs), its privacy-utility frontier, the sample release's
# report, then the app (with a worker for tuning runs) on http://localhost:$(PORT).
run: install
	$(BIN)/synth-audit study run samples/randhie/study.toml
	$(BIN)/synth-audit frontier randhie-demo --out $(OUT)/frontier.html
	$(BIN)/synth-audit demo --out $(OUT)
	$(BIN)/synth-audit app --port $(PORT)

app: install
	$(BIN)/synth-audit app --port $(PORT)

lint: install
	$(BIN)/ruff check synth_audit generators metrics app tests benchmarks
	$(BIN)/ruff format --check synth_audit generators metrics app tests benchmarks

typecheck: install
	$(BIN)/mypy synth_audit generators metrics app

pytest: install
	$(BIN)/python -m pytest -q

test: install
	$(BIN)/ruff check synth_audit generators metrics app tests benchmarks
	$(BIN)/ruff format --check synth_audit generators metrics app tests benchmarks
	$(BIN)/mypy synth_audit generators metrics app
	$(BIN)/python -m pytest -q

# The edit loop: lint, types and the tests without the browser (e2e) and slow ones.
test-fast: install
	$(BIN)/ruff check synth_audit generators metrics app tests benchmarks
	$(BIN)/mypy synth_audit generators metrics app
	$(BIN)/python -m pytest -q -m "not e2e and not slow"

bench: install
	$(BIN)/python benchmarks/release_eval.py

clean:
	rm -rf $(VENV) reports .synth_audit .pytest_cache .mypy_cache .ruff_cache
