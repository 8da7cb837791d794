"""Sign a user out everywhere: delete every stored session that carries their id.

Sessions live in the database (Django's default engine), so this reaches every daphne process;
a session found by scanning the unexpired ones, which a console with a few hundred users keeps
cheap. Every request after this is signed out. A websocket opened before keeps receiving
until it reconnects, but the first action sent over it (a chat message, a code run) closes it
unanswered (dashboard/streams/consumer.py).
"""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.utils import timezone


def sign_out_everywhere(user: User) -> int:
    """Delete `user`'s sessions; returns how many there were."""
    wanted = str(user.pk)
    keys = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(session.get_decoded().get(SESSION_KEY, "")) == wanted
    ]
    Session.objects.filter(session_key__in=keys).delete()
    return len(keys)


def session_count(users: list[User]) -> dict[int, int]:
    """Open sessions per user id (for the Users page)."""
    wanted = {str(user.pk): user.pk for user in users}
    counts: dict[int, int] = {}
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        pk = wanted.get(str(session.get_decoded().get(SESSION_KEY, "")))
        if pk is not None:
            counts[pk] = counts.get(pk, 0) + 1
    return counts
