# Staffing Hub: `make demo` serves the embedded demo data; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP_FLAGS ?= --disable-pip-version-check --quiet

.PHONY: demo test install install-test lint bench clean docker-secrets

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/pip install $(PIP_FLAGS) -e .

install-test: $(BIN)/python
	$(BIN)/pip install $(PIP_FLAGS) -e '.[test,otel]'

demo: install  # `make demo PORT=8100` serves on another port (default: HUB_PORT, else 8000)
	$(BIN)/hub demo $(if $(PORT),--port $(PORT))

# The secrets docker/compose.yaml mounts (kept when present). The folder is the owner's alone; the files
# are readable so that the image's unprivileged user can read them where compose mounts them.
SECRETS_DIR ?= docker/secrets
docker-secrets:
	mkdir -p $(SECRETS_DIR) && chmod 700 $(SECRETS_DIR)
	for name in jwt-secret audit-key; do \
	  [ -s $(SECRETS_DIR)/$$name ] || LC_ALL=C tr -dc 'A-Za-z0-9' < /dev/urandom | head -c 64 > $(SECRETS_DIR)/$$name; \
	  chmod 644 $(SECRETS_DIR)/$$name; \
	done

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy hub adapters resolvers schema policies

test: lint
	$(BIN)/pytest -q

bench: install-test
	$(BIN)/python -m bench.compare
	$(BIN)/python -m bench.policy_overhead

clean:
	rm -rf $(VENV) demo-data .pytest_cache .mypy_cache .ruff_cache
