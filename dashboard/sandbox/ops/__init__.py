"""Emulated operations; importing this package registers them with the wire layer."""

from . import assets, backlog, configuration, devops_agent, journal  # noqa: F401
