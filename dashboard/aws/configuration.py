"""Account and agent-space configuration (AWS DevOps Agent, `devops-agent`): private
connections, the Operator App, assets and account usage.

Plain dicts as boto3 parsed them, without `ResponseMetadata`. Functions that take a secret
(the IdP client secret) hide every local variable from Django's error reports, theirs and
those of everything they call (`sensitive_variables()`: botocore's frames hold the request
body).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.views.decorators.debug import sensitive_variables

from .clients import call

SERVICE = "devops-agent"

AUTH_FLOWS = ("iam", "idc", "idp")

# --- private connections ---------------------------------------------------------------------


def list_private_connections() -> list[dict[str, Any]]:
    """Every private connection of the account (the API does not page this list)."""
    return call(SERVICE, "ListPrivateConnections").get("privateConnections", [])


def describe_private_connection(name: str) -> dict[str, Any]:
    """The connection, with its `tags`."""
    return call(SERVICE, "DescribePrivateConnection", name=name)


def create_private_connection(
    name: str, mode: dict[str, Any], tags: dict[str, str] | None = None
) -> dict[str, Any]:
    """`mode` is {"serviceManaged": {...}} or {"selfManaged": {...}} as the API takes it."""
    params: dict[str, Any] = {"name": name, "mode": mode}
    if tags:
        params["tags"] = tags
    return call(SERVICE, "CreatePrivateConnection", **params)


def update_private_connection_certificate(name: str, certificate: str) -> dict[str, Any]:
    return call(SERVICE, "UpdatePrivateConnectionCertificate", name=name, certificate=certificate)


def delete_private_connection(name: str) -> dict[str, Any]:
    """{"name", "status"}: deletion is asynchronous (DELETE_IN_PROGRESS)."""
    return call(SERVICE, "DeletePrivateConnection", name=name)


def services_using_connection(name: str) -> list[dict[str, str]]:
    """Registered services that reach their endpoint through the private connection `name`
    (id, type and name only: service details may hold secrets)."""
    out: list[dict[str, str]] = []
    token = None
    for _ in range(50):
        params: dict[str, Any] = {"maxResults": 100}
        if token:
            params["nextToken"] = token
        page = call(SERVICE, "ListServices", **params)
        for service in page.get("services", []):
            if service.get("privateConnectionName") == name:
                out.append(
                    {
                        "serviceId": str(service.get("serviceId", "")),
                        "serviceType": str(service.get("serviceType", "")),
                        "name": str(service.get("name") or ""),
                    }
                )
        token = page.get("nextToken")
        if not token:
            break
    return out


# --- Operator App ----------------------------------------------------------------------------


def get_operator_app(space_id: str) -> dict[str, Any]:
    """{"operatorAppUrl"?, "iam"?, "idc"?, "idp"?}: the flows present are the enabled ones."""
    return call(SERVICE, "GetOperatorApp", agentSpaceId=space_id)


@sensitive_variables()
def enable_operator_app(
    space_id: str,
    auth_flow: str,
    *,
    role_arn: str,
    idc_instance_arn: str = "",
    issuer_url: str = "",
    idp_client_id: str = "",
    idp_client_secret: str = "",
    provider: str = "",
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "agentSpaceId": space_id,
        "authFlow": auth_flow,
        "operatorAppRoleArn": role_arn,
    }
    optional = {
        "idcInstanceArn": idc_instance_arn,
        "issuerUrl": issuer_url,
        "idpClientId": idp_client_id,
        "idpClientSecret": idp_client_secret,
        "provider": provider,
    }
    params.update({k: v for k, v in optional.items() if v})
    return call(SERVICE, "EnableOperatorApp", **params)


def disable_operator_app(space_id: str, auth_flow: str) -> None:
    call(SERVICE, "DisableOperatorApp", agentSpaceId=space_id, authFlow=auth_flow)


@sensitive_variables()
def update_operator_app_idp_secret(space_id: str, idp_client_secret: str) -> dict[str, Any]:
    return call(
        SERVICE,
        "UpdateOperatorAppIdpConfig",
        agentSpaceId=space_id,
        idpClientSecret=idp_client_secret,
    )


# --- assets ----------------------------------------------------------------------------------


def list_asset_types() -> list[dict[str, Any]]:
    """Every asset type the service supports: [{"assetType", "description"}]."""
    out: list[dict[str, Any]] = []
    token = None
    for _ in range(20):  # a handful of types; never loop for ever on an odd answer
        params: dict[str, Any] = {"maxResults": 100}
        if token:
            params["nextToken"] = token
        page = call(SERVICE, "ListAssetTypes", **params)
        out.extend(page.get("items", []))
        token = page.get("nextToken")
        if not token:
            break
    return out


def list_assets(
    space_id: str,
    *,
    asset_type: str = "",
    updated_after: dt.datetime | None = None,
    updated_before: dt.datetime | None = None,
    next_token: str | None = None,
    max_results: int = 50,
) -> dict[str, Any]:
    """One page: {"items": [...], "nextToken": str | None}."""
    params: dict[str, Any] = {"agentSpaceId": space_id, "maxResults": max_results}
    if asset_type:
        params["assetType"] = asset_type
    if updated_after:
        params["updatedAfter"] = updated_after
    if updated_before:
        params["updatedBefore"] = updated_before
    if next_token:
        params["nextToken"] = next_token
    page = call(SERVICE, "ListAssets", **params)
    return {"items": page.get("items", []), "nextToken": page.get("nextToken")}


def _versioned(params: dict[str, Any], version: int | None) -> dict[str, Any]:
    if version:
        params["assetVersion"] = version
    return params


def get_asset(space_id: str, asset_id: str, version: int | None = None) -> dict[str, Any]:
    params = _versioned({"agentSpaceId": space_id, "assetId": asset_id}, version)
    return call(SERVICE, "GetAsset", **params)["asset"]


def create_asset(
    space_id: str,
    *,
    asset_type: str,
    content: dict[str, Any],
    metadata: dict[str, Any] | None = None,
    client_token: str = "",
) -> dict[str, Any]:
    """`content` is the API's AssetContent union: {"file"|"zip"|"sourceUrl": {...}}."""
    params: dict[str, Any] = {"agentSpaceId": space_id, "assetType": asset_type, "content": content}
    if metadata is not None:
        params["metadata"] = metadata
    if client_token:
        params["clientToken"] = client_token
    return call(SERVICE, "CreateAsset", **params)["asset"]


def update_asset(
    space_id: str,
    asset_id: str,
    *,
    metadata: dict[str, Any] | None = None,
    content: dict[str, Any] | None = None,
    client_token: str = "",
) -> dict[str, Any]:
    """Metadata members given are changed, the others kept; content is optional."""
    params: dict[str, Any] = {"agentSpaceId": space_id, "assetId": asset_id}
    if metadata is not None:
        params["metadata"] = metadata
    if content is not None:
        params["content"] = content
    if client_token:
        params["clientToken"] = client_token
    return call(SERVICE, "UpdateAsset", **params)["asset"]


def delete_asset(space_id: str, asset_id: str) -> None:
    call(SERVICE, "DeleteAsset", agentSpaceId=space_id, assetId=asset_id)


def list_asset_versions(
    space_id: str, asset_id: str, *, next_token: str | None = None, max_results: int = 50
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "agentSpaceId": space_id,
        "assetId": asset_id,
        "maxResults": max_results,
    }
    if next_token:
        params["nextToken"] = next_token
    page = call(SERVICE, "ListAssetVersions", **params)
    return {"items": page.get("items", []), "nextToken": page.get("nextToken")}


def list_asset_files(
    space_id: str,
    asset_id: str,
    *,
    version: int | None = None,
    next_token: str | None = None,
    max_results: int = 100,
) -> dict[str, Any]:
    params = _versioned(
        {"agentSpaceId": space_id, "assetId": asset_id, "maxResults": max_results}, version
    )
    if next_token:
        params["nextToken"] = next_token
    page = call(SERVICE, "ListAssetFiles", **params)
    return {"items": page.get("items", []), "nextToken": page.get("nextToken")}


def get_asset_file(
    space_id: str, asset_id: str, path: str, version: int | None = None
) -> dict[str, Any]:
    """The file with its `content` ({"text": str} or {"bytes": bytes})."""
    params = _versioned({"agentSpaceId": space_id, "assetId": asset_id, "path": path}, version)
    return call(SERVICE, "GetAssetFile", **params)["file"]


def get_asset_content(space_id: str, asset_id: str, version: int | None = None) -> dict[str, Any]:
    """{"zip": bytes, "version": int}: every file of the version as one zip."""
    params = _versioned({"agentSpaceId": space_id, "assetId": asset_id}, version)
    answer = call(SERVICE, "GetAssetContent", **params)
    return {"zip": answer["content"]["zipFile"], "version": answer.get("version")}


def create_asset_file(
    space_id: str,
    asset_id: str,
    path: str,
    *,
    content: dict[str, Any],
    metadata: dict[str, Any] | None = None,
    client_token: str = "",
) -> dict[str, Any]:
    """`content` is {"text": str} or {"bytes": bytes}."""
    params: dict[str, Any] = {
        "agentSpaceId": space_id,
        "assetId": asset_id,
        "path": path,
        "content": content,
    }
    if metadata is not None:
        params["metadata"] = metadata
    if client_token:
        params["clientToken"] = client_token
    return call(SERVICE, "CreateAssetFile", **params)["file"]


def update_asset_file(
    space_id: str,
    asset_id: str,
    path: str,
    *,
    content: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    client_token: str = "",
) -> dict[str, Any]:
    params: dict[str, Any] = {"agentSpaceId": space_id, "assetId": asset_id, "path": path}
    if content is not None:
        params["content"] = content
    if metadata is not None:
        params["metadata"] = metadata
    if client_token:
        params["clientToken"] = client_token
    return call(SERVICE, "UpdateAssetFile", **params)["file"]


def delete_asset_file(space_id: str, asset_id: str, path: str) -> None:
    call(SERVICE, "DeleteAssetFile", agentSpaceId=space_id, assetId=asset_id, path=path)


# --- account usage ---------------------------------------------------------------------------


def get_account_usage() -> dict[str, Any]:
    """The monthly metrics ({"limit", "usage"} each, limit -1 = none) and the period."""
    return call(SERVICE, "GetAccountUsage")
