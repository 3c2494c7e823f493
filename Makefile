# GuardDuty Responder: every target creates .venv and installs the pinned requirements when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt lambdas/requirements.txt | cksum | cut -d' ' -f1)
EVENT ?= tests/fixtures/events/UnauthorizedAccess_EC2_SSHBruteForce.json
FORMAT ?= text
export PYTHONPATH := lambdas:.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 1

NODE_STAMP := node_modules/.installed
# Synth offline-safe: no AWS credentials, no metadata lookups, no CLI notices or telemetry.
NO_AWS := env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
	AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_CLI_TELEMETRY=true

.PHONY: install test lint typecheck unit synth browser i18n screenshots preview bench demo demo-burst clean

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

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP) browser
	$(PY) -m pytest --cov --cov-report=term

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

synth: $(STAMP) $(NODE_STAMP)
	$(NO_AWS) npx cdk synth --quiet --no-notices
	$(VENV)/bin/cfn-lint

test: lint typecheck unit synth

preview: $(STAMP)
	$(PY) -m responder preview $(EVENT) --format $(FORMAT)

bench: $(STAMP)
	$(PY) scripts/bench.py

demo: $(STAMP) $(NODE_STAMP)
	$(PY) -m demo $(ARGS)

clean:
	rm -rf $(VENV) node_modules .build .pytest_cache .mypy_cache .ruff_cache .coverage out cdk.out

demo-burst: $(STAMP)
	$(PY) -m demo.burst
