# Two commands on a fresh clone: `make demo` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv demo test lint typecheck unit bench clean ext ext-package

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "workcrew needs Python 3.11 or newer: set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,js]'
	@touch $(STAMP)

demo: venv
	@if [ -z "$$ANTHROPIC_API_KEY" ]; then \
	  echo "ANTHROPIC_API_KEY is not set: running the example with the simulated model (no API calls, no cost)."; \
	  $(BIN)/workcrew run examples/review_files.py --provider simulated \
	    --scenario examples/review_files.scenario.json -C examples/workspace --yes; \
	else \
	  echo "Running the example against the Anthropic API (it asks before spending)."; \
	  $(BIN)/workcrew run examples/review_files.py --provider anthropic -C examples/workspace; \
	fi

lint: venv
	$(BIN)/ruff check engine server tests bench
	$(BIN)/lint-imports

typecheck: venv
	$(BIN)/mypy engine server

unit: venv
	$(BIN)/pytest -q

# The VS Code extension: type-check + unit tests (tsc, node --test), lint (eslint), bundle (esbuild).
# The end-to-end test in tests/e2e packages the .vsix itself and runs it in code-server.
EXT := vscode-extension

$(EXT)/node_modules/.installed: $(EXT)/package.json $(EXT)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the VS Code extension: apt-get install nodejs npm"; exit 1; }
	cd $(EXT) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

ext: $(EXT)/node_modules/.installed
	cd $(EXT) && npm test --silent && npm run lint --silent && npm run build --silent

ext-package: ext venv
	cd $(EXT) && npm run package

test: lint typecheck ext unit

bench: venv
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
