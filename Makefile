# A newcomer's two commands: `make demo` and `make test`. Both set up everything they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install lint test demo bench clean

install: $(STAMP)

# The virtual environment is rebuilt whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -q

demo: $(STAMP)
	$(BIN)/python -m aigov.demo

# The Node.js peers (jose, vc-bitstring-status-list) are pinned by benchmarks/node/package-lock.json.
bench: $(STAMP)
	@if command -v npm >/dev/null; then cd benchmarks/node && npm ci --no-audit --no-fund --silent; \
	else echo "npm not found: the Node.js peer rows are left out"; fi
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
