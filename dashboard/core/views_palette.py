"""The command palette's answers: the results list for the dialog (htmx), or a whole search page
without JavaScript. See dashboard/core/palette.py for what it searches and how it matches."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from . import palette as palette_search
from .views import wants_fragment


@require_GET
@vary_on_headers("HX-Request")
def palette(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[: palette_search.MAX_QUERY]
    space_id = request.GET.get("space", "")[:64]
    context = palette_search.search(request, query, space_id)
    context["space"] = space_id
    if wants_fragment(request):
        return render(request, "core/palette.html#results", context)
    return render(request, "core/palette.html", context)
