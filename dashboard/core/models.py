"""The audit log: every change made through the console, who made it and how it ended."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    OK = "ok"
    FAILED = "failed"
    OUTCOMES = [(OK, "Succeeded"), (FAILED, "Failed")]

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Kept even if the user is deleted later.
    username = models.CharField(max_length=150)
    operation = models.CharField(max_length=100, db_index=True)
    target = models.CharField(max_length=2048, blank=True)
    outcome = models.CharField(max_length=10, choices=OUTCOMES)
    # The request's parameters with every secret replaced, and the error if it failed.
    detail = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.operation} {self.outcome}"
