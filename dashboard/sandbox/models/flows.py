"""Amazon Bedrock Flows: flows and their aliases (`bedrock-agent`, the control plane), their
executions (`bedrock-agent-runtime`) and the events of their traces.

An event is stored as the API returns it: its union member (`kind`, e.g. "nodeInputEvent")
and that member's body, timestamps as ISO text (turned back into datetimes by the output
shape when served). An event whose timestamp is still in the future has not happened yet: a
running execution's trace grows as wall-clock time passes.
"""

from __future__ import annotations

from django.db import models


class Flow(models.Model):
    flow_id = models.CharField(primary_key=True, max_length=10)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, default="Prepared")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "flow_id"]

    def __str__(self) -> str:
        return self.flow_id


class FlowAlias(models.Model):
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="aliases")
    alias_id = models.CharField(max_length=10)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=200, blank=True)
    # The version the alias routes to ("DRAFT" for the test alias TSTALIASID).
    flow_version = models.CharField(max_length=5, default="1")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "alias_id"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "alias_id"], name="sandbox_flowalias_unique")
        ]

    def __str__(self) -> str:
        return f"{self.flow_id}/{self.alias_id}"


class FlowExecution(models.Model):
    execution_id = models.CharField(primary_key=True, max_length=36)
    flow_id = models.CharField(max_length=10)
    flow_alias_id = models.CharField(max_length=10)
    flow_name = models.CharField(max_length=100, blank=True)
    # What the execution is about, in words (the seed's note; not an API field).
    summary = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_at", "execution_id"]
        indexes = [models.Index(fields=["flow_id", "flow_alias_id"], name="sandbox_flowexec_alias")]

    def __str__(self) -> str:
        return self.execution_id


class FlowExecutionEvent(models.Model):
    NODE = "Node"
    FLOW = "Flow"

    execution = models.ForeignKey(FlowExecution, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    event_type = models.CharField(max_length=8)  # Node | Flow (the API's eventType)
    kind = models.CharField(max_length=40)
    timestamp = models.DateTimeField()
    body = models.JSONField()

    class Meta:
        ordering = ["execution", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["execution", "seq"], name="sandbox_flowevent_seq")
        ]
        indexes = [
            models.Index(fields=["execution", "event_type", "seq"], name="sandbox_flowevent_type")
        ]

    def __str__(self) -> str:
        return f"{self.execution_id}#{self.seq} {self.kind}"
