# The verbs people expect. Every target creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make run PORT=8001 HOST=0.0.0.0` serves on another port, or to the whole network.
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint bench mutation clean

install: $(STAMP)

# Reinstall only when the project's metadata changed: `make install` is quick when up to date.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/microamp serve --demo --host $(HOST) --port $(PORT)

# Two workers, then the tests bound by wall time alone (the `serial` marker, tests/conftest.py);
# both passes always run, and either failing fails the target.
test: install
	./scripts/ensure-chromium
	$(BIN)/python -m pytest -q -n 2 --dist loadscope -m "not serial"; first=$$?; \
	$(BIN)/python -m pytest -q -m serial; second=$$?; \
	test $$first -eq 0 -a $$second -eq 0

lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench

# Outside CI: mutmut over safety/, devices/ and session/, one worker at the lowest priority, the
# machine being shared. `make mutation AREAS=safety` runs one area; .mutation/summary.json is the score.
mutation: install
	nice -n 19 $(BIN)/python scripts/mutation.py run $(AREAS)

clean:
	rm -rf $(VENV) .bench .mutation .pytest_cache .mypy_cache .ruff_cache
