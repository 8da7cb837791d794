"""Forms for one task: create it, change its status, answer an approval.

Every field carries the botocore model's constraints (lengths, patterns, enums), so a person
sees the service's own rules next to the field before anything is sent to AWS.
"""

from __future__ import annotations

import uuid
from typing import Any

import regex
from django import forms
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
)

from dashboard.aws.model import input_constraint, service_model, shape_constraint
from dashboard.core.forms import model_field, model_validator
from dashboard.tasks.templatetags.task_display import http_url

_CLIENT_TOKEN = regex.compile(r"[\x21-\x7E]{1,64}")  # CreateBacklogTask's clientToken

SERVICE = "devops-agent"

# The task types a person creates from the console (the others come from integrations).
CREATE_TYPES = [
    ("INVESTIGATION", "Investigation: find the cause of a problem"),
    ("EVALUATION", "Evaluation: assess a system or a change"),
]

# Status changes offered for each status: (target, button label, needs confirmation).
# Terminal statuses offer none, nor LINKED (its primary task is worked instead); the agent
# itself moves tasks through the running states. These are the service's triage rules.
TRANSITIONS: dict[str, list[tuple[str, str, bool]]] = {
    "PENDING_TRIAGE": [
        ("PENDING_START", "Start investigation", False),
        ("SKIPPED", "Skip", False),
        ("CANCELED", "Cancel task", True),
    ],
    "PENDING_START": [("CANCELED", "Cancel task", True)],
    "IN_PROGRESS": [("CANCELED", "Cancel task", True)],
    "PENDING_CUSTOMER_APPROVAL": [("CANCELED", "Cancel task", True)],
    "WAITING": [("CANCELED", "Cancel task", True)],
}


def transitions(status: str) -> list[dict[str, Any]]:
    """The changes a person may ask for from `status`, as the templates use them."""
    return [
        {"target": target, "label": text, "confirm": confirm}
        for target, text, confirm in TRANSITIONS.get(status, [])
    ]


def transition(status: str, target: str) -> dict[str, Any] | None:
    return next((t for t in transitions(status) if t["target"] == target), None)


_DJANGO_LIMITS = (MaxLengthValidator, MinLengthValidator, MaxValueValidator, MinValueValidator)


def _one_message_each(form: forms.Form) -> None:
    """The model's validator says what is wrong with a length or a number in words; Django's
    own limit validators would say it a second time. Keep the model's (the widget's maxlength
    and min/max attributes stay)."""
    for field in form.fields.values():
        field.validators = [v for v in field.validators if not isinstance(v, _DJANGO_LIMITS)]


_REFERENCE = service_model(SERVICE).shape_for("ReferenceInput")


def _reference_field(member: str, label: str, help_text: str) -> forms.CharField:
    shape = _REFERENCE.members[member]
    constraint = shape_constraint(member, shape)  # required together, checked in clean()
    return forms.CharField(
        label=label,
        required=False,
        max_length=constraint.max,
        validators=[model_validator(constraint)],
        help_text=help_text,
    )


class TaskForm(forms.Form):
    task_type = forms.ChoiceField(
        label="Type",
        choices=CREATE_TYPES,
        initial="INVESTIGATION",
        validators=[model_validator(input_constraint(SERVICE, "CreateBacklogTask", "taskType"))],
        widget=forms.RadioSelect,
    )
    title = model_field(
        SERVICE,
        "CreateBacklogTask",
        "title",
        label="Title",
        help_text="What the agent should look into, in one line. Up to 400 characters.",
    )
    description = model_field(
        SERVICE,
        "CreateBacklogTask",
        "description",
        label="Description",
        help_text="Symptoms, affected systems, time window: anything that helps the agent.",
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    priority = model_field(
        SERVICE,
        "CreateBacklogTask",
        "priority",
        label="Priority",
        help_text="How urgent this is; the board sorts by it.",
    )
    ref_system = _reference_field(
        "system", "System", "Where the reference lives, e.g. ServiceNow, PagerDuty, Jira."
    )
    ref_id = _reference_field(
        "referenceId", "Reference ID", "The ticket's or incident's ID there (A-Z, 0-9, _ . -)."
    )
    ref_url = _reference_field("referenceUrl", "Link", "An http:// or https:// address.")
    ref_association = _reference_field(
        "associationId",
        "Association ID",
        "The integration association the reference belongs to (A-Z, 0-9, _ . -).",
    )
    ref_title = _reference_field("title", "Reference title", "Optional.")
    # Set when the task is started from a recommendation: the link goes into the description
    # (dashboard/prevention/links.py), as CreateBacklogTask has no other place for it.
    recommendation = forms.CharField(required=False, max_length=128, widget=forms.HiddenInput)
    # Sent again with a re-submitted form (a double click, a retry after AWS did not answer),
    # so that creates one task, not two.
    client_token = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    REFERENCE_FIELDS = {
        "ref_system": "system",
        "ref_id": "referenceId",
        "ref_url": "referenceUrl",
        "ref_association": "associationId",
        "ref_title": "title",
    }
    REQUIRED_REFERENCE = ("ref_system", "ref_id", "ref_url", "ref_association")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["priority"].choices = [(p, p.capitalize()) for p in self._priorities()]
        self.fields["priority"].initial = "MEDIUM"
        self.fields["title"].widget.attrs.update(autocomplete="off")
        # A text input: our own check (http/https only) explains itself; the browser's doesn't.
        self.fields["ref_url"].widget = forms.TextInput(
            attrs={"inputmode": "url", "maxlength": self.fields["ref_url"].max_length}
        )
        _one_message_each(self)
        if not self.is_bound:
            self.initial.setdefault("client_token", str(uuid.uuid4()))

    def clean_client_token(self) -> str:
        value = self.cleaned_data.get("client_token", "")
        return value if _CLIENT_TOKEN.fullmatch(value) else ""  # odd: no idempotency, no error

    @staticmethod
    def _priorities() -> list[str]:
        return list(input_constraint(SERVICE, "CreateBacklogTask", "priority").enum)

    def clean_ref_url(self) -> str:
        value = self.cleaned_data.get("ref_url", "")
        if value and not http_url(value):
            raise forms.ValidationError("Use a full http:// or https:// address.")
        return value

    def clean_recommendation(self) -> str:
        from dashboard.prevention.forms import valid_id

        value = self.cleaned_data.get("recommendation", "")
        return value if valid_id(value) else ""

    def description_to_send(self) -> str:
        """The description to send: with the recommendation's line when there is one."""
        text = self.cleaned_data.get("description") or ""
        if self.cleaned_data.get("recommendation"):
            from dashboard.prevention.links import with_marker

            text = with_marker(text, self.cleaned_data["recommendation"])
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        given = [name for name in self.REFERENCE_FIELDS if data.get(name)]
        if given:
            for name in self.REQUIRED_REFERENCE:
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, "Needed when the task has a reference.")
        return data

    @property
    def has_reference(self) -> bool:
        return any(self[name].value() for name in self.REFERENCE_FIELDS)

    def reference(self) -> dict[str, str] | None:
        ref = {
            member: self.cleaned_data[name]
            for name, member in self.REFERENCE_FIELDS.items()
            if self.cleaned_data.get(name)
        }
        return ref or None

    def params(self) -> dict[str, Any]:
        """Keyword arguments for dashboard.aws.tasks.create_task."""
        return {
            "task_type": self.cleaned_data["task_type"],
            "title": self.cleaned_data["title"],
            "priority": self.cleaned_data["priority"],
            "description": self.description_to_send(),
            "reference": self.reference(),
            "client_token": self.cleaned_data.get("client_token", ""),
        }

    def api_params(self, space_id: str) -> dict[str, Any]:
        """The request as the API names it (for the audit log)."""
        out: dict[str, Any] = {
            "agentSpaceId": space_id,
            "taskType": self.cleaned_data["task_type"],
            "title": self.cleaned_data["title"],
            "priority": self.cleaned_data["priority"],
        }
        if self.description_to_send():
            out["description"] = self.description_to_send()
        if self.reference():
            out["reference"] = self.reference()
        return out

    # AWS names fields by their path ("reference.referenceUrl"); ours are flat.
    AWS_FIELDS = {
        "taskType": "task_type",
        "title": "title",
        "description": "description",
        "priority": "priority",
        **{f"reference.{member}": name for name, member in REFERENCE_FIELDS.items()},
    }


_STATUS = input_constraint(SERVICE, "UpdateBacklogTask", "taskStatus")


class StatusForm(forms.Form):
    """A status change, with the version and status the user saw (the lost-update guard)."""

    status = forms.ChoiceField(choices=[(s, s) for s in _STATUS.enum])
    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    seen_status = forms.ChoiceField(choices=[(s, s) for s in _STATUS.enum])
    confirm = forms.BooleanField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        seen, target = data.get("seen_status"), data.get("status")
        if seen and target and transition(seen, target) is None:
            raise forms.ValidationError(
                f"A task in status {seen.replace('_', ' ').lower()} cannot be moved to "
                f"{target.replace('_', ' ').lower()} from the console."
            )
        return data


_TASK_ID = input_constraint(SERVICE, "GetBacklogTask", "taskId")
_APPROVAL_ID = input_constraint(SERVICE, "UpdateApprovalAction", "approvalId")


def valid_id(value: str) -> bool:
    """A task or execution id the API would accept (ResourceId)."""
    return bool(value) and not _TASK_ID.errors(value)


def valid_approval_id(value: str) -> bool:
    return bool(value) and not _APPROVAL_ID.errors(value)


class ApprovalForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("APPROVED", "Approve"), ("REJECTED", "Reject")],
        validators=[model_validator(input_constraint(SERVICE, "UpdateApprovalAction", "action"))],
    )
    reason = model_field(
        SERVICE,
        "UpdateApprovalAction",
        "reason",
        label="Reason",
        help_text="Recorded in the journal with your answer. Up to 1,024 characters.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    ttl_seconds = model_field(
        SERVICE,
        "UpdateApprovalAction",
        "ttlSeconds",
        label="Valid for (seconds)",
        help_text="How long the approval lasts: 1 to 14,400 seconds (4 hours). Optional.",
        required=False,
    )
    single_use = forms.BooleanField(
        label="Single use",
        required=False,
        help_text="The approval is spent by the first action it allows.",
    )
    # Where the approval was shown: for the way back and to read what the request offers.
    task = forms.CharField(required=False, widget=forms.HiddenInput)
    execution = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        offers_ttl: bool = True,
        offers_single_use: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ttl_seconds"].widget.attrs.update(min=1, max=14400, inputmode="numeric")
        _one_message_each(self)
        if not offers_ttl:
            del self.fields["ttl_seconds"]
        if not offers_single_use:
            del self.fields["single_use"]

    def clean_task(self) -> str:
        value = self.cleaned_data.get("task", "")
        return value if valid_id(value) else ""

    def clean_execution(self) -> str:
        value = self.cleaned_data.get("execution", "")
        return value if valid_id(value) else ""

    def params(self) -> dict[str, Any]:
        """Keyword arguments for dashboard.aws.tasks.answer_approval."""
        out: dict[str, Any] = {
            "action": self.cleaned_data["action"],
            "reason": self.cleaned_data.get("reason") or "",
        }
        if self.cleaned_data.get("ttl_seconds"):
            out["ttl_seconds"] = self.cleaned_data["ttl_seconds"]
        if "single_use" in self.fields and self.cleaned_data.get("single_use"):
            out["single_use"] = True
        return out


class SupportMessageForm(forms.Form):
    """A message to the AWS Support engineer on the case chat."""

    text = forms.CharField(
        label="Message",
        strip=False,
        max_length=input_constraint("connectparticipant", "SendMessage", "Content").max,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # Sent again with a re-submitted form, so a retried post sends the message once.
    client_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_token", str(uuid.uuid4()))

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        if not text.strip():
            raise forms.ValidationError("Write a message.")
        return text
