"""Tags on a taggable resource's page: one card and one pair of views, whatever the resource.

A resource page (agent space, service, private connection) shows the card with
`{% include "includes/tags_card.html" with card=tags_card %}` and routes two POST views made
here. For a resource kind:

    SPACE_TAGS = Taggable(
        kind="agentspace",                        # the ARN's resource type
        url_kwarg="space_id",                     # the id's name in the resource's URLs
        detail_url="spaces:detail",               # its page
        add_url="spaces:tag-add", remove_url="spaces:tag-remove",
        tags=lambda space_id: ...,                # its current tags (NotFound when it is gone)
        page=lambda request, space_id, form: ...  # its whole page with this tag form
    )
    path("<str:space_id>/tags/", add_view(SPACE_TAGS), name="tag-add")

htmx requests get the card back in place; plain ones a redirect to the page's #tags (or the
whole page with the form's errors). Admins only; every write is audited against the ARN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dashboard.aws import errors
from dashboard.aws import tags as aws_tags
from dashboard.aws.model import service_model, shape_constraint

from . import roles
from .audit import audited
from .forms import model_validator

SERVICE = aws_tags.SERVICE

_TAGS = service_model(SERVICE).shape_for("Tags")
_TAG_KEY = shape_constraint("key", _TAGS.key, required=True)
_TAG_VALUE = shape_constraint("value", _TAGS.value)


class TagForm(forms.Form):
    key = forms.CharField(
        label="Key",
        max_length=_TAG_KEY.max,
        validators=[model_validator(_TAG_KEY)],
        help_text="Up to 128 letters, digits, spaces and _ . : / = + - @",
    )
    value = forms.CharField(
        label="Value",
        required=False,
        max_length=_TAG_VALUE.max,
        validators=[model_validator(_TAG_VALUE)],
        help_text="Up to 256 characters; may be empty.",
    )

    def clean_key(self) -> str:
        key = self.cleaned_data["key"]
        if key.lower().startswith("aws:"):
            raise forms.ValidationError("Keys starting with aws: are reserved by AWS.")
        return key


@dataclass(frozen=True)
class Taggable:
    kind: str
    url_kwarg: str
    detail_url: str
    add_url: str
    remove_url: str
    tags: Callable[[str], dict[str, str]]
    page: Callable[[HttpRequest, str, TagForm], HttpResponse]

    def arn(self, ident: str) -> str:
        return aws_tags.resource_arn(self.kind, ident)


def card(
    taggable: Taggable,
    ident: str,
    tags: dict[str, str],
    form: TagForm | None = None,
    tags_error: str = "",
) -> dict[str, Any]:
    """The `tags_card` context of a resource page."""
    return {
        "tags": sorted(tags.items()),
        "tags_error": tags_error,
        "form": form or TagForm(),
        "add_url": reverse(taggable.add_url, args=[ident]),
        "remove_url": reverse(taggable.remove_url, args=[ident]),
    }


# What AWS may answer to TagResource that leaves the typed tag in the form, with its reason.
_KEEP_TAG_ON = (
    errors.ValidationFailed,
    errors.QuotaExceeded,
    errors.Conflict,
    errors.AccessDenied,
    errors.Throttled,
    errors.Unavailable,
)


def _answer(
    request: HttpRequest, taggable: Taggable, ident: str, form: TagForm, status: int = 200
) -> HttpResponse:
    if request.htmx:
        try:
            context = {"card": card(taggable, ident, taggable.tags(ident), form)}
        except (errors.AccessDenied, errors.Throttled, errors.Unavailable) as exc:
            if not form.errors:
                raise
            # The form with what was typed matters more than the list: say why it is missing.
            context = {"card": card(taggable, ident, {}, form, tags_error=exc.message)}
        return render(request, "includes/tags_card.html#content", context, status=status)
    if form.errors:
        response = taggable.page(request, ident, form)
        response.status_code = status
        return response
    return redirect(reverse(taggable.detail_url, args=[ident]) + "#tags")


def add_view(taggable: Taggable) -> Callable[..., HttpResponse]:
    @require_POST
    @roles.role_required(roles.ADMIN)
    def tag_add(request: HttpRequest, **kwargs: str) -> HttpResponse:
        ident = kwargs[taggable.url_kwarg]
        form = TagForm(request.POST)
        if form.is_valid():
            tags = {form.cleaned_data["key"]: form.cleaned_data["value"]}
            arn = taggable.arn(ident)
            try:
                with audited(
                    request, SERVICE, "TagResource", arn, {"resourceArn": arn, "tags": tags}
                ):
                    aws_tags.tag(arn, tags)
            except _KEEP_TAG_ON as exc:
                retry = isinstance(exc, errors.Throttled | errors.Unavailable)
                form.add_error(
                    None, exc.message + (" The tag was not saved; submit again." if retry else "")
                )
                return _answer(request, taggable, ident, form, status=exc.status)
            else:
                if not request.htmx:  # htmx shows the new tag in place; no stale message later
                    messages.success(request, f"Tag {form.cleaned_data['key']} saved.")
                return _answer(request, taggable, ident, TagForm())
        return _answer(request, taggable, ident, form)  # 200: the card with its errors

    return tag_add


def remove_view(taggable: Taggable) -> Callable[..., HttpResponse]:
    @require_POST
    @roles.role_required(roles.ADMIN)
    def tag_remove(request: HttpRequest, **kwargs: str) -> HttpResponse:
        ident = kwargs[taggable.url_kwarg]
        key = request.POST.get("key", "")
        if key:
            arn = taggable.arn(ident)
            params = {"resourceArn": arn, "tagKeys": [key]}
            with audited(request, SERVICE, "UntagResource", arn, params):
                aws_tags.untag(arn, [key])
            if not request.htmx:
                messages.success(request, f"Tag {key} removed.")
        return _answer(request, taggable, ident, TagForm())

    return tag_remove
