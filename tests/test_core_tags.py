"""The shared tags card (dashboard/core/tags.py) when AWS does not take the tag: the key and
value typed come back in the form with what AWS said, never the error page that loses them."""

from __future__ import annotations

import pytest

from dashboard.aws import errors
from dashboard.aws import spaces as aws_spaces
from dashboard.aws import tags as aws_tags

HX = {"HX-Request": "true"}


@pytest.mark.parametrize("headers", [{}, HX])
@pytest.mark.parametrize(
    "error",
    [
        errors.Throttled("AWS is throttling TagResource requests.", code="ThrottlingException"),
        errors.Unavailable("AWS did not answer.", code="InternalServerException"),
        errors.AccessDenied("The role may not tag.", code="AccessDeniedException"),
        errors.QuotaExceeded("50 tags at most.", code="ServiceQuotaExceededException"),
        errors.Conflict("Being changed.", code="ConflictException"),
    ],
)
def test_a_tag_aws_does_not_take_keeps_what_was_typed(
    admin_client, space, monkeypatch, headers, error
):
    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(aws_tags, "tag", refuse)
    url = f"/spaces/{space['agentSpaceId']}/tags/"
    response = admin_client.post(url, {"key": "owner", "value": "payments-sre"}, headers=headers)
    assert response.status_code == error.status
    body = response.content.decode()
    assert error.message in body
    assert 'value="owner"' in body and 'value="payments-sre"' in body
    assert "owner" not in aws_tags.list_tags(
        aws_tags.resource_arn("agentspace", space["agentSpaceId"])
    )


def test_when_the_tags_cannot_be_read_either_the_form_still_comes_back(
    admin_client, space, monkeypatch
):
    def busy(*args, **kwargs):
        raise errors.Throttled("AWS is throttling requests.", code="ThrottlingException")

    monkeypatch.setattr(aws_tags, "tag", busy)
    monkeypatch.setattr(aws_spaces, "describe_space", busy)  # what the space card reads
    url = f"/spaces/{space['agentSpaceId']}/tags/"
    response = admin_client.post(url, {"key": "owner", "value": "sre"}, headers=HX)
    assert response.status_code == 503
    body = response.content.decode()
    assert "The tags could not be read: AWS is throttling requests." in body
    assert "No tags." not in body
    assert 'value="owner"' in body and 'value="sre"' in body
