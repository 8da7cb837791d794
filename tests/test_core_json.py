"""JSON typed into forms (dashboard.core.forms.loads / read_json), wherever a form takes it:
the trigger action, asset metadata, a memory event's blob, a runtime payload and document
members of shape forms. Nesting, NaN, overflowing numbers and lone surrogates parse in Python
but break something further on (RecursionError, PostgreSQL, botocore, the page's UTF-8), so
they are refused here with a reason, never a 500."""

from __future__ import annotations

import json

import pytest

from dashboard.agentcore.forms import EventForm
from dashboard.agentcore.forms_runtime import InvokeForm
from dashboard.aws.model import service_model
from dashboard.configuration.forms import AssetFileForm
from dashboard.core.forms import JSON_MAX_DEPTH, JsonError, loads
from dashboard.core.shapeforms import ShapeForm, describe

DEEP = "[" * 100_000 + "]" * 100_000


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (DEEP, "nested more than 64 levels deep"),
        (nested(JSON_MAX_DEPTH + 1), "nested more than 64 levels deep"),
        ('{"x": NaN}', "NaN is not a JSON number"),
        ("[Infinity]", "Infinity is not a JSON number"),
        ("[-Infinity]", "-Infinity is not a JSON number"),
        ('{"x": 1e999}', "too large a number"),
        ('{"x": "\\ud800"}', "unpaired"),
        ('{"\\udfff": 1}', "unpaired"),
        ('"\\ud83d"', "unpaired"),
        ('{"x": "a\\u0000b"}', "NUL"),  # PostgreSQL refused it: the sandbox answered 503
        ('{"a\\u0000": 1}', "NUL"),
        ("{not json", "Expecting property name"),
    ],
)
def test_refused_with_a_reason(text, reason):
    with pytest.raises(JsonError, match=reason):
        loads(text)


@pytest.mark.parametrize(
    "text",
    [
        nested(JSON_MAX_DEPTH),
        '{"brackets in strings do not count": "' + "[{" * 500 + '\\"]"}',
        '{"emoji": "\\ud83d\\ude00", "n": 1.5e300, "i": -7, "t": true, "z": null}',
        '"plain"',
    ],
)
def test_ordinary_json_is_read_as_json_reads_it(text):
    assert loads(text) == json.loads(text)


def _errors(form) -> dict:
    form.is_valid()
    return form.errors


@pytest.mark.parametrize("bad", ["[" * 9000 + "]" * 9000, '{"a": "\\ud800"}', '{"a": NaN}'])
def test_every_form_that_takes_json_refuses_it(bad):
    reason = "This is not valid JSON"
    assert reason in str(_errors(AssetFileForm({"path": "a.md", "text": "x", "metadata": bad})))
    event = {"actor_id": "user-1", "session_id": "s-1", "role": "USER", "blob": bad}
    assert reason in str(_errors(EventForm(event))["blob"])
    invoke = {
        "arn": "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/a-1",
        "session": "s" * 40,
        "content_type": "application/json",
        "payload": bad,
    }
    assert reason in str(_errors(InvokeForm(invoke)).get("payload"))
    # A document member of a shape form (CreateTrigger's action is a document).
    shape = service_model("devops-agent").operation_model("CreateTrigger").input_shape
    form = ShapeForm(describe(shape), {"action": bad})
    assert reason in str(_errors(form).get("action"))


def test_an_unterminated_string_full_of_escaped_quotes_is_refused():
    # The depth was first measured by a tokenizer that rescanned the text from every quote:
    # quadratic (16 s for these 40 kB). It is now measured on the parsed value.
    with pytest.raises(JsonError, match="Unterminated string"):
        loads('"' + '\\"' * 20_000)
