"""Amazon Bedrock AgentCore (`bedrock-agentcore`): code interpreter sessions and their tools.

StartCodeInterpreterSession, GetCodeInterpreterSession, ListCodeInterpreterSessions,
StopCodeInterpreterSession and InvokeCodeInterpreter, whose answer is an event stream of
`result` events produced lazily.

**No submitted code or command runs on this host.** `code_sim.py` simulates code (it parses it
and evaluates a small safe subset itself) and `code_shell.py` acts out a few shell commands
against the session's virtual file system; every result says it was simulated.

Behaviour, as emulated:
- only the system code interpreter `aws.codeinterpreter.v1` exists (the sandbox's control plane
  lists it; creating custom ones is not emulated): others are ResourceNotFoundException;
- sessions end after `sessionTimeoutSeconds` (default 900, computed when next read);
  StopCodeInterpreterSession ends one at once; a TERMINATED session refuses tools
  (ConflictException); at most SANDBOX_CODE_MAX_SESSIONS are READY at once
  (ServiceQuotaExceededException beyond); clientToken makes Start idempotent;
- executeCode streams its output as it is "produced": one `result` event per piece of
  stdout/stderr (`structuredContent.stdout`/`stderr`), SANDBOX_CODE_STEP_SECONDS apart (at most
  3 s of pacing per call) and after any `time.sleep()`/`sleep` in the code (real seconds,
  capped), then a last event with `exitCode`, `executionTime` (ms) and the "simulated" notice;
- the session keeps its files and its interpreter's variables between calls (`clearContext`
  forgets the variables); startCommandExecution starts a task whose output is planned at once
  and revealed by the wall clock (getTask), stopTask cancels it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from .. import code_shell, code_sim
from ..models import CodeInterpreterSession, CodeInterpreterTask
from ..wire import Context, SandboxError, operation
from .agentcore_browser import new_session_id
from .paging import page

SERVICE = "bedrock-agentcore"
SYSTEM_CODE_INTERPRETER = "aws.codeinterpreter.v1"
DEFAULT_TIMEOUT = 900
KEPT = ("certificates", "filesystemConfigurations")
MAX_PACING = 3.0  # seconds of step pacing per call (sleeps in the code come on top)
TASK_SLEEP_LIMIT = 600.0  # a background task may "sleep" this long in all
TASK_LINE_SECONDS = 0.5  # a task's output lines come this far apart (besides its sleeps)
MAX_EVENTS = 400  # result events per call; later output travels in larger pieces


def _check_interpreter(identifier: str) -> None:
    if identifier != SYSTEM_CODE_INTERPRETER:
        raise SandboxError(
            "ResourceNotFoundException",
            f"Code interpreter {identifier} was not found. The sandbox has the system code "
            f"interpreter {SYSTEM_CODE_INTERPRETER} only (creating custom code interpreters "
            "through the control plane is not emulated).",
        )


def expire(now: dt.datetime) -> None:
    """Terminate READY sessions whose timeout has passed."""
    CodeInterpreterSession.objects.filter(
        status=CodeInterpreterSession.READY, expires_at__lte=now
    ).update(status=CodeInterpreterSession.TERMINATED, updated_at=F("expires_at"))


def _session(identifier: str, session_id: str, *, lock: bool = False) -> CodeInterpreterSession:
    _check_interpreter(identifier)
    expire(timezone.now())
    rows = CodeInterpreterSession.objects.filter(
        pk=session_id, code_interpreter_identifier=identifier
    )
    session = (rows.select_for_update() if lock else rows).first()
    if session is None:
        raise SandboxError(
            "ResourceNotFoundException",
            f"Code interpreter session {session_id} was not found for {identifier}",
        )
    return session


def _digest(params: dict[str, Any]) -> str:
    asked = {k: v for k, v in params.items() if k not in ("clientToken", "traceId", "traceParent")}
    return hashlib.sha256(json.dumps(asked, sort_keys=True, default=str).encode()).hexdigest()


def _validation(message: str, name: str = "") -> SandboxError:
    fields = [{"name": name, "message": message}] if name else []
    return SandboxError(
        "ValidationException", message, reason="FieldValidationFailed", fieldList=fields
    )


@operation(SERVICE, "StartCodeInterpreterSession")
def start_session(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    identifier = params["codeInterpreterIdentifier"]
    _check_interpreter(identifier)
    now = timezone.now()
    expire(now)
    token = params.get("clientToken") or ""
    digest = _digest(params)
    if token:
        earlier = CodeInterpreterSession.objects.filter(client_token=token).first()
        if earlier is not None:
            if earlier.request_digest != digest:
                raise SandboxError(
                    "ValidationException",
                    "The clientToken was used before with different parameters",
                    reason="IdempotentParameterMismatchException",
                )
            return _started(earlier)
    limit = int(getattr(settings, "SANDBOX_CODE_MAX_SESSIONS", 8))
    ready = CodeInterpreterSession.objects.filter(status=CodeInterpreterSession.READY).count()
    if ready >= limit:
        raise SandboxError(
            "ServiceQuotaExceededException",
            f"The sandbox allows {limit} code interpreter sessions at once "
            "(SANDBOX_CODE_MAX_SESSIONS). Stop a session and try again.",
        )
    timeout = params.get("sessionTimeoutSeconds") or DEFAULT_TIMEOUT
    session = CodeInterpreterSession.objects.create(
        session_id=new_session_id(now),
        code_interpreter_identifier=identifier,
        name=params.get("name", ""),
        timeout_seconds=timeout,
        expires_at=now + dt.timedelta(seconds=timeout),
        client_token=token,
        request_digest=digest,
        config={k: params[k] for k in KEPT if params.get(k) is not None},
        created_at=now,
        updated_at=now,
    )
    return _started(session)


def _started(session: CodeInterpreterSession) -> dict[str, Any]:
    return {
        "codeInterpreterIdentifier": session.code_interpreter_identifier,
        "sessionId": session.session_id,
        "createdAt": session.created_at,
    }


@operation(SERVICE, "GetCodeInterpreterSession")
def get_session(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    session = _session(params["codeInterpreterIdentifier"], params["sessionId"])
    return {
        "codeInterpreterIdentifier": session.code_interpreter_identifier,
        "sessionId": session.session_id,
        "name": session.name or None,
        "createdAt": session.created_at,
        "sessionTimeoutSeconds": session.timeout_seconds,
        "status": session.status,
        **session.config,
    }


@operation(SERVICE, "ListCodeInterpreterSessions")
def list_sessions(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    identifier = params["codeInterpreterIdentifier"]
    _check_interpreter(identifier)
    expire(timezone.now())
    status = params.get("status") or ""
    rows = CodeInterpreterSession.objects.filter(code_interpreter_identifier=identifier)
    if status:
        rows = rows.filter(status=status)
    sessions, token = page(
        rows.order_by("-created_at", "-session_id"),
        params.get("nextToken"),
        params.get("maxResults"),
        scope=f"ListCodeInterpreterSessions:{identifier}:{status}",
        default=10,
    )
    return {
        "items": [
            {
                "codeInterpreterIdentifier": s.code_interpreter_identifier,
                "sessionId": s.session_id,
                "name": s.name or None,
                "status": s.status,
                "createdAt": s.created_at,
                "lastUpdatedAt": s.updated_at,
            }
            for s in sessions
        ],
        "nextToken": token,
    }


def _ready(session: CodeInterpreterSession, action: str) -> None:
    if session.status != CodeInterpreterSession.READY:
        raise SandboxError(
            "ConflictException",
            f"Code interpreter session {session.session_id} is {session.status} (stopped or "
            f"timed out): cannot {action} it. Start a new session.",
        )


@operation(SERVICE, "StopCodeInterpreterSession")
def stop_session(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    session = _session(params["codeInterpreterIdentifier"], params["sessionId"], lock=True)
    _ready(session, "stop")
    now = timezone.now()
    session.status = CodeInterpreterSession.TERMINATED
    session.updated_at = now
    session.save(update_fields=["status", "updated_at"])
    return {
        "codeInterpreterIdentifier": session.code_interpreter_identifier,
        "sessionId": session.session_id,
        "lastUpdatedAt": now,
    }


# --- InvokeCodeInterpreter ------------------------------------------------------------------

# A planned event: seconds to wait before it, then the `result` event's members.
Planned = tuple[float, dict[str, Any]]


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _result(
    content: list[dict[str, Any]], structured: dict[str, Any] | None = None, error: bool = False
) -> dict[str, Any]:
    members: dict[str, Any] = {"content": content, "isError": error}
    if structured:
        members["structuredContent"] = structured
    return members


@operation(SERVICE, "InvokeCodeInterpreter")
def invoke(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    identifier = params["codeInterpreterIdentifier"]
    session_id = params.get("sessionId")
    if not session_id:
        raise _validation(
            "sessionId is required: start a session with StartCodeInterpreterSession",
            "sessionId",
        )
    session = _session(identifier, session_id, lock=True)
    _ready(session, "use")
    tool = params["name"]
    arguments = params.get("arguments") or {}
    now = timezone.now()
    planned = _TOOLS[tool](session, arguments, now)
    session.updated_at = now
    session.save(update_fields=["files", "variables", "updated_at"])
    return {"sessionId": session.session_id, "stream": _paced(planned)}


def _paced(planned: list[Planned]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Runs lazily in the reader's thread: the events, each after its pause."""
    for pause, members in planned:
        if pause > 0:
            time.sleep(pause)
        yield "result", members


def _streamed(
    steps: list[code_sim.Step], exit_code: int, notice: str = code_sim.NOTICE
) -> list[Planned]:
    """Output steps as result events paced like a running program, then the final one."""
    step = float(getattr(settings, "SANDBOX_CODE_STEP_SECONDS", 0.1))
    pacing = MAX_PACING
    planned: list[Planned] = []
    waited = 0.0
    elapsed = 0.0
    for item in steps:
        if item.kind == "sleep":
            waited += item.seconds
            continue
        pause = min(step, pacing)
        pacing -= pause
        elapsed += waited + pause
        members = _result([_text(item.text)], {item.kind: item.text}, error=False)
        if len(planned) >= MAX_EVENTS:
            last = planned[-1][1]
            stream = next(iter(last["structuredContent"]))
            if stream == item.kind:
                last["structuredContent"][stream] += item.text
                last["content"][0]["text"] += item.text
                continue
        planned.append((waited + pause, members))
        waited = 0.0
    elapsed += waited
    final = _result(
        [_text(notice)],
        {"exitCode": exit_code, "executionTime": round(elapsed * 1000 + 3.0, 1)},
        error=exit_code != 0,
    )
    planned.append((waited, final))
    return planned


def _execute_code(
    session: CodeInterpreterSession, arguments: dict[str, Any], now: dt.datetime
) -> list[Planned]:
    code = arguments.get("code")
    if not code:
        raise _validation("executeCode needs arguments.code: the code to run", "arguments.code")
    language = arguments.get("language") or "python"
    variables = dict(session.variables or {})
    if arguments.get("clearContext"):
        variables.pop(language, None)
    outcome = code_sim.simulate(code, language, variables.get(language))
    variables[language] = outcome.variables
    session.variables = variables
    return _streamed(outcome.steps, outcome.exit_code)


def _execute_command(
    session: CodeInterpreterSession, arguments: dict[str, Any], now: dt.datetime
) -> list[Planned]:
    command = arguments.get("command")
    if not command:
        raise _validation("executeCommand needs arguments.command", "arguments.command")
    files = dict(session.files or {})
    outcome = code_shell.run(command, files, now, variables=session.variables)
    session.files = files
    return _streamed(outcome.steps, outcome.exit_code, code_sim.SHELL_NOTICE)


def _paths(arguments: dict[str, Any], tool: str) -> list[str]:
    paths = [p for p in arguments.get("paths") or [] if p]
    if not paths:
        raise _validation(f"{tool} needs arguments.paths: at least one path", "arguments.paths")
    return paths


def _read_files(
    session: CodeInterpreterSession, arguments: dict[str, Any], now: dt.datetime
) -> list[Planned]:
    content: list[dict[str, Any]] = []
    failed = False
    for path in _paths(arguments, "readFiles"):
        try:
            name = code_shell.normalize(path)
        except code_shell.FsError as exc:
            content.append(_text(str(exc)))
            failed = True
            continue
        entry = (session.files or {}).get(name)
        if entry is None or entry.get("dir"):
            content.append(_text(f"File not found: {path}"))
            failed = True
            continue
        resource: dict[str, Any] = {"uri": f"file:///{name}", "mimeType": code_shell.mime_of(name)}
        text = code_shell.text_of(entry) if "text" in entry else None
        if text is not None:
            resource.update(type="text", text=text)
        else:
            resource.update(type="blob", blob=code_shell.content_of(entry))
        content.append({"type": "resource", "resource": resource})
    return [(0.0, _result(content, error=failed))]


def _list_files(
    session: CodeInterpreterSession, arguments: dict[str, Any], now: dt.datetime
) -> list[Planned]:
    directory = arguments.get("directoryPath") or arguments.get("path") or ""
    try:
        entries = code_shell.listing(session.files or {}, directory)
    except code_shell.FsError as exc:
        return [(0.0, _result([_text(f"Cannot list {directory}: {exc}")], error=True))]
    content = [
        {
            "type": "resource_link",
            "uri": f"file:///{e.path}",
            "name": e.name,
            "mimeType": e.mime,
            "size": e.size,
            "description": "directory" if e.is_dir else "file",
        }
        for e in entries
    ]
    if not content:
        shown = code_shell.shown(code_shell.normalize(directory))
        content = [_text(f"No files in {shown}")]
    return [(0.0, _result(content))]


def _write_files(
    session: CodeInterpreterSession, arguments: dict[str, Any], now: dt.datetime
) -> list[Planned]:
    blocks = arguments.get("content") or []
    if not blocks:
        raise _validation(
            "writeFiles needs arguments.content: a path and text or blob per file",
            "arguments.content",
        )
    files = dict(session.files or {})
    written: list[str] = []
    problems: list[str] = []
    for block in blocks:
        if block.get("text") is None and block.get("blob") is None:
            problems.append(f"{block.get('path')}: give text or blob")
            continue
        try:
            written.append(
                code_shell.write(
                    files, block["path"], now, text=block.get("text"), blob=block.get("blob")
                )
            )
        except code_shell.FsError as exc:
            problems.append(str(exc))
    session.files = files
    lines = [f"Successfully wrote {len(written)} of {len(blocks)} file(s)"]
    lines += [f"- /{name}" for name in written]
    lines += [f"Failed: {problem}" for problem in problems]
    return [(0.0, _result([_text("\n".join(lines))], error=bool(problems)))]


def _remove_files(
    session: CodeInterpreterSession, arguments: dict[str, Any], now: dt.datetime
) -> list[Planned]:
    files = dict(session.files or {})
    removed: list[str] = []
    problems: list[str] = []
    for path in _paths(arguments, "removeFiles"):
        try:
            code_shell.remove(files, path)
            removed.append(path)
        except code_shell.FsError as exc:
            problems.append(str(exc))
    session.files = files
    lines = [f"Removed {len(removed)} path(s)"] + [f"Failed: {p}" for p in problems]
    return [(0.0, _result([_text("\n".join(lines))], error=bool(problems)))]


# --- command tasks --------------------------------------------------------------------------


def _start_command(
    session: CodeInterpreterSession, arguments: dict[str, Any], now: dt.datetime
) -> list[Planned]:
    command = arguments.get("command")
    if not command:
        raise _validation("startCommandExecution needs arguments.command", "arguments.command")
    files = dict(session.files or {})
    outcome = code_shell.run(
        command, files, now, sleep_limit=TASK_SLEEP_LIMIT, variables=session.variables
    )
    session.files = files
    plan: list[list[Any]] = []
    at = 0.0
    for step in outcome.steps:
        if step.kind == "sleep":
            at += step.seconds
            continue
        at += TASK_LINE_SECONDS
        plan.append([round(at, 3), step.kind, step.text])
    task = CodeInterpreterTask.objects.create(
        task_id=uuid.uuid4().hex,
        session=session,
        command=command,
        plan=plan,
        duration=at + TASK_LINE_SECONDS,
        exit_code=outcome.exit_code,
        started_at=now,
    )
    text = f"Started task {task.task_id}: ask getTask for its progress (simulated)."
    return [(0.0, _result([_text(text)], {"taskId": task.task_id, "taskStatus": "submitted"}))]


def _task(session: CodeInterpreterSession, arguments: dict[str, Any]) -> CodeInterpreterTask:
    task_id = arguments.get("taskId")
    if not task_id:
        raise _validation("This tool needs arguments.taskId", "arguments.taskId")
    task = CodeInterpreterTask.objects.filter(pk=task_id, session=session).first()
    if task is None:
        raise SandboxError(
            "ResourceNotFoundException", f"Task {task_id} was not found in this session"
        )
    return task


def task_state(task: CodeInterpreterTask, now: dt.datetime) -> dict[str, Any]:
    """A task as the wall clock has it: status, output so far, exit code once over."""
    until = task.stopped_at or now
    elapsed = max(0.0, (until - task.started_at).total_seconds())
    shown = [line for line in task.plan if line[0] <= elapsed]
    state: dict[str, Any] = {
        "taskId": task.task_id,
        "stdout": "".join(text for _, kind, text in shown if kind == "stdout"),
        "stderr": "".join(text for _, kind, text in shown if kind == "stderr"),
        "executionTime": round(min(elapsed, task.duration) * 1000, 1),
    }
    if elapsed >= task.duration:
        state["taskStatus"] = "completed" if task.exit_code == 0 else "failed"
        state["exitCode"] = task.exit_code
    elif task.stopped_at is not None:
        state["taskStatus"] = "canceled"
        state["exitCode"] = 130
    else:
        state["taskStatus"] = "working" if elapsed > 0 else "submitted"
    return state


def _task_result(state: dict[str, Any], headline: str) -> list[Planned]:
    content = [_text(headline)]
    if state["stdout"]:
        content.append(_text(state["stdout"]))
    return [(0.0, _result(content, state, error=state["taskStatus"] == "failed"))]


def _get_task(
    session: CodeInterpreterSession, arguments: dict[str, Any], now: dt.datetime
) -> list[Planned]:
    task = _task(session, arguments)
    state = task_state(task, now)
    return _task_result(state, f"Task {task.task_id} is {state['taskStatus']} (simulated).")


def _stop_task(
    session: CodeInterpreterSession, arguments: dict[str, Any], now: dt.datetime
) -> list[Planned]:
    task = _task(session, arguments)
    state = task_state(task, now)
    if state["taskStatus"] in ("submitted", "working"):
        task.stopped_at = now
        task.save(update_fields=["stopped_at"])
        state = task_state(task, now)
        return _task_result(state, f"Stopped task {task.task_id}.")
    return _task_result(state, f"Task {task.task_id} had already ended ({state['taskStatus']}).")


_TOOLS = {
    "executeCode": _execute_code,
    "executeCommand": _execute_command,
    "readFiles": _read_files,
    "listFiles": _list_files,
    "writeFiles": _write_files,
    "removeFiles": _remove_files,
    "startCommandExecution": _start_command,
    "getTask": _get_task,
    "stopTask": _stop_task,
}
