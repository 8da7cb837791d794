"""Emulated operations; importing this package registers them with the wire layer."""

from . import agentcore_browser, backlog, devops_agent, journal  # noqa: F401
