# The two commands: `make run` serves the console on the sandbox; `make test` passes the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
RUN_ENV := DASHBOARD_DEBUG=$${DASHBOARD_DEBUG:-1} DASHBOARD_HTTPS=$${DASHBOARD_HTTPS:-0} SANDBOX_STREAM_URL=$${SANDBOX_STREAM_URL:-http://$(HOST):$(PORT)}

.PHONY: run serve test install install-test migrate seed admin-password lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run
install-test: $(VENV)/.installed-test

migrate: install
	@$(RUN_ENV) $(BIN)/python manage.py migrate --noinput -v0

seed: migrate
	@if [ "$${DASHBOARD_BACKEND:-sandbox}" = sandbox ]; then $(RUN_ENV) $(BIN)/python manage.py seed_sandbox; fi

run: seed
	@$(RUN_ENV) $(BIN)/python manage.py bootstrap
	@echo ""
	@echo "  Agent Console: http://$(HOST):$(PORT)/   (backend: $${DASHBOARD_BACKEND:-sandbox}; stop with Ctrl-C)"
	@echo ""
	@$(RUN_ENV) exec $(BIN)/daphne -b $(HOST) -p $(PORT) dashboard.asgi:application

# Production-like, by hand (README "Production"): DEBUG off, SECRET_KEY and ALLOWED_HOSTS from
# the environment, the deployment checks printed, migrations applied, static files collected.
serve: install
	@test -n "$${SECRET_KEY:-}" -a -n "$${ALLOWED_HOSTS:-}" || { echo "make serve: set SECRET_KEY and ALLOWED_HOSTS (README, Production)." >&2; exit 2; }
	@$(BIN)/python manage.py check --deploy
	@$(BIN)/python manage.py migrate --noinput -v0
	@$(BIN)/python manage.py collectstatic --noinput -v0
	@$(BIN)/python manage.py bootstrap
	@echo "  Agent Console (production settings): http://$(HOST):$(PORT)/"
	@exec $(BIN)/daphne -b $(HOST) -p $(PORT) dashboard.asgi:application

admin-password: migrate
	@$(RUN_ENV) $(BIN)/python manage.py bootstrap --reset

test: install-test
	@bash scripts/test.sh

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install-test
	@for f in bench/*.py; do [ -e "$$f" ] && $(BIN)/python "$$f"; done; true

clean:
	rm -rf $(VENV) var test-artifacts
