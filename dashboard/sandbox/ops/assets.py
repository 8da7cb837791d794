"""AWS DevOps Agent (`devops-agent`): assets of an agent space, their versions and files.

Every change makes a new version of the asset: UpdateAsset (metadata merged member by member,
a member set to null removed; content as the API describes: a file adds or replaces one file,
a zip replaces all files, a source URL re-imports), and CreateAssetFile / UpdateAssetFile /
DeleteAssetFile. Older versions stay readable (GetAsset, ListAssetFiles, GetAssetFile and
GetAssetContent take `assetVersion`). A clientToken repeated on a create or change answers the
result of the first call instead of changing anything again.

The sandbox has no internet: a `sourceUrl` import records the URL and writes one README.md
saying where the content would come from. Skills need `name` and `description` in their
metadata (as SKILL.md front matter does). Limits: `MAX_FILES` files and `MAX_BYTES` of content
per version (ServiceQuotaExceededException / ContentSizeExceededException).
"""

from __future__ import annotations

import io
import uuid
import zipfile
from typing import Any

import regex
from django.db.models import Q, QuerySet
from django.utils import timezone

from ..models import AgentSpace, Asset, AssetFile, AssetVersion
from ..wire import Context, SandboxError, operation
from .paging import page

SERVICE = "devops-agent"

ASSET_TYPES = (
    (
        "skill",
        "Instructions and reference files the agent loads when a task matches the skill "
        "(metadata: name and description).",
    ),
    ("agents_md", "An AGENTS.md file: standing guidance for every task in the agent space."),
    ("attachment", "Reference material the agent may read: runbooks, diagrams, exports."),
    ("custom_agent", "A custom agent definition: its instructions and the tools it may use."),
    ("test_profile", "Settings and fixtures for evaluating the agent against known incidents."),
    ("feedback", "Feedback on the agent's work that it takes into account next time."),
)
TYPES = {name for name, _ in ASSET_TYPES}
MAX_FILES = 200
MAX_BYTES = 6291456
_TOKENS_KEPT = 20
_PATH = regex.compile(r"[a-zA-Z0-9_./ ()-]+")


# --- reading ---------------------------------------------------------------------------------


def _space(space_id: str) -> AgentSpace:
    space = AgentSpace.objects.filter(pk=space_id).first()
    if space is None:
        raise SandboxError("ResourceNotFoundException", f"Agent space {space_id} was not found")
    return space


def _asset_row(space: AgentSpace, asset_id: str) -> Asset:
    asset = Asset.objects.filter(space=space, pk=asset_id).first()
    if asset is None:
        raise SandboxError("ResourceNotFoundException", f"Asset {asset_id} was not found")
    return asset


def _version_row(asset: Asset, version: int | None) -> AssetVersion:
    row = AssetVersion.objects.filter(asset=asset, version=version or asset.version).first()
    if row is None:
        raise SandboxError(
            "ResourceNotFoundException", f"Asset {asset.pk} has no version {version}"
        )
    return row


def _shape(asset: Asset, row: AssetVersion) -> dict[str, Any]:
    latest = row.version == asset.version
    return {
        "assetId": asset.pk,
        "assetType": asset.asset_type,
        "metadata": row.metadata or {},
        "version": row.version,
        "createdAt": asset.created_at,
        "updatedAt": asset.updated_at if latest else row.created_at,
    }


def _files_at(asset: Asset, version: int) -> QuerySet[AssetFile]:
    return AssetFile.objects.filter(asset=asset, from_version__lte=version).filter(
        Q(to_version__isnull=True) | Q(to_version__gt=version)
    )


def _content(file: AssetFile) -> dict[str, Any]:
    if file.is_text:
        return {"text": file.text}
    return {"bytes": bytes(file.data or b"")}


def _file_summary(file: AssetFile) -> dict[str, Any]:
    return {
        "path": file.path,
        "metadata": file.metadata,
        "version": file.from_version,
        "createdAt": file.created_at,
        "updatedAt": file.updated_at,
    }


def _file_shape(file: AssetFile) -> dict[str, Any]:
    return {**_file_summary(file), "content": _content(file)}


# --- writing ---------------------------------------------------------------------------------


def _invalid(path: str, message: str) -> SandboxError:
    return SandboxError(
        "ValidationException", message, fieldList=[{"path": path, "message": message}]
    )


def _object(value: Any, path: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _invalid(path, f"{path} must be a JSON object")
    return value


def _merge(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _body(body: dict[str, Any], path: str) -> tuple[bool, str, bytes]:
    """(is_text, text, data) of an AssetFileBody union."""
    present = [k for k in ("text", "bytes") if body.get(k) is not None]
    if len(present) != 1:
        raise _invalid(path, f"{path} must set exactly one of text or bytes")
    if present[0] == "text":
        return True, body["text"], b""
    return False, "", bytes(body["bytes"])


def _size(is_text: bool, text: str, data: bytes) -> int:
    return len(text.encode()) if is_text else len(data)


def _check_path(path: str, where: str) -> None:
    if not path or len(path) > 512 or not _PATH.fullmatch(path) or ".." in path.split("/"):
        raise _invalid(where, f"{path!r} is not a valid asset file path")


class _Change:
    """One new version of an asset: the file rows it closes and opens, then saved together."""

    def __init__(self, asset: Asset, metadata: dict[str, Any]) -> None:
        self.asset = asset
        self.now = timezone.now()
        self.version = asset.version + 1 if asset.pk and asset.version else 1
        self.metadata = metadata
        self.live = {f.path: f for f in _files_at(asset, asset.version)} if asset.version else {}
        self.closed: list[AssetFile] = []
        self.opened: dict[str, AssetFile] = {}

    def put(
        self, path: str, is_text: bool, text: str, data: bytes, metadata: Any, where: str
    ) -> AssetFile:
        _check_path(path, where)
        old = self.live.pop(path, None) or self.opened.pop(path, None)
        if old is not None and old.pk:
            self.closed.append(old)
        row = AssetFile(
            asset=self.asset,
            path=path,
            is_text=is_text,
            text=text if is_text else "",
            data=None if is_text else data,
            size=_size(is_text, text, data),
            metadata=metadata,
            from_version=self.version,
            created_at=old.created_at if old is not None else self.now,
            updated_at=self.now,
        )
        self.opened[path] = row
        return row

    def remove(self, path: str) -> None:
        old = self.live.pop(path)
        self.closed.append(old)

    def clear(self) -> None:
        for path in list(self.live):
            self.remove(path)

    def apply_content(self, content: dict[str, Any]) -> None:
        present = [k for k in ("file", "zip", "sourceUrl") if content.get(k) is not None]
        if len(present) != 1:
            raise _invalid("content", "content must set exactly one of file, zip or sourceUrl")
        if "file" in present:
            file = content["file"]
            is_text, text, data = _body(file["body"], "content.file.body")
            self.put(file["path"], is_text, text, data, file.get("metadata"), "content.file.path")
        elif "zip" in present:
            self.clear()
            for path, data in _unzip(content["zip"]["zipFile"]):
                try:
                    text = data.decode()
                    is_text = "\x00" not in text
                except UnicodeDecodeError:
                    text, is_text = "", False
                self.put(path, is_text, text if is_text else "", data, None, "content.zip")
        else:
            url = content["sourceUrl"]["url"]
            self.clear()
            note = (
                f"# Imported from {url}\n\nThe sandbox cannot reach the internet, so it keeps "
                "this note instead of the files the service would import from the URL.\n"
            )
            self.put("README.md", True, note, b"", {"sourceUrl": url}, "content.sourceUrl")
            self.metadata = {**self.metadata, "sourceUrl": url}

    def save(self, token: str = "") -> None:
        files = {**self.live, **self.opened}
        if len(files) > MAX_FILES:
            raise SandboxError(
                "ServiceQuotaExceededException", f"An asset holds at most {MAX_FILES} files"
            )
        total = sum(f.size for f in files.values())
        if total > MAX_BYTES:
            raise SandboxError(
                "ContentSizeExceededException",
                f"The asset's files would hold {total} bytes; the limit is {MAX_BYTES}.",
            )
        asset = self.asset
        asset.version = self.version
        asset.updated_at = self.now
        if token:
            tokens = dict(asset.change_tokens or {})
            tokens[token] = self.version
            asset.change_tokens = dict(list(tokens.items())[-_TOKENS_KEPT:])
        asset.save()
        AssetVersion.objects.create(
            asset=asset, version=self.version, metadata=self.metadata, created_at=self.now
        )
        for row in self.closed:
            row.to_version = self.version
            row.save(update_fields=["to_version"])
        AssetFile.objects.bulk_create(self.opened.values())


def _unzip(data: bytes) -> list[tuple[str, bytes]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [i for i in archive.infolist() if not i.is_dir()]
        if len(members) > MAX_FILES:
            raise SandboxError(
                "ServiceQuotaExceededException", f"An asset holds at most {MAX_FILES} files"
            )
        if sum(i.file_size for i in members) > MAX_BYTES:
            raise SandboxError(
                "ContentSizeExceededException", f"The zip unpacks to more than {MAX_BYTES} bytes"
            )
        return [(i.filename, archive.read(i)) for i in members]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        raise _invalid("content.zip.zipFile", "zipFile is not a readable zip archive") from None


def _check_skill(asset_type: str, metadata: dict[str, Any]) -> None:
    if asset_type != "skill":
        return
    for member in ("name", "description"):
        if not isinstance(metadata.get(member), str) or not metadata[member].strip():
            raise _invalid(f"metadata.{member}", f"A skill's metadata needs a {member}")


def _replayed(asset: Asset, token: str) -> int | None:
    return (asset.change_tokens or {}).get(token) if token else None


# --- operations ------------------------------------------------------------------------------


@operation(SERVICE, "ListAssetTypes")
def list_asset_types(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    items = [{"assetType": name, "description": text} for name, text in ASSET_TYPES]
    rows, token = page(items, params.get("nextToken"), params.get("maxResults"), "ListAssetTypes")  # type: ignore[arg-type]
    return {"items": rows, "nextToken": token}


@operation(SERVICE, "ListAssets")
def list_assets(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = _space(params["agentSpaceId"])
    assets = Asset.objects.filter(space=space).order_by("created_at", "asset_id")
    if params.get("assetType"):
        assets = assets.filter(asset_type=params["assetType"])
    if params.get("updatedAfter"):
        assets = assets.filter(updated_at__gt=params["updatedAfter"])
    if params.get("updatedBefore"):
        assets = assets.filter(updated_at__lt=params["updatedBefore"])
    scope = f"ListAssets:{space.pk}:{params.get('assetType', '')}"
    rows, token = page(assets, params.get("nextToken"), params.get("maxResults"), scope)
    versions = (
        {
            (v.asset_id, v.version): v
            for v in AssetVersion.objects.filter(
                Q(*[Q(asset_id=a.pk, version=a.version) for a in rows], _connector=Q.OR)
            )
        }
        if rows
        else {}
    )
    return {
        "items": [_shape(a, versions[(a.pk, a.version)]) for a in rows],
        "nextToken": token,
    }


@operation(SERVICE, "GetAsset")
def get_asset(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    asset = _asset_row(_space(params["agentSpaceId"]), params["assetId"])
    return {"asset": _shape(asset, _version_row(asset, params.get("assetVersion")))}


@operation(SERVICE, "CreateAsset")
def create_asset(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    space = _space(params["agentSpaceId"])
    token = params.get("clientToken") or ""
    if token:
        existing = Asset.objects.filter(space=space, client_token=token).first()
        if existing is not None:
            return {"asset": _shape(existing, _version_row(existing, 1))}
    asset_type = params["assetType"]
    if asset_type not in TYPES:
        raise _invalid(
            "assetType", f"{asset_type} is not an asset type ({', '.join(sorted(TYPES))})"
        )
    metadata = _object(params.get("metadata"), "metadata")
    now = timezone.now()
    asset = Asset(
        asset_id=str(uuid.uuid4()),
        space=space,
        asset_type=asset_type,
        version=0,
        client_token=token,
        created_at=now,
        updated_at=now,
    )
    change = _Change(asset, metadata)
    change.apply_content(params["content"])
    _check_skill(asset_type, change.metadata)
    asset.save(force_insert=True)
    change.save()
    return {"asset": _shape(asset, _version_row(asset, 1))}


@operation(SERVICE, "UpdateAsset")
def update_asset(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    asset = _asset_row(_space(params["agentSpaceId"]), params["assetId"])
    token = params.get("clientToken") or ""
    replayed = _replayed(asset, token)
    if replayed is not None:
        return {"asset": _shape(asset, _version_row(asset, replayed))}
    if params.get("metadata") is None and params.get("content") is None:
        raise _invalid("metadata", "Give metadata, content or both to update")
    current = _version_row(asset, None)
    metadata = _merge(current.metadata or {}, _object(params.get("metadata"), "metadata"))
    change = _Change(asset, metadata)
    if params.get("content") is not None:
        change.apply_content(params["content"])
    _check_skill(asset.asset_type, change.metadata)
    change.save(token)
    return {"asset": _shape(asset, _version_row(asset, None))}


@operation(SERVICE, "DeleteAsset")
def delete_asset(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    _asset_row(_space(params["agentSpaceId"]), params["assetId"]).delete()
    return {}


@operation(SERVICE, "ListAssetVersions")
def list_asset_versions(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    asset = _asset_row(_space(params["agentSpaceId"]), params["assetId"])
    versions = AssetVersion.objects.filter(asset=asset).order_by("-version")
    rows, token = page(
        versions, params.get("nextToken"), params.get("maxResults"), f"Versions:{asset.pk}"
    )
    items = [
        {"version": v.version, "createdAt": v.created_at, "updatedAt": v.created_at} for v in rows
    ]
    return {"items": items, "nextToken": token}


@operation(SERVICE, "ListAssetFiles")
def list_asset_files(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    asset = _asset_row(_space(params["agentSpaceId"]), params["assetId"])
    version = _version_row(asset, params.get("assetVersion")).version
    files = _files_at(asset, version).order_by("path").defer("text", "data")
    scope = f"Files:{asset.pk}:{version}"
    rows, token = page(files, params.get("nextToken"), params.get("maxResults"), scope)
    return {"items": [_file_summary(f) for f in rows], "nextToken": token}


def _file_row(asset: Asset, path: str, version: int | None = None) -> AssetFile:
    at = _version_row(asset, version).version
    row = _files_at(asset, at).filter(path=path).first()
    if row is None:
        raise SandboxError(
            "ResourceNotFoundException", f"Asset {asset.pk} has no file {path} in version {at}"
        )
    return row


@operation(SERVICE, "GetAssetFile")
def get_asset_file(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    asset = _asset_row(_space(params["agentSpaceId"]), params["assetId"])
    return {"file": _file_shape(_file_row(asset, params["path"], params.get("assetVersion")))}


@operation(SERVICE, "GetAssetContent")
def get_asset_content(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    asset = _asset_row(_space(params["agentSpaceId"]), params["assetId"])
    version = _version_row(asset, params.get("assetVersion")).version
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in _files_at(asset, version).order_by("path"):
            archive.writestr(file.path, file.text if file.is_text else bytes(file.data or b""))
    return {"content": {"zipFile": buffer.getvalue()}, "version": version}


@operation(SERVICE, "CreateAssetFile")
def create_asset_file(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    asset = _asset_row(_space(params["agentSpaceId"]), params["assetId"])
    path = params["path"]
    token = params.get("clientToken") or ""
    replayed = _replayed(asset, token)
    if replayed is not None:
        return {"file": _file_shape(_file_row(asset, path, replayed))}
    if _files_at(asset, asset.version).filter(path=path).exists():
        raise SandboxError("ConflictException", f"Asset {asset.pk} already has a file {path}")
    change = _Change(asset, _version_row(asset, None).metadata)
    is_text, text, data = _body(params["content"], "content")
    row = change.put(path, is_text, text, data, params.get("metadata"), "path")
    change.save(token)
    return {"file": _file_shape(row)}


@operation(SERVICE, "UpdateAssetFile")
def update_asset_file(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    asset = _asset_row(_space(params["agentSpaceId"]), params["assetId"])
    path = params["path"]
    token = params.get("clientToken") or ""
    replayed = _replayed(asset, token)
    if replayed is not None:
        return {"file": _file_shape(_file_row(asset, path, replayed))}
    current = _file_row(asset, path)
    if params.get("content") is None and params.get("metadata") is None:
        raise _invalid("content", "Give content, metadata or both to update")
    if params.get("content") is not None:
        is_text, text, data = _body(params["content"], "content")
    else:
        is_text, text, data = current.is_text, current.text, bytes(current.data or b"")
    metadata = current.metadata
    if params.get("metadata") is not None:
        metadata = _merge(current.metadata or {}, _object(params["metadata"], "metadata"))
    change = _Change(asset, _version_row(asset, None).metadata)
    row = change.put(path, is_text, text, data, metadata, "path")
    change.save(token)
    return {"file": _file_shape(row)}


@operation(SERVICE, "DeleteAssetFile")
def delete_asset_file(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    asset = _asset_row(_space(params["agentSpaceId"]), params["assetId"])
    _file_row(asset, params["path"])
    change = _Change(asset, _version_row(asset, None).metadata)
    change.remove(params["path"])
    change.save()
    return {}
