"""The sandbox's world, kept in the console's database so it survives restarts and every
process of a deployment sees the same state.

One module per area of the emulated APIs; each is imported here so Django finds its models.
"""

from .agentcore_identity import CredentialProvider, OAuth2Session, WorkloadIdentity
from .agentcore_memory import Memory, MemoryEvent, MemoryRecord, MemorySession
from .core import AgentSpace, Approval, BacklogTask, Execution, JournalRecord, Tag
from .flows import FlowExecution, FlowExecutionEvent

__all__ = [
    "AgentSpace",
    "Approval",
    "BacklogTask",
    "CredentialProvider",
    "Execution",
    "FlowExecution",
    "FlowExecutionEvent",
    "JournalRecord",
    "Memory",
    "MemoryEvent",
    "MemoryRecord",
    "MemorySession",
    "OAuth2Session",
    "Tag",
    "WorkloadIdentity",
]
