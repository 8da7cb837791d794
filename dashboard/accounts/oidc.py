"""Single sign-on through any OpenID Connect provider (authlib), and the user it signs in.

authlib does the protocol: discovery from the issuer, the authorization-code flow with state,
nonce and PKCE (S256), the token exchange, and the ID token's checks (signature against the
provider's published keys, issuer, audience, expiry, nonce). This module decides who that is
in the console:

- the user is found by the provider's (issuer, subject) pair (`SsoIdentity`); a user an admin
  invited as "single sign-on only" (no password, not yet linked) with the same username is
  linked at their first sign-in; otherwise a user is created;
- the role is read from the groups claim (`OIDC_GROUPS_CLAIM`, in the ID token or, when it is
  not there, from the userinfo endpoint) at every sign-in: the highest role whose groups
  (`OIDC_VIEWER_GROUPS`, `OIDC_OPERATOR_GROUPS`, `OIDC_ADMIN_GROUPS`) the user is in;
- a user in none of the mapped groups is not let in (and loses any role they had), and a user
  an admin deactivated in the console stays out whatever the provider says.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from dashboard.core import roles

from .models import SsoIdentity

_lock = threading.Lock()
_clients: dict[tuple[Any, ...], Any] = {}


class SsoError(Exception):
    """A sign-in that cannot go on; `message` is for the person signing in."""

    status = 400
    title = "Single sign-on failed"

    def __init__(self, message: str, *, status: int = 400, title: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.title = title or self.title


def enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


def provider_name() -> str:
    return settings.OIDC_PROVIDER_NAME


def client() -> Any:
    """authlib's client for the configured provider, built once per configuration (it keeps
    the discovery document and the provider's keys once fetched)."""
    key = (
        settings.OIDC_ISSUER,
        settings.OIDC_DISCOVERY_URL,
        settings.OIDC_CLIENT_ID,
        settings.OIDC_CLIENT_SECRET,
        settings.OIDC_SCOPES,
        settings.OIDC_TIMEOUT,
    )
    with _lock:
        found = _clients.get(key)
        if found is None:
            oauth = OAuth()
            found = oauth.register(
                "console",
                client_id=settings.OIDC_CLIENT_ID,
                client_secret=settings.OIDC_CLIENT_SECRET,
                server_metadata_url=settings.OIDC_DISCOVERY_URL,
                client_kwargs={
                    "scope": settings.OIDC_SCOPES,
                    "code_challenge_method": "S256",
                    "timeout": settings.OIDC_TIMEOUT,
                },
            )
            _clients.clear()
            _clients[key] = found
        return found


def check_issuer(metadata: dict[str, Any]) -> None:
    """The discovery document must be the configured issuer's (OpenID Connect Discovery 4.3):
    authlib checks ID tokens against the document's issuer, so a wrong document would make it
    trust the wrong provider."""
    if str(metadata.get("issuer", "")).rstrip("/") != settings.OIDC_ISSUER:
        raise SsoError(
            f"The provider's discovery document names the issuer {metadata.get('issuer')!r}, "
            f"not {settings.OIDC_ISSUER!r} (OIDC_ISSUER). Check the console's configuration.",
            status=502,
            title="Single sign-on is misconfigured",
        )


def groups_of(claims: dict[str, Any]) -> list[str]:
    """The groups claim as a list: providers send a list, some a space- or comma-separated
    string."""
    value = claims.get(settings.OIDC_GROUPS_CLAIM)
    if isinstance(value, str):
        return [item for item in value.replace(",", " ").split() if item]
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return []


def role_for(groups: list[str]) -> str | None:
    """The highest role whose mapped groups include one of `groups`, or None."""
    mine = set(groups)
    for role in reversed(roles.ORDER):
        if mine & set(settings.OIDC_ROLE_GROUPS.get(role, [])):
            return role
    return None


@dataclass
class SignIn:
    user: User | None
    role: str | None
    groups: list[str]
    created: bool = False
    # The role the user's groups in the console gave before this sign-in (None: none, or new).
    previous: str | None = None


def _username_for(claims: dict[str, Any]) -> str:
    for name in (settings.OIDC_USERNAME_CLAIM, "preferred_username", "email", "sub"):
        value = str(claims.get(name) or "").strip()
        if value:
            return value[:150]
    raise SsoError("The provider sent no subject (sub) for this sign-in.")


def set_role(user: User, role: str | None) -> None:
    """Make `role` the user's only role group (None: no role group at all)."""
    role_groups = list(Group.objects.filter(name__in=roles.ORDER))
    user.groups.remove(*[g for g in role_groups if g.name != role])
    if role is not None:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    user._console_role = None  # type: ignore[attr-defined]


@transaction.atomic
def user_for(claims: dict[str, Any]) -> SignIn:
    """Find, link or create the user for verified `claims`, with the role their groups give.

    Returns `SignIn(user=None, ...)` when the user is in no mapped group: nobody is created
    for them, and a user already linked loses every role."""
    issuer = settings.OIDC_ISSUER
    subject = str(claims.get("sub") or "")
    if not subject:
        raise SsoError("The provider sent no subject (sub) for this sign-in.")
    groups = groups_of(claims)
    role = role_for(groups)
    identity = (
        SsoIdentity.objects.select_related("user")
        .select_for_update()
        .filter(issuer=issuer, subject=subject)
        .first()
    )
    if identity is None and role is None:
        return SignIn(None, None, groups)
    created = False
    if identity is None:
        username = _username_for(claims)
        # Never a superuser: `createsuperuser --noinput` leaves one without a password, and
        # a name at the provider (often one its users choose) must not make someone that.
        invited = User.objects.filter(
            username=username, sso_identity__isnull=True, is_superuser=False
        ).first()
        if invited is not None and not invited.has_usable_password():
            user = invited
        else:
            user = User(username=_free_username(username))
            user.set_unusable_password()
            created = True
        user.email = str(claims.get("email") or "")[:254] or user.email
        user.save()
        identity = SsoIdentity.objects.create(user=user, issuer=issuer, subject=subject)
    user = identity.user
    identity.groups = groups
    identity.last_sign_in = timezone.now()
    identity.save(update_fields=["groups", "last_sign_in"])
    names = set(user.groups.values_list("name", flat=True))
    previous = None if created else next((r for r in reversed(roles.ORDER) if r in names), None)
    if not user.is_superuser:
        set_role(user, role)
    return SignIn(user if role is not None else None, role, groups, created, previous)


def _free_username(wanted: str) -> str:
    # A local user of the same name is someone else: never take over their account.
    if not User.objects.filter(username=wanted).exists():
        return wanted
    for n in range(2, 1000):
        candidate = f"{wanted[:140]}-sso{n}"
        if not User.objects.filter(username=candidate).exists():
            return candidate
    raise SsoError("Could not find a free username for this sign-in.")
