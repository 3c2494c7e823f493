# GuardDuty Responder: every target creates .venv and installs the pinned requirements when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt lambdas/requirements.txt | cksum | cut -d' ' -f1)
EVENT ?= tests/fixtures/events/UnauthorizedAccess_EC2_SSHBruteForce.json
FORMAT ?= text
export PYTHONPATH := lambdas:.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: install test lint typecheck unit preview bench demo clean

$(STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(PY) -m pytest --cov --cov-report=term

test: lint typecheck unit

preview: $(STAMP)
	$(PY) -m responder preview $(EVENT) --format $(FORMAT)

bench: $(STAMP)
	$(PY) scripts/bench.py

demo: $(STAMP)
	$(PY) scripts/demo.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage out cdk.out
