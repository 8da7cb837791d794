"""Demo backlogs for `seed_sandbox`.

`seed_backlog` writes a space's history by replaying it: tasks are created at moments in the
past and the real lifecycle (`lifecycle.advance`) runs them up to now, so completed tasks have
the journals and root causes the emulator would have written, and the live ones are exactly
where they would be. Each entry asks for a fate ("complete", "fail", "approval", ...); the
seed picks (deterministically) a task id whose script has that fate.

`seed_large` is the fast path for paging and speed work: thousands of finished or untouched
tasks, their executions, journals and approvals written with bulk_create.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import lifecycle, tasks
from .models import AgentSpace, Approval, BacklogTask, Execution, JournalRecord
from .scripts import Script, script_for, uuid7

MINUTE = 60.0
HOUR = 60 * MINUTE
DAY = 24 * HOUR


@dataclass(frozen=True)
class Entry:
    ago: float  # seconds before now (ignored for "approval": timed from its script)
    fate: str  # complete | fail | run | approval | triage | skip | cancel | duplicate
    task_type: str
    priority: str
    title: str  # may name {svc0} {svc1} {svc2} {db} {queue}
    system: str = ""  # PagerDuty / ServiceNow reference, or none


CATALOGUE = (
    Entry(
        2 * DAY + 5 * HOUR,
        "complete",
        "INVESTIGATION",
        "HIGH",
        "Elevated 5xx on {svc0} after deploy",
        "PagerDuty",
    ),
    Entry(2 * DAY, "complete", "EVALUATION", "MEDIUM", "Evaluate alarm coverage for {svc1}"),
    Entry(
        30 * HOUR,
        "complete",
        "INVESTIGATION",
        "CRITICAL",
        "RDS connections exhausted on {db}",
        "PagerDuty",
    ),
    Entry(
        30 * HOUR - 70,
        "duplicate",
        "INVESTIGATION",
        "HIGH",
        "{db}: FATAL remaining connection slots are reserved",
        "PagerDuty",
    ),
    Entry(
        20 * HOUR,
        "fail",
        "INVESTIGATION",
        "MEDIUM",
        "p99 latency regression on {svc1}",
        "ServiceNow",
    ),
    Entry(
        14 * HOUR, "complete", "RELEASE_READINESS_REVIEW", "HIGH", "Release readiness: {svc0} v2.14"
    ),
    Entry(9 * HOUR, "skip", "INVESTIGATION", "LOW", "Disk usage above 80% on {svc2} build hosts"),
    Entry(
        7 * HOUR,
        "cancel",
        "INVESTIGATION",
        "MINIMAL",
        "Intermittent DNS resolution failures from {svc2}",
        "ServiceNow",
    ),
    Entry(
        5 * HOUR,
        "complete",
        "CODE_CHANGE_RISK_ANALYSIS",
        "MEDIUM",
        "Risk analysis: connection pool change in {svc0}",
    ),
    Entry(
        3 * HOUR,
        "complete",
        "INVESTIGATION",
        "HIGH",
        "Memory climbing on {svc1} tasks, OOM restarts",
        "PagerDuty",
    ),
    Entry(2 * HOUR, "complete", "RELEASE_TESTING", "LOW", "Release testing: {svc2} canary"),
    Entry(90 * MINUTE, "triage", "INVESTIGATION", "MEDIUM", "Consumer lag growing on {queue}"),
    Entry(
        45 * MINUTE,
        "triage",
        "INVESTIGATION",
        "HIGH",
        "TLS certificate for {svc1} expires in 6 days",
    ),
    Entry(
        0, "approval", "INVESTIGATION", "CRITICAL", "5xx spike: {svc0} returning 503", "PagerDuty"
    ),
    Entry(25, "duplicate", "INVESTIGATION", "HIGH", "{svc0} 503s on /v2/authorize", "PagerDuty"),
    Entry(90, "run", "INVESTIGATION", "HIGH", "p99 latency above 2s on {svc1}"),
    Entry(60, "run", "EVALUATION", "LOW", "Evaluate the failover runbook for {svc2}"),
    Entry(30, "run", "INVESTIGATION", "MEDIUM", "Error rate rising on {svc2}"),
    Entry(12, "run", "INVESTIGATION", "LOW", "Slow queries on {db}"),
)

SPACE_SERVICES = {
    "Payments platform": ("payments-api", "ledger-service", "settlement-batch"),
    "Checkout web": ("checkout-web", "cart-api", "storefront-edge"),
    "Data pipeline": ("ingest-stream", "reporting-warehouse", "glue-etl"),
    "Identity (staging)": ("auth-gateway", "session-service", "token-service"),
}


def _reference(system: str, rng: random.Random, title: str, key: str) -> dict[str, str]:
    if system == "PagerDuty":
        return {
            "system": "PagerDuty",
            "referenceId": key,
            "referenceUrl": f"https://acme.pagerduty.com/incidents/{key}",
            "title": title,
            "associationId": "pagerduty-acme",
        }
    return {
        "system": "ServiceNow",
        "referenceId": key,
        "referenceUrl": f"https://acme.service-now.com/nav_to.do?uri=incident.do%3Fsysparm_query"
        f"%3Dnumber%3D{key}",
        "title": title,
        "associationId": "servicenow-acme",
    }


def _reference_key(system: str, rng: random.Random) -> str:
    if system == "PagerDuty":
        return "Q" + "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", k=13))
    return f"INC{rng.randint(10000, 99999):07d}"


def _fits(fate: str, found: Script) -> bool:
    if fate == "approval":
        return found.has_approval
    if fate == "fail":
        return found.outcome == "FAILED"
    # Others must not stall on an approval nobody will answer, nor fail by surprise.
    return not found.has_approval and found.outcome == "COMPLETED"


def _task_id(rng: random.Random, entry: Entry, title: str) -> str:
    """A deterministic task id whose script has the fate the entry asks for."""
    while True:
        candidate = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if _fits(entry.fate, script_for(candidate, title, entry.task_type)):
            return candidate


def seed_backlog(space: AgentSpace, now: dt.datetime, *, with_approval: bool) -> int:
    """Replay the catalogue's history into `space` up to `now`; returns the task count."""
    rng = random.Random(f"demo:{space.name}")
    services = SPACE_SERVICES.get(space.name, ("payments-api", "checkout-web", "orders-worker"))
    names = {
        "svc0": services[0],
        "svc1": services[1],
        "svc2": services[2],
        "db": f"{services[0].split('-')[0]}-db-prod-1",
        "queue": f"{services[2].split('-')[0]}-events",
    }
    events: list[tuple[dt.datetime, int, Callable[[dt.datetime], None]]] = []
    last_reference: dict[str, Any] | None = None
    for index, entry in enumerate(CATALOGUE):
        if entry.fate == "approval" and not with_approval:
            entry = Entry(
                3 * HOUR + 30 * MINUTE,
                "complete",
                entry.task_type,
                entry.priority,
                entry.title,
                entry.system,
            )
        title = entry.title.format_map(names)
        task_id = _task_id(rng, entry, title)
        if entry.fate == "duplicate":
            reference = dict(last_reference or {}, title=title)
        elif entry.system:
            reference = _reference(entry.system, rng, title, _reference_key(entry.system, rng))
            last_reference = reference
        else:
            reference = None
        # Recent entries are meant to be live now: their age is script time, so they are
        # still running at any pace. Older ones are history: plain wall-clock ages.
        recent = entry.ago < HOUR
        at = lifecycle.later(now, -entry.ago) if recent else now - dt.timedelta(seconds=entry.ago)
        if entry.fate == "approval":
            # Created just long enough ago to have asked for approval 40 s ago.
            found = script_for(task_id, title, entry.task_type)
            request = next(s for s in found.steps if s.record_type == "APPROVAL_REQUEST")
            at = lifecycle.later(now, -(found.start_delay + request.offset + 40))
        events.append((at, index, _creator(space, entry, task_id, title, reference)))
        if entry.fate in ("skip", "cancel"):
            # Cancel while the investigation runs; skip after a short look at the triage card.
            decided = (
                lifecycle.later(at, 40) if entry.fate == "cancel" else at + dt.timedelta(minutes=4)
            )
            events.append((decided, index, _decider(space, task_id, entry)))
    for at, _, action in sorted(events, key=lambda e: (e[0], e[1])):
        lifecycle.advance(space.pk, at)
        action(at)
    lifecycle.advance(space.pk, now)
    if with_approval:
        _queue_message(space, now)
    return len(CATALOGUE)


def _creator(
    space: AgentSpace, entry: Entry, task_id: str, title: str, reference: dict[str, Any] | None
) -> Callable[[dt.datetime], None]:
    detected = entry.fate in ("triage", "skip")

    def create(at: dt.datetime) -> None:
        metadata = (
            {"source": "AGENT_DETECTED", "signal": "CloudWatch alarm state change"}
            if detected
            else {"source": f"{reference['system']} webhook" if reference else "CONSOLE"}
        )
        tasks.create_task(
            space,
            task_type=entry.task_type,
            title=title,
            priority=entry.priority,
            at=at,
            description=f"{title}. Opened from the on-call rotation's alert." if reference else "",
            reference=reference,
            status="PENDING_TRIAGE" if detected else "PENDING_START",
            metadata=metadata,
            task_id=task_id,
        )

    return create


def _decider(space: AgentSpace, task_id: str, entry: Entry) -> Callable[[dt.datetime], None]:
    def decide(at: dt.datetime) -> None:
        task = BacklogTask.objects.get(pk=task_id)
        tasks.update_status(task, "SKIPPED" if entry.fate == "skip" else "CANCELED", at)

    return decide


def _queue_message(space: AgentSpace, now: dt.datetime) -> None:
    """A question typed while the agent waits for approval: ListPendingMessages shows it."""
    task = BacklogTask.objects.filter(space=space, status="PENDING_CUSTOMER_APPROVAL").first()
    if task is None:
        return
    execution = Execution.objects.get(pk=task.execution_id)
    execution.pending_messages = [
        {
            "messageId": str(uuid.UUID(int=random.Random(task.task_id).getrandbits(128))),
            "message": {
                "userMessage": [
                    {
                        "text": "Before restarting, can you confirm the "
                        "canary in us-east-1a is also affected?"
                    }
                ]
            },
            "createdAt": (now - dt.timedelta(seconds=20)).isoformat(),
            "user": {"userId": "AROA3XFRBF23EXAMPLE:maria.lopez", "userType": "IAM"},
        }
    ]
    execution.save(update_fields=["pending_messages"])


# --- the large space --------------------------------------------------------------------------

_LARGE_TITLES = (
    "Elevated 5xx on {svc}",
    "p99 latency above SLO on {svc}",
    "RDS connections high on {svc}-db",
    "Consumer lag growing on {svc} queue",
    "Memory climbing on {svc} tasks",
    "TLS certificate for {svc} expiring",
    "Error budget burn on {svc}",
)
_LARGE_SERVICES = (
    "payments-api",
    "checkout-web",
    "ledger-service",
    "auth-gateway",
    "orders-worker",
    "search-api",
    "inventory-api",
    "notification-worker",
)
_LARGE_STATUS = (
    ("FINISHED", 55),
    ("PENDING_TRIAGE", 25),
    ("CANCELED", 6),
    ("SKIPPED", 6),
    ("LINKED", 8),
)
_LARGE_PRIORITY = (("CRITICAL", 5), ("HIGH", 20), ("MEDIUM", 40), ("LOW", 25), ("MINIMAL", 10))
_LARGE_TYPES = (
    ("INVESTIGATION", 75),
    ("EVALUATION", 15),
    ("RELEASE_READINESS_REVIEW", 5),
    ("CODE_CHANGE_RISK_ANALYSIS", 5),
)


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def seed_large(space: AgentSpace, count: int, now: dt.datetime) -> int:
    """`count` tasks spread over the last 30 days, finished ones with their full journals."""
    rng = random.Random(f"large:{space.pk}:{count}")
    span = 30 * DAY
    moments = sorted(now - dt.timedelta(seconds=rng.uniform(600, span)) for _ in range(count))
    rows: list[BacklogTask] = []
    executions: list[Execution] = []
    records: list[JournalRecord] = []
    approvals: list[Approval] = []
    primaries: list[BacklogTask] = []
    for at in moments:
        task_type = _pick(rng, _LARGE_TYPES)
        priority = _pick(rng, _LARGE_PRIORITY)
        fate = _pick(rng, _LARGE_STATUS)
        title = rng.choice(_LARGE_TITLES).format(svc=rng.choice(_LARGE_SERVICES))
        task = BacklogTask(
            task_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            space=space,
            title=title,
            task_type=task_type,
            priority=priority,
            priority_rank=tasks.PRIORITY_RANK[priority],
            status=fate,
            metadata={"source": "LOAD_TEST"},
            created_at=at,
            updated_at=at,
        )
        if fate == "LINKED" and primaries:
            primary = rng.choice(primaries[-50:])
            task.primary_task_id = primary.task_id
            task.status_reason = f"Linked to task {primary.task_id}."
            primary.has_linked_tasks = True
        elif fate == "LINKED":
            task.status = "PENDING_TRIAGE"
        if fate == "FINISHED":
            _replay(task, executions, records, approvals)
        if task_type == "INVESTIGATION" and task.status != "LINKED":
            primaries.append(task)
        rows.append(task)
    BacklogTask.objects.bulk_create(rows, batch_size=500)
    Execution.objects.bulk_create(executions, batch_size=500)
    Approval.objects.bulk_create(approvals, batch_size=500)
    JournalRecord.objects.bulk_create(records, batch_size=1000)
    return len(rows)


def _replay(
    task: BacklogTask,
    executions: list[Execution],
    records: list[JournalRecord],
    approvals: list[Approval],
) -> None:
    """Write a whole script at once: what the lifecycle would have written, without waiting
    (an approval in it is answered APPROVED one minute after it was asked)."""
    found = script_for(task.task_id, task.title, task.task_type)
    start = lifecycle.later(task.created_at, found.start_delay)
    execution = Execution(
        execution_id=str(uuid.uuid4()),
        space_id=task.space_id,
        task=task,
        status="RUNNING",
        agent_sub_task=lifecycle.SUB_TASKS[task.task_type],
        agent_type="DEVOPS_AGENT",
        created_at=start,
        updated_at=start,
    )
    shift = 0.0
    at = start
    for step in found.steps:
        at = lifecycle.later(start, step.offset + shift)
        content = step.content
        if step.record_type == "APPROVAL_REQUEST":
            approval_id = uuid7(at, random.Random(task.task_id))
            content = {
                "approvalId": approval_id,
                **content,
                "expiresAt": lifecycle.iso(lifecycle.later(at, lifecycle.APPROVAL_TIMEOUT)),
            }
            answered = lifecycle.later(at, MINUTE)
            approvals.append(
                Approval(
                    approval_id=approval_id,
                    space_id=task.space_id,
                    task=task,
                    execution=execution,
                    tool=content["tool"],
                    arguments=content["arguments"],
                    status="APPROVED",
                    decision_reason="Approved by on-call",
                    requested_at=at,
                    answered_at=answered,
                )
            )
            records.append(lifecycle.record(execution, step.record_type, content, at))
            records.append(
                lifecycle.record(
                    execution,
                    "APPROVAL_RESPONSE",
                    {
                        "approvalId": approval_id,
                        "action": "APPROVED",
                        "reason": "Approved by on-call",
                    },
                    answered,
                )
            )
            shift += MINUTE
            continue
        records.append(lifecycle.record(execution, step.record_type, content, at, step.user))
    execution.status = lifecycle.EXECUTION_STATUS[found.outcome]
    execution.updated_at = at
    task.status = found.outcome
    if found.outcome == "FAILED":
        task.status_reason = "The agent could not read a data source it needs."
    task.execution_id = execution.execution_id
    task.version = 3  # created, started, finished
    task.updated_at = at
    executions.append(execution)
