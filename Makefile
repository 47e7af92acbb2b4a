# CRAIverse API: every developer task is a target here. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.12 (the Lambda runtime). Found on PATH or under pyenv; override with PYTHON=/path/to/python3.12.
# (pyenv's shim may exist without working, so every candidate is asked to run.)
PYTHON ?= $(shell for p in $$(command -v python3.12) /root/.pyenv/versions/3.12.*/bin/python3.12; do \
  "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
REGION ?= us-east-1

export SAM_CLI_TELEMETRY := 0

.PHONY: help python venv sam-venv run admin test unit integration e2e bench lint format typecheck validate build check deploy clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

python:
	@if [ -z "$(PYTHON)" ] || ! "$(PYTHON)" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then \
	  echo "error: Python 3.12 is required (the Lambda runtime) and was not found." >&2; \
	  echo "       Looked for python3.12 on PATH and under /root/.pyenv/versions/3.12.*/bin." >&2; \
	  echo "       Install it (e.g. 'pyenv install 3.12') or run: make <target> PYTHON=/path/to/python3.12" >&2; \
	  exit 1; fi

$(VENV)/.installed: requirements/app.txt requirements/dev.txt | python
	"$(PYTHON)" -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	# The layer's package and the dev tools import as they do on Lambda (/opt/python) and from the repo.
	printf '%s\n' "$(CURDIR)/layers/common" "$(CURDIR)" > $$($(VENV)/bin/python -c 'import site; print(site.getsitepackages()[0])')/craiverse-dev.pth
	touch $@

$(SAM_VENV)/.installed: requirements/sam.txt | python
	"$(PYTHON)" -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/sam.txt
	touch $@

venv: $(VENV)/.installed ## install application and test dependencies into .venv
sam-venv: $(SAM_VENV)/.installed ## install aws-sam-cli into .venv-sam

run: venv ## install, then start the whole API locally on http://127.0.0.1:3000 (PORT overrides)
	$(PY) -m devkit.local

test: venv ## install, then run every test (unit, integration, end-to-end)
	$(PY) -m pytest

unit: venv ## unit tests only (network blocked)
	$(PY) -m pytest tests/unit

integration: venv ## handlers in-process against moto
	$(PY) -m pytest tests/integration

e2e: venv ## HTTP tests against the local runner
	$(PY) -m pytest tests/e2e

bench: venv ## benchmarks (a few minutes): figures to stdout, tables regenerated in BENCHMARKS.md
	$(PY) -m benchmarks $(ARGS)

admin: venv ## operator tool: make admin ARGS="--endpoint-url http://127.0.0.1:PORT list-keys"
	$(PY) -m devkit.admin $(ARGS)

format: venv ## format the code
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lint: venv ## formatting and lint checks
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

typecheck: venv ## mypy
	$(VENV)/bin/mypy

validate: sam-venv ## sam validate --lint
	$(SAM) validate --lint --region $(REGION)

build: sam-venv ## sam build (needs python3.12 on PATH), then checks the layer it built
	PATH="$(dir $(PYTHON)):$$PATH" $(SAM) build
	$(PYTHON) -m devkit.build_check .aws-sam/build

check: lint typecheck validate test ## every check a reviewer runs

deploy: build ## sam deploy --guided
	$(SAM) deploy --guided

clean: ## remove virtualenvs and build output
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
