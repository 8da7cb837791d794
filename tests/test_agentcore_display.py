"""The JSON tree and payload helpers: everything from the API escaped wherever it lands (keys,
values, table cells, JSON inside strings, long text), sizes bounded, payload kinds told apart."""

from __future__ import annotations

import json

from dashboard.agentcore.templatetags.agentcore_display import (
    MAX_DEPTH,
    MAX_ITEMS,
    event_role,
    json_tree,
    metadata_text,
    payload_items,
)

HOSTILE = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"


def test_every_place_of_a_document_is_escaped():
    document = {
        HOSTILE: HOSTILE,
        "long": HOSTILE * 20,
        "json text": json.dumps({HOSTILE: [HOSTILE]}),
        "rows": [{"a": HOSTILE, "b": 1}, {"a": 2, "b": HOSTILE}],
        "list": [HOSTILE, None, True, 1.5],
    }
    html = json_tree(document)
    assert "<script>" not in html
    assert html.count(ESCAPED) >= 6
    assert '<table class="table compact jt-table">' in html  # rows of flat objects
    assert '<span class="jv-note">JSON text</span>' in html
    assert '<pre class="jv jv-str jv-long">' in html


def test_big_and_deep_documents_are_bounded():
    html = json_tree(list(range(MAX_ITEMS + 5)))
    assert "… and 5 more" in html
    deep: object = "bottom"
    for _ in range(MAX_DEPTH + 3):
        deep = {"down": deep}
    assert '<pre class="jv jv-long">' in json_tree(deep)


def test_small_containers_start_open_and_big_ones_closed():
    html = json_tree({"small": {"a": 1}, "big": {str(i): i for i in range(40)}})
    assert html.startswith('<div class="jt-root"><details class="jt" open>')
    assert '<details class="jt"><summary>{ 40 keys }</summary>' in html


def test_payload_items_tell_messages_blobs_and_json_apart():
    event = {
        "payload": [
            {"conversational": {"role": "TOOL", "content": {"text": '{"rows": [1]}'}}},
            {"blob": '{"as": "text"}'},
            {"json": {"content": {"a": 1}}},
            {"somethingNew": 1},
        ]
    }
    items = payload_items(event)
    assert [i["kind"] for i in items] == ["conversational", "blob", "json", "unknown"]
    assert items[0]["is_json"] and items[0]["doc"] == {"rows": [1]}
    assert items[1]["doc"] == {"as": "text"}  # a blob holding JSON text reads as JSON
    assert event_role(event) == "tool"
    assert payload_items({"payload": "nonsense"}) == []


def test_metadata_reads_every_value_kind():
    found = metadata_text(
        {"a": {"stringValue": "x"}, "b": {"numberValue": 2.5}, "c": {"stringListValue": ["p", "q"]}}
    )
    assert found == [("a", "x"), ("b", "2.5"), ("c", "p, q")]


def test_text_that_is_json_nested_too_deep_to_read_stays_text():
    # An event's message (or a blob) of "[[[[…]]]]": json.loads raises RecursionError, which
    # made every page showing it a 500.
    deep = "[" * 50_000 + "]" * 50_000
    items = payload_items(
        {"payload": [{"conversational": {"role": "USER", "content": {"text": deep}}}]}
    )
    assert items[0]["kind"] == "conversational" and items[0]["is_json"] is False
    assert payload_items({"payload": [{"blob": deep}]})[0]["doc"] == deep
    assert "[[[[" in json_tree({"text": deep})
