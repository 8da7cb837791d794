"""Emulated operations; importing this package registers them with the wire layer."""

from . import (  # noqa: F401
    agentcore_identity,
    agentcore_memory,
    backlog,
    devops_agent,
    flows,
    journal,
)
