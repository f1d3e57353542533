# Two commands on a fresh machine: `make demo` (train + report on the embedded synthetic
# faces) and `make test`. Each creates the virtual environment it needs.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python

.PHONY: demo test test-fast bench docs clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/fer-sklearn train --out runs/demo

test: $(VENV)/.installed
	$(PY) -m pytest -q

test-fast: $(VENV)/.installed
	$(PY) -m pytest -q -m "not slow"

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_pretrained.py

# The documentation site into docs/_build/html, offline, with warnings as errors; the
# gallery's examples run on synthetic faces and the shipped model (no data download).
docs: $(VENV)/.docs-installed
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

$(VENV)/.docs-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[docs]"
	touch $@

clean:
	rm -rf $(VENV) runs build *.egg-info
