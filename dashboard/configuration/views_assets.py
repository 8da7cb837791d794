"""Assets of an agent space (skills, AGENTS.md files, attachments, ...): list by type, view an
asset's versions and files, read a file (escaped, long text cut with a download), create,
update, delete; add, change and delete single files. Admins write; everyone signed in reads.

Versions are deep links (?version=N); file paths travel in the query string (?path=...), since
they may hold "/" and spaces. Updates carry the version the form showed: when the asset moved
on meanwhile, nothing is written and the form says so (the API has no precondition of its own).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import regex
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from dashboard.aws import configuration as aws_config
from dashboard.aws import errors
from dashboard.aws import spaces as aws_spaces
from dashboard.core import roles
from dashboard.core.audit import audited
from dashboard.core.views import wants_fragment

from . import display
from .common import apply_field_errors, refused, retry_message
from .forms import TEXT_LIMIT, AssetFileForm, AssetForm

SERVICE = aws_config.SERVICE
PAGE_SIZE = 25
_ASSET_ID = regex.compile(r"[a-zA-Z0-9_.-]{1,128}")
_PATH = regex.compile(r"[a-zA-Z0-9_./ ()-]{1,512}")
_TYPE = regex.compile(r"[A-Za-z0-9_.-]{1,64}")


# --- helpers ---------------------------------------------------------------------------------


def _space(space_id: str) -> dict[str, Any]:
    try:
        return aws_spaces.get_space(space_id)
    except (errors.Throttled, errors.Unavailable):
        return {"agentSpaceId": space_id, "name": ""}


def _check_asset_id(asset_id: str) -> None:
    if not _ASSET_ID.fullmatch(asset_id):
        raise Http404("No such asset")


def _path(request: HttpRequest) -> str:
    path = request.GET.get("path") or request.POST.get("path") or ""
    if not _PATH.fullmatch(path):
        raise Http404("No such file")
    return path


def _version(request: HttpRequest) -> int | None:
    text = request.GET.get("version", "")
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 18) or int(text) < 1:
        raise Http404("No such version")
    return int(text)


def _query(**params: Any) -> str:
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    return "?" + urlencode(clean, quote_via=quote) if clean else ""


def asset_title(asset: dict[str, Any]) -> str:
    metadata = asset.get("metadata") if isinstance(asset.get("metadata"), dict) else {}
    for key in ("name", "title", "displayName"):
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _row(space_id: str, asset: dict[str, Any]) -> dict[str, Any]:
    metadata = asset.get("metadata") if isinstance(asset.get("metadata"), dict) else {}
    description = metadata.get("description")
    return {
        "asset": asset,
        "title": asset_title(asset),
        "description": description if isinstance(description, str) else "",
        "url": reverse("assets:detail", args=[space_id, asset["assetId"]]),
    }


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def _sized(body: dict[str, Any]) -> dict[str, str]:
    """A file body for the audit log: its size in place of its content."""
    if "text" in body:
        return {"text": f"[{len(body['text'].encode())} bytes]"}
    return {"bytes": f"[{len(body['bytes'])} bytes]"}


def _audit_content(content: dict[str, Any] | None) -> dict[str, Any] | None:
    """Content for the audit log, in the API's shape: what was sent, by size, never the
    content itself."""
    if content is None:
        return None
    if "file" in content:
        return {"file": {"path": content["file"]["path"], "body": _sized(content["file"]["body"])}}
    if "zip" in content:
        return {"zip": {"zipFile": f"[{len(content['zip']['zipFile'])} bytes]"}}
    return content


def _types_or_empty() -> tuple[list[dict[str, Any]], str]:
    try:
        return aws_config.list_asset_types(), ""
    except (errors.Throttled, errors.Unavailable, errors.AccessDenied) as exc:
        return [], exc.message


# --- list and detail -------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
def asset_list(request: HttpRequest, space_id: str) -> HttpResponse:
    types, types_error = _types_or_empty()
    asset_type = (request.GET.get("type") or "").strip()
    notice = ""
    if asset_type and not _TYPE.fullmatch(asset_type):
        notice = "That type filter is not an asset type; showing every asset."
        asset_type = ""
    token = request.GET.get("next") or None
    page = aws_config.list_assets(
        space_id, asset_type=asset_type, next_token=token, max_results=PAGE_SIZE
    )
    context: dict[str, Any] = {
        "space_id": space_id,
        "rows": [_row(space_id, a) for a in page["items"] if a.get("assetId")],
        "next_token": page["nextToken"],
        "asset_type": asset_type,
        "types": types,
        "types_error": types_error,
        "notice": notice,
        "more_query": _query(type=asset_type, next=page["nextToken"]),
    }
    if wants_fragment(request) and token:
        return render(request, "configuration/assets/list.html#page", context)
    context["space"] = aws_spaces.get_space(space_id)
    context["type_help"] = next(
        (t.get("description", "") for t in types if t.get("assetType") == asset_type), ""
    )
    return render(request, "configuration/assets/list.html", context)


@require_GET
def asset_detail(request: HttpRequest, space_id: str, asset_id: str) -> HttpResponse:
    _check_asset_id(asset_id)
    version = _version(request)
    latest = aws_config.get_asset(space_id, asset_id)
    asset = aws_config.get_asset(space_id, asset_id, version) if version else latest
    shown = int(asset.get("version") or latest.get("version") or 1)
    files = aws_config.list_asset_files(space_id, asset_id, version=shown, max_results=100)
    versions = aws_config.list_asset_versions(space_id, asset_id, max_results=50)
    for item in files["items"]:
        item["url"] = reverse("assets:file", args=[space_id, asset_id]) + _query(
            path=item["path"], version=shown if version else None
        )
    context = {
        "space": _space(space_id),
        "space_id": space_id,
        "asset": asset,
        "latest": latest,
        "is_latest": shown == latest.get("version"),
        "title": asset_title(latest),
        "shown": shown,
        "metadata": _pretty(asset.get("metadata") or {}),
        "files": files["items"],
        "more_files": bool(files["nextToken"]),
        "versions": versions["items"],
        "more_versions": bool(versions["nextToken"]),
        "zip_query": _query(version=shown),
    }
    return render(request, "configuration/assets/detail.html", context)


@require_GET
def asset_content(request: HttpRequest, space_id: str, asset_id: str) -> HttpResponse:
    """The version's files as one zip (GetAssetContent), as a download."""
    _check_asset_id(asset_id)
    answer = aws_config.get_asset_content(space_id, asset_id, _version(request))
    name = f"{asset_id}-v{answer.get('version') or 'latest'}.zip"
    response = HttpResponse(bytes(answer["zip"]), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- create, update, delete ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def asset_create(request: HttpRequest, space_id: str) -> HttpResponse:
    space = _space(space_id)
    types, types_error = _types_or_empty()
    wanted = request.GET.get("type", "")
    initial = {"asset_type": wanted} if any(t.get("assetType") == wanted for t in types) else {}
    form = AssetForm(request.POST or None, request.FILES or None, types=types, initial=initial)
    status = 200
    if types_error:
        form.add_error(None, f"Could not load the asset types: {types_error}")
    if request.method == "POST" and not types_error and form.is_valid():
        data = form.cleaned_data
        content = form.content()
        params = {
            "agentSpaceId": space_id,
            "assetType": data["asset_type"],
            "metadata": data.get("metadata"),
            "content": _audit_content(content),
        }
        try:
            with audited(request, SERVICE, "CreateAsset", space_id, params):
                asset = aws_config.create_asset(
                    space_id,
                    asset_type=data["asset_type"],
                    metadata=data.get("metadata"),
                    content=content or {},
                )
        except (
            errors.ValidationFailed,
            errors.QuotaExceeded,
            errors.Conflict,
        ) as exc:
            apply_field_errors(form, exc, AssetForm.AWS_FIELDS)
            status = exc.status
        except (errors.Throttled, errors.Unavailable) as exc:
            form.add_error(None, retry_message(exc, "The asset was not created.") + _reupload(form))
            status = exc.status
        except errors.AwsError as exc:
            status = refused(form, exc, "The asset was not created." + _reupload(form))
        else:
            messages.success(request, f"Created the {asset['assetType']} asset.")
            return redirect("assets:detail", space_id=space_id, asset_id=asset["assetId"])
    elif request.method == "POST":
        status = 400
    context = {
        "space": space,
        "space_id": space_id,
        "form": form,
        "types": types,
        "mode": "create",
    }
    return render(request, "configuration/assets/form.html", context, status=status)


def _reupload(form: Any) -> str:
    """Browsers never refill a file input: say so when the form had an upload."""
    if any(form.cleaned_data.get(k) for k in ("file_upload", "zip_upload", "upload")):
        return " Choose the file again before submitting."
    return ""


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def asset_edit(request: HttpRequest, space_id: str, asset_id: str) -> HttpResponse:
    _check_asset_id(asset_id)
    space = _space(space_id)
    asset = aws_config.get_asset(space_id, asset_id)
    initial = {"seen_version": asset["version"]}
    form = AssetForm(request.POST or None, request.FILES or None, editing=asset, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data.get("seen_version") != asset["version"]:
            form.data = form.data.copy()
            form.data["seen_version"] = str(asset["version"])
            form.add_error(
                None,
                f"This asset changed while you edited it (it is at version {asset['version']} "
                f"now, you started from version {data.get('seen_version')}). Nothing was "
                "saved; check it and submit again to apply your change.",
            )
            status = 409
        else:
            content = form.content()
            params = {
                "agentSpaceId": space_id,
                "assetId": asset_id,
                "metadata": data.get("metadata"),
                "content": _audit_content(content),
            }
            try:
                with audited(request, SERVICE, "UpdateAsset", asset_id, params):
                    updated = aws_config.update_asset(
                        space_id, asset_id, metadata=data.get("metadata"), content=content
                    )
            except (errors.ValidationFailed, errors.QuotaExceeded, errors.Conflict) as exc:
                apply_field_errors(form, exc, AssetForm.AWS_FIELDS)
                status = exc.status
            except (errors.Throttled, errors.Unavailable) as exc:
                what = "The asset was not updated."
                form.add_error(None, retry_message(exc, what) + _reupload(form))
                status = exc.status
            except errors.AwsError as exc:
                status = refused(form, exc, "The asset was not updated." + _reupload(form))
            else:
                messages.success(request, f"Saved version {updated['version']} of the asset.")
                return redirect("assets:detail", space_id=space_id, asset_id=asset_id)
    elif request.method == "POST":
        status = 400
    context = {
        "space": space,
        "space_id": space_id,
        "form": form,
        "asset": asset,
        "title": asset_title(asset),
        "metadata": _pretty(asset.get("metadata") or {}),
        "mode": "edit",
    }
    return render(request, "configuration/assets/form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def asset_delete(request: HttpRequest, space_id: str, asset_id: str) -> HttpResponse:
    _check_asset_id(asset_id)
    asset = aws_config.get_asset(space_id, asset_id)
    files = aws_config.list_asset_files(space_id, asset_id, max_results=100)
    context: dict[str, Any] = {
        "space": _space(space_id),
        "space_id": space_id,
        "asset": asset,
        "title": asset_title(asset),
        "file_count": len(files["items"]),
        "more_files": bool(files["nextToken"]),
    }
    if request.method == "POST":
        params = {"agentSpaceId": space_id, "assetId": asset_id}
        try:
            with audited(request, SERVICE, "DeleteAsset", asset_id, params):
                aws_config.delete_asset(space_id, asset_id)
        except (errors.Conflict, errors.Throttled, errors.Unavailable) as exc:
            context["error"] = exc.message
            return render(request, "configuration/assets/delete.html", context, status=exc.status)
        except errors.NotFound:
            pass  # gone meanwhile: what was asked for is true
        messages.success(request, "Deleted the asset and its files.")
        return redirect("assets:list", space_id=space_id)
    return render(request, "configuration/assets/delete.html", context)


# --- files -----------------------------------------------------------------------------------


@require_GET
def file_detail(request: HttpRequest, space_id: str, asset_id: str) -> HttpResponse:
    _check_asset_id(asset_id)
    path = _path(request)
    version = _version(request)
    file = aws_config.get_asset_file(space_id, asset_id, path, version)
    asset = aws_config.get_asset(space_id, asset_id)
    context = {
        "space": _space(space_id),
        "space_id": space_id,
        "asset": asset,
        "title": asset_title(asset),
        "file": file,
        "path": path,
        "version": version,
        "preview": display.file_preview(file.get("content") or {}),
        "metadata": _pretty(file["metadata"]) if file.get("metadata") else "",
        "download_query": _query(path=path, version=version),
        "path_query": _query(path=path),
        "asset_query": _query(version=version),
    }
    return render(request, "configuration/assets/file.html", context)


_UNSAFE_NAME = regex.compile(r"[^A-Za-z0-9_.()-]+")


@require_GET
def file_download(request: HttpRequest, space_id: str, asset_id: str) -> HttpResponse:
    """The file's whole content as a download: never rendered by the browser as a page."""
    _check_asset_id(asset_id)
    path = _path(request)
    file = aws_config.get_asset_file(space_id, asset_id, path, _version(request))
    name = _UNSAFE_NAME.sub("_", path.rsplit("/", 1)[-1]).strip("._") or "file"
    response = HttpResponse(
        display.file_bytes(file.get("content") or {}), content_type="application/octet-stream"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def file_create(request: HttpRequest, space_id: str, asset_id: str) -> HttpResponse:
    _check_asset_id(asset_id)
    asset = aws_config.get_asset(space_id, asset_id)
    form = AssetFileForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        path = form.cleaned_data["path"]
        content = form.content()
        assert content is not None  # a new file always has content (the form requires it)
        metadata = form.cleaned_data.get("metadata")
        params = {
            "agentSpaceId": space_id,
            "assetId": asset_id,
            "path": path,
            "content": _sized(content),
            "metadata": metadata,
        }
        try:
            with audited(request, SERVICE, "CreateAssetFile", asset_id, params):
                aws_config.create_asset_file(
                    space_id, asset_id, path, content=content, metadata=metadata
                )
        except (errors.ValidationFailed, errors.Conflict, errors.QuotaExceeded) as exc:
            if isinstance(exc, errors.Conflict):
                form.add_error("path", exc.message)
            else:
                apply_field_errors(form, exc, AssetFileForm.AWS_FIELDS)
            status = exc.status
        except (errors.Throttled, errors.Unavailable) as exc:
            form.add_error(None, retry_message(exc, "The file was not added.") + _reupload(form))
            status = exc.status
        except errors.AwsError as exc:
            status = refused(form, exc, "The file was not added." + _reupload(form))
        else:
            messages.success(request, f"Added {path} to the asset.")
            return redirect(reverse("assets:file", args=[space_id, asset_id]) + _query(path=path))
    elif request.method == "POST":
        status = 400
    context = {
        "space": _space(space_id),
        "space_id": space_id,
        "asset": asset,
        "title": asset_title(asset),
        "form": form,
        "mode": "create",
    }
    return render(request, "configuration/assets/file_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def file_edit(request: HttpRequest, space_id: str, asset_id: str) -> HttpResponse:
    _check_asset_id(asset_id)
    path = _path(request)
    asset = aws_config.get_asset(space_id, asset_id)
    file = aws_config.get_asset_file(space_id, asset_id, path)
    content = file.get("content") or {}
    current_text = content.get("text")
    editable = current_text is not None and len(current_text) <= TEXT_LIMIT
    initial: dict[str, Any] = {}
    if editable:
        initial["text"] = current_text
    form = AssetFileForm(request.POST or None, request.FILES or None, editing=True, initial=initial)
    if not editable:
        form.fields["text"].disabled = True
        form.fields[
            "text"
        ].help_text = "This file is binary or too long to edit here: upload a replacement instead."
    status = 200
    if request.method == "POST" and form.is_valid():
        new_content = form.content(current_text if editable else None)
        metadata = form.cleaned_data.get("metadata")
        if new_content is None and metadata is None:
            form.add_error(None, "Nothing changed: edit the text, upload a file or give metadata.")
            status = 400
        else:
            params = {
                "agentSpaceId": space_id,
                "assetId": asset_id,
                "path": path,
                "content": _sized(new_content) if new_content is not None else None,
                "metadata": metadata,
            }
            try:
                with audited(request, SERVICE, "UpdateAssetFile", asset_id, params):
                    aws_config.update_asset_file(
                        space_id, asset_id, path, content=new_content, metadata=metadata
                    )
            except (errors.ValidationFailed, errors.Conflict, errors.QuotaExceeded) as exc:
                apply_field_errors(form, exc, AssetFileForm.AWS_FIELDS)
                status = exc.status
            except (errors.Throttled, errors.Unavailable) as exc:
                what = "The file was not changed."
                form.add_error(None, retry_message(exc, what) + _reupload(form))
                status = exc.status
            except errors.AwsError as exc:
                status = refused(form, exc, "The file was not changed." + _reupload(form))
            else:
                messages.success(request, f"Saved {path}.")
                return redirect(
                    reverse("assets:file", args=[space_id, asset_id]) + _query(path=path)
                )
    elif request.method == "POST":
        status = 400
    context = {
        "space": _space(space_id),
        "space_id": space_id,
        "asset": asset,
        "title": asset_title(asset),
        "form": form,
        "file": file,
        "path": path,
        "path_query": _query(path=path),
        "mode": "edit",
        "file_metadata": _pretty(file["metadata"]) if file.get("metadata") else "",
    }
    return render(request, "configuration/assets/file_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN)
def file_delete(request: HttpRequest, space_id: str, asset_id: str) -> HttpResponse:
    _check_asset_id(asset_id)
    path = _path(request)
    asset = aws_config.get_asset(space_id, asset_id)
    file = aws_config.get_asset_file(space_id, asset_id, path)
    context: dict[str, Any] = {
        "space": _space(space_id),
        "space_id": space_id,
        "asset": asset,
        "title": asset_title(asset),
        "file": file,
        "path": path,
        "path_query": _query(path=path),
    }
    if request.method == "POST":
        params = {"agentSpaceId": space_id, "assetId": asset_id, "path": path}
        try:
            with audited(request, SERVICE, "DeleteAssetFile", asset_id, params):
                aws_config.delete_asset_file(space_id, asset_id, path)
        except (errors.Conflict, errors.Throttled, errors.Unavailable) as exc:
            context["error"] = exc.message
            return render(
                request, "configuration/assets/file_delete.html", context, status=exc.status
            )
        except errors.NotFound:
            pass
        messages.success(request, f"Deleted {path} (earlier versions keep it).")
        return redirect("assets:detail", space_id=space_id, asset_id=asset_id)
    return render(request, "configuration/assets/file_delete.html", context)
