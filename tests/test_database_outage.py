"""A lost database connection (a PostgreSQL restart, a failover) answers 503 with a retry
notice, logged in one line, with no trace in the page; a posted form comes back as a form
that posts it again (secrets excepted), so nothing typed is lost."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

BLIP = OperationalError("server closed the connection unexpectedly")


CREATE = "dashboard.spaces.views.aws_spaces.create_space"


def test_a_post_during_a_blip_keeps_the_form(admin_client, console_log):
    data = {"name": "Checkout", "description": "Typed with care", "locale": "en-US"}
    with mock.patch(CREATE, side_effect=BLIP):
        response = admin_client.post(reverse("spaces:create"), data)
    assert response.status_code == 503
    assert response["Retry-After"]
    page = response.content.decode()
    assert "not saved" in page and "Traceback" not in page and "OperationalError" not in page
    for name, value in data.items():
        assert f'name="{name}" value="{value}"' in page
    assert f'action="{reverse("spaces:create")}"' in page
    lines = [line for line in console_log.getvalue().splitlines() if "dashboard.database" in line]
    assert len(lines) == 1 and "server closed the connection" in lines[0]
    assert "Traceback" not in console_log.getvalue()
    # Sending again once the database is back does it.
    assert admin_client.post(reverse("spaces:create"), data).status_code == 302


def test_secret_fields_are_not_echoed(admin_client):
    with mock.patch(CREATE, side_effect=BLIP):
        response = admin_client.post(
            reverse("spaces:create"),
            {"name": "x", "locale": "en-US", "client_secret": "hunter2"},
        )
    page = response.content.decode()
    assert "hunter2" not in page and "client_secret" in page  # named, to be typed again


def test_htmx_gets_an_alert_and_keeps_its_page(admin_client):
    with mock.patch(CREATE, side_effect=BLIP):
        response = admin_client.post(
            reverse("spaces:create"), {"name": "x", "locale": "en-US"}, HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 503
    assert response["HX-Retarget"] == "#alerts"
    assert "database is not answering" in response.content.decode()


def test_a_blip_before_the_view_is_the_same_page(admin_user):
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load", side_effect=BLIP):
        response = client.get(reverse("spaces:list"))
    assert response.status_code == 503
    page = response.content.decode()
    assert "could not reach its database" in page and "Retry" in page


def test_a_blip_before_the_view_logs_one_line(admin_user, console_log):
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load", side_effect=BLIP):
        client.get(reverse("spaces:list"))
    text = console_log.getvalue()
    assert "server closed the connection" in text and "Traceback" not in text
