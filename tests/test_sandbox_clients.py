"""Other people's clients against `manage.py sandbox_server`: the README's AWS CLI, boto3 and
AgentCore SDK blocks run as written (the port aside), and the official `bedrock-agentcore` SDK's
MemoryClient, MemorySessionManager, CodeInterpreter and BrowserClient drive the served sandbox.

The server is the real management command in a process of its own, on a database of its own
(a SQLite file, migrated and seeded once for this module), as someone would run it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
MEMORY = "DevOpsTriageMemory-K7m2Q9x4Lp"
README_PORT = "http://127.0.0.1:4566"


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[str]:
    """`manage.py sandbox_server` on a free port, seeded; its URL."""
    folder = tmp_path_factory.mktemp("sandbox-server")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "DJANGO_", "DATABASE_", "REDIS_", "SANDBOX_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="dashboard.settings",
        DASHBOARD_DEBUG="1",
        DASHBOARD_VAR_DIR=str(folder),
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        SANDBOX_CHROMIUM="",  # browser sessions stream a generated picture: no Chromium
        SANDBOX_CODE_STEP_SECONDS="0",
    )
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "seed_sandbox")
    log = folder / "server.log"
    with log.open("w") as output:
        # Output to a file, not a pipe nobody reads: the request log must never fill a pipe
        # and stall the server.
        server = subprocess.Popen(
            [sys.executable, "manage.py", "sandbox_server", "--port", "0"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield _listening_url(server, log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _listening_url(server: subprocess.Popen, log: Path) -> str:
    """The URL the server says it listens on ("Sandbox listening on http://...")."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", log.read_text())
        if found:
            return found.group(1)
        if server.poll() is not None:
            break
        time.sleep(0.05)  # polling the log for a condition, with a deadline
    raise AssertionError(f"the sandbox server did not start: {log.read_text()[-2000:]}")


def _client_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment with nothing of the host's AWS setup (no ~/.aws, no variables)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(home), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", **extra)
    return env


def readme_blocks(language: str) -> list[str]:
    """The fenced blocks of `language` in the README's "Use the sandbox from your own code"."""
    text = README.read_text()
    section = text.split("## Use the sandbox from your own code", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)


def _run(script: str, env: dict[str, str], *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*command, script], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT
    )


# --- the AWS CLI -------------------------------------------------------------------------------


def test_the_readmes_aws_cli_commands_run_as_written(served, tmp_path):
    if shutil.which("aws", path=str(BIN)) is None:
        pytest.fail("awscli is a test dependency: pip install -e '.[test]'")
    block = next(b for b in readme_blocks("sh") if "aws --endpoint-url" in b)
    assert README_PORT in block
    result = _run(
        "set -euo pipefail\n" + block.replace(README_PORT, served),
        _client_env(tmp_path),
        "bash",
        "-c",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Payments platform" in out  # devops-agent, through its cp. operations
    assert MEMORY in out  # the control plane's ListMemories and the data plane's ListActors
    assert "oncall/priya-raman" in out
    assert "IncidentTriageFlow" in out and "flowExecutionSummaries" in out
    assert '"name": "Business"' in out  # a support-case operation, from the model extras


def test_without_the_host_prefix_switch_the_cli_names_a_host_that_does_not_resolve(
    served, tmp_path
):
    # Why the README sets AWS_DISABLE_HOST_PREFIX_INJECTION: botocore sends devops-agent's
    # operations to cp.<endpoint host> before any request leaves the client.
    env = _client_env(
        tmp_path,
        AWS_ACCESS_KEY_ID="sandbox",
        AWS_SECRET_ACCESS_KEY="sandbox",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_MAX_ATTEMPTS="1",
    )
    result = subprocess.run(
        ["aws", "--endpoint-url", served, "devops-agent", "list-agent-spaces"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "cp.127.0.0.1" in result.stderr


# --- boto3 and the SDK, as the README shows them -----------------------------------------------


def test_the_readmes_boto3_block_runs_as_written(served, tmp_path):
    block = next(b for b in readme_blocks("python") if "import boto3" in b)
    result = _run(block.replace(README_PORT, served), _client_env(tmp_path), sys.executable, "-c")
    assert result.returncode == 0, result.stderr
    assert "Payments platform" in result.stdout and MEMORY in result.stdout


def test_the_readmes_sdk_block_runs_as_written(served, tmp_path):
    exports = next(b for b in readme_blocks("sh") if "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE" in b)
    endpoints = dict(re.findall(r"export (\w+)=(\S+)", exports.replace(README_PORT, served)))
    block = next(b for b in readme_blocks("python") if "bedrock_agentcore" in b)
    env = _client_env(
        tmp_path,
        AWS_ACCESS_KEY_ID="sandbox",
        AWS_SECRET_ACCESS_KEY="sandbox",
        AWS_DEFAULT_REGION="us-east-1",
        **endpoints,
    )
    result = _run(block, env, sys.executable, "-c")
    assert result.returncode == 0, result.stderr
    assert MEMORY in result.stdout and "42" in result.stdout


# --- the official AgentCore SDK, client by client ------------------------------------------------


@pytest.fixture
def sdk_env(served, monkeypatch, tmp_path):
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "sandbox")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "sandbox")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", served)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL", served)
    return served


def test_the_sdks_memory_client_control_and_data_plane(sdk_env):
    from bedrock_agentcore.memory import MemoryClient

    client = MemoryClient(region_name="us-east-1")
    session = f"sdk-{uuid.uuid4().hex[:12]}"

    memories = client.list_memories()  # the control plane
    status = client.get_memory_status(MEMORY)
    strategies = client.get_memory_strategies(MEMORY)
    client.create_event(
        memory_id=MEMORY,
        actor_id="sdk/user",
        session_id=session,
        messages=[("Why is checkout slow?", "USER"), ("Looking at the pool.", "ASSISTANT")],
    )
    events = client.list_events(memory_id=MEMORY, actor_id="sdk/user", session_id=session)
    turns = client.get_last_k_turns(memory_id=MEMORY, actor_id="sdk/user", session_id=session, k=1)
    found = client.retrieve_memories(
        memory_id=MEMORY, namespace="/facts/oncall/priya-raman", query="database connections"
    )

    assert MEMORY in {m["id"] for m in memories}
    assert status == "ACTIVE"
    assert {s["name"] for s in strategies} >= {"Facts", "Preferences"}
    assert len(events) == 1
    assert [m["role"] for m in turns[0]] == ["USER", "ASSISTANT"]
    assert found and all("memoryRecordId" in r for r in found)


def test_the_sdks_memory_session_manager(sdk_env):
    from bedrock_agentcore.memory.constants import ConversationalMessage, MessageRole
    from bedrock_agentcore.memory.session import MemorySessionManager

    manager = MemorySessionManager(memory_id=MEMORY, region_name="us-east-1")
    session = f"sdk-{uuid.uuid4().hex[:12]}"

    manager.add_turns(
        actor_id="sdk/manager",
        session_id=session,
        messages=[ConversationalMessage("Is the ledger healthy?", MessageRole.USER)],
    )
    events = manager.list_events(actor_id="sdk/manager", session_id=session)
    event = manager.get_event(
        actor_id="sdk/manager", session_id=session, event_id=events[0]["eventId"]
    )
    actors = manager.list_actors()
    sessions = manager.list_actor_sessions("sdk/manager")
    found = manager.search_long_term_memories(
        query="database connections", namespace_path="/facts/"
    )
    records = manager.list_long_term_memory_records(namespace_path="/facts/")
    record = manager.get_memory_record(records[0]["memoryRecordId"])

    assert event["eventId"] == events[0]["eventId"]
    assert "sdk/manager" in {a["actorId"] for a in actors}
    assert session in {s["sessionId"] for s in sessions}
    assert found and records and record["memoryRecordId"] == records[0]["memoryRecordId"]


def _stdout(events: list[dict]) -> str:
    return "".join(e["result"]["structuredContent"].get("stdout", "") for e in events)


def test_the_sdks_code_interpreter(sdk_env):
    from bedrock_agentcore.tools.code_interpreter_client import CodeInterpreter

    interpreter = CodeInterpreter(region="us-east-1")
    interpreter.start()
    try:
        code = list(interpreter.execute_code("print(6 * 7)")["stream"])
        shell = list(interpreter.execute_command("echo ready")["stream"])
        session = interpreter.get_session()
        listed = interpreter.list_sessions()
    finally:
        stopped = interpreter.stop()

    assert _stdout(code) == "42\n"
    assert _stdout(shell) == "ready\n"
    assert code[-1]["result"]["structuredContent"]["exitCode"] == 0
    assert session["status"] == "READY"
    assert session["sessionId"] in {s["sessionId"] for s in listed["items"]}
    assert stopped is True


def test_the_sdks_browser_client(sdk_env):
    from bedrock_agentcore.tools.browser_client import BrowserClient

    browser = BrowserClient(region="us-east-1")
    session_id = browser.start(viewport={"width": 1280, "height": 720})
    try:
        got = browser.get_session()
        listed = browser.list_sessions()
        browser.take_control()
        taken = browser.get_session()["streams"]["automationStream"]["streamStatus"]
        browser.release_control()
        released = browser.get_session()["streams"]["automationStream"]["streamStatus"]
    finally:
        stopped = browser.stop()

    assert got["sessionId"] == session_id and got["status"] == "READY"
    assert session_id in {s["sessionId"] for s in listed["items"]}
    assert (taken, released) == ("DISABLED", "ENABLED")
    assert stopped is True
