"""The generic shape→form module: layouts read from botocore models, posts read back into the
nested values the APIs take, constraints checked, secrets never echoed."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from dashboard.aws import errors
from dashboard.aws.model import service_model
from dashboard.core.shapeforms import (
    MASK,
    Hint,
    ShapeForm,
    describe,
    display,
    find,
    humanize,
    only,
    walk,
)

MODEL = service_model("devops-agent")
MCP = MODEL.shape_for("ServiceDetails").members["mcpserver"]
AUTH = "authorizationConfig"


def _form(data=None, **kwargs) -> ShapeForm:
    return ShapeForm(describe(MCP), data, **kwargs)


def _base(**extra) -> dict:
    return {"name": "tools", "endpoint": "https://mcp.example.com/mcp", **extra}


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("apiKeyHeader", "API key header"),
        ("oAuth3LO", "OAuth 3LO"),
        ("oAuthClientCredentials", "OAuth client credentials"),
        ("webIdentityRoleArn", "Web identity role ARN"),
        ("mcpRoleArn", "MCP role ARN"),
        ("accountUrn", "Account URN"),
        ("entityGuids", "Entity GUIDs"),
        ("instanceUrl", "Instance URL"),
    ],
)
def test_member_names_become_labels(name, label):
    assert humanize(name) == label


def test_the_layout_follows_the_model():
    layout = describe(MCP)
    kinds = {n.path: n.kind for n in walk(layout)}
    assert kinds["name"] == "text" and find(layout, "name").required
    assert kinds["description"] == "textarea" and not find(layout, "description").required
    assert kinds[AUTH] == "union"
    assert kinds[f"{AUTH}.apiKey.apiKeyValue"] == "secret"  # sensitive credential
    assert kinds[f"{AUTH}.oAuth3LO.clientId"] == "text"  # sensitive, but public by RFC 6749
    assert kinds[f"{AUTH}.oAuth3LO.scopes"] == "lines"
    assert kinds[f"{AUTH}.customHeaders.headers"] == "map"
    assert find(layout, "endpoint").url
    assert find(layout, "endpoint").help == "MCP server endpoint URL."
    # Required values first, then optional ones, then groups.
    assert [c.name for c in layout.children] == ["name", "endpoint", "description", AUTH]


def test_only_the_chosen_variant_is_read_checked_and_sent():
    form = _form(
        _base(
            **{
                f"{AUTH}._variant": "bearerToken",
                f"{AUTH}.bearerToken.tokenName": "main",
                f"{AUTH}.bearerToken.tokenValue": "tok",
                f"{AUTH}.apiKey.apiKeyHeader": "not a header!",  # another variant: ignored
            }
        )
    )
    assert form.is_valid(), form.errors
    assert form.value[AUTH] == {"bearerToken": {"tokenName": "main", "tokenValue": "tok"}}


def test_a_required_union_needs_a_choice_and_its_required_members():
    form = _form(_base())
    assert not form.is_valid()
    assert "Choose one" in str(form.errors[f"{AUTH}._variant"])
    form = _form(_base(**{f"{AUTH}._variant": "apiKey"}))
    assert not form.is_valid()
    assert set(form.errors) == {
        f"{AUTH}.apiKey.apiKeyName",
        f"{AUTH}.apiKey.apiKeyValue",
        f"{AUTH}.apiKey.apiKeyHeader",
    }


def test_patterns_and_lengths_are_checked_with_words():
    form = _form(
        {"name": "has space", "endpoint": "http://plain.example.com", "description": "x" * 501}
    )
    assert not form.is_valid()
    assert form.errors["name"] == ["Use only letters, digits, _ and -."]
    assert "https://" in form.errors["endpoint"][0]
    assert "at most 500" in form.errors["description"][0]


def test_lines_and_maps_become_lists_and_dicts():
    form = _form(
        _base(
            **{
                f"{AUTH}._variant": "oAuthClientCredentials",
                f"{AUTH}.oAuthClientCredentials.clientId": "cid",
                f"{AUTH}.oAuthClientCredentials.clientSecret": "s3cret",
                f"{AUTH}.oAuthClientCredentials.exchangeUrl": "https://idp.example.com/token",
                f"{AUTH}.oAuthClientCredentials.scopes": "read\n\nwrite\n",
                f"{AUTH}.oAuthClientCredentials.exchangeParameters.0.key": "audience",
                f"{AUTH}.oAuthClientCredentials.exchangeParameters.0.value": "api",
            }
        )
    )
    assert form.is_valid(), form.errors
    creds = form.value[AUTH]["oAuthClientCredentials"]
    assert creds["scopes"] == ["read", "write"]
    assert creds["exchangeParameters"] == {"audience": "api"}


def test_a_bad_line_is_named_by_its_number():
    form = _form(
        _base(
            **{
                f"{AUTH}._variant": "oAuth3LO",
                f"{AUTH}.oAuth3LO.clientId": "c",
                f"{AUTH}.oAuth3LO.returnToEndpoint": "https://us-east-1.console.aws.amazon.com/x",
                f"{AUTH}.oAuth3LO.authorizationUrl": "https://idp.example.com/a",
                f"{AUTH}.oAuth3LO.exchangeUrl": "https://idp.example.com/t",
                f"{AUTH}.oAuth3LO.scopes": "read\nbad scope",
            }
        )
    )
    assert not form.is_valid()
    assert form.errors[f"{AUTH}.oAuth3LO.scopes"][0].startswith("Line 2:")


def test_map_rows_need_names_no_duplicates_and_respect_the_maximum():
    headers = f"{AUTH}.customHeaders.headers"
    data = _base(**{f"{AUTH}._variant": "customHeaders", f"{headers}._rows": "3"})
    data.update({f"{headers}.0.key": "X-A", f"{headers}.0.value": "1"})
    data.update({f"{headers}.1.key": "X-A", f"{headers}.1.value": "2"})
    data.update({f"{headers}.2.value": "3"})
    form = _form(data)
    assert not form.is_valid()
    assert "given twice" in form.errors[f"{headers}.1.key"][0]
    assert "Give this value a name." in form.errors[f"{headers}.2.key"][0]
    # The model allows at most 3 headers: no fourth row is offered.
    data[f"{headers}._rows"] = "9"
    assert ShapeForm(describe(MCP), data)._row_counts[headers] == 3


def test_an_optional_structure_is_sent_only_when_filled():
    slack = MODEL.shape_for("ServiceConfiguration").members["slack"]
    base = {
        "workspaceId": "T0ACME",
        "workspaceName": "Acme",
        "transmissionTarget.opsOncallTarget.channelId": "C0123ABCDE",
    }
    form = ShapeForm(describe(slack), base)
    assert form.is_valid(), form.errors
    assert "bidirectional" not in form.value
    assert "opsSRETarget" not in form.value["transmissionTarget"]
    form = ShapeForm(describe(slack), {**base, "bidirectional.enabled": "on"})
    assert not form.is_valid()  # once present, its required roleArn is checked
    assert "bidirectional.roleArn" in form.errors


def test_secrets_are_never_rendered_back_and_are_listed_for_scrubbing():
    data = _base(
        name="bad name!",
        **{
            f"{AUTH}._variant": "apiKey",
            f"{AUTH}.apiKey.apiKeyName": "k",
            f"{AUTH}.apiKey.apiKeyValue": "TOPSECRET-123",
            f"{AUTH}.apiKey.apiKeyHeader": "X-Key",
        },
    )
    form = _form(data)
    assert not form.is_valid()
    html = render_to_string("includes/shapeform.html", {"form": form})
    assert "TOPSECRET-123" not in html
    assert 'value="bad name!"' in html  # everything else is kept
    assert form.secret_values() == ["TOPSECRET-123"]
    exc = errors.ValidationFailed("AWS said TOPSECRET-123 is wrong", fields={"x": "TOPSECRET-123"})
    with pytest.raises(errors.ValidationFailed) as raised, form.scrubbing():
        raise exc
    assert "TOPSECRET-123" not in raised.value.message
    assert "TOPSECRET-123" not in str(raised.value.fields)
    assert "TOPSECRET-123" not in str(raised.value)


def test_initial_values_fill_the_form_except_secrets():
    value = {
        "name": "tools",
        "endpoint": "https://mcp.example.com/mcp",
        AUTH: {
            "apiKey": {"apiKeyName": "k", "apiKeyValue": "SHOULD-NOT-SHOW", "apiKeyHeader": "X"}
        },
    }
    form = _form(initial_value=value)
    html = render_to_string("includes/shapeform.html", {"form": form})
    assert 'value="tools"' in html
    assert 'value="apiKey" checked' in html or "checked" in html
    assert "SHOULD-NOT-SHOW" not in html


def test_blank_secrets_are_kept_on_update_forms():
    data = _base(
        **{
            f"{AUTH}._variant": "bearerToken",
            f"{AUTH}.bearerToken.tokenName": "main",
        }
    )
    form = _form(data, keep_blank_secrets=True)
    assert form.is_valid(), form.errors
    assert form.value[AUTH] == {"bearerToken": {"tokenName": "main"}}
    assert "Leave blank to keep" in form.fields[f"{AUTH}.bearerToken.tokenValue"].help_text
    assert not _form(data).is_valid()


def test_aws_field_errors_are_placed_by_path():
    form = _form(_base(**{f"{AUTH}._variant": "bearerToken", f"{AUTH}.bearerToken.tokenName": "a"}))
    form.is_valid()
    placed = form.apply_aws_errors(
        {"serviceDetails.mcpserver.endpoint": "Not reachable"}, strip="serviceDetails.mcpserver"
    )
    assert placed
    assert form.errors["endpoint"] == ["Not reachable"]
    assert not form.apply_aws_errors({"somethingElse": "?"})


def test_hints_change_presentation_not_the_value():
    layout = describe(
        MCP,
        hints={
            "name": Hint(label="Server name", order=99),
            "description": Hint(omit=True),
            "*.apiKeyHeader": Hint(initial="X-API-Key"),
        },
    )
    assert find(layout, "description") is None
    assert layout.children[-1].label == "Server name"
    assert find(layout, f"{AUTH}.apiKey.apiKeyHeader").initial == "X-API-Key"


def test_only_fixes_a_union_to_one_variant():
    layout = only(
        describe(MODEL.operation_model("AssociateService").input_shape), "configuration", ["aws"]
    )
    form = ShapeForm(
        layout,
        {
            "agentSpaceId": "s1",
            "serviceId": "aws",
            "configuration.aws.accountId": "123456789012",
            "configuration.aws.assumableRoleArn": "arn:aws:iam::123456789012:role/R",
        },
    )
    assert form.is_valid(), form.errors
    assert form.value["configuration"] == {
        "aws": {
            "accountId": "123456789012",
            "assumableRoleArn": "arn:aws:iam::123456789012:role/R",
            "accountType": "monitor",  # an enum of one value is sent as it is
        }
    }


def test_it_works_for_other_services_models():
    """Nothing in the module is specific to devops-agent."""
    shape = service_model("bedrock-agentcore").operation_model("CreateEvent").input_shape
    layout = describe(shape)
    form = ShapeForm(layout)
    html = render_to_string("includes/shapeform.html", {"form": form})
    assert 'name="memoryId"' in html
    assert find(layout, "memoryId").required


def test_display_masks_credentials_and_sensitive_map_values():
    shape = MODEL.shape_for("AdditionalServiceDetails")
    shown = display(
        shape,
        {
            "mcpserversigv4": {
                "name": "aws-tools",
                "endpoint": "https://x.example.com",
                "region": "us-east-1",
                "service": "execute-api",
                "roleArn": "",
                "customHeaders": {"X-Key": "header-secret"},
            }
        },
    )
    text = repr(shown)
    assert "header-secret" not in text
    assert MASK in text
    assert "aws-tools" in text


def test_add_row_asks_for_one_more_row_without_errors():
    headers = f"{AUTH}.customHeaders.headers"
    form = _form(_base(**{"_more": headers, f"{headers}._rows": "1"}))
    assert not form.is_valid()
    assert form.adding and not form.errors_shown()
    assert form._row_counts[headers] == 2


# --- a text member offered as a choice among known values ------------------------------------

LINK = MODEL.shape_for("AgentSpaceConfiguration")
SPACES = [
    ("arn:aws:aidevops:us-east-1:123456789012:agentspace/aaaa-1", "Checkout"),
    ("arn:aws:aidevops:us-east-1:123456789012:agentspace/bbbb-2", "Payments"),
]
TYPED = "arn:aws:aidevops:us-east-1:210987654321:agentspace/cccc-3"


def _link(data=None, initial=None, options=SPACES) -> ShapeForm:
    return ShapeForm(
        describe(LINK),
        data,
        initial_value=initial,
        options={"targetAgentSpaceArn": options},
    )


def test_a_chosen_option_is_sent_and_wins_over_anything_typed():
    form = _link(
        {
            "targetAgentSpaceArn._pick": SPACES[1][0],
            "targetAgentSpaceArn": TYPED,
            "relationshipType": "member",
        }
    )
    assert form.is_valid(), form.errors
    assert form.value == {"targetAgentSpaceArn": SPACES[1][0], "relationshipType": "member"}


@pytest.mark.parametrize("pick", ["_other", ""])
def test_another_value_is_typed_and_checked_against_the_model(pick):
    form = _link(
        {
            "targetAgentSpaceArn._pick": pick,
            "targetAgentSpaceArn": TYPED,
            "relationshipType": "lead",
        }
    )
    assert form.is_valid(), form.errors
    assert form.value["targetAgentSpaceArn"] == TYPED
    bad = _link(
        {
            "targetAgentSpaceArn._pick": pick,
            "targetAgentSpaceArn": "space-3",
            "relationshipType": "lead",
        }
    )
    assert not bad.is_valid()
    assert "targetAgentSpaceArn" in bad.errors


def test_the_options_are_a_select_with_another_and_the_current_value_is_chosen():
    html = render_to_string(
        "includes/shapeform.html", {"form": _link(initial={"targetAgentSpaceArn": SPACES[0][0]})}
    )
    assert f'<option value="{SPACES[0][0]}" selected>Checkout</option>' in html
    assert '<option value="_other">Another: type it below</option>' in html
    assert (
        'name="targetAgentSpaceArn"' in html
        and f'value="{SPACES[0][0]}"'
        not in html.split('name="targetAgentSpaceArn"')[1].split(">")[0]
    )
    # A current value that is none of the options is "another", typed in.
    html = render_to_string(
        "includes/shapeform.html", {"form": _link(initial={"targetAgentSpaceArn": TYPED})}
    )
    assert '<option value="_other" selected>' in html
    assert f'value="{TYPED}"' in html


def test_without_options_the_member_is_a_plain_text_input():
    html = render_to_string("includes/shapeform.html", {"form": _link(options=[])})
    assert "_pick" not in html and 'name="targetAgentSpaceArn"' in html
