"""Registering services: every type RegisterService accepts, with every authorization variant
its model allows, through the form generated from the model; invalid posts keep the input,
lose the secrets and register nothing; OAuth 3LO sends the admin to the provider and back."""

from __future__ import annotations

import pytest

from dashboard.aws.model import operation_model
from dashboard.core.audit import AuditEntry
from dashboard.core.shapeforms import find, walk
from dashboard.integrations import catalog
from dashboard.sandbox.models import PendingOAuth, RegisteredService
from tests.integrations_support import post_data

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/6f1e8a52-3c1d-4b8e-9a55-0d7c2f1b9e43"
THREE_LEGGED = ("oAuth3LO", "authorizationDiscovery")


def _cases() -> list[tuple[str, str]]:
    cases = []
    for service_type in catalog.registrable_types():
        layout = catalog.register_layout(service_type)
        auth = next(
            (
                n
                for n in walk(layout)
                if n.kind == "union" and n.path.endswith(".authorizationConfig")
            ),
            None,
        )
        if auth is None:
            cases.append((service_type, ""))
        else:
            cases.extend((service_type, variant.name) for variant in auth.children)
    return cases


CASES = _cases()


def _post(service_type: str, variant: str, secrets: list[str] | None = None) -> dict:
    layout = catalog.register_layout(service_type)
    variants = {}
    if variant:
        variants[f"serviceDetails.{service_type}.authorizationConfig"] = variant
    return post_data(layout, variants=variants, secrets=secrets)


def _model_variants() -> dict[str, set[str]]:
    """Each type RegisterService takes, read from the model itself (not through the catalog):
    the authorization variants its details offer ("" when they offer no choice)."""
    shape = operation_model(catalog.SERVICE, "RegisterService").input_shape
    details = shape.members["serviceDetails"]
    found: dict[str, set[str]] = {}
    for service_type in shape.members["service"].enum:
        member = details.members.get(service_type)
        auth = member.members.get("authorizationConfig") if member is not None else None
        if auth is not None and auth.metadata.get("union"):
            found[service_type] = set(auth.members)
        else:
            found[service_type] = {""}
    return found


def test_every_registrable_type_and_variant_is_covered() -> None:
    expected = _model_variants()
    assert expected, "the model offers no registrable type: the model did not load"
    covered: dict[str, set[str]] = {}
    for service_type, variant in CASES:
        covered.setdefault(service_type, set()).add(variant)
    missing_types = sorted(set(expected) - set(covered))
    assert not missing_types, f"RegisterService types without a form case: {missing_types}"
    assert set(covered) == set(expected), sorted(set(covered) - set(expected))
    for service_type, variants in expected.items():
        missing = sorted(variants - covered[service_type])
        assert not missing, f"{service_type}: authorization variants not covered: {missing}"


@pytest.mark.parametrize(("service_type", "variant"), CASES)
def test_it_registers_each_type_with_each_authorization(admin_client, service_type, variant):
    secrets: list[str] = []
    data = _post(service_type, variant, secrets)
    response = admin_client.post(f"/services/new/{service_type}/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    if variant in THREE_LEGGED:
        assert response["Location"].startswith("/sandbox/oauth/authorize/")
        assert not RegisteredService.objects.exists()
        assert PendingOAuth.objects.count() == 1
        return
    service = RegisteredService.objects.get()
    assert service.service_type == service_type
    assert response["Location"] == f"/services/{service.pk}/"
    page = admin_client.get(response["Location"]).content.decode()
    for secret in secrets:
        assert secret not in page
    entry = AuditEntry.objects.get(operation="RegisterService")
    assert entry.outcome == AuditEntry.OK
    for secret in secrets:
        assert secret not in str(entry.detail)


@pytest.mark.parametrize("service_type", catalog.registrable_types())
def test_an_empty_post_registers_nothing_and_says_what_is_missing(admin_client, service_type):
    layout = catalog.register_layout(service_type)
    details = find(layout, f"serviceDetails.{service_type}")
    assert details is not None
    response = admin_client.post(f"/services/new/{service_type}/", {})
    if not any(n.required for n in walk(details) if n is not details):
        # Nothing in these details is required (an event channel's): an empty form is a
        # valid registration.
        assert response.status_code == 302
        assert RegisteredService.objects.get().service_type == service_type
        return
    assert response.status_code == 400
    page = response.content.decode()
    # Each required member of the details says what it needs: a value, or a choice.
    expected = _required_leaves(details)
    assert expected
    for path, message in expected:
        if path:
            assert f'id="id_{path}_error">' in page, path
            error = page.split(f'id="id_{path}_error">', 1)[1].split("</ul>", 1)[0]
            assert message in error, path
        else:
            assert message in page
    assert not RegisteredService.objects.exists()


def _required_leaves(node) -> list[tuple[str, str]]:
    """(field path, message) an empty post must show for `node`'s required members ("" for
    a choice between variants, whose message heads its group)."""
    found: list[tuple[str, str]] = []
    for child in node.children:
        if not child.required or child.kind in ("fixed", "rows", "map"):
            continue
        if child.kind == "union" and len(child.children) > 1:
            found.append(("", f"Choose one: {child.label}."))
        elif child.kind in ("union", "struct"):
            found.extend(_required_leaves(child.children[0] if child.kind == "union" else child))
        else:
            found.append((child.path, "This field is required."))
    return found


@pytest.mark.parametrize(("service_type", "variant"), CASES)
def test_a_value_against_the_model_is_refused_next_to_its_field_and_secrets_are_not_sent_back(
    admin_client, service_type, variant
):
    secrets: list[str] = []
    # Break the first patterned text member of the details (an enum where there is none).
    data = _post(service_type, variant, secrets)
    target = next(
        (
            key
            for key in data
            if key.startswith("serviceDetails.")
            and data[key] not in secrets
            and _patterned(service_type, key)
        ),
        None,
    )
    bad = "not valid at all ✗"
    if target is None:
        # No patterned text member (an event channel's details): choose a value no enum has.
        details = find(catalog.register_layout(service_type), f"serviceDetails.{service_type}")
        assert details is not None
        choice = next((n for n in walk(details) if n.kind == "choice"), None)
        assert choice is not None, f"{service_type}: no patterned or enum member to break"
        target, bad = choice.path, "carrier-pigeon"
    data[target] = bad
    response = admin_client.post(f"/services/new/{service_type}/", data)
    assert response.status_code == 400, (target, response.status_code)
    page = response.content.decode()
    assert 'class="errorlist"' in page
    if bad.startswith("not valid"):
        assert bad in page  # the user's input stays
    for secret in secrets:
        assert secret not in page
    assert not RegisteredService.objects.exists()
    assert not PendingOAuth.objects.exists()


def _patterned(service_type: str, key: str) -> bool:
    node = find(catalog.register_layout(service_type), key)
    return bool(node and node.constraint and node.constraint.pattern and node.kind == "text")


def test_the_form_uses_the_model_documentation_and_password_inputs(admin_client):
    page = admin_client.get("/services/new/mcpserver/").content.decode()
    assert "MCP server endpoint URL." in page  # the member's documentation as help
    assert 'type="password"' in page
    assert 'name="serviceDetails.mcpserver.authorizationConfig.apiKey.apiKeyValue"' in page
    assert 'type="url"' in page
    assert 'hx-history="false"' in page
    # The type picker lists every type.
    picker = admin_client.get("/services/new/").content.decode()
    assert catalog.registrable_types()
    for service_type in catalog.registrable_types():
        assert f"/services/new/{service_type}/" in picker


def test_an_unknown_type_is_a_404(admin_client):
    assert admin_client.get("/services/new/github/").status_code == 404
    assert admin_client.get("/services/new/nonsense/").status_code == 404


def test_aws_field_errors_land_next_to_the_field(admin_client):
    data = _post("mcpserver", "apiKey")
    admin_client.post("/services/new/mcpserver/", data)
    # The same MCP server name again: AWS (the sandbox) refuses with a conflict.
    response = admin_client.post("/services/new/mcpserver/", data)
    assert response.status_code == 400
    assert "already registered" in response.content.decode()
    assert RegisteredService.objects.count() == 1


def test_private_connection_rules_come_back_from_aws_next_to_the_field(admin_client):
    data = _post("gitlab", "")
    data.update(privateConnectionName="net-a", targetUrlPrivateConnectionName="net-b")
    response = admin_client.post("/services/new/gitlab/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give either one private connection or separate ones" in page
    assert not RegisteredService.objects.exists()


def test_name_kms_key_and_tags_are_sent(admin_client):
    data = _post("mcpserver", "bearerToken")
    data.update(
        {
            "name": "Grafana tools",
            "kmsKeyArn": KMS_KEY,
            "tags.0.key": "team",
            "tags.0.value": "sre",
        }
    )
    response = admin_client.post("/services/new/mcpserver/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    service = RegisteredService.objects.get()
    assert service.name == "Grafana tools"
    assert service.kms_key_arn.startswith("arn:aws:kms:")
    page = admin_client.get(response["Location"]).content.decode()
    assert "Grafana tools" in page
    assert "sre" in page  # the tags card


def test_adding_a_row_without_javascript_keeps_the_form_and_sends_nothing(admin_client):
    data = _post("mcpserver", "customHeaders")
    data["_more"] = "serviceDetails.mcpserver.authorizationConfig.customHeaders.headers"
    response = admin_client.post("/services/new/mcpserver/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "authorizationConfig.customHeaders.headers.2.key" in page  # three rows shown now
    assert 'class="errorlist"' not in page
    assert not RegisteredService.objects.exists()


def test_a_form_of_many_rows_is_read_not_refused_as_too_many_fields(admin_client):
    # Forms generated from the model grow a few fields per row (tools, headers, tags): a big
    # registration passed Django's default of 1,000 fields and got a bare "Bad Request".
    data = _post("mcpserver", "apiKey")
    data.update({f"unrelated-{n}": "x" for n in range(1_500)})
    response = admin_client.post("/services/new/mcpserver/", data)
    assert response.status_code == 302, response.content.decode()[:500]
    assert RegisteredService.objects.get().service_type == "mcpserver"
