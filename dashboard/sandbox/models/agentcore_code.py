"""AgentCore code interpreter sessions and agent runtime sessions (`bedrock-agentcore`).

A code interpreter session keeps what a real one keeps between calls, simulated: its files (a
virtual file system, never the host's) and the variables of its simulated interpreter; and the
command tasks started in it (startCommandExecution), whose progress is computed from the wall
clock when read. An agent runtime session remembers the prompts it was sent, so the simulated
agent can refer to earlier turns.
"""

from __future__ import annotations

from django.db import models


class CodeInterpreterSession(models.Model):
    READY = "READY"
    TERMINATED = "TERMINATED"

    session_id = models.CharField(primary_key=True, max_length=40)
    code_interpreter_identifier = models.CharField(max_length=128)
    name = models.CharField(max_length=100, blank=True)
    timeout_seconds = models.PositiveIntegerField()
    # created_at + timeout_seconds: READY sessions past it are TERMINATED when next read.
    expires_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=16, default=READY)
    client_token = models.CharField(max_length=256, blank=True)
    # What StartCodeInterpreterSession was asked, to tell a retried request from another one.
    request_digest = models.CharField(max_length=64, blank=True)
    # Start parameters kept and echoed by GetCodeInterpreterSession but not acted on.
    config = models.JSONField(default=dict, blank=True)
    # The virtual file system: {path: {"text": str} | {"blob": base64}, "size", "modified"}.
    files = models.JSONField(default=dict, blank=True)
    # The simulated interpreters' variables, per language: {"python": {...}, ...}.
    variables = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-session_id"]
        indexes = [
            models.Index(
                fields=["code_interpreter_identifier", "status", "created_at"],
                name="sandbox_code_list",
            ),
            models.Index(fields=["client_token"], name="sandbox_code_token"),
        ]

    def __str__(self) -> str:
        return f"{self.code_interpreter_identifier}/{self.session_id} ({self.status})"


class CodeInterpreterTask(models.Model):
    """A command started with startCommandExecution. Its output is planned when it starts
    (`plan`: [[seconds after start, "stdout"|"stderr", text], ...]); getTask shows what the
    wall clock has reached."""

    task_id = models.CharField(primary_key=True, max_length=64)
    session = models.ForeignKey(
        CodeInterpreterSession, on_delete=models.CASCADE, related_name="tasks"
    )
    command = models.TextField()
    plan = models.JSONField(default=list, blank=True)
    duration = models.FloatField()
    exit_code = models.IntegerField(default=0)
    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"task {self.task_id} ({self.command[:40]})"


class AgentRuntimeSession(models.Model):
    """A runtime session of a simulated agent runtime (InvokeAgentRuntime)."""

    runtime_arn = models.CharField(max_length=2048)
    runtime_session_id = models.CharField(max_length=256)
    qualifier = models.CharField(max_length=128, blank=True)
    # The latest prompts, oldest first (a few are kept).
    prompts = models.JSONField(default=list, blank=True)
    invocations = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    last_invoked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["runtime_arn", "runtime_session_id"], name="sandbox_runtime_session"
            )
        ]

    def __str__(self) -> str:
        return f"{self.runtime_arn} session {self.runtime_session_id}"
