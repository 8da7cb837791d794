"""Input limits the API documents state more strictly than botocore's model.

The model is the truth for shapes, but where the published API document (docs/seeds) allows
less than the model does, the service enforces the document: the console checks its forms
against these limits, and the sandbox answers ValidationException beyond them, as AWS would.
Keyed by (service, operation, member path); each value is (min, max), either may be None.
"""

from __future__ import annotations

LIMITS: dict[tuple[str, str, str], tuple[int | None, int | None]] = {
    # "The minimum allowed value is 60 seconds, and the maximum allowed value is 28800 seconds"
    # (the model: 1 to 28,800, "recommended minimum: 60").
    ("bedrock-agentcore", "StartBrowserSession", "sessionTimeoutSeconds"): (60, 28800),
    ("bedrock-agentcore", "StartCodeInterpreterSession", "sessionTimeoutSeconds"): (60, 28800),
    # "Valid values range from 800 to 1920 pixels" / "from 600 to 1080 pixels" (the model:
    # 320 to 3,840 and 240 to 2,160).
    ("bedrock-agentcore", "StartBrowserSession", "viewPort.width"): (800, 1920),
    ("bedrock-agentcore", "StartBrowserSession", "viewPort.height"): (600, 1080),
}


def limits(service: str, operation: str, path: str) -> tuple[int | None, int | None] | None:
    """The documented (min, max) of one input member, or None when the model's stand."""
    return LIMITS.get((service, operation, path))


def paths(service: str, operation: str) -> list[str]:
    """The member paths of `operation` with documented limits."""
    return [p for (s, o, p) in LIMITS if (s, o) == (service, operation)]
