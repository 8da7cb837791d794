"""Forms for recommendations, goals and triggers.

Every change carries what the person saw (version and status, or for triggers, which have no
version, the status and last update), so the views can refuse to overwrite a change made
meanwhile. Fields carry the botocore model's constraints; schedule expressions are checked
by EventBridge's rules (`dashboard/lib/schedule.py`) before anything is sent.
"""

from __future__ import annotations

import uuid
from typing import Any

import regex
from django import forms

from dashboard.aws.model import input_constraint
from dashboard.core.forms import LfCharField, model_validator, read_json
from dashboard.lib import schedule

SERVICE = "devops-agent"

# The changes an operator may ask for, by current status: (target, button label, needs
# confirmation). UPDATE_IN_PROGRESS is reached through "send back with context"; PROPOSED is
# the agent's to set; REJECTED, CLOSED and COMPLETED are final.
REC_TRANSITIONS: dict[str, list[tuple[str, str, bool]]] = {
    "PROPOSED": [
        ("ACCEPTED", "Accept", False),
        ("REJECTED", "Reject", True),
        ("CLOSED", "Close", True),
    ],
    "ACCEPTED": [
        ("COMPLETED", "Mark complete", False),
        ("CLOSED", "Close", True),
    ],
}
SEND_BACK_FROM = ("PROPOSED", "ACCEPTED")
FINAL = ("REJECTED", "CLOSED", "COMPLETED")

# additionalContext has no length limit in the model; a paragraph or two is what helps.
CONTEXT_MAX = 10_000

_ID = input_constraint(SERVICE, "GetRecommendation", "recommendationId")
_REC_STATUS = input_constraint(SERVICE, "UpdateRecommendation", "status")
_AGENT = regex.compile(r"custom:[A-Za-z0-9_.-]{1,128}")
_TOKEN = regex.compile(r"[\x21-\x7E]{1,64}")  # CreateTrigger's clientToken


def valid_id(value: str) -> bool:
    """A recommendation, goal, task or trigger id the API would accept (ResourceId)."""
    return bool(value) and not _ID.errors(value)


def rec_transitions(status: str) -> list[dict[str, Any]]:
    return [
        {"target": target, "label": label, "confirm": confirm}
        for target, label, confirm in REC_TRANSITIONS.get(status, [])
    ]


def rec_transition(status: str, target: str) -> dict[str, Any] | None:
    return next((t for t in rec_transitions(status) if t["target"] == target), None)


class SeenForm(forms.Form):
    """What the person saw when they asked for the change."""

    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    seen_status = forms.ChoiceField(choices=[(s, s) for s in _REC_STATUS.enum])


class RecommendationStatusForm(SeenForm):
    status = forms.ChoiceField(choices=[(s, s) for s in _REC_STATUS.enum])
    confirm = forms.BooleanField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        seen, target = data.get("seen_status"), data.get("status")
        if seen and target and rec_transition(seen, target) is None:
            raise forms.ValidationError(
                f"A recommendation that is {seen.replace('_', ' ').lower()} cannot be set to "
                f"{target.replace('_', ' ').lower()} from the console."
            )
        return data


class ContextForm(SeenForm):
    """Send a recommendation back to the agent with more context (UPDATE_IN_PROGRESS)."""

    additional_context = LfCharField(
        label="What should the agent take into account?",
        max_length=CONTEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The agent revises the spec with this and proposes it again. Constraints, "
        "change windows, what did not fit. Up to 10,000 characters.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        seen = data.get("seen_status")
        if seen and seen not in SEND_BACK_FROM:
            raise forms.ValidationError(
                f"A recommendation that is {seen.replace('_', ' ').lower()} cannot be sent back "
                "to the agent."
            )
        return data


class GoalScheduleForm(forms.Form):
    state = forms.ChoiceField(choices=[("ENABLED", "ENABLED"), ("DISABLED", "DISABLED")])
    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    seen_state = forms.ChoiceField(choices=[("ENABLED", "ENABLED"), ("DISABLED", "DISABLED")])


# --- triggers --------------------------------------------------------------------------------

TRIGGER_TYPES = [("TIME_BASED", "Time based: runs on a schedule")]
TRIGGER_STATUSES = [("Active", "Active: fires on its schedule"), ("Inactive", "Inactive: paused")]


def _expression_validator(value: str) -> None:
    try:
        schedule.parse(value)
    except schedule.ScheduleError as exc:
        raise forms.ValidationError(str(exc)) from None


class TriggerForm(forms.Form):
    trigger_type = forms.ChoiceField(
        label="Type",
        choices=TRIGGER_TYPES,
        initial="TIME_BASED",
        validators=[model_validator(input_constraint(SERVICE, "CreateTrigger", "type"))],
    )
    expression = forms.CharField(
        label="Schedule",
        max_length=schedule.MAX_LENGTH,
        validators=[_expression_validator],
        help_text="rate(value unit) or cron(minutes hours day-of-month month day-of-week year), "
        "in UTC. For example rate(7 days) or cron(0 9 ? * MON-FRI *).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    agent = forms.CharField(
        label="Custom agent",
        max_length=135,
        required=False,
        help_text="The custom agent the trigger runs, as custom:<assetId> (the Agents page of "
        "the DevOps Agent web app shows it). Not needed when you give the action as JSON.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    action_json = forms.CharField(
        label="Action as JSON",
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        help_text="Optional, instead of the custom agent: the whole action, e.g. "
        '{"actionType": "create:task", "task": {"agent": "custom:abc123"}}.',
    )
    status = forms.ChoiceField(
        label="Status", choices=TRIGGER_STATUSES, initial="Active", widget=forms.RadioSelect
    )
    # Sent again with a re-submitted form (a double click, a retry after AWS did not answer),
    # so that creates one trigger, not two.
    client_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_token", str(uuid.uuid4()))

    def clean_client_token(self) -> str:
        value = self.cleaned_data.get("client_token", "")
        return value if _TOKEN.fullmatch(value) else ""  # an odd one: no idempotency, no error

    def clean_agent(self) -> str:
        value = self.cleaned_data.get("agent", "").strip()
        if value and not _AGENT.fullmatch(value):
            raise forms.ValidationError(
                "Write the custom agent as custom:<assetId> (letters, digits, _ . -)."
            )
        return value

    def clean_action_json(self) -> Any:
        text = self.cleaned_data.get("action_json", "").strip()
        if not text:
            return None
        value = read_json(text)
        if not isinstance(value, dict) or not isinstance(value.get("actionType"), str):
            raise forms.ValidationError('Give a JSON object with an "actionType".')
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("agent") and not data.get("action_json") and not self.errors:
            self.add_error("agent", "Name the custom agent to run (or give the action as JSON).")
        if data.get("agent") and data.get("action_json"):
            self.add_error(
                "action_json", "Give either the custom agent or the action as JSON, not both."
            )
        return data

    def action(self) -> dict[str, Any]:
        if self.cleaned_data.get("action_json"):
            return self.cleaned_data["action_json"]
        return {"actionType": "create:task", "task": {"agent": self.cleaned_data["agent"]}}

    # AWS names fields by their path.
    AWS_FIELDS = {
        "type": "trigger_type",
        "condition": "expression",
        "condition.schedule": "expression",
        "condition.schedule.expression": "expression",
        "action": "action_json",
        "action.task": "agent",
        "action.actionType": "action_json",
        "status": "status",
    }


class TriggerStatusForm(forms.Form):
    status = forms.ChoiceField(choices=[("Active", "Active"), ("Inactive", "Inactive")])
    seen_status = forms.CharField(max_length=64)
    seen_updated = forms.CharField(max_length=64)


class TriggerDeleteForm(forms.Form):
    seen_status = forms.CharField(max_length=64)
    seen_updated = forms.CharField(max_length=64)
