"""The console's scale-out topology on this machine, started and stopped from Python.

    HAProxy (deploy/haproxy.cfg, Debian's haproxy) ──► daphne 1 ─┐
         one URL, websockets, /healthz checks   ├──► daphne 2 ─┼─► PostgreSQL (a database of
                                                └──► daphne 3 ─┤   its own) and Redis (a key
                                                               │   prefix of its own)
                                                               └─► the sandbox as AWS:
                                                                   `manage.py sandbox_server`

Each daphne runs the production settings (`dashboard.settings`, DEBUG off) with
`DASHBOARD_BACKEND=aws` and `AWS_ENDPOINT_URL` pointing at the sandbox server: the console
talks to the emulator exactly as a deployment talks to AWS (signed requests over HTTP; host
prefixes off because the endpoint is set; any access key, the sandbox checks no signatures).

Used by `make scale-demo` (scripts/scale_demo.py), the cluster tests (tests/test_cluster.py)
and the benchmarks (bench/: `sys.path.insert(0, ROOT)`, then `from tests.cluster_support
import Cluster`):

    with Cluster(processes=3) as cluster:
        cluster.url                         # the proxy, e.g. http://127.0.0.1:41234
        http = cluster.sign_in()            # requests.Session signed in through the proxy
        keys = cluster.sessions(1000, role="viewer")   # session cookies made in the database
        cluster.shell("from dashboard.aws import spaces; print(spaces.list_spaces())")
        cluster.kill(1)                     # SIGKILL the second daphne
        cluster.revive(1)                   # and start it again on its port

Every run takes free ports, a PostgreSQL database and a Redis key prefix of its own (both
removed by `stop()`), and a temporary folder for the logs; nothing clashes with another run.
Every process is started in a session of its own and stopped by its process group id.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.browser_support import manage as run_manage

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
HAPROXY_CONFIG = ROOT / "deploy" / "haproxy.cfg"
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
# The access key the console signs with. The sandbox checks no signatures, but it keeps chats
# per caller (the key), as AWS keeps them per principal.
ACCESS_KEY_ID = "ASIASANDBOX"
# The caller's environment is not inherited (its DATABASE_URL, AWS profile or settings module
# would change what runs); only these pass through.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER", "LOGNAME")


# `sessions(count, role, prefix)` in `Cluster.shell` code: session keys of signed-in users.
SESSIONS = """
def sessions(count, role, prefix):
    from django.contrib.auth.models import Group, User
    from django.contrib.sessions.backends.db import SessionStore

    group = Group.objects.get_or_create(name=role)[0]
    keys = []
    for n in range(count):
        user, _ = User.objects.get_or_create(username=prefix + str(n))
        user.groups.add(group)
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    return keys
"""


def haproxy_binary() -> str | None:
    """Debian's haproxy (apt-get install haproxy), or None."""
    return shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.access(p, os.X_OK)),
        None,
    )


_taken: set[int] = set()


def free_port() -> int:
    """A port nobody listens on (and not one handed out before by this process)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _taken:
            _taken.add(port)
            return port


def local_haproxy_config(servers: list[tuple[str, int]], source: Path = HAPROXY_CONFIG) -> str:
    """deploy/haproxy.cfg with its `server-template` line (Docker's DNS) replaced by one
    `server` line per local process, and without the Docker DNS resolver."""
    out: list[str] = []
    skipping = False
    replaced = False
    for line in source.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("resolvers "):
            skipping = True  # the section lasts until the next section or the end
            continue
        if skipping:
            if line[:1].isspace() or not stripped or stripped.startswith("#"):
                continue
            skipping = False
        if stripped.startswith("server-template "):
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(f"{indent}server {name} 127.0.0.1:{port} check" for name, port in servers)
            replaced = True
            continue
        out.append(line)
    if not replaced:
        raise RuntimeError(f"{source} has no server-template line to replace")
    return "\n".join(out) + "\n"


class Process:
    """One child process in a session of its own, its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.log_path = log
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen is not None else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, signum: int) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signum)  # its own group (start_new_session)

    def kill(self) -> None:
        """SIGKILL, as when a machine or container dies: nothing runs on the way out."""
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(10)

    def stop(self, timeout: float = 10) -> None:
        if self.popen is None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait(10)

    def log(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class Cluster:
    """N daphne processes behind HAProxy, the sandbox server as AWS, PostgreSQL and Redis.

    `env` is added to the daphne processes' environment (e.g. STREAM_HEARTBEAT_SECONDS),
    `sandbox_env` to the sandbox server's (e.g. SANDBOX_CHAT_TOKEN_SECONDS: the simulated agent
    runs there). `seed=True` fills the sandbox with the demo world (`seed_sandbox`).
    `sandbox_command(port)` replaces `manage.py sandbox_server` (e.g. a benchmark's entry point
    that stamps the agent's deltas); `redis_url` may name a Redis of the caller's own (e.g. one
    started for clean `INFO commandstats`)."""

    def __init__(
        self,
        processes: int = 3,
        *,
        env: dict[str, str] | None = None,
        sandbox_env: dict[str, str] | None = None,
        database_url: str | None = None,
        redis_url: str | None = None,
        port: int | None = None,
        host: str = "127.0.0.1",
        seed: bool = False,
        keep: bool = False,
        workdir: Path | None = None,
        log_level: str = "WARNING",
        sandbox_command: Callable[[int], list[str]] | None = None,
    ) -> None:
        if processes < 1:
            raise ValueError("A cluster needs at least one daphne process")
        self.processes = processes
        self.token = secrets.token_hex(4)
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix=f"console-cluster-{self.token}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = port or free_port()
        self.url = f"http://{host}:{self.port}"
        self.ws_url = f"ws://{host}:{self.port}"
        self.seed = seed
        self.keep = keep
        admin = (
            database_url
            or os.environ.get("CLUSTER_DATABASE_URL")
            or os.environ.get("DATABASE_URL")
            or DEFAULT_DATABASE
        )
        if not admin.startswith(("postgres://", "postgresql://")):
            admin = DEFAULT_DATABASE  # e.g. a SQLite DATABASE_URL: the cluster needs PostgreSQL
        self.admin_url = admin
        self.database = f"console_cluster_{self.token}"
        self.database_url = re.sub(r"/[^/?]*(\?|$)", rf"/{self.database}\1", admin, count=1)
        self.redis_url = (
            redis_url
            or os.environ.get("CLUSTER_REDIS_URL")
            or os.environ.get("REDIS_URL")
            or DEFAULT_REDIS
        )
        self.redis_prefix = f"console-cluster-{self.token}"
        self.username = "admin"
        self.password = ""
        self.sandbox_port = free_port()
        self.ports = [free_port() for _ in range(processes)]
        self.names = [f"console{i + 1}" for i in range(processes)]
        self.secret_key = secrets.token_urlsafe(50)
        self.log_level = log_level
        self._env_extra = dict(env or {})
        self._sandbox_extra = dict(sandbox_env or {})
        self._sandbox_command = sandbox_command or _sandbox_server
        self.daphnes: list[Process] = []
        self.sandbox: Process | None = None
        self.proxy: Process | None = None
        self._database_made = False
        self.started = False

    # --- environments ---------------------------------------------------------------------------

    def _base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k in INHERITED}
        hosts = sorted({self.host, "127.0.0.1", "localhost"})
        env.update(
            DJANGO_SETTINGS_MODULE="dashboard.settings",
            PYTHONUNBUFFERED="1",
            SECRET_KEY=self.secret_key,
            ALLOWED_HOSTS=",".join(hosts),
            CSRF_TRUSTED_ORIGINS=",".join(f"http://{h}:{self.port}" for h in hosts),
            DASHBOARD_HTTPS="0",
            DATABASE_URL=self.database_url,
            DATABASE_CONN_MAX_AGE="0",
            DASHBOARD_VAR_DIR=str(self.workdir / "var"),
            LOG_LEVEL=self.log_level,
        )
        return env

    @property
    def console_env(self) -> dict[str, str]:
        """What every daphne process (and `manage()`) runs with."""
        env = self._base_env()
        env.update(
            DASHBOARD_BEHIND_PROXY="1",
            REDIS_URL=self.redis_url,
            REDIS_PREFIX=self.redis_prefix,
            DASHBOARD_BACKEND="aws",
            AWS_ENDPOINT_URL=f"http://127.0.0.1:{self.sandbox_port}",
            AWS_ACCESS_KEY_ID=ACCESS_KEY_ID,
            AWS_SECRET_ACCESS_KEY="sandbox",  # any: the sandbox checks no signatures
            AWS_REGION="us-east-1",
            # Where boto3 would look for profiles: nothing of the caller's.
            AWS_CONFIG_FILE=str(self.workdir / "aws-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(self.workdir / "aws-credentials"),
        )
        env.update(self._env_extra)
        return env

    @property
    def sandbox_env(self) -> dict[str, str]:
        """The sandbox server's: the embedded backend, on the same database (its own tables)."""
        env = self._base_env()
        env.update(DASHBOARD_BACKEND="sandbox")
        env.update(self._sandbox_extra)
        return env

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Cluster:
        binary = haproxy_binary()
        if binary is None:
            raise RuntimeError("haproxy is not installed (apt-get install haproxy)")
        try:
            self._create_database()
            # Static files collected as a deployment does (the Docker image at build time),
            # meanwhile migrations run.
            collect = subprocess.Popen(
                [str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"],
                cwd=ROOT,
                env=self.console_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            try:
                self.manage("migrate", "--noinput", "-v0", timeout=300)
            finally:
                _, error = collect.communicate(timeout=300)
            if collect.returncode != 0:
                raise RuntimeError(f"collectstatic failed:\n{error.decode(errors='replace')}")
            out = self.manage("bootstrap", "--username", self.username)
            found = re.search(r"with password: (\S+)", out)
            if not found:
                raise RuntimeError(f"bootstrap printed no password:\n{out}")
            self.password = found.group(1)
            if self.seed:
                self.manage("seed_sandbox", env=self.sandbox_env, timeout=300)
            self.sandbox = Process(
                "sandbox",
                self._sandbox_command(self.sandbox_port),
                self.sandbox_env,
                self.workdir / "sandbox.log",
            ).start()
            self.daphnes = [self._daphne(i) for i in range(self.processes)]
            for process in self.daphnes:
                process.start()
            _wait_for(lambda: _listening(self.sandbox_port), "the sandbox server", self.sandbox)
            for i, process in enumerate(self.daphnes):
                self._wait_healthy(i, process)
            self._start_proxy(binary)
            self.started = True
        except BaseException:
            self.stop()
            raise
        return self

    def _daphne(self, index: int) -> Process:
        return Process(
            self.names[index],
            [
                str(VENV_BIN / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(self.ports[index]),
                "dashboard.asgi:application",
            ],
            self.console_env,
            self.workdir / f"{self.names[index]}.log",
        )

    def _wait_healthy(self, index: int, process: Process, timeout: float = 60) -> None:
        url = f"http://127.0.0.1:{self.ports[index]}/healthz"

        def healthy() -> bool:
            request = urllib.request.Request(url, headers={"Host": "127.0.0.1"})
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    return response.status == 200
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                return False

        _wait_for(healthy, f"daphne {self.names[index]}", process, timeout)

    def _start_proxy(self, binary: str) -> None:
        config = self.workdir / "haproxy.cfg"
        config.write_text(local_haproxy_config(list(zip(self.names, self.ports, strict=True))))
        env = {k: v for k, v in os.environ.items() if k in INHERITED}
        env.update(
            CONSOLE_HOST="127.0.0.1",
            PROXY_BIND=f"{self.host}:{self.port}",
            HAPROXY_SOCKET=str(self.socket_path),
        )
        check = subprocess.run(
            [binary, "-c", "-q", "-f", str(config)], env=env, capture_output=True, text=True
        )
        if check.returncode != 0:
            raise RuntimeError(f"haproxy refused {config}:\n{check.stdout}{check.stderr}")
        # -db: in the foreground, not a daemon (stopped with the cluster, its log in the file).
        self.proxy = Process(
            "haproxy", [binary, "-db", "-f", str(config)], env, self.workdir / "haproxy.log"
        ).start()
        _wait_for(
            lambda: self.socket_path.exists() and self.up() == set(self.names),
            "haproxy and its health checks",
            self.proxy,
        )

    @property
    def socket_path(self) -> Path:
        return self.workdir / "haproxy.sock"

    def stop(self) -> None:
        """Stop every process, drop the database and the Redis keys (unless `keep`)."""
        for process in [self.proxy, *self.daphnes, self.sandbox]:
            if process is not None:
                try:
                    process.stop()
                except Exception as exc:  # stop the others anyway
                    print(f"could not stop {process.name}: {exc}", file=sys.stderr)
        self.started = False
        if self.keep:
            return
        try:
            self._drop_redis_keys()
        except Exception as exc:
            print(f"could not remove the cluster's Redis keys: {exc}", file=sys.stderr)
        if self._database_made:
            try:
                self._drop_database()
            except Exception as exc:
                print(f"could not drop database {self.database}: {exc}", file=sys.stderr)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- PostgreSQL and Redis -----------------------------------------------------------------

    def _admin(self) -> Any:
        import psycopg

        url = self.admin_url.replace("postgres://", "postgresql://", 1)
        return psycopg.connect(url, autocommit=True, connect_timeout=5)

    def _create_database(self) -> None:
        with self._admin() as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')
        self._database_made = True

    def _drop_database(self) -> None:
        with self._admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self._database_made = False

    def redis(self) -> Any:
        import redis

        return redis.Redis.from_url(self.redis_url, socket_connect_timeout=5)

    def _drop_redis_keys(self) -> None:
        client = self.redis()
        try:
            batch: list[bytes] = []
            for name in client.scan_iter(match=f"{self.redis_prefix}:*", count=1000):
                batch.append(name)
                if len(batch) >= 1000:
                    client.delete(*batch)
                    batch = []
            if batch:
                client.delete(*batch)
        finally:
            client.close()

    # --- the console's own commands ----------------------------------------------------------

    def manage(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> str:
        """`manage.py` in the console's environment (AWS calls go to the sandbox server)."""
        return run_manage(args, env=env or self.console_env, timeout=timeout)

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code)

    def shell_json(self, code: str) -> Any:
        """Run `code`, which ends by printing one JSON document, and return it parsed."""
        return json.loads(self.shell(code).strip().splitlines()[-1])

    def sessions(self, count: int, *, role: str = "viewer", prefix: str = "") -> list[str]:
        """Session keys of `count` signed-in users of `role` (made in the database in one go:
        signing in a thousand viewers through the form would take minutes of password hashing).
        """
        prefix = prefix or f"{role}-"
        code = (
            f"import json\n{SESSIONS}print(json.dumps(sessions({count}, {role!r}, {prefix!r})))\n"
        )
        return list(self.shell_json(code))

    def sign_in(self, username: str | None = None, password: str | None = None) -> Any:
        """A requests.Session signed in through the proxy's sign-in form (the admin by default)."""
        import requests

        http = requests.Session()
        http.get(self.url + "/accounts/login/", timeout=30).raise_for_status()
        response = http.post(
            self.url + "/accounts/login/",
            data={
                "username": username or self.username,
                "password": password if password is not None else self.password,
                "csrfmiddlewaretoken": http.cookies["csrftoken"],
            },
            timeout=30,
        )
        if not response.url.endswith("/spaces/"):
            raise RuntimeError(f"signing in failed: {response.status_code} {response.url}")
        return http

    # --- the processes --------------------------------------------------------------------------

    def kill(self, index: int) -> None:
        """SIGKILL daphne `index` (0-based): its sockets drop, its relays die mid-stream."""
        self.daphnes[index].kill()

    def revive(self, index: int, *, wait_for_proxy: bool = True) -> None:
        """Start daphne `index` again on its port (after `kill`)."""
        self.daphnes[index] = self._daphne(index).start()
        self._wait_healthy(index, self.daphnes[index])
        if wait_for_proxy:
            _wait_for(lambda: self.names[index] in self.up(), "haproxy to see it", self.proxy)

    def index_of(self, replica: str) -> int:
        """The daphne a response's X-Console-Replica header names."""
        return self.names.index(replica)

    def proxy_stats(self) -> list[dict[str, str]]:
        """HAProxy's `show stat` (one row per frontend, server and backend)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(self.socket_path))
            sock.sendall(b"show stat\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        text = b"".join(chunks).decode().lstrip("# ")
        return list(csv.DictReader(io.StringIO(text)))

    def up(self) -> set[str]:
        """The daphne processes HAProxy sends traffic to now."""
        try:
            rows = self.proxy_stats()
        except OSError:
            return set()
        return {
            row["svname"]
            for row in rows
            if row.get("pxname") == "consoles"
            and row["svname"] in self.names
            and row.get("status", "").startswith("UP")
        }

    def logs(self, chars: int = 3000) -> str:
        """The tail of every process's log (for a failing test's report)."""
        out = []
        for process in [self.proxy, self.sandbox, *self.daphnes]:
            if process is not None:
                out.append(f"--- {process.name} ({process.log_path}) ---\n{process.log(chars)}")
        return "\n".join(out)

    def describe(self) -> str:
        lines = [
            f"  Agent Console (through HAProxy): {self.url}/",
            f"  Sign in as {self.username!r} with password: {self.password}",
            f"  {self.processes} daphne processes: "
            + ", ".join(
                f"{process.name} on :{port} (pid {process.pid})"
                for process, port in zip(self.daphnes, self.ports, strict=True)
            ),
            f"  the sandbox server (as AWS): http://127.0.0.1:{self.sandbox_port}",
            f"  PostgreSQL database {self.database}, Redis {self.redis_url} "
            f"(keys {self.redis_prefix}:*)",
            f"  logs: {self.workdir}",
        ]
        return "\n".join(lines)


def _sandbox_server(port: int) -> list[str]:
    return [
        str(VENV_BIN / "python"),
        "manage.py",
        "sandbox_server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait_for(
    condition: Callable[[], bool], what: str, process: Process | None, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and not process.alive():
            raise RuntimeError(f"{what}: the process exited:\n{process.log()}")
        if time.monotonic() > deadline:
            log = process.log() if process is not None else ""
            raise RuntimeError(f"{what} not ready within {timeout:g} s:\n{log}")
        time.sleep(0.1)


async def connect(cluster: Cluster, path: str, session: str, **options: Any) -> Any:
    """A websocket through the proxy as a signed-in page opens it (session cookie, the
    console's own Origin). `socket.replica` names the daphne it landed on."""
    import websockets

    socket_ = await websockets.connect(
        cluster.ws_url + path,
        origin=cluster.url,  # type: ignore[arg-type]
        additional_headers={"Cookie": f"sessionid={session}"},
        max_size=None,
        open_timeout=30,
        **options,
    )
    response = socket_.response
    socket_.replica = response.headers.get("X-Console-Replica", "") if response else ""
    return socket_
