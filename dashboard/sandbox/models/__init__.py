"""The sandbox's world, kept in the console's database so it survives restarts and every
process of a deployment sees the same state.

One module per area of the emulated APIs; each is imported here so Django finds its models.
"""

# ruff: noqa: F401 - imported so Django registers the models; one module per line.
from .agentcore_code import AgentRuntimeSession, CodeInterpreterSession, CodeInterpreterTask
from .agentcore_identity import CredentialProvider, OAuth2Session, WorkloadIdentity
from .agentcore_memory import Memory, MemoryEvent, MemoryRecord, MemorySession
from .browser import BrowserSession
from .chat import Chat, ChatRecord
from .configuration import (
    Asset,
    AssetFile,
    AssetVersion,
    OperatorAppFlow,
    PrivateConnection,
    UsageLimit,
)
from .core import AgentSpace, Approval, BacklogTask, Execution, JournalRecord, Tag
from .flows import Flow, FlowAlias, FlowExecution, FlowExecutionEvent
from .integrations import AssociationWebhook, PendingOAuth, RegisteredService, ServiceAssociation
from .prevention import Goal, Recommendation, Trigger
from .support import SupportCase, SupportChatItem, SupportConnection
