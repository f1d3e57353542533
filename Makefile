# Two commands on a fresh machine: `make demo` (train + report on the embedded synthetic
# faces) and `make test`. Each creates the virtual environment it needs.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python

.PHONY: demo test test-fast bench clean

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

clean:
	rm -rf $(VENV) runs build *.egg-info
