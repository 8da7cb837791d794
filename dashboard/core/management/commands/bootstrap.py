"""First-start setup for the local run command: an admin account with a generated password."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the first admin with a generated password (printed once) if none exists."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument(
            "--reset", action="store_true", help="Give the admin a new generated password."
        )

    def handle(self, *args: Any, username: str, reset: bool, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is not None and not reset:
            self.stdout.write(
                f"Sign in as {username!r} with the password printed on first start "
                "(forgotten? run: make admin-password)."
            )
            return
        password = secrets.token_urlsafe(12)
        if user is None:
            user = User.objects.create_user(username=username, password=password)
            user.groups.add(Group.objects.get_or_create(name="admin")[0])
        else:
            user.set_password(password)
            user.save()
        self.stdout.write(
            self.style.SUCCESS(f"Sign in as {username!r} with password: {password}")
            + "\n(shown once; it is not stored anywhere readable)"
        )
