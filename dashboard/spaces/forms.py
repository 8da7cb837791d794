from __future__ import annotations

from typing import Any

from django import forms

from dashboard.core.forms import model_field

SERVICE = "devops-agent"

LOCALES = [
    ("", "Service default"),
    ("en-US", "English (US)"),
    ("en-GB", "English (UK)"),
    ("de-DE", "German"),
    ("es-ES", "Spanish"),
    ("fr-FR", "French"),
    ("it-IT", "Italian"),
    ("ja-JP", "Japanese"),
    ("ko-KR", "Korean"),
    ("pt-BR", "Portuguese (Brazil)"),
    ("zh-CN", "Chinese (Simplified)"),
]


class SpaceForm(forms.Form):
    name = model_field(
        SERVICE,
        "CreateAgentSpace",
        "name",
        label="Name",
        help_text="Shown to everyone using this space. Names need not be unique.",
    )
    description = model_field(
        SERVICE,
        "CreateAgentSpace",
        "description",
        label="Description",
        help_text="What this space covers: which systems, which team. Up to 1,000 characters.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    locale = model_field(
        SERVICE,
        "CreateAgentSpace",
        "locale",
        label="Language of the agent's answers",
        help_text="A BCP 47 tag such as en-US or de-DE; leave empty for the service default.",
    )
    # The updatedAt the user saw when the edit form was drawn (the lost-update guard).
    seen_updated_at = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, editing: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.fields["locale"].widget = forms.TextInput(attrs={"list": "locales"})
        self.fields["name"].widget.attrs.update(autofocus=True, autocomplete="off")
        if editing is None:
            del self.fields["seen_updated_at"]

    def clean_description(self) -> str:
        value = self.cleaned_data["description"]
        if self.editing and self.editing.get("description") and not value:
            raise forms.ValidationError(
                "AWS cannot clear a description once it is set; write a new one instead."
            )
        return value

    def clean_locale(self) -> str:
        value = self.cleaned_data["locale"]
        if self.editing and self.editing.get("locale") and not value:
            raise forms.ValidationError(
                "AWS cannot clear the language once it is set; choose another one instead."
            )
        return value

    def changes(self) -> dict[str, Any]:
        """The members UpdateAgentSpace should send: only those that changed."""
        current = self.editing or {}
        out: dict[str, Any] = {}
        for member in ("name", "description", "locale"):
            value = self.cleaned_data.get(member) or ""
            if value != (current.get(member) or ""):
                out[member] = value
        return out
