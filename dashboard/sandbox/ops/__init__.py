"""Emulated operations; importing this package registers them with the wire layer."""

# One module per line, so areas added in parallel merge without conflicts.
from . import (
    agentcore_browser,  # noqa: F401
    agentcore_code,  # noqa: F401
    agentcore_control,  # noqa: F401
    agentcore_identity,  # noqa: F401
    agentcore_memory,  # noqa: F401
    agentcore_runtime,  # noqa: F401
    assets,  # noqa: F401
    backlog,  # noqa: F401
    chat,  # noqa: F401
    configuration,  # noqa: F401
    devops_agent,  # noqa: F401
    flows,  # noqa: F401
    flows_control,  # noqa: F401
    integrations,  # noqa: F401
    journal,  # noqa: F401
    prevention,  # noqa: F401
    support,  # noqa: F401
)
