"""Registered services, pending OAuth (3LO) registrations, associations and their webhooks."""

from __future__ import annotations

from django.db import models

from .core import AgentSpace


class RegisteredService(models.Model):
    service_id = models.CharField(primary_key=True, max_length=255)
    service_type = models.CharField(max_length=32, db_index=True)
    name = models.CharField(max_length=255, blank=True)
    # The type's additionalServiceDetails member, as GetService returns it.
    details = models.JSONField(null=True, blank=True)
    accessible_resources = models.JSONField(default=list, blank=True)
    kms_key_arn = models.CharField(max_length=2048, blank=True)
    private_connection_name = models.CharField(max_length=30, blank=True)
    target_url_private_connection_name = models.CharField(max_length=30, blank=True)
    exchange_url_private_connection_name = models.CharField(max_length=30, blank=True)
    # What makes two registrations the same (type + MCP server name, instance URL, ...).
    identity = models.CharField(max_length=2048, blank=True, db_index=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "service_id"]

    def __str__(self) -> str:
        return self.name or self.service_id


class PendingOAuth(models.Model):
    """A RegisterService call waiting for the user's consent at the (sandbox) provider."""

    flow_id = models.CharField(primary_key=True, max_length=64)
    service_type = models.CharField(max_length=32)
    # The RegisterService input with credentials removed: what the service will be made from.
    request = models.JSONField()
    provider = models.CharField(max_length=2048, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.flow_id


class ServiceAssociation(models.Model):
    association_id = models.CharField(primary_key=True, max_length=255)
    space = models.ForeignKey(
        AgentSpace,
        on_delete=models.CASCADE,
        related_name="associations",
        db_column="agent_space_id",
    )
    service_id = models.CharField(max_length=255, db_index=True)
    service_type = models.CharField(max_length=32)
    # AssociateService overwrites the association of the same service in the space; AWS
    # accounts (service "aws") are one per account (monitor: one per space), linked agent
    # spaces one per target space.
    slot = models.CharField(max_length=300)
    configuration = models.JSONField()
    capabilities = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "association_id"]
        constraints = [
            models.UniqueConstraint(fields=["space", "slot"], name="sandbox_association_slot")
        ]

    def __str__(self) -> str:
        return f"{self.service_type} {self.association_id}"


class AssociationWebhook(models.Model):
    webhook_id = models.CharField(primary_key=True, max_length=255)
    association = models.ForeignKey(
        ServiceAssociation, on_delete=models.CASCADE, related_name="webhooks"
    )
    webhook_url = models.CharField(max_length=2048)
    webhook_type = models.CharField(max_length=16)
    # Kept, as the service keeps them to check incoming calls; returned once, at creation.
    webhook_secret = models.CharField(max_length=256, blank=True)
    api_key = models.CharField(max_length=256, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "webhook_id"]

    def __str__(self) -> str:
        return self.webhook_id
