"""Goals, recommendations and triggers: the agent's prevention work in a space.

Goals and recommendations carry a version that rises with every change (optimistic locking
for the console). Their life over time is computed lazily, like the backlog's
(`dashboard/sandbox/prevention.py`): `next_evaluation_at` and `revise_due_at` say when a goal is
next evaluated and when a recommendation sent back with more context is revised.
"""

from __future__ import annotations

from django.db import models

from .core import AgentSpace


class Goal(models.Model):
    goal_id = models.CharField(primary_key=True, max_length=64)
    space = models.ForeignKey(
        AgentSpace, on_delete=models.CASCADE, related_name="goals", db_column="agent_space_id"
    )
    title = models.CharField(max_length=400)
    description = models.TextField()
    objectives = models.TextField()
    status = models.CharField(max_length=16, default="ACTIVE")
    goal_type = models.CharField(max_length=32)
    schedule_state = models.CharField(max_length=16, blank=True)  # "" = no schedule
    schedule_expression = models.CharField(max_length=256, blank=True)
    version = models.PositiveIntegerField(default=1)
    # clientTokens of recent UpdateGoal calls -> the state they asked for.
    update_tokens = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    last_task_id = models.CharField(max_length=64, blank=True)
    last_successful_task_id = models.CharField(max_length=64, blank=True)
    # Lifecycle: when the schedule next files an evaluation task (None: not scheduled).
    next_evaluation_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "goal_id"]
        indexes = [
            models.Index(fields=["space", "next_evaluation_at"], name="sandbox_goal_due"),
        ]

    def __str__(self) -> str:
        return self.title


class Recommendation(models.Model):
    recommendation_id = models.CharField(primary_key=True, max_length=64)
    space = models.ForeignKey(
        AgentSpace,
        on_delete=models.CASCADE,
        related_name="recommendations",
        db_column="agent_space_id",
    )
    task_id = models.CharField(max_length=64)
    goal_id = models.CharField(max_length=64, blank=True)
    goal_version = models.PositiveIntegerField(null=True, blank=True)
    title = models.CharField(max_length=400)
    summary = models.TextField()
    spec = models.TextField(blank=True)
    status = models.CharField(max_length=32, default="PROPOSED")
    priority = models.CharField(max_length=8)
    # HIGH=3 .. LOW=1, stored so that ranking is an index scan.
    priority_rank = models.PositiveSmallIntegerField()
    additional_context = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    # Earlier versions as the API showed them (GetRecommendation's recommendationVersion).
    history = models.JSONField(default=list, blank=True)
    revisions = models.PositiveIntegerField(default=0)
    update_tokens = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # Lifecycle: when the agent finishes revising (status UPDATE_IN_PROGRESS).
    revise_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "recommendation_id"]
        indexes = [
            models.Index(fields=["space", "created_at"], name="sandbox_rec_created"),
            models.Index(fields=["space", "status", "created_at"], name="sandbox_rec_status"),
            models.Index(fields=["space", "task_id"], name="sandbox_rec_task"),
            models.Index(fields=["space", "goal_id"], name="sandbox_rec_goal"),
            models.Index(fields=["space", "revise_due_at"], name="sandbox_rec_due"),
        ]

    def __str__(self) -> str:
        return self.title


class Trigger(models.Model):
    trigger_id = models.CharField(primary_key=True, max_length=64)
    space = models.ForeignKey(
        AgentSpace, on_delete=models.CASCADE, related_name="triggers", db_column="agent_space_id"
    )
    trigger_type = models.CharField(max_length=64)
    # The TriggerCondition union as the API returns it ({"schedule": {...}}).
    condition = models.JSONField()
    action = models.JSONField()
    status = models.CharField(max_length=64)
    client_token = models.CharField(max_length=64, blank=True)
    update_tokens = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "trigger_id"]
        indexes = [
            models.Index(fields=["space", "client_token"], name="sandbox_trigger_token"),
        ]

    def __str__(self) -> str:
        return self.trigger_id
