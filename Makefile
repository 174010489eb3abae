# The two commands in the README are the contract:
#   make serve  - set up a fresh machine and run the local edge on the demo site
#   make test   - set up a fresh machine and run the whole suite (lint, types, tests)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Two stamps: serving needs only the core (seconds to install); the suite needs the aws and
# dev extras too (CDK, moto, Playwright: about a gigabyte). Each re-installs only when the
# dependency list changes.
SERVE_STAMP := $(VENV)/.installed-core
STAMP := $(VENV)/.installed

.PHONY: setup serve test lint typecheck unit bench clean browser observatory tools

setup: $(STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(SERVE_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q --disable-pip-version-check -e .
	touch $@

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q --disable-pip-version-check -U pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[aws,dev]'
	touch $(SERVE_STAMP) $@

serve: $(SERVE_STAMP)
	$(VENV)/bin/edgeshield serve

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(PY) -m mypy

# checkov pins dependencies that conflict with ours (boto3, packaging), so it gets its own
# venv; tests/aws/test_cdk.py runs it from there.
TOOLS := .venv-tools/bin/checkov
tools: $(TOOLS)
$(TOOLS):
	test -x .venv-tools/bin/python || $(PYTHON) -m venv .venv-tools
	.venv-tools/bin/pip install -q --disable-pip-version-check 'checkov==3.3.30'

# The real MDN HTTP Observatory (Node) as an oracle for the grader's differential test.
# Pinned; its HSTS preload list is emptied so both sides judge headers alone. Without npm the
# test skips on a developer machine and fails CI (EDGESHIELD_REQUIRE_ORACLES=1 or CI=true).
OBSERVATORY_DIR := .cache/observatory
OBSERVATORY_VERSION := 1.4.8
OBSERVATORY_STAMP := $(OBSERVATORY_DIR)/.installed-$(OBSERVATORY_VERSION)
observatory: $(OBSERVATORY_STAMP)
$(OBSERVATORY_STAMP):
	@if command -v npm >/dev/null; then \
	  mkdir -p $(OBSERVATORY_DIR) && \
	  npm install --prefix $(OBSERVATORY_DIR) --ignore-scripts --no-audit --no-fund --silent \
	    @mdn/mdn-http-observatory@$(OBSERVATORY_VERSION) && \
	  echo '{}' > $(OBSERVATORY_DIR)/node_modules/@mdn/mdn-http-observatory/conf/hsts-preload.json && \
	  touch $@; \
	elif [ "$${EDGESHIELD_REQUIRE_ORACLES:-}" = 1 ] || [ "$${CI:-}" = true ]; then \
	  echo "npm not found: the Observatory is the grader's oracle and CI requires it (install Node.js and npm)"; exit 1; \
	else echo "npm not found: the grader's differential test against the Observatory will skip"; fi

unit: $(STAMP) $(TOOLS) $(OBSERVATORY_STAMP)
	EDGESHIELD_OBSERVATORY_DIR=$(CURDIR)/$(OBSERVATORY_DIR) $(PY) -m pytest

# Browser tests drive Debian's Chromium through Playwright; a test tool's own browser download
# (`playwright install`) cannot work here. Installed with apt when missing and we are root;
# otherwise the browser tests skip with one line (CI sets EDGESHIELD_REQUIRE_BROWSER=1 to fail).
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium with apt"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "Chromium is not at $(CHROMIUM) and cannot be installed here (needs root and apt): browser tests will skip"; \
	fi

test: lint typecheck browser unit

bench: $(STAMP)
	$(PY) benchmarks/edge_handler.py

clean:
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache .hypothesis
