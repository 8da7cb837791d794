"""Emulated operations; importing this package registers them with the wire layer."""

from . import backlog, devops_agent, journal, prevention  # noqa: F401
