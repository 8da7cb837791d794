"""AgentCore Identity (`bedrock-agentcore`): workload identities and the credential providers
their tokens unlock. Both are made by the control plane, so they come from the seed (or tests);
the data plane's tokens are signed, not stored. OAuth2 user-federation sessions are kept until
the user completes them (CompleteResourceTokenAuth)."""

from __future__ import annotations

from django.db import models


class WorkloadIdentity(models.Model):
    name = models.CharField(primary_key=True, max_length=255)
    # Where an OAuth2 authorization may send the user back to (resourceOauth2ReturnUrl).
    allowed_return_urls = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CredentialProvider(models.Model):
    API_KEY = "API_KEY"
    OAUTH2 = "OAUTH2"

    name = models.CharField(primary_key=True, max_length=128)
    kind = models.CharField(max_length=16, choices=[(API_KEY, API_KEY), (OAUTH2, OAUTH2)])
    vendor = models.CharField(max_length=64, blank=True)
    # The API key (API_KEY providers): a credential, only ever handed to a workload token.
    api_key = models.CharField(max_length=256, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OAuth2Session(models.Model):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"

    session_uri = models.CharField(primary_key=True, max_length=1024)
    workload = models.ForeignKey(WorkloadIdentity, on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey(CredentialProvider, on_delete=models.CASCADE, related_name="+")
    user_id = models.CharField(max_length=128)
    scopes = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, default=IN_PROGRESS)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.session_uri
