"""The sandbox's world, kept in the console's database so it survives restarts and every
process of a deployment sees the same state."""

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
