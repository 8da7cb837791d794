"""Small helpers the configuration views share."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import NoReverseMatch, reverse

from dashboard.aws import errors


def apply_field_errors(
    form: forms.Form, exc: errors.AwsError, mapping: dict[str, str] | None = None
) -> None:
    """Put AWS's per-field validation messages next to the fields they name (by the API's
    member path, translated through `mapping`); the rest goes on top of the form."""
    placed = False
    for path, message in exc.fields.items():
        name = (mapping or {}).get(path, path)
        if name in form.fields:
            form.add_error(name, message or exc.message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def url(name: str, *args: Any) -> str:
    """reverse() for ids that came from AWS or another app: "" when there is no such page."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def retry_message(exc: errors.AwsError, what: str, *, secret: bool = False) -> str:
    if secret:
        # The secret field is never sent back, so it is the one thing to type again.
        return f"{exc.message} {what} Type the secret again and submit."
    return f"{exc.message} {what} Nothing was lost: submit again."


def scrub_secret(exc: errors.AwsError, *secrets: str) -> errors.AwsError:
    """`exc` with any of `secrets` cut out of its message and field messages, should an
    answer ever quote what it was sent: the message goes to the page, the log and the audit."""
    for secret in secrets:
        if not secret:
            continue
        exc.message = exc.message.replace(secret, "[redacted]")
        exc.fields = {k: v.replace(secret, "[redacted]") for k, v in exc.fields.items()}
    exc.args = (exc.message,)
    return exc


def refused(form: forms.Form, exc: errors.AwsError, what: str) -> int:
    """Any other AWS refusal of a write (not found, access denied, not set up, ...): its
    message on top of the form, which keeps what was typed. Returns the status to answer."""
    form.add_error(None, f"{exc.title}: {exc.message} {what}")
    return exc.status
