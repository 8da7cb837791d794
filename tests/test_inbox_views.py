"""The inbox across agent spaces: each kind of item in its list, from two spaces; the filters in
the URL; what each role sees; reads shared within an interval; the top bar's way in."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core.cache import cache

from dashboard.aws import clients as aws_clients
from dashboard.aws import spaces as aws_spaces
from dashboard.inbox import live, needs
from dashboard.live import store

from .test_prevention_support import make_rec
from .test_views_task_support import (
    HX,
    START,
    create,
    executions,
    form_with_button,
    records,
    run_until,
    text,
    triage_task,
)


@pytest.fixture(autouse=True)
def _clean_cache():
    # Shared reads and snapshots live in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


class Calls:
    """The AWS operations the console sends, by name."""

    def __init__(self) -> None:
        self.names: list[str] = []
        aws_clients.client("devops-agent").meta.events.register("before-call", self)

    def __call__(self, model, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.names.append(model.name)

    def count(self, name: str) -> int:
        return self.names.count(name)


@pytest.fixture
def world(db, clock):
    """Two spaces: Payments has an approval waiting, a task waiting for triage and a new
    recommendation; Checkout has an investigation that found its root cause, one that failed,
    and a failure and a recommendation too old to be news."""
    payments = aws_spaces.create_space(name="Payments")["agentSpaceId"]
    checkout = aws_spaces.create_space(name="Checkout")["agentSpaceId"]

    old_failure = create(checkout, "fail", title="Old disk alarm")
    run_until(clock, checkout, old_failure["taskId"], "FAILED")
    old_rec = make_rec(checkout, title="Old advice", at=START - dt.timedelta(days=9))
    clock.shift(dt.timedelta(hours=25))

    solved = create(checkout, "complete", title="Checkout latency")
    failed = create(checkout, "fail", title="Queue backlog")
    solved = run_until(clock, checkout, solved["taskId"], "COMPLETED")
    failed = run_until(clock, checkout, failed["taskId"], "FAILED")
    waiting = create(payments, "approval", title="5xx spike on payments-api", priority="CRITICAL")
    waiting = run_until(clock, payments, waiting["taskId"], "PENDING_CUSTOMER_APPROVAL")
    (execution,) = executions(payments, waiting["taskId"])
    (request,) = records(payments, execution["executionId"], record_type="APPROVAL_REQUEST")
    triage = triage_task(payments, title="Disk usage alarm on ledger-db", priority="HIGH")
    rec = make_rec(payments, title="Alarm on payments-api p99")
    (cause,) = records(
        checkout, executions(checkout, solved["taskId"])[0]["executionId"], record_type="ROOT_CAUSE"
    )
    return {
        "payments": payments,
        "checkout": checkout,
        "waiting": waiting,
        "request": request,
        "triage": triage,
        "rec": rec,
        "solved": solved,
        "cause": cause,
        "failed": failed,
        "old_failure": old_failure,
        "old_rec": old_rec,
    }


def _section(body: str, slot: str) -> str:
    found = re.search(
        rf'<div class="need-list[^"]*" data-needs-list="{slot}">(.*?)</div>\s*<p class="need-empty',
        body,
        re.S,
    )
    assert found is not None, f"no {slot} list"
    return found.group(1)


def _titles(section: str) -> list[str]:
    return re.findall(r'class="need-title"[^>]*>([^<]*)<', section)


def test_each_kind_is_listed_from_both_spaces(operator_client, world):
    body = text(operator_client.get("/inbox/"))

    approvals = _section(body, "approvals")
    assert _titles(approvals) == ["5xx spike on payments-api"]
    content = world["request"]["content"]
    assert f"The agent asks to run <code>{content['tool']}</code>" in approvals
    for name in content["arguments"]:
        assert f"<dt>{name}</dt>" in approvals
    expires = dt.datetime.fromisoformat(content["expiresAt"]).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert f'title="{expires}">in ' in approvals  # its expiry, and how far off it is
    assert ">Payments</a>" in approvals  # the space it is in
    assert f"#record-{world['request']['recordId']}" in approvals

    assert _titles(_section(body, "investigations")) == ["Disk usage alarm on ledger-db"]
    causes = _section(body, "root-causes")
    assert _titles(causes) == ["Checkout latency"]
    assert world["cause"]["content"]["title"] in causes
    assert ">Checkout</a>" in causes
    # Failed and proposed lately only: the older ones are not news.
    assert _titles(_section(body, "failed")) == ["Queue backlog"]
    recs = _section(body, "recommendations")
    assert _titles(recs) == [world["rec"]["title"]]
    assert world["rec"]["recommendationId"] in recs
    assert "Old disk alarm" not in body and world["old_rec"]["recommendationId"] not in body


def test_work_is_ordered_critical_and_high_first_then_oldest(operator_client, world, clock):
    payments = world["payments"]
    clock.shift(60)
    triage_task(payments, title="Low thing, older", priority="LOW")
    clock.shift(60)
    triage_task(payments, title="Critical thing, newer", priority="CRITICAL")
    body = text(operator_client.get("/inbox/"))
    assert _titles(_section(body, "investigations")) == [
        "Critical thing, newer",
        "Disk usage alarm on ledger-db",
        "Low thing, older",
    ]


def test_filters_by_kind_and_space_are_in_the_url(operator_client, world):
    only = text(operator_client.get("/inbox/?kind=approvals&kind=failed&kind=nonsense"))
    assert 'data-needs-list="approvals"' in only and 'data-needs-list="failed"' in only
    for slot in ("investigations", "root-causes", "recommendations"):
        assert f'data-needs-list="{slot}"' not in only
    assert 'value="approvals" checked' in only and 'value="failed" checked' in only
    # Beside another list, a long one shows its first eight and links to itself alone.
    assert 'class="need-list need-capped" data-needs-list="failed"' in only
    assert 'href="/inbox/?kind=failed"' in only
    alone = text(operator_client.get("/inbox/?kind=failed"))
    assert 'class="need-list" data-needs-list="failed"' in alone

    checkout = text(operator_client.get(f"/inbox/?space={world['checkout']}"))
    assert _titles(_section(checkout, "approvals")) == []
    assert _titles(_section(checkout, "root-causes")) == ["Checkout latency"]
    assert f'value="{world["checkout"]}" checked' in checkout
    # The page's socket watches the chosen spaces only.
    assert f'/ws/inbox/?spaces={world["checkout"]}"' in checkout


def test_an_operator_answers_in_place_a_viewer_reads(operator_client, viewer_client, world):
    operator = text(operator_client.get("/inbox/"))
    form = form_with_button(operator, "Approve")
    approval_id = world["request"]["content"]["approvalId"]
    assert form["action"] == f"/spaces/{world['payments']}/approvals/{approval_id}/"
    assert form["data"]["next"] == "inbox"
    assert form["data"]["task"] == world["waiting"]["taskId"]
    assert 'id="inbox-live"' in operator and "data-can-operate" in operator

    viewer = text(viewer_client.get("/inbox/"))
    assert _titles(_section(viewer, "approvals")) == ["5xx spike on payments-api"]
    assert ">Approve</button>" not in viewer and ">Reject</button>" not in viewer
    assert "data-can-operate" not in viewer
    assert "An operator answers approvals." in viewer


def test_approving_from_the_inbox_comes_back_to_it(operator_client, world):
    form = form_with_button(text(operator_client.get("/inbox/")), "Approve")
    response = operator_client.post(form["action"], {**form["data"], "action": "APPROVED"})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    page = text(operator_client.get("/inbox/"))
    assert "Approved the request (now approved)." in page
    assert _titles(_section(page, "approvals")) == []


def test_approving_with_htmx_answers_in_the_same_element(operator_client, world):
    form = form_with_button(text(operator_client.get("/inbox/")), "Reject")
    approval_id = world["request"]["content"]["approvalId"]
    dom = f"approval-inbox-{approval_id}"
    response = operator_client.post(
        form["action"],
        {**form["data"], "action": "REJECTED"},
        headers={**HX, "HX-Target": dom},
    )
    assert response.status_code == 200
    body = text(response)
    assert f'id="{dom}"' in body and "Rejected the request (now rejected)." in body
    assert "HX-Redirect" not in response


def test_an_anonymous_visitor_is_sent_to_sign_in(anon_client, world):
    response = anon_client.get("/inbox/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_page_within_the_interval_reads_nothing_again(operator_client, world, settings):
    settings.LIVE_POLL_INTERVAL = 60
    operator_client.get("/inbox/")
    calls = Calls()
    second = text(operator_client.get("/inbox/"))
    assert _titles(_section(second, "approvals")) == ["5xx spike on payments-api"]
    assert calls.count("ListBacklogTasks") == 0
    assert calls.count("ListRecommendations") == 0
    assert calls.count("ListJournalRecords") == 0


def test_a_space_aws_would_not_read_is_said_and_the_rest_shown(operator_client, world, monkeypatch):
    from dashboard.aws import errors

    real = needs.fetch_space

    def flaky(space_id: str):
        if space_id == world["checkout"]:
            raise errors.Throttled("AWS is throttling requests.", code="ThrottlingException")
        return real(space_id)

    monkeypatch.setattr(needs, "fetch_space", flaky)
    response = operator_client.get("/inbox/")
    assert response.status_code == 200
    body = text(response)
    assert "<strong>Checkout</strong> could not be read: AWS is throttling requests." in body
    assert _titles(_section(body, "approvals")) == ["5xx spike on payments-api"]


def test_the_page_hands_its_items_to_the_live_watch(operator_client, world):
    operator_client.get("/inbox/")
    state = store.load(live.inbox_key(world["payments"]))
    assert state is not None
    approval_id = world["request"]["content"]["approvalId"]
    assert f"approval:{approval_id}" in state["items"]


def test_the_top_bar_links_to_the_inbox_with_the_count_when_known(operator_client, world):
    page = text(operator_client.get(f"/spaces/{world['payments']}/tasks/"))
    link = re.search(r'<a id="needs-count"[^>]*>.*?</a>', page, re.S).group(0)
    assert 'href="/inbox/"' in link and 'data-count=""' in link
    assert 'ws-connect="/ws/needs/"' in page and "data-live-quiet" in page

    store.save(live.NEEDS_KEY, live.fetch_needs())
    page = text(operator_client.get(f"/spaces/{world['payments']}/tasks/"))
    link = re.search(r'<a id="needs-count"[^>]*>.*?</a>', page, re.S).group(0)
    assert 'data-count="1"' in link and "1<span" in link
    assert "<title>(1) Board" in page


def test_pushed_items_are_role_neutral():
    item = {
        "kind": needs.APPROVAL,
        "spaceId": "s1",
        "spaceName": "Payments",
        "taskId": "t1",
        "title": "5xx spike",
        "priority": "HIGH",
        "status": "PENDING_CUSTOMER_APPROVAL",
        "approvalId": "019df239-434c-750f-b53d-486bff0e2a0b",
        "executionId": "e1",
        "recordId": "r1",
        "tool": "restart",
        "arguments": {"service": "payments-api"},
        "argumentsCut": False,
        "reason": "",
        "ttlSecondsAllowed": True,
        "singleUseAllowed": True,
        "expiresAt": None,
        "at": START,
    }
    from dashboard.live import CREATED, Change

    html = live.render_inbox(Change(live.inbox_key("s1"), CREATED, "approval:x", item))
    assert 'hx-swap-oob="beforeend:#needs-sink"' in html
    controls = re.search(r'<div class="operator-only need-answer">.*?</form>', html, re.S)
    assert controls is not None and ">Approve</button>" in controls.group(0)
    assert "csrfmiddlewaretoken" not in html
    assert html.count(">Approve</button>") == 1


def test_without_spaces_it_says_so(viewer_client, db):
    body = text(viewer_client.get("/inbox/"))
    assert "No agent spaces yet" in body
    assert 'href="/spaces/"' in body and "data-needs-list" not in body


def test_new_approvals_and_root_causes_make_notices_old_news_does_not():
    from django.utils import timezone

    from dashboard.live import CREATED, UPDATED, Change

    now = timezone.now()
    cause = {
        "kind": needs.ROOT_CAUSE,
        "spaceId": "s1",
        "spaceName": "Payments",
        "taskId": "t1",
        "title": "5xx spike",
        "tool": "",
        "rootCause": "Pool exhausted <b>",
        "recordId": "r1",
        "at": now,
    }
    notice = live.render_needs(Change(live.NEEDS_KEY, CREATED, "s1/rootcause:t1", cause))
    assert 'data-kind="root-cause"' in notice
    assert 'data-title="Root cause found: Pool exhausted &lt;b&gt;"' in notice
    assert 'data-body="5xx spike · Payments"' in notice
    assert 'data-url="/spaces/s1/tasks/t1/#root-cause"' in notice
    assert 'hx-swap-oob="beforeend:#needs-notify"' in notice
    # Found long ago (a space read again after a failure), or changed: no notice.
    old = {**cause, "at": now - dt.timedelta(hours=2)}
    assert live.render_needs(Change(live.NEEDS_KEY, CREATED, "s1/rootcause:t1", old)) == ""
    assert live.render_needs(Change(live.NEEDS_KEY, UPDATED, "s1/rootcause:t1", cause)) == ""
    count = live.render_needs(Change(live.NEEDS_KEY, UPDATED, live.TOTAL, 2))
    assert 'id="needs-count"' in count and 'data-count="2"' in count


def test_a_task_triaged_in_the_console_leaves_the_inbox_at_once(
    operator_client, world, monkeypatch
):
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(live, "publish", lambda key, html: sent.append((key, html)))
    operator_client.get("/inbox/")  # the page hands its items to the watch
    triage = world["triage"]
    response = operator_client.post(
        f"/spaces/{world['payments']}/tasks/{triage['taskId']}/status/",
        {"status": "SKIPPED", "version": triage["version"], "seen_status": "PENDING_TRIAGE"},
    )
    assert response.status_code == 302
    ((key, html),) = sent
    assert key == live.inbox_key(world["payments"])
    assert f'id="{live.dom_id(world["payments"], "task:" + triage["taskId"])}"' in html
    assert 'data-live="deleted"' in html
