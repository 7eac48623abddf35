# The two commands: `make demo` and `make test`. Both bootstrap the machine first (scripts/bootstrap.sh).
VENV := .venv
PYTHON := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: bootstrap demo dev test fuzz bench bench-load lint readme clean

bootstrap:
	bash scripts/bootstrap.sh

demo:
	bash scripts/bootstrap.sh
	$(PYTHON) scripts/demo.py

# The demo served by Django's runserver with DEBUG on, reloading at each change of the code.
dev:
	bash scripts/bootstrap.sh
	$(PYTHON) scripts/demo.py --dev

test:
	bash scripts/bootstrap.sh --browser --kubectl
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The property and fuzz tests (Hypothesis, schemathesis) FUZZ_RUNS times with fresh draws each
# time; CI draws the same examples for a given commit (tests/conftest.py).
FUZZ_RUNS ?= 5
fuzz:
	bash scripts/bootstrap.sh
	for run in $$(seq $(FUZZ_RUNS)); do env -u CI $(VENV)/bin/pytest -m hypothesis -p no:randomly $(PYTEST_ARGS) || exit 1; done

# scripts/bench.py, then the memory figures deploy/'s requests and limits come from (bench_sizing.py),
# then what the history costs (bench_history.py).
# `make bench BENCH_ARGS=--quick`: a shorter run of scripts/bench.py.
bench: bootstrap
	$(PYTHON) scripts/bench.py $(BENCH_ARGS)
	$(PYTHON) scripts/bench_sizing.py
	$(PYTHON) scripts/bench_history.py

# Load, soak and faults against the demo at 5,000 workloads (about an hour); a quick try:
# make bench-load BENCH_LOAD_ARGS='--workloads 300 --soak-minutes 2 --users 8,32'
BENCH_LOAD_ARGS ?=
bench-load: bootstrap
	$(PYTHON) scripts/bench_load.py $(BENCH_LOAD_ARGS)

lint: bootstrap
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# README.md's "Checks" reference, rewritten from the checks' docstrings (scripts/readme_checks.py).
readme: bootstrap
	$(PYTHON) scripts/readme_checks.py

# Removes what runs leave behind; keeps .venv (delete it by hand to reinstall from scratch).
clean:
	rm -rf var staticfiles bench-results.json bench-load-results.json bench-sizing-results.json .pytest_cache .ruff_cache .hypothesis
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
