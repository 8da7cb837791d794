"""The recommendation pages: the list's filters and paging, the detail page (spec as sanitized
Markdown with a copy button, task and goal, the goal-changed notice, versions), every status
change an operator makes, the lost-update guard, sending back with context, role rules, the
audit log and the live broadcast."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from dashboard.aws import errors
from dashboard.aws import prevention as aws
from dashboard.core.models import AuditEntry
from dashboard.prevention import live

from .test_prevention_support import (
    HX,
    context_url,
    make_goal,
    make_rec,
    make_recs,
    rec_page,
    set_spec,
    status_url,
)
from .test_views_task_support import form_with_button, forms, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def sid(space) -> str:
    return space["agentSpaceId"]


@pytest.fixture
def broadcasts(monkeypatch):
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(live, "recommendation_changed", lambda s, rec: sent.append((s, rec)))
    return sent


def _list(sid: str) -> str:
    return f"/spaces/{sid}/recommendations/"


def _row_ids(body: str) -> list[str]:
    return re.findall(r'<tr id="rec-([^"]+)" class="rec-row"', body)


# --- the list ----------------------------------------------------------------------------------


def test_the_list_shows_every_recommendation_with_its_goal(viewer_client, sid):
    goal = make_goal(sid)
    recs = make_recs(sid, 3, goal=goal)
    body = text(viewer_client.get(_list(sid)))
    assert sorted(_row_ids(body)) == sorted(r["recommendationId"] for r in recs)
    assert goal["title"] in body
    for rec in recs:
        assert rec["title"] in body


@pytest.mark.parametrize("name", ["status", "priority", "goal", "task"])
def test_the_list_filters_as_the_api_does(viewer_client, sid, name):
    goal = make_goal(sid)
    mine = make_recs(sid, 2, goal=goal)
    others = make_recs(sid, 2, title="Evaluate the failover runbook for ledger-service")
    aws.update_recommendation(sid, mine[0]["recommendationId"], status="ACCEPTED")
    value = {
        "status": "ACCEPTED",
        "priority": mine[1]["priority"],
        "goal": goal["goalId"],
        "task": others[0]["taskId"],
    }[name]
    api_name = {"goal": "goal_id", "task": "task_id"}.get(name, name)
    expected = [
        r["recommendationId"]
        for r in aws.list_recommendations(sid, **{api_name: value})["recommendations"]
    ]
    body = text(viewer_client.get(_list(sid), {name: value}))
    assert _row_ids(body) == expected and expected
    # The filter is kept in the form (a deep link).
    assert f'value="{value}"' in body


def test_filter_values_the_api_would_refuse_are_dropped_with_a_note(viewer_client, sid):
    make_recs(sid, 2)
    response = viewer_client.get(_list(sid), {"status": "NOPE", "goal": "bad id!", "task": "x y"})
    assert response.status_code == 200
    body = text(response)
    assert len(_row_ids(body)) == 2
    assert "is not a goal id" in body and "is not a task id" in body


def test_the_list_pages_with_load_more(viewer_client, sid, monkeypatch):
    from dashboard.prevention import views_recommendations

    monkeypatch.setattr(views_recommendations, "PAGE_SIZE", 2)
    goal = make_goal(sid)
    made = make_recs(sid, 3, goal=goal) + make_recs(sid, 2, title="Evaluate service two")
    body = text(viewer_client.get(_list(sid)))
    first = _row_ids(body)
    assert len(first) == 2
    more = re.search(r'hx-get="([^"]*next=[^"]+)"', body).group(1)
    seen = list(first)
    later = ""
    while more:
        page = text(viewer_client.get(more, headers=HX))
        assert "<html" not in page
        later += page
        seen += _row_ids(page)
        found = re.search(r'hx-get="([^"]*next=[^"]+)"', page)
        more = found.group(1) if found else ""
    assert sorted(seen) == sorted(r["recommendationId"] for r in made)
    assert goal["title"][:30] in later  # rows of later pages name their goal too


def test_a_stale_page_link_starts_again_from_the_first_page(viewer_client, sid):
    make_recs(sid, 2)
    body = text(viewer_client.get(_list(sid), {"next": "garbage.token"}))
    assert "That page link no longer works" in body and len(_row_ids(body)) == 2


def test_an_empty_space_says_where_recommendations_come_from(viewer_client, sid):
    body = text(viewer_client.get(_list(sid)))
    assert "No recommendations yet" in body and "evaluation" in body


def test_a_filter_change_with_htmx_answers_the_list_only(viewer_client, sid):
    make_recs(sid, 2)
    body = text(viewer_client.get(_list(sid), {"priority": "HIGH"}, headers=HX))
    assert body.lstrip().startswith('<div id="rec-list">') and "<html" not in body


# --- the detail page ---------------------------------------------------------------------------


def test_the_page_shows_summary_spec_task_and_goal(viewer_client, sid):
    goal = make_goal(sid)
    rec = make_rec(sid, goal=goal)
    body = text(viewer_client.get(rec_page(sid, rec["recommendationId"])))
    assert rec["title"] in body and rec["content"]["summary"] in body
    # The spec rendered (headings, code blocks kept) and its raw text for the copy button.
    assert "<h2>Steps</h2>" in body and "<pre><code" in body
    assert 'data-copy="spec-raw-' in body and "Copy spec" in body
    raw = re.search(r'<textarea id="spec-raw-[^"]+"[^>]*>(.*?)</textarea>', body, re.S).group(1)
    assert raw == rec["content"]["spec"]
    assert f"/spaces/{sid}/tasks/{rec['taskId']}/" in body
    assert f"/spaces/{sid}/goals/{goal['goalId']}/" in body and goal["title"] in body
    assert "The goal has changed" not in body


def test_a_notice_says_when_the_goal_changed_since(viewer_client, sid):
    goal = make_goal(sid)
    rec = make_rec(sid, goal=goal)
    assert rec["goalVersion"] == goal["version"]
    changed = aws.set_goal_schedule(sid, goal["goalId"], "DISABLED")
    body = text(viewer_client.get(rec_page(sid, rec["recommendationId"])))
    assert "The goal has changed since this recommendation was made" in body
    assert f"version {rec['goalVersion']}" in body and f"version {changed['version']} now" in body


def test_a_recommendation_without_a_goal_has_no_notice(viewer_client, sid):
    rec = make_rec(sid)
    body = text(viewer_client.get(rec_page(sid, rec["recommendationId"])))
    assert "The goal has changed" not in body and "None" in body


def test_earlier_versions_can_be_read_and_are_not_live(viewer_client, sid):
    rec = make_rec(sid)
    aws.update_recommendation(sid, rec["recommendationId"], status="ACCEPTED")
    body = text(viewer_client.get(rec_page(sid, rec["recommendationId"])))
    assert "?version=1" in body
    old = text(viewer_client.get(rec_page(sid, rec["recommendationId"]), {"version": "1"}))
    live = f'ws-connect="/ws/spaces/{sid}/recommendations/{rec["recommendationId"]}/"'
    assert live in body  # the current version is live; an earlier one is not
    assert "You are looking at version 1" in old and live not in old
    assert re.search(r'<span class="tbadge tone-triage" title="Status">Proposed', old)
    for bad in ("9", "0", "x"):
        assert (
            viewer_client.get(rec_page(sid, rec["recommendationId"]), {"version": bad}).status_code
            == 404
        )


def test_unknown_and_malformed_ids_are_404(viewer_client, sid):
    assert viewer_client.get(rec_page(sid, "no-such-rec")).status_code == 404
    assert viewer_client.get(f"/spaces/{sid}/recommendations/bad%20id!/").status_code == 404


@pytest.mark.parametrize("version", ["x", "0", "-1", "\u00b2", "\u0661", "9" * 5000, "99"])
def test_a_malformed_or_unknown_version_is_404(viewer_client, sid, version):
    rec = make_rec(sid)  # "²" and 5000 digits were a ValueError from int(): a 500
    response = viewer_client.get(rec_page(sid, rec["recommendationId"]), {"version": version})
    assert response.status_code == 404


# --- XSS: the spec is untrusted agent output -----------------------------------------------------

PAYLOADS = [
    "<script>alert('xss-1')</script>",
    "<img src=x onerror=alert('xss-2')>",
    "[click me](javascript:alert('xss-3'))",
    '<a href="javascript:alert(1)" onclick="alert(\'xss-4\')">x</a>',
    "<iframe src='https://evil.example/xss-5'></iframe>",
    "![image](https://evil.example/track-xss-6.png)",
    '<div style="background:url(javascript:alert(7))">xss-7</div>',
    "```html\n<script>alert('xss-8')</script>\n```",
    "<svg/onload=alert('xss-9')>",
    "[ok](https://example.com \"t\" onmouseover=alert('xss-10'))",
]


class _Elements(HTMLParser):
    """Every element and attribute the browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.found.append((tag, {k: v or "" for k, v in attrs}))


def _elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.found


def test_xss_payloads_in_a_spec_are_inert(viewer_client, sid):
    rec = make_rec(sid)
    spec = "## Steps\n\n" + "\n\n".join(PAYLOADS)
    set_spec(sid, rec["recommendationId"], spec, summary="<script>alert('xss-summary')</script>")
    body = viewer_client.get(rec_page(sid, rec["recommendationId"])).content.decode()
    html = re.search(r'<div class="markdown spec-body">(.*?)</div>\s*<details', body, re.S).group(1)
    # Nothing the browser would run or fetch is built from the spec...
    elements = _elements(html)
    tags = {tag for tag, _ in elements}
    assert tags <= {"h2", "p", "pre", "code", "a", "ol", "ul", "li", "em", "strong"}, tags
    for tag, attrs in elements:
        assert not any(name.startswith("on") or name == "style" for name in attrs), (tag, attrs)
        if tag == "a":
            assert attrs["href"].startswith(("https://", "http://")), attrs
    assert "evil.example/track" not in html  # images are dropped, not fetched
    # ...nor from the rest of the page: its only scripts are the console's own files.
    page_scripts = [a.get("src", "") for t, a in _elements(body) if t == "script"]
    assert page_scripts and all(src.startswith("/static/") for src in page_scripts), page_scripts
    assert not any(name.startswith("on") for _, attrs in _elements(body) for name in attrs)
    # The text is still there to read, escaped; the code block is kept.
    assert "&lt;script&gt;alert('xss-8')&lt;/script&gt;" in html
    assert "<pre><code" in html
    assert "&lt;script&gt;alert(&#x27;xss-summary&#x27;)" in body
    # The raw spec (what the copy button copies) is escaped text inside the textarea.
    assert "&lt;script&gt;alert(&#x27;xss-1&#x27;)&lt;/script&gt;" in body


def test_spec_links_open_safely(viewer_client, sid):
    rec = make_rec(sid)
    set_spec(sid, rec["recommendationId"], "See [the runbook](https://wiki.example.com/run).")
    body = viewer_client.get(rec_page(sid, rec["recommendationId"])).content.decode()
    link = re.search(r'<a [^>]*href="https://wiki.example.com/run"[^>]*>', body).group(0)
    assert 'rel="noopener noreferrer nofollow"' in link and 'target="_blank"' in link


# --- status changes ----------------------------------------------------------------------------


def _act(client, sid, rec, label, **extra):
    form = form_with_button(text(client.get(rec_page(sid, rec["recommendationId"]))), label)
    return client.post(
        form["action"],
        {**form["data"], **extra},
        **({"headers": HX} if extra.pop("htmx", False) else {}),
    )


@pytest.mark.parametrize(
    ("before", "label", "target", "confirm"),
    [
        ([], "Accept", "ACCEPTED", False),
        ([], "Reject…", "REJECTED", True),
        ([], "Close…", "CLOSED", True),
        (["ACCEPTED"], "Mark complete", "COMPLETED", False),
        (["ACCEPTED"], "Close…", "CLOSED", True),
    ],
)
def test_each_operator_action_changes_the_status(
    operator_client, sid, broadcasts, before, label, target, confirm
):
    rec = make_rec(sid)
    for step in before:
        rec = aws.update_recommendation(sid, rec["recommendationId"], status=step)
    page = text(operator_client.get(rec_page(sid, rec["recommendationId"])))
    form = form_with_button(page, label)
    assert form["data"] == {
        "status": target,
        "version": str(rec["version"]),
        "seen_status": rec["status"],
    }
    response = operator_client.post(form["action"], form["data"])
    if confirm:
        assert response.status_code == 200
        body = text(response)
        assert aws.get_recommendation(sid, rec["recommendationId"])["status"] == rec["status"]
        form = form_with_button(body, f"Yes, {label.rstrip('…').lower()}")
        assert form["data"]["confirm"] == "1"
        response = operator_client.post(form["action"], form["data"])
    assert response.status_code == 302
    now = aws.get_recommendation(sid, rec["recommendationId"])
    assert now["status"] == target and now["version"] == rec["version"] + 1
    assert broadcasts == [(sid, now)]
    entry = AuditEntry.objects.get(operation="UpdateRecommendation")
    assert entry.outcome == AuditEntry.OK and entry.target == rec["recommendationId"]
    assert entry.detail["status"] == target
    assert "is now" in text(operator_client.get(response["Location"]))


def test_with_htmx_the_panel_and_summary_update_in_place(operator_client, sid, broadcasts):
    rec = make_rec(sid)
    form = form_with_button(
        text(operator_client.get(rec_page(sid, rec["recommendationId"]))), "Accept"
    )
    response = operator_client.post(form["action"], form["data"], headers=HX)
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body and body.lstrip().startswith('<div id="rec-actions"')
    assert (
        f'id="rec-summary-{rec["recommendationId"]}"' in body and 'hx-swap-oob="outerHTML"' in body
    )
    assert "Mark complete" in body and 'id="alerts" hx-swap-oob="innerHTML"' in body


def test_final_recommendations_offer_no_actions(operator_client, sid):
    rec = make_rec(sid)
    aws.update_recommendation(sid, rec["recommendationId"], status="REJECTED")
    body = text(operator_client.get(rec_page(sid, rec["recommendationId"])))
    assert "will not change again" in body
    assert not any(f["action"].endswith("/status/") for f in forms(body))


def test_a_transition_not_offered_is_refused_before_aws(operator_client, sid, broadcasts):
    rec = make_rec(sid)
    response = operator_client.post(
        status_url(sid, rec["recommendationId"]),
        {"status": "COMPLETED", "version": rec["version"], "seen_status": "PROPOSED"},
    )
    assert response.status_code == 400
    assert "cannot be set to completed" in text(response)
    assert aws.get_recommendation(sid, rec["recommendationId"])["status"] == "PROPOSED"
    assert broadcasts == [] and not AuditEntry.objects.exists()


# --- the lost-update guard ---------------------------------------------------------------------


def test_a_change_made_meanwhile_is_not_overwritten(operator_client, sid, broadcasts):
    rec = make_rec(sid)
    page = text(operator_client.get(rec_page(sid, rec["recommendationId"])))
    form = form_with_button(page, "Accept")
    # Someone else closes it first.
    aws.update_recommendation(sid, rec["recommendationId"], status="CLOSED")

    response = operator_client.post(form["action"], form["data"])
    assert response.status_code == 409
    body = text(response)
    assert "changed since you looked at it" in body and "Nothing was changed" in body
    # Both values side by side: what the user saw and what is there now.
    compare = re.search(r'<table class="table compact compare">(.*?)</table>', body, re.S).group(1)
    assert "Proposed" in compare and "Closed" in compare
    assert f"<td>{rec['version']}</td><td>{rec['version'] + 1}</td>" in compare
    assert "Accept is not possible now that it is closed" in body
    assert aws.get_recommendation(sid, rec["recommendationId"])["status"] == "CLOSED"
    assert broadcasts == [] and not AuditEntry.objects.exists()


def test_the_change_can_be_reapplied_over_the_new_version(operator_client, sid, broadcasts):
    rec = make_rec(sid)
    form = form_with_button(
        text(operator_client.get(rec_page(sid, rec["recommendationId"]))), "Reject…"
    )
    aws.update_recommendation(sid, rec["recommendationId"], status="ACCEPTED")  # meanwhile

    response = operator_client.post(form["action"], form["data"], headers=HX)
    assert response.status_code == 409
    body = text(response)
    assert "Reject is not possible now that it is accepted" in body

    form = form_with_button(
        text(operator_client.get(rec_page(sid, rec["recommendationId"]))), "Close…"
    )
    aws.update_recommendation(
        sid, rec["recommendationId"], status="UPDATE_IN_PROGRESS", additional_context="x"
    )
    from dashboard.sandbox.models import Recommendation

    Recommendation.objects.filter(pk=rec["recommendationId"]).update(
        status="ACCEPTED", revise_due_at=None
    )
    response = operator_client.post(form["action"], {**form["data"], "confirm": "1"})
    assert response.status_code == 409
    reapply = form_with_button(text(response), "Re-apply: Close")
    current = aws.get_recommendation(sid, rec["recommendationId"])
    assert reapply["data"]["version"] == str(current["version"])
    response = operator_client.post(reapply["action"], reapply["data"])
    assert response.status_code == 302
    assert aws.get_recommendation(sid, rec["recommendationId"])["status"] == "CLOSED"


def test_a_conflict_from_aws_itself_is_shown_the_same_way(operator_client, sid, monkeypatch):
    rec = make_rec(sid)
    form = form_with_button(
        text(operator_client.get(rec_page(sid, rec["recommendationId"]))), "Accept"
    )

    def conflict(*args, **kwargs):
        raise errors.Conflict("It is being revised by the agent.", code="ConflictException")

    monkeypatch.setattr(aws, "update_recommendation", conflict)
    response = operator_client.post(form["action"], form["data"])
    assert response.status_code == 409
    assert "AWS said: It is being revised by the agent." in text(response)
    assert AuditEntry.objects.get().outcome == AuditEntry.FAILED


def test_throttling_says_nothing_changed(operator_client, sid, monkeypatch):
    rec = make_rec(sid)
    form = form_with_button(
        text(operator_client.get(rec_page(sid, rec["recommendationId"]))), "Accept"
    )

    def busy(*args, **kwargs):
        raise errors.Throttled(
            "AWS is throttling UpdateRecommendation requests.", code="ThrottlingException"
        )

    monkeypatch.setattr(aws, "update_recommendation", busy)
    response = operator_client.post(form["action"], form["data"])
    assert response.status_code == 503
    assert "Nothing was changed; try again." in text(response)


# --- send back with more context ---------------------------------------------------------------


def test_sending_back_with_context_puts_it_in_revision(operator_client, sid, broadcasts):
    rec = make_rec(sid)
    page = text(operator_client.get(context_url(sid, rec["recommendationId"])))
    form = form_with_button(page, "Send back to the agent")
    assert form["data"]["version"] == str(rec["version"])
    response = operator_client.post(
        form["action"], {**form["data"], "additional_context": "Only Terraform, please."}
    )
    assert response.status_code == 302
    now = aws.get_recommendation(sid, rec["recommendationId"])
    assert (
        now["status"] == "UPDATE_IN_PROGRESS"
        and now["additionalContext"] == "Only Terraform, please."
    )
    entry = AuditEntry.objects.get()
    assert entry.detail["additionalContext"] == "Only Terraform, please."
    body = text(operator_client.get(response["Location"]))
    assert "Being revised" in body and "Only Terraform, please." in body
    assert "No actions while the agent revises the spec" in body
    assert len(broadcasts) == 1


def test_empty_context_is_refused_and_nothing_is_sent(operator_client, sid):
    rec = make_rec(sid)
    form = form_with_button(
        text(operator_client.get(context_url(sid, rec["recommendationId"]))),
        "Send back to the agent",
    )
    response = operator_client.post(form["action"], {**form["data"], "additional_context": "   "})
    assert response.status_code == 400
    assert "This field is required." in text(response)
    assert aws.get_recommendation(sid, rec["recommendationId"])["status"] == "PROPOSED"


def test_a_conflict_keeps_the_typed_context_to_reapply(operator_client, sid):
    rec = make_rec(sid)
    form = form_with_button(
        text(operator_client.get(context_url(sid, rec["recommendationId"]))),
        "Send back to the agent",
    )
    aws.update_recommendation(sid, rec["recommendationId"], status="ACCEPTED")  # meanwhile
    typed = "Our change window is Tuesday <b>14:00</b>."
    response = operator_client.post(form["action"], {**form["data"], "additional_context": typed})
    assert response.status_code == 409
    body = response.content.decode()
    assert "Our change window is Tuesday &lt;b&gt;14:00&lt;/b&gt;." in body  # kept, escaped
    reapply = form_with_button(text(response), "Re-apply: send back with this context")
    assert reapply["data"]["additional_context"] == typed
    response = operator_client.post(reapply["action"], reapply["data"])
    assert response.status_code == 302
    assert aws.get_recommendation(sid, rec["recommendationId"])["additionalContext"] == typed


@pytest.mark.parametrize("headers", [{}, HX])
@pytest.mark.parametrize("fails", ["get_recommendation", "update_recommendation"])
@pytest.mark.parametrize(
    "error",
    [
        errors.Throttled("AWS is throttling requests.", code="ThrottlingException"),
        errors.Unavailable("AWS did not answer.", code="InternalServerException"),
        errors.AccessDenied("Not allowed.", code="AccessDeniedException"),
    ],
)
def test_a_busy_or_refusing_aws_keeps_the_typed_context(
    operator_client, sid, monkeypatch, headers, fails, error
):
    """The re-read before the write fails as often as the write: either way the text a
    person typed comes back in the form, with what went wrong (it was an error page)."""
    rec = make_rec(sid)
    form = form_with_button(
        text(operator_client.get(context_url(sid, rec["recommendationId"]))),
        "Send back to the agent",
    )

    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(aws, fails, refuse)
    typed = "Only during the Tuesday <window>."
    data = {**form["data"], "additional_context": typed}
    response = operator_client.post(form["action"], data, headers=headers)
    assert response.status_code == error.status
    body = text(response)
    assert error.message in body
    again = form_with_button(body, "Send back to the agent")
    assert again["data"]["additional_context"] == typed
    assert again["data"]["version"] == form["data"]["version"]
    assert again["data"]["seen_status"] == form["data"]["seen_status"]
    monkeypatch.undo()
    assert operator_client.post(again["action"], again["data"]).status_code == 302
    assert aws.get_recommendation(sid, rec["recommendationId"])["additionalContext"] == typed


# --- roles ---------------------------------------------------------------------------------------


def test_a_viewer_reads_but_sees_no_controls(viewer_client, sid):
    rec = make_rec(sid)
    body = text(viewer_client.get(rec_page(sid, rec["recommendationId"])))
    assert rec["title"] in body and "Copy spec" in body
    assert not forms(body) or all("logout" in f["action"] for f in forms(body))
    assert "Send back with context" not in body and "Investigation…" not in body


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_returns_403_for_viewer_on_every_action(viewer_client, sid, method):
    rec = make_rec(sid)
    data = {"status": "ACCEPTED", "version": rec["version"], "seen_status": "PROPOSED"}
    for url in (
        status_url(sid, rec["recommendationId"]),
        context_url(sid, rec["recommendationId"]),
    ):
        response = getattr(viewer_client, method)(url, data if method == "post" else None)
        assert response.status_code == 403
    assert aws.get_recommendation(sid, rec["recommendationId"])["status"] == "PROPOSED"
    assert not AuditEntry.objects.exists()


def test_anonymous_users_are_sent_to_sign_in(anon_client, sid):
    response = anon_client.get(_list(sid))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
