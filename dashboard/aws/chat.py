"""Chats with the agent (AWS DevOps Agent): list, create, read, rename/archive, history, and
`send_message`'s event stream as plain `(event_type, members)` pairs.

`open_reply` is blocking from the first byte to the last: run it in the stream pool
(`dashboard.streams`), never on an event loop or in the AWS pool. Failures before the stream
starts are raised as the project's errors (QuotaExceeded, Throttled, Conflict, ...); a stream
that fails part-way raises `errors.Unavailable` (or the mapped error of an exception event) from
the iterator.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, EventStreamError
from urllib3.exceptions import HTTPError as Urllib3Error

from . import errors
from .clients import call
from .model import iam_action

SERVICE = "devops-agent"
PAGE_SIZE = 20  # ListChats allows at most 20 per page
HISTORY_PAGE = 100


def list_chats(
    space_id: str, *, archived: bool = False, next_token: str | None = None
) -> dict[str, Any]:
    """One page of the caller's chats: {"chats": [...], "nextToken": str | None}."""
    params: dict[str, Any] = {
        "agentSpaceId": space_id,
        "maxResults": PAGE_SIZE,
        "archiveStatus": "ARCHIVED" if archived else "ACTIVE",
    }
    if next_token:
        params["nextToken"] = next_token
    page = call(SERVICE, "ListChats", **params)
    return {"chats": page.get("executions", []), "nextToken": page.get("nextToken")}


def create_chat(space_id: str) -> dict[str, Any]:
    return call(SERVICE, "CreateChat", agentSpaceId=space_id)


def get_chat(space_id: str, chat_id: str) -> dict[str, Any]:
    return call(SERVICE, "GetChat", agentSpaceId=space_id, executionId=chat_id)


def update_chat(
    space_id: str,
    chat_id: str,
    *,
    summary: str | None = None,
    archive_status: str | None = None,
    client_token: str | None = None,
) -> dict[str, Any]:
    params: dict[str, Any] = {"agentSpaceId": space_id, "executionId": chat_id}
    if summary is not None:
        params["summary"] = summary
    if archive_status is not None:
        params["archiveStatus"] = archive_status
    if client_token:
        params["clientToken"] = client_token
    return call(SERVICE, "UpdateChat", **params)


def history(space_id: str, chat_id: str, *, max_records: int = 500) -> dict[str, Any]:
    """The chat's journal, oldest first: {"records": [...], "truncated": bool}.

    The newest `max_records` are kept when a chat is longer (pages are read newest first).
    """
    records: list[dict[str, Any]] = []
    token: str | None = None
    seen: set[str] = set()
    while len(records) < max_records:
        params: dict[str, Any] = {
            "agentSpaceId": space_id,
            "executionId": chat_id,
            "order": "DESC",
            "limit": HISTORY_PAGE,
        }
        if token:
            params["nextToken"] = token
        page = call(SERVICE, "ListJournalRecords", **params)
        records.extend(page.get("records", []))
        token = page.get("nextToken")
        if not token or token in seen:
            break
        seen.add(token)
    truncated = bool(token) or len(records) > max_records
    records = records[:max_records]
    records.reverse()
    return {"records": records, "truncated": truncated}


def send_params(
    space_id: str,
    chat_id: str,
    content: str,
    *,
    current_page: str = "",
    last_message: str = "",
    user_action_response: str = "",
) -> dict[str, Any]:
    """SendMessage's parameters (also what the audit log records, redacted by the model)."""
    context: dict[str, str] = {}
    if current_page:
        context["currentPage"] = current_page
    if last_message:
        context["lastMessage"] = last_message
    if user_action_response:
        context["userActionResponse"] = user_action_response
    params: dict[str, Any] = {"agentSpaceId": space_id, "executionId": chat_id, "content": content}
    if context:
        params["context"] = context
    return params


class ReplyStream:
    """SendMessage's events as `(event_type, members)` pairs; iterate it once."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        try:
            for event in self._stream:
                for event_type, members in event.items():
                    yield event_type, dict(members or {})
        except EventStreamError as exc:
            error = dict(exc.response.get("Error", {}))
            raise errors.from_client_error(
                error,
                operation="SendMessage",
                service=SERVICE,
                iam_action=iam_action(SERVICE, "SendMessage"),
            ) from exc
        except (BotoCoreError, Urllib3Error, OSError) as exc:
            raise errors.Unavailable(
                f"The reply stream broke off: {exc}",
                code=type(exc).__name__,
                operation="SendMessage",
            ) from exc
        finally:
            self.close()

    def close(self) -> None:
        """Close the HTTP stream (the reader's own thread)."""
        try:
            self._stream.close()
        except Exception:  # closing a half-read stream may fail; it is going away anyway
            return

    def abort(self) -> None:
        """Close it from another thread, to end a read in progress (best effort)."""
        self.close()


def open_reply(params: dict[str, Any]) -> ReplyStream:
    """Call SendMessage (blocking) and return its reply stream; errors of the call itself
    (quota, throttling, conflict, ...) are raised here, before any event."""
    response = call(SERVICE, "SendMessage", **params)
    return ReplyStream(response["events"])
