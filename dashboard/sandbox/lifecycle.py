"""The backlog's life over wall-clock time, computed lazily and deterministically.

Nothing runs in the background. Every call that reads or writes a space first calls
`advance(space_id, now)`, which replays, in time order, everything that was due since the last
call: tasks start, their scripts (`scripts.py`) write journal records at their offsets, tasks
finish. A test freezes and moves the clock (time-machine) and sees exactly what a patient user
would have seen.

Status machine driven here:

    PENDING_START --(start delay, a free slot)--> IN_PROGRESS (execution RUNNING)
    IN_PROGRESS --(script step APPROVAL_REQUEST)--> PENDING_CUSTOMER_APPROVAL (execution WAITING)
    PENDING_CUSTOMER_APPROVAL --(UpdateApprovalAction)--> IN_PROGRESS
    PENDING_CUSTOMER_APPROVAL --(no answer within APPROVAL_TIMEOUT)--> TIMED_OUT
    IN_PROGRESS --(last script step)--> COMPLETED (execution STOPPED) | FAILED

At most `MAX_RUNNING` investigations of a space hold a slot (IN_PROGRESS or waiting for an
approval: the agent keeps its context while it waits); further ones wait in PENDING_START and
start at the moment a slot frees. Other task types are short and take no slot.

Pace: script offsets are seconds at `settings.SANDBOX_PACE` 1.0; a pace of 10 runs ten times
faster. Cost: when nothing is due, `advance` is one indexed query (`next_due_at <= now`).
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
import uuid
from typing import Any

from django.conf import settings
from django.db.models import Exists, Q

from . import prevention
from .models import AgentSpace, Approval, BacklogTask, Execution, JournalRecord
from .scripts import Script, materialize, script_for, uuid7

MAX_RUNNING = 3
APPROVAL_TIMEOUT = 3600.0  # seconds at pace 1.0 before an unanswered approval times out
SLOT_STATUSES = ("IN_PROGRESS", "PENDING_CUSTOMER_APPROVAL")
TERMINAL = frozenset({"COMPLETED", "FAILED", "TIMED_OUT", "CANCELED", "SKIPPED"})
EXECUTION_STATUS = {
    "COMPLETED": "STOPPED",
    "FAILED": "FAILED",
    "TIMED_OUT": "TIMED_OUT",
    "CANCELED": "CANCELED",
}
SUB_TASKS = {
    "INVESTIGATION": "ROOT_CAUSE_ANALYSIS",
    "EVALUATION": "EVALUATION",
    "RELEASE_READINESS_REVIEW": "RELEASE_READINESS_REVIEW",
    "RELEASE_TESTING": "RELEASE_TESTING",
    "CODE_CHANGE_RISK_ANALYSIS": "CODE_CHANGE_RISK_ANALYSIS",
}


def pace() -> float:
    value = float(getattr(settings, "SANDBOX_PACE", 1.0))
    return value if value > 0 else 1.0


def later(at: dt.datetime, seconds: float) -> dt.datetime:
    """`at` plus `seconds` of script time, at the configured pace."""
    return at + dt.timedelta(seconds=seconds / pace())


def script(task: BacklogTask) -> Script:
    return script_for(task.task_id, task.title, task.task_type)


def takes_slot(task: BacklogTask) -> bool:
    return task.task_type == "INVESTIGATION"


def touch(task: BacklogTask, at: dt.datetime, **changes: Any) -> None:
    """Apply visible changes to a task: every change is one more version."""
    for name, value in changes.items():
        setattr(task, name, value)
    task.version += 1
    task.updated_at = at


def record(
    execution: Execution,
    record_type: str,
    content: dict[str, Any],
    at: dt.datetime,
    user: dict[str, str] | None = None,
) -> JournalRecord:
    """An unsaved journal record (callers bulk-create them)."""
    return JournalRecord(
        record_id=str(uuid.uuid4()),
        space_id=execution.space_id,
        execution=execution,
        record_type=record_type,
        content=materialize(content, at),
        user_reference=user,
        created_at=at,
    )


def advance(space_id: str, now: dt.datetime) -> None:
    """Bring the space's backlog up to `now`."""
    tasks_due = Q(Exists(BacklogTask.objects.filter(space_id=space_id, next_due_at__lte=now)))
    # One query, whatever is due: tasks, scheduled goal evaluations, revisions.
    if not AgentSpace.objects.filter(
        tasks_due | prevention.due(space_id, now), pk=space_id
    ).exists():
        return
    # Serialize concurrent advances of one space (PostgreSQL; SQLite writers are serialized
    # by its IMMEDIATE transactions already), then look again: another caller may have won.
    AgentSpace.objects.select_for_update().filter(pk=space_id).exists()
    # Scheduled goal evaluations file their tasks first; the replay below then runs them.
    prevention.advance(space_id, now)
    _Run(space_id, now).run()


def queue_next(space_id: str, at: dt.datetime) -> None:
    """A slot freed outside `advance` (a cancellation): let the oldest waiting task start."""
    waiting = (
        BacklogTask.objects.filter(
            space_id=space_id,
            status="PENDING_START",
            task_type="INVESTIGATION",
            next_due_at__isnull=True,
        )
        .order_by("created_at", "task_id")
        .first()
    )
    if waiting is not None:
        waiting.next_due_at = at
        waiting.save(update_fields=["next_due_at"])


class _Run:
    """One advance: a time-ordered replay of the due events of a space."""

    def __init__(self, space_id: str, now: dt.datetime) -> None:
        self.space_id = space_id
        self.now = now
        self.records: list[JournalRecord] = []
        self.dirty_tasks: dict[str, BacklogTask] = {}
        self.dirty_executions: dict[str, Execution] = {}
        self.new_approvals: list[Approval] = []
        self.running = BacklogTask.objects.filter(
            space_id=space_id, task_type="INVESTIGATION", status__in=SLOT_STATUSES
        ).count()
        self.blocked: list[BacklogTask] | None = None  # loaded when a slot first frees
        self.heap: list[tuple[dt.datetime, dt.datetime, str, BacklogTask]] = []

    def run(self) -> None:
        due = list(BacklogTask.objects.filter(space_id=self.space_id, next_due_at__lte=self.now))
        ids = [t.execution_id for t in due if t.execution_id]
        self.executions = {e.execution_id: e for e in Execution.objects.filter(pk__in=ids)}
        for task in due:
            self._push(task)
        while self.heap:
            at, _, _, task = heapq.heappop(self.heap)
            if task.status == "PENDING_START":
                self._try_start(task, at)
            elif task.status == "IN_PROGRESS":
                self._step(task, at)
            elif task.status == "PENDING_CUSTOMER_APPROVAL":
                self._time_out(task, at)
            else:  # nothing to do in this status (should not be scheduled)
                task.next_due_at = None
                self.dirty_tasks[task.task_id] = task
        self._save()

    # -- scheduling ---------------------------------------------------------------------------

    def _push(self, task: BacklogTask) -> None:
        if task.next_due_at is not None and task.next_due_at <= self.now:
            heapq.heappush(self.heap, (task.next_due_at, task.created_at, task.task_id, task))

    def _blocked(self) -> list[BacklogTask]:
        if self.blocked is None:
            self.blocked = list(
                BacklogTask.objects.filter(
                    space_id=self.space_id,
                    status="PENDING_START",
                    task_type="INVESTIGATION",
                    next_due_at__isnull=True,
                )
            )
        return self.blocked

    def _free_slot(self, at: dt.datetime) -> None:
        self.running -= 1
        blocked = self._blocked()
        if blocked:
            # First come, first served; it starts when the slot freed, not when we noticed.
            first = min(blocked, key=lambda t: (t.created_at, t.task_id))
            blocked.remove(first)
            self._start(first, at)

    # -- transitions --------------------------------------------------------------------------

    def _try_start(self, task: BacklogTask, at: dt.datetime) -> None:
        if takes_slot(task) and self.running >= MAX_RUNNING:
            task.next_due_at = None  # waits for a slot; costs nothing until one frees
            self.dirty_tasks[task.task_id] = task
            self._blocked().append(task)
            return
        self._start(task, at)

    def _start(self, task: BacklogTask, at: dt.datetime) -> None:
        if takes_slot(task):
            self.running += 1
        execution = Execution(
            execution_id=str(uuid.uuid4()),
            space_id=task.space_id,
            task=task,
            status="RUNNING",
            agent_sub_task=SUB_TASKS.get(task.task_type, task.task_type),
            agent_type="DEVOPS_AGENT",
            created_at=at,
            updated_at=at,
        )
        execution.save(force_insert=True)
        self.executions[execution.execution_id] = execution
        touch(task, at, status="IN_PROGRESS", execution_id=execution.execution_id)
        task.script_step = 0
        task.next_due_at = later(at, script(task).steps[0].offset)
        self.dirty_tasks[task.task_id] = task
        self._push(task)

    def _step(self, task: BacklogTask, at: dt.datetime) -> None:
        steps = script(task).steps
        step = steps[task.script_step]
        execution = self.executions[task.execution_id]
        self._deliver_messages(execution, at)
        content = step.content
        if step.if_rejected is not None and _last_approval_rejected(task):
            content = step.if_rejected
        self.dirty_tasks[task.task_id] = task
        self.dirty_executions[execution.execution_id] = execution
        execution.updated_at = at
        if step.record_type == "APPROVAL_REQUEST":
            approval = self._request_approval(task, execution, content, at)
            # The request says when it lapses (the service's timeout below), so a console can
            # show the deadline and refuse an answer after it.
            content = {
                "approvalId": approval.approval_id,
                **content,
                "expiresAt": iso(later(at, APPROVAL_TIMEOUT)),
            }
            self.records.append(record(execution, step.record_type, content, at, step.user))
            execution.status = "WAITING"
            touch(task, at, status="PENDING_CUSTOMER_APPROVAL")
            task.script_step += 1
            task.next_due_at = later(at, APPROVAL_TIMEOUT)
            self._push(task)
            return
        self.records.append(record(execution, step.record_type, content, at, step.user))
        if step.outcome:
            self._finish(task, execution, step.outcome, at)
            return
        task.script_step += 1
        task.next_due_at = later(at, steps[task.script_step].offset - step.offset)
        self._push(task)

    def _finish(
        self, task: BacklogTask, execution: Execution, outcome: str, at: dt.datetime
    ) -> None:
        execution.status = EXECUTION_STATUS[outcome]
        execution.updated_at = at
        touch(task, at, status=outcome, next_due_at=None)
        if outcome == "FAILED":
            task.status_reason = "The agent could not read a data source it needs."
            task.support_metadata = {
                "errorCode": "AccessDeniedException",
                "failedStep": task.script_step,
                "executionId": execution.execution_id,
            }
        if takes_slot(task):
            self._free_slot(at)
        if task.task_type == "EVALUATION":
            prevention.evaluation_finished(task, outcome, at)  # files its recommendations

    def _time_out(self, task: BacklogTask, at: dt.datetime) -> None:
        execution = self.executions[task.execution_id]
        Approval.objects.filter(task=task, status="PENDING").update(status="REVOKED")
        self.records.append(
            record(
                execution,
                "UPDATE",
                {
                    "text": "No answer to the approval request; the investigation timed out.",
                    "status": "TIMED_OUT",
                },
                at,
            )
        )
        self.dirty_tasks[task.task_id] = task
        self.dirty_executions[execution.execution_id] = execution
        task.status_reason = "The approval request was not answered in time."
        self._finish(task, execution, "TIMED_OUT", at)

    def _request_approval(
        self, task: BacklogTask, execution: Execution, content: dict[str, Any], at: dt.datetime
    ) -> Approval:
        rng = random.Random(f"{task.task_id}:approval:{task.script_step}")
        approval = Approval(
            approval_id=uuid7(at, rng),
            space_id=task.space_id,
            task=task,
            execution=execution,
            tool=content["tool"],
            arguments=content["arguments"],
            ttl_allowed=content["ttlSecondsAllowed"],
            single_use_allowed=content["singleUseAllowed"],
            requested_at=at,
        )
        self.new_approvals.append(approval)
        return approval

    def _deliver_messages(self, execution: Execution, at: dt.datetime) -> None:
        """Queued user messages reach the agent at its next step, as USER_REQUEST records."""
        if not execution.pending_messages:
            return
        keep = []
        for message in execution.pending_messages:
            sent = dt.datetime.fromisoformat(message["createdAt"])
            if sent > at:
                keep.append(message)
                continue
            text = " ".join(b.get("text", "") for b in message["message"].get("userMessage", []))
            self.records.append(
                record(execution, "USER_REQUEST", {"text": text}, sent, message.get("user"))
            )
        execution.pending_messages = keep

    def _save(self) -> None:
        Approval.objects.bulk_create(self.new_approvals)
        for execution in self.dirty_executions.values():
            execution.save(update_fields=["status", "updated_at", "pending_messages"])
        for task in self.dirty_tasks.values():
            task.save()
        self.records.sort(key=lambda r: r.created_at)
        JournalRecord.objects.bulk_create(self.records, batch_size=500)


def iso(moment: dt.datetime) -> str:
    """A moment as the journal writes times: UTC, whole seconds, "Z"."""
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _last_approval_rejected(task: BacklogTask) -> bool:
    last = Approval.objects.filter(task=task).order_by("-requested_at").first()
    return last is not None and last.status == "REJECTED"
