"""Tags on AWS DevOps Agent resources: agent spaces, services and private connections.

TagResource and friends address a resource by ARN; the ARN is built from the region of the
console's client and the account of its credentials (STS, asked once per process).
"""

from __future__ import annotations

from .clients import call, client
from .identity import account_id

SERVICE = "devops-agent"

# The resource types TagResource accepts (its resourceArn pattern).
KINDS = ("agentspace", "service", "private-connection")


def resource_arn(kind: str, ident: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"{kind!r} is not a taggable resource type ({', '.join(KINDS)})")
    region = client(SERVICE).meta.region_name
    return f"arn:aws:aidevops:{region}:{account_id()}:{kind}/{ident}"


def list_tags(arn: str) -> dict[str, str]:
    return call(SERVICE, "ListTagsForResource", resourceArn=arn).get("tags", {})


def tag(arn: str, tags: dict[str, str]) -> None:
    call(SERVICE, "TagResource", resourceArn=arn, tags=tags)


def untag(arn: str, keys: list[str]) -> None:
    call(SERVICE, "UntagResource", resourceArn=arn, tagKeys=keys)
