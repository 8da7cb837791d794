"""Emulated operations; importing this package registers them with the wire layer."""

from . import backlog, chat, devops_agent, journal  # noqa: F401
