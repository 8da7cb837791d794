"""Code interpreter pages over HTTP: the list (system interpreter by default, status filter,
paging), starting a session (model limits, quota), the session page for each role, stopping
(confirmation, audit), the no-JavaScript run that waits and renders the output, and errors that
keep the typed code."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.core.cache import cache

from dashboard.aws import agentcore_code as code_api
from dashboard.aws import errors
from dashboard.core.models import AuditEntry

from .agentcore_code_support import SYSTEM, serialize_sqlite

pytestmark = pytest.mark.django_db(transaction=True)
LIST = "/agentcore/code-interpreters/"


@pytest.fixture(autouse=True)
def _fast(settings, monkeypatch):
    cache.clear()
    settings.SANDBOX_CODE_STEP_SECONDS = 0.0
    settings.SANDBOX_FAULTS = ""
    serialize_sqlite(monkeypatch)
    yield
    cache.clear()


def _start(name: str = "triage") -> str:
    return code_api.start_session(SYSTEM, name=name)["sessionId"]


def _url(session_id: str, suffix: str = "") -> str:
    return f"{LIST}{SYSTEM}/sessions/{session_id}/{suffix}"


# --- the list ---------------------------------------------------------------------------------


def test_it_lists_sessions_of_the_system_code_interpreter_by_default(viewer_client):
    session_id = _start("incident 4711")
    page = viewer_client.get(LIST).content.decode()
    assert "incident 4711" in page and session_id in page
    assert 'value="aws.codeinterpreter.v1"' in page
    assert 'aria-current="page">Code interpreter</a>' in page


def test_it_filters_by_status_and_pages_with_the_api_token(viewer_client, monkeypatch):
    from dashboard.agentcore import views_code

    monkeypatch.setattr(views_code, "PAGE_SIZE", 2)
    ids = [_start(f"s{n}") for n in range(3)]
    code_api.stop_session(SYSTEM, ids[0])
    ready = viewer_client.get(LIST + "?status=READY").content.decode()
    assert ids[1] in ready and ids[2] in ready and ids[0] not in ready
    first = viewer_client.get(LIST).content.decode()
    token = re.search(r'next=([^"&]+)"', first).group(1)
    assert ids[0] not in first
    second = viewer_client.get(LIST + f"?next={token}").content.decode()
    assert ids[0] in second and "First page" in second


def test_an_empty_list_says_so_and_offers_a_start_to_operators(operator_client, viewer_client):
    page = operator_client.get(LIST).content.decode()
    assert "No code interpreter sessions" in page and "Start a session" in page
    assert "Start a session" not in viewer_client.get(LIST).content.decode()


def test_a_malformed_interpreter_id_is_a_form_error_not_a_call(viewer_client):
    response = viewer_client.get(LIST + "?interpreter=bad:id")
    assert response.status_code == 400
    assert "A code interpreter identifier is letters" in response.content.decode()


def test_an_unknown_interpreter_is_a_clear_not_found_page(viewer_client):
    response = viewer_client.get(LIST + "?interpreter=custom-abc123")
    assert response.status_code == 404
    assert "system code interpreter" in response.content.decode()


# --- starting ---------------------------------------------------------------------------------


def test_a_stale_page_token_keeps_the_list_page_and_offers_the_first_page(viewer_client):
    response = viewer_client.get(f"{LIST}?status=READY&next=stale-token")
    assert response.status_code == 400
    body = response.content.decode()
    assert "This page link is no longer valid" in body
    assert 'href="?interpreter=aws.codeinterpreter.v1&amp;status=READY">← First page</a>' in body


def test_an_operator_starts_a_session_and_it_is_audited(operator_client):
    response = operator_client.post(
        f"{LIST}{SYSTEM}/sessions/new/", {"name": "notebook", "timeout": "600"}
    )
    assert response.status_code == 302
    session_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    assert code_api.get_session(SYSTEM, session_id)["sessionTimeoutSeconds"] == 600
    entry = AuditEntry.objects.get(operation="StartCodeInterpreterSession")
    assert entry.outcome == "ok" and entry.username == "oscar-operator"


def test_the_timeout_is_held_to_the_model_before_aws_is_called(operator_client):
    response = operator_client.post(
        f"{LIST}{SYSTEM}/sessions/new/", {"name": "long", "timeout": "28801"}
    )
    assert response.status_code == 400
    assert "28800" in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_the_quota_is_explained_and_the_form_kept(operator_client, settings):
    settings.SANDBOX_CODE_MAX_SESSIONS = 1
    _start()
    response = operator_client.post(
        f"{LIST}{SYSTEM}/sessions/new/", {"name": "one too many", "timeout": "900"}
    )
    assert response.status_code == 429
    page = response.content.decode()
    assert "SANDBOX_CODE_MAX_SESSIONS" in page and 'value="one too many"' in page


def test_access_denied_is_explained_and_the_form_kept(operator_client, monkeypatch):
    def denied(*args, **kwargs):
        raise errors.AccessDenied(
            "AWS denied StartCodeInterpreterSession: the console's credentials need the IAM "
            "permission bedrock-agentcore:StartCodeInterpreterSession."
        )

    monkeypatch.setattr(code_api, "start_session", denied)
    response = operator_client.post(
        f"{LIST}{SYSTEM}/sessions/new/", {"name": "denied one", "timeout": "900"}
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert "bedrock-agentcore:StartCodeInterpreterSession" in page
    assert 'value="denied one"' in page and "was not started" in page


def test_viewers_cannot_start_sessions(viewer_client):
    assert viewer_client.get(f"{LIST}{SYSTEM}/sessions/new/").status_code == 403
    response = viewer_client.post(f"{LIST}{SYSTEM}/sessions/new/", {"timeout": "900"})
    assert response.status_code == 403
    assert not code_api.list_sessions(SYSTEM)["items"]


# --- the session page -------------------------------------------------------------------------


def test_operators_get_every_tool_the_model_allows(operator_client):
    page = operator_client.get(_url(_start())).content.decode()
    for tool in code_api.TOOLS:
        assert f'data-tool="{tool}"' in page, tool
    assert 'ws-connect="/ws/agentcore/code-interpreters/aws.codeinterpreter.v1/sessions/' in page
    assert "simulates" in page and "No runs yet" in page


def test_viewers_watch_without_the_form(viewer_client):
    page = viewer_client.get(_url(_start())).content.decode()
    assert 'id="ci-form"' not in page
    assert "running code and tools needs the operator role" in page
    assert "ws-connect=" in page  # they still watch runs live


def test_a_tool_chosen_in_the_url_is_open_without_javascript(operator_client):
    page = operator_client.get(_url(_start()) + "?tool=writeFiles").content.decode()
    assert '<input type="hidden" name="tool" value="writeFiles"' in page
    assert re.search(r'class="ci-group" data-tools="writeFiles">', page)
    assert re.search(r'class="ci-group" data-tools="executeCode" hidden>', page)


def test_a_malformed_session_id_is_a_404_without_a_call(viewer_client):
    assert viewer_client.get(f"{LIST}{SYSTEM}/sessions/no-such!/").status_code == 404
    assert viewer_client.get(f"{LIST}bad:id/sessions/ABC/").status_code == 404


def test_an_unknown_session_is_not_found(viewer_client):
    assert viewer_client.get(_url("01ABCDEF")).status_code == 404


# --- running without JavaScript ---------------------------------------------------------------


def test_without_javascript_a_run_waits_and_renders_its_output(operator_client):
    session_id = _start()
    code = "total = 6 * 7\nprint('total:', total)\nprint(1/0)"
    response = operator_client.post(
        _url(session_id, "run/"), {"tool": "executeCode", "code": code, "language": "python"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert '<span class="ci-stdout">total: 42\n</span>' in page
    assert "ZeroDivisionError: division by zero" in page
    assert "Finished with an error" in page
    assert "Simulated by the console&#x27;s sandbox" in page
    # The form keeps what was sent, for the next edit.
    assert "total = 6 * 7" in page.split('id="id_code">', 1)[1][:200]
    entry = AuditEntry.objects.get(operation="InvokeCodeInterpreter")
    assert entry.outcome == "ok"
    assert entry.detail["arguments"]["code"] == code


def test_code_as_long_as_the_form_allows_is_accepted_without_javascript(operator_client):
    # 1,000,000 characters (the form's limit), posted as a browser does: percent-encoded, it
    # is ~4.5 MB, over Django's default 2.5 MB body limit, which answered a bare "Bad Request"
    # page and lost the code.
    session_id = _start()
    code = "# é\n" * 249_990 + "print('big')"
    assert len(code) <= 1_000_000
    body = urlencode({"tool": "executeCode", "code": code, "language": "python"})
    assert len(body) > 2.5 * 1024 * 1024
    response = operator_client.post(
        _url(session_id, "run/"), body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert '<span class="ci-stdout">big\n</span>' in response.content.decode()


def test_an_unexpected_failure_to_invoke_keeps_the_code(operator_client, monkeypatch):
    # Anything but the project's AWS errors (here what http.client raises for a bad header)
    # escaped the run and made the page a 500 that lost the code.
    def broken(params):
        raise ValueError("Invalid header value b'x\\r\\n'")

    monkeypatch.setattr(code_api, "open_invocation", broken)
    session_id = _start()
    response = operator_client.post(
        _url(session_id, "run/"),
        {"tool": "executeCode", "code": "print('keep me')", "language": "python"},
    )
    assert response.status_code == 502
    page = response.content.decode()
    assert "could not be started" in page and "kept below" in page
    assert "print(&#x27;keep me&#x27;)" in page
    assert AuditEntry.objects.get(operation="InvokeCodeInterpreter").outcome == "failed"


def test_a_command_and_file_tools_work_without_javascript(operator_client):
    session_id = _start()
    operator_client.post(
        _url(session_id, "run/"),
        {"tool": "writeFiles", "file_path": "notes/todo.txt", "file_text": "restart ledger"},
    )
    listed = operator_client.post(_url(session_id, "run/"), {"tool": "listFiles"})
    assert '<span class="mono" title="file:///notes">notes/</span>' in listed.content.decode()
    read = operator_client.post(
        _url(session_id, "run/"), {"tool": "readFiles", "paths": "notes/todo.txt\n"}
    ).content.decode()
    assert "file:///notes/todo.txt" in read and "restart ledger" in read
    shell = operator_client.post(
        _url(session_id, "run/"), {"tool": "executeCommand", "command": "cat notes/todo.txt"}
    ).content.decode()
    assert '<span class="ci-stdout">restart ledger</span>' in shell


def test_missing_input_is_refused_next_to_its_field_before_aws(operator_client):
    session_id = _start()
    response = operator_client.post(_url(session_id, "run/"), {"tool": "executeCode", "code": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r'id="ci-err-code" class="errorlist"><li>Type the code to run.', page)
    assert not AuditEntry.objects.exists()


def test_a_language_outside_the_model_is_refused(operator_client):
    response = operator_client.post(
        _url(_start(), "run/"), {"tool": "executeCode", "code": "x", "language": "cobol"}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_throttling_keeps_the_typed_code(operator_client, settings):
    session_id = _start()
    settings.SANDBOX_FAULTS = "throttle=1"
    response = operator_client.post(
        _url(session_id, "run/"), {"tool": "executeCode", "code": "print('keep me')"}
    )
    assert response.status_code == 503
    page = response.content.decode()
    assert "AWS is throttling InvokeCodeInterpreter" in page
    assert "your code is kept below" in page
    assert "print(&#x27;keep me&#x27;)" in page
    assert AuditEntry.objects.get(operation="InvokeCodeInterpreter").outcome == "failed"


def test_a_stopped_session_explains_itself_and_keeps_the_code(operator_client):
    session_id = _start()
    code_api.stop_session(SYSTEM, session_id)
    response = operator_client.post(
        _url(session_id, "run/"), {"tool": "executeCode", "code": "print(1)"}
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "TERMINATED" in page and "This session has ended" in page
    assert "Your code (not run)" in page and "print(1)" in page


def test_viewers_cannot_run_code(viewer_client):
    response = viewer_client.post(
        _url(_start(), "run/"), {"tool": "executeCode", "code": "print(1)"}
    )
    assert response.status_code == 403
    assert not AuditEntry.objects.exists()


# --- stopping ---------------------------------------------------------------------------------


def test_stopping_asks_first_then_stops_and_audits(operator_client):
    session_id = _start("to stop")
    confirm = operator_client.get(_url(session_id, "stop/")).content.decode()
    assert "cannot be restarted" in confirm and 'method="post"' in confirm
    response = operator_client.post(_url(session_id, "stop/"))
    assert response.status_code == 302
    assert code_api.get_session(SYSTEM, session_id)["status"] == "TERMINATED"
    assert AuditEntry.objects.get(operation="StopCodeInterpreterSession").outcome == "ok"
    again = operator_client.post(_url(session_id, "stop/"), follow=True).content.decode()
    assert "The session had already ended." in again


def test_stopping_with_htmx_redirects_the_page(operator_client):
    session_id = _start()
    response = operator_client.post(_url(session_id, "stop/"), headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == _url(session_id)


def test_viewers_cannot_stop_sessions(viewer_client):
    session_id = _start()
    assert viewer_client.get(_url(session_id, "stop/")).status_code == 403
    assert viewer_client.post(_url(session_id, "stop/")).status_code == 403
    assert code_api.get_session(SYSTEM, session_id)["status"] == "READY"


def test_anonymous_users_are_sent_to_sign_in(anon_client):
    response = anon_client.get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_started_task_links_to_its_status_prefilled(operator_client):
    session_id = _start()
    page = operator_client.post(
        _url(session_id, "run/"), {"tool": "startCommandExecution", "command": "sleep 30"}
    ).content.decode()
    task_id = re.search(r'data-task="([0-9a-f]{32})"', page).group(1)
    assert f"?tool=getTask&amp;task={task_id}" in page
    status = operator_client.get(_url(session_id) + f"?tool=getTask&task={task_id}")
    assert re.search(
        rf'<input type="text" name="task_id" value="{task_id}"', status.content.decode()
    )
    checked = operator_client.post(
        _url(session_id, "run/"), {"tool": "getTask", "task_id": task_id}
    ).content.decode()
    assert "Working" in checked or "Submitted" in checked


def test_the_form_limits_fit_the_transport_limits(settings):
    from dashboard.agentcore.checks import form_limits_fit

    assert form_limits_fit() == []
    settings.WEBSOCKET_MAX_MESSAGE_BYTES = 1024 * 1024  # daphne's own default
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # Django's own default
    assert [problem.id for problem in form_limits_fit()] == ["agentcore.E001", "agentcore.E002"]
