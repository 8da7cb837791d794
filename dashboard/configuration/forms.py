"""Forms of the configuration pages, checked against the botocore model before AWS sees them.

Top-level members use `model_field`; members of nested structures (ServiceManagedInput,
AssetFileContent, ...) use `shape_field`, the same thing for a member of a named shape.
Secrets (the IdP client secret) are PasswordInputs that never render a value back.
"""

from __future__ import annotations

from typing import Any

import regex
from django import forms

from dashboard.aws.configuration import SERVICE
from dashboard.aws.model import Constraint, service_model, shape_constraint
from dashboard.core.forms import model_field, model_validator, read_json

PRIVATE_KEY = regex.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
PEM_CERTIFICATE = regex.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", regex.S)
_SPLIT = regex.compile(r"[\s,]+")
# What a request body may carry besides files (Django's DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB):
# longer text must be uploaded as a file.
TEXT_LIMIT = 2_000_000


def member_constraint(shape: str, member: str) -> Constraint:
    structure = service_model(SERVICE).shape_for(shape)
    return shape_constraint(member, structure.members[member], member in structure.required_members)


def shape_field(
    shape: str,
    member: str,
    *,
    label: str,
    help_text: str = "",
    required: bool = False,
    widget: forms.Widget | None = None,
) -> forms.Field:
    """A field for `member` of the structure `shape` (required only when the form says so:
    nested members are required only within their branch of a union)."""
    constraint = member_constraint(shape, member)
    kwargs: dict[str, Any] = {
        "label": label,
        "required": required,
        "help_text": help_text or constraint.documentation,
        "validators": [model_validator(constraint)],
    }
    if constraint.type in ("integer", "long"):
        return forms.IntegerField(min_value=constraint.min, max_value=constraint.max, **kwargs)
    if constraint.enum:
        choices = [("", "Service default"), *((v, v) for v in constraint.enum)]
        return forms.ChoiceField(choices=choices, **kwargs)
    return forms.CharField(max_length=constraint.max, strip=True, widget=widget, **kwargs)


def _list_items(value: str) -> list[str]:
    return [item for item in _SPLIT.split(value or "") if item]


class ListField(forms.CharField):
    """Several values typed into one box (commas, spaces or lines between them), each checked
    against the model's member shape, the list against its min/max."""

    def __init__(self, shape: str, member: str, **kwargs: Any) -> None:
        structure = service_model(SERVICE).shape_for(shape)
        list_shape = structure.members[member]
        self.item = shape_constraint(member, list_shape.member, required=True)
        self.min_items = list_shape.metadata.get("min")
        self.max_items = list_shape.metadata.get("max")
        kwargs.setdefault("help_text", shape_constraint(member, list_shape).documentation)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().clean(value)
        items = _list_items(text)
        if not items:
            return []
        problems = []
        for item in items:
            for message in self.item.errors(item):
                problems.append(f"{item}: {message}")
        if self.min_items and len(items) < self.min_items:
            problems.append(f"Give at least {self.min_items}.")
        if self.max_items and len(items) > self.max_items:
            problems.append(f"Give at most {self.max_items} (this has {len(items)}).")
        if len(set(items)) != len(items):
            problems.append("Each value once, please.")
        if problems:
            raise forms.ValidationError(problems)
        return items


def check_certificate(value: str) -> str:
    """The PEM certificate text, or a ValidationError a person can act on."""
    if PRIVATE_KEY.search(value):
        raise forms.ValidationError(
            "This contains a private key. Paste the certificate only (the -----BEGIN "
            "CERTIFICATE----- block); the key was not sent and is not kept."
        )
    if not PEM_CERTIFICATE.search(value):
        raise forms.ValidationError(
            "Paste a PEM certificate: the text from -----BEGIN CERTIFICATE----- to "
            "-----END CERTIFICATE-----."
        )
    return value.strip() + "\n"


class CertificateMixin:
    """A certificate field that is never sent back to the browser with a private key in it:
    views call `strip_private_key()` after validating, before rendering the form again."""

    def strip_private_key(self) -> None:
        form: Any = self
        value = form.data.get("certificate", "") if form.is_bound else ""
        if value and PRIVATE_KEY.search(value):
            data = form.data.copy()
            data["certificate"] = ""
            form.data = data


def _certificate_field(required: bool) -> forms.CharField:
    constraint = member_constraint("UpdatePrivateConnectionCertificateInput", "certificate")
    return forms.CharField(
        label="Certificate",
        required=required,
        max_length=constraint.max,
        strip=True,
        widget=forms.Textarea(
            attrs={"rows": 6, "spellcheck": "false", "class": "mono", "autocomplete": "off"}
        ),
        validators=[model_validator(constraint)],
        help_text="PEM text, -----BEGIN CERTIFICATE----- … -----END CERTIFICATE----- (a chain "
        "may hold several). The certificate only: never paste a private key.",
    )


# --- private connections ---------------------------------------------------------------------

MODES = [
    ("SERVICE_MANAGED", "Service-managed: AWS creates a resource gateway in your VPC"),
    ("SELF_MANAGED", "Self-managed: use a VPC Lattice resource configuration you manage"),
]


class PrivateConnectionForm(CertificateMixin, forms.Form):
    name = model_field(
        SERVICE,
        "CreatePrivateConnection",
        "name",
        label="Name",
        help_text="3 to 30 lower-case letters, digits and hyphens, unique in the account. Services "
        "refer to the connection by this name; it cannot be changed later.",
    )
    mode = forms.ChoiceField(label="Type", choices=MODES, widget=forms.RadioSelect)
    host_address = shape_field(
        "ServiceManagedInput",
        "hostAddress",
        label="Host address",
        help_text="IP address or DNS name of the target, e.g. grafana.internal.example.com.",
    )
    vpc_id = shape_field(
        "ServiceManagedInput", "vpcId", label="VPC", help_text="e.g. vpc-0a1b2c3d4e5f67890"
    )
    subnet_ids = ListField(
        "ServiceManagedInput",
        "subnetIds",
        label="Subnets",
        required=False,
        help_text="1 to 20 subnet ids, separated by commas or spaces. The gateway spans them.",
    )
    security_group_ids = ListField(
        "ServiceManagedInput",
        "securityGroupIds",
        label="Security groups",
        required=False,
        help_text="Up to 5. Leave empty and AWS creates a default security group.",
    )
    port_ranges = ListField(
        "ServiceManagedInput",
        "portRanges",
        label="Ports",
        required=False,
        help_text="TCP ports or ranges the agent may use, e.g. 443, 8080-8090 (up to 11).",
    )
    ip_address_type = shape_field("ServiceManagedInput", "ipAddressType", label="IP address type")
    ipv4_addresses_per_eni = shape_field(
        "ServiceManagedInput",
        "ipv4AddressesPerEni",
        label="IPv4 addresses per network interface",
        help_text="1 to 62; leave empty for the service default.",
    )
    dns_resolution = shape_field(
        "ServiceManagedInput",
        "dnsResolution",
        label="DNS resolution",
        help_text="PUBLIC (the default) resolves the host with public DNS; IN_VPC resolves it "
        "inside your VPC (private hosted zones).",
    )
    resource_configuration_id = shape_field(
        "SelfManagedInput",
        "resourceConfigurationId",
        label="Resource configuration",
        help_text="The ARN or id (rcfg-…) of your VPC Lattice resource configuration.",
    )
    certificate = _certificate_field(required=False)

    REQUIRED = {
        "SERVICE_MANAGED": ("host_address", "vpc_id", "subnet_ids"),
        "SELF_MANAGED": ("resource_configuration_id",),
    }
    # The API's member paths (ValidationException fieldList) to this form's fields.
    AWS_FIELDS = {
        "name": "name",
        "mode.serviceManaged.hostAddress": "host_address",
        "mode.serviceManaged.vpcId": "vpc_id",
        "mode.serviceManaged.subnetIds": "subnet_ids",
        "mode.serviceManaged.securityGroupIds": "security_group_ids",
        "mode.serviceManaged.portRanges": "port_ranges",
        "mode.serviceManaged.ipAddressType": "ip_address_type",
        "mode.serviceManaged.ipv4AddressesPerEni": "ipv4_addresses_per_eni",
        "mode.serviceManaged.dnsResolution": "dns_resolution",
        "mode.serviceManaged.certificate": "certificate",
        "mode.selfManaged.resourceConfigurationId": "resource_configuration_id",
        "mode.selfManaged.certificate": "certificate",
        "certificate": "certificate",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update(
            autofocus=True, autocomplete="off", spellcheck="false"
        )
        for name in ("vpc_id", "subnet_ids", "security_group_ids", "port_ranges"):
            self.fields[name].widget.attrs.update(autocomplete="off", spellcheck="false")
        for names in self.REQUIRED.values():
            for name in names:
                # Required within its type of connection: marked, checked in clean().
                self.fields[name].required_here = True  # type: ignore[attr-defined]
        self.fields["certificate"].label = "Certificate (optional)"
        if not self.is_bound:
            self.initial.setdefault("mode", "SERVICE_MANAGED")

    def clean_certificate(self) -> str:
        value = self.cleaned_data.get("certificate") or ""
        return check_certificate(value) if value else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        mode = data.get("mode")
        for name in self.REQUIRED.get(str(mode), ()):
            if name not in self.errors and not data.get(name):
                self.add_error(name, "Required for this type of connection.")
        for text in data.get("port_ranges") or []:
            low, _, high = text.partition("-")
            if not (1 <= int(low) <= int(high or low) <= 65535):
                self.add_error("port_ranges", f"{text}: ports run from 1 to 65535, low-high.")
        return data

    def mode_params(self) -> dict[str, Any]:
        """The API's `mode` union for the chosen type."""
        data = self.cleaned_data
        if data["mode"] == "SELF_MANAGED":
            inner: dict[str, Any] = {"resourceConfigurationId": data["resource_configuration_id"]}
            if data.get("certificate"):
                inner["certificate"] = data["certificate"]
            return {"selfManaged": inner}
        inner = {
            "hostAddress": data["host_address"],
            "vpcId": data["vpc_id"],
            "subnetIds": data["subnet_ids"],
        }
        optional = {
            "securityGroupIds": data.get("security_group_ids"),
            "portRanges": data.get("port_ranges"),
            "ipAddressType": data.get("ip_address_type"),
            "ipv4AddressesPerEni": data.get("ipv4_addresses_per_eni"),
            "dnsResolution": data.get("dns_resolution"),
            "certificate": data.get("certificate"),
        }
        inner.update({k: v for k, v in optional.items() if v})
        return {"serviceManaged": inner}


class CertificateForm(CertificateMixin, forms.Form):
    certificate = _certificate_field(required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["certificate"].widget.attrs["autofocus"] = True

    def clean_certificate(self) -> str:
        return check_certificate(self.cleaned_data["certificate"])


# --- Operator App ----------------------------------------------------------------------------

FLOWS = {
    "iam": {
        "label": "IAM",
        "title": "IAM (AWS sign-in)",
        "about": "People sign in with their AWS credentials and assume the Operator App role.",
    },
    "idc": {
        "label": "IAM Identity Center",
        "title": "IAM Identity Center",
        "about": "People sign in through your IAM Identity Center instance (AWS SSO).",
    },
    "idp": {
        "label": "External identity provider",
        "title": "External identity provider (OIDC)",
        "about": "People sign in with your OpenID Connect provider (Okta, Entra ID, Google, …).",
    },
}
PROVIDERS = ["Okta", "Entra", "Google", "Auth0", "Ping Identity", "OneLogin", "Keycloak"]
_HTTPS_URL = regex.compile(r"https://[A-Za-z0-9.-]+(:\d{1,5})?(/[^\s]*)?")
_IDC_INSTANCE = regex.compile(r"arn:aws[a-z-]*:sso:::instance/(sso)?ins-[A-Za-z0-9.-]{16}")


def _secret_input() -> forms.PasswordInput:
    # render_value=False is PasswordInput's default, spelled out: a bound form with errors must
    # not send the secret back to the browser.
    return forms.PasswordInput(
        render_value=False, attrs={"autocomplete": "new-password", "spellcheck": "false"}
    )


def secret_field(required: bool, *, keeping: bool = False) -> forms.CharField:
    constraint = member_constraint("EnableOperatorAppInput", "idpClientSecret")
    help_text = "Write-only: the console never shows it again."
    if keeping:
        help_text = "Leave blank to keep the current secret. " + help_text
    return forms.CharField(
        label="Client secret",
        required=required,
        strip=False,
        max_length=constraint.max,
        widget=_secret_input(),
        validators=[model_validator(constraint)],
        help_text=help_text,
    )


class EnableFlowForm(forms.Form):
    """EnableOperatorApp for one flow; the fields that flow does not use are removed."""

    role_arn = model_field(
        SERVICE,
        "EnableOperatorApp",
        "operatorAppRoleArn",
        label="Operator App role",
        help_text="The IAM role people assume to use the agent through the Operator App, e.g. "
        "arn:aws:iam::123456789012:role/DevOpsAgentOperator.",
    )
    idc_instance_arn = forms.CharField(
        label="Identity Center instance",
        max_length=2048,
        required=False,
        help_text="e.g. arn:aws:sso:::instance/ssoins-1234567890abcdef. The service creates an "
        "Identity Center application for the Operator App in it.",
    )
    provider = forms.CharField(
        label="Provider",
        max_length=256,
        required=False,
        help_text="Your identity provider's name, e.g. Okta, Entra or Google.",
    )
    issuer_url = forms.CharField(
        label="Issuer URL",
        max_length=2048,
        required=False,
        help_text="The OIDC issuer, e.g. https://example.okta.com/oauth2/default.",
    )
    idp_client_id = model_field(
        SERVICE,
        "EnableOperatorApp",
        "idpClientId",
        label="Client ID",
        required=False,
        help_text="The OIDC client ID of the Operator App's application in your provider.",
    )
    idp_client_secret = secret_field(required=False)

    FIELDS = {
        "iam": ("role_arn",),
        "idc": ("role_arn", "idc_instance_arn"),
        "idp": ("role_arn", "provider", "issuer_url", "idp_client_id", "idp_client_secret"),
    }
    AWS_FIELDS = {
        "operatorAppRoleArn": "role_arn",
        "idcInstanceArn": "idc_instance_arn",
        "issuerUrl": "issuer_url",
        "idpClientId": "idp_client_id",
        "idpClientSecret": "idp_client_secret",
        "provider": "provider",
    }

    def __init__(self, *args: Any, flow: str, secret_kept: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.flow = flow
        self.secret_kept = secret_kept
        for name in list(self.fields):
            if name not in self.FIELDS[flow]:
                del self.fields[name]
        for name in self.FIELDS[flow]:
            if name != "idp_client_secret":
                self.fields[name].required = True
            self.fields[name].widget.attrs.setdefault("autocomplete", "off")
            self.fields[name].widget.attrs.setdefault("spellcheck", "false")
        if flow == "idp":
            self.fields["idp_client_secret"] = secret_field(not secret_kept, keeping=secret_kept)
            self.fields["provider"].widget.attrs["list"] = "idp-providers"
        self.fields["role_arn"].widget.attrs["autofocus"] = True

    def clean_issuer_url(self) -> str:
        value = self.cleaned_data.get("issuer_url", "")
        if value and not _HTTPS_URL.fullmatch(value):
            raise forms.ValidationError("Use the provider's https:// issuer URL.")
        return value

    def clean_idc_instance_arn(self) -> str:
        value = self.cleaned_data.get("idc_instance_arn", "")
        if value and not _IDC_INSTANCE.fullmatch(value):
            raise forms.ValidationError(
                "Use the instance ARN from the IAM Identity Center settings: "
                "arn:aws:sso:::instance/ssoins-… (16 characters after ssoins-)."
            )
        return value

    def params(self) -> dict[str, Any]:
        """Keyword arguments for dashboard.aws.configuration.enable_operator_app."""
        return {k: v for k, v in self.cleaned_data.items() if v}


class IdpSecretForm(forms.Form):
    idp_client_secret = secret_field(required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["idp_client_secret"].label = "New client secret"
        self.fields["idp_client_secret"].widget.attrs["autofocus"] = True


# --- assets ----------------------------------------------------------------------------------

CONTENT_KINDS = [
    ("file", "One file: type its text or upload it"),
    ("zip", "A zip of files"),
    ("url", "Import from a URL"),
]


def _json_object(value: str) -> dict[str, Any] | None:
    text = (value or "").strip()
    if not text:
        return None
    parsed = read_json(text)
    if not isinstance(parsed, dict):
        raise forms.ValidationError('Give a JSON object, e.g. {"name": "…"}.')
    return parsed


def metadata_field(help_text: str) -> forms.CharField:
    return forms.CharField(
        label="Metadata (JSON)",
        required=False,
        max_length=100_000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 5, "class": "mono", "spellcheck": "false"}),
        help_text=help_text,
    )


def _path_field(label: str = "File path", required: bool = False) -> forms.Field:
    return shape_field(
        "AssetFileContent",
        "path",
        label=label,
        required=required,
        help_text="Letters, digits, spaces and _ . / ( ) -, up to 512 characters, e.g. "
        "SKILL.md or references/runbook.md.",
    )


def lf(text: str) -> str:
    """Browsers send a textarea's line breaks as CRLF; files keep the LF the person saw."""
    return text.replace("\r\n", "\n")


def _text_field() -> forms.CharField:
    return forms.CharField(
        label="Text",
        required=False,
        strip=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 12, "class": "mono", "spellcheck": "false"}),
        help_text="Up to 2 MB typed here; upload larger files.",
    )


def _upload_field(label: str) -> forms.FileField:
    return forms.FileField(
        label=label, required=False, help_text="Up to 6 MiB (the service's limit per file)."
    )


MAX_UPLOAD = 6_291_456


class _ContentMixin:
    """Reads the content union (file text or upload, zip upload, source URL) of a form."""

    def clean_content(self, data: dict[str, Any], *, required: bool) -> None:
        form: Any = self
        kind = data.get("content_kind") or ""
        if not kind:
            if required:
                form.add_error("content_kind", "Choose what the asset holds.")
            return
        if kind == "file":
            if not data.get("file_path") and "file_path" not in form.errors:
                form.add_error("file_path", "Give the file's path in the asset.")
            if data.get("file_upload") and data.get("file_text"):
                form.add_error("file_upload", "Type the text or upload a file, not both.")
            elif not data.get("file_upload") and not data.get("file_text"):
                form.add_error("file_text", "Type the file's text or upload the file.")
        elif kind == "zip" and not data.get("zip_upload"):
            form.add_error("zip_upload", "Choose the zip file to upload.")
        elif kind == "url" and not data.get("source_url") and "source_url" not in form.errors:
            form.add_error("source_url", "Give the https:// URL to import from.")
        for name in ("file_upload", "zip_upload"):
            upload = data.get(name)
            if upload is not None and upload.size > MAX_UPLOAD:
                form.add_error(name, f"This file has {upload.size:,} bytes; the limit is 6 MiB.")

    def content(self) -> dict[str, Any] | None:
        """The API's AssetContent union, or None."""
        form: Any = self
        data = form.cleaned_data
        kind = data.get("content_kind")
        if kind == "file":
            upload = data.get("file_upload")
            if upload is not None:
                body: dict[str, Any] = {"bytes": upload.read()}
            else:
                body = {"text": lf(data["file_text"])}
            return {"file": {"path": data["file_path"], "body": body}}
        if kind == "zip":
            return {"zip": {"zipFile": data["zip_upload"].read()}}
        if kind == "url":
            return {"sourceUrl": {"url": data["source_url"]}}
        return None


class AssetForm(_ContentMixin, forms.Form):
    """CreateAsset, or (editing=True) UpdateAsset where everything is optional."""

    asset_type = forms.ChoiceField(label="Type", choices=())
    metadata = metadata_field(
        'What describes the asset, as a JSON object, e.g. {"name": "rds-failover", '
        '"description": "How we fail over the payments database"}. Skills need both.'
    )
    content_kind = forms.ChoiceField(
        label="Content", choices=CONTENT_KINDS, widget=forms.RadioSelect, required=False
    )
    file_path = _path_field()
    file_text = _text_field()
    file_upload = _upload_field("Or upload the file")
    zip_upload = _upload_field("Zip file")
    source_url = shape_field(
        "AssetSourceUrlContent",
        "url",
        label="Source URL",
        help_text="An https:// URL the service imports the asset's files from.",
    )
    seen_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    AWS_FIELDS = {
        "assetType": "asset_type",
        "metadata": "metadata",
        "content.file.path": "file_path",
        "content.file.body": "file_text",
        "content.file.body.text": "file_text",
        "content.zip": "zip_upload",
        "content.zip.zipFile": "zip_upload",
        "content.sourceUrl": "source_url",
        "content.sourceUrl.url": "source_url",
    }

    def __init__(
        self,
        *args: Any,
        types: list[dict[str, Any]] | None = None,
        editing: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing is not None:
            del self.fields["asset_type"]
            self.fields["metadata"].label = "Metadata changes (JSON)"
            self.fields["metadata"].help_text = (
                "Only the members you give change; the others keep their values. Set a member "
                'to null to remove it, e.g. {"description": "New text", "owner": null}.'
            )
            self.fields["content_kind"].choices = [("", "Keep the files as they are")] + [
                (
                    k,
                    {
                        "file": "Add or replace one file",
                        "zip": "Replace all files with a zip",
                        "url": "Re-import from a URL",
                    }[k],
                )
                for k, _ in CONTENT_KINDS
            ]
        else:
            del self.fields["seen_version"]
            choices = [(t["assetType"], t["assetType"]) for t in types or []]
            self.fields["asset_type"].choices = [("", "Choose a type…"), *choices]
            self.type_help = {t["assetType"]: t.get("description", "") for t in types or []}
            if not self.is_bound:
                self.initial.setdefault("content_kind", "file")
        self.fields["file_path"].required_here = True  # type: ignore[attr-defined]

    def clean_metadata(self) -> dict[str, Any] | None:
        return _json_object(self.cleaned_data.get("metadata", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self.clean_content(data, required=self.editing is None)
        if (
            self.editing is not None
            and not self.errors
            and data.get("metadata") is None
            and not data.get("content_kind")
        ):
            raise forms.ValidationError("Nothing to change: give metadata, new content or both.")
        return data


class AssetFileForm(forms.Form):
    """CreateAssetFile, or (editing) UpdateAssetFile of one path."""

    path = _path_field("Path", required=True)
    text = _text_field()
    upload = _upload_field("Or upload the file")
    metadata = metadata_field("Optional, as a JSON object.")
    AWS_FIELDS = {"path": "path", "content": "text", "content.text": "text", "metadata": "metadata"}

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            del self.fields["path"]
            self.fields["text"].help_text = (
                "The file's new text (up to 2 MB; upload larger files). Leave the text as it "
                "is and upload nothing to change only the metadata."
            )
            self.fields["upload"].label = "Or upload a replacement"
            self.fields[
                "metadata"
            ].help_text = "Members you give change, the others stay; null removes a member."

    def clean_metadata(self) -> dict[str, Any] | None:
        return _json_object(self.cleaned_data.get("metadata", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("upload")
        if upload is not None and upload.size > MAX_UPLOAD:
            self.add_error("upload", f"This file has {upload.size:,} bytes; the limit is 6 MiB.")
        if upload is not None and data.get("text") and not self.editing:
            self.add_error("upload", "Type the text or upload a file, not both.")
        if not self.editing and upload is None and not data.get("text"):
            self.add_error("text", "Type the file's text or upload the file.")
        return data

    def content(self, current_text: str | None = None) -> dict[str, Any] | None:
        """{"text"} or {"bytes"}, or None when nothing changed (editing)."""
        data = self.cleaned_data
        upload = data.get("upload")
        if upload is not None:
            return {"bytes": upload.read()}
        text = lf(data.get("text") or "")
        if self.editing and (text == (current_text or "") or (current_text is None and not text)):
            return None
        return {"text": text}
