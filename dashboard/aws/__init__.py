"""The only package that talks to AWS (boto3/botocore). Everything else calls these functions,
gets plain dicts back, and catches the errors in `dashboard.aws.errors`."""

from .errors import (
    AccessDenied,
    AwsError,
    Conflict,
    NotConfigured,
    NotFound,
    QuotaExceeded,
    Throttled,
    Unavailable,
    ValidationFailed,
)

__all__ = [
    "AccessDenied",
    "AwsError",
    "Conflict",
    "NotConfigured",
    "NotFound",
    "QuotaExceeded",
    "Throttled",
    "Unavailable",
    "ValidationFailed",
]
