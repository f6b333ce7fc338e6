# Two commands on a fresh machine (Python >= 3.11 and make): `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run run-http test lint format typecheck pytest migrate doctor bench demo readme-sample clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
	  || { echo "Python >= 3.11 is required (set PYTHON=python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

run: $(VENV)/.installed
	$(BIN)/claude-key-bot run

run-http: $(VENV)/.installed
	$(BIN)/claude-key-bot run --http

migrate: $(VENV)/.installed
	$(BIN)/claude-key-bot migrate

doctor: $(VENV)/.installed
	$(BIN)/claude-key-bot doctor

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

pytest: $(VENV)/.installed-test
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# The bot against local stand-ins of Slack and the Admin API (bot/sandbox/, part of the package).
demo: $(VENV)/.installed
	$(BIN)/claude-key-bot demo

# README.md's sample messages, regenerated from a fresh demo run (tests/test_demo.py checks they are current).
readme-sample: $(VENV)/.installed
	$(BIN)/python -m bot.sandbox.demo --readme README.md

bench: $(VENV)/.installed-test
	$(BIN)/python bench/ack_latency.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
