"""The console against the botocore models it is built on: every set a model defines that the
console covers with a table of its own (names, tones, labels, transitions, forms, the sandbox's
emulation) covers all of the model's members, and a failure names the members that are new.

When botocore brings a new service type, enum value or operation, one of these fails and says
what to add; nothing here counts members by hand.
"""

from __future__ import annotations

import ast
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import regex

from dashboard.aws import spaces as aws_spaces
from dashboard.aws import tasks as aws_tasks
from dashboard.aws.configuration import AUTH_FLOWS
from dashboard.aws.model import service_model
from dashboard.configuration import display as configuration_display
from dashboard.configuration.forms import FLOWS
from dashboard.flows.templatetags import flow_trace
from dashboard.integrations import catalog, present
from dashboard.prevention import forms as prevention_forms
from dashboard.prevention import links
from dashboard.prevention.templatetags import prevention_display
from dashboard.sandbox import tasks as sandbox_tasks
from dashboard.sandbox import wire
from dashboard.sandbox.demo_integrations import app_service
from dashboard.sandbox.ops import integrations as sandbox_integrations
from dashboard.tasks import forms as task_forms
from dashboard.tasks.templatetags import board_rows, task_display
from tests.integrations_support import post_data
from tests.model_support import enum, members, missing, shape_problems

DEVOPS = "devops-agent"
AGENTCORE = "bedrock-agentcore"
RUNTIME = "bedrock-agent-runtime"
ROOT = Path(__file__).resolve().parent.parent


# --- service types, their forms and their display ---------------------------------------------


def _service_types() -> list[str]:
    found = sorted(set(enum(DEVOPS, "Service")) | set(catalog.registrable_types()))
    assert catalog.registrable_types(), "RegisterService offers no type: the model did not load"
    return found


def test_every_service_type_has_a_name_a_category_and_a_line_about_it():
    undescribed = [
        t
        for t in _service_types()
        if catalog.kind(t).category not in catalog.CATEGORIES or not catalog.kind(t).blurb
    ]
    assert not undescribed, (
        f"Service types the model has and dashboard/integrations/catalog.py _KINDS does not "
        f"describe: {undescribed}"
    )


def _auth_variants() -> list[tuple[str, str]]:
    """(type, variant) of every authorizationConfig union of RegisterService's details."""
    details = service_model(DEVOPS).shape_for("ServiceDetails")
    found = []
    for service_type, shape in details.members.items():
        auth = shape.members.get("authorizationConfig")
        if auth is not None and auth.metadata.get("union"):
            found.extend((service_type, variant) for variant in auth.members)
    assert found, "no authorization union in ServiceDetails: the model did not load"
    return found


def test_every_authorization_variant_has_a_label_and_an_emulated_method():
    unlabelled = [
        (t, v)
        for t, v in _auth_variants()
        if f"serviceDetails.{t}*.authorizationConfig.{v}" not in catalog.register_hints(t)
    ]
    assert not unlabelled, f"Authorization variants without a label in catalog.py: {unlabelled}"
    variants = {v for _, v in _auth_variants()}
    unmapped = missing(variants, sandbox_integrations._METHODS)
    assert not unmapped, (
        "Authorization variants the sandbox reports no authorizationMethod for "
        f"(sandbox/ops/integrations.py _METHODS): {unmapped}"
    )


@pytest.fixture
def answers(monkeypatch) -> list:
    """The sandbox's answers as its handlers returned them, before serialization."""
    seen: list = []
    original = wire.serialize_output

    def record(op, result):
        seen.append((op, result))
        return original(op, result)

    monkeypatch.setattr(wire, "serialize_output", record)
    return seen


def _conform(answers: list) -> None:
    assert answers, "the sandbox answered nothing"
    for op, result in answers:
        if op.output_shape is not None:
            problems = shape_problems(op.output_shape, result)
            assert not problems, f"{op.name} answers what the model does not say: {problems}"


def _register(admin_client, service_type: str, variant: str) -> str:
    """Register through the console's form; the new service's id."""
    layout = catalog.register_layout(service_type)
    auth = f"serviceDetails.{service_type}.authorizationConfig"
    data = post_data(layout, variants={auth: variant} if variant else {})
    response = admin_client.post(f"/services/new/{service_type}/", data)
    assert response.status_code == 302, (service_type, variant, response.content[:2000])
    if response["Location"].startswith("/sandbox/oauth/"):
        back = admin_client.post(response["Location"], {"decision": "allow"})
        response = admin_client.get(back["Location"])
        assert response.status_code == 302, (service_type, variant)
    return response["Location"].rstrip("/").rsplit("/", 1)[1]


REGISTRATIONS = [(t, v) for t, v in _auth_variants()] + [
    (t, "") for t in catalog.registrable_types() if t not in {t for t, _ in _auth_variants()}
]


@pytest.mark.parametrize(("service_type", "variant"), REGISTRATIONS)
def test_every_registrable_type_registers_and_its_page_shows_what_aws_keeps(
    admin_client, answers, service_type, variant
):
    if service_type not in catalog.registrable_types():
        pytest.skip(f"{service_type} has an authorization union but is registered elsewhere")
    service_id = _register(admin_client, service_type, variant)
    answers.clear()
    page = admin_client.get(f"/services/{service_id}/")
    assert page.status_code == 200
    _conform(answers)
    service = next(r for op, r in answers if op.name == "GetService")["service"]
    kept = members(DEVOPS, "AdditionalServiceDetails")
    if service_type in kept:
        assert service_type in (service.get("additionalServiceDetails") or {}), (
            f"GetService shows no additionalServiceDetails.{service_type}: the sandbox's "
            "_registered_details does not know the type"
        )
        assert f"{catalog.type_name(service_type)} settings" in page.content.decode()


def test_the_console_and_the_sandbox_agree_on_which_configurations_a_type_takes():
    assert catalog.CONFIGS == sandbox_integrations._CONFIGS


# ServiceConfiguration members the console offers for no service type, and why.
NO_SERVICE_TYPE = {
    # No Service type carries it, and neither the model nor the API document says which
    # service a release management environment is associated with.
    "releaseManagement",
}


def _configuration_owner(kind: str) -> str:
    """A service type whose association takes ServiceConfiguration member `kind`."""
    types = [catalog.AWS_SERVICE_ID, *_service_types()]
    return next((t for t in types if kind in catalog.config_kinds(t)), "")


def test_every_association_configuration_is_offered_by_some_service_type():
    kinds = members(DEVOPS, "ServiceConfiguration")
    orphans = [k for k in kinds if not _configuration_owner(k) and k not in NO_SERVICE_TYPE]
    assert not orphans, (
        f"ServiceConfiguration members no service type offers (catalog.CONFIGS): {orphans}"
    )
    unnamed = [
        k
        for k in kinds
        if k not in present._KIND_LABELS and catalog.kind(k).category not in catalog.CATEGORIES
    ]
    assert not unnamed, f"Configurations without a name in present.py or catalog.py: {unnamed}"


@pytest.mark.parametrize("kind", members(DEVOPS, "ServiceConfiguration"))
def test_every_association_configuration_associates_and_reads_back(
    admin_client, space, answers, kind
):
    owner = _configuration_owner(kind)
    if kind in NO_SERVICE_TYPE:
        assert not owner, f"{kind} is offered now: take it out of NO_SERVICE_TYPE"
        return
    assert owner, f"no service type offers the {kind} configuration"
    if owner == catalog.AWS_SERVICE_ID:
        service_id = owner
    elif owner in catalog.registrable_types():
        service_id = _register(admin_client, owner, "")
    else:
        service_id = app_service(owner, f"{owner} one", {}).service_id
    layout = catalog.association_layout(owner, (kind,))
    data = post_data(layout)
    if kind == "agentspace":
        other = aws_spaces.create_space(name="Linked")
        data[catalog.TARGET_SPACE] = aws_spaces.space_arn(other["agentSpaceId"])
    base = f"/spaces/{space['agentSpaceId']}/associations/"
    response = admin_client.post(f"{base}new/{service_id}/", data)
    assert response.status_code == 302, (kind, response.content.decode()[:2000])
    answers.clear()
    page = admin_client.get(response["Location"])
    assert page.status_code == 200
    _conform(answers)
    association = next(r for op, r in answers if op.name == "GetAssociation")["association"]
    assert list(association["configuration"]) == [kind]
    answers.clear()
    assert admin_client.get(base).status_code == 200
    _conform(answers)


def test_every_webhook_the_sandbox_makes_has_a_type_of_the_model():
    assert not missing(sandbox_integrations._WEBHOOKS.values(), enum(DEVOPS, "WebhookType")), (
        "sandbox/ops/integrations.py _WEBHOOKS names a webhook type the model does not have"
    )
    assert not missing(sandbox_integrations._WEBHOOKS, _service_types())


# --- tasks -----------------------------------------------------------------------------------


def test_every_task_and_execution_status_has_a_tone():
    statuses = set(enum(DEVOPS, "TaskStatus")) | set(enum(DEVOPS, "ExecutionStatus"))
    assert not missing(statuses, task_display._STATUS_TONE), (
        f"Statuses without a badge tone (task_display._STATUS_TONE): "
        f"{missing(statuses, task_display._STATUS_TONE)}"
    )


def test_every_priority_has_a_tone_and_a_rank():
    priorities = enum(DEVOPS, "Priority")
    assert not missing(priorities, task_display._PRIORITY_TONE), missing(
        priorities, task_display._PRIORITY_TONE
    )
    assert not missing(priorities, sandbox_tasks.PRIORITY_RANK), (
        f"Priorities the sandbox cannot rank (sandbox/tasks.py PRIORITY_RANK): "
        f"{missing(priorities, sandbox_tasks.PRIORITY_RANK)}"
    )
    assert not missing(priorities, board_rows._RANK), (
        f"Priorities the board cannot sort (board_rows._RANK): "
        f"{missing(priorities, board_rows._RANK)}"
    )


def test_every_task_status_is_decided_for_triage():
    """Each status either offers changes, is final, or is LINKED (its primary is worked)."""
    statuses = enum(DEVOPS, "TaskStatus")
    decided = set(task_forms.TRANSITIONS) | set(aws_tasks.TERMINAL) | {"LINKED"}
    assert not missing(statuses, decided), (
        f"Task statuses neither in tasks/forms.py TRANSITIONS nor aws/tasks.py TERMINAL: "
        f"{missing(statuses, decided)}"
    )
    targets = {t for moves in task_forms.TRANSITIONS.values() for t, _, _ in moves}
    assert not missing(decided | targets, statuses), "a status the model does not have"
    sandbox = set(sandbox_tasks.ALLOWED) | {
        t for moves in sandbox_tasks.ALLOWED.values() for t in moves
    }
    assert not missing(sandbox, statuses), missing(sandbox, statuses)


def test_the_task_types_offered_are_the_models():
    types = enum(DEVOPS, "TaskType")
    offered = [t for t, _ in task_forms.CREATE_TYPES] + list(links.TASK_TYPES)
    assert offered and not missing(offered, types), missing(offered, types)


# --- prevention ------------------------------------------------------------------------------


def test_every_recommendation_and_goal_value_has_a_tone():
    for shape, table in (
        ("RecommendationStatus", prevention_display._REC_TONE),
        ("RecommendationPriority", prevention_display._REC_PRIORITY_TONE),
        ("GoalStatus", prevention_display._GOAL_TONE),
    ):
        values = enum(DEVOPS, shape)
        assert not missing(values, table), f"{shape} without a tone: {missing(values, table)}"


def test_every_recommendation_status_is_decided():
    statuses = enum(DEVOPS, "RecommendationStatus")
    # UPDATE_IN_PROGRESS is reached by sending back with context and left by the agent.
    decided = (
        set(prevention_forms.REC_TRANSITIONS) | set(prevention_forms.FINAL) | {"UPDATE_IN_PROGRESS"}
    )
    assert not missing(statuses, decided), (
        f"Recommendation statuses neither offering changes nor final (prevention/forms.py): "
        f"{missing(statuses, decided)}"
    )
    targets = {t for moves in prevention_forms.REC_TRANSITIONS.values() for t, _, _ in moves}
    assert not missing(decided | targets | set(prevention_forms.SEND_BACK_FROM), statuses)


def test_every_recommendation_priority_becomes_a_task_priority():
    assert not missing(enum(DEVOPS, "RecommendationPriority"), links.PRIORITY), (
        f"Recommendation priorities prevention/links.py PRIORITY does not map: "
        f"{missing(enum(DEVOPS, 'RecommendationPriority'), links.PRIORITY)}"
    )
    assert not missing(links.PRIORITY.values(), enum(DEVOPS, "Priority"))


# --- configuration ---------------------------------------------------------------------------


def test_every_private_connection_value_has_a_label():
    for shape, table in (
        ("PrivateConnectionStatus", configuration_display.STATUS_LABEL),
        ("PrivateConnectionStatus", configuration_display.STATUS_TONE),
        ("PrivateConnectionType", configuration_display.TYPE_LABEL),
        ("ResourceConfigDnsResolution", configuration_display.DNS_LABEL),
    ):
        values = enum(DEVOPS, shape)
        assert not missing(values, table), f"{shape} not in display.py: {missing(values, table)}"


def test_every_usage_metric_has_a_label():
    output = service_model(DEVOPS).operation_model("GetAccountUsage").output_shape
    metrics = [
        name
        for name, shape in output.members.items()
        if shape.type_name == "structure" and "usage" in shape.members
    ]
    assert metrics, "GetAccountUsage has no usage metric: the model changed"
    assert not missing(metrics, configuration_display.USAGE_LABELS), (
        f"Usage metrics without a label and a line (configuration/display.py USAGE_LABELS): "
        f"{missing(metrics, configuration_display.USAGE_LABELS)}"
    )


def test_every_operator_app_sign_in_flow_is_described():
    flows = enum(DEVOPS, "AuthFlow")
    assert sorted(AUTH_FLOWS) == sorted(flows), missing(flows, AUTH_FLOWS)
    assert not missing(flows, FLOWS), (
        f"Sign-in flows configuration/forms.py FLOWS lacks: {missing(flows, FLOWS)}"
    )


# --- AgentCore and flows ----------------------------------------------------------------------


def test_every_memory_role_is_shown():
    from dashboard.agentcore.templatetags.agentcore_display import _ROLES
    from dashboard.aws.agentcore_memory import ROLES

    roles = enum(AGENTCORE, "Role")
    assert sorted(ROLES) == sorted(roles), missing(roles, ROLES)
    assert not missing(roles, _ROLES), missing(roles, _ROLES)


def test_the_session_statuses_offered_are_the_models():
    from dashboard.aws import agentcore_code, browser

    for offered, shape in (
        (browser.STATUSES, "BrowserSessionStatus"),
        (browser.AUTOMATION_STATUSES, "AutomationStreamStatus"),
        (agentcore_code.STATUSES, "CodeInterpreterSessionStatus"),
    ):
        values = enum(AGENTCORE, shape)
        assert sorted(offered) == sorted(values), (shape, missing(values, offered))


def test_every_flow_event_kind_has_a_label():
    kinds = members(RUNTIME, "FlowExecutionEvent")
    assert not missing(kinds, flow_trace.KIND_LABELS), (
        f"Flow execution events without a label (flow_trace.KIND_LABELS): "
        f"{missing(kinds, flow_trace.KIND_LABELS)}"
    )
    from dashboard.aws.flows import FLOW_KINDS
    from dashboard.flows.forms import TYPES

    # The trace page's filter: all events, or one of the model's event types.
    assert sorted(t for t in TYPES if t != "All") == sorted(enum(RUNTIME, "FlowExecutionEventType"))
    assert not missing(FLOW_KINDS, kinds)


def test_every_agent_trace_part_has_a_title():
    untitled = [
        kind
        for kind in members(RUNTIME, "Trace")
        if flow_trace.trace_part({"trace": {kind: {}}})["title"] in (kind, "Trace")
    ]
    assert not untitled, f"Agent trace parts flow_trace.trace_part does not know: {untitled}"


# --- the sandbox's operations -----------------------------------------------------------------


def _implemented(service: str) -> set[str]:
    from dashboard.sandbox import ops  # noqa: F401 - registers the handlers

    return {name for (served, name) in wire._handlers if served == service}


def test_the_sandbox_implements_every_devops_agent_operation():
    model = set(service_model(DEVOPS).operation_names)
    assert model, "the devops-agent model has no operations"
    assert not missing(model, _implemented(DEVOPS)), (
        f"devops-agent operations the sandbox does not implement: "
        f"{missing(model, _implemented(DEVOPS))}"
    )


def _console_calls() -> set[tuple[str, str]]:
    """(service, operation) of every call(), pages() and collect() in dashboard/aws/."""
    found = set()
    for path in sorted((ROOT / "dashboard" / "aws").glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        # Module-level names of services (SERVICE, CONTROL, CONNECT, ...).
        names: dict[str, str] = {}
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id.isupper():
                        names[target.id] = node.value.value
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("call", "pages", "collect")
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                continue
            first = node.args[0]
            if isinstance(first, ast.Name) and first.id in names:
                found.add((names[first.id], node.args[1].value))
            elif isinstance(first, ast.Constant):
                found.add((first.value, node.args[1].value))
    return found


def test_every_operation_the_console_calls_is_in_the_model_and_emulated():
    calls = _console_calls()
    assert len({s for s, _ in calls} & set(wire.SERVICES)) == len(wire.SERVICES), calls
    # Operations the console calls must be in the model it loads: botocore's, or (offered
    # only when present, like the support-case operations) the sandbox's model extras.
    unknown = [(s, op) for s, op in calls if op not in wire.service_model(s).operation_names]
    assert not unknown, f"Operations the console calls that the model does not have: {unknown}"
    extras = [(s, op) for s, op in calls if op not in service_model(s).operation_names]
    assert all(s == "devops-agent" for s, _ in extras), extras
    absent = sorted((s, op) for s, op in calls if s in wire.SERVICES and op not in _implemented(s))
    assert not absent, f"Operations the console calls that the sandbox does not implement: {absent}"


def _sample_request(op) -> tuple[str, str, dict[str, list[str]]]:
    path, _, query = op.http["requestUri"].partition("?")
    path = regex.sub(r"\{[^}]+\+\}", "a1/b1", path)
    path = regex.sub(r"\{[^}]+\}", "x1", path)
    return op.http["method"], path, {k: [v] for k, v in parse_qsl(query, keep_blank_values=True)}


def test_every_operation_the_sandbox_implements_is_routed_to_it():
    pairs = [(s, op) for s in wire.SERVICES for op in sorted(_implemented(s))]
    assert pairs
    misrouted = []
    for service, name in pairs:
        op = wire.service_model(service).operation_model(name)
        method, path, query = _sample_request(op)
        try:
            found = wire.route(service, method, path, query)[0].name
        except wire.SandboxError as exc:
            found = exc.code
        if found != name:
            misrouted.append(f"{service} {name}: {method} {path} reaches {found}")
    assert not misrouted, misrouted
