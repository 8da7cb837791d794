"""Starting a code interpreter run or an agent runtime invocation: from a page's websocket or
from the plain form post (no JavaScript), the same checks, the same audit and the same
errors.

A start returns `Started`: the relay of the new run, or why there is none (role, invalid
input, busy, AWS's refusal) with the form still holding what the person typed. Validation
against the model happens before AWS is called; AWS's own field errors are placed next to the
fields they name.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings

from dashboard import streams
from dashboard.aws import agentcore_code as code_api
from dashboard.aws import agentcore_runtime as runtime_api
from dashboard.aws import errors, executor
from dashboard.aws.model import redact
from dashboard.core import roles
from dashboard.core.audit import record
from dashboard.core.models import AuditEntry

from . import code_runs, runtime_runs
from .forms_code import AWS_FIELDS as CODE_FIELDS
from .forms_code import ToolForm
from .forms_runtime import AWS_FIELDS as RUNTIME_FIELDS
from .forms_runtime import InvokeForm

logger = logging.getLogger(__name__)

AUDIT_TEXT = 500  # characters of code, commands and payloads kept in the audit log
SERVICE = code_api.SERVICE


@dataclass
class Started:
    form: forms.Form
    relay: streams.Relay | None = None
    error: str = ""
    status: int = 200
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.relay is not None


class _Who:
    """What audit.record needs of a request: the user."""

    def __init__(self, user: Any) -> None:
        self.user = user


def wait_seconds() -> float:
    return float(getattr(settings, "AGENTCORE_WAIT_SECONDS", 120.0))


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > AUDIT_TEXT:
        return value[:AUDIT_TEXT] + f"… ({len(value)} characters)"
    if isinstance(value, dict):
        return {k: _short(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_short(v) for v in value]
    return value


async def _audit(
    user: Any, operation: str, target: str, params: dict[str, Any], error: str = ""
) -> None:
    detail = _short(redact(SERVICE, operation, params))
    outcome = AuditEntry.FAILED if error else AuditEntry.OK
    await executor.run(
        record, _Who(user), operation, target, outcome, detail=detail, error=error[:2000]
    )


def explain(exc: errors.AwsError, what: str) -> str:
    kept = f"Nothing ran; your {what} is kept below."
    if isinstance(exc, errors.QuotaExceeded):
        return f"{exc.message} {kept} Try again when other work has finished."
    if isinstance(exc, errors.Throttled):
        return f"{exc.message} {kept}"
    if isinstance(exc, errors.Unavailable):
        return f"{exc.message} {kept} Try again in a moment."
    return f"{exc.message} {kept}"


def _place(form: forms.Form, names: dict[str, str], fields: dict[str, str]) -> None:
    for name, message in fields.items():
        target = names.get(name)
        if target and target in form.fields:
            form.add_error(target, message or "AWS refused this value.")


async def _start(
    user: Any,
    form: forms.Form,
    *,
    operation: str,
    key: str,
    target: str,
    params: dict[str, Any],
    source: Any,
    meta: dict[str, Any],
    names: dict[str, str],
    what: str,
) -> Started:
    try:
        relay = await streams.start(key, source, meta=meta)
    except streams.PoolFull as exc:
        await _audit(user, operation, target, params, str(exc))
        return Started(form, error=f"{exc} Your {what} is kept below.", status=503)
    except streams.AlreadyStreaming:
        await _audit(user, operation, target, params, "Busy: a run was in progress")
        message = (
            f"A run is still in progress here. Yours did not start; your {what} is kept "
            "below: run it when the other one has finished."
        )
        return Started(form, error=message, status=409)
    except errors.AwsError as exc:
        await _audit(user, operation, target, params, str(exc))
        _place(form, names, exc.fields)
        return Started(form, error=explain(exc, what), status=exc.status, fields=dict(exc.fields))
    except Exception as exc:
        # Not one of our AWS errors (e.g. what http.client raises for a value it cannot send):
        # say so and keep the input, rather than a 500 page that drops it.
        logger.exception("%s on %s could not be started", operation, target)
        await _audit(user, operation, target, params, f"Internal error ({type(exc).__name__})")
        message = (
            f"The {operation} call could not be started (an internal error; it is logged). "
            f"Your {what} is kept below."
        )
        return Started(form, error=message, status=502)
    await _audit(user, operation, target, params)
    return Started(form, relay=relay)


async def run_tool(
    user: Any, interpreter_id: str, session_id: str, data: dict[str, Any]
) -> Started:
    """Invoke one tool of a code interpreter session and relay its stream to the page."""
    form = ToolForm(data)
    if not await executor.run(roles.has_role_now, user, roles.OPERATOR):
        return Started(form, error="Running code and tools needs the operator role.", status=403)
    if not form.is_valid():
        return Started(form, status=400)
    tool = form.cleaned_data["tool"]
    params = code_api.invoke_params(interpreter_id, session_id, tool, form.arguments())
    meta = {
        "tool": tool,
        "inputs": form.shown_inputs(),
        "user": user.get_username(),
        "at": time.time(),
    }
    return await _start(
        user,
        form,
        operation="InvokeCodeInterpreter",
        key=code_runs.stream_key(interpreter_id, session_id),
        target=f"{interpreter_id}/{session_id}",
        params=params,
        source=lambda: code_api.open_invocation(params),
        meta=meta,
        names=CODE_FIELDS,
        what="input" if tool != "executeCode" else "code",
    )


async def invoke_runtime(user: Any, data: dict[str, Any], *, expected_key: str = "") -> Started:
    """Invoke an agent runtime and relay its answer to the runtime session's viewers.

    `expected_key` (the socket's stream key): the form must name that runtime session."""
    form = InvokeForm(data)
    if not await executor.run(roles.has_role_now, user, roles.OPERATOR):
        return Started(form, error="Invoking agent runtimes needs the operator role.", status=403)
    if not form.is_valid():
        return Started(form, status=400)
    arn = form.cleaned_data["arn"]
    qualifier = form.cleaned_data["qualifier"]
    session_id = form.cleaned_data["session"]
    key = runtime_runs.stream_key(arn, qualifier, session_id)
    if expected_key and key != expected_key:
        return Started(
            form,
            error="This page shows another runtime session: open it again to invoke this one.",
            status=400,
        )
    params = runtime_api.invoke_params(
        arn,
        payload=form.payload_bytes(),
        qualifier=qualifier,
        session_id=session_id,
        content_type=form.cleaned_data["content_type"],
        accept=form.cleaned_data.get("accept") or "",
    )
    meta = {
        "user": user.get_username(),
        "at": time.time(),
        "arn": arn,
        "qualifier": qualifier,
        "session": session_id,
        "payload": form.cleaned_data["payload"][:20_000],
        "contentType": form.cleaned_data["content_type"],
        "accept": form.cleaned_data.get("accept") or "",
    }
    return await _start(
        user,
        form,
        operation="InvokeAgentRuntime",
        key=key,
        target=arn,
        params=params,
        source=lambda: runtime_api.open_invocation(params),
        meta=meta,
        names=RUNTIME_FIELDS,
        what="payload",
    )
