"""Demo configuration for `seed_sandbox`: private connections in every state worth seeing, an
Operator App on two spaces, and assets with versions and files.

Additive and idempotent: each part is seeded once (skipped when the sandbox has some already),
so running it over an existing demo world adds what is missing and nothing twice. Assets are
made through the API (the console's own boto3 client), then their history is moved into the
past so the pages show believable ages.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from django.db import transaction

from dashboard.aws import configuration as api

from . import certs
from .models import (
    AgentSpace,
    Asset,
    AssetFile,
    AssetVersion,
    OperatorAppFlow,
    PrivateConnection,
    Tag,
    UsageLimit,
)

DAY = dt.timedelta(days=1)
ACCOUNT_ROLE = "arn:aws:iam::{account}:role/DevOpsAgentOperator"


def seed(now: dt.datetime, account_id: str, region: str) -> list[str]:
    """Seed what is missing; returns what was added, for the command's output."""
    done = []
    spaces = list(AgentSpace.objects.order_by("created_at", "agent_space_id"))
    if not PrivateConnection.objects.exists():
        done.append(f"{_connections(now, account_id, region)} private connections")
    if spaces and not OperatorAppFlow.objects.exists():
        done.append(f"{_operator_apps(spaces, now, account_id)} Operator App sign-in methods")
    if spaces and not Asset.objects.exists():
        done.append(f"{_assets(spaces[:2], now)} assets")
    if not UsageLimit.objects.exists():
        # A small on-demand limit, so the usage page shows its warning past 80 %.
        UsageLimit.objects.create(metric="monthlyAccountOnDemandHours", limit=4)
        done.append("a 4-hour on-demand usage limit")
    return done


# --- private connections ---------------------------------------------------------------------


@transaction.atomic
def _connections(now: dt.datetime, account_id: str, region: str) -> int:
    def gateway(suffix: str) -> str:
        return f"arn:aws:vpc-lattice:{region}:{account_id}:resourcegateway/rgw-{suffix}"

    rows = [
        PrivateConnection(
            name="grafana-internal",
            connection_type="SERVICE_MANAGED",
            status="ACTIVE",
            host_address="grafana.prod.internal.example.com",
            vpc_id="vpc-0a1b2c3d4e5f67890",
            subnet_ids=["subnet-0a1b2c3d4e5f67891", "subnet-0a1b2c3d4e5f67892"],
            security_group_ids=["sg-0a1b2c3d4e5f67893"],
            ip_address_type="IPV4",
            port_ranges=["443"],
            dns_resolution="IN_VPC",
            resource_gateway_id=gateway("0f1e2d3c4b5a69788"),
            # Expires within the warning window: the list and page say so.
            certificate=certs.demo_pem(
                "grafana.prod.internal.example.com", now - 345 * DAY, now + 18 * DAY
            ),
            created_at=now - 120 * DAY,
            updated_at=now - 120 * DAY,
        ),
        PrivateConnection(
            name="splunk-onprem",
            connection_type="SELF_MANAGED",
            status="ACTIVE",
            resource_configuration_id=(
                f"arn:aws:vpc-lattice:{region}:{account_id}:resourceconfiguration/"
                "rcfg-04d2c1b0a9f8e7d6c"
            ),
            certificate=certs.demo_pem("splunk.corp.example.com", now - 30 * DAY, now + 335 * DAY),
            created_at=now - 60 * DAY,
            updated_at=now - 30 * DAY,
        ),
        PrivateConnection(
            name="gitlab-selfhosted",
            connection_type="SERVICE_MANAGED",
            status="ACTIVE",
            host_address="10.20.4.17",
            vpc_id="vpc-0123abcd",
            subnet_ids=["subnet-0123abcd"],
            ip_address_type="IPV4",
            port_ranges=["443", "8443-8444"],
            dns_resolution="PUBLIC",
            resource_gateway_id=gateway("1a2b3c4d5e6f70819"),
            created_at=now - 14 * DAY,
            updated_at=now - 14 * DAY,
        ),
        PrivateConnection(
            name="mcp-tools",
            connection_type="SERVICE_MANAGED",
            status="CREATE_FAILED",
            failure_message=(
                "The resource gateway in vpc-0f9e8d7c could not resolve mcp.tools.invalid "
                "(NXDOMAIN). Check the host name and the VPC's DNS settings."
            ),
            host_address="mcp.tools.invalid",
            vpc_id="vpc-0f9e8d7c",
            subnet_ids=["subnet-0f9e8d7c"],
            ip_address_type="IPV4",
            dns_resolution="PUBLIC",
            resource_gateway_id=gateway("9f8e7d6c5b4a39281"),
            created_at=now - 2 * DAY,
            updated_at=now - 2 * DAY,
        ),
    ]
    for row in rows:
        if row.certificate:
            row.certificate_expires_at = certs.expiry(row.certificate)
    PrivateConnection.objects.bulk_create(rows)
    tags = {
        "grafana-internal": {"team": "observability", "env": "prod"},
        "splunk-onprem": {"team": "security"},
    }
    for name, pairs in tags.items():
        arn = f"arn:aws:aidevops:{region}:{account_id}:private-connection/{name}"
        Tag.objects.bulk_create(Tag(resource_arn=arn, key=k, value=v) for k, v in pairs.items())
    return len(rows)


# --- Operator App ----------------------------------------------------------------------------


@transaction.atomic
def _operator_apps(spaces: list[AgentSpace], now: dt.datetime, account_id: str) -> int:
    role = ACCOUNT_ROLE.format(account=account_id)
    flows = [
        OperatorAppFlow(space=spaces[0], auth_flow="iam", role_arn=role, created_at=now - 40 * DAY),
        OperatorAppFlow(
            space=spaces[0],
            auth_flow="idp",
            role_arn=role,
            issuer_url="https://acme.okta.com/oauth2/default",
            client_id="0oa7demo5Operator1d7",
            provider="Okta",
            # The seed keeps no secret at all: only a fingerprint of a throwaway value.
            client_secret_sha256="0" * 64,
            created_at=now - 35 * DAY,
            updated_at=now - 3 * DAY,
        ),
    ]
    if len(spaces) > 1:
        flows.append(
            OperatorAppFlow(
                space=spaces[1],
                auth_flow="idc",
                role_arn=role,
                idc_instance_arn="arn:aws:sso:::instance/ssoins-72230fd1a5b2c3d4",
                idc_application_arn=(
                    f"arn:aws:sso::{account_id}:application/ssoins-72230fd1a5b2c3d4/"
                    "apl-5c1d0e2f3a4b6c7d"
                ),
                created_at=now - 20 * DAY,
            )
        )
    OperatorAppFlow.objects.bulk_create(flows)
    return len(flows)


# --- assets ----------------------------------------------------------------------------------

SKILL_MD = """---
name: rds-failover
description: How the payments team fails over the ledger database, and when not to.
---

# RDS failover for the ledger database

Use this skill when an investigation points at `{db}` (connection exhaustion, replica lag,
storage full) and the primary is unhealthy.

1. Confirm the primary is really unhealthy: `DatabaseConnections` near `max_connections`
   **and** failing health checks for 5 minutes.
2. Check replica lag on the standby (`ReplicaLag` < 30 s). Never fail over with more lag.
3. Ask for approval before `rds:FailoverDBCluster`: the on-call DBA must agree.
4. After failover, watch `payments-api` p99 latency for 15 minutes.
"""

RUNBOOK_MD = """# Ledger database runbook

- Owner: payments SRE (#pay-sre)
- Dashboards: Grafana, Payments, Ledger DB
- Known issue: batch settlement at 02:00 UTC opens 400 extra connections for ~10 minutes.
"""

AGENTS_MD = """# Guidance for the agent in this space

- Prefer read-only AWS calls; ask before anything that changes production.
- Payments incidents page #pay-sre; mention the ticket in every summary.
- Time zone for reports: UTC. Use 24-hour times.
- Our service names: payments-api, ledger-writer, settlement-batch.
"""


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return buffer.getvalue()


def _png_like() -> bytes:
    # A small binary file (a PNG header and noise) for the hex view.
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 3


def _log_excerpt() -> str:
    lines = []
    for n in range(4000):
        lines.append(
            f"2026-05-03T02:{n // 60 % 60:02d}:{n % 60:02d}Z ledger-writer[{4000 + n % 7}] "
            f"WARN pool exhausted: waited {120 + n % 900} ms for a connection (active=400 idle=0)"
        )
    return "\n".join(lines) + "\n"


def _assets(spaces: list[AgentSpace], now: dt.datetime) -> int:
    count = 0
    first = spaces[0].pk
    skill = api.create_asset(
        first,
        asset_type="skill",
        metadata={"name": "rds-failover", "description": "Failing over the ledger database"},
        content={"zip": {"zipFile": _zip({"SKILL.md": SKILL_MD.format(db="ledger-db").encode()})}},
    )
    api.create_asset_file(
        first, skill["assetId"], "references/runbook.md", content={"text": RUNBOOK_MD}
    )
    api.update_asset(
        first,
        skill["assetId"],
        metadata={"description": "How the payments team fails over the ledger database"},
    )
    api.create_asset(
        first,
        asset_type="agents_md",
        metadata={"name": "Payments guidance"},
        content={"file": {"path": "AGENTS.md", "body": {"text": AGENTS_MD}}},
    )
    attachment = api.create_asset(
        first,
        asset_type="attachment",
        metadata={"name": "Ledger incident 2026-05-03", "description": "Logs and the diagram"},
        content={"file": {"path": "ledger-writer.log", "body": {"text": _log_excerpt()}}},
    )
    api.create_asset_file(
        first, attachment["assetId"], "diagram.png", content={"bytes": _png_like()}
    )
    api.create_asset_file(
        first,
        attachment["assetId"],
        "connections.csv",
        content={"text": "time,active,idle\n02:00,180,40\n02:05,400,0\n02:15,210,30\n"},
    )
    count += 3
    if len(spaces) > 1:
        api.create_asset(
            spaces[1].pk,
            asset_type="agents_md",
            metadata={"name": "Checkout guidance"},
            content={
                "file": {
                    "path": "AGENTS.md",
                    "body": {
                        "text": "# Checkout\n\nCloudFront first, then ECS. Page #web-oncall.\n"
                    },
                }
            },
        )
        count += 1
    _backdate(now)
    return count


@transaction.atomic
def _backdate(now: dt.datetime) -> None:
    """Spread each seeded asset's versions over the last weeks (the API stamps them now)."""
    for index, asset in enumerate(Asset.objects.order_by("created_at", "asset_id")):
        start = now - (30 - 6 * index) * DAY
        versions = list(AssetVersion.objects.filter(asset=asset).order_by("version"))
        for step, version in enumerate(versions):
            at = start + step * 3 * DAY
            AssetVersion.objects.filter(pk=version.pk).update(created_at=at)
            for file in AssetFile.objects.filter(asset=asset, from_version=version.version):
                created = file.created_at if file.created_at < at else at
                AssetFile.objects.filter(pk=file.pk).update(updated_at=at, created_at=created)
        last = start + (len(versions) - 1) * 3 * DAY
        Asset.objects.filter(pk=asset.pk).update(created_at=start, updated_at=last)
