"""The trigger pages: list with paging and status filter, create (schedule expressions checked
before anything is sent, good and bad; AWS's own field errors next to the field; input kept),
the live expression check, pause and resume with the guard, delete with confirmation, and the
admin role they need."""

from __future__ import annotations

import re

import pytest

from dashboard.aws import clients as aws_clients
from dashboard.aws import errors
from dashboard.aws import prevention as aws
from dashboard.core.models import AuditEntry
from dashboard.prevention import live

from .test_prevention_support import HX
from .test_views_task_support import form_with_button, text

pytestmark = pytest.mark.django_db

ACTION = {"actionType": "create:task", "task": {"agent": "custom:cost-optimizer"}}


@pytest.fixture
def sid(space) -> str:
    return space["agentSpaceId"]


@pytest.fixture
def broadcasts(monkeypatch):
    sent: list[tuple] = []
    monkeypatch.setattr(live, "trigger_changed", lambda *args: sent.append(args))
    return sent


@pytest.fixture
def calls(monkeypatch):
    """Every AWS call the views make (to prove a bad form sends nothing)."""
    made: list[str] = []
    real = aws_clients.call

    def call(service, operation, **params):
        made.append(operation)
        return real(service, operation, **params)

    monkeypatch.setattr(aws, "call", call)
    return made


def _new(sid: str) -> str:
    return f"/spaces/{sid}/triggers/new/"


def _make(sid: str, expression: str = "rate(1 day)", **extra) -> dict:
    return aws.create_trigger(
        sid, trigger_type="TIME_BASED", expression=expression, action=ACTION, **extra
    )


def _form(**extra) -> dict:
    return {
        "trigger_type": "TIME_BASED",
        "expression": "cron(0 9 ? * MON-FRI *)",
        "agent": "custom:cost-optimizer",
        "action_json": "",
        "status": "Active",
        **extra,
    }


def test_the_list_shows_schedules_readings_and_next_runs(viewer_client, sid):
    active = _make(sid, "cron(0 9 ? * MON-FRI *)")
    paused = _make(sid, "rate(7 days)", status="Inactive")
    body = text(viewer_client.get(f"/spaces/{sid}/triggers/"))
    assert re.findall(r'<tr id="trigger-([^"]+)"', body) == [
        active["triggerId"],
        paused["triggerId"],
    ]
    assert "At 09:00, Monday through Friday (UTC)" in body and "Every 7 days" in body
    assert "custom:cost-optimizer" in body and "Paused" in body
    filtered = text(viewer_client.get(f"/spaces/{sid}/triggers/", {"status": "Inactive"}))
    assert re.findall(r'<tr id="trigger-([^"]+)"', filtered) == [paused["triggerId"]]
    assert "New trigger" not in body  # a viewer cannot create one


def test_an_admin_creates_a_trigger(admin_client, sid, broadcasts):
    response = admin_client.post(_new(sid), _form())
    assert response.status_code == 302
    [made] = aws.list_triggers(sid)["triggers"]
    assert made["condition"] == {"schedule": {"expression": "cron(0 9 ? * MON-FRI *)"}}
    assert made["action"] == ACTION and made["status"] == "Active"
    assert response["Location"] == f"/spaces/{sid}/triggers/{made['triggerId']}/"
    assert broadcasts == [(sid, made["triggerId"], made)]
    entry = AuditEntry.objects.get(operation="CreateTrigger")
    assert entry.outcome == AuditEntry.OK and entry.detail["condition"]["schedule"]["expression"]
    page = text(admin_client.get(response["Location"]))
    assert "Runs at 09:00, Monday through Friday (UTC)" in page and "Pause" in page


def test_a_trigger_can_carry_its_action_as_json(admin_client, sid):
    action = '{"actionType": "create:task", "task": {"agent": "custom:x1", "prompt": "Be brief"}}'
    response = admin_client.post(_new(sid), _form(agent="", action_json=action, status="Inactive"))
    assert response.status_code == 302
    [made] = aws.list_triggers(sid)["triggers"]
    assert made["action"]["task"]["prompt"] == "Be brief" and made["status"] == "Inactive"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("rate(1 days)", "singular: rate(1 day)"),
        ("rate(0 minutes)", "whole number of 1 or more"),
        ("cron(0 9 * * MON-FRI *)", "? in exactly one of day-of-month and day-of-week"),
        ("cron(0 25 ? * * *)", "hours: 25 is out of range (0-23)"),
        ("cron(0 9 ? *)", "has 6 fields"),
        ("every monday", "Start with rate(...) or cron(...)"),
        ("", "This field is required."),
        ("rate(\u00b2 days)", "whole number of 1 or more"),  # was a ValueError: a 500
    ],
)
def test_bad_expressions_are_refused_before_aws_and_the_form_is_kept(
    admin_client, sid, calls, expression, message
):
    response = admin_client.post(_new(sid), _form(expression=expression, agent="custom:keep-me"))
    assert response.status_code == 400
    body = text(response)
    error = re.search(r'<ul class="errorlist" id="id_expression_error">(.*?)</ul>', body, re.S)
    assert error and message in error.group(1)
    assert 'value="custom:keep-me"' in body  # nothing typed is lost
    assert "CreateTrigger" not in calls and aws.list_triggers(sid)["triggers"] == []


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"agent": "cost optimizer"}, "agent", "custom:&lt;assetId&gt;"),
        ({"agent": ""}, "agent", "Name the custom agent"),
        ({"agent": "", "action_json": "{not json"}, "action_json", "not valid JSON"),
        ({"agent": "", "action_json": "[1, 2]"}, "action_json", "actionType"),
        ({"action_json": '{"actionType": "create:task"}'}, "action_json", "not both"),
        ({"status": "Paused"}, "status", "Select a valid choice"),
    ],
)
def test_other_fields_are_checked_too(admin_client, sid, calls, extra, field, message):
    response = admin_client.post(_new(sid), _form(**extra))
    assert response.status_code == 400
    body = response.content.decode()
    assert re.search(rf'<ul class="errorlist"[^>]*>(?:(?!</ul>).)*{re.escape(message)}', body, re.S)
    assert "CreateTrigger" not in calls


DEEP = '{"actionType": "create:task", "task": {"agent": "custom:a"}, "x": ' + "[" * 9000
DEEP += "]" * 9000 + "}"
SURROGATE = '{"actionType": "create:task", "task": {"agent": "custom:a"}, "note": "\\ud800"}'


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (DEEP, "nested more than 64 levels deep"),  # was a RecursionError: a 500
        (SURROGATE, "unpaired"),  # was created, and its page a UnicodeEncodeError
        (SURROGATE.replace('"\\ud800"', "NaN"), "NaN is not a JSON number"),  # was a 503
        (SURROGATE.replace('"\\ud800"', "1e999"), "too large a number"),
    ],
)
def test_action_json_that_nothing_downstream_can_carry_is_refused_and_kept(
    admin_client, sid, calls, action, message
):
    response = admin_client.post(_new(sid), _form(agent="", action_json=action))
    assert response.status_code == 400
    body = response.content.decode()
    error = re.search(r'<ul class="errorlist" id="id_action_json_error">(.*?)</ul>', body, re.S)
    assert error and message in error.group(1)
    assert action[-60:].replace('"', "&quot;") in body  # the typed text is still there
    assert "CreateTrigger" not in calls


def test_a_refused_create_keeps_what_was_typed(admin_client, sid, monkeypatch):
    def refuse(*args, **kwargs):
        raise errors.AccessDenied(
            "The role may not call CreateTrigger.", code="AccessDeniedException"
        )

    monkeypatch.setattr(aws, "create_trigger", refuse)
    response = admin_client.post(_new(sid), _form(agent="custom:keep-me"))
    assert response.status_code == 403
    body = text(response)
    assert "The role may not call CreateTrigger." in body
    assert 'value="custom:keep-me"' in body and 'value="cron(0 9 ? * MON-FRI *)"' in body


def test_aws_field_errors_land_next_to_the_field(admin_client, sid, monkeypatch):
    def refuse(*args, **kwargs):
        raise errors.ValidationFailed(
            "1 validation error detected",
            code="ValidationException",
            fields={"action.task": "No custom agent custom:gone exists in this space."},
        )

    monkeypatch.setattr(aws, "create_trigger", refuse)
    response = admin_client.post(_new(sid), _form(agent="custom:gone"))
    assert response.status_code == 400
    body = text(response)
    assert re.search(r'id="id_agent_error">\s*<li>No custom agent custom:gone exists', body)
    assert AuditEntry.objects.get().outcome == AuditEntry.FAILED


def test_the_quota_is_explained_and_nothing_typed_is_lost(admin_client, sid):
    for n in range(25):
        _make(sid, f"rate({n + 2} days)")
    response = admin_client.post(_new(sid), _form(expression="rate(1 hour)"))
    assert response.status_code == 429
    body = text(response)
    assert "at most 25 triggers" in body and 'value="rate(1 hour)"' in body


def test_the_expression_is_checked_as_it_is_typed(viewer_client, sid):
    ok = text(viewer_client.get(f"/spaces/{sid}/triggers/check/", {"expression": "rate(7 days)"}))
    assert "Valid: runs every 7 days." in ok
    bad = text(viewer_client.get(f"/spaces/{sid}/triggers/check/", {"expression": "rate(7 day)"}))
    assert "plural: rate(7 days)" in bad
    empty = text(viewer_client.get(f"/spaces/{sid}/triggers/check/", {"expression": ""}))
    assert "check-bad" not in empty


# --- pause, resume, delete ---------------------------------------------------------------------


def test_an_admin_pauses_and_resumes_a_trigger(admin_client, sid, broadcasts):
    made = _make(sid)
    page = f"/spaces/{sid}/triggers/{made['triggerId']}/"
    form = form_with_button(text(admin_client.get(page)), "Pause")
    assert form["data"]["seen_status"] == "Active" and form["data"]["status"] == "Inactive"
    assert admin_client.post(form["action"], form["data"]).status_code == 302
    assert aws.get_trigger(sid, made["triggerId"])["status"] == "Inactive"
    form = form_with_button(text(admin_client.get(page)), "Resume")
    response = admin_client.post(form["action"], form["data"], headers=HX)
    assert response.status_code == 200 and "Pause" in text(response)
    assert aws.get_trigger(sid, made["triggerId"])["status"] == "Active"
    assert len(broadcasts) == 2


def test_a_trigger_changed_meanwhile_is_not_overwritten(admin_client, sid):
    made = _make(sid)
    page = f"/spaces/{sid}/triggers/{made['triggerId']}/"
    form = form_with_button(text(admin_client.get(page)), "Pause")
    aws.set_trigger_status(sid, made["triggerId"], "Inactive")  # someone else
    aws.set_trigger_status(sid, made["triggerId"], "Active")  # ...and back again
    response = admin_client.post(form["action"], form["data"])
    assert response.status_code == 409
    body = text(response)
    assert "This trigger changed since you looked at it" in body
    reapply = form_with_button(body, "Re-apply: pause")
    assert admin_client.post(reapply["action"], reapply["data"]).status_code == 302
    assert aws.get_trigger(sid, made["triggerId"])["status"] == "Inactive"


def test_delete_asks_first_then_deletes(admin_client, sid, broadcasts):
    made = _make(sid)
    page = text(admin_client.get(f"/spaces/{sid}/triggers/{made['triggerId']}/"))
    delete_url = re.search(r'href="([^"]+/delete/)"', page).group(1)
    confirm = text(admin_client.get(delete_url))
    assert "Delete this trigger?" in confirm and "cannot be recovered" in confirm
    assert aws.get_trigger(sid, made["triggerId"])  # not yet
    form = form_with_button(confirm, "Delete the trigger")
    response = admin_client.post(form["action"], form["data"])
    assert response.status_code == 302 and response["Location"] == f"/spaces/{sid}/triggers/"
    with pytest.raises(errors.NotFound):
        aws.get_trigger(sid, made["triggerId"])
    assert broadcasts == [(sid, made["triggerId"], None)]
    assert AuditEntry.objects.get(operation="DeleteTrigger").outcome == AuditEntry.OK


def test_delete_refuses_when_the_trigger_changed_since_the_confirmation(admin_client, sid):
    made = _make(sid)
    confirm = text(admin_client.get(f"/spaces/{sid}/triggers/{made['triggerId']}/delete/"))
    form = form_with_button(confirm, "Delete the trigger")
    aws.set_trigger_status(sid, made["triggerId"], "Inactive")
    response = admin_client.post(form["action"], form["data"])
    assert response.status_code == 409
    assert "changed since you looked at it" in text(response)
    assert aws.get_trigger(sid, made["triggerId"])["status"] == "Inactive"


@pytest.mark.parametrize("who", ["viewer_client", "operator_client"])
def test_it_returns_403_for_non_admins(request, sid, who):
    client = request.getfixturevalue(who)
    made = _make(sid)
    base = f"/spaces/{sid}/triggers/{made['triggerId']}/"
    assert client.get(f"/spaces/{sid}/triggers/").status_code == 200
    assert client.get(base).status_code == 200
    assert "Pause" not in text(client.get(base))
    assert client.get(_new(sid)).status_code == 403
    assert client.post(_new(sid), _form()).status_code == 403
    seen = {"status": "Inactive", "seen_status": "Active", "seen_updated": "x"}
    assert client.post(base + "status/", seen).status_code == 403
    assert client.get(base + "delete/").status_code == 403
    assert client.post(base + "delete/", seen).status_code == 403
    assert aws.get_trigger(sid, made["triggerId"])["status"] == "Active"
    assert len(aws.list_triggers(sid)["triggers"]) == 1


def test_odd_digits_in_the_live_check_are_a_problem_not_a_500(viewer_client, sid):
    bad = viewer_client.get(f"/spaces/{sid}/triggers/check/", {"expression": "cron(0 0 ² * ? *)"})
    assert bad.status_code == 200
    assert "day-of-month: &#x27;²&#x27; is not a value" in bad.content.decode()


def test_a_trigger_whose_next_run_is_beyond_the_calendar_still_shows(viewer_client, sid):
    made = _make(sid, "rate(9999999999 days)")
    listing = viewer_client.get(f"/spaces/{sid}/triggers/")
    assert listing.status_code == 200
    html = listing.content.decode()
    row = html[html.index(f'id="trigger-{made["triggerId"]}"') :].split("</tr>", 1)[0]
    assert "Every 9999999999 days" in row
    assert '<td class="nowrap"><span class="muted">—</span></td>' in row  # no next run
    detail = viewer_client.get(f"/spaces/{sid}/triggers/{made['triggerId']}/")
    assert detail.status_code == 200
    assert '<dt>Next run</dt><dd><span class="muted">Unknown</span></dd>' in detail.content.decode()


def test_the_same_form_sent_twice_creates_one_trigger(admin_client, sid):
    page = admin_client.get(_new(sid)).content.decode()
    token = re.search(r'name="client_token" value="([^"]+)"', page)
    assert token
    data = _form(client_token=token.group(1))
    first = admin_client.post(_new(sid), data)
    again = admin_client.post(_new(sid), data)  # a double click, or a retry after a 5xx
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert len(aws.list_triggers(sid)["triggers"]) == 1
    # Another form (another token) is another trigger.
    other = re.search(r'name="client_token" value="([^"]+)"', admin_client.get(_new(sid)).text)
    assert other and other.group(1) != token.group(1)
    admin_client.post(_new(sid), _form(client_token=other.group(1)))
    assert len(aws.list_triggers(sid)["triggers"]) == 2
