"""Browser session pages: list (filter, paging), start, live view page, take/release control,
stop, and who may do what."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from dashboard.aws import browser as aws_browser
from dashboard.core.models import AuditEntry
from dashboard.sandbox import browser_host

SYSTEM = "aws.browser.v1"


@pytest.fixture(autouse=True)
def _no_chromium(settings):
    # Page tests need no real browser: sessions stream generated frames.
    settings.SANDBOX_CHROMIUM = ""
    cache.clear()
    yield
    browser_host.stop_all()


def _start(name: str = "checkout flow", **kwargs) -> dict:
    return aws_browser.start_session(SYSTEM, name=name, **kwargs)


def _url(session: dict, suffix: str = "") -> str:
    return f"/agentcore/browsers/{SYSTEM}/sessions/{session['sessionId']}/{suffix}"


def test_it_lists_sessions_of_the_system_browser_by_default(viewer_client):
    started = _start()
    response = viewer_client.get("/agentcore/browsers/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "checkout flow" in body
    assert started["sessionId"] in body
    assert 'value="aws.browser.v1"' in body
    assert "Browser sessions" in body


def test_it_filters_by_status(viewer_client):
    ready = _start("still running")
    stopped = _start("finished")
    aws_browser.stop_session(SYSTEM, stopped["sessionId"])
    body = viewer_client.get("/agentcore/browsers/?status=READY").content.decode()
    assert ready["sessionId"] in body
    assert stopped["sessionId"] not in body
    body = viewer_client.get("/agentcore/browsers/?status=TERMINATED").content.decode()
    assert stopped["sessionId"] in body
    assert ready["sessionId"] not in body


def test_it_pages_with_the_api_token(viewer_client, settings, monkeypatch):
    from dashboard.browser import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    settings.SANDBOX_BROWSER_MAX_SESSIONS = 10
    ids = [_start(f"s{i}")["sessionId"] for i in range(3)]
    first = viewer_client.get("/agentcore/browsers/").content.decode()
    assert "Next page" in first
    import re

    token = re.search(r'next=([^"&]+)"', first).group(1)
    second = viewer_client.get(f"/agentcore/browsers/?next={token}").content.decode()
    shown_first = [i for i in ids if i in first]
    shown_second = [i for i in ids if i in second]
    assert len(shown_first) == 2 and len(shown_second) == 1
    assert set(shown_first) | set(shown_second) == set(ids)
    assert "First page" in second


def test_a_stale_page_token_keeps_the_list_page_and_offers_the_first_page(viewer_client):
    # An expired or mangled ?next= was a bare error page without the filters or a way back.
    response = viewer_client.get("/agentcore/browsers/?status=READY&next=stale-token")
    assert response.status_code == 400
    body = response.content.decode()
    assert "This page link is no longer valid" in body
    assert 'href="?browser=aws.browser.v1&amp;status=READY">← First page</a>' in body
    assert '<option value="READY" selected>' in body


def test_it_shows_an_empty_state(viewer_client):
    body = viewer_client.get("/agentcore/browsers/").content.decode()
    assert "No browser sessions" in body


def test_it_rejects_a_malformed_browser_identifier_without_calling_aws(viewer_client):
    response = viewer_client.get("/agentcore/browsers/?browser=not%20valid:id")
    assert response.status_code == 400
    assert "browser identifier" in response.content.decode()


def test_an_unknown_browser_is_explained(viewer_client):
    response = viewer_client.get("/agentcore/browsers/?browser=custom-a1b2c3d4e5")
    assert response.status_code == 404
    assert "custom-a1b2c3d4e5" in response.content.decode()


def test_a_bad_paging_token_is_a_clear_error(viewer_client):
    response = viewer_client.get("/agentcore/browsers/?next=forged")
    assert response.status_code == 400
    assert "nextToken" in response.content.decode()


def test_it_starts_a_session_and_opens_its_live_view(operator_client):
    response = operator_client.post(
        f"/agentcore/browsers/{SYSTEM}/sessions/new/",
        {"name": "triage login", "timeout": "600", "width": "1024", "height": "768"},
    )
    assert response.status_code == 302
    session_id = response["Location"].rstrip("/").split("/")[-1]
    session = aws_browser.get_session(SYSTEM, session_id)
    assert session["name"] == "triage login"
    assert session["sessionTimeoutSeconds"] == 600
    assert session["viewPort"] == {"width": 1024, "height": 768}
    entry = AuditEntry.objects.get(operation="StartBrowserSession")
    assert entry.username == "oscar-operator" and entry.outcome == AuditEntry.OK


def test_start_keeps_the_input_and_explains_model_limits(operator_client):
    response = operator_client.post(
        f"/agentcore/browsers/{SYSTEM}/sessions/new/",
        {"name": "keep me", "timeout": "99999", "width": "100", "height": "768"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="keep me"' in body
    assert "28800" in body
    assert "800" in body  # the API document's minimum width, stricter than the model's 320
    assert not AuditEntry.objects.exists()


def test_start_holds_to_the_documents_limits_where_they_are_stricter(operator_client):
    # The model allows a 59-second timeout and an 800x599 viewport; the API document does not.
    response = operator_client.post(
        f"/agentcore/browsers/{SYSTEM}/sessions/new/",
        {"name": "short", "timeout": "59", "width": "800", "height": "599"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ensure this value is greater than or equal to 60" in body
    assert "Ensure this value is greater than or equal to 600" in body
    assert not AuditEntry.objects.exists()


def test_start_over_the_quota_says_so(operator_client, settings):
    settings.SANDBOX_BROWSER_MAX_SESSIONS = 1
    _start("first")
    response = operator_client.post(
        f"/agentcore/browsers/{SYSTEM}/sessions/new/",
        {"name": "second", "timeout": "900", "width": "1280", "height": "720"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "SANDBOX_BROWSER_MAX_SESSIONS" in body
    assert 'value="second"' in body


def test_start_throttled_keeps_the_input_and_says_so(operator_client, settings):
    settings.SANDBOX_FAULTS = "throttle=1"
    response = operator_client.post(
        f"/agentcore/browsers/{SYSTEM}/sessions/new/",
        {"name": "keep me", "timeout": "901", "width": "1024", "height": "768"},
    )
    assert response.status_code == 503
    body = response.content.decode()
    assert "AWS is throttling StartBrowserSession" in body and "was not started" in body
    assert 'value="keep me"' in body and 'value="901"' in body and 'value="1024"' in body


def test_start_denied_keeps_the_input_and_names_the_permission(operator_client, monkeypatch):
    from dashboard.aws import errors

    def denied(*args, **kwargs):
        raise errors.AccessDenied(
            "AWS denied StartBrowserSession: the console's credentials need the IAM "
            "permission bedrock-agentcore:StartBrowserSession."
        )

    monkeypatch.setattr(aws_browser, "start_session", denied)
    response = operator_client.post(
        f"/agentcore/browsers/{SYSTEM}/sessions/new/",
        {"name": "keep me too", "timeout": "900", "width": "1280", "height": "720"},
    )
    assert response.status_code == 403
    body = response.content.decode()
    assert "bedrock-agentcore:StartBrowserSession" in body and 'value="keep me too"' in body


def test_the_live_view_page_shows_status_viewport_and_streams(viewer_client):
    session = _start(viewport=(1024, 600), timeout_seconds=1200)
    response = viewer_client.get(_url(session))
    assert response.status_code == 200
    body = response.content.decode()
    assert "1024 x 600 px" in body
    assert "1200 s" in body
    assert "Enabled: the agent drives the browser" in body
    assert f'ws-connect="/ws/agentcore/browsers/{SYSTEM}/sessions/{session["sessionId"]}/"' in body
    assert 'data-mode="sandbox"' in body
    assert 'hx-history="false"' in body
    # The page never carries a signed URL itself: that comes over the socket, per user.
    assert "X-Amz-Signature" not in body
    # Viewers watch; they get no controls.
    assert "Take control" not in body
    assert "Stop session" not in body


def test_operators_see_take_control_and_stop(operator_client):
    session = _start()
    body = operator_client.get(_url(session)).content.decode()
    assert "Take control" in body
    assert "Stop session" in body


def test_an_unknown_session_is_a_404(viewer_client):
    response = viewer_client.get(f"/agentcore/browsers/{SYSTEM}/sessions/NOSUCHSESSION/")
    assert response.status_code == 404


def test_a_malformed_session_id_is_a_404_without_a_call(viewer_client):
    response = viewer_client.get(f"/agentcore/browsers/{SYSTEM}/sessions/bad-id!/")
    assert response.status_code == 404


def test_take_and_release_control(operator_client):
    session = _start()
    response = operator_client.post(_url(session, "control/"), {"action": "take"})
    assert response.status_code == 302
    assert (
        aws_browser.get_session(SYSTEM, session["sessionId"])["streams"]["automationStream"][
            "streamStatus"
        ]
        == "DISABLED"
    )
    body = operator_client.get(_url(session)).content.decode()
    assert "<strong>oscar-operator</strong> has control" in body
    assert "Release control" in body
    response = operator_client.post(
        _url(session, "control/"), {"action": "release"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Enabled: the agent drives the browser" in response.content.decode()
    entries = list(AuditEntry.objects.filter(operation="UpdateBrowserStream").order_by("at", "id"))
    assert [
        e.detail["streamUpdate"]["automationStreamUpdate"]["streamStatus"] for e in entries
    ] == [
        "DISABLED",
        "ENABLED",
    ]


def test_control_taken_outside_the_console_is_said_so(viewer_client):
    session = _start()
    aws_browser.set_automation(SYSTEM, session["sessionId"], "DISABLED")
    body = viewer_client.get(_url(session)).content.decode()
    assert "control was taken outside this console" in body


def test_an_unknown_control_action_loses_nothing(operator_client):
    session = _start()
    response = operator_client.post(_url(session, "control/"), {"action": "explode"})
    assert response.status_code == 302
    assert not AuditEntry.objects.exists()


def test_stop_asks_first_without_javascript_then_stops(operator_client):
    session = _start("to stop")
    page = operator_client.get(_url(session, "stop/"))
    assert page.status_code == 200
    assert "cannot be restarted" in page.content.decode()
    assert aws_browser.get_session(SYSTEM, session["sessionId"])["status"] == "READY"
    response = operator_client.post(_url(session, "stop/"))
    assert response.status_code == 302
    assert aws_browser.get_session(SYSTEM, session["sessionId"])["status"] == "TERMINATED"
    assert AuditEntry.objects.filter(operation="StopBrowserSession", outcome="ok").exists()


def test_stopping_an_ended_session_is_not_an_error(operator_client):
    session = _start()
    aws_browser.stop_session(SYSTEM, session["sessionId"])
    response = operator_client.post(_url(session, "stop/"), follow=True)
    assert response.status_code == 200
    assert "already ended" in response.content.decode()


@pytest.mark.parametrize(
    ("method", "suffix", "data"),
    [
        ("post", "control/", {"action": "take"}),
        ("get", "stop/", None),
        ("post", "stop/", {}),
    ],
)
def test_it_returns_403_for_viewer(viewer_client, method, suffix, data):
    session = _start()
    response = getattr(viewer_client, method)(_url(session, suffix), data)
    assert response.status_code == 403
    assert aws_browser.get_session(SYSTEM, session["sessionId"])["status"] == "READY"
    assert not AuditEntry.objects.exists()


def test_start_returns_403_for_viewer(viewer_client):
    assert viewer_client.get(f"/agentcore/browsers/{SYSTEM}/sessions/new/").status_code == 403
    response = viewer_client.post(
        f"/agentcore/browsers/{SYSTEM}/sessions/new/",
        {"name": "x", "timeout": "900", "width": "1280", "height": "720"},
    )
    assert response.status_code == 403


def test_it_redirects_anonymous_users_to_sign_in(anon_client):
    response = anon_client.get("/agentcore/browsers/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_without_the_dcv_sdk_the_aws_page_says_how_to_add_it(viewer_client, settings, monkeypatch):
    session = _start()
    item = aws_browser.get_session(SYSTEM, session["sessionId"])
    settings.DASHBOARD_BACKEND = "aws"
    settings.DCV_SDK_DIR = ""
    monkeypatch.setattr(aws_browser, "get_session", lambda b, s: item)
    body = viewer_client.get(_url(session)).content.decode()
    assert "Add the Amazon DCV Web Client SDK" in body
    assert "DCV_SDK_DIR" in body
    assert "dcv.js" in body


def test_with_the_dcv_sdk_the_aws_page_loads_it(viewer_client, settings, monkeypatch, tmp_path):
    session = _start()
    item = aws_browser.get_session(SYSTEM, session["sessionId"])
    (tmp_path / "dcv.js").write_text("window.dcv = {};")
    settings.DASHBOARD_BACKEND = "aws"
    settings.DCV_SDK_DIR = str(tmp_path)
    monkeypatch.setattr(aws_browser, "get_session", lambda b, s: item)
    response = viewer_client.get(_url(session))
    body = response.content.decode()
    assert 'src="/agentcore/browsers/dcv-sdk/dcv.js"' in body
    assert 'data-mode="dcv"' in body
    # The page's policy lets the SDK reach AgentCore's live-view endpoint; other pages' do not.
    policy = response["Content-Security-Policy"]
    assert "wss://*.amazonaws.com" in policy and "worker-src 'self' blob:" in policy
    assert "unsafe" not in policy
    assert "amazonaws" not in viewer_client.get("/agentcore/browsers/")["Content-Security-Policy"]
    sdk = viewer_client.get("/agentcore/browsers/dcv-sdk/dcv.js")
    assert sdk.status_code == 200
    assert b"window.dcv" in b"".join(sdk.streaming_content)
    assert viewer_client.get("/agentcore/browsers/dcv-sdk/../settings.py").status_code == 404


def test_the_dcv_route_is_a_404_when_no_folder_is_set(viewer_client, settings):
    settings.DCV_SDK_DIR = ""
    assert viewer_client.get("/agentcore/browsers/dcv-sdk/dcv.js").status_code == 404


def test_an_overlong_dcv_file_name_is_a_404(viewer_client, settings, tmp_path):
    # The file system refuses the name (ENAMETOOLONG): it was a 500.
    settings.DCV_SDK_DIR = str(tmp_path)
    (tmp_path / "dcv.js").write_text("window.dcv = {};")
    response = viewer_client.get("/agentcore/browsers/dcv-sdk/" + "x" * 5000 + ".js")
    assert response.status_code == 404


def test_the_section_tab_is_registered(viewer_client):
    body = viewer_client.get("/agentcore/browsers/").content.decode()
    assert 'href="/agentcore/browsers/" aria-current="page">Browser sessions' in body
