"""AgentCore browser sessions (`bedrock-agentcore` StartBrowserSession and friends)."""

from __future__ import annotations

from django.db import models


class BrowserSession(models.Model):
    READY = "READY"
    TERMINATED = "TERMINATED"

    session_id = models.CharField(primary_key=True, max_length=40)
    browser_identifier = models.CharField(max_length=128)
    name = models.CharField(max_length=100, blank=True)
    viewport_width = models.PositiveIntegerField()
    viewport_height = models.PositiveIntegerField()
    timeout_seconds = models.PositiveIntegerField()
    # created_at + timeout_seconds: READY sessions past it are TERMINATED when next read.
    expires_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=16, default=READY)
    automation_status = models.CharField(max_length=16, default="ENABLED")
    client_token = models.CharField(max_length=256, blank=True)
    # What StartBrowserSession was asked, to tell a retried request from a different one.
    request_digest = models.CharField(max_length=64, blank=True)
    # Start parameters the sandbox keeps but does not act on (extensions, proxies, profiles, ...).
    config = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # Where the session's browser runs: a real Chromium ("chromium") on this host, started by
    # the process `owner_pid` through its guard process `guard_pid`, with its DevTools
    # websocket at ws://127.0.0.1:<cdp_port><cdp_path>; or generated frames ("generated").
    engine = models.CharField(max_length=16, default="generated")
    host = models.CharField(max_length=255, blank=True)
    owner_pid = models.PositiveIntegerField(null=True, blank=True)
    guard_pid = models.PositiveIntegerField(null=True, blank=True)
    cdp_port = models.PositiveIntegerField(null=True, blank=True)
    cdp_path = models.CharField(max_length=255, blank=True)
    # Why a session meant for Chromium shows generated frames instead (Chromium failed).
    engine_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-session_id"]
        indexes = [
            models.Index(
                fields=["browser_identifier", "status", "created_at"], name="sandbox_browser_list"
            ),
            models.Index(fields=["client_token"], name="sandbox_browser_token"),
        ]

    def __str__(self) -> str:
        return f"{self.browser_identifier}/{self.session_id} ({self.status})"
