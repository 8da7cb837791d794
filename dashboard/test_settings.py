"""Test settings: the one settings module, given the environment a test run needs."""

import os
import tempfile
import urllib.parse

os.environ.setdefault("SECRET_KEY", "insecure-key-for-tests-only-" + "x" * 30)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DASHBOARD_HTTPS", "0")
os.environ.setdefault("AWS_MAX_ATTEMPTS", "1")
os.environ.setdefault("DASHBOARD_BACKEND", "sandbox")
# pytest-xdist workers (gw0, gw1, ...) share one Redis server: each takes its own database
# number after the one given (tests clear the cache, which empties the whole database) and its
# own key prefix. pytest-django gives each worker its own test database as well.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and os.environ.get("REDIS_URL"):
    _url = urllib.parse.urlsplit(os.environ["REDIS_URL"])
    _db = int(_url.path.strip("/") or 0) + int(_worker[2:])
    os.environ["REDIS_URL"] = urllib.parse.urlunsplit(_url._replace(path=f"/{_db}"))
    os.environ["REDIS_PREFIX"] = os.environ.get("REDIS_PREFIX", "console-test") + "-" + _worker

from dashboard.settings import *  # noqa: F403, E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# whitenoise warns about a missing STATIC_ROOT on every request; tests serve through finders.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Concurrent test runs on one PostgreSQL server must not drop each other's test database.
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"test_console_{os.getpid()}"}  # noqa: F405
else:
    # A file, not SQLite's in-memory database: its shared cache refuses a second writer at once
    # ("database table is locked") where a file database in WAL mode waits its turn, and the
    # live tests write from several threads (pollers, stream readers, consumers). In memory
    # (/dev/shm) where there is one, so it costs no disk writes.
    _shm = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()  # noqa: S108
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(_shm, f"console-test-{os.getpid()}.sqlite3")
    }
