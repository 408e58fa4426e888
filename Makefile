# rjsim: two commands on a fresh machine.
#   make run   - set up .venv, install rjsim (runtime dependencies only), run the capacity test
#                of the right with today's funding, end with the answer and where the report is
#   make test  - set up .venv with the test tools and run the whole test suite
#   make regress - check the shipped scenarios' KPIs against the committed references
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCENARIO ?= scenarios/statutory_right.toml
REPLICATIONS ?= 10

.PHONY: run test regress bench bench-memory bench-experiment bench-dask bench-plan bench-uncertainty bench-morris lint typecheck check clean browser fuzz backcast-data

# Two installs: `make run` needs only the runtime dependencies; `make test` adds the test,
# lint and Dask extras. Each stamp is remade when pyproject.toml changes.
RUN_STAMP := $(VENV)/.installed-run

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e ".[dev,dask]"
	touch $(STAMP) $(RUN_STAMP)

# The capacity test exits 1 when the answer is "no" (or not yet known): that is an answer, not
# a failure of `make run`; only 2 (bad input) or worse fails it.
run: $(RUN_STAMP)
	@$(BIN)/rjsim capacity-test $(SCENARIO) --replications $(REPLICATIONS); \
	  status=$$?; [ $$status -le 1 ] || exit $$status

# The report's browser test needs headless Chromium and its driver (Debian packages); they
# are installed when missing and we are root, otherwise the browser test fails saying so.
browser:
	@(command -v chromium >/dev/null && command -v chromedriver >/dev/null) || \
	  { [ "$$(id -u)" = 0 ] && apt-get update && \
	    apt-get install -y --no-install-recommends chromium chromium-driver; } || \
	  echo "warning: chromium/chromium-driver missing and not installed (needs root); the browser test will fail"

test: $(STAMP) browser
	$(BIN)/ruff check rjsim tests
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n auto --dist loadfile

# Regression check of every reference scenario against results/reference/ (docs/developers.md:
# Regression checks); exit 1 on a regression, 2 on missing or corrupted references.
regress: $(RUN_STAMP)
	$(BIN)/rjsim regress

# rjsim against bare SimPy, interleaved, one national replication (issue 13 targets 1-2).
bench: $(RUN_STAMP)
	$(BIN)/rjsim bench --repeats 5

# Peak memory of one national replication at 50 simulated years (target <= 1 GiB).
bench-memory: $(RUN_STAMP)
	$(BIN)/rjsim bench --years 50 --repeats 1 --no-baseline

# 30 replications, national, 5 years, 2 worker processes (target <= 45 s).
bench-experiment: $(RUN_STAMP)
	$(BIN)/rjsim bench --replications 30 --workers 2 --repeats 1

# The same 30 replications on local processes and on a local Dask cluster, interleaved, with
# Dask's cost per task (target: Dask within 15% of processes). Needs the dask extra (make test
# installs it).
bench-dask: $(STAMP)
	$(BIN)/rjsim bench --replications 30 --workers 2 --dask-compare --repeats 3

# The national plan benchmark (issue target: <= 10 minutes on 2 cores); one repeat.
bench-plan: $(RUN_STAMP)
	$(BIN)/rjsim bench --plan --repeats 1

# Parameter uncertainty (issue 15 targets on 2 cores: 64 sets x 5 replications <= 15 minutes;
# Morris screening of every ranged parameter <= 30 minutes). On a busy machine time a fraction
# (e.g. make bench-uncertainty BENCH_SAMPLES=4, make bench-morris BENCH_POINTS=20): both
# extrapolate to the whole design and print CPU time and load average.
BENCH_SAMPLES ?= 64
BENCH_POINTS ?=
bench-uncertainty: $(RUN_STAMP)
	$(BIN)/rjsim bench --uncertainty --samples $(BENCH_SAMPLES) --replications 5 --workers 2

bench-morris: $(RUN_STAMP)
	$(BIN)/rjsim bench --morris --trajectories 10 --workers 2 $(if $(BENCH_POINTS),--points $(BENCH_POINTS))

# The long fuzz campaign (hostile scenario files and area CSVs; docs/developers.md: Hardening): prints
# inputs tried, tracebacks and hangs; failing inputs are kept in fuzz-failures/.
FUZZ_MINUTES ?= 10
fuzz: $(STAMP)
	$(BIN)/python tests/fuzz_campaign.py --minutes $(FUZZ_MINUTES)

lint: $(STAMP)
	$(BIN)/ruff check rjsim tests

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

# The packaged back-cast of the shipped status quo shown in every report's credibility section
# (rjsim/data/backcast_defaults.*); rerun after changing a default the status quo depends on.
backcast-data: $(STAMP)
	$(BIN)/rjsim backcast scenarios/baseline.toml --no-cache -q --out results/backcast_defaults.tmp
	$(BIN)/python -c "from pathlib import Path; from rjsim.report.credibility import package; package(Path('results/backcast_defaults.tmp'), Path('rjsim/data'))"
	rm -rf results/backcast_defaults.tmp
