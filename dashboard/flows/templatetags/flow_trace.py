"""A flow execution event (one member of ListFlowExecutionEvents' union) as what its timeline
entry shows: fields with their sources and next nodes, satisfied conditions, a node action's
request and response, agent trace parts (guardrail interventions called out) and failures.

Nothing here trusts the shape of the answer: every value is checked before use, unknown kinds
and trace parts are shown as JSON, and the templates escape all text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django import template

from dashboard.agentcore.templatetags.agentcore_display import json_in_text

register = template.Library()

MAX_ITEMS = 100

KIND_LABELS = {
    "flowInputEvent": "Flow input",
    "flowOutputEvent": "Flow output",
    "flowFailureEvent": "Flow failed",
    "nodeInputEvent": "Node input",
    "nodeOutputEvent": "Node output",
    "conditionResultEvent": "Condition",
    "nodeActionEvent": "Action",
    "nodeDependencyEvent": "Agent trace",
    "nodeFailureEvent": "Node failed",
}
KIND_TONES = {
    "flowInputEvent": "flow",
    "flowOutputEvent": "ok",
    "flowFailureEvent": "failed",
    "nodeFailureEvent": "failed",
    "conditionResultEvent": "condition",
    "nodeActionEvent": "action",
    "nodeDependencyEvent": "agent",
}


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value[:MAX_ITEMS]) if isinstance(value, list | tuple) else []


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return ""


def _content(field: Mapping[str, Any]) -> dict[str, Any]:
    content = _map(field.get("content"))
    if "document" in content:
        return {"doc": content["document"], "has_doc": True}
    return {"doc": dict(content) if content else None, "has_doc": bool(content)}


def _field(field: Any) -> dict[str, Any]:
    field = _map(field)
    source = _map(field.get("source"))
    return {
        "name": _text(field.get("name")),
        "type": _text(field.get("type")),
        "category": _text(field.get("category")),
        **_content(field),
        "source": {
            "node": _text(source.get("nodeName")),
            "output": _text(source.get("outputFieldName")),
            "expression": _text(source.get("expression")),
        }
        if source
        else None,
        "chain": [
            {
                "node": _text(_map(c).get("nodeName")),
                "type": _text(_map(c).get("type")),
                "index": _text(_map(c).get("index")),
            }
            for c in _list(field.get("executionChain"))
        ],
        "next": [
            {"node": _text(_map(n).get("nodeName")), "input": _text(_map(n).get("inputFieldName"))}
            for n in _list(field.get("next"))
        ],
    }


# --- agent traces --------------------------------------------------------------------------


def _guardrail(trace: Mapping[str, Any]) -> dict[str, Any]:
    findings = []
    for direction, key in (("Input", "inputAssessments"), ("Output", "outputAssessments")):
        for assessment in _list(trace.get(key)):
            assessment = _map(assessment)
            content = _map(assessment.get("contentPolicy"))
            for item in _list(content.get("filters")):
                item = _map(item)
                findings.append(
                    {
                        "direction": direction,
                        "policy": "Content filter",
                        "what": _text(item.get("type")),
                        "detail": f"{_text(item.get('confidence')).lower()} confidence"
                        if item.get("confidence")
                        else "",
                        "action": _text(item.get("action")),
                    }
                )
            sensitive = _map(assessment.get("sensitiveInformationPolicy"))
            for item in _list(sensitive.get("piiEntities")):
                item = _map(item)
                findings.append(
                    {
                        "direction": direction,
                        "policy": "Sensitive information",
                        "what": _text(item.get("type")),
                        "detail": _text(item.get("match")),
                        "action": _text(item.get("action")),
                    }
                )
            for item in _list(sensitive.get("regexes")):
                item = _map(item)
                findings.append(
                    {
                        "direction": direction,
                        "policy": "Regex",
                        "what": _text(item.get("name")) or _text(item.get("regex")),
                        "detail": _text(item.get("match")),
                        "action": _text(item.get("action")),
                    }
                )
            for item in _list(_map(assessment.get("topicPolicy")).get("topics")):
                item = _map(item)
                findings.append(
                    {
                        "direction": direction,
                        "policy": "Denied topic",
                        "what": _text(item.get("name")),
                        "detail": _text(item.get("type")),
                        "action": _text(item.get("action")),
                    }
                )
            words = _map(assessment.get("wordPolicy"))
            for item in _list(words.get("customWords")):
                item = _map(item)
                findings.append(
                    {
                        "direction": direction,
                        "policy": "Word filter",
                        "what": "custom word",
                        "detail": _text(item.get("match")),
                        "action": _text(item.get("action")),
                    }
                )
            for item in _list(words.get("managedWordLists")):
                item = _map(item)
                findings.append(
                    {
                        "direction": direction,
                        "policy": "Word filter",
                        "what": _text(item.get("type")),
                        "detail": _text(item.get("match")),
                        "action": _text(item.get("action")),
                    }
                )
    action = _text(trace.get("action"))
    return {"action": action, "intervened": action == "INTERVENED", "findings": findings}


def _line(label: str, value: Any, *, long: bool = False) -> dict[str, Any] | None:
    text = _text(value)
    nested = json_in_text(text)
    if nested is not None:
        return {"label": label, "doc": nested}
    if text:
        return {"label": label, "text": text, "long": long or len(text) > 160 or "\n" in text}
    if isinstance(value, Mapping | list) and value:
        return {"label": label, "doc": value}
    return None


def _usage(metadata: Any) -> str:
    metadata = _map(metadata)
    usage = _map(metadata.get("usage"))
    parts = []
    if metadata.get("totalTimeMs") is not None:
        parts.append(f"{_text(metadata.get('totalTimeMs'))} ms")
    if usage:
        parts.append(
            f"{_text(usage.get('inputTokens')) or '?'} tokens in, "
            f"{_text(usage.get('outputTokens')) or '?'} out"
        )
    return " · ".join(parts)


def _step_lines(step: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The readable parts of an orchestration / pre- / post-processing / routing trace."""
    lines: list[dict[str, Any] | None] = []
    rationale = _map(step.get("rationale"))
    lines.append(_line("Rationale", rationale.get("text")))
    invocation = _map(step.get("invocationInput"))
    if invocation:
        kind = _text(invocation.get("invocationType"))
        group = _map(invocation.get("actionGroupInvocationInput"))
        if group:
            target = " ".join(
                t
                for t in (
                    _text(group.get("actionGroupName")),
                    _text(group.get("verb")).upper(),
                    _text(group.get("apiPath")) or _text(group.get("function")),
                )
                if t
            )
            lines.append(_line(f"Calls {kind.replace('_', ' ').lower() or 'action group'}", target))
            params = {
                _text(_map(p).get("name")): _text(_map(p).get("value"))
                for p in _list(group.get("parameters"))
            }
            lines.append(_line("Parameters", params))
        kb = _map(invocation.get("knowledgeBaseLookupInput"))
        if kb:
            lines.append(_line("Knowledge base", kb.get("knowledgeBaseId")))
            lines.append(_line("Query", kb.get("text")))
        collaborator = _map(invocation.get("agentCollaboratorInvocationInput"))
        if collaborator:
            lines.append(_line("Collaborator", collaborator.get("agentCollaboratorName")))
            lines.append(_line("Input", _map(collaborator.get("input")).get("text")))
        code = _map(invocation.get("codeInterpreterInvocationInput"))
        if code:
            lines.append(_line("Code", code.get("code"), long=True))
        if kind and not (group or kb or collaborator or code):
            lines.append(_line("Invocation", kind.replace("_", " ").lower()))
    model_in = _map(step.get("modelInvocationInput"))
    if model_in:
        lines.append(_line("Model", model_in.get("foundationModel")))
        lines.append(_line("Prompt", model_in.get("text"), long=True))
    model_out = _map(step.get("modelInvocationOutput"))
    if model_out:
        lines.append(_line("Model answer", _map(model_out.get("rawResponse")).get("content")))
        parsed = _map(model_out.get("parsedResponse"))
        lines.append(_line("Parsed", parsed.get("text") or parsed.get("rationale")))
        if "isValid" in parsed:
            lines.append(_line("Input valid", parsed.get("isValid")))
        reasoning = _map(_map(model_out.get("reasoningContent")).get("reasoningText"))
        lines.append(_line("Reasoning", reasoning.get("text"), long=True))
        lines.append(_line("Usage", _usage(model_out.get("metadata"))))
    observation = _map(step.get("observation"))
    if observation:
        kind = _text(observation.get("type"))
        final = _map(observation.get("finalResponse"))
        if final:
            lines.append(_line("Final response", final.get("text")))
            lines.append(_line("Usage", _usage(final.get("metadata"))))
        group_out = _map(observation.get("actionGroupInvocationOutput"))
        if group_out:
            lines.append(_line("Action group answered", group_out.get("text")))
            lines.append(_line("Usage", _usage(group_out.get("metadata"))))
        kb_out = _map(observation.get("knowledgeBaseLookupOutput"))
        if kb_out:
            refs = _list(kb_out.get("retrievedReferences"))
            lines.append(
                _line(
                    "Knowledge base found", f"{len(refs)} reference{'s' if len(refs) != 1 else ''}"
                )
            )
        collaborator_out = _map(observation.get("agentCollaboratorInvocationOutput"))
        if collaborator_out:
            lines.append(
                _line(
                    (_text(collaborator_out.get("agentCollaboratorName")) or "Collaborator")
                    + " answered",
                    _map(collaborator_out.get("output")).get("text"),
                )
            )
        code_out = _map(observation.get("codeInterpreterInvocationOutput"))
        if code_out:
            lines.append(_line("Code output", code_out.get("executionOutput"), long=True))
            lines.append(_line("Code error", code_out.get("executionError"), long=True))
        reprompt = _map(observation.get("repromptResponse"))
        if reprompt:
            lines.append(_line("Reprompt", reprompt.get("text")))
        if kind and len([x for x in lines if x]) == 0:
            lines.append(_line("Observation", kind.replace("_", " ").lower()))
    return [line for line in lines if line]


_STEP_KINDS = {
    "orchestrationTrace": "Orchestration",
    "preProcessingTrace": "Pre-processing",
    "postProcessingTrace": "Post-processing",
    "routingClassifierTrace": "Routing",
}


def trace_part(part: Any) -> dict[str, Any]:
    """One TracePart of an agent: who, when, and what kind of step it records."""
    part = _map(part)
    trace = _map(part.get("trace"))
    kind, body = next(iter(trace.items())) if trace else ("", {})
    body = _map(body)
    view: dict[str, Any] = {
        "agent": _text(part.get("agentId")),
        "alias": _text(part.get("agentAliasId")),
        "version": _text(part.get("agentVersion")),
        "session": _text(part.get("sessionId")),
        "time": part.get("eventTime") if isinstance(part.get("eventTime"), dt.datetime) else None,
        "collaborator": _text(part.get("collaboratorName")),
        "callers": [_text(_map(c).get("agentAliasArn")) for c in _list(part.get("callerChain"))],
        "kind": kind,
        "title": "",
        "tone": "",
        "lines": [],
        "guardrail": None,
        "raw": dict(trace),
    }
    if kind == "guardrailTrace":
        guardrail = _guardrail(body)
        view.update(
            title="Guardrail intervened" if guardrail["intervened"] else "Guardrail checked",
            tone="intervened" if guardrail["intervened"] else "ok",
            guardrail=guardrail,
            lines=[x for x in [_line("Time", _usage(body.get("metadata")))] if x],
        )
    elif kind == "failureTrace":
        view.update(
            title="Failure",
            tone="failed",
            lines=[
                x
                for x in (
                    _line("Reason", body.get("failureReason")),
                    _line("Code", body.get("failureCode")),
                    _line("Time", _usage(body.get("metadata"))),
                )
                if x
            ],
        )
    elif kind in _STEP_KINDS:
        view.update(title=_STEP_KINDS[kind], lines=_step_lines(body))
    elif kind == "customOrchestrationTrace":
        view.update(
            title="Custom orchestration",
            lines=[x for x in [_line("Event", _map(body.get("event")).get("text"))] if x],
        )
    else:
        view.update(title=kind or "Trace")
    return view


# --- events ----------------------------------------------------------------------------------


@register.filter
def flow_event(event: Any) -> dict[str, Any]:
    """A timeline entry from {kind, body, timestamp, type} (dashboard.aws.flows)."""
    event = _map(event)
    kind = _text(event.get("kind")) or "unknown"
    body = _map(event.get("body"))
    view: dict[str, Any] = {
        "kind": kind,
        "label": KIND_LABELS.get(kind, kind),
        "tone": KIND_TONES.get(kind, "node"),
        "type": _text(event.get("type")),
        "node": _text(body.get("nodeName")),
        "timestamp": event.get("timestamp"),
        "fields": [],
        "conditions": [],
        "action": None,
        "parts": [],
        "error": None,
        "known": kind in KIND_LABELS,
        "raw": dict(body),
    }
    if kind in ("flowInputEvent", "flowOutputEvent", "nodeInputEvent", "nodeOutputEvent"):
        view["fields"] = [_field(f) for f in _list(body.get("fields"))]
    elif kind == "conditionResultEvent":
        view["conditions"] = [
            _text(_map(c).get("conditionName")) for c in _list(body.get("satisfiedConditions"))
        ]
    elif kind == "nodeActionEvent":
        view["action"] = {
            "service": _text(body.get("serviceName")),
            "operation": _text(body.get("operationName")),
            "request_id": _text(body.get("requestId")),
            "request": body.get("operationRequest"),
            "response": body.get("operationResponse"),
            "has_request": body.get("operationRequest") is not None,
            "has_response": body.get("operationResponse") is not None,
        }
    elif kind == "nodeDependencyEvent":
        traces = _map(body.get("traceElements"))
        view["parts"] = [trace_part(p) for p in _list(traces.get("agentTraces"))]
        view["intervened"] = any(
            p["guardrail"] and p["guardrail"]["intervened"] for p in view["parts"]
        )
        view["failed"] = any(p["tone"] == "failed" for p in view["parts"])
        if view["intervened"]:
            view["tone"] = "intervened"
        if view["failed"]:
            view["tone"] = "failed"
    elif kind in ("flowFailureEvent", "nodeFailureEvent"):
        view["error"] = {
            "code": _text(body.get("errorCode")),
            "message": _text(body.get("errorMessage")),
        }
    return view


def summarize(events: list[dict[str, Any]]) -> dict[str, Any]:
    """What a page of events says about the execution: outcome, nodes, counts, time span."""
    views = [flow_event(e) for e in events]
    stamps = [v["timestamp"] for v in views if isinstance(v["timestamp"], dt.datetime)]
    counts: dict[str, int] = {}
    nodes: list[str] = []
    for view in views:
        counts[view["label"]] = counts.get(view["label"], 0) + 1
        if view["node"] and view["node"] not in nodes and view["type"] == "Node":
            nodes.append(view["node"])
    failure = next((v for v in views if v["kind"] == "flowFailureEvent"), None) or next(
        (v for v in views if v["kind"] == "nodeFailureEvent"), None
    )
    return {
        "views": views,
        "counts": sorted(counts.items(), key=lambda kv: -kv[1]),
        "nodes": nodes,
        "failure": failure,
        "output": any(v["kind"] == "flowOutputEvent" for v in views),
        "interventions": sum(1 for v in views if v.get("intervened")),
        "first": min(stamps) if stamps else None,
        "last": max(stamps) if stamps else None,
        "seconds": (max(stamps) - min(stamps)).total_seconds() if len(stamps) > 1 else 0.0,
    }


@register.filter
def offset(value: Any, start: Any) -> str:
    """+s.mmm since the first event of the page."""
    if not isinstance(value, dt.datetime) or not isinstance(start, dt.datetime):
        return ""
    seconds = (value - start).total_seconds()
    if seconds < 60:
        return f"+{seconds:.3f}s"
    minutes, rest = divmod(seconds, 60)
    return f"+{int(minutes)}m{rest:06.3f}s"


@register.filter
def clock(value: Any) -> str:
    """HH:MM:SS.mmm (UTC) of a timestamp."""
    if not isinstance(value, dt.datetime):
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime("%H:%M:%S.") + f"{value.microsecond // 1000:03d}"
