"""Seed the sandbox with a believable demo world (idempotent: skips when spaces exist).

`--large NAME --tasks N` instead fills one space with N tasks (bulk-written) for paging and
speed work; it skips a space that already has tasks unless --force is given.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from dashboard.aws import spaces
from dashboard.sandbox import demo, demo_integrations, prevention_demo
from dashboard.sandbox.models import AgentSpace, BacklogTask

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
        parser.add_argument(
            "--large", metavar="SPACE_NAME", help="Fill this space (created if missing) instead."
        )
        parser.add_argument(
            "--tasks", type=int, default=1000, help="Tasks for --large (default 1000)."
        )

    def handle(
        self, *args: Any, force: bool, large: str | None, tasks: int, **options: Any
    ) -> None:
        if settings.DASHBOARD_BACKEND != "sandbox":
            raise CommandError("seed_sandbox only seeds the sandbox (DASHBOARD_BACKEND=sandbox).")
        if large:
            self._large(large, tasks, force)
            return
        self._agentcore()
        existing = spaces.list_spaces(max_results=len(DEMO_SPACES))["agentSpaces"]
        if existing and not force:
            self.stdout.write("Sandbox already has agent spaces; not seeding.")
            self._configuration()
            self._integrations(existing)  # added later: seeded once into an older sandbox
            return
        now = timezone.now()
        count = 0
        made = []
        for index, demo_space in enumerate(DEMO_SPACES):
            created = spaces.create_space(**demo_space)
            made.append(created)
            space = AgentSpace.objects.get(pk=created["agentSpaceId"])
            with transaction.atomic():
                # One space waits for an approval; more would crowd the demo.
                count += demo.seed_backlog(space, now, with_approval=index == 0)
                prevention_demo.seed(space, now)  # goals, recommendations, triggers
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {len(DEMO_SPACES)} demo agent spaces with {count} backlog tasks."
            )
        )
        self._configuration()
        self._integrations(made)

    def _configuration(self) -> None:
        """Private connections, Operator Apps and assets: each added once, when missing."""
        from dashboard.aws.clients import SANDBOX_REGION, client
        from dashboard.sandbox import demo_configuration

        region = client("devops-agent").meta.region_name or SANDBOX_REGION
        added = demo_configuration.seed(timezone.now(), settings.SANDBOX_ACCOUNT_ID, region)
        if added:
            self.stdout.write(self.style.SUCCESS("Seeded " + ", ".join(added) + "."))

    def _agentcore(self) -> None:
        """AgentCore memories, workload identities and flow executions (each seeded once,
        whatever the agent spaces say: additive to a sandbox seeded before they existed)."""
        from dashboard.sandbox import demo_flows, demo_memory

        now = timezone.now()
        with transaction.atomic():
            memory = demo_memory.seed_memories(now)
            identities = demo_memory.seed_identities(now)
            flows = demo_flows.seed_flows(now)
        if memory["memories"] or identities or flows["executions"] or flows["flows"]:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Seeded {memory['memories']} AgentCore memories ({memory['events']} events, "
                    f"{memory['records']} records), {identities} workload identities and "
                    f"credential providers, {flows['flows']} flows and aliases, "
                    f"{flows['executions']} flow executions "
                    f"({flows['events']} trace events)."
                )
            )

    def _integrations(self, made: list[dict[str, Any]]) -> None:
        linked = demo_integrations.seed(made)
        if linked:
            self.stdout.write(self.style.SUCCESS(f"Seeded services and {linked} associations."))

    def _large(self, name: str, count: int, force: bool) -> None:
        if count < 1:
            raise CommandError("--tasks must be at least 1.")
        space = AgentSpace.objects.filter(name=name).order_by("created_at").first()
        if space is None:
            created = spaces.create_space(
                name=name, description=f"{count} tasks for paging and speed work."
            )
            space = AgentSpace.objects.get(pk=created["agentSpaceId"])
        elif BacklogTask.objects.filter(space=space).exists() and not force:
            self.stdout.write(f"Space {name!r} already has tasks; not seeding (use --force).")
            return
        started = time.monotonic()
        with transaction.atomic():
            written = demo.seed_large(space, count, timezone.now())
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {written} tasks into {name!r} ({space.pk}) in "
                f"{time.monotonic() - started:.1f}s."
            )
        )
