# GuardDuty Responder: every target creates .venv and installs the pinned requirements when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
REQUIREMENTS_SUM := $(shell cat requirements.txt requirements-dev.txt lambdas/requirements.txt | cksum | cut -d' ' -f1)
STAMP := $(VENV)/.installed-$(REQUIREMENTS_SUM)
# The Python minor version the functions run on, read from the one place that sets it.
RUNTIME_VERSION := $(shell sed -n 's/^PYTHON_VERSION: Final = "\([0-9.]*\)".*/\1/p' infra/constants.py)
$(if $(RUNTIME_VERSION),,$(error cannot read PYTHON_VERSION from infra/constants.py))
RUNTIME_VENV := .venv$(subst .,,$(RUNTIME_VERSION))
RUNTIME_STAMP := $(RUNTIME_VENV)/.installed-$(REQUIREMENTS_SUM)
# An interpreter of that version: pyenv's versions directory first (pyenv's python3.X shim is on
# the PATH but fails unless that version is selected), then python3.X on the PATH if it runs.
# Deferred (=): only the runtime-tests target looks for it.
RUNTIME_PYTHON = $(shell for p in $$(pyenv root 2>/dev/null)/versions/$(RUNTIME_VERSION).*/bin/python$(RUNTIME_VERSION) \
	"$$HOME"/.pyenv/versions/$(RUNTIME_VERSION).*/bin/python$(RUNTIME_VERSION) $$(command -v python$(RUNTIME_VERSION)); do \
	"$$p" -c $(IS_RUNTIME_VERSION) 2>/dev/null && { echo "$$p"; break; }; done)
IS_RUNTIME_VERSION := 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(RUNTIME_VERSION)")'

EVENT ?= tests/fixtures/events/UnauthorizedAccess_EC2_SSHBruteForce.json
FORMAT ?= text
export PYTHONPATH := lambdas:.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 1

NODE_STAMP := node_modules/.installed
# Synth offline-safe: no AWS credentials, no metadata lookups, no CLI notices or telemetry.
NO_AWS := env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
	AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_CLI_TELEMETRY=true

.PHONY: install test lint typecheck unit runtime-tests synth browser i18n screenshots preview golden bench demo demo-burst doctor clean

$(STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(STAMP) $(NODE_STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP) browser
	$(PY) -m pytest --cov --cov-report=term

$(RUNTIME_STAMP):
	test -x $(RUNTIME_VENV)/bin/python || $(RUNTIME_PYTHON) -m venv $(RUNTIME_VENV)
	$(RUNTIME_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(RUNTIME_VENV)/.installed-*
	touch $@

# The unit and integration tests again on the functions' Python version (its own venv), so the
# package, its templates and its wheels are tested on the version that runs them. Skipped, with
# one line saying so, where that version is not installed or is already the one of .venv.
runtime-tests: $(STAMP)
	@if $(PY) -c $(IS_RUNTIME_VERSION); then \
		echo "runtime-tests: skipped, .venv already runs Python $(RUNTIME_VERSION), the function runtime"; \
		exit 0; \
	fi; \
	runtime_python="$(RUNTIME_PYTHON)"; \
	if [ -z "$$runtime_python" ]; then \
		echo "runtime-tests: SKIPPED, no Python $(RUNTIME_VERSION) found (pyenv or PATH): tests/unit and tests/integration ran on $$($(PY) -V) only, not on the function runtime"; \
		exit 0; \
	fi; \
	$(MAKE) --no-print-directory $(RUNTIME_STAMP) RUNTIME_PYTHON="$$runtime_python" && \
	$(RUNTIME_VENV)/bin/python -m pytest -p no:cacheprovider tests/unit tests/integration

# Headless Chromium for the rendering tests and screenshots (Debian packages), when missing.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# fonts-noto-cjk renders the Japanese emails (LANGUAGE=ja).
browser:
	@{ command -v chromium >/dev/null && test -d /usr/share/fonts/opentype/noto; } || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null; }

# The message catalogues: refresh the .pot and .po files from the code, compile the .mo files.
i18n: $(STAMP)
	$(PY) scripts/i18n.py update
	$(PY) scripts/i18n.py compile
	$(PY) scripts/i18n.py check

screenshots: $(STAMP) browser
	@test -f out/demo/index.html || $(MAKE) demo
	$(PY) -m demo.screenshots

# The app as deployed to one Region (cdk.out/, .cfnlintrc's templates), then to two Regions with
# a home Region (cdk.out/regions/): the full stack there and the forwarding stack, then the member
# accounts' stack (-c member=1, a StackSet template: cdk.out/member/), each linted.
REGIONS_OUT := cdk.out/regions
MEMBER_OUT := cdk.out/member
synth: $(STAMP) $(NODE_STAMP)
	$(NO_AWS) npx cdk synth --quiet --no-notices
	$(VENV)/bin/cfn-lint
	$(NO_AWS) npx cdk synth --quiet --no-notices -o $(REGIONS_OUT) -c regions=us-east-1,eu-west-1 -c home_region=us-east-1
	$(VENV)/bin/cfn-lint $(REGIONS_OUT)/*.template.json
	$(NO_AWS) npx cdk synth --quiet --no-notices -o $(MEMBER_OUT) -c member=1
	$(VENV)/bin/cfn-lint $(MEMBER_OUT)/*.template.json

test: lint typecheck unit runtime-tests synth

preview: $(STAMP)
	$(PY) -m responder preview $(EVENT) --format $(FORMAT)

# Rewrites tests/golden/emails/ to the emails rendered now: only when an email is meant to change.
golden: $(STAMP)
	$(PY) -m tests.golden

bench: $(STAMP)
	$(PY) scripts/bench.py
	$(PY) scripts/bench_cleaning.py

demo: $(STAMP) $(NODE_STAMP)
	$(PY) -m demo $(ARGS)

clean:
	rm -rf $(VENV) $(RUNTIME_VENV) node_modules .build .pytest_cache .mypy_cache .ruff_cache .coverage out cdk.out

# ARGS=--org: the storm over 50 accounts in 5 OUs, each OU routed to its team (mails per owner stated).
demo-burst: $(STAMP)
	$(PY) -m demo.burst $(ARGS)

# Checks a deployed stack with read-only calls (README: After deploying); ARGS=--send-test sends a test alert and alarm.
doctor: $(STAMP)
	$(PY) -m responder doctor $(ARGS)
