#!/usr/bin/env bash
# The README's test command (`make test`) runs this. It installs what the tests need that pip
# cannot (Debian's chromium for the browser tests, Debian's haproxy for the cluster tests), then
# runs the suite twice: on the defaults (SQLite, in-memory channel layer) and on PostgreSQL +
# Redis (DATABASE_URL / REDIS_URL). Under CI=true nothing may be skipped for want of chromium,
# haproxy, PostgreSQL or Redis.
# Both passes run on every core (pytest-xdist, one test module per worker; TEST_WORKERS
# overrides the number of workers): each worker has its own test database, Redis database and
# key prefix (dashboard/test_settings.py).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
CI=${CI:-false}

# --- chromium for the browser tests (never a downloaded browser) ---
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" != none ]; then
    echo "Installing Debian's chromium for the browser tests…"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/tmp/console-apt.log 2>&1 \
      || { $SUDO apt-get update -q >/tmp/console-apt.log 2>&1 && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >>/tmp/console-apt.log 2>&1; } \
      || echo "Could not install chromium (see /tmp/console-apt.log)."
  fi
fi
if [ "$CI" = true ] && [ ! -x /usr/bin/chromium ]; then
  echo "CI needs /usr/bin/chromium for the browser tests and it could not be installed." >&2
  exit 1
fi

# --- haproxy for the cluster tests (tests/test_cluster.py: daphne processes behind a real proxy) ---
# Debian's package, installed like chromium (scripts/install_haproxy.sh, shared with
# `make scale-demo`). Under CI=true the cluster tests fail, not skip, without it.
if ! bash scripts/install_haproxy.sh && [ "$CI" = true ]; then
  echo "CI needs haproxy for the cluster tests and it could not be installed." >&2
  exit 1
fi
# --- end of the haproxy block ---

# --- the single sign-on tests' OpenID Connect provider (oidc-provider on node; issue 16) ---
# Installed here from tests/oidc_provider/package-lock.json, so nothing is downloaded while the
# tests run. Under CI=true the tests fail, not skip, when it is missing.
if ! command -v npm >/dev/null && [ "$CI" = true ] && [ "$(id -u)" = 0 ]; then
  echo "Installing Debian's nodejs and npm for the single sign-on tests…"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >/tmp/console-apt-node.log 2>&1 || true
fi
OIDC_DIR=tests/oidc_provider
if command -v npm >/dev/null && { [ ! -d "$OIDC_DIR/node_modules/oidc-provider" ] \
    || [ "$OIDC_DIR/package-lock.json" -nt "$OIDC_DIR/node_modules/.package-lock.json" ]; }; then
  echo "Installing the test OpenID Connect provider (npm ci)…"
  npm ci --prefix "$OIDC_DIR" --no-audit --no-fund --loglevel=error >/tmp/console-npm.log 2>&1 \
    || echo "Could not install the test OpenID Connect provider (see /tmp/console-npm.log)."
fi
# --- end of the single sign-on block ---

# --- PostgreSQL and Redis ---
PG_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
REDIS=${TEST_REDIS_URL:-redis://127.0.0.1:6379/5}
have_services() {
  $BIN/python - "$PG_URL" "$REDIS" <<'PY'
import sys
import psycopg, redis
try:
    psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://"), connect_timeout=3).close()
    redis.Redis.from_url(sys.argv[2], socket_connect_timeout=3).ping()
except Exception as exc:
    print(f"  ({exc.__class__.__name__}: {exc})".splitlines()[0])
    sys.exit(1)
PY
}
if ! have_services >/dev/null 2>&1 && [ "$CI" = true ]; then
  # The machine's own services, started the way the machine starts them.
  (pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true) >/dev/null 2>&1
  (redis-cli ping || redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no) >/dev/null 2>&1 || true
  sleep 2
fi

WORKERS=(-n "${TEST_WORKERS:-auto}" --dist loadfile)

echo "== lint (ruff)"
$BIN/ruff check --quiet .

echo "== tests: SQLite + in-memory channel layer (backend tests run in the next pass)"
$BIN/pytest -q -m "not backends" "${WORKERS[@]}" "$@"

if have_services; then
  echo "== tests: PostgreSQL + Redis ($PG_URL, $REDIS)"
  DATABASE_URL=$PG_URL REDIS_URL=$REDIS REDIS_PREFIX="console-test-$$" $BIN/pytest -q -m "not browser" -p no:cacheprovider "${WORKERS[@]}" "$@"
elif [ "$CI" = true ]; then
  echo "CI needs PostgreSQL ($PG_URL) and Redis ($REDIS); they are not reachable." >&2
  exit 1
else
  echo "== skipped the PostgreSQL + Redis run: they are not reachable at $PG_URL / $REDIS"
fi
