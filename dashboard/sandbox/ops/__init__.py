"""Emulated operations; importing this package registers them with the wire layer."""

from . import devops_agent  # noqa: F401
