"""Forms of the memory explorer, checked against the bedrock-agentcore model before AWS sees
anything (ids by their patterns, texts by their lengths, enums by their values)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils import timezone

from dashboard.aws import agentcore_memory as memory_api
from dashboard.aws.model import operation_model, shape_constraint
from dashboard.core.forms import model_validator, read_json

SERVICE = memory_api.SERVICE


def _id_field(kind: str, label: str, *, required: bool = True, help_text: str = "") -> forms.Field:
    constraint = memory_api.constraint(kind)
    return forms.CharField(
        label=label,
        required=required,
        max_length=constraint.max,
        help_text=help_text,
        validators=[model_validator(constraint)],
    )


def _nested(operation: str, *path: str) -> Any:
    shape = operation_model(SERVICE, operation).input_shape
    for name in path:
        shape = shape.member if name == "[]" else shape.members[name]
    return shape_constraint(path[-1], shape)


TEXT = _nested("CreateEvent", "payload", "[]", "conversational", "content", "text")
QUERY = _nested("RetrieveMemoryRecords", "searchCriteria", "searchQuery")
TOP_K = _nested("RetrieveMemoryRecords", "searchCriteria", "topK")


class MemoryChooseForm(forms.Form):
    memory = forms.CharField(
        label="Memory id or ARN",
        max_length=2048,
        help_text="For example MyAgentMemory-a1B2c3D4e5, or its ARN.",
    )

    def clean_memory(self) -> str:
        memory_id = memory_api.memory_id_from(self.cleaned_data["memory"])
        problems = memory_api.id_problems("memory", memory_id)
        if problems:
            raise forms.ValidationError(problems)
        return memory_id


class EventForm(forms.Form):
    """A new event: one conversational message and/or a JSON blob, on a branch or not."""

    actor_id = _id_field("actor", "Actor", help_text="Who the event belongs to, e.g. user/42.")
    session_id = _id_field("session", "Session", help_text="The conversation it belongs to.")
    role = forms.ChoiceField(
        label="Role", choices=[(r, r.capitalize()) for r in memory_api.ROLES], initial="USER"
    )
    text = forms.CharField(
        label="Message",
        required=False,
        strip=False,
        max_length=TEXT.max,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="The conversational text of the event.",
    )
    blob = forms.CharField(
        label="Blob (JSON)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono", "spellcheck": "false"}),
        help_text='Optional structured data, e.g. {"tool": "deployments.list", "result": []}.',
    )
    branch = _id_field(
        "branch",
        "Branch",
        required=False,
        help_text="Leave empty for the main branch. A new branch needs the event it forks from.",
    )
    root_event_id = _id_field(
        "event",
        "Forks from event",
        required=False,
        help_text="The event a new branch starts after.",
    )
    timestamp = forms.DateTimeField(
        label="Event time",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
        help_text="Empty: now.",
    )
    # Sent again with a re-submitted form, so a double submit creates one event, not two.
    client_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    AWS_FIELDS = {
        "actorId": "actor_id",
        "sessionId": "session_id",
        "branch": "branch",
        "branch.name": "branch",
        "branch.rootEventId": "root_event_id",
        "eventTimestamp": "timestamp",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A datetime-local value has no zone: it is read in the console's TIME_ZONE.
        self.fields["timestamp"].label = f"Event time ({timezone.get_current_timezone_name()})"
        if not self.is_bound:
            self.initial.setdefault("client_token", str(uuid.uuid4()))

    def clean_blob(self) -> Any:
        text = self.cleaned_data["blob"].strip()
        if not text:
            return None
        return read_json(text)

    def clean_timestamp(self) -> dt.datetime:
        value = self.cleaned_data.get("timestamp")
        if value is None:
            return timezone.now()
        return value if value.tzinfo else timezone.make_aware(value)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        text = data.get("text") or ""
        if text and TEXT.errors(text):
            self.add_error("text", TEXT.errors(text))
        if not text.strip() and data.get("blob") is None and "blob" not in self.errors:
            raise forms.ValidationError("Write a message, a JSON blob, or both.")
        if data.get("root_event_id") and not data.get("branch"):
            self.add_error("branch", "Name the branch that forks from this event.")
        return data

    def payload(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        items: list[dict[str, Any]] = []
        if data.get("text", "").strip():
            items.append(
                {"conversational": {"role": data["role"], "content": {"text": data["text"]}}}
            )
        if data.get("blob") is not None:
            items.append({"blob": data["blob"]})
        return items


class RecordScopeForm(forms.Form):
    """Which records to list: a namespace (exactly, or with everything below it)."""

    namespace = _id_field("namespace", "Namespace", required=False)
    scope = forms.ChoiceField(
        choices=[("exact", "This namespace"), ("path", "This namespace and below")],
        required=False,
        initial="exact",
    )
    strategy = _id_field("strategy", "Strategy id", required=False)

    def clean_scope(self) -> str:
        return self.cleaned_data.get("scope") or "exact"


class SearchForm(forms.Form):
    """A search: the query, where to search, and how many records.

    Where is one of the memory's strategies (`scopes`, from GetMemory): its namespace path and
    its strategy id go to AWS, so nothing typed can miss. Without them (the memory has none, or
    they could not be read) a namespace is typed, as RecordScopeForm takes it."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=QUERY.max,
        validators=[model_validator(QUERY)],
    )
    top_k = forms.IntegerField(
        label="Top",
        required=False,
        min_value=TOP_K.min,
        max_value=TOP_K.max,
        help_text="How many of the most relevant records.",
    )

    def __init__(self, *args: Any, scopes: Sequence[dict[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scopes = {s["strategyId"]: s for s in scopes}
        if self.scopes:
            # Not required: a search link without one searches the first strategy.
            self.fields["strategy"] = forms.ChoiceField(
                label="Within",
                required=False,
                choices=[
                    (
                        s["strategyId"],
                        f"{s['name']} ({s['type'].lower().replace('_', ' ')}): {s['path']}",
                    )
                    for s in self.scopes.values()
                ],
                initial=next(iter(self.scopes)),
                help_text="The memory's strategies: each keeps its records under its own "
                "namespaces.",
            )
        else:
            scope_form = RecordScopeForm()
            self.fields["namespace"] = _id_field("namespace", "Namespace")
            self.fields["scope"] = scope_form.fields["scope"]
            self.fields["strategy"] = scope_form.fields["strategy"]
            self.initial.setdefault("namespace", "/")
            self.initial.setdefault("scope", "path")

    def clean_top_k(self) -> int:
        return self.cleaned_data.get("top_k") or 10

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.scopes:
            if "strategy" not in self.errors:
                data["strategy"] = data.get("strategy") or next(iter(self.scopes))
                chosen = self.scopes[data["strategy"]]
                data.update(namespace=chosen["path"], scope="path")
        else:
            data["scope"] = data.get("scope") or "exact"
        return data

    def query(self) -> dict[str, str]:
        """The URL parameters that ask for this search's scope again."""
        data = self.cleaned_data
        if self.scopes:
            return {"strategy": data.get("strategy") or ""}
        return {
            "namespace": data.get("namespace") or "",
            "scope": "path" if data.get("scope") == "path" else "",
            "strategy": data.get("strategy") or "",
        }
