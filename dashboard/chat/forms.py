"""The chat's forms: a message (or an answer to the agent's prompt) and a chat's name.

Fields carry the botocore model's constraints (SendMessage content: at most 32,768 characters;
UpdateChat summary: 1-256), so a person sees the service's rules before anything is sent.
"""

from __future__ import annotations

import uuid
from typing import Any

import regex
from django import forms

from dashboard.core.forms import model_field

SERVICE = "devops-agent"
# ChatExecutionId (SendMessage) and ResourceId (GetChat/UpdateChat) both accept these.
_CHAT_ID = regex.compile(r"[A-Za-z0-9_-]{32,50}")
_RESPONSE_ID = regex.compile(r"[A-Za-z0-9_.:-]{1,128}")
ANSWER_MAX = 256  # a prompt's choice (the console keeps choices this short)
_KEY = regex.compile(r"[0-9a-f]{32}")


def valid_chat_id(value: str) -> bool:
    return bool(_CHAT_ID.fullmatch(value or ""))


def valid_space_id(value: str) -> bool:
    # Stream and live keys are ":"-separated; an id holding one cannot name a space anyway.
    return bool(value) and len(value) <= 2048 and ":" not in value


class MessageForm(forms.Form):
    content = model_field(
        SERVICE,
        "SendMessage",
        "content",
        label="Message",
        required=False,
        help_text="Enter sends, Shift+Enter starts a new line.",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Ask the agent…"}),
    )
    # The choice answering one of the agent's prompts (context.userActionResponse). Hidden
    # fields: their problems are said as the form's own (a hidden field shows no errors).
    answer = forms.CharField(required=False, widget=forms.HiddenInput)
    last_message = forms.CharField(required=False, widget=forms.HiddenInput)
    # This message box's idempotency key (dashboard/chat/models.py): a fresh one per box, kept
    # with the text when a send fails, so a retry of the same message is recognised.
    message_key = forms.CharField(
        required=False, widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex
    )

    def clean_message_key(self) -> str:
        value = self.cleaned_data.get("message_key") or ""
        return value if _KEY.fullmatch(value) else ""

    def clean_answer(self) -> str:
        value = self.cleaned_data.get("answer") or ""
        if len(value) > ANSWER_MAX:
            raise forms.ValidationError(
                f"The chosen answer is too long (at most {ANSWER_MAX} characters); "
                "nothing was sent."
            )
        return value

    def clean_last_message(self) -> str:
        # Only context: one that is not a response id is left out rather than refused.
        value = self.cleaned_data.get("last_message") or ""
        return value if _RESPONSE_ID.fullmatch(value) else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not (data.get("content") or "").strip() and not data.get("answer"):
            if "content" not in self.errors:
                self.add_error("content", "Type a message for the agent.")
        return data


class RenameForm(forms.Form):
    summary = model_field(
        SERVICE,
        "UpdateChat",
        "summary",
        label="Name",
        required=True,
        help_text="What the chat is about; shown in the list of chats.",
    )
