"""Sets the botocore models define, for tests that check coverage against them: read from the
loaded model, never counted by hand, and never empty (an empty set would let a loop over it
pass without checking anything)."""

from __future__ import annotations

from dashboard.aws.model import service_model


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


def missing(expected: object, covered: object) -> list[str]:
    """What `expected` has that `covered` lacks, sorted (for failure messages)."""
    return sorted(set(expected) - set(covered))  # type: ignore[call-overload]
