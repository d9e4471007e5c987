# The two commands: `make run` serves, `make test` runs the whole suite.
# Both create the virtual environment and install what they need first. `make help` lists the rest.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-deps test-pythons pg-start pg-stop lint install interop-deps wsdl wsdl-check wsdl-diff soapui fuzz soak bench bench-memory bench-engine clean help wheel-test

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 11) <= v <= (3, 13) else "soap-service runs on Python 3.11 to 3.13, and $(PYTHON) is %d.%d: set PYTHON=" % v)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Serve on 127.0.0.1:8000 with the embedded SQLite store in ./data
run: $(STAMP)
	$(BIN)/soap-service serve

## The whole suite: unit, live-server, interop, contract drift and property tests, on SQLite
## and on this checkout's own PostgreSQL (started for the session, stopped after it)
TEST_DEPS ?= test-deps
test: $(STAMP) $(TEST_DEPS)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## What the suite drives: PostgreSQL, Chromium, the interop toolchains, the benchmark's tools
## (apt-get as root, else it prints the apt-get line and fails); quick when all is there
test-deps:
	tests/install-deps.sh

## Start this checkout's test PostgreSQL (in .pg/, on a free port) and print its DSN;
## it runs until `make pg-stop` (the suite then uses it, and leaves it running)
pg-start:
	@tests/pg-start.sh
	@echo "pg-start: running until 'make pg-stop' (tests/pg-stop.sh)" >&2

## Stop this checkout's test PostgreSQL
pg-stop:
	tests/pg-stop.sh

## The whole suite again on each of PYTHONS, each in its own .venv-X.Y (CI: 3.12 and 3.13
## besides the default 3.11); a Python that cannot be found fails the run loudly
PYTHONS ?= 3.12 3.13
test-pythons: test-deps
	@for version in $(PYTHONS); do \
	    python="$$(.ci/find-python $$version)" || exit 1; \
	    echo "== the suite on Python $$version ($$python)"; \
	    $(MAKE) --no-print-directory test PYTHON="$$python" VENV=.venv-$$version TEST_DEPS= || exit 1; \
	done

## Every toolchain the interop suite drives (apt-get as root, npm, pip)
interop-deps: $(STAMP)
	tests/interop/install-deps.sh

## A long coverage-guided fuzz campaign (FUZZ_RUNS inputs, default one million)
FUZZ_RUNS ?= 1000000
fuzz: $(STAMP)
	$(BIN)/python tests/fuzz/atheris_target.py -runs=$(FUZZ_RUNS) -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=tests/output/

## 64 connections mixing every operation (SOAK_SECONDS, default 60); fails on any wrong answer
SOAK_SECONDS ?= 60
soak: $(STAMP)
	$(BIN)/python -m bench.soak --seconds $(SOAK_SECONDS) --connections 64

## Ours against node-soap, gSOAP and a fixed-response app (BENCH_ARGS: --rounds, --seconds, --readme)
bench: $(STAMP)
	bench/install-deps.sh
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## Peak worker memory for 10 MiB and 100 MiB images (upload, GetImage, HTTP download), per backend
bench-memory: $(STAMP)
	$(BIN)/python -m bench.memory
	$(BIN)/python -m tests.pg sh -c '$(BIN)/python -m bench.memory --database-url "$$SOAP_TEST_DATABASE_URL"'

## µs per call of Greet, EchoPerson and GetTime through the WSGI app in process, beside a
## calibration loop and against ENGINE_REF (default 33e55ed, before the layout change) in the
## same run (ENGINE_ARGS: --calls, --rounds, --json PATH, more --ref GITREV)
ENGINE_REF ?= 33e55ed
bench-engine: $(STAMP)
	$(BIN)/python -m bench.engine $(foreach ref,$(ENGINE_REF),--ref $(ref)) $(ENGINE_ARGS)

## Lint and type-check the service and the client
lint: $(STAMP)
	$(BIN)/ruff check service client tests bench
	$(BIN)/ruff format --check service client tests bench
	$(BIN)/mypy service client

## Regenerate the committed contract, its packaged copies and its SOAP 1.1 view
## (wsdl/service-soap11.wsdl, served at ?wsdl=soap11), and the OpenAPI description of /http
## (wsdl/openapi.json, served at /openapi.json) and its packaged copy, from the models (review them)
wsdl: $(STAMP)
	$(BIN)/soap-service wsdl export

## Regenerate the SoapUI project from the contract (after `make wsdl`)
soapui: $(STAMP)
	$(BIN)/python -m client.soapui_project

## The committed contract (and OpenAPI description) against the one at BASE (default: the
## last release tag, v*); exits non-zero on a breaking change
BASE ?= $(shell git describe --tags --abbrev=0 --match 'v*' 2>/dev/null)
wsdl-diff: $(STAMP)
	@if [ -z "$(BASE)" ]; then \
	    echo "wsdl-diff: no release tag (v*) yet: nothing to compare the contract with"; \
	else \
	    status=0; \
	    echo "wsdl-diff: wsdl/service.wsdl against $(BASE)"; \
	    git show "$(BASE):wsdl/service.wsdl" | $(BIN)/soap-service wsdl diff - wsdl/service.wsdl || status=1; \
	    if git cat-file -e "$(BASE):wsdl/openapi.json" 2>/dev/null; then \
	        echo "wsdl-diff: wsdl/openapi.json against $(BASE)"; \
	        git show "$(BASE):wsdl/openapi.json" | $(BIN)/soap-service wsdl diff - wsdl/openapi.json || status=1; \
	    else \
	        echo "wsdl-diff: $(BASE) has no wsdl/openapi.json: nothing to compare it with"; \
	    fi; \
	    exit $$status; \
	fi

## Fail if the committed contract (or a packaged copy of it, its SOAP 1.1 view, or the OpenAPI
## description and its copy) differs from what the service publishes
wsdl-check: $(STAMP)
	$(BIN)/soap-service wsdl check

## The wheel as users get it: built (no setuptools warning), installed with its dependencies
## in a fresh venv outside the checkout, then served, called and stopped (.ci/wheel-test)
wheel-test: $(STAMP)
	BUILD_PYTHON=$(abspath $(BIN))/python PYTHON=$(PYTHON) .ci/wheel-test

## This list: every target with its ## comment
help:
	@awk '/^## / { doc[n++] = substr($$0, 4); next } \
	    /^[A-Za-z][A-Za-z0-9_-]*:([^=]|$$)/ { \
	        if (n) printf "%-14s %s\n", substr($$0, 1, index($$0, ":") - 1), doc[0]; \
	        for (i = 1; i < n; i++) printf "%-14s %s\n", "", doc[i]; \
	        n = 0; next } \
	    /^$$/ { n = 0 }' $(firstword $(MAKEFILE_LIST))

clean:
	tests/pg-stop.sh --remove
	rm -rf $(VENV) .venv-3.* build *.egg-info .pytest_cache tests/output
