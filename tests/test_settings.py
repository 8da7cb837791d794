"""Settings come from the environment; production mistakes fail loudly and early."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Variables the settings read: none may leak in from the test run's own environment.
_OURS = (
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_PREFIX",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "AWS_MAX_ATTEMPTS",
    "SANDBOX_FAULTS",
)


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _OURS and not k.startswith(("DASHBOARD_", "PYTEST", "DJANGO"))
    }
    env.update(DJANGO_SETTINGS_MODULE="dashboard.settings", DASHBOARD_VAR_DIR=str(tmp_path))
    env.update(values)
    return env


def _production(tmp_path: Path, **values: str) -> dict[str, str]:
    defaults = {"SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "console.example.com"}
    return _env(tmp_path, **{**defaults, **values})


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _settings(env: dict[str, str], *names: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    result = _run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_finds_no_issues_with_the_production_defaults(tmp_path):
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_defaults_are_secure(tmp_path):
    values = _settings(
        _production(tmp_path),
        "DEBUG",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "X_FRAME_OPTIONS",
        "ALLOWED_HOSTS",
    )
    assert values == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "X_FRAME_OPTIONS": "DENY",
        "ALLOWED_HOSTS": ["console.example.com"],
    }


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("SECRET_KEY", "SECRET_KEY is not set"),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS is not set"),
    ],
)
def test_debug_off_without_a_required_setting_fails_clearly(tmp_path, missing, message):
    env = _production(tmp_path)
    del env[missing]
    result = _run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_an_empty_secret_key_counts_as_missing(tmp_path):
    result = _run(["manage.py", "check"], _production(tmp_path, SECRET_KEY=""))
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_on_needs_neither_and_keeps_a_generated_key(tmp_path):
    env = _env(tmp_path, DASHBOARD_DEBUG="1")
    first = _settings(env, "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG")
    assert first["DEBUG"] is True
    assert len(first["SECRET_KEY"]) >= 50
    assert "localhost" in first["ALLOWED_HOSTS"]
    assert _settings(env, "SECRET_KEY")["SECRET_KEY"] == first["SECRET_KEY"]


def test_a_bad_backend_fails_clearly(tmp_path):
    result = _run(["manage.py", "check"], _production(tmp_path, DASHBOARD_BACKEND="azure"))
    assert result.returncode != 0
    assert "DASHBOARD_BACKEND must be 'sandbox' or 'aws', not 'azure'" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DASHBOARD_DEBUG", "maybe", "DASHBOARD_DEBUG must be true or false"),
        ("AWS_MAX_ATTEMPTS", "three", "AWS_MAX_ATTEMPTS must be a whole number"),
        ("AWS_READ_TIMEOUT", "soon", "AWS_READ_TIMEOUT must be a number"),
    ],
)
def test_malformed_values_fail_clearly(tmp_path, name, value, message):
    result = _run(["manage.py", "check"], _production(tmp_path, **{name: value}))
    assert result.returncode != 0
    assert message in result.stderr


def test_the_defaults_are_sqlite_in_memory_layer_and_local_cache(tmp_path):
    values = _settings(_production(tmp_path), "DATABASES", "CHANNEL_LAYERS", "CACHES")
    assert values["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    layer = values["CHANNEL_LAYERS"]["default"]
    assert layer["BACKEND"] == "dashboard.streams.layers.InMemoryChannelLayer"
    assert layer["CONFIG"] == {"capacity": 1000}
    assert "LocMemCache" in values["CACHES"]["default"]["BACKEND"]
    assert values["CACHES"]["default"]["OPTIONS"] == {"MAX_ENTRIES": 20000}


def test_database_url_selects_postgresql(tmp_path):
    env = _production(tmp_path, DATABASE_URL="postgres://app:pw@db.internal:5432/console")
    db = _settings(env, "DATABASES")["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"]) == (
        "db.internal",
        5432,
        "console",
        "app",
    )


def test_redis_url_selects_channels_redis_and_the_redis_cache(tmp_path):
    env = _production(tmp_path, REDIS_URL="redis://cache.internal:6379/2", REDIS_PREFIX="blue")
    values = _settings(env, "CHANNEL_LAYERS", "CACHES")
    layer = values["CHANNEL_LAYERS"]["default"]
    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert layer["CONFIG"]["hosts"] == [
        {
            "address": "redis://cache.internal:6379/2",
            "max_connections": 1000,
            # Blocking reads must not time out on the client (redis-py 8 defaults to 5 s).
            "socket_timeout": None,
            "socket_connect_timeout": 5,
        }
    ]
    assert layer["CONFIG"]["capacity"] == 10_000
    assert layer["CONFIG"]["prefix"] == "blue:asgi"
    cache = values["CACHES"]["default"]
    assert cache["BACKEND"] == "dashboard.core.cache.ResilientRedisCache"
    assert cache["LOCATION"] == "redis://cache.internal:6379/2"
    assert cache["KEY_PREFIX"] == "blue"
