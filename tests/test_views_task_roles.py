"""Who may do what on a task: anonymous users sign in first, viewers read (no controls, 403 on
every write), operators act."""

from __future__ import annotations

import pytest
import time_machine

from dashboard.aws import tasks as aws_tasks

from .test_views_task_support import HX, START, create, executions, records, run_until


@pytest.fixture
def setup(space):
    """A task waiting for an approval: every control the task page has is on it."""
    sid = space["agentSpaceId"]
    with time_machine.travel(START, tick=False) as clock:
        task = create(sid, "approval")
        task = run_until(clock, sid, task["taskId"], "PENDING_CUSTOMER_APPROVAL")
        (execution,) = executions(sid, task["taskId"])
        (request,) = records(sid, execution["executionId"], record_type="APPROVAL_REQUEST")
        base = f"/spaces/{sid}/tasks/{task['taskId']}/"
        yield {
            "task": task,
            "detail": base,
            "journal": f"{base}executions/{execution['executionId']}/journal/",
            "status": f"{base}status/",
            "create": f"/spaces/{sid}/tasks/new/",
            "approval": f"/spaces/{sid}/approvals/{request['content']['approvalId']}/",
            "execution": execution,
        }


READS = ["detail", "journal"]
WRITES = {
    "create": {"task_type": "INVESTIGATION", "title": "Viewer's task", "priority": "LOW"},
    "status": {
        "status": "CANCELED",
        "version": "0",
        "seen_status": "PENDING_CUSTOMER_APPROVAL",
        "confirm": "1",
    },
    "approval": {"action": "APPROVED"},
}


@pytest.mark.parametrize("name", READS + list(WRITES))
def test_anonymous_users_are_sent_to_sign_in(anon_client, setup, name):
    response = anon_client.get(setup[name])
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    if name in WRITES:
        response = anon_client.post(setup[name], WRITES[name])
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_anonymous_htmx_requests_redirect_the_whole_page(anon_client, setup):
    response = anon_client.get(
        setup["journal"], headers={**HX, "HX-Current-URL": "http://testserver" + setup["detail"]}
    )
    assert response["HX-Redirect"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", READS)
@pytest.mark.parametrize("headers", [{}, HX])
def test_viewers_read_everything(viewer_client, setup, name, headers):
    assert viewer_client.get(setup[name], headers=headers).status_code == 200


def test_viewers_see_no_controls(viewer_client, setup):
    body = viewer_client.get(setup["detail"]).content.decode()
    assert (
        'method="post"' not in body.replace('action="/accounts/logout/"', "").split("<main", 1)[1]
    )
    assert "Cancel task" not in body
    assert ">Approve</button>" not in body
    assert "Actions" not in body
    assert "approval-card" in body  # the request itself is visible


@pytest.mark.parametrize("name", list(WRITES))
@pytest.mark.parametrize("headers", [{}, HX])
def test_viewers_get_403_on_every_write(viewer_client, setup, name, headers):
    data = {
        **WRITES[name],
        "task": setup["task"]["taskId"],
        "execution": setup["execution"]["executionId"],
    }
    response = viewer_client.post(setup[name], data, headers=headers)
    assert response.status_code == 403
    if headers:
        assert response["HX-Retarget"] == "#alerts"
    now = aws_tasks.get_task(setup["task"]["agentSpaceId"], setup["task"]["taskId"])
    assert now == setup["task"]
    titles = {t["title"] for t in aws_tasks.iter_tasks(setup["task"]["agentSpaceId"])}
    assert "Viewer's task" not in titles


@pytest.mark.parametrize("name", list(WRITES))
def test_viewers_get_403_on_the_write_forms_too(viewer_client, setup, name):
    assert viewer_client.get(setup[name]).status_code == 403


def test_operators_see_the_controls(operator_client, setup):
    body = operator_client.get(setup["detail"]).content.decode()
    assert "Cancel task…" in body
    assert ">Approve</button>" in body and ">Reject</button>" in body


@pytest.mark.parametrize("name", list(WRITES))
def test_operators_may_open_every_write_form(operator_client, setup, name):
    response = operator_client.get(setup[name])
    assert response.status_code == 200
    assert f'action="{setup[name]}"' in response.content.decode()  # the form, posting here


def test_admins_are_operators_too(admin_client, setup):
    response = admin_client.post(
        setup["status"], {**WRITES["status"], "version": setup["task"]["version"]}
    )
    assert response.status_code == 302
    now = aws_tasks.get_task(setup["task"]["agentSpaceId"], setup["task"]["taskId"])
    assert now["status"] == "CANCELED"
