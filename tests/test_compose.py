"""docker-compose.yml follows the compose specification and runs what the console needs (N
console replicas behind HAProxy, PostgreSQL, Redis, the sandbox as a service of its own in the
demo profile); the Dockerfile builds the image it uses; HAProxy accepts deploy/haproxy.cfg as
compose runs it. (No Docker engine runs here: the file is checked against the compose spec's
JSON schema bundled with check-jsonschema, without the network, and by its structure.)"""

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


def test_it_has_the_consoles_a_proxy_a_migrate_step_postgres_redis_and_a_demo_sandbox(compose):
    assert set(compose["services"]) == {
        "console",
        "proxy",
        "migrate",
        "postgres",
        "redis",
        "sandbox",
    }
    assert compose["services"]["postgres"]["image"].startswith("postgres:")
    assert compose["services"]["redis"]["image"].startswith("redis:")
    assert compose["services"]["proxy"]["image"].startswith("haproxy:")
    assert "pgdata" in compose["volumes"]


def test_the_console_runs_daphne_on_port_8000_in_replicas_reached_through_the_proxy(compose):
    console = compose["services"]["console"]
    assert console["command"][0] == "daphne"
    assert console["command"][-1] == "dashboard.asgi:application"
    assert "8000" in console["command"]
    assert console["deploy"]["replicas"] == "${CONSOLE_REPLICAS:-3}"
    # Only the proxy is published: a replica cannot bind the host's port, and a page served
    # around the proxy would skip what it sets (X-Forwarded-Proto, X-Forwarded-For).
    assert "ports" not in console
    proxy = compose["services"]["proxy"]
    assert proxy["ports"] == ["${CONSOLE_PORT:-8000}:8080"]
    assert proxy["depends_on"]["console"]["condition"] == "service_started"


def test_the_console_environment(compose):
    env = compose["services"]["console"]["environment"]
    assert env["DASHBOARD_BACKEND"] == "${DASHBOARD_BACKEND:-sandbox}"
    assert re.fullmatch(r"\$\{SECRET_KEY:\?.+\}", env["SECRET_KEY"])
    assert re.fullmatch(r"\$\{ALLOWED_HOSTS:\?.+\}", env["ALLOWED_HOSTS"])
    assert env["DATABASE_URL"].startswith("postgres://console:")
    assert env["DATABASE_URL"].endswith("@postgres:5432/console")
    assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"]
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["DASHBOARD_BEHIND_PROXY"] == "${DASHBOARD_BEHIND_PROXY:-1}"
    # AWS credentials pass through from the host only when set there, never as "".
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
    ):
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


# --- the proxy (deploy/haproxy.cfg) -------------------------------------------------------------

HAPROXY_CONFIG = ROOT / "deploy" / "haproxy.cfg"


def _haproxy() -> str:
    from tests.cluster_support import haproxy_binary

    found = haproxy_binary()
    if found:
        return found
    reason = "haproxy is missing: install Debian's haproxy (scripts/install_haproxy.sh)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must check the proxy's configuration, but {reason}")
    pytest.skip(reason)


def _check_config(path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_haproxy(), "-c", "-f", str(path)],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_proxy_runs_the_committed_configuration(compose):
    proxy = compose["services"]["proxy"]
    [config] = proxy["configs"]
    assert compose["configs"][config["source"]]["file"] == "./deploy/haproxy.cfg"
    assert config["target"] == "/usr/local/etc/haproxy/haproxy.cfg"
    assert config["target"] in proxy["command"][-1]


def test_haproxy_accepts_the_configuration_as_compose_runs_it():
    result = _check_config(HAPROXY_CONFIG, CONSOLE_HOST="console.example.com")
    assert result.returncode == 0, result.stdout + result.stderr


def test_haproxy_accepts_the_configuration_with_tls(tmp_path):
    pem = tmp_path / "console.pem"
    pem.write_text(_self_signed("console.example.com"))
    result = _check_config(
        HAPROXY_CONFIG, CONSOLE_HOST="console.example.com", PROXY_TLS_CERT=str(pem)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # ...and the TLS lines are really read: a missing certificate is refused.
    missing = _check_config(
        HAPROXY_CONFIG, CONSOLE_HOST="console.example.com", PROXY_TLS_CERT=str(tmp_path / "none")
    )
    assert missing.returncode != 0


def test_the_proxy_finds_every_console_replica_on_daphnes_port(compose):
    config = HAPROXY_CONFIG.read_text()
    template = re.search(r"^\s*server-template (\S+) (\d+) (\S+):(\d+) (.*)$", config, re.M)
    assert template, "a server-template line fills a slot per replica"
    _, slots, host, port, options = template.groups()
    assert host == "console" and port == "8000"
    assert int(slots) >= 3, "room for the default replicas and more"
    assert "check" in options.split() and "resolvers docker" in options
    assert "127.0.0.11" in config, "Docker's embedded DNS"
    assert re.search(r'^\s*bind "\$\{PROXY_BIND-:8080\}"', config, re.M), "the published port"
    assert re.search(r"^\s*balance leastconn$", config, re.M)
    assert re.search(r"^\s*http-check send meth GET uri /healthz .*hdr Host", config, re.M)
    assert re.search(r"^\s*timeout tunnel \d+h$", config, re.M), "websockets stay open"
    assert re.search(r"^\s*option forwardfor$", config, re.M)


def _compose_shell(script: str) -> str:
    """What compose hands the shell: `$$` is a literal `$`; a lone `$` would be interpolated."""
    assert "$" not in script.replace("$$", ""), "every $ is escaped from compose"
    return script.replace("$$", "$")


@pytest.mark.parametrize(
    ("allowed", "host"),
    [
        ("console.example.com", "console.example.com"),
        ("console.example.com,other.example.com", "console.example.com"),
        (".example.com", "example.com"),
        ("*", "localhost"),
        (" spaced.example.com , b", "spaced.example.com"),
    ],
)
def test_the_proxys_health_checks_ask_for_a_host_the_console_allows(compose, allowed, host):
    command = compose["services"]["proxy"]["command"]
    assert command[:2] == ["sh", "-c"]
    script = _compose_shell(command[2]).replace("exec haproxy", 'echo "$CONSOLE_HOST" #')
    result = subprocess.run(
        ["sh", "-c", script], env={"ALLOWED_HOSTS": allowed}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == host


def _directives(text: str) -> list[str]:
    return [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


def test_the_local_cluster_runs_the_same_configuration_with_local_servers(tmp_path):
    from tests.cluster_support import local_haproxy_config

    local = _directives(local_haproxy_config([("console1", 8001), ("console2", 8002)]))
    committed = _directives(HAPROXY_CONFIG.read_text())
    assert "    server console1 127.0.0.1:8001 check" in local
    assert "    server console2 127.0.0.1:8002 check" in local
    # Everything else is the committed file, line for line, but Docker's DNS.
    docker = committed.index("resolvers docker")
    assert [line for line in committed[:docker] if "server-template" not in line] == [
        line for line in local if not line.startswith("    server console")
    ]
    path = tmp_path / "haproxy.cfg"
    path.write_text("\n".join(local) + "\n")
    result = _check_config(path, CONSOLE_HOST="127.0.0.1")
    assert result.returncode == 0, result.stdout + result.stderr


# --- the demo profile -----------------------------------------------------------------------


def _env_file(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def test_the_demo_profile_runs_the_sandbox_as_the_consoles_aws(compose):
    sandbox = compose["services"]["sandbox"]
    assert sandbox["profiles"] == ["demo"]
    assert sandbox["environment"]["DASHBOARD_BACKEND"] == "sandbox"
    assert "sandbox_server --host 0.0.0.0 --port 4566" in sandbox["command"][-1]
    assert "seed_sandbox" in sandbox["command"][-1]
    assert sandbox["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    # Same database as the console (its tables are the sandbox's own), never the console's Redis.
    console = compose["services"]["console"]["environment"]
    assert sandbox["environment"]["DATABASE_URL"] == console["DATABASE_URL"]
    assert "REDIS_URL" not in sandbox["environment"]
    demo = _env_file(ROOT / "deploy" / "demo.env")
    assert demo["COMPOSE_PROFILES"] == "demo"
    assert demo["DASHBOARD_BACKEND"] == "aws"
    assert demo["AWS_ENDPOINT_URL"] == "http://sandbox:4566"
    assert demo["AWS_REGION"] and demo["AWS_ACCESS_KEY_ID"] and demo["AWS_SECRET_ACCESS_KEY"]
    # The secrets stay the person's to choose.
    assert "SECRET_KEY" not in demo and "POSTGRES_PASSWORD" not in demo


def _self_signed(host: str) -> str:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM).decode()
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    )
