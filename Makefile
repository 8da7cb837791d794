# The two commands: `make run` serves the console on the sandbox; `make test` passes the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
RUN_ENV := DASHBOARD_DEBUG=$${DASHBOARD_DEBUG:-1} DASHBOARD_HTTPS=$${DASHBOARD_HTTPS:-0} SANDBOX_STREAM_URL=$${SANDBOX_STREAM_URL:-http://$(HOST):$(PORT)}

.PHONY: run serve scale-demo test install install-test migrate seed admin-password lint format bench clean lock upgrade upgrade-botocore

# Installs are locked: exact versions and hashes in requirements/*.txt (written by uv from
# pyproject.toml's ranges with `make lock`), installed with plain pip. The project itself is
# installed editable, without its dependencies (they all come from the lock).
PIP_INSTALL := $(BIN)/python -m pip install -q --require-hashes --no-deps
PROJECT_INSTALL := $(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
LOCK := $(BIN)/uv pip compile -q --python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: requirements/run.txt pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -r requirements/run.txt
	$(PROJECT_INSTALL)
	touch $@

$(VENV)/.installed-test: requirements/test.txt pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -r requirements/test.txt
	$(PROJECT_INSTALL)
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

# The scale-out topology on this machine (README "Scaling out"): HAProxy from Debian in front of
# SCALE_PROCESSES daphne processes, the machine's PostgreSQL and Redis, the sandbox as AWS in a
# process of its own. Ctrl-C stops all of it.
SCALE_PROCESSES ?= 3
SCALE_PORT ?= 8080
scale-demo: install
	@bash scripts/install_haproxy.sh
	@$(BIN)/python scripts/scale_demo.py --processes $(SCALE_PROCESSES) --port $(SCALE_PORT) --host $(HOST)

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

# Refresh the lock after editing pyproject.toml: existing pins are kept where they still fit.
# LOCK_ARGS passes uv options, e.g. LOCK_ARGS="-P django" to move one package to its newest.
lock: install-test
	$(LOCK) $(LOCK_ARGS) pyproject.toml requirements/build.in --extra test -o requirements/test.txt
	$(LOCK) $(LOCK_ARGS) pyproject.toml requirements/build.in -c requirements/test.txt -o requirements/run.txt

# Every package to the newest release pyproject.toml allows.
upgrade:
	$(MAKE) lock LOCK_ARGS=--upgrade

# The routine botocore step: boto3/botocore/s3transfer to the newest 1.44.x, then the tests,
# which report what a new model brings that the console does not cover yet.
upgrade-botocore:
	$(MAKE) lock LOCK_ARGS="-P boto3 -P botocore -P s3transfer"
	$(MAKE) test

clean:
	rm -rf $(VENV) var test-artifacts
