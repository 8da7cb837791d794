"""The sandbox code interpreter's file system and shell: both simulated, never the host's.

A session's files live in its database row (`CodeInterpreterSession.files`): a dict from a
normalized path ("reports/summary.txt", no leading slash, never above the root) to
``{"text": str}`` or ``{"blob": base64}``, with "size" and "modified"; directories are implied
by the paths in them, or recorded as ``{"dir": true}`` by mkdir.

The shell reads a command line with `shlex` and acts out a few commands against those files:
echo, ls, cat, head, tail, wc, pwd, mkdir, touch, rm, sleep, date, whoami, hostname, uname,
`python -c` and `node -e` (through the simulated interpreter), joined by `;`, `&&`, `||` and
with `>`/`>>` redirection. Nothing reaches the host: every other command says it is not
simulated (exit 127).
"""

from __future__ import annotations

import base64
import datetime as dt
import mimetypes
import posixpath
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import code_sim
from .code_sim import Step

MAX_FILES = 500
MAX_BYTES = 20 * 1024 * 1024  # in all files of a session
ROOT = "/"
SIMULATED = "echo, ls, cat, head, tail, wc, pwd, mkdir, touch, rm, sleep, date, whoami, python -c"


class FsError(Exception):
    """A file operation that cannot be done (its message is what a shell would say)."""


# --- the file system ------------------------------------------------------------------------


def normalize(path: str) -> str:
    """The stored form of `path` ("" is the root). Raises FsError above the root."""
    text = (path or "").strip()
    if "\x00" in text:
        raise FsError(f"{path!r}: invalid path")
    clean = posixpath.normpath("/" + text.lstrip("/")).lstrip("/")
    if clean in (".", ""):
        return ""
    if clean.startswith(".."):
        raise FsError(f"{path}: outside the session's file system")
    return clean


def shown(path: str) -> str:
    return "/" + path


def mime_of(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "text/plain"


def is_dir(files: dict[str, Any], path: str) -> bool:
    if path == "":
        return True
    entry = files.get(path)
    if entry is not None:
        return bool(entry.get("dir"))
    prefix = path + "/"
    return any(name.startswith(prefix) for name in files)


def content_of(entry: dict[str, Any]) -> bytes:
    if "blob" in entry:
        return base64.b64decode(entry["blob"])
    return str(entry.get("text", "")).encode()


def text_of(entry: dict[str, Any]) -> str | None:
    """The file as text, or None when it is binary."""
    if "text" in entry:
        return str(entry["text"])
    try:
        return content_of(entry).decode()
    except UnicodeDecodeError:
        return None


def write(
    files: dict[str, Any],
    path: str,
    now: dt.datetime,
    *,
    text: str | None = None,
    blob: bytes | None = None,
    append: bool = False,
) -> str:
    """Write one file; returns its stored path."""
    name = normalize(path)
    if name == "" or is_dir(files, name):
        raise FsError(f"{shown(name)}: is a directory")
    parent = posixpath.dirname(name)
    while parent:
        entry = files.get(parent)
        if entry is not None and not entry.get("dir"):
            raise FsError(f"{shown(name)}: {shown(parent)} is a file, not a directory")
        parent = posixpath.dirname(parent)
    if append and name in files and text is not None:
        before = text_of(files[name])
        if before is None:
            raise FsError(f"{shown(name)}: cannot append text to a binary file")
        text = before + text
    entry: dict[str, Any]
    if blob is not None:
        entry = {"blob": base64.b64encode(blob).decode(), "size": len(blob)}
    else:
        data = text or ""
        entry = {"text": data, "size": len(data.encode())}
    entry["modified"] = now.isoformat()
    if name not in files and len(files) >= MAX_FILES:
        raise FsError(f"{shown(name)}: the session already has {MAX_FILES} files")
    total = sum(int(e.get("size", 0)) for p, e in files.items() if p != name) + entry["size"]
    if total > MAX_BYTES:
        raise FsError(f"{shown(name)}: the session's files would exceed {MAX_BYTES} bytes")
    files[name] = entry
    return name


def make_dir(files: dict[str, Any], path: str, now: dt.datetime) -> None:
    name = normalize(path)
    if name and not is_dir(files, name):
        if name in files:
            raise FsError(f"{shown(name)}: file exists")
        if len(files) >= MAX_FILES:
            raise FsError(f"{shown(name)}: the session already has {MAX_FILES} files")
        files[name] = {"dir": True, "size": 0, "modified": now.isoformat()}


def remove(files: dict[str, Any], path: str, *, recursive: bool = True) -> int:
    """Remove a file, or a directory and everything in it; returns how many entries went."""
    name = normalize(path)
    if name == "":
        raise FsError("/: refusing to remove the root")
    prefix = name + "/"
    inside = [p for p in files if p.startswith(prefix)]
    if inside and not recursive:
        raise FsError(f"{shown(name)}: is a directory")
    doomed = [p for p in (name, *inside) if p in files]
    if not doomed:
        raise FsError(f"{shown(name)}: no such file or directory")
    for entry in doomed:
        del files[entry]
    return len(doomed)


@dataclass
class Entry:
    name: str
    path: str
    is_dir: bool
    size: int = 0
    modified: str = ""

    @property
    def mime(self) -> str:
        return "inode/directory" if self.is_dir else mime_of(self.path)


def listing(files: dict[str, Any], path: str) -> list[Entry]:
    """The entries directly in directory `path`, directories first."""
    name = normalize(path)
    if name in files and not files[name].get("dir"):
        entry = files[name]
        return [
            Entry(
                posixpath.basename(name), name, False, entry.get("size", 0), entry.get("modified")
            )
        ]
    if not is_dir(files, name):
        raise FsError(f"{shown(name)}: no such file or directory")
    prefix = name + "/" if name else ""
    found: dict[str, Entry] = {}
    for stored, entry in files.items():
        if not stored.startswith(prefix) or stored == name:
            continue
        rest = stored[len(prefix) :]
        head, _, tail = rest.partition("/")
        child = prefix + head
        if tail or entry.get("dir"):
            found.setdefault(head, Entry(head, child, True))
        else:
            found[head] = Entry(
                head, child, False, int(entry.get("size", 0)), str(entry.get("modified", ""))
            )
    return sorted(found.values(), key=lambda e: (not e.is_dir, e.name))


# --- the shell ----------------------------------------------------------------------------


@dataclass
class ShellOutcome:
    steps: list[Step] = field(default_factory=list)
    exit_code: int = 0

    def out(self, text: str) -> None:
        if text:
            self.steps.append(Step("stdout", text))

    def err(self, text: str) -> None:
        if text:
            self.steps.append(Step("stderr", text))


class _Shell:
    def __init__(
        self,
        files: dict[str, Any],
        now: dt.datetime,
        *,
        sleep_limit: float,
        variables: dict[str, Any] | None = None,
    ) -> None:
        self.files = files
        self.now = now
        self.sleep_left = sleep_limit
        self.variables = variables if variables is not None else {}
        self.outcome = ShellOutcome()

    def run(self, line: str) -> ShellOutcome:
        try:
            lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
            lexer.whitespace_split = True
            tokens = list(lexer)
        except ValueError as exc:
            self.outcome.err(f"sh: syntax error: {exc}\n")
            self.outcome.exit_code = 2
            return self.outcome
        command: list[str] = []
        joiner = ";"
        status = 0
        for token in [*tokens, ";"]:
            if token in (";", "&&", "||", "&"):
                if command:
                    runs = joiner == ";" or (joiner == "&&") == (status == 0)
                    if runs:
                        status = self.simple(command)
                    command = []
                joiner = "&&" if token == "&&" else "||" if token == "||" else ";"
            else:
                command.append(token)
        self.outcome.exit_code = status
        return self.outcome

    def simple(self, words: list[str]) -> int:
        if any(w in ("|", "<", "<<", "|&", ">&") for w in words):
            self.outcome.err("sh: pipes and input redirection are not simulated by the sandbox\n")
            return 2
        target = ""
        append = False
        for marker in (">>", ">"):
            if marker in words:
                at = words.index(marker)
                if at + 1 >= len(words):
                    self.outcome.err("sh: syntax error near unexpected token `newline'\n")
                    return 2
                target, append = words[at + 1], marker == ">>"
                words = words[:at] + words[at + 2 :]
                break
        if not words:
            return 0
        name, args = words[0], words[1:]
        handler = _COMMANDS.get(name)
        if handler is None:
            self.outcome.err(
                f"sh: {name}: not simulated by the sandbox (it simulates {SIMULATED})\n"
            )
            return 127
        if not target:
            return handler(self, args)
        captured = ShellOutcome()
        outer, self.outcome = self.outcome, captured
        try:
            status = handler(self, args)
        finally:
            self.outcome = outer
        text = "".join(s.text for s in captured.steps if s.kind == "stdout")
        for step in captured.steps:
            if step.kind != "stdout":
                self.outcome.steps.append(step)
        try:
            write(self.files, target, self.now, text=text, append=append)
        except FsError as exc:
            self.outcome.err(f"sh: {exc}\n")
            return 1
        return status

    # --- commands ------------------------------------------------------------------------

    def echo(self, args: list[str]) -> int:
        newline = True
        if args and args[0] == "-n":
            newline, args = False, args[1:]
        self.outcome.out(" ".join(args) + ("\n" if newline else ""))
        return 0

    def pwd(self, args: list[str]) -> int:
        self.outcome.out(ROOT + "\n")
        return 0

    def ls(self, args: list[str]) -> int:
        flags = "".join(a[1:] for a in args if a.startswith("-"))
        paths = [a for a in args if not a.startswith("-")] or [""]
        status = 0
        for number, path in enumerate(paths):
            try:
                entries = listing(self.files, path)
            except FsError as exc:
                self.outcome.err(f"ls: {exc}\n")
                status = 2
                continue
            if len(paths) > 1:
                self.outcome.out(("\n" if number else "") + f"{shown(normalize(path))}:\n")
            if "l" in flags:
                lines = [
                    f"{'d' if e.is_dir else '-'}rw-r--r-- 1 sandbox sandbox "
                    f"{e.size:>8} {e.name}{'/' if e.is_dir else ''}"
                    for e in entries
                ]
                self.outcome.out("".join(line + "\n" for line in lines) or "total 0\n")
            elif entries:
                self.outcome.out(
                    "  ".join(e.name + ("/" if e.is_dir else "") for e in entries) + "\n"
                )
        return status

    def _read(self, command: str, path: str) -> str | None:
        try:
            name = normalize(path)
        except FsError as exc:
            self.outcome.err(f"{command}: {exc}\n")
            return None
        entry = self.files.get(name)
        if entry is None or entry.get("dir"):
            reason = "Is a directory" if is_dir(self.files, name) else "No such file or directory"
            self.outcome.err(f"{command}: {path}: {reason}\n")
            return None
        text = text_of(entry)
        if text is None:
            self.outcome.err(f"{command}: {path}: binary file ({entry.get('size', 0)} bytes)\n")
        return text

    def cat(self, args: list[str]) -> int:
        status = 0
        for path in [a for a in args if not a.startswith("-")]:
            text = self._read("cat", path)
            if text is None:
                status = 1
            else:
                self.outcome.out(text)
        return status

    def _head_tail(self, command: str, args: list[str]) -> int:
        count = 10
        paths: list[str] = []
        rest = iter(args)
        for arg in rest:
            if arg == "-n":
                arg = "-" + next(rest, "10")
            if arg.startswith("-") and arg[1:].isdigit():
                count = int(arg[1:])
            else:
                paths.append(arg)
        status = 0
        for path in paths:
            text = self._read(command, path)
            if text is None:
                status = 1
                continue
            lines = text.splitlines(keepends=True)
            chosen = lines[:count] if command == "head" else lines[-count:] if count else []
            self.outcome.out("".join(chosen))
        return status

    def head(self, args: list[str]) -> int:
        return self._head_tail("head", args)

    def tail(self, args: list[str]) -> int:
        return self._head_tail("tail", args)

    def wc(self, args: list[str]) -> int:
        flags = "".join(a[1:] for a in args if a.startswith("-")) or "lwc"
        status = 0
        for path in [a for a in args if not a.startswith("-")]:
            text = self._read("wc", path)
            if text is None:
                status = 1
                continue
            counts = {"l": text.count("\n"), "w": len(text.split()), "c": len(text.encode())}
            shown_counts = " ".join(str(counts[f]) for f in "lwc" if f in flags)
            self.outcome.out(f"{shown_counts} {path}\n")
        return status

    def mkdir(self, args: list[str]) -> int:
        status = 0
        for path in [a for a in args if not a.startswith("-")]:
            try:
                make_dir(self.files, path, self.now)
            except FsError as exc:
                self.outcome.err(f"mkdir: {exc}\n")
                status = 1
        return status

    def touch(self, args: list[str]) -> int:
        status = 0
        for path in [a for a in args if not a.startswith("-")]:
            try:
                if normalize(path) not in self.files:
                    write(self.files, path, self.now, text="")
            except FsError as exc:
                self.outcome.err(f"touch: {exc}\n")
                status = 1
        return status

    def rm(self, args: list[str]) -> int:
        flags = "".join(a[1:] for a in args if a.startswith("-"))
        status = 0
        for path in [a for a in args if not a.startswith("-")]:
            try:
                remove(self.files, path, recursive="r" in flags.lower())
            except FsError as exc:
                if "f" not in flags or "root" in str(exc):
                    self.outcome.err(f"rm: {exc}\n")
                    status = 1
        return status

    def sleep(self, args: list[str]) -> int:
        try:
            seconds = float(args[0].rstrip("s")) if args else -1
        except ValueError:
            seconds = -1
        if seconds < 0:
            self.outcome.err("sleep: invalid time interval\n")
            return 1
        pause = min(seconds, self.sleep_left)
        if pause > 0:
            self.sleep_left -= pause
            self.outcome.steps.append(Step("sleep", seconds=pause))
        return 0

    def date(self, args: list[str]) -> int:
        self.outcome.out(self.now.astimezone(dt.UTC).strftime("%a %b %d %H:%M:%S UTC %Y") + "\n")
        return 0

    def whoami(self, args: list[str]) -> int:
        self.outcome.out("sandbox\n")
        return 0

    def hostname(self, args: list[str]) -> int:
        self.outcome.out("code-interpreter.sandbox\n")
        return 0

    def uname(self, args: list[str]) -> int:
        self.outcome.out("Linux (simulated)\n" if args else "Linux\n")
        return 0

    def _interpreter(self, args: list[str], flag: str, language: str, version: str) -> int:
        if args and args[0] in ("--version", "-V", "-v"):
            self.outcome.out(version + "\n")
            return 0
        if len(args) >= 2 and args[0] == flag:
            result = code_sim.simulate(args[1], language, self.variables.get(language))
            self.outcome.steps.extend(result.steps)
            return result.exit_code
        self.outcome.err(
            f"sh: only `{flag} CODE` and --version are simulated for this interpreter\n"
        )
        return 127

    def python(self, args: list[str]) -> int:
        return self._interpreter(args, "-c", "python", "Python 3.11 (simulated)")

    def node(self, args: list[str]) -> int:
        return self._interpreter(args, "-e", "javascript", "v20 (simulated)")


_COMMANDS: dict[str, Callable[[_Shell, list[str]], int]] = {
    "echo": _Shell.echo,
    "pwd": _Shell.pwd,
    "ls": _Shell.ls,
    "cat": _Shell.cat,
    "head": _Shell.head,
    "tail": _Shell.tail,
    "wc": _Shell.wc,
    "mkdir": _Shell.mkdir,
    "touch": _Shell.touch,
    "rm": _Shell.rm,
    "sleep": _Shell.sleep,
    "date": _Shell.date,
    "whoami": _Shell.whoami,
    "hostname": _Shell.hostname,
    "uname": _Shell.uname,
    "python": _Shell.python,
    "python3": _Shell.python,
    "node": _Shell.node,
    "true": lambda shell, args: 0,
    "false": lambda shell, args: 1,
}


def run(
    command: str,
    files: dict[str, Any],
    now: dt.datetime,
    *,
    sleep_limit: float = code_sim.MAX_SLEEP_TOTAL,
    variables: dict[str, Any] | None = None,
) -> ShellOutcome:
    """Act out `command` against `files` (changed in place). Nothing runs on the host."""
    if len(command) > 100_000:
        outcome = ShellOutcome(exit_code=2)
        outcome.err("sh: command line too long for the sandbox\n")
        return outcome
    return _Shell(files, now, sleep_limit=sleep_limit, variables=variables).run(command)
