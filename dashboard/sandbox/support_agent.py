"""The sandbox's simulated AWS Support engineer, on a case chat opened from an investigation.

Wall-clock time, computed when the chat is next read (`advance`): the engineer joins a few
seconds after the case is opened (`JOIN_SECONDS` / SANDBOX_PACE), greets the customer with what
the investigation is about, and answers each customer message `REPLY_SECONDS` later. Replies
come from a few rules on the message's words (logs, quotas, urgency, thanks) and otherwise
move the case along; every one says it is simulated. Nothing is sent anywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import regex
from django.conf import settings

from .models import BacklogTask, SupportCase, SupportChatItem

JOIN_SECONDS = 4.0
GREETING_SECONDS = 2.0
REPLY_SECONDS = 5.0
ENGINEERS = ("Sam Okafor", "Priya Natarajan", "Luis Ortega", "Mei Tanaka")
SIMULATED = "(Simulated by the console's sandbox: no AWS Support engineer is involved.)"

JOINED = "application/vnd.amazonaws.connect.event.participant.joined"
LEFT = "application/vnd.amazonaws.connect.event.participant.left"
ENDED = "application/vnd.amazonaws.connect.event.chat.ended"

_RULES: tuple[tuple[regex.Pattern[str], str], ...] = (
    (
        regex.compile(r"\b(log|logs|cloudwatch|trace)\b", regex.I),
        "Could you share the CloudWatch log group and the time range (UTC) you looked at? "
        "I can pull the service-side logs for the same window and compare.",
    ),
    (
        regex.compile(r"\b(limit|limits|quota|quotas|throttl\w*)\b", regex.I),
        "I've noted the account and the resource. Quota increases go through Service Quotas; "
        "I'm checking the current value and whether an increase can be expedited.",
    ),
    (
        regex.compile(r"\b(urgent|outage|down|sev1|sev-1|critical|customers)\b", regex.I),
        "Understood: I've raised the case's severity and paged the service team. I'll stay "
        "on this chat; please keep the investigation open so they can read its findings.",
    ),
    (
        regex.compile(r"\b(thanks|thank you|cheers)\b", regex.I),
        "You're welcome. I'll keep the case open until you confirm the service is healthy.",
    ),
)
_FOLLOW_UPS = (
    "Thanks. I'm reading the investigation's findings now; give me a moment to check the "
    "service side for the same resources.",
    "I've checked our side: there is no open service event in this region for those "
    "resources. The investigation's root cause matches what I see in the service metrics.",
    "The service team confirms the change you describe would resolve it. Let me know once "
    "it is applied and I'll watch the metrics with you.",
)


def pace() -> float:
    return max(float(getattr(settings, "SANDBOX_PACE", 1.0) or 1.0), 0.001)


def engineer_for(task_id: str) -> str:
    digest = int(hashlib.sha256(task_id.encode()).hexdigest(), 16)
    return ENGINEERS[digest % len(ENGINEERS)]


def new_item_id() -> str:
    return str(uuid.uuid4())


def greeting(case: SupportCase) -> str:
    task = BacklogTask.objects.filter(pk=case.task_id).first()
    first = case.engineer.split()[0]
    about = (
        f"the investigation “{task.title}” ({task.priority.lower()} priority, "
        f"{task.status.lower().replace('_', ' ')})"
        if task is not None
        else f"task {case.task_id}"
    )
    return (
        f"Hello, this is {first} from AWS Support. I've received the case opened from {about} "
        "and can read its journal and findings. What would you like us to look at? "
        f"{SIMULATED}"
    )


def reply_to(text: str, answered_before: int) -> str:
    for pattern, answer in _RULES:
        if pattern.search(text):
            return f"{answer} {SIMULATED}"
    return f"{_FOLLOW_UPS[min(answered_before, len(_FOLLOW_UPS) - 1)]} {SIMULATED}"


def _say(case: SupportCase, at: dt.datetime, content: str) -> None:
    SupportChatItem.objects.create(
        case=case,
        item_id=new_item_id(),
        at=at,
        item_type="MESSAGE",
        content_type="text/plain",
        content=content,
        participant_role="AGENT",
        participant_id=case.engineer_id,
        display_name=case.engineer,
    )


def event(case: SupportCase, at: dt.datetime, content_type: str, role: str, who: str) -> None:
    """A participant joined or left, or the chat ended."""
    SupportChatItem.objects.create(
        case=case,
        item_id=new_item_id(),
        at=at,
        item_type="EVENT",
        content_type=content_type,
        participant_role=role,
        participant_id=case.engineer_id if role == "AGENT" else case.participant_id,
        display_name=who,
    )


def advance(case: SupportCase, now: dt.datetime) -> None:
    """Everything the engineer has done by `now`: join, greet, answer."""
    if case.status != SupportCase.OPEN:
        return
    if not case.joined:
        if now < case.joins_at:
            return
        event(case, case.joins_at, JOINED, "AGENT", case.engineer)
        greeted = case.joins_at + dt.timedelta(seconds=GREETING_SECONDS / pace())
        _say(case, greeted, greeting(case))
        case.joined = True
        case.save(update_fields=["joined"])
    ready = case.joins_at + dt.timedelta(seconds=GREETING_SECONDS / pace())
    waiting = case.items.filter(participant_role="CUSTOMER", item_type="MESSAGE", answered=False)
    answered_before = case.items.filter(participant_role="AGENT", item_type="MESSAGE").count() - 1
    for message in waiting.order_by("at", "id"):
        due = max(message.at, ready) + dt.timedelta(seconds=REPLY_SECONDS / pace())
        if due > now:
            break
        _say(case, due, reply_to(message.content, max(answered_before, 0)))
        answered_before += 1
        message.answered = True
        message.save(update_fields=["answered"])
