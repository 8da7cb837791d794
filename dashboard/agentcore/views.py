"""The AgentCore section's landing page: every area registered as a tab of the section."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.core import nav


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    areas = nav.section_entries(request, "agentcore")
    return render(request, "agentcore/index.html", {"areas": areas})
