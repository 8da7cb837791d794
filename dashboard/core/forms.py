"""Form fields that carry the botocore model's constraints for one input member."""

from __future__ import annotations

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
    field = forms.CharField(
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
