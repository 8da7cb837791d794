"""Private connections, Operator Apps, assets and usage limits of the emulated account.

Private connections move through their states lazily (see `ops/configuration.py`):
`next_due_at` says when a connection next changes, so "is anything due?" is one indexed query.

Assets keep every version: an `AssetVersion` row per version (its metadata), and each file's
content as `AssetFile` rows valid over a range of versions (`from_version` up to, not
including, `to_version`). A change writes a new version and closes or opens only the rows it
touches, so a file that never changes is stored once however many versions there are.
"""

from __future__ import annotations

from django.db import models

from .core import AgentSpace


class PrivateConnection(models.Model):
    name = models.CharField(primary_key=True, max_length=30)
    connection_type = models.CharField(max_length=16)  # SERVICE_MANAGED | SELF_MANAGED
    status = models.CharField(max_length=24)
    failure_message = models.TextField(blank=True)
    # Service-managed: the target and the resource gateway made for it.
    host_address = models.CharField(max_length=255, blank=True)
    vpc_id = models.CharField(max_length=50, blank=True)
    subnet_ids = models.JSONField(default=list, blank=True)
    security_group_ids = models.JSONField(default=list, blank=True)
    ip_address_type = models.CharField(max_length=16, blank=True)
    ipv4_addresses_per_eni = models.PositiveSmallIntegerField(null=True, blank=True)
    port_ranges = models.JSONField(default=list, blank=True)
    resource_gateway_id = models.CharField(max_length=2048, blank=True)
    # Self-managed: the customer's own resource configuration.
    resource_configuration_id = models.CharField(max_length=2048, blank=True)
    dns_resolution = models.CharField(max_length=16, blank=True)
    # The certificate is public material (the model does not mark it sensitive).
    certificate = models.TextField(blank=True)
    certificate_expires_at = models.DateTimeField(null=True, blank=True)
    # Lifecycle: what the pending operation ends in, and when.
    outcome = models.CharField(max_length=24, blank=True)
    outcome_message = models.TextField(blank=True)
    next_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OperatorAppFlow(models.Model):
    """One enabled auth flow (iam, idc or idp) of a space's Operator App."""

    space = models.ForeignKey(
        AgentSpace, on_delete=models.CASCADE, related_name="+", db_column="agent_space_id"
    )
    auth_flow = models.CharField(max_length=8)
    role_arn = models.CharField(max_length=255)
    idc_instance_arn = models.CharField(max_length=2048, blank=True)
    idc_application_arn = models.CharField(max_length=2048, blank=True)
    issuer_url = models.CharField(max_length=2048, blank=True)
    client_id = models.CharField(max_length=512, blank=True)
    provider = models.CharField(max_length=256, blank=True)
    # Only a fingerprint: the emulator never needs the IdP client secret back, so it keeps none.
    client_secret_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["space", "auth_flow"], name="sandbox_operator_flow")
        ]

    def __str__(self) -> str:
        return f"{self.space_id} {self.auth_flow}"


class Asset(models.Model):
    asset_id = models.CharField(primary_key=True, max_length=128)
    space = models.ForeignKey(
        AgentSpace, on_delete=models.CASCADE, related_name="+", db_column="agent_space_id"
    )
    asset_type = models.CharField(max_length=64)
    version = models.PositiveIntegerField(default=1)
    client_token = models.CharField(max_length=128, blank=True)
    # clientTokens of recent changes (UpdateAsset, Create/UpdateAssetFile) -> the version made.
    change_tokens = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "asset_id"]
        indexes = [
            models.Index(fields=["space", "asset_type", "created_at"], name="sandbox_asset_type"),
            models.Index(fields=["space", "updated_at"], name="sandbox_asset_updated"),
        ]

    def __str__(self) -> str:
        return self.asset_id


class AssetVersion(models.Model):
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["asset", "version"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "version"], name="sandbox_asset_version")
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} v{self.version}"


class AssetFile(models.Model):
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=512)
    # The API's AssetFileBody union: `text` when is_text, else the bytes in `data`.
    is_text = models.BooleanField(default=True)
    text = models.TextField(blank=True, default="")
    data = models.BinaryField(null=True, blank=True)
    size = models.PositiveIntegerField(default=0)
    metadata = models.JSONField(null=True, blank=True)
    from_version = models.PositiveIntegerField()
    to_version = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()  # when the path first appeared
    updated_at = models.DateTimeField()  # when this content was written

    class Meta:
        ordering = ["asset", "path", "from_version"]
        indexes = [
            models.Index(fields=["asset", "from_version", "to_version"], name="sandbox_file_span"),
            models.Index(fields=["asset", "path"], name="sandbox_file_path"),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id}:{self.path} v{self.from_version}"


class UsageLimit(models.Model):
    """An account's monthly limit for one usage metric (defaults in ops/configuration.py)."""

    metric = models.CharField(primary_key=True, max_length=64)
    limit = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.metric}={self.limit}"
