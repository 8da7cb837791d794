"""Agent spaces, tags, backlog tasks, executions, journal records and approvals."""

from __future__ import annotations

from django.db import models


class AgentSpace(models.Model):
    agent_space_id = models.CharField(primary_key=True, max_length=64)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    locale = models.CharField(max_length=35, blank=True)
    kms_key_arn = models.CharField(max_length=2048, blank=True)
    preferences = models.JSONField(default=dict, blank=True)
    client_token = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "agent_space_id"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    resource_arn = models.CharField(max_length=2048, db_index=True)
    key = models.CharField(max_length=128)
    value = models.CharField(max_length=256, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["resource_arn", "key"], name="sandbox_tag_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


# --- backlog and journal ---------------------------------------------------------------------
#
# A task's lifecycle is advanced lazily (see `lifecycle.py`): `next_due_at` says when it next
# has something to do, so "is anything due in this space?" is one indexed query.


class BacklogTask(models.Model):
    task_id = models.CharField(primary_key=True, max_length=64)
    space = models.ForeignKey(
        AgentSpace, on_delete=models.CASCADE, related_name="tasks", db_column="agent_space_id"
    )
    title = models.CharField(max_length=400)
    description = models.TextField(blank=True)
    task_type = models.CharField(max_length=40)
    priority = models.CharField(max_length=16)
    # CRITICAL=5 .. MINIMAL=1, stored so that sorting by priority is an index scan.
    priority_rank = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=32)
    status_reason = models.TextField(blank=True)
    reference = models.JSONField(null=True, blank=True)
    # The reference's system and referenceId, copied out of `reference` to find duplicates.
    reference_system = models.CharField(max_length=256, blank=True)
    reference_key = models.CharField(max_length=128, blank=True)
    metadata = models.JSONField(null=True, blank=True)
    support_metadata = models.JSONField(null=True, blank=True)
    primary_task_id = models.CharField(max_length=64, blank=True)
    has_linked_tasks = models.BooleanField(default=False)
    execution_id = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1)
    client_token = models.CharField(max_length=64, blank=True)
    # clientTokens of recent UpdateBacklogTask calls -> the status they asked for.
    update_tokens = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # Lifecycle: index of the next script step, and when the task next has something to do.
    script_step = models.PositiveIntegerField(default=0)
    next_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "task_id"]
        indexes = [
            models.Index(fields=["space", "created_at"], name="sandbox_task_created"),
            models.Index(fields=["space", "priority_rank", "created_at"], name="sandbox_task_prio"),
            models.Index(fields=["space", "status", "created_at"], name="sandbox_task_status"),
            models.Index(fields=["space", "next_due_at"], name="sandbox_task_due"),
            models.Index(
                fields=["space", "reference_system", "reference_key"], name="sandbox_task_ref"
            ),
            models.Index(fields=["space", "primary_task_id"], name="sandbox_task_primary"),
            models.Index(fields=["space", "client_token"], name="sandbox_task_token"),
        ]

    def __str__(self) -> str:
        return self.title


class Execution(models.Model):
    execution_id = models.CharField(primary_key=True, max_length=64)
    space = models.ForeignKey(
        AgentSpace, on_delete=models.CASCADE, related_name="+", db_column="agent_space_id"
    )
    task = models.ForeignKey(BacklogTask, on_delete=models.CASCADE, related_name="executions")
    status = models.CharField(max_length=16)
    agent_sub_task = models.CharField(max_length=64)
    agent_type = models.CharField(max_length=64, blank=True)
    # User messages queued for the agent: [{messageId, message, createdAt (ISO text)}].
    pending_messages = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "execution_id"]

    def __str__(self) -> str:
        return self.execution_id


class JournalRecord(models.Model):
    # The auto id orders records written at the same instant in the order they were written.
    record_id = models.CharField(max_length=64, unique=True)
    space = models.ForeignKey(
        AgentSpace, on_delete=models.CASCADE, related_name="+", db_column="agent_space_id"
    )
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="records")
    record_type = models.CharField(max_length=32)
    content = models.JSONField()
    user_reference = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["execution", "created_at"], name="sandbox_record_time"),
            models.Index(
                fields=["execution", "record_type", "created_at"], name="sandbox_record_type"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_type} {self.record_id}"


class Approval(models.Model):
    approval_id = models.CharField(primary_key=True, max_length=36)
    space = models.ForeignKey(
        AgentSpace, on_delete=models.CASCADE, related_name="+", db_column="agent_space_id"
    )
    task = models.ForeignKey(BacklogTask, on_delete=models.CASCADE, related_name="approvals")
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="approvals")
    tool = models.CharField(max_length=256)
    arguments = models.JSONField(default=dict)
    ttl_allowed = models.BooleanField(default=True)
    single_use_allowed = models.BooleanField(default=True)
    status = models.CharField(max_length=16, default="PENDING")
    decision_reason = models.TextField(blank=True)
    ttl_seconds = models.PositiveIntegerField(null=True, blank=True)
    single_use = models.BooleanField(null=True, blank=True)
    final_pattern = models.JSONField(null=True, blank=True)
    requested_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.tool} ({self.status})"
