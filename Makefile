# Two commands on a fresh machine: `make demo` (train + report on the embedded synthetic
# faces) and `make test`. Each creates the virtual environment it needs.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# Where torch comes from. Empty (the default): pip's index, as pyproject.toml pins it; on Linux
# that is the CUDA build, several GB. PyTorch's CPU wheel index gives the CPU build instead:
#   make TORCH_INDEX=https://download.pytorch.org/whl/cpu test
# (not tried on the project's machine, which cannot reach that index).
TORCH_INDEX ?=
TORCH_PIN := $(shell sed -n 's/^ *"\(torch[<>=,.0-9]*\)",.*/\1/p' pyproject.toml)
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: demo lint test test-fast test-precision bench docs clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(if $(TORCH_INDEX),$(PIP) "$(TORCH_PIN)" --index-url $(TORCH_INDEX))
	$(PIP) -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/fer-sklearn train --out runs/demo

# ruff (pyproject.toml's [tool.ruff]) and the layer contract ([tool.importlinter])
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: $(VENV)/.installed
	$(PY) -m pytest -q

test-fast: $(VENV)/.installed
	$(PY) -m pytest -q -m "not slow"

# The tests that compare predicted numbers, again as CPUs of other families run them:
# precision="auto" forced to bf16 (CPUs with AMX) and to int8 (CPUs with VNNI; without VNNI
# int8 takes the 7-bit path), whatever this CPU would choose.
test-precision: $(VENV)/.installed
	FER_SKLEARN_PRECISION=bf16 $(PY) -m pytest -q -m "precision and not slow"
	FER_SKLEARN_PRECISION=int8 $(PY) -m pytest -q -m "precision and not slow"

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_pretrained.py

# The documentation site into docs/_build/html, offline, with warnings as errors; the
# gallery's examples run on synthetic faces and the shipped model (no data download).
docs: $(VENV)/.docs-installed
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

$(VENV)/.docs-installed: $(VENV)/.installed
	$(PIP) -e ".[docs]"
	touch $@

clean:
	rm -rf $(VENV) runs build *.egg-info
