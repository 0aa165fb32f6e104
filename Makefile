# Two commands: `make run` tracks the sample corpus; `make test` runs the test suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TESTED := $(VENV)/.installed-test

.PHONY: run test test-fast install bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# the core only: what tracking and serving need (no test, Spark or evaluation package)
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $(STAMP)

# what the tests need besides: the test, evaluation and Spark extras
$(TESTED): $(STAMP)
	$(BIN)/pip install -q -e '.[test,eval,spark]'
	touch $(TESTED)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/storyline track examples/ --db storyline.db

test: $(TESTED)
	$(BIN)/python -m pytest -q

test-fast: $(TESTED)
	$(BIN)/python -m pytest -q -m "not slow"

bench: $(TESTED)
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) storyline.db storyline.db-wal storyline.db-shm report.html .pytest_cache
