"""Choosing a flow execution: ids (or ARNs), checked against the bedrock-agent-runtime model."""

from __future__ import annotations

from typing import Any

from django import forms

from dashboard.aws import flows as flows_api

TYPES = ("All", "Node", "Flow")
PAGE_SIZES = (10, 50, 100, 500, 1000)
DEFAULT_PAGE = 100


class ExecutionForm(forms.Form):
    # Not required field by field: an execution ARN alone names all three (checked in clean).
    flow = forms.CharField(
        label="Flow id or ARN",
        max_length=2048,
        required=False,
        help_text="10 characters, e.g. TRIAGEFL01.",
    )
    alias = forms.CharField(
        label="Alias id",
        max_length=2048,
        required=False,
        help_text="e.g. TSTALIASID for the draft; may be left empty with an execution ARN.",
    )
    execution = forms.CharField(
        label="Execution id or ARN",
        max_length=2048,
        required=False,
        help_text="Up to 36 characters.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        ids = {
            "flow": (data.get("flow") or "").strip(),
            "alias": (data.get("alias") or "").strip(),
            "execution": (data.get("execution") or "").strip(),
        }
        # An ARN in any box may name the others too; boxes the person filled win.
        for key in ("execution", "alias", "flow"):
            for found_key, value in flows_api.ids_from_arn(ids[key]).items():
                if found_key == key or not ids[found_key] or ids[found_key].startswith("arn:"):
                    ids[found_key] = value
        for key, value in ids.items():
            if key not in self.errors:
                for problem in flows_api.id_problems(key, value):
                    self.add_error(key, problem)
        data.update(ids)
        return data
