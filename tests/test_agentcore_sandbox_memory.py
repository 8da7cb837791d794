"""The sandbox's AgentCore Memory through the real boto3 client: events (create, idempotency,
branches, filters, paging, delete), sessions and actors, memory records (namespaces, filters,
expiry, batch writes) and retrieval by relevance; and the demo seed."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from botocore.exceptions import ClientError
from django.core.management import call_command

from dashboard.aws.clients import client
from dashboard.sandbox import demo_memory
from dashboard.sandbox.models import Memory, MemoryEvent, MemoryRecord, MemorySession

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
MEMORY = "TestMemory-abcdef1234"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def agentcore():
    return client("bedrock-agentcore")


@pytest.fixture
def memory(clock) -> Memory:
    return Memory.objects.create(memory_id=MEMORY, name="Test", created_at=START)


def _say(role: str, text: str) -> list[dict]:
    return [{"conversational": {"role": role, "content": {"text": text}}}]


def _event(agentcore, text: str = "hello", *, at=None, actor="user/1", session="s-1", **extra):
    return agentcore.create_event(
        memoryId=MEMORY,
        actorId=actor,
        sessionId=session,
        eventTimestamp=at or START,
        payload=extra.pop("payload", None) or _say("USER", text),
        **extra,
    )["event"]


def _code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


# --- events ----------------------------------------------------------------------------------


def test_it_creates_an_event_and_reads_it_back(agentcore, memory):
    created = _event(agentcore, "Why is checkout failing?", metadata={"k": {"stringValue": "v"}})
    assert created["eventId"].split("#")[0] == f"{int(START.timestamp() * 1000):019d}"
    got = agentcore.get_event(
        memoryId=MEMORY, actorId="user/1", sessionId="s-1", eventId=created["eventId"]
    )["event"]
    assert got["payload"] == _say("USER", "Why is checkout failing?")
    assert got["metadata"] == {"k": {"stringValue": "v"}}
    assert got["eventTimestamp"] == START
    assert "branch" not in got


def test_it_accepts_the_memory_arn_as_its_id(agentcore, memory):
    _event(agentcore)
    arn = f"arn:aws:bedrock-agentcore:us-east-1:123456789012:memory/{MEMORY}"
    assert agentcore.list_actors(memoryId=arn)["actorSummaries"] == [{"actorId": "user/1"}]


def test_an_unknown_memory_is_not_found_and_a_malformed_id_is_invalid(agentcore, memory):
    with pytest.raises(ClientError) as exc:
        agentcore.list_actors(memoryId="OtherMemory-abcdef1234")
    assert _code(exc) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        agentcore.list_actors(memoryId="not a memory id")
    assert _code(exc) == "ValidationException"


def test_a_repeated_client_token_answers_the_first_event(agentcore, memory):
    first = _event(agentcore, "once", clientToken="tok-1")
    again = _event(agentcore, "twice", clientToken="tok-1")
    assert again["eventId"] == first["eventId"]
    assert MemoryEvent.objects.count() == 1


def test_a_payload_item_must_hold_exactly_one_kind(memory):
    # boto3 refuses such a payload itself; another SDK might send it.
    from dashboard.sandbox import wire

    both = {"conversational": {"role": "USER", "content": {"text": "x"}}, "blob": {"a": 1}}
    body = {"actorId": "u", "sessionId": "s", "eventTimestamp": 1.0, "payload": [both]}
    response = wire.dispatch(
        "bedrock-agentcore",
        "POST",
        f"https://example.test/memories/{MEMORY}/events",
        {"Content-Type": "application/json"},
        json.dumps(body).encode(),
    )
    assert response.status == 400
    assert response.headers["x-amzn-errortype"] == "ValidationException"
    assert b"exactly one of" in response.body
    assert not MemoryEvent.objects.exists()


def test_blob_and_json_payloads_round_trip_as_documents(agentcore, memory):
    payload = [{"blob": {"tool": "x", "rows": [1, 2]}}, {"json": {"content": {"a": [True]}}}]
    created = _event(agentcore, payload=payload)
    listed = agentcore.list_events(memoryId=MEMORY, actorId="user/1", sessionId="s-1")["events"]
    assert listed[0]["payload"] == payload == created["payload"]


def test_events_list_oldest_first_in_pages(agentcore, memory):
    for minute in (3, 1, 2):
        _event(agentcore, f"m{minute}", at=START + dt.timedelta(minutes=minute))
    first = agentcore.list_events(memoryId=MEMORY, actorId="user/1", sessionId="s-1", maxResults=2)
    texts = [e["payload"][0]["conversational"]["content"]["text"] for e in first["events"]]
    assert texts == ["m1", "m2"]
    rest = agentcore.list_events(
        memoryId=MEMORY, actorId="user/1", sessionId="s-1", nextToken=first["nextToken"]
    )
    assert [e["payload"][0]["conversational"]["content"]["text"] for e in rest["events"]] == ["m3"]
    assert "nextToken" not in rest


def test_events_can_be_listed_without_payloads(agentcore, memory):
    _event(agentcore)
    listed = agentcore.list_events(
        memoryId=MEMORY, actorId="user/1", sessionId="s-1", includePayloads=False
    )
    assert listed["events"][0]["payload"] == []


def test_a_next_token_of_another_listing_is_refused(agentcore, memory):
    for minute in range(3):
        _event(agentcore, at=START + dt.timedelta(minutes=minute))
    token = agentcore.list_events(memoryId=MEMORY, actorId="user/1", sessionId="s-1", maxResults=1)[
        "nextToken"
    ]
    with pytest.raises(ClientError) as exc:
        agentcore.list_events(memoryId=MEMORY, actorId="user/1", sessionId="s-2", nextToken=token)
    assert _code(exc) == "ValidationException"


def _branchy(agentcore) -> dict[str, str]:
    ids = {}
    ids["q"] = _event(agentcore, "question", at=START)["eventId"]
    ids["a"] = _event(agentcore, "answer", at=START + dt.timedelta(minutes=1))["eventId"]
    ids["later"] = _event(agentcore, "main later", at=START + dt.timedelta(minutes=5))["eventId"]
    ids["b1"] = _event(
        agentcore,
        "branch first",
        at=START + dt.timedelta(minutes=2),
        branch={"name": "retry-1", "rootEventId": ids["q"]},
    )["eventId"]
    ids["b2"] = _event(
        agentcore, "branch second", at=START + dt.timedelta(minutes=3), branch={"name": "retry-1"}
    )["eventId"]
    return ids


def _texts(events: list[dict]) -> list[str]:
    return [e["payload"][0]["conversational"]["content"]["text"] for e in events]


def test_a_branch_forks_from_a_root_event_and_later_events_follow_it(agentcore, memory):
    ids = _branchy(agentcore)
    second = agentcore.get_event(
        memoryId=MEMORY, actorId="user/1", sessionId="s-1", eventId=ids["b2"]
    )["event"]
    assert second["branch"] == {"name": "retry-1", "rootEventId": ids["q"]}


def test_the_branch_filter_selects_a_branch_with_or_without_its_parents(agentcore, memory):
    _branchy(agentcore)

    def listed(**branch):
        return _texts(
            agentcore.list_events(
                memoryId=MEMORY, actorId="user/1", sessionId="s-1", filter={"branch": branch}
            )["events"]
        )

    assert listed(name="retry-1") == ["branch first", "branch second"]
    assert listed(name="retry-1", includeParentBranches=True) == [
        "question",
        "branch first",
        "branch second",
    ]
    assert listed(name="main") == ["question", "answer", "main later"]
    all_events = agentcore.list_events(memoryId=MEMORY, actorId="user/1", sessionId="s-1")
    assert len(all_events["events"]) == 5


def test_a_new_branch_needs_an_existing_root_event(agentcore, memory):
    _event(agentcore)
    with pytest.raises(ClientError) as exc:
        _event(agentcore, branch={"name": "alt"})
    assert _code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        _event(agentcore, branch={"name": "alt", "rootEventId": "123#abc"})
    assert _code(exc) == "ResourceNotFoundException"


def test_events_filter_by_metadata(agentcore, memory):
    _event(agentcore, "tagged", metadata={"incident": {"stringValue": "INC-1"}})
    _event(agentcore, "other", metadata={"incident": {"stringValue": "INC-2"}})
    _event(agentcore, "plain")

    def listed(*expressions):
        return _texts(
            agentcore.list_events(
                memoryId=MEMORY,
                actorId="user/1",
                sessionId="s-1",
                filter={"eventMetadata": list(expressions)},
            )["events"]
        )

    equals = {
        "left": {"metadataKey": "incident"},
        "operator": "EQUALS_TO",
        "right": {"metadataValue": {"stringValue": "INC-1"}},
    }
    assert listed(equals) == ["tagged"]
    assert listed({"left": {"metadataKey": "incident"}, "operator": "NOT_EXISTS"}) == ["plain"]


def test_deleting_an_event_removes_it(agentcore, memory):
    created = _event(agentcore)
    answer = agentcore.delete_event(
        memoryId=MEMORY, actorId="user/1", sessionId="s-1", eventId=created["eventId"]
    )
    assert answer["eventId"] == created["eventId"]
    with pytest.raises(ClientError) as exc:
        agentcore.get_event(
            memoryId=MEMORY, actorId="user/1", sessionId="s-1", eventId=created["eventId"]
        )
    assert _code(exc) == "ResourceNotFoundException"


def test_an_event_is_found_only_under_its_own_actor_and_session(agentcore, memory):
    created = _event(agentcore)
    with pytest.raises(ClientError) as exc:
        agentcore.get_event(
            memoryId=MEMORY, actorId="user/2", sessionId="s-1", eventId=created["eventId"]
        )
    assert _code(exc) == "ResourceNotFoundException"


# --- sessions and actors ---------------------------------------------------------------------


def test_sessions_list_newest_first_and_actors_by_id(agentcore, memory, clock):
    _event(agentcore, session="old", actor="zed")
    clock.shift(dt.timedelta(minutes=5))
    _event(agentcore, session="new", actor="zed")
    _event(agentcore, session="x", actor="amy:1")
    sessions = agentcore.list_sessions(memoryId=MEMORY, actorId="zed")["sessionSummaries"]
    assert [s["sessionId"] for s in sessions] == ["new", "old"]
    assert sessions[0]["createdAt"] == START + dt.timedelta(minutes=5)
    actors = agentcore.list_actors(memoryId=MEMORY, maxResults=1)
    assert actors["actorSummaries"] == [{"actorId": "amy:1"}]
    rest = agentcore.list_actors(memoryId=MEMORY, nextToken=actors["nextToken"])
    assert rest["actorSummaries"] == [{"actorId": "zed"}]


def test_a_session_without_events_disappears_after_a_day(agentcore, memory, clock):
    created = _event(agentcore, session="gone")
    agentcore.delete_event(
        memoryId=MEMORY, actorId="user/1", sessionId="gone", eventId=created["eventId"]
    )
    listed = agentcore.list_sessions(memoryId=MEMORY, actorId="user/1")["sessionSummaries"]
    assert [s["sessionId"] for s in listed] == ["gone"]
    only_full = agentcore.list_sessions(
        memoryId=MEMORY, actorId="user/1", filter={"eventFilter": "HAS_EVENTS"}
    )
    assert only_full["sessionSummaries"] == []
    clock.shift(dt.timedelta(days=1, minutes=1))
    assert agentcore.list_sessions(memoryId=MEMORY, actorId="user/1")["sessionSummaries"] == []
    assert agentcore.list_actors(memoryId=MEMORY)["actorSummaries"] == []


# --- records ---------------------------------------------------------------------------------


def _create_records(agentcore, *items, same_request_id: bool = False, **extra) -> dict:
    records = [
        {
            "requestIdentifier": "r0" if same_request_id else f"r{index}",
            "namespaces": [namespace] if namespace else [],
            "content": {"text": text},
            "timestamp": START,
            **more,
        }
        for index, (namespace, text, more) in enumerate(items)
    ]
    return agentcore.batch_create_memory_records(memoryId=MEMORY, records=records, **extra)


def test_batch_create_writes_records_and_reports_each(agentcore, memory):
    answer = _create_records(
        agentcore,
        ("/facts/u1", "Priya owns checkout-api", {"memoryStrategyId": "facts"}),
        ("/facts/u1", "Another", {}),
        same_request_id=True,
    )
    assert [r["requestIdentifier"] for r in answer["successfulRecords"]] == ["r0"]
    assert answer["failedRecords"][0]["status"] == "FAILED"
    assert answer["failedRecords"][0]["errorCode"] == 400
    record_id = answer["successfulRecords"][0]["memoryRecordId"]
    assert record_id.startswith("mem-") and 40 <= len(record_id) <= 50
    got = agentcore.get_memory_record(memoryId=MEMORY, memoryRecordId=record_id)["memoryRecord"]
    assert got["content"] == {"text": "Priya owns checkout-api"}
    assert got["namespaces"] == ["/facts/u1"]
    assert got["memoryStrategyId"] == "facts"


def test_batch_create_with_a_repeated_client_token_creates_nothing_new(agentcore, memory):
    first = _create_records(agentcore, ("/a", "one", {}), clientToken="t1")
    again = _create_records(agentcore, ("/a", "one", {}), clientToken="t1")
    assert again["successfulRecords"] == first["successfulRecords"]
    assert MemoryRecord.objects.count() == 1


def test_listing_records_needs_a_namespace_or_a_path(agentcore, memory):
    with pytest.raises(ClientError) as exc:
        agentcore.list_memory_records(memoryId=MEMORY)
    assert _code(exc) == "ValidationException"


def test_records_list_by_exact_namespace_or_by_path(agentcore, memory):
    _create_records(
        agentcore,
        ("/facts/u1", "fact one", {}),
        ("/facts/u1/deep", "deep fact", {}),
        ("/facts/u10", "other user", {}),
        ("/prefs/u1", "a preference", {}),
    )

    def texts(**scope):
        page = agentcore.list_memory_records(memoryId=MEMORY, **scope)
        return sorted(r["content"]["text"] for r in page["memoryRecordSummaries"])

    assert texts(namespace="/facts/u1") == ["fact one"]
    assert texts(namespacePath="/facts/u1") == ["deep fact", "fact one"]
    assert texts(namespacePath="/") == ["a preference", "deep fact", "fact one", "other user"]


def test_records_filter_by_strategy_and_metadata_and_page(agentcore, memory):
    _create_records(
        agentcore,
        ("/n", "a", {"memoryStrategyId": "s1", "metadata": {"svc": {"stringValue": "x"}}}),
        ("/n", "b", {"memoryStrategyId": "s1", "metadata": {"svc": {"stringValue": "y"}}}),
        ("/n", "c", {"memoryStrategyId": "s2"}),
    )
    page = agentcore.list_memory_records(memoryId=MEMORY, namespace="/n", memoryStrategyId="s1")
    assert sorted(r["content"]["text"] for r in page["memoryRecordSummaries"]) == ["a", "b"]
    filtered = agentcore.list_memory_records(
        memoryId=MEMORY,
        namespace="/n",
        metadataFilters=[
            {
                "left": {"metadataKey": "svc"},
                "operator": "EQUALS_TO",
                "right": {"metadataValue": {"stringValue": "y"}},
            }
        ],
    )
    assert [r["content"]["text"] for r in filtered["memoryRecordSummaries"]] == ["b"]
    first = agentcore.list_memory_records(memoryId=MEMORY, namespace="/n", maxResults=2)
    assert len(first["memoryRecordSummaries"]) == 2
    rest = agentcore.list_memory_records(
        memoryId=MEMORY, namespace="/n", maxResults=2, nextToken=first["nextToken"]
    )
    assert len(rest["memoryRecordSummaries"]) == 1 and "nextToken" not in rest


def test_expired_records_are_gone(agentcore, memory, clock):
    _create_records(
        agentcore,
        ("/n", "short-lived", {}),
        recordExpirySpecification={"recordExpiryDurationDays": 31},
    )
    assert (
        len(agentcore.list_memory_records(memoryId=MEMORY, namespace="/n")["memoryRecordSummaries"])
        == 1
    )
    clock.shift(dt.timedelta(days=31, seconds=1))
    assert (
        agentcore.list_memory_records(memoryId=MEMORY, namespace="/n")["memoryRecordSummaries"]
        == []
    )


def test_batch_update_changes_records_and_reports_missing_ones(agentcore, memory):
    created = _create_records(agentcore, ("/n", "old text", {}))
    record_id = created["successfulRecords"][0]["memoryRecordId"]
    missing = "mem-00000000-0000-0000-0000-000000000000"
    answer = agentcore.batch_update_memory_records(
        memoryId=MEMORY,
        records=[
            {
                "memoryRecordId": record_id,
                "timestamp": START,
                "content": {"text": "new text"},
                "namespaces": ["/moved"],
            },
            {"memoryRecordId": missing, "timestamp": START},
        ],
    )
    assert [r["memoryRecordId"] for r in answer["successfulRecords"]] == [record_id]
    assert answer["failedRecords"][0]["errorCode"] == 404
    got = agentcore.get_memory_record(memoryId=MEMORY, memoryRecordId=record_id)["memoryRecord"]
    assert got["content"]["text"] == "new text" and got["namespaces"] == ["/moved"]


def test_delete_and_batch_delete_remove_records(agentcore, memory):
    created = _create_records(agentcore, ("/n", "one", {}), ("/n", "two", {}))
    one, two = (r["memoryRecordId"] for r in created["successfulRecords"])
    answer = agentcore.delete_memory_record(memoryId=MEMORY, memoryRecordId=one)
    assert answer["memoryRecordId"] == one
    with pytest.raises(ClientError) as exc:
        agentcore.get_memory_record(memoryId=MEMORY, memoryRecordId=one)
    assert _code(exc) == "ResourceNotFoundException"
    answer = agentcore.batch_delete_memory_records(
        memoryId=MEMORY, records=[{"memoryRecordId": two}, {"memoryRecordId": one}]
    )
    assert [r["memoryRecordId"] for r in answer["successfulRecords"]] == [two]
    assert [r["memoryRecordId"] for r in answer["failedRecords"]] == [one]
    assert MemoryRecord.objects.count() == 0


# --- retrieval -------------------------------------------------------------------------------


def test_retrieval_ranks_records_by_relevance_within_scope(agentcore, memory):
    _create_records(
        agentcore,
        ("/facts/u1", "The settlement batch exhausts database connections at night", {}),
        ("/facts/u1", "checkout-api deploys through the blue/green pipeline", {}),
        ("/facts/u1", "Database connections: max_connections is 2000", {}),
        ("/facts/u2", "Database connections everywhere", {}),
    )
    answer = agentcore.retrieve_memory_records(
        memoryId=MEMORY,
        namespace="/facts/u1",
        searchCriteria={"searchQuery": "settlement database connections"},
    )
    found = answer["memoryRecordSummaries"]
    assert [r["content"]["text"][:14] for r in found] == ["The settlement", "Database conne"]
    assert 0 < found[1]["score"] < found[0]["score"] <= 1


def test_retrieval_honours_top_k_and_pages(agentcore, memory):
    _create_records(agentcore, *(("/n", f"incident note {i}", {}) for i in range(5)))
    top = agentcore.retrieve_memory_records(
        memoryId=MEMORY,
        namespace="/n",
        searchCriteria={"searchQuery": "incident", "topK": 3},
        maxResults=2,
    )
    assert len(top["memoryRecordSummaries"]) == 2
    rest = agentcore.retrieve_memory_records(
        memoryId=MEMORY,
        namespace="/n",
        searchCriteria={"searchQuery": "incident", "topK": 3},
        maxResults=2,
        nextToken=top["nextToken"],
    )
    assert len(rest["memoryRecordSummaries"]) == 1 and "nextToken" not in rest


def test_retrieval_without_a_shared_term_finds_nothing(agentcore, memory):
    _create_records(agentcore, ("/n", "checkout deploys", {}))
    answer = agentcore.retrieve_memory_records(
        memoryId=MEMORY, namespace="/n", searchCriteria={"searchQuery": "kinesis"}
    )
    assert answer["memoryRecordSummaries"] == []


# --- the seed --------------------------------------------------------------------------------


def test_the_seed_writes_believable_memories_once(agentcore, clock):
    counts = demo_memory.seed_memories(START)
    assert counts["memories"] == 2 and counts["events"] > 20 and counts["records"] > 15
    assert demo_memory.seed_memories(START)["memories"] == 0
    memory_id = demo_memory.TRIAGE_MEMORY
    actors = {a["actorId"] for a in agentcore.list_actors(memoryId=memory_id)["actorSummaries"]}
    assert {"oncall/priya-raman", "oncall/marcus-lee", "service:payments-api"} <= actors
    events = agentcore.list_events(
        memoryId=memory_id,
        actorId="oncall/priya-raman",
        sessionId="inc-4821-checkout-5xx",
        maxResults=100,
    )["events"]
    roles = {
        p["conversational"]["role"] for e in events for p in e["payload"] if "conversational" in p
    }
    assert roles == {"USER", "ASSISTANT", "TOOL"}
    assert any("blob" in p for e in events for p in e["payload"])
    branched = [e for e in events if e.get("branch")]
    assert branched and all(b["branch"]["name"] == "rollback-option" for b in branched)
    roots = {e["eventId"] for e in events}
    assert branched[0]["branch"]["rootEventId"] in roots


def test_seed_sandbox_adds_agentcore_to_a_sandbox_seeded_before(clock, space):
    call_command("seed_sandbox")  # spaces exist: the spaces part is skipped
    assert Memory.objects.filter(pk=demo_memory.TRIAGE_MEMORY).exists()
    assert MemorySession.objects.exists()
    call_command("seed_sandbox")
    assert Memory.objects.count() == 2
