"""The project's own AWS errors: what went wrong, in words a person can act on.

Views and consumers catch these (never botocore's exceptions). `from_botocore` maps any
botocore failure to one of them.
"""

from __future__ import annotations

from html.parser import HTMLParser
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


class NotAws(Unavailable):
    """An answer that did not come from AWS: another emulator's HTML error page, a proxy's or
    a load balancer's own error page. It is described (status, content type, first line of
    text), never shown as it came."""

    status = 502
    title = "Not an answer from AWS"


class _Text(HTMLParser):
    """The visible text of an HTML page (no scripts or styles), line by line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("title", "h1", "h2", "p", "br", "div", "li", "tr", "pre"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag in ("title", "h1", "h2", "p", "div", "li", "tr", "pre"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def first_line_of_text(body: str, limit: int = 200) -> str:
    """The first non-empty line a person would read in `body` (HTML or plain text)."""
    if "<" in body:
        # html.parser is lenient: whatever it cannot read as markup it passes on as text.
        parser = _Text()
        parser.feed(body[:100_000])
        parser.close()
        body = "".join(parser.parts)
    for line in body.splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def _media_type(headers: dict[str, Any]) -> str:
    value = next((v for k, v in headers.items() if str(k).lower() == "content-type"), "")
    return str(value).split(";")[0].strip().lower()


def not_aws(
    status: int, headers: dict[str, Any], message: str, *, operation: str, service: str
) -> NotAws | None:
    """A NotAws error when the answer is not AWS's, else None. AWS answers the console's
    services in JSON, in XML (STS's query protocol answers ``text/xml``, successes and errors
    alike) or as an event stream; an HTML page, or plain text without an error type, is
    someone else's."""
    media = _media_type(headers)
    text = message.lstrip()[:200].lower()
    html = media == "text/html" or text.startswith(("<!doctype html", "<html"))
    xml = media.endswith("/xml") or media.endswith("+xml") or text.startswith("<?xml")
    plain = (
        media.startswith("text/")
        and not xml
        and not any(str(k).lower() == "x-amzn-errortype" for k in headers)
    )
    if not (html or plain):
        return None
    first = first_line_of_text(message) or "(no text)"
    return NotAws(
        f"The answer to {operation} did not come from AWS: HTTP {status}, "
        f"{media or 'no content type'}, saying “{first}”. Something between the console and "
        "AWS answered instead: a proxy or load balancer, or another service at the address "
        "the console calls (AWS_ENDPOINT_URL).",
        operation=operation,
        service=service,
    )


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
    """Build our error from a parsed botocore ClientError response's `Error` part (with the
    answer's `HTTPStatusCode` and, when known, its `HTTPHeaders`)."""
    code = str(error.get("Code", ""))
    message = str(error.get("Message") or error.get("message") or code or "Unknown error")
    foreign = not_aws(
        int(error.get("HTTPStatusCode") or 0),
        dict(error.get("HTTPHeaders") or {}),
        message,
        operation=operation,
        service=service,
    )
    if foreign is not None:
        return foreign
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
