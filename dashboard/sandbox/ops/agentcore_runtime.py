"""Amazon Bedrock AgentCore (`bedrock-agentcore`): InvokeAgentRuntime against the sandbox's
simulated agent runtimes (see `runtime_agent.py`).

The answer's `response` member is a streaming blob: the handler returns a generator of byte
chunks and the wire layer sends them as they are produced, so a streamed reply really arrives
over time through botocore's StreamingBody, as AWS's does.

Behaviour, as emulated:
- a runtime is found by its ARN (the sandbox's account, any region); an unknown one, or an
  unknown qualifier (endpoint), is ResourceNotFoundException;
- a JSON content type needs a JSON payload (ValidationException otherwise); the runtime session
  id (botocore fills one in when none is given) is echoed in the response header and names the
  session whose earlier prompts the agent remembers;
- the Accept header picks Server-Sent Events, JSON or plain text; one the runtime cannot
  produce is a ValidationException.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import regex
from django.conf import settings
from django.utils import timezone

from .. import runtime_agent
from ..models import AgentRuntimeSession
from ..wire import Context, SandboxError, operation

SERVICE = "bedrock-agentcore"
_ARN = regex.compile(
    r"arn:aws[a-z-]*:bedrock-agentcore:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"runtime/(?P<runtime>[A-Za-z][A-Za-z0-9_]{0,47}-[A-Za-z0-9]{10})"
)
PROMPTS_KEPT = 10


def _runtime(ctx: Context, arn: str) -> runtime_agent.Runtime:
    found = _ARN.fullmatch(arn)
    runtime = runtime_agent.RUNTIMES.get(found.group("runtime")) if found else None
    if found is None or runtime is None or found.group("account") != ctx.account_id:
        names = ", ".join(
            runtime_agent.arn_of(r, ctx.region, ctx.account_id)
            for r in runtime_agent.RUNTIMES.values()
        )
        raise SandboxError(
            "ResourceNotFoundException",
            f"Agent runtime {arn} was not found. The sandbox's runtimes are: {names}.",
        )
    return runtime


def _remember(arn: str, session_id: str, qualifier: str, prompt: str) -> list[str]:
    """Record the invocation; returns the session's earlier prompts."""
    now = timezone.now()
    session, _ = AgentRuntimeSession.objects.select_for_update().get_or_create(
        runtime_arn=arn,
        runtime_session_id=session_id,
        defaults={"qualifier": qualifier, "created_at": now, "last_invoked_at": now},
    )
    earlier = list(session.prompts)
    if prompt:
        session.prompts = [*earlier, prompt][-PROMPTS_KEPT:]
    session.invocations += 1
    session.last_invoked_at = now
    session.save()
    return earlier


@operation(SERVICE, "InvokeAgentRuntime")
def invoke_agent_runtime(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["agentRuntimeArn"]
    runtime = _runtime(ctx, arn)
    qualifier = params.get("qualifier") or "DEFAULT"
    if qualifier not in runtime.qualifiers:
        raise SandboxError(
            "ResourceNotFoundException",
            f"Endpoint {qualifier} of agent runtime {runtime.name} was not found "
            f"(it has {', '.join(runtime.qualifiers)}).",
        )
    content_type = params.get("contentType") or "application/json"
    payload = params.get("payload") or b""
    try:
        prompt, document = runtime_agent.prompt_of(payload, content_type)
    except ValueError as exc:
        raise SandboxError(
            "ValidationException",
            f"The payload is not valid JSON ({exc}), but its content type is {content_type}.",
            reason="CannotParse",
            fieldList=[{"name": "payload", "message": "Not valid JSON"}],
        ) from None
    media = runtime_agent.negotiate(params.get("accept") or "", runtime.streams)
    if media is None:
        raise SandboxError(
            "ValidationException",
            f"Agent runtime {runtime.name} answers with "
            f"{', '.join(runtime_agent.SUPPORTED)}, not {params.get('accept')}.",
            reason="FieldValidationFailed",
            fieldList=[{"name": "accept", "message": "No supported media type"}],
        )
    session_id = params.get("runtimeSessionId") or ""
    earlier = _remember(arn, session_id, qualifier, prompt)
    if runtime.streams:
        reply, topic = runtime_agent.compose(prompt, earlier)
        body = _reply(reply, topic, media, session_id, len(earlier) + 1)
    else:
        body = _echo(payload, content_type, document, session_id, media)
    return {
        "runtimeSessionId": session_id,
        "contentType": media,
        "statusCode": 200,
        "response": body,
    }


def _usage(reply: str, turn: int) -> dict[str, int]:
    out = len(list(runtime_agent.tokens(reply)))
    return {"inputTokens": 120 * turn, "outputTokens": out, "totalTokens": 120 * turn + out}


def _reply(reply: str, topic: str, media: str, session_id: str, turn: int) -> Iterator[bytes]:
    """Runs lazily in the reader's thread: the reply, token by token."""
    pause = float(getattr(settings, "SANDBOX_RUNTIME_TOKEN_SECONDS", 0.03))
    usage = _usage(reply, turn)
    if media == "application/json":
        time.sleep(min(3.0, pause * usage["outputTokens"] / 4))  # thinking, then all at once
        document = {
            "response": reply,
            "topic": topic,
            "runtimeSessionId": session_id,
            "turn": turn,
            "usage": usage,
            "simulated": True,
        }
        yield json.dumps(document, ensure_ascii=False).encode()
        return
    if media == "text/event-stream":
        yield b": the sandbox runtime is thinking\n\n"
    for token in runtime_agent.tokens(reply):
        if pause:
            time.sleep(pause)
        if media == "text/event-stream":
            yield b"data: " + json.dumps(token, ensure_ascii=False).encode() + b"\n\n"
        else:
            yield token.encode()
    if media == "text/event-stream":
        end = {"stopReason": "end_turn", "topic": topic, "turn": turn, "usage": usage}
        yield b"data: " + json.dumps(end).encode() + b"\n\n"


def _echo(
    payload: bytes, content_type: str, document: object, session_id: str, media: str
) -> Iterator[bytes]:
    received: dict[str, Any] = {"contentType": content_type, "bytes": len(payload)}
    if document is not None:
        received["json"] = document
    else:
        received["text"] = payload[:2000].decode("utf-8", errors="replace")
    answer = {"received": received, "runtimeSessionId": session_id, "simulated": True}
    text = json.dumps(answer, ensure_ascii=False, indent=2)
    if media == "text/event-stream":
        yield b"data: " + json.dumps(answer, ensure_ascii=False).encode() + b"\n\n"
    else:
        yield text.encode()
