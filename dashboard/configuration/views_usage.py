"""Account usage (GetAccountUsage): each monthly hours metric as a used-of-limit bar, with the
period and a warning past 80 %."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.aws import configuration as aws_config

from . import display


@require_GET
def usage(request: HttpRequest) -> HttpResponse:
    answer = aws_config.get_account_usage()
    return render(request, "configuration/usage.html", {"usage": display.usage(answer)})
