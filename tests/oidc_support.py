"""A real OpenID Connect provider for the single sign-on tests: panva's oidc-provider on the
machine's node, from tests/oidc_provider/ (installed by scripts/test.sh with `npm ci`; nothing
is downloaded while the tests run).

    with OidcProvider(tmp_path, redirect_uri=console + "/accounts/sso/callback/") as idp:
        idp.set_accounts({"ana": {"groups": ["console-admins"]}})
        ... OIDC_ISSUER=idp.issuer, OIDC_CLIENT_ID=idp.client_id, ...
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.browser_support import free_port

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc_provider"


def require_oidc_provider() -> None:
    """Skip without node or the installed provider, except under CI=true, where these tests
    must run."""
    import pytest

    reason = ""
    if shutil.which("node") is None:
        reason = "node is not installed (apt-get install nodejs)"
    elif not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        reason = "the test OIDC provider is not installed: npm ci --prefix tests/oidc_provider"
    if not reason:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the single sign-on tests, but {reason}")
    pytest.skip(reason)


class OidcProvider:
    """oidc-provider in its own node process on a free port. Use as a context manager."""

    def __init__(self, workdir: Path, *, redirect_uri: str) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client_id = "agent-console"
        self.client_secret = secrets.token_urlsafe(24)
        self.redirect_uri = redirect_uri
        self.accounts_file = self.workdir / "accounts.json"
        self.log_path = self.workdir / "oidc-provider.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.set_accounts({})

    def set_accounts(self, accounts: dict[str, dict[str, Any]]) -> None:
        """Who exists at the provider and in which groups (read at every sign-in)."""
        tmp = self.accounts_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(accounts))
        tmp.replace(self.accounts_file)

    def console_env(self, **extra: str) -> dict[str, str]:
        """The console's environment for this provider."""
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": self.client_id,
            "OIDC_CLIENT_SECRET": self.client_secret,
            "OIDC_SCOPES": "openid email profile groups",
            **extra,
        }

    def start(self) -> OidcProvider:
        config = self.workdir / "config.json"
        config.write_text(
            json.dumps(
                {
                    "port": self.port,
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "redirect_uris": [self.redirect_uri],
                    "accounts_file": str(self.accounts_file),
                }
            )
        )
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            ["node", str(PROVIDER_DIR / "server.mjs"), str(config)],
            cwd=PROVIDER_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"oidc-provider exited:\n{self.log()}")
            if f"ready {self.issuer}" in self.log():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"oidc-provider did not start within 30 s:\n{self.log()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> OidcProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
