"""Who the console's credentials are: the account id that resource ARNs are built from."""

from __future__ import annotations

import threading

from django.conf import settings

from .clients import call

_lock = threading.Lock()
_accounts: dict[tuple[str, str, str], str] = {}


def account_id() -> str:
    # The sandbox has no STS; its account is a setting. Against AWS, ask STS once per process.
    if settings.DASHBOARD_BACKEND == "sandbox":
        return settings.SANDBOX_ACCOUNT_ID
    key = (settings.AWS_PROFILE, settings.AWS_REGION, settings.AWS_ENDPOINT_URL)
    with _lock:
        if key not in _accounts:
            _accounts[key] = call("sts", "GetCallerIdentity")["Account"]
        return _accounts[key]
