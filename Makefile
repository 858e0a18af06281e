# The two commands: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := demo-output

.PHONY: demo test lint docs install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	rm -rf $(DEMO)
	$(BIN)/custos world --taxpayers 5000 --requests 1000 --seed 7 --out $(DEMO)/world
	$(BIN)/custos check $(DEMO)/world/requests.csv --world $(DEMO)/world --out $(DEMO)/check \
		|| test $$? -eq 1  # 1: the demo batch holds invalid requests on purpose; 2 is an error
	CUSTOS_HOME=$(DEMO)/home $(BIN)/custos ledger keygen
	CUSTOS_HOME=$(DEMO)/home $(BIN)/custos model train --world $(DEMO)/world
	CUSTOS_HOME=$(DEMO)/home $(BIN)/custos run --world $(DEMO)/world --out $(DEMO)/run --report $(DEMO)/run/report.html
	CUSTOS_HOME=$(DEMO)/home $(BIN)/custos ledger verify
	CUSTOS_HOME=$(DEMO)/home $(BIN)/custos keys issue --role officer > $(DEMO)/officer.key
	@echo
	@echo "The review desk on the demo world: start the server,"
	@echo "    CUSTOS_HOME=$(DEMO)/home $(BIN)/custos serve --world $(DEMO)/world"
	@echo "then open http://127.0.0.1:8000/ui/ and sign in with the demo officer key:"
	@echo "    $$(cat $(DEMO)/officer.key)"

lint: install-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache

docs: install-test
	$(BIN)/python docs/generate.py
