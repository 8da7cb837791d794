"""AgentCore Memory (`bedrock-agentcore`): memories, their sessions and events (short-term
memory), and memory records (long-term memory, in namespaces).

A memory is created by the control plane (`bedrock-agentcore-control`), whose reads (ListMemories,
GetMemory) the sandbox answers; memories come from the seed (or from tests). Sessions and actors
exist because events name them; a session is remembered from its first event, as the service
does.
"""

from __future__ import annotations

from django.db import models


class Memory(models.Model):
    memory_id = models.CharField(primary_key=True, max_length=128)
    # The control plane's name: a letter, then letters, digits and underscores (48 at most).
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    # The memory's strategies: [{"strategyId", "name", "type", "description",
    # "namespaces": [template]}] (the control plane allows one namespace template each).
    strategies = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, default="ACTIVE")
    event_expiry_days = models.PositiveIntegerField(default=90)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "memory_id"]

    def __str__(self) -> str:
        return self.memory_id


class MemorySession(models.Model):
    memory = models.ForeignKey(Memory, on_delete=models.CASCADE, related_name="sessions")
    actor_id = models.CharField(max_length=255)
    session_id = models.CharField(max_length=100)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "session_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["memory", "actor_id", "session_id"], name="sandbox_memsession_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["memory", "actor_id", "created_at"], name="sandbox_memsession_actor"
            )
        ]

    def __str__(self) -> str:
        return f"{self.actor_id}/{self.session_id}"


class MemoryEvent(models.Model):
    # The auto id orders events written for the same instant in the order they were written.
    memory = models.ForeignKey(Memory, on_delete=models.CASCADE, related_name="events")
    actor_id = models.CharField(max_length=255)
    session_id = models.CharField(max_length=100)
    event_id = models.CharField(max_length=64)
    event_timestamp = models.DateTimeField()
    # The PayloadTypeList as the API takes it (conversational / blob / json items).
    payload = models.JSONField(default=list, blank=True)
    branch_name = models.CharField(max_length=100, blank=True)
    branch_root_event_id = models.CharField(max_length=64, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    client_token = models.CharField(max_length=256, blank=True)

    class Meta:
        ordering = ["event_timestamp", "id"]
        constraints = [
            models.UniqueConstraint(fields=["memory", "event_id"], name="sandbox_memevent_unique")
        ]
        indexes = [
            models.Index(
                fields=["memory", "actor_id", "session_id", "event_timestamp"],
                name="sandbox_memevent_session",
            ),
            models.Index(fields=["memory", "client_token"], name="sandbox_memevent_token"),
        ]

    def __str__(self) -> str:
        return self.event_id


class MemoryRecord(models.Model):
    memory_record_id = models.CharField(primary_key=True, max_length=50)
    memory = models.ForeignKey(Memory, on_delete=models.CASCADE, related_name="records")
    text = models.TextField()
    memory_strategy_id = models.CharField(max_length=100)
    # The API allows at most one namespace per record; "" when it has none.
    namespace = models.CharField(max_length=1024, blank=True)
    # MemoryRecordMetadataMap as the API takes it ({key: {"stringValue": ...}, ...}).
    metadata = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    timestamp = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # BatchCreateMemoryRecords: a repeated clientToken answers the first call's records.
    client_token = models.CharField(max_length=256, blank=True)
    request_identifier = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-created_at", "memory_record_id"]
        indexes = [
            models.Index(fields=["memory", "namespace", "created_at"], name="sandbox_memrecord_ns"),
            models.Index(fields=["memory", "client_token"], name="sandbox_memrecord_token"),
        ]

    def __str__(self) -> str:
        return self.memory_record_id
