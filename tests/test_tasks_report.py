"""A task's incident report, as Markdown and as a printable page: summary, timeline, findings
with evidence, the root cause, approvals with who answered and when, the console's actions
and linked tasks; text written by the agent shows as written and does nothing."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
import time_machine
from markdown_it import MarkdownIt

from dashboard.aws import tasks as aws_tasks
from dashboard.tasks import report as reports

from .test_views_task_support import (
    START,
    create,
    executions,
    form_with_button,
    records,
    run_until,
    text,
)

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "![x](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=https://evil.example></iframe>",
    "<javascript:alert(1)>",
    "[ref]: javascript:alert(1)",
    "```\n<script>alert(2)</script>\n```",
    "| a | b |\n| - | - |\n| <svg onload=alert(1)> | x |",
    "# Heading from the agent",
    "- not a list item\n1. not a numbered one",
    "<style>body{display:none}</style>",
]
EVIL = "\n".join(PAYLOADS)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _poison(execution_id: str) -> None:
    """What the agent wrote, with script vectors in every text it shows."""
    from dashboard.sandbox.models import JournalRecord

    for record in JournalRecord.objects.filter(execution_id=execution_id):
        content = dict(record.content)
        if record.record_type == "FINDING":
            content.update(title="Finding " + PAYLOADS[0], details=EVIL, evidence=PAYLOADS)
        elif record.record_type == "ROOT_CAUSE":
            content.update(title="Cause " + PAYLOADS[1], summary=EVIL, contributingFactors=PAYLOADS)
        elif record.record_type in ("OBSERVATION", "UPDATE"):
            content.update(text=EVIL)
        elif record.record_type == "APPROVAL_REQUEST":
            content.update(reason=EVIL, arguments={"command": PAYLOADS[2]})
        record.content = content
        record.save(update_fields=["content"])


@pytest.fixture
def incident(space, clock, operator_client):
    """An investigation that asked for an approval (answered in this console by the operator),
    then found its root cause; agent text full of payloads; and a task linked to it."""
    sid = space["agentSpaceId"]
    reference = {
        "system": "PagerDuty",
        "referenceId": "Q1",
        "referenceUrl": "https://acme.pagerduty.com/incidents/Q1",
        "associationId": "pagerduty-acme",
    }
    task = create(sid, "approval", title="5xx spike <b>now</b>", reference=reference)
    task = run_until(clock, sid, task["taskId"], "PENDING_CUSTOMER_APPROVAL")
    page = text(operator_client.get(f"/spaces/{sid}/tasks/{task['taskId']}/"))
    form = form_with_button(page, "Approve")
    response = operator_client.post(form["action"], {**form["data"], "action": "APPROVED"})
    assert response.status_code == 302
    duplicate = aws_tasks.create_task(
        sid, task_type="INVESTIGATION", title="Same page again", priority="HIGH",
        reference=reference,
    )  # fmt: skip
    assert duplicate["status"] == "LINKED"
    task = run_until(clock, sid, task["taskId"], "COMPLETED", "FAILED")
    (execution,) = executions(sid, task["taskId"])
    _poison(execution["executionId"])
    return {"space": sid, "task": task, "execution": execution, "duplicate": duplicate}


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data):
        self.text.append(data)


def _rendered(markdown: str) -> _Elements:
    """The Markdown as a permissive renderer (raw HTML on) would show it."""
    parser = _Elements()
    renderer = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    parser.feed(renderer.render(markdown))
    return parser


def _markdown(client, incident) -> str:
    url = f"/spaces/{incident['space']}/tasks/{incident['task']['taskId']}/report.md"
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="incident-')
    return response.content.decode()


def test_the_markdown_has_every_part(viewer_client, operator_user, incident):
    markdown = _markdown(viewer_client, incident)
    headings = re.findall(r"^## (.+)$", markdown, re.M)
    assert headings == [
        "Summary",
        "Root cause",
        "Findings",
        "Approvals",
        "Timeline",
        "Actions in this console",
        "Linked tasks",
    ]
    sid, task = incident["space"], incident["task"]
    journal = records(sid, incident["execution"]["executionId"])
    shown = "".join(_rendered(markdown).text)
    # Summary and reference (a link the console may make: an http address).
    assert shown.startswith("Incident report: 5xx spike <b>now</b>")
    assert "[Q1](<https://acme.pagerduty.com/incidents/Q1>)" in markdown
    # The root cause, the findings and their evidence, as written.
    assert "Cause " + PAYLOADS[1] in shown
    findings = [r for r in journal if r["recordType"] == "FINDING"]
    assert len(re.findall(r"^### \d+\. Finding ", markdown, re.M)) == len(findings)
    for payload in PAYLOADS:
        assert payload.splitlines()[0].strip() in shown
    # The approval: who answered it in this console, and when.
    (request,) = [r for r in journal if r["recordType"] == "APPROVAL_REQUEST"]
    (answer,) = [r for r in journal if r["recordType"] == "APPROVAL_RESPONSE"]
    tool = reports.cell(request["content"]["tool"])
    row = next(line for line in markdown.splitlines() if line.startswith("| ") and tool in line)
    assert "**Approved**" in row and f"by {operator_user.username} at " in row
    assert reports.when(answer["createdAt"]) in row
    # The timeline has every record; the console's action; the linked task.
    timeline = markdown.split("## Timeline")[1].split("## Actions")[0]
    assert len(re.findall(r"^- ", timeline, re.M)) == len(journal)
    actions = markdown.split("## Actions in this console")[1]
    assert f"| {operator_user.username} | Approved approval {request['content']['approvalId']}" in (
        actions.replace("\\-", "-")
    )
    linked = markdown.split("## Linked tasks")[1]
    assert "Same page again" in linked
    assert f"/spaces/{sid}/tasks/{incident['duplicate']['taskId']}/" in linked
    assert f"/spaces/{sid}/tasks/{task['taskId']}/" in markdown


def test_agent_text_is_inert_in_the_markdown(viewer_client, incident):
    markdown = _markdown(viewer_client, incident)
    elements = _rendered(markdown).found
    for tag, attrs in elements:
        assert tag not in ("script", "iframe", "img", "svg", "style", "b"), (tag, attrs)
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        if "href" in attrs:
            assert attrs["href"].startswith(("https://acme.pagerduty.com/", "http://testserver/"))
    # No link from the agent's words, whatever a renderer that links bare URLs would do.
    assert not re.search(r"(?i)javascript\s*:", markdown)
    assert "https://evil.example" not in markdown
    # Headings and lists are the report's own, none from the agent's text.
    assert "Heading from the agent" not in "".join(re.findall(r"^#+ .*$", markdown, re.M))


def test_the_printable_page_shows_the_same_escaped(viewer_client, incident):
    sid, task = incident["space"], incident["task"]
    response = viewer_client.get(f"/spaces/{sid}/tasks/{task['taskId']}/report/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script>alert" not in body and "<img src=x" not in body and "<iframe" not in body
    assert html.escape(PAYLOADS[0], quote=False) in body or "&lt;script&gt;" in body
    assert 'href="/spaces/' in body and "report.md" in body
    assert 'rel="stylesheet" href="/static/css/report.css"' in body
    for heading in ("Summary", "Root cause", "Findings", "Approvals", "Timeline"):
        assert f">{heading}</h2>" in body
    assert "Print or save as PDF" in body


def test_the_task_page_links_its_report(viewer_client, incident):
    sid, task = incident["space"], incident["task"]
    body = viewer_client.get(f"/spaces/{sid}/tasks/{task['taskId']}/").content.decode()
    assert f'href="/spaces/{sid}/tasks/{task["taskId"]}/report/"' in body
    assert f'href="/spaces/{sid}/tasks/{task["taskId"]}/report.md"' in body


def test_a_task_the_agent_never_started_reports_so(viewer_client, space):
    sid = space["agentSpaceId"]
    from .test_views_task_support import triage_task

    task = triage_task(sid, title="Disk alarm")
    markdown = viewer_client.get(f"/spaces/{sid}/tasks/{task['taskId']}/report.md").content
    text_ = markdown.decode()
    assert "The agent has not started on this task." in text_
    assert "The agent has not found a root cause." in text_
    assert "No findings." in text_ and "The agent asked for no approval." in text_


def test_a_missing_task_is_not_found(viewer_client, space):
    sid = space["agentSpaceId"]
    response = viewer_client.get(
        f"/spaces/{sid}/tasks/00000000-0000-4000-8000-000000000000/report.md"
    )
    assert response.status_code == 404


def test_markdown_text_escapes_what_renderers_would_read():
    assert reports.text("<b>x</b> & y") == "&lt;b&gt;x&lt;/b&gt; &amp; y"
    assert reports.text("[a](javascript:alert(1))") == "\\[a\\]\\(javascript&#58;alert\\(1\\)\\)"
    assert reports.text("# h\n- l\n2. n") == "\\# h  \n\\- l  \n2\\. n"
    assert reports.text("see https://x.example and www.y.example") == (
        "see https:&#47;&#47;x.example and www&#46;y.example"
    )
    assert reports.code("a ``` b") == "````text\na ``` b\n````"
