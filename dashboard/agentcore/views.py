"""The AgentCore section's landing page: every area registered as a tab of the section."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from dashboard.core import nav

# What each area is for, by URL name; an area registered without one shows its name alone.
BLURBS = {
    "agentcore:memory-choose": (
        "Agent memory: actors, sessions and their conversations (with branches), long-term "
        "records by namespace, and search by relevance."
    ),
    "agentcore:code-list": (
        "Code interpreter sessions: run code, shell commands and file tools in a session and "
        "watch the output stream in."
    ),
    "agentcore:runtime": (
        "Invoke an agent runtime with a payload and watch its answer stream in, in a runtime "
        "session you can share."
    ),
    "flows:choose": (
        "Bedrock Flows execution traces: inputs and outputs of every node, conditions, "
        "actions, agent traces with guardrail interventions, failures."
    ),
}


def _blurbs() -> dict[str, str]:
    found = {}
    for name, text in BLURBS.items():
        try:
            found[reverse(name)] = text
        except NoReverseMatch:
            continue
    return found


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    blurbs = _blurbs()
    areas = [
        {**entry, "blurb": blurbs.get(entry["url"], "")}
        for entry in nav.section_entries(request, "agentcore")
    ]
    return render(request, "agentcore/index.html", {"areas": areas})
