"""The memory explorer's pages on the seeded sandbox: choosing a memory, memory → actors →
sessions → the conversation (roles, blobs, branches), event detail, paging, ids checked before
AWS is asked, records by namespace, record detail, and retrieval."""

from __future__ import annotations

import datetime as dt
import html as html_lib

import pytest
import time_machine
from django.urls import reverse

from dashboard.sandbox import demo_memory, wire

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
MEMORY = demo_memory.TRIAGE_MEMORY
PRIYA = "oncall/priya-raman"
CHECKOUT = "inc-4821-checkout-5xx"


@pytest.fixture(autouse=True)
def seeded():
    with time_machine.travel(START, tick=False):
        demo_memory.seed_memories(START)
        yield


@pytest.fixture
def calls(monkeypatch):
    """The sandbox operations each request made, in order."""
    made: list[str] = []
    original = wire.dispatch

    def spy(service, method, url, headers, body):
        response = original(service, method, url, headers, body)
        made.append(response.headers.get("x-amzn-errortype") or url.split("?")[0])
        return response

    monkeypatch.setattr(wire, "dispatch", spy)
    return made


def data_plane(calls: list[str]) -> list[str]:
    """The calls made to the data plane (the control plane's lists and reads left out)."""
    return [c for c in calls if "bedrock-agentcore-control." not in c]


def _page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.content.decode()[:2000]
    return response.content.decode()


def test_the_chooser_lists_the_accounts_memories_from_the_control_plane(viewer_client, calls):
    html = _page(viewer_client, reverse("agentcore:memory-choose"))
    listed = html.split('aria-label="Memories"')[1].split("</ul>")[0]
    assert reverse("agentcore:memory", args=[MEMORY]) in listed
    assert reverse("agentcore:memory", args=[demo_memory.SUPPORT_MEMORY]) in listed
    assert [c.rsplit("/", 2)[-2:] for c in calls] == [["memories", ""]]  # ListMemories


def test_the_chooser_pages_the_memories(viewer_client, monkeypatch):
    from dashboard.agentcore import views_memory

    monkeypatch.setattr(views_memory, "MEMORY_PAGE", 1)
    html = _page(viewer_client, reverse("agentcore:memory-choose"))
    first = html.split('aria-label="Memories"')[1].split("</ul>")[0]
    assert first.count('class="ac-pick"') == 1
    more = html_lib.unescape(first.split('hx-get="')[1].split('"')[0])
    fragment = viewer_client.get(more, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and fragment.count('class="ac-pick"') == 1
    shown = {m for m in (MEMORY, demo_memory.SUPPORT_MEMORY) if m in first or m in fragment}
    assert shown == {MEMORY, demo_memory.SUPPORT_MEMORY}
    # Without JavaScript the same link is a page of its own, with a way back.
    assert "Back to the first" in _page(viewer_client, more)


def test_the_chooser_says_why_memories_are_not_listed_and_still_opens_by_id(
    viewer_client, monkeypatch
):
    from dashboard.aws import agentcore_memory, errors

    def denied(**_):
        raise errors.AccessDenied(
            "Not authorized: bedrock-agentcore:ListMemories", code="AccessDeniedException"
        )

    monkeypatch.setattr(agentcore_memory, "list_memories", denied)
    html = _page(viewer_client, reverse("agentcore:memory-choose"))
    assert "bedrock-agentcore:ListMemories" in html and 'name="memory"' in html


def test_the_chooser_opens_a_memory_by_id_or_arn(viewer_client):
    arn = f"arn:aws:bedrock-agentcore:us-east-1:123456789012:memory/{MEMORY}"
    response = viewer_client.get(reverse("agentcore:memory-choose"), {"memory": arn})
    assert response.status_code == 302
    assert response["Location"] == reverse("agentcore:memory", args=[MEMORY])


def test_the_chooser_explains_a_malformed_id_and_keeps_it(viewer_client, calls):
    response = viewer_client.get(reverse("agentcore:memory-choose"), {"memory": "not valid!"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Does not match the format AWS requires" in html
    assert 'value="not valid!"' in html
    assert data_plane(calls) == []


def test_a_memory_that_does_not_exist_comes_back_to_the_chooser(viewer_client):
    html = _page(viewer_client, reverse("agentcore:memory", args=["NoSuchMemory-abcdef1234"]), 404)
    assert "No memory NoSuchMemory-abcdef1234" in html
    assert 'name="memory"' in html


def test_opened_memories_are_remembered_for_the_user(viewer_client):
    _page(viewer_client, reverse("agentcore:memory", args=[demo_memory.SUPPORT_MEMORY]))
    html = _page(viewer_client, reverse("agentcore:memory-choose"))
    lately = html.split("Opened lately")[1]
    assert demo_memory.SUPPORT_MEMORY in lately and MEMORY not in lately


def test_memory_lists_actors_linked_to_their_sessions(viewer_client):
    html = _page(viewer_client, reverse("agentcore:memory", args=[MEMORY]))
    actor_url = reverse("agentcore:memory-actor", args=[MEMORY, PRIYA])
    assert actor_url.endswith("/actors/oncall~priya-raman/")
    assert f'href="{actor_url}"' in html
    assert "service:payments-api" in html
    # Its name, description and strategies come from the control plane (GetMemory).
    assert "DevOpsTriageAssistant" in html and "incident conversations" in html
    strategies = html.split('aria-label="Strategies"')[1].split("</ul>")[0]
    assert "/facts/{actorId}" in strategies and "Preferences" in strategies
    facts = reverse("agentcore:memory-records", args=[MEMORY])
    assert f"{facts}?namespace=%2Ffacts%2F&amp;scope=path&amp;strategy={demo_memory.FACTS}" in (
        strategies
    )


def test_actors_page_with_load_more(viewer_client, monkeypatch):
    from dashboard.agentcore import views_memory

    monkeypatch.setattr(views_memory, "PAGE", 2)
    url = reverse("agentcore:memory", args=[MEMORY])
    html = _page(viewer_client, url)
    assert "oncall/marcus-lee" in html and "service:payments-api" not in html
    more = html_lib.unescape(html.split('hx-get="')[1].split('"')[0])
    fragment = viewer_client.get(more, HTTP_HX_REQUEST="true").content.decode()
    assert "service:payments-api" in fragment and "<html" not in fragment
    # Without JavaScript the same link is a page of its own, with a way back.
    page = _page(viewer_client, more)
    assert "service:payments-api" in page and "Back to the first" in page


def test_actor_page_lists_sessions_newest_first(viewer_client):
    html = _page(viewer_client, reverse("agentcore:memory-actor", args=[MEMORY, PRIYA]))
    assert html.index("inc-4830-rds-connections") < html.index(CHECKOUT)
    assert html.index(CHECKOUT) < html.index("weekly-handover-2026w18")
    assert reverse("agentcore:memory-session", args=[MEMORY, PRIYA, CHECKOUT]) in html
    crumbs = html.split('class="crumbs"')[1].split("</nav>")[0]
    assert reverse("agentcore:memory", args=[MEMORY]) in crumbs


def test_the_conversation_shows_roles_blobs_and_branches(viewer_client):
    html = _page(viewer_client, reverse("agentcore:memory-session", args=[MEMORY, PRIYA, CHECKOUT]))
    assert "mem-msg role-user" in html and "mem-msg role-assistant" in html
    assert "mem-msg role-tool" in html
    # The assistant's Markdown is rendered (sanitized), the blob as a JSON tree.
    assert "<strong>v2.14.0</strong>" in html
    assert "pool.maxConnections" in html and 'class="jt-root"' in html
    # The branch: its events are marked, and the event it forks from says so.
    assert "on-branch" in html and "↳ rollback-option" in html
    assert "branch rollback-option</a> forks here" in html
    assert "incident" in html and "INC-4821" in html  # event metadata


def test_the_branch_filter_shows_a_branch_with_the_conversation_before_it(viewer_client):
    url = reverse("agentcore:memory-session", args=[MEMORY, PRIYA, CHECKOUT])
    html = _page(viewer_client, f"{url}?branch=rollback-option")
    assert "Alternative: roll back" in html
    assert "PagerDuty fired" in html  # before the fork
    assert "Hotfix v2.14.1" not in html  # main, after the fork
    alone = _page(viewer_client, f"{url}?branch=rollback-option&parents=0")
    assert "Alternative: roll back" in alone and "PagerDuty fired" not in alone
    main = _page(viewer_client, f"{url}?branch=main&parents=0")
    assert "Hotfix v2.14.1" in main and "Alternative: roll back" not in main


def test_a_malformed_branch_name_is_ignored_and_said_so(viewer_client):
    url = reverse("agentcore:memory-session", args=[MEMORY, PRIYA, CHECKOUT])
    html = _page(viewer_client, f"{url}?branch=%3Cbad%3E")
    assert "is not a branch name AWS accepts" in html
    assert "&lt;bad&gt;" in html and "<bad>" not in html


def test_event_detail_shows_payload_facts_and_raw_json(viewer_client):
    from dashboard.sandbox.models import MemoryEvent

    event = MemoryEvent.objects.filter(session_id=CHECKOUT, branch_name="rollback-option").first()
    html = _page(
        viewer_client,
        reverse("agentcore:memory-event", args=[MEMORY, PRIYA, CHECKOUT, event.event_id]),
    )
    assert event.event_id in html
    assert "rollback-option" in html and event.branch_root_event_id in html
    assert "Raw event (JSON)" in html
    assert "Delete…" not in html  # viewers do not get the button


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["bad id"], "memory id"),
        ([MEMORY, "bad actor!"], "actor id"),
        ([MEMORY, PRIYA, "bad session!"], "session id"),
        ([MEMORY, PRIYA, CHECKOUT, "not-an-event-id"], "event id"),
    ],
)
def test_malformed_ids_in_the_url_are_refused_before_aws_is_asked(viewer_client, calls, args, word):
    name = {1: "memory", 2: "memory-actor", 3: "memory-session", 4: "memory-event"}[len(args)]
    html = _page(viewer_client, reverse(f"agentcore:{name}", args=args), 404)
    assert f"is not a valid {word}" in html
    assert calls == []


def test_an_event_that_does_not_exist_is_an_error_page(viewer_client):
    url = reverse("agentcore:memory-event", args=[MEMORY, PRIYA, CHECKOUT, "123#abc"])
    html = _page(viewer_client, url, 404)
    assert "Event 123#abc was not found" in html


def test_records_need_a_namespace_and_offer_the_strategies(viewer_client, calls):
    html = _page(viewer_client, reverse("agentcore:memory-records", args=[MEMORY]))
    strategies = html.split('aria-label="Strategies"')[1].split("</ul>")[0]
    assert "/preferences/" in strategies and "SessionSummaries" in strategies
    assert data_plane(calls) == []  # nothing listed until a namespace is chosen


def test_a_strategy_link_lists_its_records(viewer_client):
    url = reverse("agentcore:memory-records", args=[MEMORY])
    html = _page(
        viewer_client,
        f"{url}?namespace=/preferences/&scope=path&strategy={demo_memory.PREFERENCES}",
    )
    assert "Prefers the runbook link first" in html and "SHARD_PARALLELISM" not in html


def test_records_of_a_namespace_and_of_a_path(viewer_client):
    url = reverse("agentcore:memory-records", args=[MEMORY])
    exact = _page(viewer_client, f"{url}?namespace=/preferences/oncall/priya-raman")
    assert "Prefers the runbook link first" in exact
    assert "SHARD_PARALLELISM" not in exact
    everything = _page(viewer_client, f"{url}?namespace=/&scope=path")
    assert "Prefers the runbook link first" in everything and "SHARD_PARALLELISM" in everything


def test_records_page_with_load_more(viewer_client, monkeypatch):
    from dashboard.agentcore import views_memory

    monkeypatch.setattr(views_memory, "RECORD_PAGE", 5)
    url = reverse("agentcore:memory-records", args=[MEMORY])
    html = _page(viewer_client, f"{url}?namespace=/&scope=path")
    assert html.count('class="mem-record"') == 5
    more = html_lib.unescape(html.split('hx-get="')[1].split('"')[0])
    assert "scope=path" in more and "next=" in more
    fragment = viewer_client.get(more, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.count('class="mem-record"') == 5


def test_a_malformed_namespace_is_explained_next_to_the_field(viewer_client, calls):
    url = reverse("agentcore:memory-records", args=[MEMORY])
    response = viewer_client.get(url, {"namespace": "bad namespace!"})
    assert response.status_code == 400
    assert "Does not match the format AWS requires" in response.content.decode()
    assert data_plane(calls) == []


def test_record_detail_shows_content_and_metadata(viewer_client):
    from dashboard.sandbox.models import MemoryRecord

    record = MemoryRecord.objects.get(text__startswith="RDS Proxy")
    url = reverse("agentcore:memory-record", args=[MEMORY, record.memory_record_id])
    html = _page(viewer_client, f"{url}?namespace={record.namespace}")
    assert "RDS Proxy for payments-ledger-db is planned" in html
    assert "payments-ledger-db" in html and record.memory_strategy_id in html


def test_search_ranks_records_by_relevance_within_a_strategy(viewer_client):
    url = reverse("agentcore:memory-search", args=[MEMORY])
    html = _page(
        viewer_client, f"{url}?q=database+connections+settlement&strategy={demo_memory.FACTS}"
    )
    assert html.index("SHARD_PARALLELISM=32") < html.index("max_connections 2000")
    assert "<meter" in html and "relevance" in html


def test_search_offers_the_memorys_strategies_as_its_choice(viewer_client):
    html = _page(viewer_client, reverse("agentcore:memory-search", args=[MEMORY]))
    select = html.split('name="strategy"')[1].split("</select>")[0]
    for strategy in (demo_memory.FACTS, demo_memory.PREFERENCES, demo_memory.SUMMARIES):
        assert f'value="{strategy}"' in select
    assert 'name="namespace"' not in html  # nothing to type, nothing to get wrong


def test_search_in_a_strategy_without_matches_says_so(viewer_client):
    url = reverse("agentcore:memory-search", args=[MEMORY])
    html = _page(viewer_client, f"{url}?q=kinesis&strategy={demo_memory.PREFERENCES}")
    assert "Nothing in this scope matches" in html


def test_search_refuses_a_strategy_the_memory_does_not_have(viewer_client, calls):
    url = reverse("agentcore:memory-search", args=[MEMORY])
    response = viewer_client.get(url, {"q": "database", "strategy": "otherStrategy-abcdefghij"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert data_plane(calls) == []


def test_search_falls_back_to_a_typed_namespace_when_strategies_cannot_be_read(
    viewer_client, monkeypatch, calls
):
    from dashboard.aws import agentcore_memory, errors

    def denied(memory_id):
        raise errors.AccessDenied(
            "Not authorized: bedrock-agentcore:GetMemory", code="AccessDeniedException"
        )

    monkeypatch.setattr(agentcore_memory, "get_memory", denied)
    url = reverse("agentcore:memory-search", args=[MEMORY])
    html = _page(viewer_client, url)
    assert "bedrock-agentcore:GetMemory" in html and 'name="namespace"' in html
    found = _page(viewer_client, f"{url}?q=database+connections&namespace=/&scope=path")
    assert "SHARD_PARALLELISM=32" in found
    response = viewer_client.get(url, {"q": "database", "namespace": ""})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_api_text_is_escaped_everywhere(operator_client, viewer_client):
    from dashboard.aws.clients import client

    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    client("bedrock-agentcore").create_event(
        memoryId=MEMORY,
        actorId="attacker",
        sessionId="xss",
        eventTimestamp=START,
        payload=[
            {"conversational": {"role": "USER", "content": {"text": hostile}}},
            {"conversational": {"role": "ASSISTANT", "content": {"text": hostile}}},
            {"blob": {"html": hostile, hostile: [hostile]}},
        ],
    )
    html = _page(
        viewer_client, reverse("agentcore:memory-session", args=[MEMORY, "attacker", "xss"])
    )
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_throttled_aws_is_said_with_a_retry_and_htmx_gets_an_alert(viewer_client, settings):
    settings.SANDBOX_FAULTS = "throttle=1"
    url = reverse("agentcore:memory-session", args=[MEMORY, PRIYA, CHECKOUT])
    response = viewer_client.get(url)
    assert response.status_code == 503
    html = response.content.decode()
    assert "AWS is busy" in html and "Retry" in html
    response = viewer_client.get(url + "?next=abc", HTTP_HX_REQUEST="true")
    assert response.status_code == 503
    assert response["HX-Retarget"] == "#alerts"
