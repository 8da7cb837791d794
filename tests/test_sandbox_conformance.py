"""The sandbox's answers against botocore's output shapes, for every operation it implements.

The operations come from the sandbox's routing and the models (`wire.implemented()`), never a
hand list: an operation added to the sandbox is checked from then on, and fails here until it
has an input that succeeds. Each is called through boto3 (the console's own clients, attached
to the sandbox) on the seeded demo world (seeded once for the module; each test's writes are
rolled back), and both the answer boto3 parsed and the raw body on the wire are checked: required
members, types, enums, lengths, patterns, list and map sizes, unions, timestamp formats, header
members, no member outside the shape; event streams frame by frame and event by event.

Inputs: most operations take `minimal_input()` (the model's required members) with ids from the
world; those that need a particular state (an approval waiting, a session running, a secret
that must be valid) have a case below. Operations whose answers vary with the item read (a
task, a trace, a record) are called for every item the seed has.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import io
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from dashboard.aws.clients import client, reset_clients
from dashboard.sandbox import demo_flows, demo_memory, runtime_agent, wire
from dashboard.sandbox.certs import demo_pem

from .conformance_support import (
    check_body,
    check_event_frames,
    check_headers,
    check_parsed,
    check_parsed_events,
    eventstream_member,
    minimal_input,
)

pytestmark = pytest.mark.django_db
BROWSER = "aws.browser.v1"
INTERPRETER = "aws.codeinterpreter.v1"
ROLE = "arn:aws:iam::123456789012:role/{}"
FAST = {
    "SANDBOX_CHROMIUM": "",  # sessions stream a generated picture: no browser process
    "SANDBOX_FAULTS": "",
    "SANDBOX_CHAT_FAULTS": "",
    "SANDBOX_CHAT_TOKEN_SECONDS": 0.0,
    "SANDBOX_CODE_STEP_SECONDS": 0.0,
    "SANDBOX_RUNTIME_TOKEN_SECONDS": 0.0,
    "SANDBOX_PACE": 1.0,
}


# --- the world: the seeded demo, once for the module ---------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    settings = override_settings(**FAST)
    settings.enable()
    reset_clients()
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            call_command("seed_sandbox", stdout=io.StringIO())
            yield World()
            transaction.set_rollback(True)  # the module's world goes; other modules start clean
    finally:
        settings.disable()
        reset_clients()


class World:
    """Clients of the console and ids read from the seeded world through them."""

    def __init__(self) -> None:
        # Built once for the module (building one reads its model: slow enough to matter
        # when every test would rebuild them).
        self.clients = {service: client(service) for service in wire.SERVICES}
        self.devops = self.clients["devops-agent"]
        self.core = self.clients["bedrock-agentcore"]
        self.control = self.clients["bedrock-agentcore-control"]
        self.agent = self.clients["bedrock-agent"]
        self.flows = self.clients["bedrock-agent-runtime"]

    @functools.cached_property
    def spaces(self) -> list[dict]:
        return self.devops.list_agent_spaces()["agentSpaces"]

    @functools.cached_property
    def space(self) -> str:
        return self.spaces[0]["agentSpaceId"]

    @functools.cached_property
    def tasks(self) -> list[dict]:
        found = []
        for space in self.spaces:
            found += self.devops.list_backlog_tasks(agentSpaceId=space["agentSpaceId"])["tasks"]
        return found

    @functools.cached_property
    def task(self) -> str:
        return self.devops.list_backlog_tasks(agentSpaceId=self.space)["tasks"][0]["taskId"]

    def executions(self, space: str, task: str) -> list[dict]:
        return self.devops.list_executions(agentSpaceId=space, taskId=task)["executions"]

    @functools.cached_property
    def chat(self) -> str:
        chats = self.devops.list_chats(agentSpaceId=self.space)["executions"]
        return chats[0]["executionId"] if chats else ""

    @functools.cached_property
    def association(self) -> dict:
        return self.devops.list_associations(agentSpaceId=self.space)["associations"][0]

    @functools.cached_property
    def asset(self) -> dict:
        for space in self.spaces:
            found = self.devops.list_assets(agentSpaceId=space["agentSpaceId"])["items"]
            if found:
                return {**found[0], "agentSpaceId": space["agentSpaceId"]}
        raise AssertionError("the seed has no asset")

    @functools.cached_property
    def memory_session(self) -> dict:
        return {
            "memoryId": demo_memory.TRIAGE_MEMORY,
            "actorId": "oncall/priya-raman",
            "sessionId": "inc-4821-checkout-5xx",
        }

    def known(self) -> dict[str, Any]:
        """Ids by input member name, for `minimal_input()`."""
        runtime = next(iter(runtime_agent.RUNTIMES.values()))
        return {
            "agentSpaceId": self.space,
            "taskId": self.task,
            "memoryId": demo_memory.TRIAGE_MEMORY,
            "actorId": self.memory_session["actorId"],
            "browserIdentifier": BROWSER,
            "browserId": BROWSER,
            "codeInterpreterIdentifier": INTERPRETER,
            "codeInterpreterId": INTERPRETER,
            "agentRuntimeId": runtime.runtime_id,
            "endpointName": "DEFAULT",
            "flowIdentifier": demo_flows.FLOW_ID,
            "aliasIdentifier": demo_flows.PROD_ALIAS,
            "flowAliasIdentifier": demo_flows.PROD_ALIAS,
            "workloadName": "devops-triage-agent",
        }

    def token(self) -> str:
        return self.core.get_workload_access_token(workloadName="devops-triage-agent")[
            "workloadAccessToken"
        ]

    def browser_session(self) -> str:
        return self.core.start_browser_session(browserIdentifier=BROWSER)["sessionId"]

    def code_session(self) -> str:
        return self.core.start_code_interpreter_session(codeInterpreterIdentifier=INTERPRETER)[
            "sessionId"
        ]


Case = Callable[[World], Iterator[dict[str, Any]]]
CASES: dict[tuple[str, str], Case] = {}


def case(service: str, operation: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        CASES[(service, operation)] = fn
        return fn

    return register


# --- devops-agent ------------------------------------------------------------------------------

D = "devops-agent"


@case(D, "GetAgentSpace")
def _(w: World):
    for space in w.spaces:
        yield {"agentSpaceId": space["agentSpaceId"]}


@case(D, "UpdateAgentSpace")
def _(w: World):
    yield {"agentSpaceId": w.space, "description": "Checked against the model."}


@case(D, "DeleteAgentSpace")
def _(w: World):
    yield {"agentSpaceId": w.devops.create_agent_space(name="Doomed")["agentSpace"]["agentSpaceId"]}


@case(D, "GetBacklogTask")
def _(w: World):
    for task in w.tasks:
        yield {"agentSpaceId": task["agentSpaceId"], "taskId": task["taskId"]}


@case(D, "ListExecutions")
def _(w: World):
    for task in w.tasks[:40]:
        yield {"agentSpaceId": task["agentSpaceId"], "taskId": task["taskId"]}


def _executions(w: World) -> Iterator[dict[str, str]]:
    for task in w.tasks[:40]:
        for execution in w.executions(task["agentSpaceId"], task["taskId"]):
            yield {"agentSpaceId": task["agentSpaceId"], "executionId": execution["executionId"]}


@case(D, "ListJournalRecords")
def _(w: World):
    yield from _executions(w)
    if w.chat:
        yield {"agentSpaceId": w.space, "executionId": w.chat}


@case(D, "ListPendingMessages")
def _(w: World):
    yield from _executions(w)


@case(D, "CreateBacklogTask")
def _(w: World):
    yield {
        "agentSpaceId": w.space,
        "taskType": "INVESTIGATION",
        "title": "Conformance check",
        "priority": "LOW",
        "description": "Made by the conformance suite.",
    }


@case(D, "UpdateBacklogTask")
def _(w: World):
    created = w.devops.create_backlog_task(
        agentSpaceId=w.space, taskType="INVESTIGATION", title="To cancel", priority="LOW"
    )["task"]
    yield {"agentSpaceId": w.space, "taskId": created["taskId"], "taskStatus": "CANCELED"}


@case(D, "UpdateApprovalAction")
def _(w: World):
    from dashboard.sandbox.models import Approval

    for task in w.tasks:  # reading the boards lets the agent ask for its approvals
        w.devops.get_backlog_task(agentSpaceId=task["agentSpaceId"], taskId=task["taskId"])
    pending = Approval.objects.filter(status="PENDING").first()
    assert pending is not None, "the seed has no approval waiting"
    yield {
        "agentSpaceId": pending.space_id,
        "approvalId": pending.approval_id,
        "action": "APPROVED",
    }


@case(D, "GetChat")
def _(w: World):
    chat = w.chat or w.devops.create_chat(agentSpaceId=w.space)["executionId"]
    yield {"agentSpaceId": w.space, "executionId": chat}


@case(D, "UpdateChat")
def _(w: World):
    chat = w.devops.create_chat(agentSpaceId=w.space)["executionId"]
    yield {"agentSpaceId": w.space, "executionId": chat, "summary": "Renamed"}


@case(D, "SendMessage")
def _(w: World):
    chat = w.devops.create_chat(agentSpaceId=w.space)["executionId"]
    yield {"agentSpaceId": w.space, "executionId": chat, "content": "What is open right now?"}


@case(D, "GetRecommendation")
def _(w: World):
    for space in w.spaces:
        found = w.devops.list_recommendations(agentSpaceId=space["agentSpaceId"])
        for rec in found["recommendations"]:
            yield {
                "agentSpaceId": space["agentSpaceId"],
                "recommendationId": rec["recommendationId"],
            }


@case(D, "UpdateRecommendation")
def _(w: World):
    found = w.devops.list_recommendations(agentSpaceId=w.space, status="PROPOSED")
    rec = found["recommendations"][0]
    yield {
        "agentSpaceId": w.space,
        "recommendationId": rec["recommendationId"],
        "status": "ACCEPTED",
    }


@case(D, "UpdateGoal")
def _(w: World):
    goal = next(
        g
        for g in w.devops.list_goals(agentSpaceId=w.space)["goals"]
        if g.get("status") == "ACTIVE" and g.get("evaluationSchedule")
    )
    state = goal["evaluationSchedule"]["state"]
    yield {
        "agentSpaceId": w.space,
        "goalId": goal["goalId"],
        "evaluationSchedule": {"state": "DISABLED" if state == "ENABLED" else "ENABLED"},
    }


def _trigger_input(w: World) -> dict[str, Any]:
    seeded = w.devops.get_trigger(**next(_triggers(w)))
    return {
        "agentSpaceId": w.space,
        "type": "TIME_BASED",
        "condition": {"schedule": {"expression": "rate(1 day)"}},
        "action": seeded["trigger"]["action"],
    }


@case(D, "CreateTrigger")
def _(w: World):
    yield _trigger_input(w)


def _triggers(w: World) -> Iterator[dict[str, str]]:
    for space in w.spaces:
        for trigger in w.devops.list_triggers(agentSpaceId=space["agentSpaceId"])["items"]:
            yield {"agentSpaceId": space["agentSpaceId"], "triggerId": trigger["triggerId"]}


@case(D, "GetTrigger")
def _(w: World):
    yield from _triggers(w)


@case(D, "UpdateTrigger")
def _(w: World):
    first = next(_triggers(w))
    yield {**first, "status": "Inactive"}


@case(D, "DeleteTrigger")
def _(w: World):
    yield next(_triggers(w))


def _services(w: World) -> list[dict]:
    return w.devops.list_services()["services"]


@case(D, "GetService")
def _(w: World):
    for service in _services(w):
        yield {"serviceId": service["serviceId"]}


MCP = {
    "name": "conformance-tools",
    "endpoint": "https://mcp.example.com/mcp",
    "description": "Tools",
    "authorizationConfig": {"customHeaders": {"headers": {"X-Token": "header-secret-1"}}},
}


@case(D, "RegisterService")
def _(w: World):
    yield {"service": "mcpserver", "serviceDetails": {"mcpserver": MCP}}


@case(D, "DeregisterService")
def _(w: World):
    made = w.devops.register_service(service="mcpserver", serviceDetails={"mcpserver": MCP})
    yield {"serviceId": made["serviceId"]}


def _aws_monitor(account: str) -> dict[str, Any]:
    return {
        "aws": {
            "accountId": account,
            "accountType": "monitor",
            "assumableRoleArn": f"arn:aws:iam::{account}:role/DevOpsAgentRole",
        }
    }


@case(D, "AssociateService")
def _(w: World):
    yield {
        "agentSpaceId": w.space,
        "serviceId": "aws",
        "configuration": _aws_monitor("123456789012"),
    }


def _associations(w: World) -> Iterator[dict[str, str]]:
    for space in w.spaces:
        for row in w.devops.list_associations(agentSpaceId=space["agentSpaceId"])["associations"]:
            yield {"agentSpaceId": space["agentSpaceId"], "associationId": row["associationId"]}


@case(D, "GetAssociation")
def _(w: World):
    yield from _associations(w)


@case(D, "ListWebhooks")
def _(w: World):
    yield from _associations(w)


@case(D, "UpdateAssociation")
def _(w: World):
    made = w.devops.associate_service(
        agentSpaceId=w.space, serviceId="aws", configuration=_aws_monitor("123456789012")
    )["association"]
    yield {
        "agentSpaceId": w.space,
        "associationId": made["associationId"],
        "configuration": _aws_monitor("123456789012"),
    }


@case(D, "DisassociateService")
def _(w: World):
    made = w.devops.associate_service(
        agentSpaceId=w.space, serviceId="aws", configuration=_aws_monitor("123456789012")
    )["association"]
    yield {"agentSpaceId": w.space, "associationId": made["associationId"]}


@case(D, "ValidateAwsAssociations")
def _(w: World):
    yield {"agentSpaceId": w.space}


def _connections(w: World) -> list[dict]:
    return w.devops.list_private_connections()["privateConnections"]


@case(D, "DescribePrivateConnection")
def _(w: World):
    for connection in _connections(w):
        yield {"name": connection["name"]}


@case(D, "CreatePrivateConnection")
def _(w: World):
    yield {
        "name": "conformance-link",
        "mode": {
            "serviceManaged": {
                "hostAddress": "grafana.internal.example.com",
                "vpcId": "vpc-0123456789abcdef0",
                "subnetIds": ["subnet-0123456789abcdef0"],
            }
        },
    }


@case(D, "UpdatePrivateConnectionCertificate")
def _(w: World):
    active = next(c for c in _connections(w) if c["status"] == "ACTIVE")
    now = timezone.now()
    yield {
        "name": active["name"],
        "certificate": demo_pem("conformance.example.com", now, now + dt.timedelta(days=90)),
    }


@case(D, "DeletePrivateConnection")
def _(w: World):
    active = next(c for c in _connections(w) if c["status"] == "ACTIVE")
    yield {"name": active["name"]}


@case(D, "GetOperatorApp")
def _(w: World):
    for space in w.spaces:
        yield {"agentSpaceId": space["agentSpaceId"]}


@case(D, "EnableOperatorApp")
def _(w: World):
    yield {
        "agentSpaceId": w.space,
        "authFlow": "iam",
        "operatorAppRoleArn": ROLE.format("OperatorApp"),
    }


@case(D, "DisableOperatorApp")
def _(w: World):
    w.devops.enable_operator_app(
        agentSpaceId=w.space, authFlow="iam", operatorAppRoleArn=ROLE.format("OperatorApp")
    )
    yield {"agentSpaceId": w.space, "authFlow": "iam"}


@case(D, "UpdateOperatorAppIdpConfig")
def _(w: World):
    for space in w.spaces:
        app = w.devops.get_operator_app(agentSpaceId=space["agentSpaceId"])
        if app.get("idp"):
            yield {"agentSpaceId": space["agentSpaceId"], "idpClientSecret": "new-secret-1234"}
            return


def _assets(w: World) -> Iterator[dict[str, str]]:
    for space in w.spaces:
        for asset in w.devops.list_assets(agentSpaceId=space["agentSpaceId"])["items"]:
            yield {"agentSpaceId": space["agentSpaceId"], "assetId": asset["assetId"]}


@case(D, "GetAsset")
def _(w: World):
    yield from _assets(w)


@case(D, "ListAssetFiles")
def _(w: World):
    yield from _assets(w)


@case(D, "ListAssetVersions")
def _(w: World):
    yield from _assets(w)


@case(D, "GetAssetContent")
def _(w: World):
    yield from _assets(w)


@case(D, "GetAssetFile")
def _(w: World):
    for asset in _assets(w):
        for item in w.devops.list_asset_files(**asset)["items"]:
            yield {**asset, "path": item["path"]}


SKILL = {
    "assetType": "skill",
    "metadata": {"name": "conformance-skill", "description": "Checks the model."},
    "content": {"file": {"path": "SKILL.md", "body": {"text": "# Check\n"}}},
}


def _new_asset(w: World) -> dict[str, str]:
    made = w.devops.create_asset(agentSpaceId=w.space, **SKILL)["asset"]
    return {"agentSpaceId": w.space, "assetId": made["assetId"]}


@case(D, "CreateAsset")
def _(w: World):
    yield {"agentSpaceId": w.space, **SKILL}


@case(D, "UpdateAsset")
def _(w: World):
    yield {**_new_asset(w), "metadata": {**SKILL["metadata"], "description": "Updated."}}


@case(D, "DeleteAsset")
def _(w: World):
    yield _new_asset(w)


@case(D, "CreateAssetFile")
def _(w: World):
    yield {**_new_asset(w), "path": "notes/extra.md", "content": {"text": "More.\n"}}


@case(D, "UpdateAssetFile")
def _(w: World):
    yield {**_new_asset(w), "path": "SKILL.md", "content": {"text": "# Changed\n"}}


@case(D, "DeleteAssetFile")
def _(w: World):
    asset = _new_asset(w)
    w.devops.create_asset_file(**asset, path="notes/gone.md", content={"text": "x"})
    yield {**asset, "path": "notes/gone.md"}


def _arns(w: World) -> Iterator[str]:
    for space in w.spaces[:1]:
        yield (
            space["arn"]
            if "arn" in space
            else (f"arn:aws:aidevops:us-east-1:123456789012:agentspace/{space['agentSpaceId']}")
        )
    for service in _services(w)[:1]:
        yield f"arn:aws:aidevops:us-east-1:123456789012:service/{service['serviceId']}"


@case(D, "ListTagsForResource")
def _(w: World):
    for arn in _arns(w):
        yield {"resourceArn": arn}


@case(D, "TagResource")
def _(w: World):
    yield {"resourceArn": next(_arns(w)), "tags": {"checked": "yes"}}


@case(D, "UntagResource")
def _(w: World):
    yield {"resourceArn": next(_arns(w)), "tagKeys": ["team"]}


# --- bedrock-agentcore (data plane) -----------------------------------------------------------

C = "bedrock-agentcore"


def _memory_sessions(w: World) -> Iterator[dict[str, str]]:
    for memory in (demo_memory.TRIAGE_MEMORY, demo_memory.SUPPORT_MEMORY):
        for actor in w.core.list_actors(memoryId=memory)["actorSummaries"]:
            found = w.core.list_sessions(memoryId=memory, actorId=actor["actorId"])
            for session in found["sessionSummaries"]:
                yield {
                    "memoryId": memory,
                    "actorId": actor["actorId"],
                    "sessionId": session["sessionId"],
                }


@case(C, "ListActors")
def _(w: World):
    for memory in (demo_memory.TRIAGE_MEMORY, demo_memory.SUPPORT_MEMORY):
        yield {"memoryId": memory}


@case(C, "ListSessions")
def _(w: World):
    for memory in (demo_memory.TRIAGE_MEMORY, demo_memory.SUPPORT_MEMORY):
        for actor in w.core.list_actors(memoryId=memory)["actorSummaries"]:
            yield {"memoryId": memory, "actorId": actor["actorId"]}


@case(C, "ListEvents")
def _(w: World):
    for session in _memory_sessions(w):
        yield {**session, "includePayloads": True}


@case(C, "GetEvent")
def _(w: World):
    for session in list(_memory_sessions(w))[:3]:
        for event in w.core.list_events(**session)["events"]:
            yield {**session, "eventId": event["eventId"]}


@case(C, "CreateEvent")
def _(w: World):
    yield {
        **w.memory_session,
        "eventTimestamp": timezone.now(),
        "payload": [
            {"conversational": {"role": "USER", "content": {"text": "Checked."}}},
            {"blob": {"tool": "check", "ok": True}},
        ],
    }


@case(C, "DeleteEvent")
def _(w: World):
    made = w.core.create_event(
        **w.memory_session,
        eventTimestamp=timezone.now(),
        payload=[{"conversational": {"role": "USER", "content": {"text": "Gone soon."}}}],
    )["event"]
    yield {**w.memory_session, "eventId": made["eventId"]}


def _records(w: World) -> Iterator[dict[str, Any]]:
    for memory in (demo_memory.TRIAGE_MEMORY, demo_memory.SUPPORT_MEMORY):
        found = w.core.list_memory_records(memoryId=memory, namespacePath="/")
        for record in found["memoryRecordSummaries"]:
            yield {"memoryId": memory, "memoryRecordId": record["memoryRecordId"]}


@case(C, "ListMemoryRecords")
def _(w: World):
    for memory in (demo_memory.TRIAGE_MEMORY, demo_memory.SUPPORT_MEMORY):
        yield {"memoryId": memory, "namespacePath": "/"}


@case(C, "GetMemoryRecord")
def _(w: World):
    yield from _records(w)


@case(C, "DeleteMemoryRecord")
def _(w: World):
    yield next(_records(w))


@case(C, "RetrieveMemoryRecords")
def _(w: World):
    for memory in (demo_memory.TRIAGE_MEMORY, demo_memory.SUPPORT_MEMORY):
        yield {
            "memoryId": memory,
            "namespacePath": "/",
            "searchCriteria": {"searchQuery": "database connections refund", "topK": 20},
        }


@case(C, "BatchCreateMemoryRecords")
def _(w: World):
    yield {
        "memoryId": demo_memory.TRIAGE_MEMORY,
        "records": [
            {
                "requestIdentifier": "conformance-1",
                "content": {"text": "Checked by the conformance suite."},
                "namespaces": ["/facts/conformance"],
                "timestamp": timezone.now(),
            }
        ],
    }


@case(C, "BatchUpdateMemoryRecords")
def _(w: World):
    record = next(_records(w))
    yield {
        "memoryId": record["memoryId"],
        "records": [
            {
                "memoryRecordId": record["memoryRecordId"],
                "content": {"text": "Updated."},
                "timestamp": timezone.now(),
            }
        ],
    }


@case(C, "BatchDeleteMemoryRecords")
def _(w: World):
    record = next(_records(w))
    yield {
        "memoryId": record["memoryId"],
        "records": [{"memoryRecordId": record["memoryRecordId"]}],
    }


@case(C, "GetBrowserSession")
def _(w: World):
    yield {"browserIdentifier": BROWSER, "sessionId": w.browser_session()}


@case(C, "StopBrowserSession")
def _(w: World):
    yield {"browserIdentifier": BROWSER, "sessionId": w.browser_session()}


@case(C, "UpdateBrowserStream")
def _(w: World):
    yield {
        "browserIdentifier": BROWSER,
        "sessionId": w.browser_session(),
        "streamUpdate": {"automationStreamUpdate": {"streamStatus": "DISABLED"}},
    }


@case(C, "ListBrowserSessions")
def _(w: World):
    w.browser_session()
    yield {"browserIdentifier": BROWSER}


@case(C, "StartBrowserSession")
def _(w: World):
    yield {
        "browserIdentifier": BROWSER,
        "name": "conformance",
        "sessionTimeoutSeconds": 600,
        "viewPort": {"width": 1280, "height": 720},
    }


@case(C, "GetCodeInterpreterSession")
def _(w: World):
    yield {"codeInterpreterIdentifier": INTERPRETER, "sessionId": w.code_session()}


@case(C, "StopCodeInterpreterSession")
def _(w: World):
    yield {"codeInterpreterIdentifier": INTERPRETER, "sessionId": w.code_session()}


@case(C, "ListCodeInterpreterSessions")
def _(w: World):
    w.code_session()
    yield {"codeInterpreterIdentifier": INTERPRETER}


@case(C, "InvokeCodeInterpreter")
def _(w: World):
    session = w.code_session()
    base = {"codeInterpreterIdentifier": INTERPRETER, "sessionId": session}
    yield {
        **base,
        "name": "executeCode",
        "arguments": {"language": "python", "code": "print(6 * 7)\nprint(undefined)"},
    }
    yield {**base, "name": "executeCommand", "arguments": {"command": "echo hi > a.txt && ls"}}
    yield {
        **base,
        "name": "writeFiles",
        "arguments": {
            "content": [{"path": "b.txt", "text": "text"}, {"path": "c.bin", "blob": b"\x00\x01"}]
        },
    }
    yield {**base, "name": "readFiles", "arguments": {"paths": ["b.txt", "c.bin"]}}
    yield {**base, "name": "listFiles", "arguments": {"directoryPath": ""}}
    yield {**base, "name": "removeFiles", "arguments": {"paths": ["b.txt"]}}
    task = w.core.invoke_code_interpreter(
        **base, name="startCommandExecution", arguments={"command": "sleep 1; echo done"}
    )
    task_id = ""
    for event in task["stream"]:
        task_id = task_id or event.get("result", {}).get("structuredContent", {}).get("taskId", "")
    yield {**base, "name": "getTask", "arguments": {"taskId": task_id}}
    yield {**base, "name": "stopTask", "arguments": {"taskId": task_id}}


@case(C, "InvokeAgentRuntime")
def _(w: World):
    for runtime in runtime_agent.RUNTIMES.values():
        arn = runtime_agent.arn_of(runtime, "us-east-1", "123456789012")
        for accept in ("text/event-stream", "application/json", "text/plain"):
            if accept != "application/json" and not runtime.streams:
                continue
            yield {
                "agentRuntimeArn": arn,
                "runtimeSessionId": f"conformance-{uuid.uuid4()}",
                "payload": json.dumps({"prompt": "Why is checkout-api slow?"}).encode(),
                "contentType": "application/json",
                "accept": accept,
            }


@case(C, "GetWorkloadAccessTokenForJWT")
def _(w: World):
    def part(document: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")

    jwt = f"{part({'alg': 'none'})}.{part({'sub': 'priya', 'iss': 'https://idp.example.com'})}.c2ln"
    yield {"workloadName": "devops-triage-agent", "userToken": jwt}


@case(C, "GetWorkloadAccessTokenForUserId")
def _(w: World):
    yield {"workloadName": "devops-triage-agent", "userId": "priya"}


@case(C, "GetResourceApiKey")
def _(w: World):
    yield {"workloadIdentityToken": w.token(), "resourceCredentialProviderName": "pagerduty-api"}


@case(C, "GetResourceOauth2Token")
def _(w: World):
    base = {"resourceCredentialProviderName": "github-oauth", "scopes": ["repo"]}
    yield {**base, "workloadIdentityToken": w.token(), "oauth2Flow": "M2M"}
    user = w.core.get_workload_access_token_for_user_id(
        workloadName="devops-triage-agent", userId="priya"
    )["workloadAccessToken"]
    yield {**base, "workloadIdentityToken": user, "oauth2Flow": "USER_FEDERATION"}


@case(C, "CompleteResourceTokenAuth")
def _(w: World):
    user = w.core.get_workload_access_token_for_user_id(
        workloadName="devops-triage-agent", userId="priya"
    )["workloadAccessToken"]
    pending = w.core.get_resource_oauth2_token(
        workloadIdentityToken=user,
        resourceCredentialProviderName="github-oauth",
        scopes=["repo"],
        oauth2Flow="USER_FEDERATION",
    )
    yield {"userIdentifier": {"userId": "priya"}, "sessionUri": pending["sessionUri"]}


# --- control planes and flows ------------------------------------------------------------------

K = "bedrock-agentcore-control"


@case(K, "GetMemory")
def _(w: World):
    for memory in (demo_memory.TRIAGE_MEMORY, demo_memory.SUPPORT_MEMORY):
        yield {"memoryId": memory}


@case(K, "GetAgentRuntime")
def _(w: World):
    for runtime in runtime_agent.RUNTIMES.values():
        yield {"agentRuntimeId": runtime.runtime_id}


@case(K, "ListAgentRuntimeEndpoints")
def _(w: World):
    for runtime in runtime_agent.RUNTIMES.values():
        yield {"agentRuntimeId": runtime.runtime_id}


@case(K, "GetAgentRuntimeEndpoint")
def _(w: World):
    for runtime in runtime_agent.RUNTIMES.values():
        for name in runtime.qualifiers:
            yield {"agentRuntimeId": runtime.runtime_id, "endpointName": name}


R = "bedrock-agent-runtime"


def _flow_executions(w: World) -> Iterator[dict[str, str]]:
    found = w.flows.list_flow_executions(flowIdentifier=demo_flows.FLOW_ID, maxResults=1000)
    for summary in found["flowExecutionSummaries"]:
        yield {
            "flowIdentifier": demo_flows.FLOW_ID,
            "flowAliasIdentifier": summary["flowAliasIdentifier"],
            "executionIdentifier": summary["executionArn"],
        }


@case(R, "GetFlowExecution")
def _(w: World):
    yield from _flow_executions(w)


@case(R, "ListFlowExecutionEvents")
def _(w: World):
    for execution in _flow_executions(w):
        for event_type in ("Flow", "Node"):
            token = None
            while True:  # every page: each answer is checked
                params = {**execution, "eventType": event_type, "maxResults": 1000}
                if token:
                    params["nextToken"] = token
                yield params
                token = w.flows.list_flow_execution_events(**params).get("nextToken")
                if not token:
                    break


@case(R, "ListFlowExecutions")
def _(w: World):
    yield {"flowIdentifier": demo_flows.FLOW_ID, "maxResults": 1000}
    yield {"flowIdentifier": demo_flows.FLOW_ID, "flowAliasIdentifier": demo_flows.TEST_ALIAS}


# --- escalation to AWS Support: the model extras and Amazon Connect's participant API ----------


def _case(w: World) -> dict[str, str]:
    return {"agentSpaceId": w.space, "taskId": w.task}


def _connection(w: World) -> str:
    """A connection token of an open case chat on the world's task."""
    opened = w.devops.initiate_chat_for_case(**_case(w))["chatParticipantConnection"]
    connect = w.clients["connectparticipant"]
    made = connect.create_participant_connection(
        ParticipantToken=opened["participantToken"], Type=["CONNECTION_CREDENTIALS"]
    )
    return made["ConnectionCredentials"]["ConnectionToken"]


@case(D, "DescribeSupportLevel")
def _(w: World):
    yield _case(w)


@case(D, "InitiateChatForCase")
def _(w: World):
    yield _case(w)
    yield _case(w)  # open already: the same contact


@case(D, "EndChatForCase")
def _(w: World):
    yield _case(w)  # none opened: not disconnected, with the reason
    _connection(w)
    yield {**_case(w), "reason": "Resolved", "requester": "conformance"}
    yield _case(w)  # again: idempotent


@case(D, "AllowVendedLogDeliveryForResource")
def _(w: World):
    space = f"arn:aws:aidevops:us-east-1:123456789012:agentspace/{w.space}"
    yield {
        "resourceArnBeingAuthorized": space,
        "deliverySourceArn": "arn:aws:logs:us-east-1:123456789012:delivery-source:agent",
        "logType": "APPLICATION_LOGS",
    }


P = "connectparticipant"


@case(P, "CreateParticipantConnection")
def _(w: World):
    token = w.devops.initiate_chat_for_case(**_case(w))["chatParticipantConnection"][
        "participantToken"
    ]
    yield {"ParticipantToken": token, "Type": ["CONNECTION_CREDENTIALS"]}
    yield {"ParticipantToken": token, "Type": ["WEBSOCKET", "CONNECTION_CREDENTIALS"]}


@case(P, "SendMessage")
def _(w: World):
    yield {"ConnectionToken": _connection(w), "ContentType": "text/plain", "Content": "Hello"}


@case(P, "GetTranscript")
def _(w: World):
    from dashboard.sandbox.models import SupportCase

    token = _connection(w)
    SupportCase.objects.update(joins_at=timezone.now())  # the engineer has joined and greeted
    connect = w.clients["connectparticipant"]
    connect.send_message(ConnectionToken=token, ContentType="text/plain", Content="The logs?")
    yield {"ConnectionToken": token}
    yield {"ConnectionToken": token, "ScanDirection": "FORWARD", "MaxResults": 1}
    yield {"ConnectionToken": token, "SortOrder": "DESCENDING", "StartPosition": {"MostRecent": 2}}


@case(P, "DisconnectParticipant")
def _(w: World):
    yield {"ConnectionToken": _connection(w)}


# --- the checks --------------------------------------------------------------------------------


def _inputs(w: World, service: str, operation: str) -> Iterator[dict[str, Any]]:
    found = CASES.get((service, operation))
    if found is not None:
        yield from found(w)
        return
    shape = wire.service_model(service).operation_model(operation).input_shape
    yield minimal_input(shape, w.known())


class Tap:
    """What the sandbox sent for each call: status, headers and the body's bytes (a streamed
    body is copied as botocore reads it)."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []

    def __call__(self, original: Callable[..., wire.Response]) -> Callable[..., wire.Response]:
        def tapped(*args: Any) -> wire.Response:
            response = original(*args)
            seen: dict[str, Any] = {"status": response.status, "headers": response.headers}
            self.answers.append(seen)
            if isinstance(response.body, bytes | bytearray):
                seen["body"] = bytes(response.body)
                return response
            seen["body"] = b""

            def copied(chunks: Any = response.body) -> Iterator[bytes]:
                for chunk in chunks:
                    seen["body"] += chunk if isinstance(chunk, bytes) else chunk.encode()
                    yield chunk

            return wire.Response(response.status, response.headers, copied())

        return tapped


def _read_streams(op, answer: dict[str, Any]) -> list[dict[str, Any]]:
    """Consume a streamed answer (so its raw bytes are all seen); events as boto3 gave them."""
    stream = eventstream_member(op)
    if stream is not None:
        return list(answer[stream[0]])
    payload = op.output_shape.serialization.get("payload") if op.output_shape else None
    if payload and hasattr(answer.get(payload), "read"):
        answer[payload] = answer[payload].read()
    return []


def conformance_problems(
    w: World, service: str, operation: str, params: dict[str, Any], tap: Tap
) -> list:
    op = wire.service_model(service).operation_model(operation)
    method = getattr(w.clients[service], _snake(operation))
    tap.answers.clear()
    answer = method(**params)
    events = _read_streams(op, answer)
    assert tap.answers, "the call never reached the sandbox"
    raw = tap.answers[-1]
    problems = check_headers(op, raw["headers"])
    expected = int(op.http.get("responseCode", 200))
    if raw["status"] != expected:
        problems.append(f"HTTP {raw['status']}, the model says {expected}")
    stream = eventstream_member(op)
    shape = op.output_shape
    if stream is not None:
        names, frame_problems = check_event_frames(stream[1], raw["body"])
        problems += frame_problems
        if not names:
            problems.append("an event stream without a single event")
        problems += check_parsed_events(stream[1], events)
        if [next(iter(e)) for e in events] != names:
            problems.append("boto3 yielded other events than the frames carried")
    elif shape is not None:
        payload = shape.serialization.get("payload")
        if payload is None:
            body = json.loads(raw["body"]) if raw["body"] else {}
            problems += check_body(shape, body)
        elif shape.members[payload].type_name == "structure":
            problems += check_body(shape.members[payload], json.loads(raw["body"] or b"{}"))
        problems += check_parsed(shape, answer)
    elif raw["body"]:
        problems.append("a body where the model has no output")
    return problems


@functools.cache
def _snake(operation: str) -> str:
    from botocore import xform_name

    return xform_name(operation)


OPERATIONS = wire.implemented()


@pytest.mark.parametrize(
    ("service", "operation"), OPERATIONS, ids=[f"{s}:{o}" for s, o in OPERATIONS]
)
def test_every_answer_conforms_to_the_output_shape(world, monkeypatch, service, operation):
    tap = Tap()
    monkeypatch.setattr(wire, "dispatch", tap(wire.dispatch))
    calls = 0
    problems: list[str] = []
    for params in _inputs(world, service, operation):
        calls += 1
        found = conformance_problems(world, service, operation, params, tap)
        problems += [f"call {calls}: {p}" for p in found]
    assert calls, f"no input for {service} {operation}: give it a case"
    assert problems == []


def test_the_operations_checked_are_the_sandboxs_own_and_in_the_models():
    # The list is the sandbox's routing: every handler registered, each an operation of its
    # service's model (a renamed or removed operation would fail at import).
    assert len(OPERATIONS) == len(set(OPERATIONS)) == len(wire._handlers)
    for service, operation in OPERATIONS:
        assert operation in wire.service_model(service).operation_names
    assert set(CASES) <= set(OPERATIONS), "a case for an operation the sandbox does not have"


def test_the_checks_can_fail():
    model = wire.service_model("bedrock-agent-runtime")
    events = model.operation_model("ListFlowExecutionEvents").output_shape
    too_many = {"flowExecutionEvents": [{"flowInputEvent": {}}] * 11, "extra": 1}
    problems = check_body(events, too_many)
    assert any("more than 10" in p for p in problems)
    assert any("not a member" in p for p in problems)
    assert any("required, missing" in p for p in problems)  # flowInputEvent's own members
    union = model.shape_for("FlowExecutionEvent")
    assert any(
        "union" in p for p in check_body(union, {"flowInputEvent": {}, "flowOutputEvent": {}})
    )
    summary = wire.service_model("bedrock-agentcore-control").shape_for("AgentRuntime")
    bad_time = {
        "agentRuntimeArn": "x",
        "agentRuntimeId": "x",
        "agentRuntimeVersion": "1",
        "agentRuntimeName": "x",
        "lastUpdatedAt": 1700000000,
        "status": "NOPE",
    }
    found = check_body(summary, bad_time)
    assert any("is not iso8601 text" in p for p in found)
    assert any("NOPE" in p for p in found) and any("does not match" in p for p in found)


def _too_long(w: World, service: str, operation: str) -> dict[str, Any] | None:
    """A working input with one string member one character over its maximum, or None."""
    op = wire.service_model(service).operation_model(operation)
    if op.input_shape is None:
        return None
    good = next(_inputs(w, service, operation), None)
    if good is None:
        return None
    for name, member in op.input_shape.members.items():
        limit = member.metadata.get("max")
        location = member.serialization.get("location")
        if member.type_name == "string" and limit and limit < 5000 and location != "header":
            return {**good, name: "a" * (limit + 1)}
    return None


def _limited(service: str, operation: str) -> bool:
    """The operation takes a string member with a maximum a test can exceed."""
    shape = wire.service_model(service).operation_model(operation).input_shape
    return shape is not None and any(
        member.type_name == "string"
        and member.metadata.get("max")
        and member.metadata["max"] < 5000
        and member.serialization.get("location") != "header"
        for member in shape.members.values()
    )


REFUSABLE = [(s, o) for s, o in OPERATIONS if _limited(s, o)]


@pytest.mark.parametrize(
    ("service", "operation"), REFUSABLE, ids=[f"{s}:{o}" for s, o in REFUSABLE]
)
def test_every_refusal_is_a_modeled_error_shaped_by_the_model(
    world, monkeypatch, service, operation
):
    """Input over a model limit: the answer is one of the operation's errors, with its status,
    and a body its error shape allows."""
    params = _too_long(world, service, operation)
    assert params is not None, "no working input to push over its limit"
    tap = Tap()
    monkeypatch.setattr(wire, "dispatch", tap(wire.dispatch))
    op = wire.service_model(service).operation_model(operation)
    with pytest.raises(Exception) as raised:
        getattr(world.clients[service], _snake(operation))(**params)
    error = getattr(raised.value, "response", {}).get("Error", {})
    raw = tap.answers[-1]
    code = raw["headers"].get("x-amzn-errortype", "")
    modeled = {shape.name: shape for shape in op.error_shapes}
    assert code in modeled, f"{code} ({error.get('Message')}) is not among {sorted(modeled)}"
    shape = modeled[code]
    assert raw["status"] == shape.metadata.get("error", {}).get("httpStatusCode", 400)
    assert check_body(shape, json.loads(raw["body"])) == []
