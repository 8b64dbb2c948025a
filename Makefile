# The two set-up commands of the README: `make demo` and `make test`.
# Each creates .venv and installs fastimport (with its compiled core) if needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-test

.PHONY: demo test lint bench bench-check clean

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
