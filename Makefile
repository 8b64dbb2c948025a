# The two set-up commands of the README: `make demo` and `make test`.
# Each creates .venv and installs fastimport (with its compiled core) if needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-test

.PHONY: demo test lint bench bench-check chaos fuzz clean

$(STAMP): pyproject.toml setup.py fastimport/_core.pyx $(wildcard fastimport/_core_*.pxi)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

demo: $(STAMP)
	$(VENV)/bin/fastimport demo

test: $(STAMP)
	sh scripts/system-deps.sh
	$(PY) -m ruff check fastimport tests bench
	$(PY) -m ruff format --check fastimport tests bench
	$(PY) -m mypy
	$(PY) -m pytest

# The long chaos run: 50 kills / faulty imports per test (the test run samples 5); CHAOS_SEED=N replays one.
CHAOS_RUNS ?= 50
# Hostile bytes too: FUZZ_EXAMPLES hypothesis examples per property (40 in the test run).
FUZZ_EXAMPLES ?= 1000
chaos: $(STAMP)
	CHAOS_RUNS=$(CHAOS_RUNS) $(PY) -m pytest tests/chaos -m chaos -q -s --timeout 3600
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/test_hostile_pages.py tests/test_hostile_tickets.py -q --timeout 3600

# The coverage-guided differential fuzzer (atheris) for FUZZ_SECONDS; a crash is written as crash-*.
FUZZ_SECONDS ?= 600
fuzz: $(STAMP)
	$(PY) -m tests.fuzz.parse --seconds $(FUZZ_SECONDS)

$(VENV)/.installed-bench: $(STAMP)
	$(PY) -m pip install --quiet -e ".[test,bench]"
	touch $@

bench: $(VENV)/.installed-bench
	$(PY) -m bench

# The regression check needs no peer packages (dlt, requests): only fastimport and the shop.
bench-check: $(STAMP)
	$(PY) -m bench --check

clean:
	rm -rf build $(VENV) fastimport/*.so fastimport/_core.c
