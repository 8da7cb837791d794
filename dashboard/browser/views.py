"""AgentCore browser sessions: list, start, live view, take/release control, stop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django.views.static import serve
from django_htmx.http import HttpResponseClientRedirect

from dashboard.aws import browser as aws_browser
from dashboard.aws import errors
from dashboard.core import roles
from dashboard.core.audit import audited
from dashboard.core.paging import listed, page_or_restart
from dashboard.core.views import wants_fragment

from . import live
from .forms import ListFilter, StartForm, valid_browser_id, valid_session_id

SERVICE = aws_browser.SERVICE
PAGE_SIZE = 25


def _check_ids(browser_id: str, session_id: str | None = None) -> None:
    # A malformed id never reaches AWS (and never becomes part of a live key).
    if not valid_browser_id(browser_id) or (
        session_id is not None and not valid_session_id(session_id)
    ):
        raise Http404("No such browser session")


def dcv_sdk_available() -> bool:
    folder = settings.DCV_SDK_DIR
    return bool(folder) and (Path(folder) / "dcv.js").is_file()


def viewer_mode() -> str:
    """How the page shows the stream: the sandbox's frames, the DCV SDK, or nothing yet."""
    if settings.DASHBOARD_BACKEND == "sandbox":
        return "sandbox"
    return "dcv" if dcv_sdk_available() else "none"


@require_GET
@vary_on_headers("HX-Request")
def session_list(request: HttpRequest) -> HttpResponse:
    form = ListFilter(request.GET)
    if not form.is_valid():
        context = {
            "form": form,
            "sessions": [],
            "browser_id": aws_browser.SYSTEM_BROWSER,
            **_choices(),
        }
        return render(request, "browser/list.html", context, status=400)
    browser_id = form.cleaned_data["browser"]
    status = form.cleaned_data["status"]
    token = form.cleaned_data["next"] or None
    page, page_error = page_or_restart(
        lambda token: aws_browser.list_sessions(
            browser_id, status=status, max_results=PAGE_SIZE, next_token=token
        ),
        token,
    )
    context: dict[str, Any] = {
        "form": form,
        "browser_id": browser_id,
        "status": status,
        "sessions": page["items"],
        "next_token": page["nextToken"],
        "paged": bool(token),
        "page_error": page_error,
        "is_system": browser_id == aws_browser.SYSTEM_BROWSER,
    }
    if wants_fragment(request) and request.GET.get("fragment") == "rows":
        return render(
            request, "browser/list.html#results", context, status=400 if page_error else 200
        )
    context.update(_choices())
    return render(request, "browser/list.html", context, status=400 if page_error else 200)


def _choices() -> dict[str, Any]:
    """The account's browsers (control plane), offered for the identifier field."""
    found, problem = listed(lambda _: aws_browser.list_browsers(), empty=[])
    return {"browsers": found, "browsers_problem": problem}


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.OPERATOR)
def session_start(request: HttpRequest, browser_id: str) -> HttpResponse:
    _check_ids(browser_id)
    form = StartForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        params = {
            "browserIdentifier": browser_id,
            "name": data.get("name") or "",
            "sessionTimeoutSeconds": data["timeout"],
            "viewPort": {"width": data["width"], "height": data["height"]},
        }
        try:
            with audited(request, SERVICE, "StartBrowserSession", browser_id, params):
                started = aws_browser.start_session(
                    browser_id,
                    name=params["name"],
                    timeout_seconds=data["timeout"],
                    viewport=(data["width"], data["height"]),
                )
        except (errors.ValidationFailed, errors.QuotaExceeded, errors.Conflict) as exc:
            _field_errors(form, exc)
        except errors.NotFound as exc:
            form.add_error(None, exc.message)
        except errors.AwsError as exc:
            # Throttled, unavailable, access denied: say so on the form, keep what was typed.
            form.add_error(None, f"{exc.message} The session was not started.")
            status = exc.status
        else:
            name = params["name"] or started["sessionId"]
            messages.success(request, f"Started browser session “{name}”.")
            url = reverse("browser:detail", args=[browser_id, started["sessionId"]])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = {"form": form, "browser_id": browser_id}
    return render(request, "browser/start.html", context, status=status)


_FIELD_NAMES = {
    "name": "name",
    "sessionTimeoutSeconds": "timeout",
    "viewPort.width": "width",
    "viewPort.height": "height",
}


def _field_errors(form: StartForm, exc: errors.AwsError) -> None:
    placed = False
    for name, message in exc.fields.items():
        field = _FIELD_NAMES.get(name)
        if field:
            form.add_error(field, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _page_context(request: HttpRequest, browser_id: str, session_id: str) -> dict[str, Any]:
    item = live.session_item(aws_browser.get_session(browser_id, session_id))
    return {
        **live.status_context(item),
        "browser_id": browser_id,
        "session_id": session_id,
        "live_notice": live.notice(browser_id, session_id),
        "viewer_mode": viewer_mode(),
        "dcv_dir": settings.DCV_SDK_DIR,
        "dcv_base": reverse("browser:dcv-sdk", args=["dcv.js"]).removesuffix("dcv.js"),
        "expires": settings.BROWSER_LIVE_VIEW_EXPIRES,
    }


@require_GET
@vary_on_headers("HX-Request")
def session_detail(request: HttpRequest, browser_id: str, session_id: str) -> HttpResponse:
    _check_ids(browser_id, session_id)
    context = _page_context(request, browser_id, session_id)
    if wants_fragment(request) and request.GET.get("fragment") == "status":
        return render(request, "browser/detail.html#status", context)
    response = render(request, "browser/detail.html", context)
    if context["viewer_mode"] == "dcv":
        # The DCV Web Client connects to AgentCore's live-view endpoint (the presigned URL's
        # host) and decodes in workers it creates from blobs: allowed on this page only.
        response._csp_update = {  # type: ignore[attr-defined]
            "connect-src": ["https://*.amazonaws.com", "wss://*.amazonaws.com"],
            "worker-src": ["'self'", "blob:"],
        }
    return response


@require_POST
@roles.role_required(roles.OPERATOR)
def session_control(request: HttpRequest, browser_id: str, session_id: str) -> HttpResponse:
    """Take control (automation stream DISABLED) or release it (ENABLED)."""
    _check_ids(browser_id, session_id)
    action = request.POST.get("action", "")
    status = {"take": "DISABLED", "release": "ENABLED"}.get(action)
    if status is None:
        messages.error(request, "Choose to take or to release control.")
        return redirect("browser:detail", browser_id, session_id)
    params = {
        "browserIdentifier": browser_id,
        "sessionId": session_id,
        "streamUpdate": {"automationStreamUpdate": {"streamStatus": status}},
    }
    target = live.audit_target(browser_id, session_id)
    with audited(request, SERVICE, "UpdateBrowserStream", target, params):
        aws_browser.set_automation(browser_id, session_id, status)
    item = live.session_item(aws_browser.get_session(browser_id, session_id))
    live_changed(browser_id, session_id, item)
    if request.htmx:
        return render(
            request, "browser/detail.html#status", {**live.status_context(item), "oob": False}
        )
    messages.success(
        request,
        "You have control: the agent's automation is paused."
        if status == "DISABLED"
        else "Control released: the agent's automation may continue.",
    )
    return redirect("browser:detail", browser_id, session_id)


def live_changed(browser_id: str, session_id: str, item: dict[str, Any]) -> None:
    from dashboard.live import UPDATED, publish_change

    publish_change(live.session_key(browser_id, session_id), UPDATED, live.ITEM, item)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.OPERATOR)
def session_stop(request: HttpRequest, browser_id: str, session_id: str) -> HttpResponse:
    _check_ids(browser_id, session_id)
    item = live.session_item(aws_browser.get_session(browser_id, session_id))
    detail_url = reverse("browser:detail", args=[browser_id, session_id])
    if request.method == "GET":
        return render(
            request,
            "browser/stop.html",
            {"s": item, "browser_id": browser_id, "detail": detail_url},
        )
    params = {"browserIdentifier": browser_id, "sessionId": session_id}
    try:
        with audited(
            request,
            SERVICE,
            "StopBrowserSession",
            live.audit_target(browser_id, session_id),
            params,
        ):
            aws_browser.stop_session(browser_id, session_id)
    except errors.Conflict:
        messages.info(request, "The session had already ended.")
    else:
        messages.success(request, f"Stopped browser session “{item['name'] or session_id}”.")
    live_changed(
        browser_id,
        session_id,
        live.session_item(aws_browser.get_session(browser_id, session_id)),
    )
    return HttpResponseClientRedirect(detail_url) if request.htmx else redirect(detail_url)


@require_GET
def dcv_sdk(request: HttpRequest, path: str) -> HttpResponse:
    """The Amazon DCV Web Client SDK, served from DCV_SDK_DIR (it is on no package registry)."""
    if not settings.DCV_SDK_DIR:
        raise Http404("DCV_SDK_DIR is not set")
    if any(part in ("", ".", "..") for part in path.split("/")) or "\\" in path:
        raise Http404("No such file in the DCV SDK")
    try:
        response = serve(request, path, document_root=settings.DCV_SDK_DIR)
    except OSError as exc:  # a name the file system refuses (too long, ...)
        raise Http404("No such file in the DCV SDK") from exc
    response["Cache-Control"] = "private, max-age=3600"
    return response
