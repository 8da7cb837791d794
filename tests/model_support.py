"""Sets the botocore models define, for tests that check coverage against them: read from the
loaded model, never counted by hand, and never empty (an empty set would let a loop over it
pass without checking anything)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import regex

from dashboard.aws.model import Shape, service_model


def enum(service: str, shape: str) -> tuple[str, ...]:
    """The values of enum `shape` in `service`'s model."""
    values = tuple(service_model(service).shape_for(shape).enum)
    assert values, f"{service} {shape} has no enum values: is it still an enum in this model?"
    return values


def members(service: str, shape: str) -> tuple[str, ...]:
    """The member names of structure (or union) `shape` in `service`'s model."""
    found = tuple(service_model(service).shape_for(shape).members)
    assert found, f"{service} {shape} has no members: is it still a structure in this model?"
    return found


def missing(expected: Iterable[str], covered: Iterable[str]) -> list[str]:
    """What `expected` has that `covered` lacks, sorted (for failure messages)."""
    return sorted(set(expected) - set(covered))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def shape_problems(shape: Shape, value: Any, path: str = "") -> list[str]:
    """How `value` (a handler's answer, before serialization drops anything) departs from
    `shape`: members the model does not have, required members missing, a union with other
    than one member set, enum values and patterns the model does not allow."""
    problems: list[str] = []
    kind = shape.type_name
    meta = shape.metadata
    where = path or "(root)"
    if meta.get("document"):
        return problems  # free-form JSON: any shape is the model's
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {type(value).__name__}"]
        members = shape.members
        present = {k: v for k, v in value.items() if v is not None}
        for name in sorted(set(present) - set(members)):
            problems.append(f"{_join(path, name)}: not a member of {shape.name}")
        if meta.get("union") and len(present) != 1:
            problems.append(f"{where}: union {shape.name} sets {sorted(present)}")
        for name in shape.required_members:
            if name not in present:
                problems.append(f"{_join(path, name)}: required by {shape.name}, missing")
        for name, item in present.items():
            if name in members:
                problems += shape_problems(members[name], item, _join(path, name))
    elif kind == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            problems += shape_problems(shape.member, item, f"{path}[{index}]")
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            problems += shape_problems(shape.value, item, f"{path}[{key}]")
    elif kind == "string":
        if not isinstance(value, str):
            return [f"{where}: expected a string, got {type(value).__name__}"]
        if meta.get("enum") and value not in meta["enum"]:
            problems.append(f"{where}: {value!r} is not one of {meta['enum']}")
        elif meta.get("pattern") and not regex.fullmatch(meta["pattern"], value):
            problems.append(f"{where}: {value!r} does not match {meta['pattern']}")
    elif kind == "timestamp" and not isinstance(value, dt.datetime | int | float | str):
        problems.append(f"{where}: expected a timestamp, got {type(value).__name__}")
    return problems
