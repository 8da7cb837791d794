"""The sandbox over real HTTP, for SDKs and tools that cannot be hooked at `before-send`.

`manage.py sandbox_server --port 4566` serves the same `wire.dispatch()` the in-process
transport uses, so `aws --endpoint-url http://127.0.0.1:4566 devops-agent list-agent-spaces`
or boto3 with `endpoint_url=` and `Config(inject_host_prefix=False)` see the same world.

One endpoint serves several APIs, so the service is read from what every SDK sends anyway:
the SigV4 `Authorization` header's credential scope (`.../us-east-1/aidevops/aws4_request`).
Some APIs share a signing name (`bedrock-agentcore` and its control plane sign as
`bedrock-agentcore`; `bedrock-agent` and `bedrock-agent-runtime` as `bedrock`): among those the
request's method and path pick the one whose model has a matching operation, preferring one the
sandbox implements. Amazon Connect's participant API is not signed (it carries a bearer token in
`X-Amz-Bearer`), so an unsigned request with that header goes to `connectparticipant`.
STS `GetCallerIdentity` is answered too, because the console asks STS for its account id
when `DASHBOARD_BACKEND=aws` points `AWS_ENDPOINT_URL` here.

Signatures are not verified: the sandbox has no secrets to check them against.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

import regex
from django.conf import settings
from django.db import close_old_connections, connections

from . import wire

logger = logging.getLogger(__name__)

STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"

# A request body larger than this is refused rather than read into memory.
MAX_BODY = 16 * 1024 * 1024

_SCOPE = regex.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")


@functools.cache
def signing_names() -> dict[str, tuple[str, ...]]:
    """SigV4 signing name -> the botocore services signed with it, read from the models."""
    names: dict[str, tuple[str, ...]] = {}
    for service in wire.SERVICES:
        model = wire.service_model(service)
        name = model.metadata.get("signingName") or model.endpoint_prefix
        names[name] = (*names.get(name, ()), service)
    names["sts"] = ("sts",)
    return names


def _pick(services: tuple[str, ...], method: str, path: str) -> str:
    """The one of `services` whose model routes `method path` (an implemented one first)."""
    if len(services) == 1:
        return services[0]
    parts = urlsplit(path)
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    routed = []
    for service in services:
        try:
            op, _ = wire.route(service, method.upper(), parts.path or "/", query)
        except wire.SandboxError:
            continue
        if wire.handles(service, op.name):
            return service
        routed.append(service)
    return (routed or services)[0]


def service_for(headers: dict[str, str], method: str = "GET", path: str = "/") -> tuple[str, str]:
    """(service, region) for a request, from its Authorization header's credential scope.

    Raises `wire.SandboxError` when the request is unsigned or signed for another service.
    """
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    found = _SCOPE.search(auth)
    if not found:
        if any(k.lower() == "x-amz-bearer" for k in headers):
            return "connectparticipant", "us-east-1"
        raise wire.SandboxError(
            "MissingAuthenticationTokenException",
            "The sandbox server picks the API from the SigV4 Authorization header's credential "
            "scope, and this request has none. Sign it (any access key works), e.g. with an "
            "AWS SDK or the AWS CLI.",
        )
    region, signing_name = found.group(1), found.group(2)
    services = signing_names().get(signing_name)
    if services is None:
        raise wire.SandboxError(
            "UnknownServiceException",
            f"The sandbox server does not emulate the service signed as {signing_name!r}; it "
            f"serves {', '.join(sorted(signing_names()))}.",
        )
    return _pick(services, method, path), region


# --- STS (query protocol) --------------------------------------------------------------------


def _xml(status: int, document: str) -> wire.Response:
    return wire.Response(
        status,
        {"Content-Type": "text/xml", "x-amzn-requestid": str(uuid.uuid4())},
        ('<?xml version="1.0" encoding="UTF-8"?>\n' + document).encode(),
    )


def sts_error(status: int, code: str, message: str) -> wire.Response:
    request_id = str(uuid.uuid4())
    return _xml(
        status,
        f'<ErrorResponse xmlns="{STS_XMLNS}"><Error><Type>Sender</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>",
    )


def answer_sts(method: str, path: str, body: bytes) -> wire.Response:
    """STS's query protocol: `Action=...` in a form-encoded POST (or the query string)."""
    _, _, query = path.partition("?")
    try:
        form = dict(parse_qsl(query + "&" + body.decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        return sts_error(400, "MalformedInput", "The request body is not form-encoded text.")
    action = form.get("Action", "")
    if action != "GetCallerIdentity":
        return sts_error(
            501 if action else 400,
            "NotImplemented" if action else "MissingAction",
            f"The sandbox answers only STS GetCallerIdentity, not {action!r}."
            if action
            else "The request names no Action.",
        )
    account = settings.SANDBOX_ACCOUNT_ID
    return _xml(
        200,
        f'<GetCallerIdentityResponse xmlns="{STS_XMLNS}"><GetCallerIdentityResult>'
        f"<Arn>arn:aws:iam::{escape(account)}:user/sandbox</Arn>"
        "<UserId>AIDASANDBOXSANDBOXUSER</UserId>"
        f"<Account>{escape(account)}</Account>"
        "</GetCallerIdentityResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>",
    )


def _json_error(status: int, code: str, message: str) -> wire.Response:
    # For requests no service model can speak for (unsigned, unknown service).
    return wire.Response(
        status,
        {
            "Content-Type": "application/json",
            "x-amzn-errortype": code,
            "x-amzn-requestid": str(uuid.uuid4()),
        },
        json.dumps({"message": message}).encode(),
    )


def answer(method: str, path: str, headers: dict[str, str], body: bytes) -> wire.Response:
    """The response to one HTTP request, whatever it is (never raises)."""
    try:
        service, _ = service_for(headers, method, path)
    except wire.SandboxError as error:
        status = 403 if error.code == "MissingAuthenticationTokenException" else 400
        return _json_error(status, error.code, error.message)
    if service == "sts":
        return answer_sts(method, path, body)
    return wire.dispatch(service, method, path, headers, body)


# --- HTTP ----------------------------------------------------------------------------------


class _BadRequest(Exception):
    pass


class SandboxRequestHandler(BaseHTTPRequestHandler):
    """One client connection (a thread); keep-alive, as SDK connection pools expect."""

    protocol_version = "HTTP/1.1"
    server_version = "AgentConsoleSandbox"
    # Headers and body are separate writes; with Nagle on, each small answer waits ~40 ms
    # for the client's delayed ACK, and each event-stream chunk would be held back too.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw = self.headers.get("Content-Length") or "0"
        try:
            length = int(raw)
        except ValueError:
            raise _BadRequest(f"Content-Length {raw!r} is not a number") from None
        if length < 0 or length > MAX_BODY:
            raise _BadRequest(f"Content-Length {length} is out of range")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        data = bytearray()
        while True:
            line = self.rfile.readline(1024).strip()
            try:
                size = int(line.split(b";")[0], 16)
            except ValueError:
                raise _BadRequest("Malformed chunked request body") from None
            if size == 0:
                # Trailers end with an empty line.
                while self.rfile.readline(1024).strip():
                    pass
                return bytes(data)
            if len(data) + size > MAX_BODY:
                raise _BadRequest("Request body too large")
            data += self.rfile.read(size)
            self.rfile.readline(8)  # the CRLF after each chunk

    def _handle(self) -> None:
        # The sandbox answers through the ORM; a long-lived connection thread must not keep
        # a connection the database has dropped (or one past CONN_MAX_AGE).
        close_old_connections()
        try:
            try:
                body = self._read_body()
            except _BadRequest as exc:
                self.close_connection = True  # the stream position is unknown now
                self._send(_json_error(400, "SerializationException", str(exc)))
                return
            headers = {k: v for k, v in self.headers.items()}
            try:
                response = answer(self.command, self.path, headers, body)
            except Exception:
                # dispatch() already turns handler failures into AWS 500s; this is the net
                # under the server's own code.
                logger.exception("sandbox server: %s %s failed", self.command, self.path)
                response = _json_error(
                    500, "InternalServerException", "The sandbox failed internally."
                )
            self._send(response)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away mid-answer
        finally:
            close_old_connections()

    def _send(self, response: wire.Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        if response.status in (204, 304):
            # No body may follow these; anything written would corrupt the next response.
            self.end_headers()
            self.wfile.flush()
            return
        if isinstance(response.body, bytes | bytearray):
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
            self.wfile.flush()
            return
        # An event stream: each message goes out as its own chunk the moment it exists,
        # so the client parses events while the handler is still producing them.
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        chunks: Iterator[bytes] = iter(response.body)
        try:
            for chunk in chunks:
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # stop the producer if the client left early

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server's own rejections (bad request line, oversized headers, unknown method)
        # would be HTML; an SDK reading them expects AWS's JSON error shape.
        self.close_connection = True
        body = json.dumps({"message": message or explain or "Bad request"}).encode()
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", "application/json")
            self.send_header(
                "x-amzn-errortype",
                "BadRequestException" if code < 500 else "InternalServerException",
            )
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass  # the client is gone; nothing left to tell it

    def finish(self) -> None:
        super().finish()
        # The thread ends with the connection; its DB connection must not outlive it.
        connections.close_all()

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("sandbox server: %s - %s", self.address_string(), format % args)


class SandboxServer(ThreadingHTTPServer):
    """A thread per connection; daemon threads so a stuck client cannot block shutdown."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), SandboxRequestHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"
