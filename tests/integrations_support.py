# ruff: noqa: E501 (a table of model patterns and values that fit them)
"""Valid form posts for any generated form (dashboard/core/shapeforms.py), made from its layout:
every required member gets a value that fits the model's pattern; secrets get unique, known
strings so tests can look for them afterwards.
"""

from __future__ import annotations

import itertools
import secrets as _secrets
from typing import Any

from dashboard.core.shapeforms import VARIANT, Node

# A value for each pattern the devops-agent input shapes use.
SAMPLES: dict[str, str] = {
    r"https://[a-zA-Z0-9.-]+(?::[0-9]+)?(?:/.*)?": "https://mcp.example.com/mcp",
    r"https://([a-zA-Z0-9.-]*\.(console\.(aws|aws-dev)|awsc-(integ|preprod)\.aws)\.amazon\.com|[a-zA-Z0-9-]+\.aidevops(-beta|-gamma)?\.global\.app\.aws)(/.*)?": "https://us-east-1.console.aws.amazon.com/aidevops/home",
    r"https://[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])\.service-now\.com/?": "https://acme.service-now.com",
    r"https://[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]{1,5})?/?": "https://gitlab.example.com",
    r"https://[a-zA-Z0-9.-]+(?:/.*)?": "https://hooks.example.com/in",
    r"arn:(aws|aws-cn|aws-us-gov):iam::\d{12}:role/[a-zA-Z0-9+=,.@_/-]+": "arn:aws:iam::123456789012:role/DevOpsAgent",
    r"\d{12}": "123456789012",
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}": "6f1e8a52-3c1d-4b8e-9a55-0d7c2f1b9e43",
    r"urn:dtaccount:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}": "urn:dtaccount:6f1e8a52-3c1d-4b8e-9a55-0d7c2f1b9e43",
    r"[a-zA-Z0-9_-]+": "sample_name",
    r"[a-zA-Z0-9-_]+": "X-Sample",
    r"[a-zA-Z0-9-]+": "Authorization",
    r"[a-zA-Z0-9_\s-]+": "main key",
    r"[a-zA-Z0-9._-]+": "sample.value",
    r"[a-zA-Z0-9_.-]+": "MXxBUE18QVBQTElDQVRJT058MTIz",
    r"[\p{L}\p{N}\p{Z}._-]+": "Console client",
    r"[\p{L}\p{N} _-]+": "Sample service",
    r"[\p{L}\p{N}\p{P}\p{S}\p{Z}]+": "Sample description",
    r"[\u0020-\u007E]+": "client-id-1",
    r"[0-9]+": "1234567",
    r"(\*|[a-z]{2,4}(-[a-z]+)+-\d+)": "us-east-1",
    r"[TE][A-Z0-9]+": "T0123ABCD",
    r"[CGD][A-Z0-9]+": "C0123ABCDE",
    r"[a-zA-Z0-9._%+\-]+@[a-zA-Z0-9.\-]+\.[a-zA-Z]{2,}": "oncall@example.com",
    r"(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})": "ou-ab12-cdefgh12",
    r"[!#-\[\]-~]+": "read",
    r"[a-z0-9]([a-z0-9-]*[a-z0-9])?": "private-net",
    r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*": "team",
    r"[a-zA-Z0-9-]{1,64}": "space-1",
    r"[^\x00-\x1F\x7F-\x9F]+": "main",
    r"arn:(aws|aws-cn|aws-us-gov):aidevops:[a-z0-9-]+:\d{12}:agentspace/[a-z0-9-]+": "arn:aws:aidevops:us-east-1:123456789012:agentspace/sample-space",
    r"arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}": "arn:aws:kms:us-east-1:123456789012:key/6f1e8a52-3c1d-4b8e-9a55-0d7c2f1b9e43",
}

_counter = itertools.count(1)


def secret_for(node: Node) -> str:
    """A unique credential that fits the member's pattern."""
    token = _secrets.token_hex(6).upper()
    pattern = node.constraint.pattern if node.constraint else ""
    if pattern and pattern.startswith("NRAK-"):
        return f"NRAK-SECRET{next(_counter)}{token}"
    return f"sEcReT{next(_counter)}x{token}"


def sample(node: Node) -> str:
    constraint = node.constraint
    assert constraint is not None, node.path
    if constraint.enum:
        return constraint.enum[0]
    if constraint.pattern:
        if constraint.pattern not in SAMPLES:
            raise LookupError(f"No sample for {node.path}: add one for {constraint.pattern!r}")
        return SAMPLES[constraint.pattern]
    text = f"sample-{node.name or 'value'}"
    if constraint.max is not None:
        text = text[: constraint.max]
    return text


def post_data(
    layout: Node,
    *,
    variants: dict[str, str] | None = None,
    secrets: list[str] | None = None,
    full: bool = False,
    skip: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A post that fills every required member (all members with `full`), choosing `variants`
    (union path → member name; the first otherwise). Credentials typed are appended to `secrets`."""
    data: dict[str, Any] = {}
    chosen = variants or {}
    found = secrets if secrets is not None else []

    def fill(node: Node, path: str) -> None:
        if path in skip:
            return
        kind = node.kind
        if kind == "struct":
            for child in node.children:
                if child.required or full:
                    fill(child, f"{path}.{child.name}" if path else child.name)
        elif kind == "union":
            variant = chosen.get(path) or node.children[0].name
            data[f"{path}.{VARIANT}"] = variant
            child = next(c for c in node.children if c.name == variant)
            fill(child, f"{path}.{variant}")
        elif kind == "rows":
            assert node.item is not None
            fill(node.item, f"{path}.0")
        elif kind == "map":
            assert node.key is not None and node.value is not None
            data[f"{path}.0.key"] = sample(node.key) if node.key.kind != "secret" else "k"
            fill_leaf(node.value, f"{path}.0.value")
        else:
            fill_leaf(node, path)

    def fill_leaf(node: Node, path: str) -> None:
        if node.kind in ("struct", "union", "rows", "map"):
            fill(node, path)
        elif node.kind == "fixed":
            return
        elif node.kind == "secret":
            value = secret_for(node)
            found.append(value)
            data[path] = value
        elif node.kind == "bool":
            data[path] = "on"
        elif node.kind == "multichoice":
            data[path] = [node.choices[0]]
        elif node.kind == "lines":
            assert node.constraint is not None
            data[path] = sample(
                Node(name=node.name, path=path, kind="text", label="", constraint=node.constraint)
            )
        elif node.kind == "json":
            data[path] = "{}"
        elif node.kind == "int":
            data[path] = str(node.constraint.min or 1) if node.constraint else "1"
        else:
            data[path] = sample(node)

    fill(layout, "")
    return data
