"""The project's own AWS errors: what went wrong, in words a person can act on.

Views and consumers catch these (never botocore's exceptions). `from_botocore` maps any
botocore failure to one of them.
"""

from __future__ import annotations

from typing import Any


class AwsError(Exception):
    """A failed AWS call. `message` is for people; `code` is AWS's error code."""

    status = 502
    title = "AWS request failed"

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        operation: str = "",
        service: str = "",
        fields: dict[str, str] | None = None,
        reason: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.operation = operation
        self.service = service
        self.fields = fields or {}
        self.reason = reason

    def __str__(self) -> str:
        return self.message


class NotFound(AwsError):
    status = 404
    title = "Not found"


class Conflict(AwsError):
    status = 409
    title = "Conflict"


class Throttled(AwsError):
    status = 503
    title = "AWS is busy"


class AccessDenied(AwsError):
    status = 403
    title = "Access denied by AWS"


class NotConfigured(AwsError):
    status = 503
    title = "AWS is not set up"


class ValidationFailed(AwsError):
    status = 400
    title = "Invalid request"


class QuotaExceeded(AwsError):
    status = 429
    title = "Quota exceeded"


class Unavailable(AwsError):
    """5xx answers, timeouts and connection failures: worth retrying later."""

    status = 503
    title = "AWS is unavailable"


# Error codes (as AWS sends them) to our classes.
_CODES: dict[str, type[AwsError]] = {
    "ResourceNotFoundException": NotFound,
    "NotFoundException": NotFound,
    "ConflictException": Conflict,
    "RetryableConflictException": Conflict,
    "ThrottlingException": Throttled,
    "ThrottledException": Throttled,  # bedrock-agentcore's memory operations
    "TooManyRequestsException": Throttled,
    "Throttling": Throttled,
    "RequestLimitExceeded": Throttled,
    "AccessDeniedException": AccessDenied,
    "UnauthorizedException": AccessDenied,
    "UnrecognizedClientException": NotConfigured,
    "InvalidSignatureException": NotConfigured,
    "ExpiredTokenException": NotConfigured,
    "ValidationException": ValidationFailed,
    "InvalidParameterException": ValidationFailed,
    "InvalidInputException": ValidationFailed,
    "ContentSizeExceededException": ValidationFailed,
    "ServiceQuotaExceededException": QuotaExceeded,
    "InternalServerException": Unavailable,
    "ServiceUnavailableException": Unavailable,
    "ServiceException": Unavailable,
    "NotImplemented": Unavailable,
}


def from_client_error(
    error: dict[str, Any], *, operation: str, service: str, iam_action: str, fields_raw: Any = None
) -> AwsError:
    """Build our error from a parsed botocore ClientError response's `Error` part."""
    code = str(error.get("Code", ""))
    message = str(error.get("Message") or error.get("message") or code or "Unknown error")
    cls = _CODES.get(code)
    if cls is None:
        status = int(error.get("HTTPStatusCode") or 0)
        cls = Unavailable if status >= 500 else AwsError
    fields: dict[str, str] = {}
    for item in fields_raw or []:
        # ValidationExceptionField names the member by `path` (e.g. "name", "tags.key").
        name = item.get("path") or item.get("name") if isinstance(item, dict) else None
        if name:
            fields[str(name)] = str(item.get("message", ""))
    kwargs: dict[str, Any] = {
        "code": code,
        "operation": operation,
        "service": service,
        "fields": fields,
        "reason": str(error.get("reason", "")),
    }
    if cls is Throttled:
        message = f"AWS is throttling {operation} requests. Retry in a moment. ({message})"
    elif cls is AccessDenied:
        message = (
            f"AWS denied {operation}: the console's credentials need the IAM permission "
            f"{iam_action}. ({message})"
        )
    elif cls is NotConfigured:
        message = f"AWS rejected the console's credentials for {operation}: {message}"
    elif cls is Unavailable:
        message = f"AWS could not complete {operation} ({code or 'server error'}): {message}"
    return cls(message, **kwargs)
