"""Forms and URL checks of the code interpreter pages, held to the botocore model's rules.

`ToolForm` is one form for every tool InvokeCodeInterpreter's model allows (`TOOLS`, read from
the model): the chosen tool decides which fields are read, checked and sent. Without
JavaScript the page shows the chosen tool's fields only (?tool=...); with it, every tool's
fields stay on the page (hidden), so switching tools loses nothing typed.
"""

from __future__ import annotations

from typing import Any

import regex
from django import forms

from dashboard.aws.agentcore_code import (
    LANGUAGES,
    RUNTIMES,
    SERVICE,
    STATUSES,
    SYSTEM_CODE_INTERPRETER,
    TOOLS,
)
from dashboard.aws.model import operation_model, shape_constraint
from dashboard.core.forms import model_field, model_validator

# URL ids: the system interpreter's name, custom ids ("name-a1b2c3d4e5"), and the model's
# session id pattern. No ":" (stream keys are joined by it), nothing a URL must escape.
INTERPRETER_ID = regex.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
SESSION_ID = regex.compile(r"[0-9A-Za-z]{1,40}")
DEFAULT_TIMEOUT = 900
# The console sends at most this much code or text per call (AWS allows 100,000,000
# characters): a run travels over the page's websocket and its input is shown in the page.
MAX_INPUT = 1_000_000
MAX_PATHS = 1000
# A run's cell shows (and the stream log keeps) this much of its code or command.
SHOWN_INPUT = 100_000


def valid_interpreter_id(value: str) -> bool:
    return bool(INTERPRETER_ID.fullmatch(value or ""))


def valid_session_id(value: str) -> bool:
    return bool(SESSION_ID.fullmatch(value or ""))


# What each tool is called on the page, what it does, and the form fields it reads.
TOOL_INFO: dict[str, dict[str, Any]] = {
    "executeCode": {
        "label": "Run code",
        "help": "Run Python, JavaScript or TypeScript in the session; output streams back.",
        "fields": ("code", "language", "runtime", "clear_context"),
    },
    "executeCommand": {
        "label": "Run a command",
        "help": "Run a shell command in the session; its output streams back.",
        "fields": ("command",),
    },
    "startCommandExecution": {
        "label": "Start a task",
        "help": "Start a long command in the background; follow it with Task status.",
        "fields": ("command",),
    },
    "getTask": {
        "label": "Task status",
        "help": "The status and output so far of a task started in this session.",
        "fields": ("task_id",),
    },
    "stopTask": {
        "label": "Stop a task",
        "help": "Cancel a task started in this session.",
        "fields": ("task_id",),
    },
    "listFiles": {
        "label": "List files",
        "help": "The files and folders in a directory of the session.",
        "fields": ("directory",),
    },
    "readFiles": {
        "label": "Read files",
        "help": "The content of files in the session.",
        "fields": ("paths",),
    },
    "writeFiles": {
        "label": "Write a file",
        "help": "Create or replace a text file in the session.",
        "fields": ("file_path", "file_text"),
    },
    "removeFiles": {
        "label": "Remove files",
        "help": "Delete files or folders from the session.",
        "fields": ("paths",),
    },
}
TOOL_ORDER = tuple(name for name in TOOL_INFO if name in TOOLS)
DEFAULT_TOOL = "executeCode"
_LANGUAGE_NAMES = {"python": "Python", "javascript": "JavaScript", "typescript": "TypeScript"}


def _argument(path: str) -> Any:
    """The constraint of an `arguments` member ("code", or "content.text" inside a list)."""
    shape = operation_model(SERVICE, "InvokeCodeInterpreter").input_shape.members["arguments"]
    for name in path.split("."):
        if shape.type_name == "list":
            shape = shape.member
        shape = shape.members[name]
    return shape_constraint(path, shape)


def _text_field(member: str, label: str, *, rows: int = 0, help_text: str = "") -> forms.Field:
    constraint = _argument(member)
    attrs = {"spellcheck": "false", "autocomplete": "off", "class": "mono"}
    widget = forms.Textarea(attrs={**attrs, "rows": rows}) if rows else forms.TextInput(attrs)
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        max_length=min(MAX_INPUT, constraint.max or MAX_INPUT),
        widget=widget,
        help_text=help_text,
        validators=[model_validator(constraint)],
    )


class ToolForm(forms.Form):
    tool = forms.ChoiceField(choices=[(t, TOOL_INFO[t]["label"]) for t in TOOL_ORDER])
    code = _text_field(
        "code",
        "Code",
        rows=12,
        help_text="Ctrl+Enter runs it. Variables stay in the session for the next run.",
    )
    language = forms.ChoiceField(
        label="Language",
        choices=[(v, _LANGUAGE_NAMES.get(v, v)) for v in LANGUAGES],
        initial="python",
        required=False,
    )
    runtime = forms.ChoiceField(
        label="Runtime",
        choices=[("", "Default"), *((v, v) for v in RUNTIMES)],
        required=False,
        help_text="The engine for JavaScript/TypeScript (Node.js or Deno); leave it for Python.",
    )
    clear_context = forms.BooleanField(
        label="Start from a clean context (forget earlier variables)", required=False
    )
    command = _text_field("command", "Command", rows=3, help_text="For example: ls -l")
    task_id = _text_field("taskId", "Task id", help_text="As Start a task answered it.")
    directory = _text_field(
        "directoryPath", "Directory", help_text="Leave empty for the session's top folder."
    )
    paths = _text_field("path", "Paths", rows=4, help_text="One path per line.")
    file_path = _text_field("content.path", "Path", help_text="For example: reports/summary.txt")
    file_text = _text_field("content.text", "Content", rows=8)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        tool = data.get("tool")
        if tool == "executeCode" and not (data.get("code") or "").strip():
            self.add_error("code", "Type the code to run.")
        if tool in ("executeCommand", "startCommandExecution"):
            if not (data.get("command") or "").strip():
                self.add_error("command", "Type the command to run.")
        if tool in ("getTask", "stopTask") and not (data.get("task_id") or "").strip():
            self.add_error("task_id", "Give the task's id.")
        if tool in ("readFiles", "removeFiles"):
            paths = self.path_list()
            if not paths:
                self.add_error("paths", "Give at least one path.")
            elif len(paths) > MAX_PATHS:
                self.add_error("paths", f"Give at most {MAX_PATHS} paths at a time.")
        if tool == "writeFiles" and not (data.get("file_path") or "").strip():
            self.add_error("file_path", "Give the file's path.")
        return data

    def path_list(self) -> list[str]:
        text = self.cleaned_data.get("paths") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def arguments(self) -> dict[str, Any]:
        """The `arguments` InvokeCodeInterpreter takes for the chosen tool."""
        data = self.cleaned_data
        tool = data["tool"]
        if tool == "executeCode":
            arguments: dict[str, Any] = {
                "code": data["code"],
                "language": data.get("language") or "python",
            }
            if data.get("runtime"):
                arguments["runtime"] = data["runtime"]
            if data.get("clear_context"):
                arguments["clearContext"] = True
            return arguments
        if tool in ("executeCommand", "startCommandExecution"):
            return {"command": data["command"].strip()}
        if tool in ("getTask", "stopTask"):
            return {"taskId": data["task_id"].strip()}
        if tool in ("readFiles", "removeFiles"):
            return {"paths": self.path_list()}
        if tool == "listFiles":
            return {"directoryPath": (data.get("directory") or "").strip() or "/"}
        if tool == "writeFiles":
            return {"content": [{"path": data["file_path"].strip(), "text": data["file_text"]}]}
        return {}

    def shown_inputs(self) -> dict[str, Any]:
        """What the run's cell shows as its input (and the stream log keeps)."""
        arguments = self.arguments()
        shown: dict[str, Any] = {
            k: v for k, v in arguments.items() if k not in ("content", "clearContext")
        }
        if arguments.get("clearContext"):
            shown["clearContext"] = True
        for name in ("code", "command"):
            if len(shown.get(name) or "") > SHOWN_INPUT:
                shown[name] = (
                    shown[name][:SHOWN_INPUT] + f"\n… ({len(arguments[name]):,} characters)"
                )
        if "content" in arguments:
            shown["files"] = [
                {"path": c["path"], "size": len((c.get("text") or "").encode())}
                for c in arguments["content"]
            ]
            shown["text"] = arguments["content"][0].get("text", "")[:20_000]
        return shown


# AWS's ValidationExceptionField names (arguments.code, ...) to ToolForm's fields.
AWS_FIELDS = {
    "arguments.code": "code",
    "arguments.language": "language",
    "arguments.runtime": "runtime",
    "arguments.command": "command",
    "arguments.taskId": "task_id",
    "arguments.directoryPath": "directory",
    "arguments.paths": "paths",
    "arguments.content": "file_path",
    "name": "tool",
}


class ListFilter(forms.Form):
    """The list page's URL: ?interpreter=…&status=…&next=…"""

    interpreter = forms.CharField(required=False, max_length=128, label="Code interpreter")
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *((s, s.title()) for s in STATUSES)]
    )
    next = forms.CharField(required=False, max_length=2048)

    def clean_interpreter(self) -> str:
        value = (self.cleaned_data.get("interpreter") or "").strip() or SYSTEM_CODE_INTERPRETER
        if not valid_interpreter_id(value):
            raise forms.ValidationError(
                "A code interpreter identifier is letters, digits, '.', '_' and '-' "
                f"(the system one is {SYSTEM_CODE_INTERPRETER})."
            )
        return value


class StartForm(forms.Form):
    name = model_field(
        SERVICE,
        "StartCodeInterpreterSession",
        "name",
        label="Name",
        required=False,
        help_text="Optional, to recognise the session in the list (1 to 100 characters).",
    )
    timeout = model_field(
        SERVICE,
        "StartCodeInterpreterSession",
        "sessionTimeoutSeconds",
        label="Timeout (seconds)",
        required=True,
        help_text="The session ends by itself after this long: 60 to 28800 seconds (8 hours). "
        "900 is 15 minutes.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timeout"].initial = DEFAULT_TIMEOUT
