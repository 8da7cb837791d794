"""Chats with the agent: the chat executions of a space and their history.

History is kept as the chat execution's journal records (ListJournalRecords with the chat's
executionId): one CHAT_MESSAGE record per message a user sent and one CHAT_RESPONSE record per
reply. A reply's record exists from the moment SendMessage is accepted (state IN_PROGRESS, its
`beat_at` renewed while it streams), so replies in flight count against the space's concurrency
limit and a reply whose stream died with its process is seen as INTERRUPTED when read.
"""

from __future__ import annotations

from django.db import models

from .core import AgentSpace


class Chat(models.Model):
    execution_id = models.CharField(primary_key=True, max_length=64)
    space = models.ForeignKey(
        AgentSpace, on_delete=models.CASCADE, related_name="chats", db_column="agent_space_id"
    )
    # The caller's identity (access key id): the service keeps each user's chats apart.
    owner = models.CharField(max_length=128)
    user_type = models.CharField(max_length=8, blank=True)
    summary = models.CharField(max_length=256, blank=True)
    archive_status = models.CharField(max_length=8, default="ACTIVE")
    # clientTokens of recent UpdateChat calls -> the request they answered (idempotency).
    update_tokens = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(
                fields=["space", "owner", "archive_status", "updated_at"], name="sandbox_chat_list"
            )
        ]

    def __str__(self) -> str:
        return self.summary or self.execution_id


class ChatRecord(models.Model):
    MESSAGE = "CHAT_MESSAGE"
    RESPONSE = "CHAT_RESPONSE"
    IN_PROGRESS = "IN_PROGRESS"

    # The auto id orders records written at the same instant in the order they were written.
    record_id = models.CharField(max_length=64, unique=True)
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="records")
    record_type = models.CharField(max_length=32)
    content = models.JSONField()
    user_reference = models.JSONField(null=True, blank=True)
    # Replies: the responseId, IN_PROGRESS / COMPLETED / FAILED / INTERRUPTED, last sign of life.
    response_id = models.CharField(max_length=64, blank=True, db_index=True)
    state = models.CharField(max_length=16, blank=True)
    beat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["chat", "created_at"], name="sandbox_chatrec_time"),
            models.Index(fields=["state", "beat_at"], name="sandbox_chatrec_live"),
        ]

    def __str__(self) -> str:
        return f"{self.record_type} {self.record_id}"
