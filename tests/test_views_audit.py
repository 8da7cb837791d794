"""The audit log page (admin only) and its #entries partial for htmx filtering."""

from __future__ import annotations

from django.contrib.auth.models import User

from dashboard.core.models import AuditEntry

HX = {"HX-Request": "true"}


def _entry(user: User | None, operation: str, outcome: str = "ok", **extra) -> AuditEntry:
    return AuditEntry.objects.create(
        user=user,
        username=user.get_username() if user else "(anonymous)",
        operation=operation,
        target=extra.pop("target", "t"),
        outcome=outcome,
        **extra,
    )


def test_it_shows_the_entries_on_a_whole_page(admin_client, admin_user):
    _entry(admin_user, "CreateAgentSpace", target="Payments", detail={"name": "Payments"})
    response = admin_client.get("/audit/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body
    assert "Audit log" in body
    assert "CreateAgentSpace" in body
    assert "alice-admin" in body
    assert "Payments" in body


def test_it_shows_an_empty_state(admin_client):
    body = admin_client.get("/audit/").content.decode()
    assert "No changes recorded" in body


def test_htmx_gets_only_the_entries_partial(admin_client, admin_user):
    _entry(admin_user, "CreateAgentSpace")
    response = admin_client.get("/audit/", headers=HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert "<form" not in body  # the filters stay; only the entries are swapped
    assert "CreateAgentSpace" in body
    assert "HX-Request" in response["Vary"]


def test_a_history_restore_gets_the_whole_page(admin_client):
    response = admin_client.get(
        "/audit/?outcome=failed", headers={**HX, "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.content.decode()


def test_it_filters_by_operation_outcome_and_user(admin_client, admin_user, viewer_user):
    _entry(admin_user, "CreateAgentSpace", target="one")
    _entry(admin_user, "DeleteAgentSpace", outcome="failed", target="two", error="boom")
    _entry(viewer_user, "TagResource", target="three")

    def targets(query: str) -> set[str]:
        response = admin_client.get("/audit/" + query)
        assert response.status_code == 200
        return {e.target for e in response.context["page"].object_list}

    assert targets("") == {"one", "two", "three"}
    assert targets("?operation=DeleteAgentSpace") == {"two"}
    assert targets("?outcome=failed") == {"two"}
    assert targets("?outcome=nonsense") == {"one", "two", "three"}
    assert targets("?user=vera-viewer") == {"three"}
    assert targets("?operation=CreateAgentSpace&user=vera-viewer") == set()
    assert (
        "No changes recorded for this filter"
        in admin_client.get("/audit/?user=nobody", headers=HX).content.decode()
    )


def test_it_pages_fifty_at_a_time_and_survives_a_bad_page(admin_client, admin_user):
    for i in range(51):
        _entry(admin_user, "TagResource", target=f"t{i}")
    first = admin_client.get("/audit/")
    assert len(first.context["page"].object_list) == 50
    assert "Older" in first.content.decode()
    assert len(admin_client.get("/audit/?page=2").context["page"].object_list) == 1
    assert admin_client.get("/audit/?page=banana").status_code == 200
    assert admin_client.get("/audit/?page=999").status_code == 200


def test_it_refuses_post(admin_client):
    assert admin_client.post("/audit/").status_code == 405
