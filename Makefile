# Two entry points: `make dataset` builds the release, `make test` runs every check.
# Both set up .venv themselves on a fresh machine (Python >= 3.11, make, the package registries).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: dataset test docs baseline

dataset: $(VENV)/.kinews-installed
	$(BIN)/kinews ingest seeds/
	$(BIN)/kinews validate
	$(BIN)/kinews build --out dist

# The CRF baseline of the current version's release (the figures its card reports): the folder
# is dist/<name>-<version>, the name from schemas/dataset.yaml, the version from CHANGELOG.md.
baseline: dataset
	$(BIN)/kinews baseline dist/$$(sed -n 's/^name: *\([a-z0-9-]*\).*/\1/p' schemas/dataset.yaml | head -n 1)-$$(sed -n 's/^## \[\([0-9][0-9.]*\)\].*/\1/p' CHANGELOG.md | head -n 1)

test: $(VENV)/.kinews-dev-installed .venv-ls/.kinews-ls-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest
	$(BIN)/mkdocs build --strict

# The docs site (docs/, mkdocs.yml) into site/; make test builds it too, so a broken link fails.
docs: $(VENV)/.kinews-dev-installed
	$(BIN)/mkdocs build --strict

$(VENV)/.kinews-installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

# Label Studio for the integration tests, in its own venv (see scripts/label-studio).
.venv-ls/.kinews-ls-installed: scripts/label-studio
	bash scripts/label-studio install

$(VENV)/.kinews-dev-installed: $(VENV)/.kinews-installed
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@
