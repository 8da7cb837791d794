"""Forms and URL checks of the browser session pages, held to the botocore model's rules."""

from __future__ import annotations

import regex
from django import forms

from dashboard.aws.browser import SERVICE, STATUSES, SYSTEM_BROWSER
from dashboard.aws.model import input_constraint
from dashboard.core.forms import model_field, model_validator

# What the console accepts as a browser identifier or session id in its URLs: the system
# browser's name, custom browser ids ("name-a1b2c3d4e5"), and the model's session id pattern.
# No ":" (live keys are joined by it) and nothing a URL would need to escape.
BROWSER_ID = regex.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
SESSION_ID = regex.compile(r"[0-9A-Za-z]{1,40}")
DEFAULT_TIMEOUT = 900
DEFAULT_VIEWPORT = (1280, 720)


def valid_browser_id(value: str) -> bool:
    return bool(BROWSER_ID.fullmatch(value or ""))


def valid_session_id(value: str) -> bool:
    return bool(SESSION_ID.fullmatch(value or ""))


def _viewport_field(member: str, label: str, initial: int) -> forms.IntegerField:
    constraint = input_constraint(SERVICE, "StartBrowserSession", f"viewPort.{member}")
    return forms.IntegerField(
        label=label,
        min_value=constraint.min,
        max_value=constraint.max,
        initial=initial,
        help_text=f"{constraint.min} to {constraint.max} pixels.",
        validators=[model_validator(constraint)],
    )


class StartForm(forms.Form):
    name = model_field(
        SERVICE,
        "StartBrowserSession",
        "name",
        label="Name",
        required=False,
        help_text="Optional, to recognise the session in the list (1 to 100 characters).",
    )
    timeout = model_field(
        SERVICE,
        "StartBrowserSession",
        "sessionTimeoutSeconds",
        label="Timeout (seconds)",
        required=True,
        help_text="The session ends by itself after this long: 60 to 28800 seconds (8 hours). "
        "900 is 15 minutes.",
    )
    width = _viewport_field("width", "Viewport width", DEFAULT_VIEWPORT[0])
    height = _viewport_field("height", "Viewport height", DEFAULT_VIEWPORT[1])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timeout"].initial = DEFAULT_TIMEOUT


class ListFilter(forms.Form):
    """The list page's URL: ?browser=…&status=…&next=…"""

    browser = forms.CharField(required=False, max_length=128, label="Browser")
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *((s, s.title()) for s in STATUSES)]
    )
    next = forms.CharField(required=False, max_length=2048)

    def clean_browser(self) -> str:
        value = (self.cleaned_data.get("browser") or "").strip() or SYSTEM_BROWSER
        if not valid_browser_id(value):
            raise forms.ValidationError(
                "A browser identifier is letters, digits, '.', '_' and '-' "
                f"(the system browser is {SYSTEM_BROWSER})."
            )
        return value
