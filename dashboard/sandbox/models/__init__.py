"""The sandbox's world, kept in the console's database so it survives restarts and every
process of a deployment sees the same state.

One module per area of the emulated APIs; each is imported here so Django finds its models.
"""

from .core import AgentSpace, Approval, BacklogTask, Execution, JournalRecord, Tag

__all__ = ["AgentSpace", "Approval", "BacklogTask", "Execution", "JournalRecord", "Tag"]

from .prevention import Goal, Recommendation, Trigger

__all__ += ["Goal", "Recommendation", "Trigger"]
