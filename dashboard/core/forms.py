"""Form fields that carry the botocore model's constraints for one input member, and the
one reader of JSON typed into a form (`read_json`)."""

from __future__ import annotations

import json
import math
from typing import Any

import regex
from django import forms
from django.core.validators import MaxLengthValidator, MinLengthValidator

from dashboard.aws.model import Constraint, input_constraint

# Line breaks, tabs, escapes and invisible format characters: no AWS text pattern here
# accepts them, and the pattern itself means little to a person.
_CONTROL = regex.compile(r"[\p{Cc}\p{Cf}]")
CONTROL_MESSAGE = (
    "Remove line breaks, tabs and other control characters: AWS does not accept them here."
)


class LfCharField(forms.CharField):
    """A CharField whose line breaks are LF: browsers send a textarea's as CRLF, which would
    count twice against the length limit (a prefilled 9,900-character text coming back as
    10,100) and reach AWS as typed by no one."""

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if isinstance(value, str) and "\r" in value:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        return value


def model_validator(constraint: Constraint) -> Any:
    def check(value: Any) -> None:
        problems = constraint.errors(value)
        if problems and isinstance(value, str) and _CONTROL.search(value):
            # Say what is wrong in words; keep any other problem the rest of the text has.
            rest = _CONTROL.sub("", value)
            problems = [CONTROL_MESSAGE, *(constraint.errors(rest) if rest else [])]
        if problems:
            raise forms.ValidationError(problems)

    return check


def model_field(
    service: str,
    operation: str,
    member: str,
    *,
    label: str,
    help_text: str = "",
    required: bool | None = None,
    widget: forms.Widget | None = None,
) -> forms.Field:
    """A CharField/IntegerField checked against `operation`'s input member before AWS sees it."""
    constraint = input_constraint(service, operation, member)
    is_required = constraint.required if required is None else required
    kwargs: dict[str, Any] = {
        "label": label,
        "required": is_required,
        "help_text": help_text or constraint.documentation,
        "validators": [model_validator(constraint)],
    }
    if constraint.type in ("integer", "long"):
        return forms.IntegerField(min_value=constraint.min, max_value=constraint.max, **kwargs)
    if constraint.enum:
        choices = [(v, v) for v in constraint.enum]
        if not is_required:
            choices.insert(0, ("", "—"))
        return forms.ChoiceField(choices=choices, **kwargs)
    # max_length gives the browser's own limit; strip=False keeps what AWS would see.
    field = LfCharField(
        max_length=constraint.max,
        min_length=constraint.min if is_required else None,
        strip=True,
        widget=widget,
        **kwargs,
    )
    # The model's validator says it already ("Use at most 256 characters (this has 300)"):
    # Django's own length validators would say it a second time in other words.
    field.validators = [
        v for v in field.validators if not isinstance(v, MaxLengthValidator | MinLengthValidator)
    ]
    return field


# --- JSON typed into a form ------------------------------------------------------------------

# Deeper than anyone types by hand; far below what json, botocore's serializer and validator,
# the database and the templates (all recursive) can take.
JSON_MAX_DEPTH = 64


class JsonError(ValueError):
    """Text that is not JSON this console can send (the message says why, in words)."""


def _constant(name: str) -> Any:
    raise JsonError(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise JsonError(f"{text[:40]} is too large a number")
    return value


def _check_text(text: str) -> None:
    """Lone surrogates ("\\ud800") parse, but no UTF-8 page, database or API can carry them;
    PostgreSQL cannot store "\\u0000"."""
    if "\x00" in text:
        raise JsonError("it has a \\u0000 (NUL) character, which cannot be stored")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JsonError("it has an unpaired \\u surrogate escape (not a character)") from None


def _check_value(value: Any, max_depth: int) -> None:
    """Nesting depth and strings of a parsed value, without recursion (it may be deep)."""
    too_deep = JsonError(f"it is nested more than {max_depth} levels deep")
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                raise too_deep
            if isinstance(item, dict):
                for key in item:
                    _check_text(key)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)


def loads(text: str, *, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """`json.loads` for text a person typed: raises JsonError (a ValueError) with a plain
    reason for invalid JSON, nesting deeper than `max_depth` (which would otherwise end in a
    RecursionError somewhere between here and the page showing it), NaN and Infinity (not
    JSON; PostgreSQL and AWS refuse them), unpaired surrogate escapes and NUL characters."""
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float)
    except JsonError:
        raise
    except RecursionError:  # json's own limit (~1000 levels), far beyond max_depth anyway
        raise JsonError(f"it is nested more than {max_depth} levels deep") from None
    except ValueError as exc:
        raise JsonError(str(exc)) from None
    _check_value(value, max_depth)
    return value


def read_json(text: str) -> Any:
    """JSON typed into a form field, for a `clean_<field>` method: the value, or a
    ValidationError that says what is wrong ("This is not valid JSON: ...")."""
    try:
        return loads(text)
    except JsonError as exc:
        raise forms.ValidationError(f"This is not valid JSON: {exc}.") from None
