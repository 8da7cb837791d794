"""Forms of the agent runtime playground, held to the botocore model's rules before AWS sees
anything: the runtime session id's length (33 to 256), the MIME types' lengths, a JSON payload
that parses when its content type says JSON."""

from __future__ import annotations

from typing import Any

from django import forms

from dashboard.aws import agentcore_runtime as runtime_api
from dashboard.aws.model import input_constraint
from dashboard.core.forms import loads as loads_json
from dashboard.core.forms import model_field, model_validator

SERVICE = runtime_api.SERVICE
# The console sends at most this much payload (AWS allows 100,000,000 bytes): a payload travels
# over the page's websocket and is shown with its invocation.
MAX_PAYLOAD = 1_000_000
_SESSION = input_constraint(SERVICE, "InvokeAgentRuntime", "runtimeSessionId")
EXAMPLE = '{"prompt": "Why is checkout-api returning 5xx errors?"}'


def is_json_type(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class TargetForm(forms.Form):
    """Which runtime and session the page shows (its URL: ?arn=&qualifier=&session=)."""

    arn = forms.CharField(
        label="Agent runtime ARN",
        max_length=2048,
        # The datalists hold the account's runtimes and the chosen one's endpoints (the
        # control plane's lists); typing any other value still works.
        widget=forms.TextInput(
            attrs={"class": "mono", "spellcheck": "false", "list": "rt-runtime-arns"}
        ),
        help_text="arn:aws:bedrock-agentcore:<region>:<account>:runtime/<runtime id>",
    )
    qualifier = forms.CharField(
        label="Qualifier",
        required=False,
        max_length=128,
        widget=forms.TextInput(
            attrs={"class": "mono", "spellcheck": "false", "list": "rt-endpoint-names"}
        ),
        help_text="An endpoint name or version; empty uses DEFAULT.",
    )
    session = forms.CharField(
        label="Runtime session id",
        required=False,
        max_length=_SESSION.max,
        widget=forms.TextInput(attrs={"class": "mono", "spellcheck": "false"}),
        help_text=f"{_SESSION.min} to {_SESSION.max} characters. Invocations with the same "
        "id share the agent's session; leave it empty for a new one.",
        validators=[model_validator(_SESSION)],
    )

    def clean_arn(self) -> str:
        arn = (self.cleaned_data.get("arn") or "").strip()
        problems = runtime_api.arn_problems(arn)
        if problems:
            raise forms.ValidationError(problems)
        return arn

    def clean_qualifier(self) -> str:
        value = (self.cleaned_data.get("qualifier") or "").strip()
        if value and not all(c.isalnum() or c in "_-." for c in value):
            raise forms.ValidationError("Use letters, digits, '_', '-' and '.' only.")
        return value

    def clean_session(self) -> str:
        return (self.cleaned_data.get("session") or "").strip()


class InvokeForm(TargetForm):
    """One invocation: the target (hidden on the page once chosen) and what to send."""

    payload = forms.CharField(
        label="Payload",
        strip=False,
        max_length=MAX_PAYLOAD,
        widget=forms.Textarea(attrs={"rows": 8, "class": "mono", "spellcheck": "false"}),
        help_text="What the agent receives. JSON is checked before it is sent. Ctrl+Enter invokes.",
    )
    content_type = model_field(
        SERVICE,
        "InvokeAgentRuntime",
        "contentType",
        label="Content type",
        required=True,
        help_text="How the agent should read the payload.",
    )
    accept = model_field(
        SERVICE,
        "InvokeAgentRuntime",
        "accept",
        label="Accept",
        required=False,
        help_text="The answer formats you accept; streaming agents answer text/event-stream.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["content_type"].initial = runtime_api.DEFAULT_CONTENT_TYPE
        self.fields["accept"].initial = runtime_api.DEFAULT_ACCEPT
        self.fields["payload"].initial = EXAMPLE
        for name in ("content_type", "accept"):
            self.fields[name].widget.attrs.update(spellcheck="false", **{"class": "mono"})

    def _header(self, name: str) -> str:
        value = self.cleaned_data.get(name) or ""
        # Sent as an HTTP header: a control (CR, LF) or non-ASCII character cannot be.
        if any(not " " <= c <= "~" for c in value):
            raise forms.ValidationError(
                "Use printable ASCII only (a MIME type such as application/json); no line "
                "breaks or control characters."
            )
        return value

    def clean_content_type(self) -> str:
        return self._header("content_type")

    def clean_accept(self) -> str:
        return self._header("accept")

    def clean_session(self) -> str:
        session = super().clean_session()
        if not session:
            raise forms.ValidationError(
                "Invocations need a runtime session id: open the runtime again to get one."
            )
        return session

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        payload = data.get("payload")
        content_type = data.get("content_type") or ""
        if payload is not None and is_json_type(content_type):
            try:
                loads_json(payload)
            except ValueError as exc:
                self.add_error(
                    "payload",
                    f"This is not valid JSON ({exc}). Fix it, or change the content type.",
                )
            except RecursionError:
                # json raises this (not ValueError) for arrays/objects nested thousands deep.
                self.add_error(
                    "payload",
                    "This JSON is nested too deeply to be read. Flatten it, or change the "
                    "content type.",
                )
        return data

    def payload_bytes(self) -> bytes:
        return self.cleaned_data["payload"].encode()


# AWS's ValidationExceptionField names to InvokeForm's fields.
AWS_FIELDS = {
    "payload": "payload",
    "contentType": "content_type",
    "accept": "accept",
    "runtimeSessionId": "session",
    "qualifier": "qualifier",
    "agentRuntimeArn": "arn",
}
