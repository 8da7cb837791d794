"""Questions answered from botocore's service models: constraints, secrets, IAM actions.

Forms validate against these before calling AWS, so a person sees the service's own rules
(lengths, patterns, enums) next to the field rather than a round trip later.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any

import botocore.session
import regex
from botocore.model import OperationModel, OperationNotFoundError, ServiceModel, Shape

from dashboard.lib import documented

REDACTED = "[redacted]"


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def service_model(service: str) -> ServiceModel:
    return _session().get_service_model(service)


def operation_model(service: str, operation: str) -> OperationModel:
    """`operation` of botocore's model; one only the clients' model has (model extras on the
    data path, e.g. the sandbox's support-case operations) comes from a client."""
    try:
        return service_model(service).operation_model(operation)
    except OperationNotFoundError:
        from .clients import client

        return client(service).meta.service_model.operation_model(operation)


def iam_action(service: str, operation: str) -> str:
    """The IAM action a call needs, e.g. ``aidevops:CreateAgentSpace``."""
    model = service_model(service)
    prefix = model.metadata.get("signingName") or model.endpoint_prefix
    return f"{prefix}:{operation}"


@functools.cache
def _compiled(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern)


@dataclass(frozen=True)
class Constraint:
    """What the model says about one input member."""

    name: str
    type: str
    required: bool = False
    min: int | None = None
    max: int | None = None
    pattern: str | None = None
    enum: tuple[str, ...] = ()
    sensitive: bool = False
    documentation: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def errors(self, value: Any) -> list[str]:
        """Messages for `value` breaking this constraint (empty when it is fine)."""
        if value is None or value == "":
            return ["This field is required."] if self.required else []
        found: list[str] = []
        if self.type == "string":
            text = str(value)
            if self.min is not None and len(text) < self.min:
                found.append(f"Use at least {self.min} characters.")
            if self.max is not None and len(text) > self.max:
                found.append(f"Use at most {self.max} characters (this has {len(text)}).")
            if self.enum and text not in self.enum:
                found.append(f"Choose one of: {', '.join(self.enum)}.")
            if self.pattern and not _compiled(self.pattern).fullmatch(text):
                found.append(f"Does not match the format AWS requires ({self.pattern}).")
        elif self.type in ("integer", "long"):
            number = int(value)
            if self.min is not None and number < self.min:
                found.append(f"Must be at least {self.min}.")
            if self.max is not None and number > self.max:
                found.append(f"Must be at most {self.max}.")
        return found


def _plain(doc: str) -> str:
    return regex.sub(r"<[^>]+>", "", doc or "").strip()


def shape_constraint(name: str, shape: Shape, required: bool = False) -> Constraint:
    meta = shape.metadata
    return Constraint(
        name=name,
        type=shape.type_name,
        required=required,
        min=meta.get("min"),
        max=meta.get("max"),
        pattern=meta.get("pattern"),
        enum=tuple(meta.get("enum", ())),
        sensitive=bool(meta.get("sensitive")),
        documentation=_plain(shape.documentation),
    )


def input_constraint(service: str, operation: str, member: str) -> Constraint:
    """The constraint on one input member of `operation` (a dotted path reaches into
    structures: "viewPort.width"), with the API document's limits where they are stricter than
    the model's (`dashboard/lib/documented.py`)."""
    shape = operation_model(service, operation).input_shape
    *parents, name = member.split(".")
    for parent in parents:
        shape = shape.members[parent]
    found = shape_constraint(name, shape.members[name], name in shape.required_members)
    stricter = documented.limits(service, operation, member)
    if stricter is None:
        return found
    low, high = stricter
    return dataclasses.replace(
        found,
        min=low if low is not None else found.min,
        max=high if high is not None else found.max,
    )


def _redact_value(shape: Shape, value: Any) -> Any:
    if shape.metadata.get("sensitive"):
        return REDACTED
    if shape.type_name == "structure" and isinstance(value, dict):
        return {
            key: (_redact_value(shape.members[key], item) if key in shape.members else REDACTED)
            for key, item in value.items()
        }
    if shape.type_name == "list" and isinstance(value, list):
        return [_redact_value(shape.member, item) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {key: _redact_value(shape.value, item) for key, item in value.items()}
    return value


def redact(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """`params` with every member the model marks sensitive replaced (for logs and the audit)."""
    shape = operation_model(service, operation).input_shape
    if shape is None:
        return {}
    return _redact_value(shape, params)


# Members the models mark sensitive that are not credentials: an OAuth client id is public by
# RFC 6749 §2.2; descriptions and e-mail addresses are personal data, not keys. Pages may show
# them; logs and the audit log redact them with everything sensitive.
NOT_CREDENTIALS = frozenset(
    {
        "clientId",
        "clientName",
        "description",
        "customerEmail",
        "message",
        "targetAgentSpaceDescription",  # a linked agent space's description
    }
)


def strip_credentials(shape: Shape, value: Any, name: str = "") -> Any:
    """`value` (an answer shaped by `shape`) with every credential replaced by REDACTED, so no
    page, template context or log line can hold one (sensitive map values included)."""
    if value is None:
        return None
    if (
        shape.metadata.get("sensitive")
        and shape.type_name in ("string", "blob")
        and name not in NOT_CREDENTIALS
    ):
        return REDACTED
    if shape.type_name == "structure" and isinstance(value, dict):
        return {
            key: strip_credentials(shape.members[key], item, key) if key in shape.members else item
            for key, item in value.items()
        }
    if shape.type_name == "list" and isinstance(value, list):
        return [strip_credentials(shape.member, item, name) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {key: strip_credentials(shape.value, item, name) for key, item in value.items()}
    return value
