"""Live updates of the triage pages: broadcast on write (the watcher for changes made elsewhere
plugs in here too)."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def task_changed(space_id: str, task: dict[str, Any]) -> None:
    """A task changed through the console: tell every open board and task page at once."""
    # Wired to the websocket groups with the watcher; a failed broadcast never fails the write.
    logger.debug(
        "task %s in %s changed (version %s)", task.get("taskId"), space_id, task.get("version")
    )
