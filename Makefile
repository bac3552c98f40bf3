# Every target builds the environment it needs; nothing is installed by hand.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_HOME ?= $(CURDIR)/.local/prefect

.PHONY: up down test package bench clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

## up: the whole local stack (moto, Prefect server and UI, the API); Ctrl-C stops it
up: $(STAMP)
	$(BIN)/python -m scripts.local_stack up

## down: stop a stack started by 'make up' from another terminal
down: $(STAMP)
	$(BIN)/python -m scripts.local_stack down

## test: every test
test: $(STAMP)
	$(BIN)/python -m pytest

## package: the Lambda deployment package, as chalice builds it
package: $(STAMP)
	rm -rf build/package
	$(BIN)/chalice package --stage prod build/package

## bench: timing and size figures (prints, never fails on a number)
bench: $(STAMP) package
	$(BIN)/python bench/intake.py

clean:
	rm -rf $(VENV) build .pytest_cache
