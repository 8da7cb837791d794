"""Demo goals, recommendations and triggers for `seed_sandbox`.

Like the backlog's demo (`demo.py`), history is replayed rather than written: goals are set up
weeks ago and the real lifecycle evaluates them on their schedules (each evaluation a task that
runs its script and files its recommendations); operators' decisions are then made at moments
in the past through the service's own rules. One recommendation is sent back with more context
just before now, so it comes back revised while someone looks.
"""

from __future__ import annotations

import datetime as dt
import random

from . import lifecycle, prevention
from .demo import SPACE_SERVICES
from .models import AgentSpace, Goal, Recommendation

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)

CONTEXTS = (
    "We only change alarms through Terraform, and the staging account has no load balancer "
    "of that name. Please give the Terraform change first and skip the CLI.",
    "The change window is Tuesday 14:00-16:00 UTC; the deployment group is managed by the "
    "platform team. Split the steps into what we do and what they do.",
)


def _goals(space: AgentSpace, now: dt.datetime, names: dict[str, str]) -> list[Goal]:
    created = now - dt.timedelta(days=23)
    return [
        prevention.create_goal(
            space,
            title=f"Keep p99 latency of {names['svc0']} under 500 ms",
            description=f"Checkout times out client-side when `{names['svc0']}` is slow. "
            "Find what makes tail latency spike and what would catch it early.",
            objectives="- p99 under 500 ms over 28 days\n- a page within 5 minutes of a "
            "regression\n- every latency incident has a runbook",
            goal_type="CUSTOMER_DEFINED",
            at=created,
            schedule_state="ENABLED",
            expression="rate(7 days)",
            first_evaluation=now - dt.timedelta(days=16, hours=3),
        ),
        prevention.create_goal(
            space,
            title="Weekly on-call report",
            description="What paged the rotation last week, what repeated, and what would "
            "have prevented it.",
            objectives="- the top three sources of pages\n- one prevention step per repeated "
            "incident",
            goal_type="ONCALL_REPORT",
            at=created,
            schedule_state="ENABLED",
            expression="cron(0 8 ? * MON *)",
            first_evaluation=prevention.schedules.next_run(
                "cron(0 8 ? * MON *)", now - dt.timedelta(days=10)
            ),
        ),
        prevention.create_goal(
            space,
            title=f"Halve paging alerts for {names['svc1']}",
            description=f"`{names['svc1']}` pages twice as often as the other services of the "
            "rotation, mostly for alarms that clear by themselves.",
            objectives="- fewer than 10 pages a week\n- no alarm that clears within 5 minutes "
            "pages anyone",
            goal_type="CUSTOMER_DEFINED",
            at=created + dt.timedelta(days=2),
            schedule_state="ENABLED",
            expression="rate(3 days)",
            first_evaluation=now - dt.timedelta(days=12, hours=5),
        ),
        prevention.create_goal(
            space,
            title=f"Rehearse the failover of {names['svc2']}",
            description="A failover game day every quarter, with the runbook kept current.",
            objectives="- one game day per quarter\n- failover in under 10 minutes",
            goal_type="CUSTOMER_DEFINED",
            status="COMPLETE",
            at=created - dt.timedelta(days=40),
            schedule_state="DISABLED",
            expression="rate(30 days)",
        ),
    ]


def _replay_evaluations(space: AgentSpace, now: dt.datetime) -> None:
    """Advance the space through every evaluation due before now, one at a time, so each
    runs on its own day (an advance after a long gap would run only the latest)."""
    for _ in range(50):
        due = (
            Goal.objects.filter(space=space, next_evaluation_at__lte=now)
            .order_by("next_evaluation_at")
            .values_list("next_evaluation_at", flat=True)
            .first()
        )
        if due is None:
            return
        # Long enough for the evaluation to finish at any sensible pace, short of the next one.
        lifecycle.advance(space.pk, min(now, due + dt.timedelta(hours=2)))


def _decide(space: AgentSpace, now: dt.datetime, rng: random.Random) -> None:
    """Operators' decisions on older recommendations, made in the past through the rules."""
    recs = list(Recommendation.objects.filter(space=space).order_by("created_at"))
    old = [r for r in recs if r.created_at < now - 4 * DAY]
    recent = [r for r in recs if now - 4 * DAY <= r.created_at < now - HOUR]
    plans = ["COMPLETED", "REJECTED", "ACCEPTED", "CLOSED", "COMPLETED"]
    for index, rec in enumerate(old):
        decided = rec.created_at + dt.timedelta(hours=rng.randint(3, 40))
        plan = plans[index % len(plans)]
        target = "ACCEPTED" if plan == "COMPLETED" else plan
        prevention.update_recommendation(rec, at=decided, status=target)
        if plan == "COMPLETED":
            prevention.update_recommendation(
                rec, at=decided + dt.timedelta(days=2), status="COMPLETED"
            )
    if recent:
        # One was sent back with more context and came back revised (versions 1 to 3).
        revised = recent[0]
        asked = revised.created_at + 2 * HOUR
        prevention.update_recommendation(revised, at=asked, additional_context=CONTEXTS[0])
        lifecycle.advance(space.pk, asked + 10 * MINUTE)
    if len(recent) > 1:
        # Another is being sent back right now: it comes back revised shortly after the seed.
        pending = Recommendation.objects.get(pk=recent[1].pk)
        prevention.update_recommendation(
            pending, at=now - dt.timedelta(seconds=15), additional_context=CONTEXTS[1]
        )


def _triggers(space: AgentSpace, now: dt.datetime, names: dict[str, str]) -> None:
    prevention.create_trigger(
        space,
        trigger_type="TIME_BASED",
        condition={"schedule": {"expression": "rate(1 day)"}},
        action={"actionType": "create:task", "task": {"agent": "custom:cost-optimizer"}},
        at=now - 9 * DAY,
    )
    prevention.create_trigger(
        space,
        trigger_type="TIME_BASED",
        condition={"schedule": {"expression": "cron(0 9 ? * MON-FRI *)"}},
        action={"actionType": "create:task", "task": {"agent": "custom:certificate-checker"}},
        status="Inactive",
        at=now - 5 * DAY,
    )
    prevention.create_trigger(
        space,
        trigger_type="TIME_BASED",
        condition={"schedule": {"expression": "cron(30 6 1 * ? *)"}},
        action={
            "actionType": "create:task",
            "task": {"agent": f"custom:{names['svc0']}-capacity-review"},
        },
        at=now - 2 * DAY,
    )


def seed(space: AgentSpace, now: dt.datetime) -> int:
    """Goals with a few weeks of evaluations, their recommendations in every status, and the
    space's triggers. Returns the number of recommendations."""
    rng = random.Random(f"prevention-demo:{space.name}")
    services = SPACE_SERVICES.get(space.name, ("payments-api", "checkout-web", "orders-worker"))
    names = {"svc0": services[0], "svc1": services[1], "svc2": services[2]}
    _goals(space, now, names)
    _replay_evaluations(space, now)
    _decide(space, now, rng)
    _triggers(space, now, names)
    lifecycle.advance(space.pk, now)
    return Recommendation.objects.filter(space=space).count()
