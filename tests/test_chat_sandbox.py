"""The sandbox's chats through boto3 and botocore's own parsers: CreateChat/ListChats/GetChat/
UpdateChat as the model defines them, SendMessage's event stream (token by token, tool calls
nested by parentId, summary, usage, prompts), grounded answers, the service's rules (archived
chats, one reply per chat, the space's concurrency quota), faults, and the history recorded as
the chat's journal."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from botocore.exceptions import ClientError
from django.core.exceptions import ImproperlyConfigured

from dashboard.aws import chat as aws_chat
from dashboard.aws import errors
from dashboard.aws.clients import client
from dashboard.sandbox import chat_agent
from dashboard.sandbox.models import ChatRecord

from .chat_support import backlog, new_chat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.SANDBOX_CHAT_TOKEN_SECONDS = 0.0
    settings.SANDBOX_CHAT_FAULTS = ""


def events(space_id: str, chat_id: str, content: str, **context: str) -> list[tuple[str, dict]]:
    params = aws_chat.send_params(space_id, chat_id, content, **context)
    return list(aws_chat.open_reply(params))


def test_chats_are_created_listed_read_and_updated(space):
    sid = space["agentSpaceId"]
    created = aws_chat.create_chat(sid)
    assert 32 <= len(created["executionId"]) <= 50
    listed = aws_chat.list_chats(sid)["chats"]
    assert [c["executionId"] for c in listed] == [created["executionId"]]
    got = aws_chat.get_chat(sid, created["executionId"])
    assert got["archiveStatus"] == "ACTIVE" and "summary" not in got
    updated = aws_chat.update_chat(
        sid, created["executionId"], summary="Checkout", client_token="t1"
    )
    assert updated["summary"] == "Checkout"
    # The same token and request again: the same answer, nothing changed twice.
    again = aws_chat.update_chat(sid, created["executionId"], summary="Checkout", client_token="t1")
    assert again["updatedAt"] == updated["updatedAt"]
    with pytest.raises(errors.Conflict):
        aws_chat.update_chat(sid, created["executionId"], summary="Other", client_token="t1")


def test_list_chats_follows_the_models_limits_and_pages(space):
    sid = space["agentSpaceId"]
    for _ in range(5):
        new_chat(sid)
    api = client("devops-agent")
    with pytest.raises(ClientError) as raised:
        api.list_chats(agentSpaceId=sid, maxResults=21)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    first = api.list_chats(agentSpaceId=sid, maxResults=2)
    second = api.list_chats(agentSpaceId=sid, maxResults=2, nextToken=first["nextToken"])
    third = api.list_chats(agentSpaceId=sid, maxResults=2, nextToken=second["nextToken"])
    ids = [c["executionId"] for page in (first, second, third) for c in page["executions"]]
    assert len(ids) == len(set(ids)) == 5 and "nextToken" not in third


def test_unknown_chats_and_spaces_are_not_found(space):
    with pytest.raises(errors.NotFound):
        aws_chat.get_chat(space["agentSpaceId"], "d" * 36)
    with pytest.raises(errors.NotFound):
        aws_chat.create_chat("no-such-space")


def test_a_reply_streams_token_by_token_with_nested_tool_calls(space):
    sid = space["agentSpaceId"]
    made = backlog(sid)
    chat_id = new_chat(sid)
    got = events(sid, chat_id, "What is open?")
    kinds = [k for k, _ in got]
    assert kinds[:3] == ["responseCreated", "responseInProgress", "heartbeat"]
    assert kinds[-2:] == ["summary", "responseCompleted"]
    starts = [m for k, m in got if k == "contentBlockStart"]
    assert [(s["type"], s.get("parentId")) for s in starts[:3]] == [
        ("toolUse", None),
        ("toolResult", "tooluse-1"),
        ("text", None),
    ]
    text = "".join(
        m["delta"]["textDelta"]["text"]
        for k, m in got
        if k == "contentBlockDelta" and m["index"] == 2
    )
    assert text.count(" ") > 10, "one delta per token"
    stop = next(m for k, m in got if k == "contentBlockStop" and m["index"] == 2)
    assert stop["text"] == text
    assert made["CRITICAL"]["title"] in text and made["HIGH"]["title"] in text
    assert made["LOW"]["title"] not in text, "only high-priority tasks"
    tool = "".join(
        m["delta"]["jsonDelta"]["partialJson"]
        for k, m in got
        if k == "contentBlockDelta" and m["index"] == 0
    )
    assert json.loads(tool)["name"] == "ListBacklogTasks"
    usage = got[-1][1]["usage"]
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    numbers = [m["sequenceNumber"] for k, m in got if k != "heartbeat"]
    assert numbers == list(range(1, len(numbers) + 1))


def test_asked_about_a_task_it_summarises_its_journal(space):
    from dashboard.sandbox import demo
    from dashboard.sandbox.models import AgentSpace, BacklogTask

    sid = space["agentSpaceId"]
    row = AgentSpace.objects.get(pk=sid)
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        demo.seed_backlog(row, start, with_approval=False)
    done = BacklogTask.objects.filter(space=row, status="COMPLETED", task_type="INVESTIGATION")
    task = done.first()
    assert task is not None
    chat_id = new_chat(sid)
    got = events(sid, chat_id, f"Tell me about {task.task_id}")
    names = [
        json.loads(
            "".join(
                m["delta"]["jsonDelta"]["partialJson"]
                for k, m in got
                if k == "contentBlockDelta" and m["index"] == s["index"]
            )
        )["name"]
        for k, s in got
        if k == "contentBlockStart" and s["type"] == "toolUse"
    ]
    assert names == ["GetBacklogTask", "ListJournalRecords"]
    text = next(m["text"] for k, m in got if k == "contentBlockStop" and m.get("text"))
    assert task.title in text and "**Root cause" in text and "**Findings.**" in text


def test_an_action_request_ends_with_a_prompt_and_its_answer_is_acknowledged(space):
    sid = space["agentSpaceId"]
    backlog(sid)
    chat_id = new_chat(sid)
    got = events(sid, chat_id, "Please restart checkout-api, the 5xx are back")
    prompt_start = next(m for k, m in got if k == "contentBlockStart" and m["type"] == "userAction")
    body = "".join(
        m["delta"]["jsonDelta"]["partialJson"]
        for k, m in got
        if k == "contentBlockDelta" and m["index"] == prompt_start["index"]
    )
    choices = json.loads(body)["choices"]
    answer = events(sid, chat_id, "", user_action_response=choices[0])
    text = next(m["text"] for k, m in answer if k == "contentBlockStop" and m.get("text"))
    assert f"You chose **{choices[0]}**" in text


def test_an_empty_message_needs_an_answer_to_a_prompt(space):
    sid = space["agentSpaceId"]
    chat_id = new_chat(sid)
    with pytest.raises(errors.ValidationFailed):
        aws_chat.open_reply(aws_chat.send_params(sid, chat_id, "  "))


def test_archived_chats_refuse_messages_with_the_models_reason(space):
    sid = space["agentSpaceId"]
    chat_id = new_chat(sid)
    aws_chat.update_chat(sid, chat_id, archive_status="ARCHIVED")
    with pytest.raises(errors.Conflict) as raised:
        aws_chat.open_reply(aws_chat.send_params(sid, chat_id, "hello"))
    assert raised.value.reason == "CHAT_ARCHIVED"
    assert aws_chat.list_chats(sid)["chats"] == []
    assert len(aws_chat.list_chats(sid, archived=True)["chats"]) == 1


def test_one_reply_at_a_time_per_chat_and_a_quota_per_space(space, settings):
    settings.SANDBOX_CHAT_CONCURRENCY = 2
    sid = space["agentSpaceId"]
    first, second, third = (new_chat(sid) for _ in range(3))
    # Opened but not read: the replies are in flight.
    streams = [aws_chat.open_reply(aws_chat.send_params(sid, c, "hi")) for c in (first, second)]
    with pytest.raises(errors.Conflict):
        aws_chat.open_reply(aws_chat.send_params(sid, first, "again"))
    with pytest.raises(errors.QuotaExceeded) as raised:
        aws_chat.open_reply(aws_chat.send_params(sid, third, "hi"))
    assert "2 chat replies in progress" in raised.value.message
    for stream in streams:
        list(stream)
    list(aws_chat.open_reply(aws_chat.send_params(sid, third, "hi")))  # room again


def test_history_is_the_chats_journal_and_a_dead_reply_reads_as_interrupted(space):
    sid = space["agentSpaceId"]
    chat_id = new_chat(sid)
    start = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        events(sid, chat_id, "What is open?")
        stream = aws_chat.open_reply(aws_chat.send_params(sid, chat_id, "and now?"))
        reader = iter(stream)
        next(reader)  # the reader stops here, as if its process had died
        history = aws_chat.history(sid, chat_id)["records"]
    assert [r["recordType"] for r in history] == [
        "CHAT_MESSAGE",
        "CHAT_RESPONSE",
        "CHAT_MESSAGE",
        "CHAT_RESPONSE",
    ]
    assert history[1]["content"]["state"] == "COMPLETED"
    assert history[1]["content"]["blocks"][-1]["type"] in ("text", "userAction")
    assert history[3]["content"]["state"] == "IN_PROGRESS"
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        later = aws_chat.history(sid, chat_id)["records"]
    assert later[3]["content"]["state"] == "INTERRUPTED"
    assert aws_chat.get_chat(sid, chat_id)["summary"] == "What is open?"
    reader.close()


def test_a_reply_whose_reader_went_away_is_finished_and_recorded_whole(space):
    """The agent does not depend on its reader: a console process that dies mid-reply (its
    connection closes) finds the whole reply in the chat's journal afterwards."""
    sid = space["agentSpaceId"]
    chat_id = new_chat(sid)
    stream = aws_chat.open_reply(aws_chat.send_params(sid, chat_id, "What is open?"))
    iterator = iter(stream)
    next(iterator)
    iterator.close()
    reply = ChatRecord.objects.get(record_type="CHAT_RESPONSE")
    assert reply.state == "COMPLETED"
    assert reply.content["blocks"] and reply.content["blocks"][-1]["text"]
    assert reply.content["usage"]["outputTokens"] > 0


def test_a_reply_cut_by_a_fault_stays_interrupted_when_its_reader_closes(space, settings):
    settings.SANDBOX_CHAT_FAULTS = "stall=1,stall_seconds=0"
    sid = space["agentSpaceId"]
    chat_id = new_chat(sid)
    stream = aws_chat.open_reply(aws_chat.send_params(sid, chat_id, "What is open?"))
    iterator = iter(stream)
    next(iterator)
    iterator.close()
    reply = ChatRecord.objects.get(record_type="CHAT_RESPONSE")
    assert reply.state == "INTERRUPTED"


def test_chat_faults_fail_or_cut_a_reply(space, settings):
    sid = space["agentSpaceId"]
    settings.SANDBOX_CHAT_FAULTS = "fail=1"
    got = events(sid, new_chat(sid), "What is open?")
    assert got[-1][0] == "responseFailed"
    assert got[-1][1]["errorCode"] == "InternalServerException"
    settings.SANDBOX_CHAT_FAULTS = "cut=1"
    got = events(sid, new_chat(sid), "What is open?")
    assert got[-1][0] == "contentBlockDelta", "the stream just stops"
    assert not any(k in ("responseCompleted", "responseFailed") for k, _ in got)


def test_bad_chat_fault_settings_fail_loudly():
    with pytest.raises(ImproperlyConfigured):
        chat_agent.parse_faults("explode=1")
    with pytest.raises(ImproperlyConfigured):
        chat_agent.parse_faults("fail=2")
    with pytest.raises(ImproperlyConfigured):
        chat_agent.parse_faults("cut=often")


def test_the_same_message_gets_the_same_reply(space):
    sid = space["agentSpaceId"]
    backlog(sid)

    def reply() -> str:
        got = events(sid, new_chat(sid), "What is open?")
        return next(m["text"] for k, m in got if k == "contentBlockStop" and m.get("text"))

    assert reply() == reply()
