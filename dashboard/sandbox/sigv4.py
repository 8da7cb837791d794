"""SigV4 checks for the sandbox's browser stream endpoints, and the sandbox's one credential.

The REST API of the sandbox takes any signature (it has no secrets to check). Its browser
stream endpoints are different: a live-view URL is a bearer credential handed to a browser
page, and an automation endpoint drives a real Chromium, so the sandbox checks them as AWS
does: the signature must be made with the sandbox's credential below (the one the console's
sandbox clients sign with; its secret derives from SECRET_KEY), for service
`bedrock-agentcore`, and must not have expired.

Both forms are accepted: query authentication (a presigned URL, `X-Amz-Signature` in the query,
as `generate_live_view_url` makes) and header authentication (`Authorization` and
`X-Amz-Date`, as `generate_ws_headers` makes for the automation stream).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote

import regex

ACCESS_KEY_ID = "ASIASANDBOX"
SERVICE = "bedrock-agentcore"
# As the AgentCore SDK's generate_live_view_url: a live-view URL lives at most five minutes.
MAX_EXPIRES = 300
# Clock skew AWS tolerates between the signer and the service.
SKEW = dt.timedelta(minutes=5)
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

_AUTH_HEADER = regex.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)


def secret_access_key() -> str:
    """The secret of the sandbox's credential, derived from SECRET_KEY.

    A fixed, published secret would let anyone who reaches the console sign an automation
    connection and drive a Chromium on its host. Derived from SECRET_KEY, only this deployment
    (its console processes, its `manage.py shell`) can sign for its browser streams.
    """
    from django.conf import settings

    digest = hmac.new(
        settings.SECRET_KEY.encode(), b"agent-console sandbox credential", hashlib.sha256
    )
    return "sandbox-" + digest.hexdigest()[:32]


class SignatureError(Exception):
    """The request is not signed well enough to be let in. `code` as AWS would name it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret).encode(), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def _canonical_query(raw_query: str) -> str:
    # As botocore builds it for a presigned URL: the pairs as sent (already percent-encoded),
    # without the signature, sorted.
    pairs = []
    for pair in raw_query.split("&") if raw_query else []:
        key, _, value = pair.partition("=")
        if key != "X-Amz-Signature":
            pairs.append((key, value))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _parse_time(text: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        raise SignatureError("IncompleteSignatureException", "X-Amz-Date is malformed") from None


def verify(
    *,
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, str],
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """Check the request's SigV4 signature; return its scope (region, access key).

    `path` is the decoded path, `raw_query` the query string as sent, `headers` lower-cased
    names. Raises SignatureError when the signature is missing, wrong, or expired.
    """
    now = now or dt.datetime.now(dt.UTC)
    query = dict(parse_qsl(raw_query, keep_blank_values=True))
    if "X-Amz-Signature" in query:
        if query.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            raise SignatureError(
                "IncompleteSignatureException", "X-Amz-Algorithm must be AWS4-HMAC-SHA256"
            )
        credential = query.get("X-Amz-Credential", "")
        signed = query.get("X-Amz-SignedHeaders", "")
        signature = query["X-Amz-Signature"]
        stamp = query.get("X-Amz-Date", "")
        try:
            expires = int(query.get("X-Amz-Expires", ""))
        except ValueError:
            raise SignatureError(
                "IncompleteSignatureException", "X-Amz-Expires must be a number of seconds"
            ) from None
        if not 1 <= expires <= MAX_EXPIRES:
            raise SignatureError(
                "AuthorizationQueryParametersError",
                f"X-Amz-Expires must be between 1 and {MAX_EXPIRES} seconds for a browser stream",
            )
        canonical_query = _canonical_query(raw_query)
    else:
        found = _AUTH_HEADER.fullmatch(headers.get("authorization", "").strip())
        if not found:
            raise SignatureError(
                "MissingAuthenticationTokenException",
                "The request is not signed: presign the URL (SigV4 query parameters) or send "
                "SigV4 Authorization and X-Amz-Date headers.",
            )
        credential = found["credential"]
        signed = found["signed"]
        signature = found["signature"]
        stamp = headers.get("x-amz-date", "")
        expires = int(SKEW.total_seconds())
        canonical_query = _canonical_query(raw_query)
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise SignatureError("IncompleteSignatureException", "The credential scope is malformed")
    access_key, date, region, service, _ = parts
    if access_key != ACCESS_KEY_ID:
        raise SignatureError(
            "UnrecognizedClientException", "The security token included in the request is invalid"
        )
    if service != SERVICE:
        raise SignatureError(
            "InvalidSignatureException", f"The credential scope names {service!r}, not {SERVICE}"
        )
    signed_at = _parse_time(stamp)
    if date != stamp[:8]:
        raise SignatureError("InvalidSignatureException", "The credential date is not X-Amz-Date")
    if signed_at - SKEW > now:
        raise SignatureError("InvalidSignatureException", "The signature is dated in the future")
    if now > signed_at + dt.timedelta(seconds=expires):
        raise SignatureError("AccessDeniedException", "The signature has expired")
    names = signed.split(";")
    if "host" not in names:
        raise SignatureError("InvalidSignatureException", "The host header must be signed")
    canonical_headers = ""
    for name in names:
        if name not in headers:
            raise SignatureError("InvalidSignatureException", f"Signed header {name} is missing")
        canonical_headers += f"{name}:{' '.join(headers[name].split())}\n"
    canonical = "\n".join(
        [
            method.upper(),
            quote(path, safe="/~"),
            canonical_query,
            canonical_headers,
            signed,
            headers.get("x-amz-content-sha256", EMPTY_SHA256),
        ]
    )
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            stamp,
            f"{date}/{region}/{service}/aws4_request",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    expected = hmac.new(
        signing_key(secret_access_key(), date, region, service),
        string_to_sign.encode(),
        hashlib.sha256,
    ).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise SignatureError(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided",
        )
    return {"region": region, "access_key": access_key}
