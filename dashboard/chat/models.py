"""Messages sent, by the idempotency key their message box carried.

Every message box the chat page renders carries a fresh key (a hidden field). Sending records
the key before calling SendMessage; a second send with the same key (the page fell back from a
dropped websocket to a plain post, a double click, a retried request) finds it and sends
nothing. A send that fails before AWS took the message gives its key back, so the kept text can
be sent again from the same box. Keys are kept a day.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SentMessage(models.Model):
    key = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    space_id = models.CharField(max_length=2048)
    chat_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.key} → {self.chat_id}"
