"""Who may do what with what needs people: every role against the inbox, the space overview,
the task page's banner, the incident report and the answer to an approval. Viewers read
everything and see no control they cannot use; operators and admins answer; nobody signed
out gets anything."""

from __future__ import annotations

import pytest
import time_machine
from django.core.cache import cache

from .test_views_task_support import START, create, executions, records, run_until

ROLES = ["anonymous", "viewer", "operator", "admin"]
CLIENTS = {
    "anonymous": "anon_client",
    "viewer": "viewer_client",
    "operator": "operator_client",
    "admin": "admin_client",
}
ANSWERS = {"operator", "admin"}


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def waiting(space):
    with time_machine.travel(START, tick=False) as clock:
        sid = space["agentSpaceId"]
        task = create(sid, "approval")
        task = run_until(clock, sid, task["taskId"], "PENDING_CUSTOMER_APPROVAL")
        (execution,) = executions(sid, task["taskId"])
        (request,) = records(sid, execution["executionId"], record_type="APPROVAL_REQUEST")
        yield {"space": sid, "task": task, "execution": execution, "request": request}


def _pages(w: dict) -> dict[str, str]:
    sid, tid = w["space"], w["task"]["taskId"]
    return {
        "inbox": "/inbox/",
        "overview": f"/spaces/{sid}/",
        "task": f"/spaces/{sid}/tasks/{tid}/",
        "report": f"/spaces/{sid}/tasks/{tid}/report/",
        "report.md": f"/spaces/{sid}/tasks/{tid}/report.md",
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", ["inbox", "overview", "task", "report", "report.md"])
def test_reading(request, role, page, waiting):
    client = request.getfixturevalue(CLIENTS[role])
    response = client.get(_pages(waiting)[page])
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        return
    assert response.status_code == 200
    body = response.content.decode()
    tool = waiting["request"]["content"]["tool"]
    if page != "report.md":
        assert tool in body
    controls = ">Approve</button>" in body or ">Reject</button>" in body
    if page in ("inbox", "overview", "task"):
        # The controls exist for those who may use them, and for no one else.
        assert controls is (role in ANSWERS), (role, page)
        assert ("data-can-operate" in body) is (role in ANSWERS)
    else:
        assert not controls  # a report is for reading


@pytest.mark.parametrize("role", ROLES)
def test_answering_from_the_inbox(request, role, waiting):
    client = request.getfixturevalue(CLIENTS[role])
    approval_id = waiting["request"]["content"]["approvalId"]
    response = client.post(
        f"/spaces/{waiting['space']}/approvals/{approval_id}/",
        {
            "task": waiting["task"]["taskId"],
            "execution": waiting["execution"]["executionId"],
            "action": "APPROVED",
            "next": "inbox",
        },
    )
    answered = records(
        waiting["space"], waiting["execution"]["executionId"], record_type="APPROVAL_RESPONSE"
    )
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        assert answered == []
    elif role == "viewer":
        assert response.status_code == 403
        assert answered == []
    else:
        assert response.status_code == 302 and response["Location"] == "/inbox/"
        assert [a["content"]["action"] for a in answered] == ["APPROVED"]
