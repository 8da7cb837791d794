"""Forms of the Users page."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import User
from django.contrib.auth.validators import UnicodeUsernameValidator

from dashboard.core import roles

from . import oidc

ROLE_CHOICES = [
    (roles.VIEWER, "Viewer: reads"),
    (roles.OPERATOR, "Operator: triage (tasks, approvals, chat, recommendations)"),
    (roles.ADMIN, "Admin: configuration and users"),
]
PASSWORD = "password"
SSO = "sso"


class CreateUserForm(forms.Form):
    username = forms.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=roles.VIEWER)
    sign_in = forms.ChoiceField(initial=PASSWORD)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        choices = [(PASSWORD, "A generated password, shown once on the next page")]
        if oidc.enabled():
            choices.append(
                (SSO, f"{oidc.provider_name()} only: no password; the role follows the groups")
            )
        self.fields["sign_in"].choices = choices  # type: ignore[attr-defined]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("A user with this name exists already.")
        return username


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)


class UnlockForm(forms.Form):
    username = forms.CharField(max_length=255, required=False)
    ip_address = forms.GenericIPAddressField(required=False)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if not data.get("username") and not data.get("ip_address"):
            raise forms.ValidationError("Say which user or address to unlock.")
        return data
