"""Attach the sandbox to a boto3 client at botocore's `before-send` event.

botocore has already serialized and signed the request; the sandbox answers with the bytes AWS
would send, and botocore parses them exactly as it parses AWS's own answers. `add_data_path`
gives a botocore session the sandbox's model extras (see `extras.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HeadersDict

from . import wire
from .extras import add_data_path

__all__ = ["add_data_path", "attach"]


class _RawStream:
    """The `raw` of an AWSResponse: chunks pulled from the emulator as botocore reads."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def stream(self, amt: int = 1024, decode_content: bool | None = None) -> Iterator[bytes]:
        if self._buffer:
            data, self._buffer = self._buffer, b""
            yield data
        for chunk in self._chunks:
            if chunk:
                yield chunk

    def read(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        if amt is None:
            data = self._buffer + b"".join(self._chunks)
            self._buffer = b""
            return data
        while len(self._buffer) < amt:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        data, self._buffer = self._buffer[:amt], self._buffer[amt:]
        return data

    def read1(self, amt: int = -1, decode_content: bool | None = None) -> bytes:
        """What is there without waiting for more (as urllib3's read1): the buffer, else the
        next chunk. A streamed answer's reader must not wait for `amt` bytes."""
        if not self._buffer:
            self._buffer = next((c for c in self._chunks if c), b"")
        size = len(self._buffer) if amt is None or amt < 0 else amt
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()

    def release_conn(self) -> None:
        self.close()


def _body_bytes(request: AWSPreparedRequest) -> bytes:
    body: Any = request.body
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    data = body.read()
    return data.encode() if isinstance(data, str) else data


def attach(client: Any) -> None:
    service = client.meta.service_model.service_name
    event = f"before-send.{client.meta.service_model.service_id.hyphenize()}"

    def answer(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        response = wire.dispatch(
            service, request.method, request.url, dict(request.headers), _body_bytes(request)
        )
        headers = HeadersDict(response.headers)
        return AWSResponse(
            request.url, response.status, headers, _RawStream(wire.iter_chunks(response.body))
        )

    client.meta.events.register_first(event, answer, unique_id=f"sandbox-{service}")
