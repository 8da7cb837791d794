"""Settings, driven entirely by environment variables (see README "Configuration").

Defaults need nothing installed: SQLite, the in-memory channel layer, a local-memory cache
and the built-in sandbox backend. DEBUG is off unless DASHBOARD_DEBUG=1 (the local run command
sets it); with DEBUG off, SECRET_KEY and ALLOWED_HOSTS must be given.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "")
    if value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (1/0, yes/no), not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def envfloat(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    if value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DASHBOARD_DEBUG", False)
VAR_DIR = Path(os.environ.get("DASHBOARD_VAR_DIR", BASE_DIR / "var"))


def _dev_secret_key() -> str:
    # Local runs keep a generated key in var/ so sessions survive restarts without a
    # well-known default key ever signing anything.
    path = VAR_DIR / "dev_secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS")
if DEBUG:
    SECRET_KEY = SECRET_KEY or _dev_secret_key()
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]"]
else:
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DASHBOARD_DEBUG off the console needs a secret key: "
            "set SECRET_KEY to a long random string (python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))')."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS is not set. With DASHBOARD_DEBUG off, list the host names the "
            "console is served under, comma-separated (e.g. ALLOWED_HOSTS=console.example.com)."
        )
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
# The largest form the console accepts (code or a runtime payload of 1,000,000 characters,
# dashboard/agentcore/forms_code.py MAX_INPUT, forms_runtime.py MAX_PAYLOAD) percent-encoded by
# a browser: up to 12 bytes a character. Django's default (2.5 MB) refused such posts with a
# bare "Bad Request" page that lost what was typed.
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", 13 * 1024 * 1024)
# The largest websocket message (and frame) daphne accepts; a larger one closes the socket with
# 1009 ("message too big"), which the page reports. The same forms travel over the page's
# websocket as JSON: 1,000,000 characters are at most 6 bytes each there ("\u0000" escapes;
# 4 for other multibyte text), so 8 MiB fits them with room for the rest of the form. The
# agentcore app's system check refuses limits that the forms would not fit.
WEBSOCKET_MAX_MESSAGE_BYTES = envint("WEBSOCKET_MAX_MESSAGE_BYTES", 8 * 1024 * 1024)
# Forms generated from the model grow a few fields per row (tools, headers, tags): Django's
# default of 1,000 refused a large registration with a bare "Bad Request".
DATA_UPLOAD_MAX_NUMBER_FIELDS = envint("DATA_UPLOAD_MAX_NUMBER_FIELDS", 10_000)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "dashboard.core",
    "dashboard.accounts",
    "dashboard.sandbox",
    "dashboard.spaces",
    "dashboard.tasks",
    "dashboard.browser",
    "dashboard.agentcore",
    "dashboard.flows",
    "dashboard.configuration",
    "dashboard.integrations",
    "dashboard.streams",
    "dashboard.chat",
    "dashboard.prevention",
    "dashboard.inbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Pages compressed (a board's HTML shrinks from ~70 KB to ~10 KB). Against BREACH, Django
    # pads each gzip answer with random bytes (GZipMiddleware.max_random_bytes) and masks the
    # CSRF token per response; no secret typed into a form is ever rendered back. Static files
    # come precompressed from whitenoise (collectstatic) and pass through untouched.
    "django.middleware.gzip.GZipMiddleware",
    # Content-Security-Policy on every answer, with the console's own websockets allowed.
    "dashboard.core.csp.ConsoleCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's LoginRequiredMiddleware, plus HX-Redirect for htmx requests.
    "dashboard.core.middleware.HtmxLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "dashboard.core.middleware.AwsErrorMiddleware",
    # A database that does not answer (a PostgreSQL restart, a failover) is a 503 page that
    # says to retry, not a 500 with a trace.
    "dashboard.core.middleware.DatabaseUnavailableMiddleware",
    # Last, so that it sees the sign-in view's answer: a locked-out attempt is replaced with
    # the login page saying so (dashboard/accounts/lockout.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"
ASGI_APPLICATION = "dashboard.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.core.context_processors.console",
                "dashboard.inbox.context_processors.needs",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'console.sqlite3'}",
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 0),
        # A kept connection is checked before a request reuses it: one the server closed
        # meanwhile (a restart, a failover, an idle timeout) is replaced instead of failing
        # the request.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the watcher, daphne workers and the sandbox read while one of them writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
REDIS_PREFIX = os.environ.get("REDIS_PREFIX", "console")
# Messages waiting for consumers before the channel layer drops new ones (silently): per socket
# in the in-memory layer; with Redis, per daphne process (channels_redis keeps all the sockets of
# a process in one queue). channels' default, 100, was two seconds of one fast reply's deltas,
# and with Redis a tenth of a second of a hundred replies.
CHANNEL_CAPACITY = envint("CHANNEL_CAPACITY", 10_000 if REDIS_URL else 1000)
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py's asyncio pool refuses a connection beyond max_connections (100 by
                # default) instead of waiting: with a hundred replies publishing at once, sends
                # failed with "Too many connections" and consumers died of it.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "max_connections": envint("REDIS_MAX_CONNECTIONS", 1000),
                        # A consumer waits for its next message in a blocking BZPOPMIN (up to
                        # 5 s server-side); redis-py 8 gives reads a 5 s socket timeout by
                        # default, which aborted that wait and killed every idle websocket
                        # consumer every few seconds ("Timeout reading from ...").
                        "socket_timeout": None,
                        "socket_connect_timeout": 5,
                    }
                ],
                "prefix": REDIS_PREFIX + ":asgi",
                "capacity": CHANNEL_CAPACITY,
            },
        }
    }
    CACHES = {
        "default": {
            # Django's Redis cache, answering "not cached" rather than an error page while
            # Redis is unreachable (dashboard/core/cache.py).
            "BACKEND": "dashboard.core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
        }
    }
else:
    # channels' in-memory layer, without its per-message walk over every socket's queue
    # (dashboard/streams/layers.py).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "dashboard.streams.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": CHANNEL_CAPACITY},
        }
    }
    # The local-memory cache evicts a third of its entries, least recently used first, once it
    # holds MAX_ENTRIES (Django's default: 300): the stream replay log of 60 running replies
    # already exceeds that, and losing it loses events for tabs that join or reconnect.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": envint("CACHE_MAX_ENTRIES", 20_000)},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# The inbox: what needs the person now, across every agent space.
LOGIN_REDIRECT_URL = "inbox:inbox"
LOGOUT_REDIRECT_URL = "login"

# --- Sign-in: local passwords (limited guessing) and single sign-on (OpenID Connect) -------
# Local passwords can be switched off once single sign-on works; `manage.py bootstrap` and
# `changepassword` still set passwords, the sign-in page no longer takes them.
PASSWORD_SIGN_IN = envbool("PASSWORD_SIGN_IN", True)
AUTHENTICATION_BACKENDS = [
    # First: refuses any attempt while the user or the address is locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Limited guessing (django-axes): failures are counted in the database, so every daphne
# process of a deployment sees the same counts and lockouts.
AXES_FAILURE_LIMIT = envint("SIGN_IN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("SIGN_IN_COOLOFF_MINUTES", 15))
# Per user and, separately, per address: guessing one user's password from many addresses
# and many users' passwords from one address are both stopped.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# axes' reset on success would forgive every failure from the signing-in address, guesses at
# other users' passwords included: anyone with an account could then guess without limit.
# The sign-in view forgives the user's own failures from that address only
# (dashboard.accounts.lockout.forgive).
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "dashboard.accounts.lockout.locked_out"
AXES_VERBOSE = False
# The client's address (dashboard/accounts/lockout.py): behind the proxy, the hop the proxy
# added to X-Forwarded-For; otherwise the socket's peer.
AXES_CLIENT_IP_CALLABLE = "dashboard.accounts.lockout.client_ip"
# The audit log records sign-ins; axes keeps only the failure counts.
AXES_DISABLE_ACCESS_LOG = True

# Single sign-on through any OpenID Connect provider, on when OIDC_ISSUER is set: endpoints
# and keys come from its discovery document. Groups in OIDC_GROUPS_CLAIM map to roles; a user
# in none of the mapped groups is not let in.
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").rstrip("/")
OIDC_DISCOVERY_URL = os.environ.get("OIDC_DISCOVERY_URL", "") or (
    f"{OIDC_ISSUER}/.well-known/openid-configuration" if OIDC_ISSUER else ""
)
OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
OIDC_SCOPES = os.environ.get("OIDC_SCOPES", "openid email profile")
OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "single sign-on")
OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "groups")
OIDC_USERNAME_CLAIM = os.environ.get("OIDC_USERNAME_CLAIM", "preferred_username")
OIDC_ROLE_GROUPS = {
    "viewer": envlist("OIDC_VIEWER_GROUPS"),
    "operator": envlist("OIDC_OPERATOR_GROUPS"),
    "admin": envlist("OIDC_ADMIN_GROUPS"),
}
OIDC_TIMEOUT = envfloat("OIDC_TIMEOUT", 10.0)
if OIDC_ISSUER:
    if not (OIDC_CLIENT_ID and OIDC_CLIENT_SECRET):
        raise ImproperlyConfigured(
            "OIDC_ISSUER is set, so single sign-on is on: set OIDC_CLIENT_ID and "
            "OIDC_CLIENT_SECRET to the client registered at the provider."
        )
    if not any(OIDC_ROLE_GROUPS.values()):
        raise ImproperlyConfigured(
            "Single sign-on lets in only members of mapped groups: set at least one of "
            "OIDC_VIEWER_GROUPS, OIDC_OPERATOR_GROUPS, OIDC_ADMIN_GROUPS."
        )
    if "openid" not in OIDC_SCOPES.split():
        raise ImproperlyConfigured("OIDC_SCOPES must include 'openid'.")
if not PASSWORD_SIGN_IN and not OIDC_ISSUER:
    raise ImproperlyConfigured(
        "PASSWORD_SIGN_IN=0 leaves no way to sign in: set up single sign-on (OIDC_ISSUER) first."
    )

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            # whitenoise's compressed manifest storage, except that pages still work (with
            # plain file names) before `collectstatic` has run: dashboard/core/staticfiles.py.
            else "dashboard.core.staticfiles.ConsoleStaticFilesStorage"
        )
    },
}
# Also in production: what collectstatic has not collected is served from the source folders.
WHITENOISE_USE_FINDERS = True

# Security: sensible when served over TLS behind a proxy; DASHBOARD_HTTPS=0 for plain HTTP.
HTTPS = envbool("DASHBOARD_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and envbool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
# The container healthcheck asks for /healthz over plain HTTP from inside the container.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
BEHIND_PROXY = envbool("DASHBOARD_BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 12 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): scripts and styles only from the console's own static
# files, nothing inline, no eval; the console's own websockets (ws:/wss: to the host the page
# came from) are added per request by dashboard.core.csp. Violations are reported to
# /csp-report, which logs one line each.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # blob: the sandbox's browser live view shows its frames as blob: images.
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "report-uri": ["/csp-report"],
    }
}
# Violation reports logged per process per minute; more are counted and dropped.
CSP_REPORTS_PER_MINUTE = envint("CSP_REPORTS_PER_MINUTE", 60)

# --- AWS -------------------------------------------------------------------------------
DASHBOARD_BACKEND = os.environ.get("DASHBOARD_BACKEND", "sandbox")
# Agent spaces the inbox reads from AWS at once: their reads are network waits. The sandbox
# answers in-process (Python, one interpreter lock), where reading side by side only adds
# contention (bench/inbox.py), so it reads one at a time.
INBOX_FETCH_THREADS = envint("INBOX_FETCH_THREADS", 1 if DASHBOARD_BACKEND == "sandbox" else 8)
if DASHBOARD_BACKEND not in ("sandbox", "aws"):
    raise ImproperlyConfigured(
        f"DASHBOARD_BACKEND must be 'sandbox' or 'aws', not {DASHBOARD_BACKEND!r}"
    )
# Region and profile go through boto3's normal chain; these only override it.
AWS_REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or ""
AWS_PROFILE = os.environ.get("AWS_PROFILE", "")
AWS_CONNECT_TIMEOUT = envfloat("AWS_CONNECT_TIMEOUT", 5.0)
AWS_READ_TIMEOUT = envfloat("AWS_READ_TIMEOUT", 30.0)
AWS_MAX_ATTEMPTS = envint("AWS_MAX_ATTEMPTS", 3)
# Threads for blocking boto3 calls made from async code (websocket consumers, watchers).
AWS_EXECUTOR_THREADS = envint("AWS_EXECUTOR_THREADS", 16)
# Optional endpoint override for the aws backend (e.g. `manage.py sandbox_server`).
AWS_ENDPOINT_URL = os.environ.get("AWS_ENDPOINT_URL", "")

# --- Sandbox ---------------------------------------------------------------------------
# Fault injection, e.g. "throttle=0.2,error=0.05,slow=0.1,slow_seconds=2".
SANDBOX_FAULTS = os.environ.get("SANDBOX_FAULTS", "")
SANDBOX_ACCOUNT_ID = os.environ.get("SANDBOX_ACCOUNT_ID", "123456789012")
# How fast the simulated agent works: 1.0 is a few minutes per investigation, 10 ten times faster.
SANDBOX_PACE = envfloat("SANDBOX_PACE", 1.0)
# Browser sessions: a real headless Chromium each when this file exists (else generated frames),
# at most this many at once, their stream endpoints served by the console's daphne at this URL.
SANDBOX_CHROMIUM = os.environ.get("SANDBOX_CHROMIUM", "/usr/bin/chromium")
SANDBOX_BROWSER_MAX_SESSIONS = envint("SANDBOX_BROWSER_MAX_SESSIONS", 4)
SANDBOX_STREAM_URL = os.environ.get("SANDBOX_STREAM_URL", "http://127.0.0.1:8000")

# --- AgentCore browser live view ------------------------------------------------------------
# A folder holding the Amazon DCV Web Client SDK (dcv.js and its dcv/ and lib/ folders).
DCV_SDK_DIR = os.environ.get("DCV_SDK_DIR", "")
# Lifetime of a presigned live-view URL (AgentCore allows at most 300 s).
BROWSER_LIVE_VIEW_EXPIRES = envint("BROWSER_LIVE_VIEW_EXPIRES", 300)
if not 10 <= BROWSER_LIVE_VIEW_EXPIRES <= 300:
    raise ImproperlyConfigured("BROWSER_LIVE_VIEW_EXPIRES must be between 10 and 300 seconds")

# Simulated chat agent (dashboard/sandbox/chat_agent.py): seconds per streamed token, replies
# in flight per agent space before ServiceQuotaExceededException, and chat fault injection,
# e.g. "fail=0.1,cut=0.1,stall=0.05,seed=1" (see dashboard/sandbox/chat_agent.py).
SANDBOX_CHAT_TOKEN_SECONDS = envfloat("SANDBOX_CHAT_TOKEN_SECONDS", 0.04)
SANDBOX_CHAT_CONCURRENCY = envint("SANDBOX_CHAT_CONCURRENCY", 3)
SANDBOX_CHAT_FAULTS = os.environ.get("SANDBOX_CHAT_FAULTS", "")
# Simulated AgentCore code interpreter and agent runtimes (no submitted code ever runs): READY
# code interpreter sessions at once, seconds between streamed output pieces, seconds per token.
SANDBOX_CODE_MAX_SESSIONS = envint("SANDBOX_CODE_MAX_SESSIONS", 8)
SANDBOX_CODE_STEP_SECONDS = envfloat("SANDBOX_CODE_STEP_SECONDS", 0.1)
SANDBOX_RUNTIME_TOKEN_SECONDS = envfloat("SANDBOX_RUNTIME_TOKEN_SECONDS", 0.03)

# --- Streams (dashboard/streams: AWS event streams relayed to websockets) -----------------
# Threads that iterate blocking AWS event streams; when all are busy a new stream is refused.
STREAM_THREADS = envint("STREAM_THREADS", 32)
# Later events of a stream are sent in batches at most this far apart (the first at once).
STREAM_COALESCE_SECONDS = envfloat("STREAM_COALESCE_SECONDS", 0.05)
# A stream silent (not even a heartbeat) this long is reported as broken off.
STREAM_IDLE_TIMEOUT = envfloat("STREAM_IDLE_TIMEOUT", 60.0)
# How often viewers hear that a quiet stream is still alive.
STREAM_HEARTBEAT_SECONDS = envfloat("STREAM_HEARTBEAT_SECONDS", 10.0)
# How long the replay log of a finished stream is kept for tabs that reconnect.
STREAM_LOG_TTL = envfloat("STREAM_LOG_TTL", 900.0)
# Without Redis: streams whose replay logs one process keeps (least recently started go first).
STREAM_LOG_MAX_KEYS = envint("STREAM_LOG_MAX_KEYS", 5000)
# A reply whose relay died: another process reads the chat's journal this often, this long.
STREAM_RECOVER_POLL = envfloat("STREAM_RECOVER_POLL", 2.0)
STREAM_RECOVER_SECONDS = envfloat("STREAM_RECOVER_SECONDS", 600.0)
# Characters a page may hold unacknowledged before its socket is paused (dashboard/fanout).
FANOUT_WINDOW = envint("FANOUT_WINDOW", 1_048_576)
# The no-JavaScript chat form waits at most this long for the reply before showing the page.
CHAT_WAIT_SECONDS = envfloat("CHAT_WAIT_SECONDS", 120.0)
# The no-JavaScript code interpreter and runtime playground forms wait at most this long.
AGENTCORE_WAIT_SECONDS = envfloat("AGENTCORE_WAIT_SECONDS", 120.0)

# --- Live updates ------------------------------------------------------------------------
# Seconds between polls of a watched resource (one poller per resource across all processes).
LIVE_POLL_INTERVAL = envfloat("LIVE_POLL_INTERVAL", 5.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"one_line_refusals": {"()": "dashboard.core.logfilters.OneLineRefusals"}},
    # On the handler: Django logs refusals on child loggers too (django.security.DisallowedHost).
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["one_line_refusals"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        # 403s and 400s are one line each: the console handler's filter
        # (dashboard/core/logfilters.py).
        # axes logs every sign-in at INFO; the audit log has them.
        "axes": {"level": "WARNING"},
    },
}
