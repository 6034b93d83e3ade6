# Omnia developer commands. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

UV := scripts/uv
SYNC := $(UV) sync --all-packages --all-extras --frozen
PYTEST_ARGS ?=

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: setup
setup: ## install uv if missing, sync the workspace, and install the test servers (Redis)
	@scripts/ensure-tools.sh
	@$(SYNC)

.PHONY: test
test: setup ## run the whole test suite (unit, integration; e2e only when KUBECONFIG is set)
	$(UV) run --frozen pytest $(PYTEST_ARGS)

.PHONY: lint
lint: setup ## ruff format check, ruff lint, pyright
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen ruff check .
	$(UV) run --frozen pyright

.PHONY: format
format: setup ## format the code and apply safe lint fixes
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

.PHONY: chart-check
chart-check: setup ## helm lint + template + schema-validate the chart in every tested configuration, the examples and the Dockerfiles
	$(UV) run --frozen pytest charts/omnia/tests -m "not slow" $(PYTEST_ARGS)

.PHONY: protos
protos: setup ## regenerate the omnia-protos stubs from the .proto files
	$(UV) run --frozen python scripts/gen_protos.py

.PHONY: protos-check
protos-check: setup ## fail when the committed stubs differ from a fresh generation
	$(UV) run --frozen python scripts/gen_protos.py --check

.PHONY: crds
crds: setup ## regenerate charts/omnia/crds from the operator's Python CRD definitions
	$(UV) run --frozen python -m omnia_operator.api.gen_crds

.PHONY: crds-check
crds-check: setup ## fail when charts/omnia/crds differs from a fresh generation
	$(UV) run --frozen python -m omnia_operator.api.gen_crds --check

.PHONY: build
build: setup ## build the four wheels (and sdists) into dist/
	rm -rf dist
	$(UV) build --all-packages --out-dir dist

.PHONY: wheels-check
wheels-check: build ## install each wheel into a fresh venv with plain pip and import it
	scripts/check-wheels.sh dist

.PHONY: demo
demo: ## run an agent locally from examples/quickstart (mock LLM, no cluster); DEMO_ARGS="-f DIR ..." for another
	@OMNIA_SKIP_REDIS_INSTALL=1 OMNIA_SKIP_CHROMIUM_INSTALL=1 scripts/ensure-tools.sh
	@$(SYNC)
	$(UV) run --frozen omnia-operator dev $(DEMO_ARGS)

.PHONY: bench
bench: setup ## run the benchmarks with short default durations
	$(UV) run --frozen python bench/run.py --quick
