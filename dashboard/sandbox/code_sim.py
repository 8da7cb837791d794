"""The sandbox's code interpreter: it simulates code, it never runs it.

Submitted code is only *read*: Python with the standard library's parser (`ast.parse`, which
builds a syntax tree and executes nothing), JavaScript/TypeScript line by line with a few
rewrites into the same tree. A small evaluator of our own then walks a safe subset of that tree:

- literals (numbers, strings, booleans, None, lists, tuples, dicts, f-strings), arithmetic,
  comparisons, `and`/`or`/`not`, indexing and slicing;
- variables (kept for the session between calls, as a real interpreter's are, until
  `clearContext`), `if`/`elif`/`else`, `for` over `range()`/lists/strings, `while`,
  `break`/`continue`, `assert`, `raise SomeError("…")`;
- `print()`, `len`, `str`, `int`, `float`, `abs`, `round`, `min`, `max`, `sum`, `sorted`,
  `list`, `range`, `bool`, `repr`, a few str/list/dict methods, `math.*` basics, and
  `time.sleep()` (a pause in the output, capped);
- JavaScript: `console.log(…)`, `let`/`const`/`var` declarations and assignments.

Anything else (function definitions, imports other than time/math, file or network access) is
reported on stderr as not simulated and skipped. Every run is bounded: steps, output size,
number sizes, string and list lengths and sleep time. Errors read like the language's own
(a Python traceback with the line number).
"""

from __future__ import annotations

import ast
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

NOTICE = (
    "Simulated by the console's sandbox: no code was executed. It evaluates print(), literals, "
    "arithmetic, variables, if/for/while and time.sleep(); anything else is reported, not run."
)
SHELL_NOTICE = (
    "Simulated by the console's sandbox: no command was executed. It acts out echo, ls, cat, "
    "head, tail, wc, mkdir, touch, rm, sleep and python -c on the session's virtual files."
)
MAX_STEPS = 100_000
MAX_OUTPUT = 100_000  # characters of stdout + stderr
MAX_TEXT = 100_000  # characters of one string
MAX_ITEMS = 10_000  # items of one list, dict or range
MAX_INT_BITS = 4096
MAX_SLEEP = 10.0  # seconds, one sleep
MAX_SLEEP_TOTAL = 30.0  # seconds, one run
MAX_SECONDS = 2.0  # of simulating (not sleeping): a bound on work no step count catches
MAX_CODE = 1_000_000  # characters simulated at most
MAX_SAVED = 1_000_000  # characters of variables kept between calls
MAX_DEPTH = 40  # nesting of lists and dicts that values are measured to
_UNSAFE_SPEC = re.compile(r"\d{4,}")  # format widths/precisions of 1000 and more


@dataclass
class Step:
    """One thing the run did, in order: output on a stream, or a pause."""

    kind: str  # "stdout" | "stderr" | "sleep"
    text: str = ""
    seconds: float = 0.0


@dataclass
class Outcome:
    steps: list[Step] = field(default_factory=list)
    exit_code: int = 0
    variables: dict[str, Any] = field(default_factory=dict)
    skipped: int = 0  # statements reported as not simulated

    @property
    def stdout(self) -> str:
        return "".join(s.text for s in self.steps if s.kind == "stdout")

    @property
    def stderr(self) -> str:
        return "".join(s.text for s in self.steps if s.kind == "stderr")


class _Unsupported(Exception):
    """Something outside the simulated subset (the statement is skipped)."""

    def __init__(self, what: str, hint: str = "") -> None:
        super().__init__(what)
        self.hint = hint


class _PyError(Exception):
    """An error the simulated program raises (ends the run like an uncaught exception)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class _Limit(Exception):
    """A bound of the sandbox was reached."""


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Module:
    def __init__(self, name: str) -> None:
        self.name = name


_MODULES = {"time", "math"}
_MATH = {"pi": math.pi, "e": math.e, "tau": math.tau, "inf": math.inf}
_MATH_FUNCTIONS = {"sqrt", "floor", "ceil", "log", "log10", "exp", "sin", "cos", "fabs"}
_STR_METHODS = {
    "upper", "lower", "title", "capitalize", "strip", "lstrip", "rstrip", "split",
    "join", "replace", "startswith", "endswith", "count", "find",
}  # fmt: skip
_LIST_METHODS = {"append", "extend", "pop", "index", "count", "reverse", "sort", "insert"}
_DICT_METHODS = {"keys", "values", "items", "get"}


class Interpreter:
    """Walks a syntax tree; `language` decides how values are written out."""

    def __init__(self, variables: dict[str, Any], language: str = "python") -> None:
        self.vars: dict[str, Any] = dict(variables)
        self.language = language
        self.outcome = Outcome()
        self.steps = 0
        self.output = 0
        self.slept = 0.0
        self.line = 0
        self.deadline = time.monotonic() + MAX_SECONDS

    # --- output --------------------------------------------------------------------------

    def emit(self, kind: str, text: str) -> None:
        if not text:
            return
        room = MAX_OUTPUT - self.output
        if len(text) > room:
            self.outcome.steps.append(Step(kind, text[: max(0, room)]))
            self.output = MAX_OUTPUT
            raise _Limit(f"the output passed {MAX_OUTPUT:,} characters")
        self.output += len(text)
        steps = self.outcome.steps
        if steps and steps[-1].kind == kind and len(steps) > 200:
            steps[-1].text += text  # long runs travel in fewer, larger pieces
        else:
            steps.append(Step(kind, text))

    def note(self, message: str) -> None:
        self.outcome.skipped += 1
        self.emit("stderr", f"[sandbox] line {self.line}: {message}\n")

    def tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _Limit(f"the program took more than {MAX_STEPS:,} steps")
        if self.steps % 128 == 0 and time.monotonic() > self.deadline:
            raise _Limit(f"simulating it took more than {MAX_SECONDS:g} seconds")

    # --- statements ----------------------------------------------------------------------

    def run(self, body: list[ast.stmt], *, show_last: bool = True) -> Outcome:
        try:
            self.block(body, show_last=show_last)
        except _PyError as error:
            self.traceback(error)
        except _Limit as limit:
            self.outcome.steps.append(
                Step("stderr", f"[sandbox] stopped: {limit}. The rest was not simulated.\n")
            )
            self.outcome.exit_code = 1
        except (_Break, _Continue):
            self.traceback(_PyError("SyntaxError", "'break' or 'continue' outside loop"))
        except RecursionError:
            self.traceback(_PyError("RecursionError", "the code is nested too deeply"))
        self.outcome.variables = _saved(self.vars)
        return self.outcome

    def traceback(self, error: _PyError) -> None:
        if self.language == "python":
            text = (
                "Traceback (most recent call last):\n"
                f'  File "<sandbox>", line {self.line}, in <module>\n'
                f"{error.kind}: {error.message}\n"
            )
        else:
            text = f"Uncaught {error.kind}: {error.message} (line {self.line})\n"
        try:
            self.emit("stderr", text)
        except _Limit:
            pass
        self.outcome.exit_code = 1

    def block(self, body: list[ast.stmt], *, show_last: bool = False) -> None:
        for index, statement in enumerate(body):
            self.line = getattr(statement, "lineno", self.line) or self.line
            last = show_last and index == len(body) - 1
            try:
                self.statement(statement, last=last)
            except _Unsupported as unsupported:
                hint = f" ({unsupported.hint})" if unsupported.hint else ""
                self.note(f"{unsupported} is not simulated{hint}; skipped.")

    def statement(self, node: ast.stmt, *, last: bool = False) -> None:
        self.tick()
        if isinstance(node, ast.Expr):
            value = self.expr(node.value)
            is_print = isinstance(node.value, ast.Call) and _callee(node.value) in (
                "print",
                "console.log",
            )
            if last and value is not None and not is_print:
                self.emit("stdout", self.show(value) + "\n")  # a REPL shows the last value
        elif isinstance(node, ast.Assign):
            value = self.expr(node.value)
            for target in node.targets:
                self.assign(target, value)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.assign(node.target, self.expr(node.value))
        elif isinstance(node, ast.AugAssign):
            current = self.expr(_load(node.target))
            self.assign(node.target, self.binop(node.op, current, self.expr(node.value)))
        elif isinstance(node, ast.If):
            self.block(node.body if _truthy(self.expr(node.test)) else node.orelse)
        elif isinstance(node, ast.For):
            self.loop(node)
        elif isinstance(node, ast.While):
            while _truthy(self.expr(node.test)):
                try:
                    self.block(node.body)
                except _Break:
                    break
                except _Continue:
                    continue
        elif isinstance(node, ast.Break):
            raise _Break
        elif isinstance(node, ast.Continue):
            raise _Continue
        elif isinstance(node, ast.Pass):
            return
        elif isinstance(node, ast.Import | ast.ImportFrom):
            self.imports(node)
        elif isinstance(node, ast.Assert):
            if not _truthy(self.expr(node.test)):
                message = self.show(self.expr(node.msg)) if node.msg is not None else ""
                raise _PyError("AssertionError", message)
        elif isinstance(node, ast.Raise):
            self.raise_(node)
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if not isinstance(target, ast.Name) or target.id not in self.vars:
                    raise _Unsupported("this del")
                del self.vars[target.id]
        else:
            raise _Unsupported(_what(node))

    def loop(self, node: ast.For) -> None:
        items = self.expr(node.iter)
        if isinstance(items, dict):
            items = list(items)
        if not isinstance(items, list | tuple | str | range):
            raise _PyError("TypeError", f"'{_type(items)}' object is not iterable")
        broke = False
        for item in items:
            self.tick()
            self.assign(node.target, item)
            try:
                self.block(node.body)
            except _Break:
                broke = True
                break
            except _Continue:
                continue
        if not broke and node.orelse:
            self.block(node.orelse)

    def imports(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name not in _MODULES:
                    raise _Unsupported(f"import {alias.name}", "only time and math can be imported")
                self.vars[alias.asname or alias.name] = _Module(alias.name)
            return
        if node.module not in _MODULES:
            raise _Unsupported(f"from {node.module} import …", "only time and math can be imported")
        for alias in node.names:
            self.vars[alias.asname or alias.name] = ("function", f"{node.module}.{alias.name}")

    def raise_(self, node: ast.Raise) -> None:
        exc = node.exc
        if isinstance(exc, ast.Call) and isinstance(exc.func, ast.Name):
            args = [self.show(self.expr(arg)) for arg in exc.args]
            raise _PyError(exc.func.id, ", ".join(args))
        if isinstance(exc, ast.Name):
            raise _PyError(exc.id, "")
        raise _Unsupported("this raise")

    def assign(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.vars[target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            values = list(value) if isinstance(value, list | tuple | str) else None
            if values is None or len(values) != len(target.elts):
                raise _PyError("ValueError", "cannot unpack: wrong number of values")
            for name, item in zip(target.elts, values, strict=True):
                self.assign(name, item)
        elif isinstance(target, ast.Subscript):
            container = self.expr(target.value)
            key = self.expr(target.slice)
            if isinstance(container, dict):
                _check_size(container, 1)
                container[key] = value
            elif isinstance(container, list) and isinstance(key, int):
                if not -len(container) <= key < len(container):
                    raise _PyError("IndexError", "list assignment index out of range")
                container[key] = value
            else:
                raise _Unsupported("this item assignment")
        else:
            raise _Unsupported("this assignment")

    # --- expressions ---------------------------------------------------------------------

    def expr(self, node: ast.expr) -> Any:
        self.tick()
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool | int | float | str) or node.value is None:
                return node.value
            raise _Unsupported(f"a {type(node.value).__name__} literal")
        if isinstance(node, ast.Name):
            if node.id in self.vars:
                return self.vars[node.id]
            if node.id in _BUILTINS:
                return ("function", node.id)
            if self.language != "python" and node.id == "undefined":
                return None
            raise _PyError(
                "NameError" if self.language == "python" else "ReferenceError",
                f"name '{node.id}' is not defined"
                if self.language == "python"
                else f"{node.id} is not defined",
            )
        if isinstance(node, ast.BinOp):
            return self.binop(node.op, self.expr(node.left), self.expr(node.right))
        if isinstance(node, ast.UnaryOp):
            value = self.expr(node.operand)
            if isinstance(node.op, ast.Not):
                return not _truthy(value)
            if not _number(value):
                raise _PyError("TypeError", f"bad operand type for unary op: '{_type(value)}'")
            return -value if isinstance(node.op, ast.USub) else +value
        if isinstance(node, ast.BoolOp):
            result: Any = None
            for operand in node.values:
                result = self.expr(operand)
                if isinstance(node.op, ast.And) and not _truthy(result):
                    return result
                if isinstance(node.op, ast.Or) and _truthy(result):
                    return result
            return result
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.IfExp):
            return self.expr(node.body if _truthy(self.expr(node.test)) else node.orelse)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            if any(isinstance(e, ast.Starred) for e in node.elts):
                raise _Unsupported("unpacking with *")
            items = [self.expr(e) for e in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                raise _Unsupported("unpacking with **")
            pairs = zip(node.keys, node.values, strict=True)
            return {self.expr(k): self.expr(v) for k, v in pairs if k is not None}
        if isinstance(node, ast.JoinedStr):
            return _limit_text("".join(self.fstring_part(part) for part in node.values))
        if isinstance(node, ast.Subscript):
            return self.subscript(self.expr(node.value), node.slice)
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise _Unsupported(_what(node))

    def fstring_part(self, part: ast.expr) -> str:
        if isinstance(part, ast.Constant):
            return str(part.value)
        if not isinstance(part, ast.FormattedValue):
            raise _Unsupported("this f-string")
        value = self.expr(part.value)
        _printable(value)
        if part.conversion == ord("r"):
            value = repr(value)
        elif part.conversion in (ord("s"), ord("a")):
            value = str(value)
        spec = self.expr(part.format_spec) if part.format_spec is not None else ""
        if _UNSAFE_SPEC.search(str(spec)):
            raise _Limit("a format width or precision of 1000 or more")
        try:
            return format(value, str(spec))
        except (ValueError, TypeError) as exc:
            raise _PyError("ValueError", str(exc)) from None

    def binop(self, op: ast.operator, left: Any, right: Any) -> Any:
        if self.language != "python" and isinstance(op, ast.Add):
            if isinstance(left, str) or isinstance(right, str):
                return _limit_text(_js_text(left) + _js_text(right))
        try:
            if isinstance(op, ast.Add):
                if isinstance(left, str | list | tuple) and isinstance(right, type(left)):
                    _check_size(left, len(right))
                return _limit(left + right)
            if isinstance(op, ast.Sub):
                return _limit(left - right)
            if isinstance(op, ast.Mult):
                for seq, times in ((left, right), (right, left)):
                    if isinstance(seq, str | list | tuple) and isinstance(times, int):
                        _check_size(seq, len(seq) * max(0, times) - len(seq))
                return _limit(left * right)
            if isinstance(op, ast.Div):
                return _limit(left / right)
            if isinstance(op, ast.FloorDiv):
                return _limit(left // right)
            if isinstance(op, ast.Mod):
                if isinstance(left, str):
                    raise _Unsupported("%-formatting")
                return _limit(left % right)
            if isinstance(op, ast.Pow):
                if isinstance(left, int) and isinstance(right, int) and right > 0:
                    if abs(left) > 1 and left.bit_length() * right > MAX_INT_BITS:
                        raise _Limit(f"a number larger than {MAX_INT_BITS} bits")
                return _limit(left**right)
        except ZeroDivisionError:
            if self.language != "python":
                return math.nan if left == 0 else math.copysign(math.inf, left)
            raise _PyError("ZeroDivisionError", "division by zero") from None
        except OverflowError as exc:
            raise _PyError("OverflowError", str(exc)) from None
        except TypeError as exc:
            raise _PyError("TypeError", str(exc)) from None
        raise _Unsupported(f"the {type(op).__name__} operator")

    def compare(self, node: ast.Compare) -> bool:
        left = self.expr(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.expr(right_node)
            if isinstance(left, list | tuple | dict) or isinstance(right, list | tuple | dict):
                _printable(left)
                _printable(right)
            try:
                ok = _COMPARE[type(op)](left, right)
            except KeyError:
                raise _Unsupported(f"the {type(op).__name__} comparison") from None
            except TypeError as exc:
                raise _PyError("TypeError", str(exc)) from None
            if not ok:
                return False
            left = right
        return True

    def subscript(self, value: Any, index_node: ast.expr) -> Any:
        if isinstance(index_node, ast.Slice):
            parts = [
                self.expr(p) if p is not None else None
                for p in (index_node.lower, index_node.upper, index_node.step)
            ]
            if parts[2] == 0:
                raise _PyError("ValueError", "slice step cannot be zero")
            try:
                return value[slice(*parts)]
            except TypeError as exc:
                raise _PyError("TypeError", str(exc)) from None
        index = self.expr(index_node)
        try:
            return value[index]
        except IndexError:
            raise _PyError("IndexError", f"{_type(value)} index out of range") from None
        except KeyError:
            raise _PyError("KeyError", repr(index)) from None
        except TypeError as exc:
            raise _PyError("TypeError", str(exc)) from None

    def attribute(self, node: ast.Attribute) -> Any:
        if isinstance(node.value, ast.Name) and node.value.id in ("math", "Math"):
            module = self.vars.get(node.value.id)
            if node.value.id == "Math" or isinstance(module, _Module):
                name = node.attr.lower() if node.value.id == "Math" else node.attr
                if name in _MATH:
                    return _MATH[name]
                if name in _MATH_FUNCTIONS or name in ("abs", "round", "max", "min"):
                    return ("function", f"math.{name}")
        value = self.expr(node.value)
        if node.attr == "length" and self.language != "python":
            return len(value)
        if isinstance(value, _Module):
            return ("function", f"{value.name}.{node.attr}")
        if isinstance(value, str) and node.attr in _STR_METHODS:
            return ("method", value, node.attr)
        if isinstance(value, list) and node.attr in _LIST_METHODS:
            return ("method", value, node.attr)
        if isinstance(value, dict) and node.attr in _DICT_METHODS:
            return ("method", value, node.attr)
        raise _Unsupported(f"the attribute .{node.attr}")

    def call(self, node: ast.Call) -> Any:
        name = _callee(node)
        if name == "console.log":
            args = [self.expr(a) for a in node.args]
            self.emit("stdout", " ".join(_js_show(a, top=True) for a in args) + "\n")
            return None
        function = self.expr(node.func)
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise _Unsupported("unpacking with *")
        args = [self.expr(a) for a in node.args]
        kwargs = {k.arg: self.expr(k.value) for k in node.keywords if k.arg is not None}
        if len(kwargs) != len(node.keywords):
            raise _Unsupported("unpacking with **")
        if isinstance(function, tuple) and function and function[0] == "method":
            return self.method(function[1], function[2], args, kwargs)
        if not (isinstance(function, tuple) and function and function[0] == "function"):
            raise _PyError("TypeError", f"'{_type(function)}' object is not callable")
        return self.builtin(function[1], args, kwargs)

    def builtin(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if name == "print":
            sep = kwargs.pop("sep", " ")
            end = kwargs.pop("end", "\n")
            kwargs.pop("flush", None)
            if kwargs:
                raise _Unsupported(f"print({', '.join(kwargs)}=…)")
            sep = " " if sep is None else sep
            end = "\n" if end is None else end
            if not isinstance(sep, str) or not isinstance(end, str):
                raise _PyError("TypeError", "sep and end must be strings")
            self.emit("stdout", _limit_text(sep.join(self.show(a) for a in args) + end))
            return None
        if name in ("time.sleep", "sleep"):
            seconds = args[0] if args else None
            if not _number(seconds) or seconds < 0:
                raise _PyError("ValueError", "sleep length must be a non-negative number")
            pause = min(float(seconds), MAX_SLEEP, MAX_SLEEP_TOTAL - self.slept)
            if pause > 0:
                self.slept += pause
                self.outcome.steps.append(Step("sleep", seconds=pause))
            return None
        if name.startswith("math."):
            return self.math(name[5:], args)
        if kwargs and name not in ("sorted", "round"):
            raise _Unsupported(f"{name}() with keyword arguments")
        try:
            return _limit(_call_builtin(name, args, kwargs))
        except (TypeError, ValueError) as exc:
            raise _PyError(type(exc).__name__, str(exc)) from None

    def math(self, name: str, args: list[Any]) -> Any:
        function = {"abs": abs, "round": round, "max": max, "min": min}.get(name) or getattr(
            math, name, None
        )
        if function is None or not all(_number(a) for a in args):
            raise _Unsupported(f"math.{name}()")
        try:
            return function(*args)
        except (ValueError, TypeError, OverflowError) as exc:
            raise _PyError(type(exc).__name__, str(exc)) from None

    def method(self, owner: Any, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if kwargs and name not in ("sort", "split"):
            raise _Unsupported(f".{name}() with keyword arguments")
        if name in ("append", "insert"):
            _check_size(owner, 1)
        if name == "extend" and args and isinstance(args[0], list | tuple | str):
            _check_size(owner, len(args[0]))
        if name == "join" and args:
            items = args[0]
            if not isinstance(items, list | tuple):
                raise _PyError("TypeError", "can only join a list or tuple")
            if not all(isinstance(i, str) for i in items):
                raise _PyError("TypeError", "sequence item: expected str instance")
            _check_size("", sum(len(i) for i in items) + len(owner) * len(items))
        if name == "replace" and len(args) >= 2 and isinstance(args[1], str):
            if isinstance(args[0], str):
                _check_size(owner, owner.count(args[0]) * len(args[1]))
        try:
            result = getattr(owner, name)(*args, **kwargs)
        except (TypeError, ValueError, IndexError, AttributeError) as exc:
            raise _PyError(type(exc).__name__, str(exc)) from None
        if name in ("keys", "values", "items"):
            return list(result)
        return _limit(result)

    # --- values --------------------------------------------------------------------------

    def show(self, value: Any) -> str:
        _printable(value)
        if self.language != "python":
            return _js_show(value, top=True)
        return _limit_text(str(value))


_BUILTINS = {
    "print", "len", "str", "int", "float", "abs", "round", "min", "max", "sum", "sorted",
    "list", "range", "bool", "repr",
}  # fmt: skip


def _call_builtin(name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    if name == "range":
        found = range(*args)
        if len(found) > MAX_ITEMS:
            raise _Limit(f"a range of more than {MAX_ITEMS:,} numbers")
        return found
    if name == "list":
        items = list(*args)
        _check_size(items, 0)
        return items
    if name == "sorted":
        return sorted(*args, reverse=bool(kwargs.get("reverse", False)))
    if name == "round":
        return round(*args, **kwargs)
    if name == "int" and args and isinstance(args[0], str) and len(args[0]) > 1000:
        raise _Limit("an integer literal of more than 1000 digits")
    if name in ("str", "repr") and args:
        _printable(args[0])
    function = {
        "len": len, "str": str, "int": int, "float": float, "abs": abs, "min": min,
        "max": max, "sum": sum, "bool": bool, "repr": repr,
    }[name]  # fmt: skip
    return function(*args)


_COMPARE: dict[type, Any] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: lambda a, b: a is b,
    ast.IsNot: lambda a, b: a is not b,
}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _truthy(value: Any) -> bool:
    return bool(value)


def _type(value: Any) -> str:
    if isinstance(value, tuple) and value and value[0] in ("function", "method"):
        return "builtin_function_or_method"
    return type(value).__name__


def _what(node: ast.AST) -> str:
    names = {
        "FunctionDef": "defining a function",
        "AsyncFunctionDef": "defining a function",
        "ClassDef": "defining a class",
        "With": "a with block",
        "Try": "try/except",
        "Lambda": "a lambda",
        "ListComp": "a list comprehension",
        "DictComp": "a dict comprehension",
        "SetComp": "a set comprehension",
        "GeneratorExp": "a generator expression",
        "Global": "global",
        "Nonlocal": "nonlocal",
    }
    return names.get(type(node).__name__, type(node).__name__)


def _callee(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return f"{func.value.id}.{func.attr}"
    return ""


def _load(target: ast.expr) -> ast.expr:
    """An augmented assignment's target, read."""
    if isinstance(target, ast.Name):
        return ast.Name(id=target.id, ctx=ast.Load())
    if isinstance(target, ast.Subscript):
        return ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load())
    raise _Unsupported("this augmented assignment")


def _limit_text(text: str) -> str:
    if len(text) > MAX_TEXT:
        raise _Limit(f"a string of more than {MAX_TEXT:,} characters")
    return text


def _check_size(container: Any, adding: int) -> None:
    limit = MAX_TEXT if isinstance(container, str) else MAX_ITEMS
    if len(container) + adding > limit:
        kind = "string" if isinstance(container, str) else "collection"
        raise _Limit(f"a {kind} of more than {limit:,} items")


def _limit(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise _Limit(f"a number larger than {MAX_INT_BITS} bits")
    if isinstance(value, str):
        return _limit_text(value)
    if isinstance(value, list | tuple | dict) and len(value) > MAX_ITEMS:
        raise _Limit(f"a collection of more than {MAX_ITEMS:,} items")
    return value


def _measure(value: Any, budget: int, depth: int = 0) -> int:
    """Roughly how many characters `value` prints as; stops counting past `budget` (so a
    list holding itself, or a huge structure of shared parts, costs no more than that)."""
    if depth > MAX_DEPTH:
        return budget + 1
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, list | tuple | dict):
        total = 2
        items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
        for key, item in items:
            total += 2 + (_measure(key, budget, depth + 1) if key is not None else 0)
            total += _measure(item, budget - total, depth + 1)
            if total > budget:
                return budget + 1
        return total
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() // 3 + 1
    return 8


def _printable(value: Any) -> None:
    if isinstance(value, list | tuple | dict) and _measure(value, MAX_TEXT) > MAX_TEXT:
        raise _Limit(f"a value that prints as more than {MAX_TEXT:,} characters")


def _saved(variables: dict[str, Any]) -> dict[str, Any]:
    """The variables that can be kept for the next call (JSON values; modules again), up to
    MAX_SAVED characters in all."""
    out: dict[str, Any] = {}
    room = MAX_SAVED
    for name, value in variables.items():
        if isinstance(value, _Module):
            out[name] = {"__module__": value.name}
        elif isinstance(value, tuple) and value and value[0] == "function":
            out[name] = {"__function__": value[1]}
        else:
            # Measured first: the measure is bounded, a walk over shared parts is not.
            size = _measure(value, room)
            if size > room or not _json_value(value):
                continue
            room -= size
            out[name] = list(value) if isinstance(value, tuple) else value
    return out


def restored(variables: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in (variables or {}).items():
        if isinstance(value, dict) and set(value) == {"__module__"}:
            out[name] = _Module(str(value["__module__"]))
        elif isinstance(value, dict) and set(value) == {"__function__"}:
            out[name] = ("function", str(value["__function__"]))
        else:
            out[name] = value
    return out


def _json_value(value: Any, depth: int = 0) -> bool:
    if depth > MAX_DEPTH:
        return False
    if value is None or isinstance(value, bool | int | float | str):
        return not (isinstance(value, float) and not math.isfinite(value))
    if isinstance(value, list | tuple):
        return all(_json_value(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_value(v, depth + 1) for k, v in value.items())
    return False


# --- JavaScript ---------------------------------------------------------------------------


def _js_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, list | tuple):
        return ",".join(_js_text(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def _js_show(value: Any, *, top: bool = False) -> str:
    """As console.log writes a value (strings bare at the top level, quoted inside)."""
    if isinstance(value, str):
        return value if top else "'" + value.replace("'", "\\'") + "'"
    if isinstance(value, list | tuple):
        return "[ " + ", ".join(_js_show(v) for v in value) + " ]" if value else "[]"
    if isinstance(value, dict):
        inner = ", ".join(f"{k}: {_js_show(v)}" for k, v in value.items())
        return "{ " + inner + " }" if value else "{}"
    return _js_text(value)


_JS_STRING = re.compile(r"""("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')""")
_JS_DECLARE = re.compile(
    r"^(?:let|const|var)\s+([A-Za-z_$][\w$]*)\s*(?::\s*[\w<>\[\], |]+?)?\s*=\s*(.+)$"
)
_JS_WORDS = (
    (re.compile(r"==="), "=="),
    (re.compile(r"!=="), "!="),
    (re.compile(r"&&"), " and "),
    (re.compile(r"\|\|"), " or "),
    (re.compile(r"!(?!=)"), " not "),
    (re.compile(r"\btrue\b"), "True"),
    (re.compile(r"\bfalse\b"), "False"),
    (re.compile(r"\bnull\b"), "None"),
    # Object literal keys are names in JavaScript: {a: 1} is {"a": 1}.
    (re.compile(r"([{,]\s*)([A-Za-z_$][\w$]*)\s*:"), r"\1'\2':"),
)


def _js_python(text: str) -> str:
    """JavaScript operators and words rewritten as Python's (strings left alone)."""
    pieces = _JS_STRING.split(text)
    for number in range(0, len(pieces), 2):
        for pattern, replacement in _JS_WORDS:
            pieces[number] = pattern.sub(replacement, pieces[number])
    return "".join(pieces).strip()


def _js_split(line: str) -> list[str]:
    """A line's statements: split at `;` and cut at `//`, outside string literals."""
    out: list[str] = []
    current: list[str] = []
    quote = ""
    index = 0
    while index < len(line):
        char = line[index]
        if quote:
            current.append(char)
            if char == "\\" and index + 1 < len(line):
                current.append(line[index + 1])
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
            current.append(char)
        elif char == ";":
            out.append("".join(current))
            current = []
        elif line.startswith("//", index):
            break
        else:
            current.append(char)
        index += 1
    out.append("".join(current))
    return [part.strip() for part in out if part.strip()]


def _js_tree(code: str) -> list[ast.stmt]:
    """The statements, as a Python syntax tree; those the evaluator cannot read become
    markers that report themselves as not simulated, in their place."""
    body: list[ast.stmt] = []
    for line, source in enumerate(code.splitlines(), start=1):
        for text in _js_split(source):
            statement = _js_statement(text)
            statement.lineno = line
            body.append(statement)
    return body


def _js_statement(text: str) -> ast.stmt:
    declared = _JS_DECLARE.match(text)
    try:
        if "`" in text:
            raise SyntaxError(text)  # template literals are not simulated
        if declared:
            return ast.Assign(
                targets=[ast.Name(id=declared.group(1), ctx=ast.Store())],
                value=ast.parse(_js_python(declared.group(2)), mode="eval").body,
            )
        if text.startswith(("console.log(", "console.error(")):
            call = ast.parse(_js_python(text), mode="eval").body
            if not isinstance(call, ast.Call):
                raise SyntaxError(text)
            if text.startswith("console.error("):
                call = ast.Call(
                    func=ast.Name(id="__stderr__", ctx=ast.Load()), args=call.args, keywords=[]
                )
            return ast.Expr(value=call)
        parsed = ast.parse(_js_python(text)).body
        if len(parsed) != 1 or not isinstance(parsed[0], ast.Assign | ast.AugAssign):
            raise SyntaxError(text)
        return parsed[0]
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        marker = ast.Call(
            func=ast.Name(id="__unread__", ctx=ast.Load()),
            args=[ast.Constant(text[:80])],
            keywords=[],
        )
        return ast.Expr(value=marker)


class _JsInterpreter(Interpreter):
    def call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Name) and node.func.id == "__unread__":
            text = node.args[0].value if isinstance(node.args[0], ast.Constant) else ""
            raise _Unsupported(f"`{text}`")
        if isinstance(node.func, ast.Name) and node.func.id == "__stderr__":
            args = [self.expr(a) for a in node.args]
            self.emit("stderr", " ".join(self.show(a) for a in args) + "\n")
            return None
        return super().call(node)


# --- entry point ----------------------------------------------------------------------------


def simulate(code: str, language: str, variables: dict[str, Any] | None = None) -> Outcome:
    """What running `code` would print, simulated. `variables` are the session's so far."""
    language = language or "python"
    state = restored(variables or {})
    if len(code) > MAX_CODE:
        outcome = Outcome(exit_code=1, variables=_saved(state))
        outcome.steps.append(
            Step("stderr", f"[sandbox] code longer than {MAX_CODE:,} characters is not simulated\n")
        )
        return outcome
    if language != "python":
        # JavaScript shows no "last value": console.log does the printing.
        return _JsInterpreter(state, language).run(_js_tree(code), show_last=False)
    try:
        tree = ast.parse(code, filename="<sandbox>")
    except SyntaxError as error:
        outcome = Outcome(exit_code=1, variables=_saved(state))
        shown = f"    {error.text.rstrip()}\n" if error.text else ""
        outcome.steps.append(
            Step(
                "stderr",
                f'  File "<sandbox>", line {error.lineno}\n{shown}SyntaxError: {error.msg}\n',
            )
        )
        return outcome
    except (ValueError, RecursionError, MemoryError):
        outcome = Outcome(exit_code=1, variables=_saved(state))
        outcome.steps.append(Step("stderr", "SyntaxError: the code could not be read\n"))
        return outcome
    return Interpreter(state, "python").run(tree.body)
