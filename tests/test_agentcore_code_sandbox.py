"""The sandbox's code interpreter through boto3 (botocore's parser reads its real wire format):
sessions (start, get, list with status filter and paging, stop, timeout, quota, idempotency),
every tool of InvokeCodeInterpreter, output that streams over time, and code that is simulated,
never executed."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import time_machine
from botocore.exceptions import ClientError

from dashboard.aws import agentcore_code as code_api
from dashboard.aws import errors
from dashboard.aws.clients import client
from dashboard.sandbox import code_sim

SYSTEM = "aws.codeinterpreter.v1"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.SANDBOX_CODE_STEP_SECONDS = 0.0
    settings.SANDBOX_FAULTS = ""


def _start(**kwargs) -> str:
    return code_api.start_session(SYSTEM, **kwargs)["sessionId"]


def _invoke(session_id: str, tool: str, **arguments) -> list[dict]:
    params = code_api.invoke_params(SYSTEM, session_id, tool, arguments)
    return [members for _, members in code_api.open_invocation(params)]


def _stdout(results: list[dict]) -> str:
    return "".join((r.get("structuredContent") or {}).get("stdout", "") for r in results)


def _stderr(results: list[dict]) -> str:
    return "".join((r.get("structuredContent") or {}).get("stderr", "") for r in results)


# --- sessions ---------------------------------------------------------------------------------


def test_a_started_session_is_ready_with_its_name_and_timeout():
    session_id = _start(name="triage notebook", timeout_seconds=600)
    found = code_api.get_session(SYSTEM, session_id)
    assert found["status"] == "READY"
    assert found["name"] == "triage notebook"
    assert found["sessionTimeoutSeconds"] == 600
    assert found["codeInterpreterIdentifier"] == SYSTEM


def test_it_lists_sessions_newest_first_filtered_by_status_and_paged():
    ids = [_start(name=f"s{n}") for n in range(3)]
    code_api.stop_session(SYSTEM, ids[0])
    first = code_api.list_sessions(SYSTEM, max_results=2)
    assert [s["sessionId"] for s in first["items"]] == [ids[2], ids[1]]
    rest = code_api.list_sessions(SYSTEM, max_results=2, next_token=first["nextToken"])
    assert [s["sessionId"] for s in rest["items"]] == [ids[0]]
    assert rest["nextToken"] is None
    ready = code_api.list_sessions(SYSTEM, status="READY")["items"]
    assert {s["sessionId"] for s in ready} == {ids[1], ids[2]}
    stopped = code_api.list_sessions(SYSTEM, status="TERMINATED")["items"]
    assert [s["sessionId"] for s in stopped] == [ids[0]]


def test_sessions_time_out_when_their_timeout_has_passed():
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        session_id = _start(timeout_seconds=60)
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, 59, tzinfo=dt.UTC), tick=False):
        assert code_api.get_session(SYSTEM, session_id)["status"] == "READY"
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, 1, 1, tzinfo=dt.UTC), tick=False):
        assert code_api.get_session(SYSTEM, session_id)["status"] == "TERMINATED"
        with pytest.raises(errors.Conflict, match="TERMINATED"):
            _invoke(session_id, "executeCode", code="print(1)")


def test_a_stopped_session_refuses_tools_and_a_second_stop():
    session_id = _start()
    code_api.stop_session(SYSTEM, session_id)
    with pytest.raises(errors.Conflict):
        _invoke(session_id, "listFiles")
    with pytest.raises(errors.Conflict):
        code_api.stop_session(SYSTEM, session_id)


def test_only_the_system_code_interpreter_exists():
    with pytest.raises(errors.NotFound, match="system code interpreter"):
        code_api.start_session("my-interpreter-abc123")


def test_ready_sessions_are_limited(settings):
    settings.SANDBOX_CODE_MAX_SESSIONS = 2
    _start()
    _start()
    with pytest.raises(errors.QuotaExceeded, match="SANDBOX_CODE_MAX_SESSIONS"):
        _start()


def test_a_retried_start_with_the_same_client_token_is_the_same_session():
    raw = client("bedrock-agentcore")
    token = "t" * 40
    first = raw.start_code_interpreter_session(
        codeInterpreterIdentifier=SYSTEM, name="once", clientToken=token
    )
    again = raw.start_code_interpreter_session(
        codeInterpreterIdentifier=SYSTEM, name="once", clientToken=token
    )
    assert again["sessionId"] == first["sessionId"]
    with pytest.raises(ClientError, match="different parameters"):
        raw.start_code_interpreter_session(
            codeInterpreterIdentifier=SYSTEM, name="other", clientToken=token
        )


def test_the_model_constraints_are_enforced():
    with pytest.raises(errors.ValidationFailed):
        code_api.start_session(SYSTEM, timeout_seconds=28801)


# --- executeCode ------------------------------------------------------------------------------


def test_print_of_literals_and_arithmetic_comes_back_as_stdout_with_a_simulated_notice():
    session_id = _start()
    results = _invoke(session_id, "executeCode", code="print('total:', 6 * 7)\nprint(2 ** 10)")
    assert _stdout(results) == "total: 42\n1024\n"
    final = results[-1]
    assert final["structuredContent"]["exitCode"] == 0
    assert final["isError"] is False
    assert "executionTime" in final["structuredContent"]
    assert final["content"][0]["text"] == code_sim.NOTICE
    assert "no code was executed" in final["content"][0]["text"]


def test_variables_persist_in_the_session_until_clear_context():
    session_id = _start()
    _invoke(session_id, "executeCode", code="rate = 0.25\nrequests = 1200")
    assert _stdout(_invoke(session_id, "executeCode", code="rate * requests")) == "300.0\n"
    results = _invoke(session_id, "executeCode", code="print(rate)", clearContext=True)
    assert "NameError: name 'rate' is not defined" in _stderr(results)
    assert results[-1]["isError"] is True
    assert results[-1]["structuredContent"]["exitCode"] == 1


def test_output_streams_over_time_with_sleeps_in_the_code():
    session_id = _start()
    code = "import time\nfor i in range(3):\n    print('tick', i)\n    time.sleep(0.3)"
    params = code_api.invoke_params(SYSTEM, session_id, "executeCode", {"code": code})
    arrived: list[tuple[float, str]] = []
    began = time.monotonic()
    for _, members in code_api.open_invocation(params):
        text = (members.get("structuredContent") or {}).get("stdout")
        if text:
            arrived.append((time.monotonic() - began, text))
    assert [t for _, t in arrived] == ["tick 0\n", "tick 1\n", "tick 2\n"]
    # Each line arrived on its own, after the one before it had slept.
    assert arrived[1][0] - arrived[0][0] >= 0.25
    assert arrived[2][0] - arrived[1][0] >= 0.25


def test_code_is_never_executed_on_the_host(tmp_path):
    marker = tmp_path / "pwned"
    session_id = _start()
    code = f"import os\nos.system('touch {marker}')\nopen('{marker}', 'w').write('x')"
    results = _invoke(session_id, "executeCode", code=code)
    assert not marker.exists()
    assert "not simulated" in _stderr(results)
    command = _invoke(session_id, "executeCommand", command=f"touch {marker} && curl example.com")
    assert not marker.exists()
    assert "curl: not simulated" in _stderr(command)


def test_syntax_errors_read_like_python_and_javascript_is_simulated_too():
    session_id = _start()
    broken = _invoke(session_id, "executeCode", code="print(")
    assert "SyntaxError" in _stderr(broken) and broken[-1]["isError"] is True
    js = _invoke(
        session_id,
        "executeCode",
        code="const n = 21; console.log('n is', n * 2, [1, 2], true)",
        language="javascript",
    )
    assert _stdout(js) == "n is 42 [ 1, 2 ] true\n"


def test_execute_code_needs_code():
    session_id = _start()
    with pytest.raises(errors.ValidationFailed) as caught:
        _invoke(session_id, "executeCode", language="python")
    assert "arguments.code" in caught.value.fields


def test_an_unknown_language_is_refused_by_the_model():
    session_id = _start()
    with pytest.raises(errors.ValidationFailed):
        _invoke(session_id, "executeCode", code="x", language="cobol")


# --- files and commands -----------------------------------------------------------------------


def test_files_written_are_listed_read_and_removed():
    session_id = _start()
    written = _invoke(
        session_id,
        "writeFiles",
        content=[
            {"path": "reports/summary.txt", "text": "p99 latency up 40%\n"},
            {"path": "data.bin", "blob": b"\x00\xff\x10"},
        ],
    )
    assert written[0]["content"][0]["text"].startswith("Successfully wrote 2 of 2 file(s)")
    listed = _invoke(session_id, "listFiles", directoryPath="/")[0]["content"]
    assert [(c["type"], c["name"], c["description"]) for c in listed] == [
        ("resource_link", "reports", "directory"),
        ("resource_link", "data.bin", "file"),
    ]
    read = _invoke(session_id, "readFiles", paths=["reports/summary.txt", "data.bin", "nope"])[0]
    text, blob, missing = read["content"]
    assert text["resource"]["text"] == "p99 latency up 40%\n"
    assert text["resource"]["uri"] == "file:///reports/summary.txt"
    assert blob["resource"]["type"] == "blob"
    assert blob["resource"]["blobSize"] == 3
    assert missing["text"] == "File not found: nope"
    assert read["isError"] is True
    _invoke(session_id, "removeFiles", paths=["reports"])
    names = [c.get("name") for c in _invoke(session_id, "listFiles")[0]["content"]]
    assert names == ["data.bin"]


def test_shell_commands_act_on_the_session_files():
    session_id = _start()
    results = _invoke(
        session_id, "executeCommand", command="echo hello > greet.txt && cat greet.txt && ls"
    )
    assert _stdout(results) == "hello\ngreet.txt\n"
    assert results[-1]["structuredContent"]["exitCode"] == 0
    missing = _invoke(session_id, "executeCommand", command="cat missing.txt")
    assert "No such file or directory" in _stderr(missing)
    assert missing[-1]["structuredContent"]["exitCode"] == 1


def test_a_command_task_progresses_with_the_wall_clock_and_can_be_stopped():
    session_id = _start()
    start = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        started = _invoke(
            session_id, "startCommandExecution", command="echo begin; sleep 60; echo end"
        )[0]
        task_id = started["structuredContent"]["taskId"]
        assert started["structuredContent"]["taskStatus"] == "submitted"
    with time_machine.travel(start + dt.timedelta(seconds=5), tick=False):
        working = _invoke(session_id, "getTask", taskId=task_id)[0]["structuredContent"]
        assert working["taskStatus"] == "working"
        assert working["stdout"] == "begin\n"
    with time_machine.travel(start + dt.timedelta(seconds=90), tick=False):
        done = _invoke(session_id, "getTask", taskId=task_id)[0]["structuredContent"]
        assert done["taskStatus"] == "completed"
        assert done["stdout"] == "begin\nend\n"
        assert done["exitCode"] == 0
    with time_machine.travel(start + dt.timedelta(seconds=91), tick=False):
        other = _invoke(session_id, "startCommandExecution", command="sleep 30; echo late")[0]
        other_id = other["structuredContent"]["taskId"]
        stopped = _invoke(session_id, "stopTask", taskId=other_id)[0]["structuredContent"]
        assert stopped["taskStatus"] == "canceled"
    with time_machine.travel(start + dt.timedelta(seconds=200), tick=False):
        later = _invoke(session_id, "getTask", taskId=other_id)[0]["structuredContent"]
        assert later["taskStatus"] == "canceled" and later["stdout"] == ""


def test_an_unknown_task_is_not_found():
    session_id = _start()
    with pytest.raises(errors.NotFound):
        _invoke(session_id, "getTask", taskId="nope")


def test_throttling_is_answered_before_the_stream(settings):
    session_id = _start()
    settings.SANDBOX_FAULTS = "throttle=1"
    with pytest.raises(errors.Throttled):
        _invoke(session_id, "executeCode", code="print(1)")
