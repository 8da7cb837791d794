"""Linked agent spaces (the `agentspace` service type of botocore 1.44.18's devops-agent model):
the sandbox's emulation of RegisterService, GetService, ListServices, AssociateService,
GetAssociation, ListAssociations and UpdateAssociation, answered exactly as the model's output
shapes say; and each console page on the way (register, service, associate, association,
edit, disassociate), without a browser."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from dashboard.aws import errors
from dashboard.aws import integrations as aws
from dashboard.aws import spaces as aws_spaces
from dashboard.aws.clients import client
from dashboard.integrations import catalog
from dashboard.sandbox import wire
from dashboard.sandbox.models import RegisteredService, ServiceAssociation
from tests.model_support import enum, shape_problems

ROLE = "arn:aws:iam::123456789012:role/LinkedSpaces"
OTHER_ROLE = "arn:aws:iam::123456789012:role/LinkedSpacesToo"
TARGET = "configuration.agentspace.targetAgentSpaceArn"
PICK = TARGET + "._pick"


@pytest.fixture
def answers(monkeypatch) -> list:
    """Every answer the sandbox gives, as its handler returned it (before serialization could
    drop a member the model does not have)."""
    seen: list = []
    original = wire.serialize_output

    def record(op, result):
        seen.append((op, result))
        return original(op, result)

    monkeypatch.setattr(wire, "serialize_output", record)
    return seen


def _conforming(answers: list) -> None:
    assert answers
    for op, result in answers:
        problems = shape_problems(op.output_shape, result) if op.output_shape else []
        assert not problems, (op.name, problems)


@pytest.fixture
def lead(db) -> dict:
    return aws_spaces.create_space(name="Checkout lead", description="Leads checkout incidents")


@pytest.fixture
def member(db) -> dict:
    return aws_spaces.create_space(name="Payments member", description="Card processing")


@pytest.fixture
def linker(db) -> str:
    return aws.register_service("agentspace", {"assumableRoleArn": ROLE})["serviceId"]


def _arn(space: dict) -> str:
    return aws_spaces.space_arn(space["agentSpaceId"])


def _link(space: dict, service_id: str, target_arn: str, relationship: str = "member") -> dict:
    config = {"agentspace": {"targetAgentSpaceArn": target_arn, "relationshipType": relationship}}
    return aws.associate(space["agentSpaceId"], service_id, config)["association"]


# --- the sandbox ------------------------------------------------------------------------------


def test_a_registered_agentspace_service_reads_back_with_its_role(db, answers):
    service_id = aws.register_service("agentspace", {"assumableRoleArn": ROLE})["serviceId"]
    service, _ = aws.get_service(service_id)
    assert service["serviceType"] == "agentspace"
    assert service["additionalServiceDetails"] == {"agentspace": {"assumableRoleArn": ROLE}}
    listed = aws.list_services(service_type="agentspace")["services"]
    assert [s["serviceId"] for s in listed] == [service_id]
    assert aws.list_services(service_type="mcpserver")["services"] == []
    _conforming(answers)


def test_the_same_role_cannot_be_registered_twice(db):
    aws.register_service("agentspace", {"assumableRoleArn": ROLE})
    with pytest.raises(errors.Conflict):
        aws.register_service("agentspace", {"assumableRoleArn": ROLE})
    aws.register_service("agentspace", {"assumableRoleArn": OTHER_ROLE})
    assert RegisteredService.objects.filter(service_type="agentspace").count() == 2


def test_an_association_names_the_target_space_and_reads_back_as_the_model_says(
    lead, member, linker, answers
):
    made = _link(lead, linker, _arn(member), "member")
    expected = {
        "agentspace": {
            "targetAgentSpaceArn": _arn(member),
            "relationshipType": "member",
            "targetAgentSpaceName": "Payments member",
            "targetAgentSpaceDescription": "Card processing",
        }
    }
    assert made["configuration"] == expected
    assert made["status"] == "valid"
    got = aws.get_association(lead["agentSpaceId"], made["associationId"])
    assert got["configuration"] == expected and got["serviceId"] == linker
    listed = aws.list_associations(lead["agentSpaceId"], service_types=["agentspace"])
    assert [a["associationId"] for a in listed["associations"]] == [made["associationId"]]
    assert (
        aws.list_associations(lead["agentSpaceId"], service_types=["github"])["associations"] == []
    )
    assert aws.list_webhooks(lead["agentSpaceId"], made["associationId"]) == []
    _conforming(answers)


def test_a_name_and_description_given_are_kept(lead, member, linker):
    config = {
        "agentspace": {
            "targetAgentSpaceArn": _arn(member),
            "relationshipType": "dependency",
            "targetAgentSpaceName": "Payments (their on-call)",
            "targetAgentSpaceDescription": "Ask them about card declines",
        }
    }
    made = aws.associate(lead["agentSpaceId"], linker, config)["association"]
    assert made["configuration"] == config


@pytest.mark.parametrize("relationship", enum("devops-agent", "AgentSpaceRelationshipType"))
def test_every_relationship_of_the_model_is_accepted(lead, member, linker, relationship):
    made = _link(lead, linker, _arn(member), relationship)
    assert made["configuration"]["agentspace"]["relationshipType"] == relationship


def test_a_relationship_the_model_does_not_have_is_refused(lead, member, linker):
    config = {"agentspace": {"targetAgentSpaceArn": _arn(member), "relationshipType": "boss"}}
    with pytest.raises(ClientError) as refused:
        client("devops-agent").associate_service(
            agentSpaceId=lead["agentSpaceId"], serviceId=linker, configuration=config
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "relationshipType" in refused.value.response["Error"]["Message"]
    assert not ServiceAssociation.objects.exists()


@pytest.mark.parametrize(
    "arn",
    [
        # No such space in this account.
        "arn:aws:aidevops:us-east-1:{account}:agentspace/00000000-0000-0000-0000-000000000000",
        # The space's id, but in another account or region: not a space the sandbox has.
        "arn:aws:aidevops:us-east-1:999999999999:agentspace/{member}",
        "arn:aws:aidevops:eu-west-1:{account}:agentspace/{member}",
    ],
)
def test_a_target_that_names_no_existing_space_is_not_found(lead, member, linker, arn, settings):
    target = arn.format(account=settings.SANDBOX_ACCOUNT_ID, member=member["agentSpaceId"])
    with pytest.raises(errors.NotFound) as refused:
        _link(lead, linker, target)
    assert target in refused.value.message
    assert not ServiceAssociation.objects.exists()


def test_an_arn_of_the_wrong_form_is_refused_by_the_model_pattern(lead, linker):
    with pytest.raises(errors.ValidationFailed) as refused:
        _link(lead, linker, "arn:aws:aidevops:us-east-1:123456789012:space/x")
    assert "targetAgentSpaceArn" in refused.value.message
    assert not ServiceAssociation.objects.exists()


def test_a_space_cannot_be_linked_to_itself(lead, linker):
    with pytest.raises(errors.ValidationFailed) as refused:
        _link(lead, linker, _arn(lead))
    assert refused.value.fields == {TARGET: "Choose another agent space"}
    assert not ServiceAssociation.objects.exists()


def test_a_lead_links_several_members_and_linking_one_again_replaces_that_link(
    lead, member, linker
):
    third = aws_spaces.create_space(name="Fraud member")
    first = _link(lead, linker, _arn(member), "member")
    _link(lead, linker, _arn(third), "member")
    again = _link(lead, linker, _arn(member), "dependency")
    rows = aws.all_associations(lead["agentSpaceId"])
    assert len(rows) == 2
    assert again["associationId"] == first["associationId"]
    assert again["configuration"]["agentspace"]["relationshipType"] == "dependency"


def test_update_changes_the_relationship_and_the_target_and_checks_both(
    lead, member, linker, answers
):
    third = aws_spaces.create_space(name="Fraud member")
    made = _link(lead, linker, _arn(member), "member")
    space_id, association_id = lead["agentSpaceId"], made["associationId"]

    def update(target_arn: str, relationship: str) -> dict:
        config = {
            "agentspace": {"targetAgentSpaceArn": target_arn, "relationshipType": relationship}
        }
        return aws.update_association(space_id, association_id, config)["association"]

    assert update(_arn(member), "consumer")["configuration"]["agentspace"] == {
        "targetAgentSpaceArn": _arn(member),
        "relationshipType": "consumer",
        "targetAgentSpaceName": "Payments member",
        "targetAgentSpaceDescription": "Card processing",
    }
    moved = update(_arn(third), "consumer")["configuration"]["agentspace"]
    assert moved["targetAgentSpaceName"] == "Fraud member"
    assert "targetAgentSpaceDescription" not in moved  # the fraud space has none
    _conforming(answers)

    missing = _arn(third)[: -len(third["agentSpaceId"])] + "0" * 8 + "-0000-0000-0000-" + "0" * 12
    with pytest.raises(errors.NotFound):
        update(missing, "consumer")
    with pytest.raises(errors.ValidationFailed):
        update(_arn(lead), "consumer")
    # The member is linked by another association now: moving onto it would make two links.
    other = _link(lead, linker, _arn(member), "member")
    assert other["associationId"] != association_id
    with pytest.raises(errors.Conflict):
        update(_arn(member), "member")
    kept = aws.get_association(space_id, association_id)["configuration"]["agentspace"]
    assert kept["targetAgentSpaceArn"] == _arn(third)


def test_a_linked_service_cannot_be_deregistered_until_disassociated(lead, member, linker):
    made = _link(lead, linker, _arn(member))
    with pytest.raises(errors.Conflict):
        aws.deregister_service(linker)
    aws.disassociate(lead["agentSpaceId"], made["associationId"])
    aws.deregister_service(linker)
    assert not RegisteredService.objects.exists()


# --- the pages --------------------------------------------------------------------------------


def test_the_register_page_asks_for_the_role_and_registers(admin_client):
    page = admin_client.get("/services/new/agentspace/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Linked agent spaces" in html
    assert 'name="serviceDetails.agentspace.assumableRoleArn"' in html
    assert "Role ARN the agent assumes" in html
    response = admin_client.post(
        "/services/new/agentspace/",
        {"name": "Space links", "serviceDetails.agentspace.assumableRoleArn": ROLE},
    )
    service = RegisteredService.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/services/{service.pk}/"
    assert service.service_type == "agentspace" and service.name == "Space links"


def test_the_register_page_refuses_a_role_that_is_not_an_arn_and_keeps_it(admin_client):
    response = admin_client.post(
        "/services/new/agentspace/", {"serviceDetails.agentspace.assumableRoleArn": "LinkRole"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter an IAM role ARN" in html and 'value="LinkRole"' in html
    assert not RegisteredService.objects.exists()


def test_the_service_page_shows_the_role_and_the_spaces_that_use_it(
    admin_client, lead, member, linker
):
    _link(lead, linker, _arn(member))
    html = admin_client.get(f"/services/{linker}/").content.decode()
    assert "Linked agent spaces" in html
    assert ROLE in html
    used = admin_client.get(f"/services/{linker}/used-by/").content.decode()
    assert "Checkout lead" in used
    listed = admin_client.get("/services/?type=agentspace").content.decode()
    assert linker in listed and ROLE in listed


def test_the_associate_page_offers_the_other_spaces_of_the_account(
    admin_client, lead, member, linker
):
    pick = admin_client.get(f"/spaces/{lead['agentSpaceId']}/associations/new/")
    assert f"/associations/new/{linker}/" in pick.content.decode()
    page = admin_client.get(f"/spaces/{lead['agentSpaceId']}/associations/new/{linker}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'name="{PICK}"' in html
    assert f'<option value="{_arn(member)}">Payments member</option>' in html
    assert _arn(lead) not in html  # not itself
    assert 'value="_other"' in html and f'name="{TARGET}"' in html  # typing still works
    for relationship in enum("devops-agent", "AgentSpaceRelationshipType"):
        assert f'<option value="{relationship}">' in html


def test_choosing_a_space_links_it_and_the_pages_show_the_link(admin_client, lead, member, linker):
    base = f"/spaces/{lead['agentSpaceId']}/associations/"
    response = admin_client.post(
        f"{base}new/{linker}/",
        {PICK: _arn(member), "configuration.agentspace.relationshipType": "member"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = ServiceAssociation.objects.get()
    assert row.configuration["agentspace"]["targetAgentSpaceArn"] == _arn(member)
    assert response["Location"] == f"{base}{row.pk}/"
    detail = admin_client.get(response["Location"]).content.decode()
    assert f'href="/spaces/{member["agentSpaceId"]}/"' in detail
    assert "Linked agent space" in detail and "Payments member" in detail
    listed = admin_client.get(base).content.decode()
    assert "Payments member (member)" in listed


def test_typing_an_arn_links_that_space(admin_client, lead, member, linker):
    response = admin_client.post(
        f"/spaces/{lead['agentSpaceId']}/associations/new/{linker}/",
        {
            PICK: "_other",
            TARGET: _arn(member),
            "configuration.agentspace.relationshipType": "lead",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    value = ServiceAssociation.objects.get().configuration["agentspace"]
    assert value["targetAgentSpaceArn"] == _arn(member) and value["relationshipType"] == "lead"


def test_a_typed_arn_of_no_space_is_refused_and_kept_in_the_form(admin_client, lead, linker):
    nowhere = aws_spaces.space_arn("00000000-0000-0000-0000-000000000000")
    response = admin_client.post(
        f"/spaces/{lead['agentSpaceId']}/associations/new/{linker}/",
        {PICK: "_other", TARGET: nowhere, "configuration.agentspace.relationshipType": "lead"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "No agent space has this ARN" in html
    assert f'id="id_{TARGET}_error"' in html  # next to the field it is about
    assert f'value="{nowhere}"' in html
    assert not ServiceAssociation.objects.exists()


def test_a_chosen_space_deleted_meanwhile_is_refused_next_to_the_choice(
    admin_client, lead, member, linker
):
    aws_spaces.delete_space(member["agentSpaceId"])
    response = admin_client.post(
        f"/spaces/{lead['agentSpaceId']}/associations/new/{linker}/",
        {PICK: _arn(member), "configuration.agentspace.relationshipType": "member"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{PICK}_error"' in html and "No agent space has this ARN" in html
    assert f'<option value="{_arn(member)}" selected>' in html  # still shown as chosen
    assert not ServiceAssociation.objects.exists()


def test_linking_a_space_to_itself_is_refused_next_to_the_field(admin_client, lead, linker):
    response = admin_client.post(
        f"/spaces/{lead['agentSpaceId']}/associations/new/{linker}/",
        {PICK: "_other", TARGET: _arn(lead), "configuration.agentspace.relationshipType": "lead"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose another agent space" in html
    assert not ServiceAssociation.objects.exists()


def test_no_target_at_all_is_required(admin_client, lead, member, linker):
    response = admin_client.post(
        f"/spaces/{lead['agentSpaceId']}/associations/new/{linker}/",
        {PICK: "", TARGET: "", "configuration.agentspace.relationshipType": "lead"},
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not ServiceAssociation.objects.exists()


def test_the_edit_page_shows_the_current_target_chosen_and_saves_a_new_relationship(
    admin_client, lead, member, linker
):
    made = _link(lead, linker, _arn(member), "member")
    url = f"/spaces/{lead['agentSpaceId']}/associations/{made['associationId']}/edit/"
    html = admin_client.get(url).content.decode()
    assert f'<option value="{_arn(member)}" selected>Payments member</option>' in html
    assert '<option value="member" selected>' in html
    response = admin_client.post(
        url, {PICK: _arn(member), "configuration.agentspace.relationshipType": "dependency"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    value = ServiceAssociation.objects.get().configuration["agentspace"]
    assert value["relationshipType"] == "dependency"
    assert value["targetAgentSpaceArn"] == _arn(member)


def test_disassociating_removes_the_link(admin_client, lead, member, linker):
    made = _link(lead, linker, _arn(member))
    url = f"/spaces/{lead['agentSpaceId']}/associations/{made['associationId']}/delete/"
    page = admin_client.get(url)
    assert page.status_code == 200 and "Checkout lead" in page.content.decode()
    response = admin_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == f"/spaces/{lead['agentSpaceId']}/associations/"
    assert not ServiceAssociation.objects.exists()


def test_the_target_stays_typeable_when_the_spaces_cannot_be_listed(
    admin_client, lead, member, linker, monkeypatch
):
    def unavailable():
        raise errors.Unavailable("AWS is not answering")

    monkeypatch.setattr(aws_spaces, "all_spaces", unavailable)
    html = admin_client.get(
        f"/spaces/{lead['agentSpaceId']}/associations/new/{linker}/"
    ).content.decode()
    assert f'name="{PICK}"' not in html
    assert f'name="{TARGET}"' in html
    assert catalog.type_name("agentspace") in html


def test_the_demo_seed_links_its_first_space_to_the_second(db):
    from django.core.management import call_command

    call_command("seed_sandbox")
    (row,) = ServiceAssociation.objects.filter(service_type="agentspace")
    first, second = aws_spaces.list_spaces()["agentSpaces"][:2]
    assert row.space_id == first["agentSpaceId"]
    value = row.configuration["agentspace"]
    assert value["targetAgentSpaceArn"] == _arn(second)
    assert value["relationshipType"] == "member"
    assert value["targetAgentSpaceName"] == second["name"]
