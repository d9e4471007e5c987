# The two commands: `make run` serves, `make test` runs the whole suite.
# Both create the virtual environment and install what they need first.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint install interop-deps wsdl wsdl-check soapui fuzz soak bench bench-memory clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if v == (3, 11) else "spyne 2.14 needs Python 3.11 here, and $(PYTHON) is %d.%d: set PYTHON=" % v)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Serve on 127.0.0.1:8000 with the embedded SQLite store in ./data
run: $(STAMP)
	$(BIN)/soap-service serve

## The whole suite: unit, live-server, contract drift and property tests
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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

## Peak worker memory for a 10 MiB image (upload, GetImage, HTTP download), per backend
bench-memory: $(STAMP)
	$(BIN)/python -m bench.memory
	$(BIN)/python -m bench.memory --database-url "$$(tests/pg-start.sh)"

## Lint and type-check the service and the client
lint: $(STAMP)
	$(BIN)/ruff check service client tests bench
	$(BIN)/ruff format --check service client tests bench
	$(BIN)/mypy service client

## Regenerate the committed contract from the models (a deliberate change: review it)
wsdl: $(STAMP)
	$(BIN)/soap-service wsdl export

## Regenerate the SoapUI project from the contract (after `make wsdl`)
soapui: $(STAMP)
	$(BIN)/python -m client.soapui_project

## Fail if the committed contract differs from what the service publishes
wsdl-check: $(STAMP)
	$(BIN)/soap-service wsdl check

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache tests/output
