"""Prevention rules the service enforces, and their life over wall-clock time.

Recommendations come from evaluations: when an EVALUATION task completes (`evaluation_finished`,
called by the backlog lifecycle), the agent files one to three recommendations with an
agent-ready spec (`prevention_specs.py`); a goal's evaluation also stamps the goal. Goals with an
enabled schedule file an EVALUATION task each time the schedule comes round (`advance`, called
first thing by `lifecycle.advance`, so it runs lazily when the space is next read, like the
backlog). An operator who sends a recommendation back with more context puts it in
UPDATE_IN_PROGRESS; the agent revises the spec and proposes it again REVISE_SECONDS later.

Recommendation statuses (UpdateRecommendation):

    PROPOSED ──► ACCEPTED ──► COMPLETED
       │  │         │ └─────► CLOSED
       │  │         └───────► UPDATE_IN_PROGRESS (with additionalContext)
       │  ├─► REJECTED, CLOSED
       │  └─► UPDATE_IN_PROGRESS (with additionalContext) ──(the agent)──► PROPOSED
    REJECTED, CLOSED, COMPLETED are final (ConflictException); PROPOSED is the agent's to set.

Every change raises the version by one; earlier versions stay readable (recommendationVersion).
Goals: UpdateGoal changes only the evaluation schedule's state; every change to a goal (its
schedule, an evaluation starting or ending) raises its version.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

from django.db.models import Exists, Q

from dashboard.lib import schedule as schedules

from .models import AgentSpace, BacklogTask, Goal, Recommendation, Trigger
from .prevention_specs import draft, revise
from .wire import SandboxError

REVISE_SECONDS = 45.0  # script seconds between more context and the revised proposal
PRIORITY_RANK = {"HIGH": 3, "MEDIUM": 2, "LOW": 1}
FINAL = frozenset({"REJECTED", "CLOSED", "COMPLETED"})
ALLOWED = {
    "PROPOSED": {"ACCEPTED", "REJECTED", "CLOSED", "UPDATE_IN_PROGRESS"},
    "ACCEPTED": {"COMPLETED", "CLOSED", "UPDATE_IN_PROGRESS"},
}
TRIGGER_TYPES = ("TIME_BASED",)
TRIGGER_STATUSES = ("Active", "Inactive")
MAX_TRIGGERS = 25  # per agent space
_TOKENS_KEPT = 20


def _lifecycle() -> Any:
    from . import lifecycle  # lifecycle imports this module

    return lifecycle


def not_found(kind: str, ident: str) -> SandboxError:
    return SandboxError("ResourceNotFoundException", f"{kind} {ident} was not found")


def _remember(tokens: dict[str, Any], token: str, value: Any) -> dict[str, Any]:
    kept = dict(list(tokens.items())[-(_TOKENS_KEPT - 1) :])
    kept[token] = value
    return kept


def _replayed(tokens: dict[str, Any], token: str, value: Any, what: str) -> bool:
    """True when `token` already made this change (answer as before, change nothing); a
    ConflictException when it made a different one."""
    if not token or token not in tokens:
        return False
    if tokens[token] != value:
        raise SandboxError(
            "ConflictException",
            f"The clientToken was already used for a different change of this {what}.",
        )
    return True


# --- recommendations -------------------------------------------------------------------------


def recommendation_shape(rec: Recommendation, space_arn: str, ranks: dict[str, int]) -> dict:
    """The model's Recommendation structure."""
    return {
        "agentSpaceArn": space_arn,
        "recommendationId": rec.recommendation_id,
        "taskId": rec.task_id,
        "goalId": rec.goal_id or None,
        "title": rec.title,
        "content": {"summary": rec.summary, "spec": rec.spec},
        "status": rec.status,
        "priority": rec.priority,
        "goalVersion": rec.goal_version,
        "additionalContext": rec.additional_context or None,
        "rankPosition": ranks.get(rec.recommendation_id),
        "rankedAt": ranks.get("#at"),
        "createdAt": rec.created_at,
        "updatedAt": rec.updated_at,
        "version": rec.version,
    }


def ranks(space_id: str) -> dict[str, Any]:
    """Rank positions of the space's open (PROPOSED) recommendations: highest priority
    first, then oldest first; "#at" is when the ranking last changed."""
    rows = list(
        Recommendation.objects.filter(space_id=space_id, status="PROPOSED")
        .order_by("-priority_rank", "created_at", "recommendation_id")
        .values_list("recommendation_id", "updated_at")
    )
    out: dict[str, Any] = {rec_id: index + 1 for index, (rec_id, _) in enumerate(rows)}
    if rows:
        out["#at"] = max(updated for _, updated in rows)
    return out


def _snapshot(rec: Recommendation) -> dict[str, Any]:
    """The current version as stored in `history` (timestamps as ISO text)."""
    return {
        "version": rec.version,
        "title": rec.title,
        "summary": rec.summary,
        "spec": rec.spec,
        "status": rec.status,
        "priority": rec.priority,
        "goalVersion": rec.goal_version,
        "additionalContext": rec.additional_context,
        "updatedAt": rec.updated_at.isoformat(),
    }


def at_version(rec: Recommendation, version: int) -> Recommendation:
    """An unsaved copy of `rec` as it was at `version`."""
    if version == rec.version:
        return rec
    for old in rec.history:
        if old.get("version") == version:
            copy = Recommendation(**{f.attname: getattr(rec, f.attname) for f in rec._meta.fields})
            copy.version = version
            copy.title = old["title"]
            copy.summary = old["summary"]
            copy.spec = old["spec"]
            copy.status = old["status"]
            copy.priority = old["priority"]
            copy.goal_version = old.get("goalVersion")
            copy.additional_context = old.get("additionalContext") or ""
            copy.updated_at = dt.datetime.fromisoformat(old["updatedAt"])
            return copy
    raise SandboxError(
        "ResourceNotFoundException",
        f"Version {version} of recommendation {rec.recommendation_id} was not found",
    )


def _change(rec: Recommendation, at: dt.datetime, **changes: Any) -> None:
    """Apply visible changes: the old version goes to history, the version rises by one."""
    rec.history = [*rec.history, _snapshot(rec)][-50:]
    for name, value in changes.items():
        setattr(rec, name, value)
    rec.version += 1
    rec.updated_at = at


def get_recommendation(space: AgentSpace, rec_id: str) -> Recommendation:
    rec = Recommendation.objects.filter(space=space, pk=rec_id).first()
    if rec is None:
        raise not_found("Recommendation", rec_id)
    return rec


def update_recommendation(
    rec: Recommendation,
    *,
    at: dt.datetime,
    status: str | None = None,
    additional_context: str | None = None,
    client_token: str = "",
) -> Recommendation:
    """A caller's change of status and/or additional context, by the service's rules."""
    asked = [status, additional_context]
    if _replayed(rec.update_tokens, client_token, asked, "recommendation"):
        return rec
    context = (additional_context or "").strip()
    if additional_context is not None and not context:
        raise SandboxError("ValidationException", "additionalContext must not be empty.")
    if status is None and not context:
        return rec  # nothing asked for
    if rec.status == "UPDATE_IN_PROGRESS":
        raise SandboxError(
            "ConflictException",
            f"Recommendation {rec.recommendation_id} is being revised by the agent; "
            "try again when it is proposed again.",
        )
    if rec.status in FINAL:
        raise SandboxError(
            "ConflictException",
            f"Recommendation {rec.recommendation_id} is {rec.status}; it cannot change any more.",
        )
    if context:
        if status not in (None, "UPDATE_IN_PROGRESS"):
            raise SandboxError(
                "ValidationException",
                "additionalContext sends a recommendation back to the agent: give it alone or "
                "with status UPDATE_IN_PROGRESS.",
            )
        status = "UPDATE_IN_PROGRESS"
    elif status == "UPDATE_IN_PROGRESS":
        raise SandboxError(
            "ValidationException",
            "Status UPDATE_IN_PROGRESS needs additionalContext: tell the agent what to change.",
        )
    assert status is not None
    if status == rec.status:
        return rec
    allowed = ALLOWED.get(rec.status, set())
    if status not in allowed:
        raise SandboxError(
            "ValidationException",
            f"Cannot change recommendation {rec.recommendation_id} from {rec.status} to "
            f"{status}. Allowed: {', '.join(sorted(allowed)) or 'none'}.",
        )
    if status == "UPDATE_IN_PROGRESS":
        _change(rec, at, status=status, additional_context=context)
        rec.revise_due_at = _lifecycle().later(at, REVISE_SECONDS)
    else:
        _change(rec, at, status=status)
    if client_token:
        rec.update_tokens = _remember(rec.update_tokens, client_token, asked)
    rec.save()
    return rec


def _revised(rec: Recommendation, at: dt.datetime) -> None:
    """The agent's revision after more context: a new spec, proposed again."""
    revision = rec.revisions + 1
    _change(
        rec,
        at,
        status="PROPOSED",
        spec=revise(rec.spec, rec.additional_context, revision),
        summary=rec.summary if rec.summary.startswith("Revised: ") else f"Revised: {rec.summary}",
        revisions=revision,
    )
    rec.revise_due_at = None


def file_recommendations(
    task: BacklogTask,
    at: dt.datetime,
    goal: Goal | None = None,
    count: int | None = None,
    *,
    skip_open: bool = True,
) -> list[Recommendation]:
    """The recommendations an evaluation ends with (saved). Like the agent, it does not
    propose again what is still open (`skip_open`; tests that need an exact count turn it
    off)."""
    rng = random.Random(f"{task.task_id}:ids")
    still_open = (
        Recommendation.objects.filter(
            space_id=task.space_id, status__in=("PROPOSED", "ACCEPTED", "UPDATE_IN_PROGRESS")
        ).values_list("title", flat=True)
        if skip_open
        else []
    )
    made = []
    for offset, found in enumerate(draft(task.task_id, task.title, count, frozenset(still_open))):
        made.append(
            Recommendation(
                recommendation_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                space_id=task.space_id,
                task_id=task.task_id,
                goal_id=goal.goal_id if goal else "",
                goal_version=goal.version if goal else None,
                title=found.title[:400],
                summary=found.summary,
                spec=found.spec,
                priority=found.priority,
                priority_rank=PRIORITY_RANK[found.priority],
                # Written one after the other, as the agent files them.
                created_at=at + dt.timedelta(milliseconds=offset),
                updated_at=at + dt.timedelta(milliseconds=offset),
            )
        )
    Recommendation.objects.bulk_create(made)
    return made


# --- goals -----------------------------------------------------------------------------------


def goal_shape(goal: Goal, space_arn: str) -> dict[str, Any]:
    """The model's Goal structure."""
    out: dict[str, Any] = {
        "agentSpaceArn": space_arn,
        "goalId": goal.goal_id,
        "title": goal.title,
        "content": {"description": goal.description, "objectives": goal.objectives},
        "status": goal.status,
        "goalType": goal.goal_type,
        "createdAt": goal.created_at,
        "updatedAt": goal.updated_at,
        "lastEvaluatedAt": goal.last_evaluated_at,
        "lastTaskId": goal.last_task_id or None,
        "lastSuccessfulTaskId": goal.last_successful_task_id or None,
        "version": goal.version,
    }
    if goal.schedule_state:
        out["evaluationSchedule"] = {
            "state": goal.schedule_state,
            "expression": goal.schedule_expression or None,
        }
    return out


def _touch_goal(goal: Goal, at: dt.datetime, **changes: Any) -> None:
    for name, value in changes.items():
        setattr(goal, name, value)
    goal.version += 1
    goal.updated_at = at


def _next_evaluation(goal: Goal, after: dt.datetime) -> dt.datetime | None:
    """When the schedule next comes round after `after` (None: it does not run)."""
    if goal.schedule_state != "ENABLED" or goal.status != "ACTIVE":
        return None
    expression = goal.schedule_expression
    try:
        parsed = schedules.parse(expression)
    except schedules.ScheduleError:
        return None
    if parsed.kind == "rate":
        # Rates count from the goal's last evaluation (or from now when it never ran).
        anchor = goal.next_evaluation_at or after
        return schedules.next_run(expression, after, anchor=anchor)
    return schedules.next_run(expression, after)


def create_goal(
    space: AgentSpace,
    *,
    title: str,
    description: str,
    objectives: str,
    goal_type: str,
    at: dt.datetime,
    status: str = "ACTIVE",
    schedule_state: str = "",
    expression: str = "",
    first_evaluation: dt.datetime | None = None,
    goal_id: str | None = None,
) -> Goal:
    """A goal as the service (or a person in the agent's web app) defines it."""
    goal = Goal(
        goal_id=goal_id or str(uuid.uuid4()),
        space=space,
        title=title,
        description=description,
        objectives=objectives,
        goal_type=goal_type,
        status=status,
        schedule_state=schedule_state,
        schedule_expression=expression,
        created_at=at,
        updated_at=at,
    )
    goal.next_evaluation_at = first_evaluation or _next_evaluation(goal, at)
    goal.save(force_insert=True)
    return goal


def get_goal(space: AgentSpace, goal_id: str) -> Goal:
    goal = Goal.objects.filter(space=space, pk=goal_id).first()
    if goal is None:
        raise not_found("Goal", goal_id)
    return goal


def update_goal_schedule(
    goal: Goal, state: str | None, at: dt.datetime, client_token: str = ""
) -> Goal:
    """UpdateGoal: enable or disable the evaluation schedule (nothing else may change)."""
    if state is None:
        return goal
    if _replayed(goal.update_tokens, client_token, state, "goal"):
        return goal
    if goal.status == "COMPLETE":
        raise SandboxError(
            "ValidationException",
            f"Goal {goal.goal_id} is complete: its evaluation schedule cannot change.",
        )
    if not goal.schedule_state:
        raise SandboxError(
            "ValidationException", f"Goal {goal.goal_id} has no evaluation schedule."
        )
    if state != goal.schedule_state:
        _touch_goal(goal, at, schedule_state=state)
        goal.next_evaluation_at = None
        goal.next_evaluation_at = _next_evaluation(goal, at)
    if client_token:
        goal.update_tokens = _remember(goal.update_tokens, client_token, state)
    goal.save()
    return goal


def _evaluate(goal: Goal, at: dt.datetime) -> None:
    """The schedule came round: file the goal's evaluation task."""
    from . import tasks

    task = tasks.create_task(
        goal.space,
        task_type="EVALUATION",
        title=f"Evaluate goal: {goal.title}"[:400],
        priority="MEDIUM",
        at=at,
        description=f"Scheduled evaluation of the goal “{goal.title}”.\n\n"
        f"Objectives: {goal.objectives}",
        metadata={"source": "GOAL_SCHEDULE", "goalId": goal.goal_id},
        task_id=str(
            uuid.UUID(
                int=random.Random(f"{goal.goal_id}:{at.isoformat()}").getrandbits(128), version=4
            )
        ),
    )
    _touch_goal(goal, at, last_task_id=task.task_id)


def evaluation_finished(task: BacklogTask, outcome: str, at: dt.datetime) -> None:
    """An EVALUATION task ended (called by the backlog lifecycle): on success its
    recommendations are filed; a goal's evaluation also updates the goal."""
    goal_id = (task.metadata or {}).get("goalId") if isinstance(task.metadata, dict) else None
    goal = Goal.objects.filter(space_id=task.space_id, pk=goal_id).first() if goal_id else None
    if goal is not None:
        changes: dict[str, Any] = {"last_task_id": task.task_id}
        if outcome == "COMPLETED":
            changes.update(last_evaluated_at=at, last_successful_task_id=task.task_id)
        _touch_goal(goal, at, **changes)
        goal.save()
    if outcome == "COMPLETED":
        file_recommendations(task, at, goal)


# --- the lazy lifecycle ----------------------------------------------------------------------


def due(space_id: str, now: dt.datetime) -> Q:
    """ "Is a goal evaluation or a revision due?", for `lifecycle.advance`'s one query."""
    goals = Goal.objects.filter(space_id=space_id, next_evaluation_at__lte=now)
    revisions = Recommendation.objects.filter(space_id=space_id, revise_due_at__lte=now)
    return Q(Exists(goals)) | Q(Exists(revisions))


def advance(space_id: str, now: dt.datetime) -> None:
    """Bring the space's goals and recommendations up to `now` (one indexed query each when
    nothing is due). Called by `lifecycle.advance` before the backlog moves on, so the
    evaluation tasks filed here run the same way as every other task."""
    due_goals = list(
        Goal.objects.filter(space_id=space_id, next_evaluation_at__lte=now).select_related("space")
    )
    for goal in due_goals:
        due = goal.next_evaluation_at
        assert due is not None
        # A schedule that was not read for a while runs once for the time missed, not once
        # per missed period (as EventBridge does not replay missed runs either).
        following = _next_evaluation(goal, due)
        while following is not None and following <= now:
            due, goal.next_evaluation_at = following, following
            following = _next_evaluation(goal, following)
        _evaluate(goal, due)
        goal.next_evaluation_at = following
        goal.save()
    for rec in Recommendation.objects.filter(space_id=space_id, revise_due_at__lte=now):
        assert rec.revise_due_at is not None
        _revised(rec, rec.revise_due_at)
        rec.save()


# --- triggers --------------------------------------------------------------------------------


def trigger_shape(trigger: Trigger) -> dict[str, Any]:
    return {
        "triggerId": trigger.trigger_id,
        "agentSpaceId": trigger.space_id,
        "type": trigger.trigger_type,
        "condition": trigger.condition,
        "action": trigger.action,
        "status": trigger.status,
        "createdAt": trigger.created_at,
        "updatedAt": trigger.updated_at,
    }


def _expression_error(path: str, message: str) -> SandboxError:
    return SandboxError(
        "ValidationException",
        f"1 validation error detected: {path}: {message}",
        fieldList=[{"path": path, "message": message}],
    )


def _check_expression(path: str, expression: str) -> None:
    try:
        schedules.parse(expression)
    except schedules.ScheduleError as exc:
        raise _expression_error(path, str(exc)) from None


_DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


def _condition(condition: dict[str, Any]) -> dict[str, Any]:
    """The condition as stored and returned: a schedule with its expression (derived from a
    structured spec when one was given)."""
    scheduled = condition.get("schedule")
    if not isinstance(scheduled, dict) or len(condition) != 1:
        raise _expression_error("condition", "Give exactly one condition: schedule.")
    expression = scheduled.get("expression")
    spec = scheduled.get("spec")
    if bool(expression) == bool(spec):
        raise _expression_error(
            "condition.schedule", "Give exactly one of the schedule's expression or spec."
        )
    if expression:
        _check_expression("condition.schedule.expression", expression)
        return {"schedule": {"expression": expression}}
    if "cron" in spec:
        derived = spec["cron"]["expression"]
        _check_expression("condition.schedule.spec.cron.expression", derived)
        return {"schedule": {"expression": derived, "spec": spec}}
    window = spec.get("timeRange") or {}
    start, end = window.get("startAfter", ""), window.get("startBefore", "")
    if start >= end:
        raise _expression_error(
            "condition.schedule.spec.timeRange", "startAfter must be earlier than startBefore."
        )
    hour, minute = (int(part) for part in start.split(":"))
    recurrence = window.get("recurrence") or {}
    if "weekly" in recurrence:
        day = _DAYS.index(recurrence["weekly"]["dayOfWeek"])
        derived = (
            f"cron({minute} {hour} ? * {('MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN')[day]} *)"
        )
    elif "monthly" in recurrence:
        derived = f"cron({minute} {hour} {recurrence['monthly']['dayOfMonth']} * ? *)"
    else:
        derived = f"cron({minute} {hour} * * ? *)"
    return {"schedule": {"expression": derived, "spec": spec}}


def _check_action(action: Any) -> None:
    if not isinstance(action, dict) or not isinstance(action.get("actionType"), str):
        raise _expression_error("action", "The action must be an object with an actionType.")
    if action["actionType"] == "create:task":
        task = action.get("task")
        if not isinstance(task, dict) or not isinstance(task.get("agent"), str):
            raise _expression_error(
                "action.task", "A create:task action needs task.agent (e.g. custom:<assetId>)."
            )
    else:
        raise _expression_error(
            "action.actionType",
            f"Unsupported actionType {action['actionType']!r}: use create:task.",
        )


def create_trigger(
    space: AgentSpace,
    *,
    trigger_type: str,
    condition: dict[str, Any],
    action: Any,
    at: dt.datetime,
    status: str | None = None,
    client_token: str = "",
) -> Trigger:
    if client_token:
        existing = Trigger.objects.filter(space=space, client_token=client_token).first()
        if existing is not None:
            return existing
    if trigger_type not in TRIGGER_TYPES:
        raise _expression_error(
            "type", f"Unsupported trigger type {trigger_type!r}: use TIME_BASED."
        )
    stored = _condition(condition)
    _check_action(action)
    status = status or "Active"
    if status not in TRIGGER_STATUSES:
        raise _expression_error("status", "The status must be Active or Inactive.")
    if Trigger.objects.filter(space=space).count() >= MAX_TRIGGERS:
        raise SandboxError(
            "ServiceQuotaExceededException",
            f"An agent space can have at most {MAX_TRIGGERS} triggers.",
        )
    return Trigger.objects.create(
        trigger_id=str(uuid.uuid4()),
        space=space,
        trigger_type=trigger_type,
        condition=stored,
        action=action,
        status=status,
        client_token=client_token,
        created_at=at,
        updated_at=at,
    )


def get_trigger(space: AgentSpace, trigger_id: str) -> Trigger:
    trigger = Trigger.objects.filter(space=space, pk=trigger_id).first()
    if trigger is None:
        raise not_found("Trigger", trigger_id)
    return trigger


def update_trigger(
    trigger: Trigger, status: str | None, at: dt.datetime, client_token: str = ""
) -> Trigger:
    if status is None:
        return trigger
    if _replayed(trigger.update_tokens, client_token, status, "trigger"):
        return trigger
    if status not in TRIGGER_STATUSES:
        raise _expression_error("status", "The status must be Active or Inactive.")
    if status != trigger.status:
        trigger.status = status
        trigger.updated_at = at
    if client_token:
        trigger.update_tokens = _remember(trigger.update_tokens, client_token, status)
    trigger.save()
    return trigger
