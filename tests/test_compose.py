"""docker-compose.yml follows the compose specification and runs what the console needs; the
Dockerfile builds the image it uses. (No Docker engine runs here: the file is checked against
the compose spec's JSON schema bundled with check-jsonschema, without the network.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def _offline_prefix() -> list[str]:
    """Run in a network namespace of its own when the machine allows it."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


@pytest.fixture(scope="module")
def compose() -> dict:
    return YAML(typ="safe").load(COMPOSE.read_text())


def test_it_validates_against_the_compose_spec_schema_offline(tmp_path):
    # Any attempt to reach the network fails: no namespace network, or a dead proxy.
    dead = "http://127.0.0.1:9"
    env = {
        **os.environ,
        "HTTP_PROXY": dead,
        "HTTPS_PROXY": dead,
        "http_proxy": dead,
        "https_proxy": dead,
        "NO_PROXY": "",
        "no_proxy": "",
        "XDG_CACHE_HOME": str(tmp_path),  # no schema cached by an earlier online run
    }
    result = subprocess.run(
        [
            *_offline_prefix(),
            str(CHECK_JSONSCHEMA),
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def test_the_schema_check_catches_a_broken_file(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    # A misspelt key and ports that are not a list.
    broken.write_text("services:\n  console:\n    image: x\n    commmand: y\n    ports: 8000\n")
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0


def test_it_has_the_console_a_migrate_step_postgres_and_redis(compose):
    assert set(compose["services"]) == {"console", "migrate", "postgres", "redis"}
    assert compose["services"]["postgres"]["image"].startswith("postgres:")
    assert compose["services"]["redis"]["image"].startswith("redis:")
    assert "pgdata" in compose["volumes"]


def test_the_console_runs_daphne_on_port_8000(compose):
    console = compose["services"]["console"]
    assert console["command"][0] == "daphne"
    assert console["command"][-1] == "dashboard.asgi:application"
    assert "8000" in console["command"]
    assert any(str(p).endswith(":8000") for p in console["ports"])


def test_the_console_environment(compose):
    env = compose["services"]["console"]["environment"]
    assert env["DASHBOARD_BACKEND"] == "${DASHBOARD_BACKEND:-sandbox}"
    assert re.fullmatch(r"\$\{SECRET_KEY:\?.+\}", env["SECRET_KEY"])
    assert re.fullmatch(r"\$\{ALLOWED_HOSTS:\?.+\}", env["ALLOWED_HOSTS"])
    assert env["DATABASE_URL"].startswith("postgres://console:")
    assert env["DATABASE_URL"].endswith("@postgres:5432/console")
    assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"]
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    # AWS credentials pass through from the host only when set there, never as "".
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        assert env[name] is None


def test_migrate_is_a_one_shot_step_the_console_waits_for(compose):
    migrate = compose["services"]["migrate"]
    assert "manage.py migrate --noinput" in " ".join(migrate["command"])
    assert migrate["restart"] == "no"
    assert migrate["environment"] == compose["services"]["console"]["environment"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    depends = compose["services"]["console"]["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"


def test_every_service_that_others_wait_for_has_a_healthcheck(compose):
    for name in ("console", "postgres", "redis"):
        assert compose["services"][name]["healthcheck"]["test"][0] == "CMD", name
    assert "/healthz" in " ".join(compose["services"]["console"]["healthcheck"]["test"])


@pytest.mark.django_db(transaction=True)
def test_the_console_healthcheck_passes_against_a_running_console(compose, live_server):
    test = compose["services"]["console"]["healthcheck"]["test"]
    assert test[1:3] == ["python", "-c"]
    code = test[3].replace("http://127.0.0.1:8000", live_server.url)
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "ALLOWED_HOSTS": ".testserver,localhost"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # ...and fails when the console answers with an error.
    bad = subprocess.run(
        [sys.executable, "-c", code.replace("/healthz", "/no-such-page")],
        env={**os.environ, "ALLOWED_HOSTS": "testserver"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0


def test_no_dollar_sign_in_the_healthcheck_escapes_compose_interpolation(compose):
    assert "$" not in compose["services"]["console"]["healthcheck"]["test"][3]


def test_the_dockerfile_builds_the_console_image():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    # Dependencies from the lock (exact versions and hashes), then the project without them.
    assert "pip install --require-hashes --no-deps -r requirements/run.txt" in dockerfile
    assert re.search(r"^RUN pip install --no-deps --no-build-isolation \.$", dockerfile, re.M)
    assert "manage.py collectstatic --noinput" in dockerfile
    assert re.search(r'^CMD \["daphne",.*"dashboard\.asgi:application"\]$', dockerfile, re.M)
    assert re.search(r"^USER (?!root)", dockerfile, re.M)
    for copied in (
        "requirements/run.txt",
        "pyproject.toml",
        "dashboard",
        "manage.py",
        "templates",
        "static",
    ):
        assert re.search(rf"^COPY .*\b{re.escape(copied)}\b", dockerfile, re.M), copied
        assert (ROOT / copied).exists(), copied


def test_the_dockerignore_keeps_local_state_out_of_the_image():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for name in (".git", ".venv", "var"):
        assert name in ignored
