"""The websockets of the code interpreter session page and the agent runtime playground.

- ws/agentcore/code-interpreters/<interpreter>/sessions/<session>/: everyone with the session
  open watches its runs stream (a StreamConsumer of the session's stream key: caught up from
  the log on hello, then live). Operators also run tools over it: the tool form's fields as
  JSON (htmx ws-send) with ``"action": "run"``.
- ws/agentcore/runtime/<digest>/: the same for a runtime session (the digest of ARN,
  qualifier and session id, see runtime_runs.py); operators send ``"action": "invoke"``.

A start answers this socket only, with the form's error region: emptied when the run started
(the typed input stays where it is, untouched), or with the reason and the field errors when
it did not.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import regex
from django.template.loader import render_to_string

from dashboard import streams
from dashboard.aws import agentcore_code as code_api
from dashboard.aws import executor
from dashboard.aws.errors import AwsError, NotFound, ValidationFailed

from . import code_runs, running, runtime_runs
from .forms_code import valid_interpreter_id, valid_session_id

logger = logging.getLogger(__name__)
_DIGEST = regex.compile(r"[0-9a-f]{32}")


class _Starting(streams.StreamConsumer):
    """Starts run beside the consumer's message loop: meanwhile this socket keeps relaying."""

    action = ""
    errors_template = ""  # the page's form-errors partial
    what = "input"

    async def receive_message(self, message: dict[str, Any]) -> None:
        if message.get("action") != self.action:
            return
        data = {k: v for k, v in message.items() if k not in ("action", "HEADERS")}
        task = asyncio.get_running_loop().create_task(self._start_answered(data))
        self._starting = getattr(self, "_starting", set())
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def receive_malformed(self, text: str | None) -> None:
        await self._answer(
            "The console could not read what the page sent (not a JSON object). Nothing ran; "
            f"your {self.what} is kept below. Reload the page if this happens again."
        )

    async def _answer(self, error: str) -> None:
        html = render_to_string(self.errors_template, {"run_error": error, "oob": True})
        await self.push(html)

    async def _start_answered(self, data: dict[str, Any]) -> None:
        # A task's exception would be lost (and the page left waiting): answer it instead.
        try:
            await self._start(data)
        except Exception:
            logger.exception("Could not start a run on %s", self.key)
            await self._answer(
                f"The console could not start this run (an internal error; it is logged). "
                f"Your {self.what} is kept below: try again."
            )

    async def _start(self, data: dict[str, Any]) -> None:
        raise NotImplementedError


def _plain(data: dict[str, Any]) -> dict[str, str]:
    """Form fields as a form reads them (a checkbox's value, lists joined)."""
    out: dict[str, str] = {}
    for name, value in data.items():
        if isinstance(value, list):
            value = value[-1] if value else ""
        if isinstance(value, bool):
            value = "on" if value else ""
        out[str(name)] = "" if value is None else str(value)
    return out


class CodeSessionConsumer(_Starting):
    action = "run"
    errors_template = "agentcore/code_session.html#form-errors"
    what = "code"

    def _ids(self) -> tuple[str, str]:
        kwargs = self.scope.get("url_route", {}).get("kwargs", {})
        return str(kwargs.get("interpreter_id", "")), str(kwargs.get("session_id", ""))

    def stream_key(self) -> str:
        interpreter_id, session_id = self._ids()
        if not valid_interpreter_id(interpreter_id) or not valid_session_id(session_id):
            raise ValueError("Not a code interpreter session")
        return code_runs.stream_key(interpreter_id, session_id)

    async def has_access(self, user: Any) -> bool:
        interpreter_id, session_id = self._ids()
        try:
            await executor.run(code_api.get_session, interpreter_id, session_id)
        except (NotFound, ValidationFailed):
            return False
        except AwsError as error:
            # AWS busy: let the page watch anyway; a run will say what is wrong.
            logger.warning("Could not check code interpreter session %s: %s", session_id, error)
        return True

    async def _start(self, data: dict[str, Any]) -> None:
        interpreter_id, session_id = self._ids()
        started = await running.run_tool(
            self.scope["user"], interpreter_id, session_id, _plain(data)
        )
        html = render_to_string(
            "agentcore/code_session.html#form-errors",
            {"form": started.form, "run_error": started.error, "oob": True},
        )
        await self.push(html)


class RuntimeConsumer(_Starting):
    action = "invoke"
    errors_template = "agentcore/runtime.html#form-errors"
    what = "payload"

    def stream_key(self) -> str:
        value = str(self.scope.get("url_route", {}).get("kwargs", {}).get("digest", ""))
        if not _DIGEST.fullmatch(value):
            raise ValueError("Not a runtime session")
        return runtime_runs.key_of_digest(value)

    async def _start(self, data: dict[str, Any]) -> None:
        started = await running.invoke_runtime(
            self.scope["user"], _plain(data), expected_key=self.key
        )
        html = render_to_string(
            "agentcore/runtime.html#form-errors",
            {"form": started.form, "run_error": started.error, "oob": True},
        )
        await self.push(html)
