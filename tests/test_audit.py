"""Every change made through the console leaves an audit entry: who, what, on what, how it
ended; sensitive parameters never stored."""

from __future__ import annotations

import pytest
from django.test import override_settings

from dashboard.aws import spaces as aws_spaces
from dashboard.core.audit import scrub
from dashboard.core.models import AuditEntry


def _only(operation: str) -> AuditEntry:
    (entry,) = AuditEntry.objects.filter(operation=operation)
    return entry


def test_create_is_recorded_with_the_description_redacted(admin_client, admin_user):
    admin_client.post(
        "/spaces/new/", {"name": "Audited", "description": "secret plans", "locale": "en-GB"}
    )
    entry = _only("CreateAgentSpace")
    assert entry.user == admin_user
    assert entry.username == "alice-admin"
    assert entry.target == "Audited"
    assert entry.outcome == AuditEntry.OK
    assert entry.detail == {"name": "Audited", "description": "[redacted]", "locale": "en-GB"}
    assert "secret plans" not in str(entry.detail)
    assert entry.error == ""


def test_update_is_recorded_with_only_the_changes(admin_client, space):
    url = f"/spaces/{space['agentSpaceId']}/edit/"
    seen = admin_client.get(url).context["form"]["seen_updated_at"].value()
    admin_client.post(
        url,
        {
            "name": "Payments 2",
            "description": "new words",
            "locale": "en-US",
            "seen_updated_at": seen,
        },
    )
    entry = _only("UpdateAgentSpace")
    assert entry.username == "alice-admin"
    assert entry.target == space["agentSpaceId"]
    assert entry.outcome == AuditEntry.OK
    assert entry.detail == {"name": "Payments 2", "description": "[redacted]"}


def test_delete_is_recorded(admin_client, space):
    admin_client.post(f"/spaces/{space['agentSpaceId']}/delete/", {"confirm_name": "Payments"})
    entry = _only("DeleteAgentSpace")
    assert entry.username == "alice-admin"
    assert entry.target == space["agentSpaceId"]
    assert entry.outcome == AuditEntry.OK
    assert entry.detail == {"agentSpaceId": space["agentSpaceId"]}


def test_tag_and_untag_are_recorded_against_the_arn(admin_client, space):
    arn = aws_spaces.space_arn(space["agentSpaceId"])
    admin_client.post(f"/spaces/{space['agentSpaceId']}/tags/", {"key": "env", "value": "prod"})
    admin_client.post(f"/spaces/{space['agentSpaceId']}/tags/remove/", {"key": "team"})
    tagged = _only("TagResource")
    assert (tagged.username, tagged.target, tagged.outcome) == ("alice-admin", arn, "ok")
    assert tagged.detail["resourceArn"] == arn
    assert list(tagged.detail["tags"]) == ["env"]
    untagged = _only("UntagResource")
    assert (untagged.username, untagged.target, untagged.outcome) == ("alice-admin", arn, "ok")
    assert untagged.detail == {"resourceArn": arn, "tagKeys": ["team"]}


def test_a_failed_call_is_recorded_as_failed(admin_client):
    with override_settings(SANDBOX_FAULTS="throttle=1"):
        response = admin_client.post(
            "/spaces/new/", {"name": "Doomed", "description": "hush", "locale": ""}
        )
    assert response.status_code == 503
    entry = _only("CreateAgentSpace")
    assert entry.outcome == AuditEntry.FAILED
    assert entry.username == "alice-admin"
    assert entry.target == "Doomed"
    assert "throttling" in entry.error.lower()
    assert entry.detail["description"] == "[redacted]"


def test_a_failed_delete_is_recorded_as_failed(admin_client, space):
    url = f"/spaces/{space['agentSpaceId']}/delete/"
    # The page reads the space first; make only the delete fail.
    from dashboard.aws import errors

    def boom(space_id):
        raise errors.Unavailable("AWS could not complete DeleteAgentSpace", code="X")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(aws_spaces, "delete_space", boom)
        response = admin_client.post(url, {"confirm_name": "Payments"})
    assert response.status_code == 503
    entry = _only("DeleteAgentSpace")
    assert entry.outcome == AuditEntry.FAILED
    assert "DeleteAgentSpace" in entry.error
    assert aws_spaces.get_space(space["agentSpaceId"])["name"] == "Payments"


def test_refused_and_invalid_attempts_call_nothing_and_record_nothing(
    admin_client, viewer_client, space
):
    viewer_client.post("/spaces/new/", {"name": "nope"})
    admin_client.post("/spaces/new/", {"name": ""})
    admin_client.post(f"/spaces/{space['agentSpaceId']}/delete/", {"confirm_name": "wrong"})
    assert AuditEntry.objects.count() == 0


def test_scrub_hides_values_under_secret_looking_keys_at_any_depth():
    cleaned = scrub(
        {"name": "n", "nested": [{"apiKey": "k", "clientSecret": "s", "ok": 1}], "Token": "t"}
    )
    assert cleaned == {
        "name": "n",
        "nested": [{"apiKey": "[redacted]", "clientSecret": "[redacted]", "ok": 1}],
        "Token": "[redacted]",
    }
