"""The audit log's targets by name, with a link: "Checkout latency above SLO" in "Payments
platform" rather than a bare id.

An entry keeps the target id and the call's parameters (dashboard/core/audit.py). `describe()`
works out, for a page of entries, what each target is (a task, a chat, a recommendation, an
agent space, a service, a browser session, a user, ...) from the operation and those
parameters, links to its page, and looks its name up: one ListAgentSpaces for every space
(kept by the palette for a minute), one Get call per other named resource, each kept in the
cache for `CACHE_SECONDS` and at most `LOOKUPS` per page. A target that no longer exists, or
that AWS will not describe, keeps its id (and its link, which then says why).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.urls import NoReverseMatch, reverse

from dashboard.aws import chat as aws_chat
from dashboard.aws import errors
from dashboard.aws import integrations as aws_integrations
from dashboard.aws import prevention as aws_prevention
from dashboard.aws import tasks as aws_tasks

from .models import AuditEntry

logger = logging.getLogger(__name__)

CACHE_SECONDS = 600
LOOKUPS = 25  # Get calls per page of the log at most; further names show their ids
USER_OPERATIONS = {
    "SignIn",
    "SignInFailed",
    "SignOut",
    "LockedOut",
    "CreateUser",
    "ChangeRole",
    "DeactivateUser",
    "ReactivateUser",
    "SignOutEverywhere",
    "UnlockSignIn",
}


@dataclass
class Target:
    label: str
    url: str = ""
    kind: str = ""  # "task", "space", ...: said beside the name
    where: str = ""  # the agent space's name, when the target lives in one


def _url(name: str, *args: str) -> str:
    try:
        return reverse(name, args=list(args))
    except NoReverseMatch:
        return ""


def _short(value: str) -> str:
    return value if len(value) <= 14 else value[:8] + "…"


class _Names:
    """Names looked up for one page of the log, within its budget."""

    def __init__(self) -> None:
        self.left = LOOKUPS
        self._spaces: dict[str, str] | None = None

    def space(self, space_id: str) -> str:
        if self._spaces is None:
            from .palette import _spaces

            try:
                self._spaces = {s["id"]: s["name"] for s in _spaces()}
            except errors.AwsError:
                self._spaces = {}
        return self._spaces.get(space_id, "")

    def get(self, key: str, fetch: Callable[[], str]) -> str:
        found = cache.get(f"audit-name:{key}")
        if found is not None:
            return found
        if self.left <= 0:
            return ""
        self.left -= 1
        try:
            name = fetch() or ""
        except errors.AwsError as exc:
            logger.debug("audit target %s: %s", key, exc)
            name = ""
        cache.set(f"audit-name:{key}", name, CACHE_SECONDS)
        return name


def _describe(entry: AuditEntry, names: _Names) -> Target:
    op, target = entry.operation, entry.target
    p: dict[str, Any] = entry.detail if isinstance(entry.detail, dict) else {}
    space = str(p.get("agentSpaceId") or "")
    where = names.space(space) if space else ""

    if op in USER_OPERATIONS:
        return Target(target or "—", _url("accounts:users"), "user")
    if op == "UpdateApprovalAction" and space and p.get("taskId"):
        task = str(p["taskId"])
        title = names.get(f"task:{space}:{task}", lambda: aws_tasks.get_task(space, task)["title"])
        return Target(title or _short(task), _url("tasks:detail", space, task), "approval", where)
    if "taskId" in p and space:
        task = str(p["taskId"])
        title = names.get(f"task:{space}:{task}", lambda: aws_tasks.get_task(space, task)["title"])
        return Target(title or _short(task), _url("tasks:detail", space, task), "task", where)
    if op == "CreateBacklogTask" and space:
        return Target(str(p.get("title") or "New task"), _url("tasks:board", space), "task", where)
    if "recommendationId" in p and space:
        rec = str(p["recommendationId"])
        title = names.get(
            f"rec:{space}:{rec}", lambda: aws_prevention.get_recommendation(space, rec)["title"]
        )
        url = _url("prevention:recommendation", space, rec)
        return Target(title or _short(rec), url, "recommendation", where)
    if "goalId" in p and space:
        goal = str(p["goalId"])
        title = names.get(
            f"goal:{space}:{goal}", lambda: aws_prevention.find_goal(space, goal)["title"]
        )
        return Target(title or _short(goal), _url("prevention:goal", space, goal), "goal", where)
    if "triggerId" in p and space:
        trigger = str(p["triggerId"])
        url = _url("prevention:trigger", space, trigger)
        return Target(f"Trigger {_short(trigger)}", url, "trigger", where)
    if "executionId" in p and space:
        chat = str(p["executionId"])
        summary = names.get(
            f"chat:{space}:{chat}", lambda: aws_chat.get_chat(space, chat).get("summary", "")
        )
        return Target(
            summary or f"Chat {_short(chat)}", _url("chat:detail", space, chat), "chat", where
        )
    if "assetId" in p and space:
        asset = str(p["assetId"])
        label = (
            f"{p['path']} in asset {_short(asset)}" if p.get("path") else f"Asset {_short(asset)}"
        )
        return Target(label, _url("assets:detail", space, asset), "asset", where)
    if "associationId" in p and space:
        assoc = str(p["associationId"])
        url = _url("integrations:association", space, assoc)
        return Target(f"Association {_short(assoc)}", url, "association", where)
    if op == "RegisterService":
        return Target(target, _url("integrations:services"), "service")
    if op == "DeregisterService" or ("serviceId" in p and not space):
        service = str(p.get("serviceId") or target)
        name = names.get(
            f"service:{service}", lambda: aws_integrations.get_service(service)[0].get("name", "")
        )
        return Target(name or target, _url("integrations:service", service), "service")
    if op in ("TagResource", "UntagResource") and target.startswith("arn:"):
        return _tagged(target, names)
    if op == "AssociateService" and space:
        return Target(where or _short(space), _url("integrations:associations", space), "space")
    if "PrivateConnection" in op:
        return Target(target, _url("private_connections:detail", target), "private connection")
    if "OperatorApp" in op and space:
        return Target(where or _short(space), _url("operator_app:detail", space), "Operator App")
    if "browserIdentifier" in p:
        browser, session = str(p["browserIdentifier"]), str(p.get("sessionId") or "")
        if session:
            url = _url("browser:detail", browser, session)
            return Target(f"Browser session {_short(session)}", url, "browser session")
        return Target(browser, _url("browser:list"), "browser")
    if "codeInterpreterIdentifier" in p:
        interpreter, session = str(p["codeInterpreterIdentifier"]), str(p.get("sessionId") or "")
        if session:
            url = _url("agentcore:code-session", interpreter, session)
            return Target(f"Code session {_short(session)}", url, "code interpreter")
        return Target(interpreter, _url("agentcore:code-list"), "code interpreter")
    if "memoryId" in p:
        memory = str(p["memoryId"])
        return Target(f"{target}", _url("agentcore:memory", memory), "memory")
    if "agentRuntimeArn" in p:
        return Target(
            str(p["agentRuntimeArn"]).rsplit("/", 1)[-1], _url("agentcore:runtime"), "runtime"
        )
    if space or op.endswith("AgentSpace"):
        space_id = space or target
        name = where or names.space(space_id)
        if op == "CreateAgentSpace":
            return Target(target, _url("spaces:list"), "agent space")
        return Target(name or _short(space_id), _url("spaces:detail", space_id), "agent space")
    return Target(target or "—")


def _tagged(arn: str, names: _Names) -> Target:
    """A tagged resource by its ARN (…:agentspace/<id>, …:service/<id>, …:privateconnection/…)."""
    kind, _, ident = arn.rsplit(":", 1)[-1].partition("/")
    if kind == "agentspace":
        return Target(
            names.space(ident) or _short(ident), _url("spaces:detail", ident), "agent space"
        )
    if kind == "service":
        name = names.get(
            f"service:{ident}", lambda: aws_integrations.get_service(ident)[0].get("name", "")
        )
        return Target(name or _short(ident), _url("integrations:service", ident), "service")
    if kind in ("private-connection", "privateconnection"):
        return Target(ident, _url("private_connections:detail", ident), "private connection")
    return Target(arn)


def describe(entries: Iterable[AuditEntry]) -> dict[int, Target]:
    """{entry id: its target by name, with a link} for a page of the log."""
    names = _Names()
    out: dict[int, Target] = {}
    for entry in entries:
        try:
            out[entry.pk] = _describe(entry, names)
        except (KeyError, TypeError, ValueError):  # a detail of an older shape: its id, as kept
            out[entry.pk] = Target(entry.target or "—")
    return out
