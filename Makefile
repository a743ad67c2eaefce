# Autopack developer tasks. Needs only Python 3.11+, git and make.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: help install install-memory demo test lint format bench-edits bench-orchestration bench-api bench-workers clean

help:
	@echo "make demo         a whole governed run on a sample project (scripted model)"
	@echo "make test         lint + the whole test suite (SQLite and a real PostgreSQL)"
	@echo "make install-memory  the optional Qdrant memory backend (torch, embeddings)"
	@echo "make lint         ruff check + ruff format --check"
	@echo "make format       ruff format + autofix"
	@echo "make bench-edits  score the edit applier against git apply and GNU patch"
	@echo "make bench-orchestration  ms per phase of Autopack vs bare git at 10/50/200 phases"
	@echo "make bench-api    GET /runs?limit=100 on 1,000 runs x 20 phases: latency, SQL count"
	@echo "make bench-workers  queued runs on PostgreSQL: phases/min with 1/2/4 workers, dispatch latency"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# The optional Qdrant memory backend (extra memory-qdrant). torch first, pinned to the CPU
# build this machine kind keeps on disk; without the pin pip would take the newest torch with
# GBs of CUDA packages. Elsewhere: make install-memory TORCH='torch --index-url <cpu index>'.
TORCH ?= torch==2.13.0
install-memory: $(STAMP)
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[dev,memory-qdrant]'

demo: $(STAMP)
	@$(BIN)/autopack demo

test: $(STAMP) lint
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench-edits: $(STAMP)
	$(BIN)/python bench/edits/run.py

bench-orchestration: $(STAMP)
	$(BIN)/python bench/orchestration/run.py

bench-api: $(STAMP)
	$(BIN)/python bench/api/list_runs.py --postgres auto

bench-workers: $(STAMP)
	$(BIN)/python bench/workers/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build dist src/*.egg-info
