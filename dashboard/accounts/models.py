"""Who signed in through single sign-on: the provider's (issuer, subject) pair for a user.

The subject (`sub`) is the only claim a provider promises is stable and unique; usernames and
e-mail addresses can change or be reused, so sign-ins find their user by this pair.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SsoIdentity(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identity"
    )
    issuer = models.CharField(max_length=500)
    subject = models.CharField(max_length=255)
    # The groups the provider sent at the last sign-in (shown on the Users page).
    groups = models.JSONField(default=list, blank=True)
    last_sign_in = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique")
        ]
        verbose_name_plural = "SSO identities"

    def __str__(self) -> str:
        return f"{self.user} ← {self.issuer} {self.subject}"
