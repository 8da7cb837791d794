"""Shared fixtures: one signed-in client per role, and a clean sandbox per test (the sandbox
lives in the test database, which pytest-django rolls back after each test)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from dashboard.aws.clients import reset_clients


@pytest.fixture(autouse=True)
def _fresh_clients():
    # Settings may differ per test (override_settings); clients are cached per settings.
    reset_clients()
    yield
    reset_clients()


def _user(username: str, role: str | None) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def admin_user(db) -> User:
    return _user("alice-admin", "admin")


@pytest.fixture
def operator_user(db) -> User:
    return _user("oscar-operator", "operator")


@pytest.fixture
def viewer_user(db) -> User:
    return _user("vera-viewer", "viewer")


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def operator_client(operator_user) -> Client:
    client = Client()
    client.force_login(operator_user)
    return client


@pytest.fixture
def viewer_client(viewer_user) -> Client:
    client = Client()
    client.force_login(viewer_user)
    return client


@pytest.fixture
def anon_client(db) -> Client:
    return Client()


@pytest.fixture
def space(db) -> dict:
    """One agent space created through the sandbox, as boto3 returns it."""
    from dashboard.aws import spaces

    return spaces.create_space(
        name="Payments", description="Card processing", locale="en-US", tags={"team": "pay"}
    )
