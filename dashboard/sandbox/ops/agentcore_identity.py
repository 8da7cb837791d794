"""AgentCore Identity (`bedrock-agentcore`): workload access tokens, and the API keys and OAuth2
tokens of credential providers that a workload token unlocks.

These answers are credentials. The sandbox implements them so that agents and SDKs pointed at
it work; the console itself never calls them and never shows what they return.

Tokens are signed (HMAC with the console's SECRET_KEY), not stored: a workload access token
names its workload and user and expires after an hour; the providers it may unlock are the
seeded ones. OAuth2 USER_FEDERATION starts a session (an authorization URL to send the user
to) that CompleteResourceTokenAuth completes; afterwards the same call answers a token.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from typing import Any

from django.conf import settings
from django.utils import timezone

from ..models import CredentialProvider, OAuth2Session, WorkloadIdentity
from ..wire import Context, SandboxError, operation

SERVICE = "bedrock-agentcore"
TOKEN_LIFETIME = dt.timedelta(hours=1)
SESSION_PREFIX = "urn:ietf:params:oauth:request_uri:"


def _sign(payload: bytes) -> str:
    key = ("workload-identity:" + settings.SECRET_KEY).encode()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def issue_workload_token(workload: str, user_id: str = "", now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    claims = {"wl": workload, "sub": user_id, "exp": int((now + TOKEN_LIFETIME).timestamp())}
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return f"wat.{_b64(payload)}.{_sign(payload)}"


def read_workload_token(token: str) -> dict[str, Any]:
    """The token's claims; AccessDeniedException when it is forged, garbled or expired."""
    try:
        prefix, encoded, signature = token.split(".")
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        claims = json.loads(payload)
        valid = prefix == "wat" and hmac.compare_digest(signature, _sign(payload))
    except (ValueError, TypeError):
        valid, claims = False, {}
    if not valid or not isinstance(claims, dict):
        raise SandboxError("AccessDeniedException", "The workload access token is not valid")
    if claims.get("exp", 0) < timezone.now().timestamp():
        raise SandboxError("AccessDeniedException", "The workload access token has expired")
    return claims


def _workload(name: str) -> WorkloadIdentity:
    workload = WorkloadIdentity.objects.filter(pk=name).first()
    if workload is None:
        raise SandboxError("ResourceNotFoundException", f"Workload identity {name} was not found")
    return workload


def _provider(name: str, kind: str) -> CredentialProvider:
    provider = CredentialProvider.objects.filter(pk=name).first()
    if provider is None:
        raise SandboxError("ResourceNotFoundException", f"Credential provider {name} was not found")
    if provider.kind != kind:
        word = "an API key" if kind == CredentialProvider.API_KEY else "an OAuth2"
        raise SandboxError(
            "ValidationException", f"Credential provider {name} is not {word} provider"
        )
    return provider


def _jwt_subject(user_token: str) -> str:
    """The `sub` of a JWT (signature not checked: the sandbox trusts every issuer)."""
    try:
        encoded = user_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
        subject = claims.get("sub") if isinstance(claims, dict) else None
    except (IndexError, ValueError, TypeError):
        subject = None
    if not subject:
        raise SandboxError("UnauthorizedException", "The user token is not a JWT with a subject")
    return str(subject)[:128]


@operation(SERVICE, "GetWorkloadAccessToken")
def get_workload_access_token(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    workload = _workload(params["workloadName"])
    return {"workloadAccessToken": issue_workload_token(workload.name)}


@operation(SERVICE, "GetWorkloadAccessTokenForJWT")
def get_workload_access_token_for_jwt(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    workload = _workload(params["workloadName"])
    subject = _jwt_subject(params["userToken"])
    return {"workloadAccessToken": issue_workload_token(workload.name, subject)}


@operation(SERVICE, "GetWorkloadAccessTokenForUserId")
def get_workload_access_token_for_user_id(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    workload = _workload(params["workloadName"])
    return {"workloadAccessToken": issue_workload_token(workload.name, params["userId"])}


@operation(SERVICE, "GetResourceApiKey")
def get_resource_api_key(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    claims = read_workload_token(params["workloadIdentityToken"])
    _workload(claims["wl"])
    provider = _provider(params["resourceCredentialProviderName"], CredentialProvider.API_KEY)
    return {"apiKey": provider.api_key}


def _access_token() -> str:
    return "sbx-oauth2-" + secrets.token_urlsafe(32)


@operation(SERVICE, "GetResourceOauth2Token")
def get_resource_oauth2_token(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    claims = read_workload_token(params["workloadIdentityToken"])
    workload = _workload(claims["wl"])
    provider = _provider(params["resourceCredentialProviderName"], CredentialProvider.OAUTH2)
    flow = params["oauth2Flow"]
    if flow != "USER_FEDERATION":
        return {"accessToken": _access_token()}
    user_id = params.get("userId") or claims.get("sub") or ""
    if not user_id:
        raise SandboxError(
            "ValidationException", "USER_FEDERATION needs a user: a userId or a user's token"
        )
    return_url = params.get("resourceOauth2ReturnUrl")
    if return_url and return_url not in workload.allowed_return_urls:
        raise SandboxError(
            "ValidationException",
            "resourceOauth2ReturnUrl is not among the workload's allowed return URLs",
        )
    sessions = OAuth2Session.objects.filter(workload=workload, provider=provider, user_id=user_id)
    if params.get("sessionUri"):
        session = sessions.filter(session_uri=params["sessionUri"]).first()
        if session is None:
            raise SandboxError("ResourceNotFoundException", "The OAuth2 session was not found")
        if session.status == OAuth2Session.COMPLETED:
            return {"accessToken": _access_token()}
        return {"sessionUri": session.session_uri, "sessionStatus": "IN_PROGRESS"}
    completed = any(
        sorted(s.scopes) == sorted(params["scopes"])
        for s in sessions.filter(status=OAuth2Session.COMPLETED)
    )
    if completed and not params.get("forceAuthentication"):
        return {"accessToken": _access_token()}
    session = OAuth2Session.objects.create(
        session_uri=SESSION_PREFIX + secrets.token_urlsafe(24),
        workload=workload,
        provider=provider,
        user_id=user_id,
        scopes=params["scopes"],
        created_at=timezone.now(),
    )
    return {
        "authorizationUrl": (
            f"https://sandbox.invalid/oauth2/{provider.name}/authorize?request_uri="
            + session.session_uri
        ),
        "sessionUri": session.session_uri,
        "sessionStatus": "IN_PROGRESS",
    }


@operation(SERVICE, "CompleteResourceTokenAuth")
def complete_resource_token_auth(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    who = params["userIdentifier"]
    user_id = who.get("userId") or (_jwt_subject(who["userToken"]) if who.get("userToken") else "")
    session = OAuth2Session.objects.filter(session_uri=params["sessionUri"]).first()
    if session is None:
        raise SandboxError("ResourceNotFoundException", "The OAuth2 session was not found")
    if session.user_id != user_id:
        raise SandboxError("AccessDeniedException", "This OAuth2 session belongs to another user")
    session.status = OAuth2Session.COMPLETED
    session.save(update_fields=["status"])
    return {}
