"""boto3 clients, built once per process, and the one place AWS calls are made.

`call()` runs an operation and returns boto3's parsed dict without `ResponseMetadata`; every
botocore failure leaves it as one of the errors in `dashboard.aws.errors`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
from botocore import xform_name
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from botocore.utils import parse_timestamp
from django.conf import settings

from . import errors
from .model import iam_action

SANDBOX_REGION = "us-east-1"

_lock = threading.Lock()
_clients: dict[tuple[Any, ...], Any] = {}


def _settings_key(service: str) -> tuple[Any, ...]:
    return (
        service,
        settings.DASHBOARD_BACKEND,
        settings.AWS_REGION,
        settings.AWS_PROFILE,
        settings.AWS_ENDPOINT_URL,
        settings.AWS_CONNECT_TIMEOUT,
        settings.AWS_READ_TIMEOUT,
        settings.AWS_MAX_ATTEMPTS,
    )


def _config() -> Config:
    return Config(
        # Total attempts, first one included (as botocore reads the AWS_MAX_ATTEMPTS variable):
        # Config's `max_attempts` key would mean retries and add one attempt more.
        retries={"mode": "standard", "total_max_attempts": settings.AWS_MAX_ATTEMPTS},
        connect_timeout=settings.AWS_CONNECT_TIMEOUT,
        read_timeout=settings.AWS_READ_TIMEOUT,
        # A custom endpoint (the sandbox server) has no cp./dp. host names.
        inject_host_prefix=not settings.AWS_ENDPOINT_URL,
        user_agent_appid="agent-console",
    )


def _parse_timestamp(value: Any) -> dt.datetime:
    """ISO 8601 through the stdlib's C parser, anything else through botocore's.

    botocore's default (dateutil) dominated the time to read a board: two timestamps per task,
    ~0.1 ms each. The instants are the same; the tzinfo is datetime.UTC.
    """
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return parse_timestamp(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return parse_timestamp(value)


def _core_session() -> botocore.session.Session:
    core = botocore.session.get_session()
    core.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=_parse_timestamp
    )
    return core


def sandbox_credentials() -> ReadOnlyCredentials:
    """The sandbox's own credential: what its clients sign with, and what it checks on the
    URLs it presigns (browser streams)."""
    from dashboard.sandbox.sigv4 import ACCESS_KEY_ID, secret_access_key

    return ReadOnlyCredentials(ACCESS_KEY_ID, secret_access_key(), None)


def _build(service: str) -> Any:
    if settings.DASHBOARD_BACKEND == "sandbox":
        from dashboard.sandbox.transport import add_data_path, attach

        credentials = sandbox_credentials()
        session = boto3.session.Session(
            # The sandbox's model extras (operations AWS documents that botocore lacks) are on
            # this session's data path, so the console sees them as it would a newer botocore.
            botocore_session=add_data_path(_core_session()),
            aws_access_key_id=credentials.access_key,
            aws_secret_access_key=credentials.secret_key,
            region_name=settings.AWS_REGION or SANDBOX_REGION,
        )
        client = session.client(service, config=_config())
        attach(client)
        return client
    try:
        session = boto3.session.Session(
            botocore_session=_core_session(),
            profile_name=settings.AWS_PROFILE or None,
            region_name=settings.AWS_REGION or None,
        )
    except ProfileNotFound as exc:
        raise errors.NotConfigured(
            f"The AWS profile {settings.AWS_PROFILE!r} does not exist in ~/.aws/config or "
            "~/.aws/credentials. Set AWS_PROFILE to an existing profile or unset it.",
            code="ProfileNotFound",
        ) from exc
    if not session.region_name:
        raise errors.NotConfigured(
            "No AWS region is configured. Set AWS_REGION (for example us-east-1) or a region "
            "in your AWS profile.",
            code="NoRegion",
        )
    kwargs: dict[str, Any] = {"config": _config()}
    if settings.AWS_ENDPOINT_URL:
        kwargs["endpoint_url"] = settings.AWS_ENDPOINT_URL
    built = session.client(service, **kwargs)
    built.meta.events.register("after-call", _refuse_foreign_success)
    return built


def _refuse_foreign_success(http_response: Any, model: Any, **kwargs: Any) -> None:
    """A success that is someone else's page (a proxy's sign-in page answered with 200):
    botocore would parse it into an answer missing every member. Streamed outputs (an agent
    runtime may answer in HTML) are the callee's own."""
    if not 200 <= http_response.status_code < 300:
        return
    if model.has_streaming_output or model.has_event_stream_output:
        # Reading the body here would wait for the whole stream (a chat reply, token by
        # token) and leave nothing for botocore's parser: the reply would arrive empty.
        return
    foreign = errors.not_aws(
        http_response.status_code,
        dict(http_response.headers),
        http_response.content.decode("utf-8", errors="replace"),
        operation=model.name,
        service=model.service_model.service_name,
    )
    if foreign is not None:
        raise foreign


def client(service: str) -> Any:
    """The process's client for `service` (thread-safe once built; building costs ms)."""
    key = _settings_key(service)
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:
        found = _clients.get(key)
        if found is None:
            found = _clients[key] = _build(service)
        return found


def reset_clients() -> None:
    """Forget cached clients (tests that change settings, credential rotation)."""
    with _lock:
        _clients.clear()


def call(service: str, operation: str, /, **params: Any) -> dict[str, Any]:
    """Run `operation` (its model name, e.g. "CreateAgentSpace") and return the parsed output.

    Positional-only: RegisterService has an input member named `service`."""
    try:
        method = getattr(client(service), xform_name(operation))
        response = method(**params)
    except errors.AwsError:
        raise
    except ClientError as exc:
        error = dict(exc.response.get("Error", {}))
        metadata = exc.response.get("ResponseMetadata", {})
        error["HTTPStatusCode"] = metadata.get("HTTPStatusCode")
        error["HTTPHeaders"] = metadata.get("HTTPHeaders", {})
        # Modeled error members (e.g. ConflictException's `reason`) sit beside `Error`.
        error.setdefault("reason", exc.response.get("reason", ""))
        raise errors.from_client_error(
            error,
            operation=operation,
            service=service,
            iam_action=iam_action(service, operation),
            fields_raw=exc.response.get("fieldList"),
        ) from exc
    except ParamValidationError as exc:
        raise errors.ValidationFailed(
            str(exc.kwargs.get("report", exc)), code="ParamValidation", operation=operation
        ) from exc
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise errors.NotConfigured(
            "No AWS credentials were found. Provide them through the usual chain: "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO (aws sso login), or an "
            "instance/task role.",
            code="NoCredentials",
            operation=operation,
        ) from exc
    except NoRegionError as exc:
        raise errors.NotConfigured(
            "No AWS region is configured. Set AWS_REGION (for example us-east-1).",
            code="NoRegion",
            operation=operation,
        ) from exc
    except (
        EndpointConnectionError,
        ConnectTimeoutError,
        ReadTimeoutError,
        ConnectionClosedError,
    ) as exc:
        raise errors.Unavailable(
            f"Could not reach AWS for {operation}: {exc}. Check the network and try again.",
            code=type(exc).__name__,
            operation=operation,
        ) from exc
    except BotoCoreError as exc:
        raise errors.Unavailable(
            f"{operation} failed: {exc}", code=type(exc).__name__, operation=operation
        ) from exc
    response.pop("ResponseMetadata", None)
    return response


def pages(service: str, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Yield every page of a list operation, following `nextToken` until AWS stops sending one.

    A token that repeats ends the loop: an odd answer must not become an endless one.
    """
    seen: set[str] = set()
    while True:
        page = call(service, operation, **params)
        yield page
        token = page.get("nextToken")
        if not token or token in seen:
            return
        seen.add(token)
        params["nextToken"] = token


def collect(
    service: str, operation: str, result_key: str, *, limit: int | None = None, **params: Any
) -> list[dict[str, Any]]:
    """All items of a list operation, across pages (at most `limit` of them)."""
    items: list[dict[str, Any]] = []
    for page in pages(service, operation, **params):
        items.extend(page.get(result_key, []))
        if limit is not None and len(items) >= limit:
            return items[:limit]
    return items
