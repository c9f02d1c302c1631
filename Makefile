# Lumen: two commands set everything up on a fresh machine with only Python 3.
#   make play   create .venv if missing, install Lumen into it, start the game
#   make test   the same set-up, then the linter and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Test processes: one per core (the autopilot plays every shipped level twice; the levels spread over them).
TEST_WORKERS ?= auto

.PHONY: play test lint format bench clean setup

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m game.sim.kernels
	touch $(STAMP)

play: $(STAMP)
	$(BIN)/lumen $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check game tests tools

format: $(STAMP)
	$(BIN)/ruff format game tests tools

test: $(STAMP)
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(BIN)/python -m pytest -n $(TEST_WORKERS)

bench: $(STAMP)
	$(BIN)/lumen bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
