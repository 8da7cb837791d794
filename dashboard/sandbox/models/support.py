"""Support cases opened from an investigation (`devops-agent` InitiateChatForCase) and their
chat, carried by Amazon Connect's participant API (`connectparticipant`).

One case chat per task at a time. The customer's participant token (from InitiateChatForCase)
is exchanged for connection tokens (CreateParticipantConnection) that authorize SendMessage,
GetTranscript and DisconnectParticipant. Items are the transcript as GetTranscript returns it.
"""

from __future__ import annotations

from django.db import models


class SupportCase(models.Model):
    OPEN = "OPEN"
    ENDED = "ENDED"

    contact_id = models.CharField(primary_key=True, max_length=64)
    space = models.ForeignKey(
        "sandbox.AgentSpace", on_delete=models.CASCADE, related_name="+", db_column="agent_space_id"
    )
    task_id = models.CharField(max_length=64)
    execution_id = models.CharField(max_length=64, blank=True)
    participant_id = models.CharField(max_length=64)
    participant_token = models.CharField(max_length=128, unique=True)
    status = models.CharField(max_length=8, default=OPEN)
    # The simulated support engineer: when they join, and their name.
    engineer = models.CharField(max_length=64)
    engineer_id = models.CharField(max_length=64)
    joins_at = models.DateTimeField()
    joined = models.BooleanField(default=False)
    # clientTokens of InitiateChatForCase / EndChatForCase calls already answered.
    client_tokens = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["space", "task_id", "status"], name="sandbox_case_task")]

    def __str__(self) -> str:
        return self.contact_id


class SupportConnection(models.Model):
    """A participant connection (CreateParticipantConnection): its token authorizes the chat
    calls until it expires or the participant disconnects."""

    connection_token = models.CharField(primary_key=True, max_length=128)
    case = models.ForeignKey(SupportCase, on_delete=models.CASCADE, related_name="connections")
    expires_at = models.DateTimeField()
    disconnected = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"connection to {self.case_id}"


class SupportChatItem(models.Model):
    case = models.ForeignKey(SupportCase, on_delete=models.CASCADE, related_name="items")
    item_id = models.CharField(max_length=64, unique=True)
    at = models.DateTimeField()
    item_type = models.CharField(max_length=24)  # MESSAGE | EVENT
    content_type = models.CharField(max_length=100)
    content = models.TextField(blank=True)
    participant_role = models.CharField(max_length=16)  # CUSTOMER | AGENT | SYSTEM
    participant_id = models.CharField(max_length=64, blank=True)
    display_name = models.CharField(max_length=128, blank=True)
    # A customer message the engineer has answered (the simulation's bookkeeping).
    answered = models.BooleanField(default=False)
    client_token = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.item_id
