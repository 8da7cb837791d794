"""Seed the sandbox with a believable demo world (idempotent: skips when spaces exist)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard.aws import spaces

DEMO_SPACES = [
    {
        "name": "Payments platform",
        "description": "Card authorisation, settlement and the ledger services behind checkout. "
        "Owned by the payments SRE rotation.",
        "locale": "en-US",
        "tags": {"team": "payments", "env": "prod", "tier": "1"},
    },
    {
        "name": "Checkout web",
        "description": "Storefront and checkout frontends on CloudFront and ECS.",
        "locale": "en-GB",
        "tags": {"team": "web", "env": "prod"},
    },
    {
        "name": "Data pipeline",
        "description": "Kinesis ingestion, Glue jobs and the reporting warehouse.",
        "tags": {"team": "data", "env": "prod"},
    },
    {
        "name": "Identity (staging)",
        "description": "Sign-in, sessions and token services: staging environment.",
        "locale": "de-DE",
        "tags": {"team": "identity", "env": "staging"},
    },
]


class Command(BaseCommand):
    help = "Create the sandbox's demo agent spaces unless the sandbox already has some."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--force", action="store_true", help="Seed even if spaces exist.")

    def handle(self, *args: Any, force: bool, **options: Any) -> None:
        if settings.DASHBOARD_BACKEND != "sandbox":
            raise CommandError("seed_sandbox only seeds the sandbox (DASHBOARD_BACKEND=sandbox).")
        if spaces.list_spaces(max_results=1)["agentSpaces"] and not force:
            self.stdout.write("Sandbox already has agent spaces; not seeding.")
            return
        for demo in DEMO_SPACES:
            spaces.create_space(**demo)
        self.stdout.write(self.style.SUCCESS(f"Seeded {len(DEMO_SPACES)} demo agent spaces."))
