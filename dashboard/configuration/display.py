"""What the configuration pages show, worked out once in Python: a private connection's state
and certificate, the usage bars, and a readable preview of an asset file.

Pure functions of API data and the current time (no database, no AWS), so the HTTP views and
the live fragments render the same thing.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.utils import timezone

CERT_WARNING_DAYS = 30
USAGE_WARNING_PERCENT = 80
PREVIEW_CHARS = 100_000  # text shown in the page; the rest is a download away
HEX_PREVIEW_BYTES = 2048

# --- private connections ---------------------------------------------------------------------

PENDING = frozenset({"CREATE_IN_PROGRESS", "DELETE_IN_PROGRESS"})
STATUS_TONE = {
    "ACTIVE": "ok",
    "CREATE_IN_PROGRESS": "active",
    "DELETE_IN_PROGRESS": "active",
    "CREATE_FAILED": "failed",
    "DELETE_FAILED": "failed",
}
STATUS_LABEL = {
    "ACTIVE": "Active",
    "CREATE_IN_PROGRESS": "Creating…",
    "DELETE_IN_PROGRESS": "Deleting…",
    "CREATE_FAILED": "Creation failed",
    "DELETE_FAILED": "Deletion failed",
}
TYPE_LABEL = {"SERVICE_MANAGED": "Service-managed", "SELF_MANAGED": "Self-managed"}
DNS_LABEL = {"PUBLIC": "Public", "IN_VPC": "In the VPC"}


def certificate(expires: dt.datetime | None, now: dt.datetime | None = None) -> dict[str, Any]:
    """The certificate's state: none, ok, soon (under CERT_WARNING_DAYS) or expired."""
    if expires is None:
        return {"state": "none", "expires": None, "days": None, "text": "No certificate"}
    now = now or timezone.now()
    left = expires - now
    days = math.floor(left.total_seconds() / 86400)
    if left.total_seconds() <= 0:
        state, text = "expired", f"Expired {abs(days)} day{'s' if abs(days) != 1 else ''} ago"
    elif left < dt.timedelta(days=CERT_WARNING_DAYS):
        if days < 1:
            text = "Expires in less than a day"
        else:
            text = f"Expires in {days} day{'s' if days != 1 else ''}"
        state = "soon"
    else:
        state, text = "ok", f"Valid for {days} more days"
    return {"state": state, "expires": expires, "days": days, "text": text}


def connection(conn: dict[str, Any], now: dt.datetime | None = None) -> dict[str, Any]:
    """A private connection (summary or description) with what its row and page show."""
    status = str(conn.get("status") or "")
    managed = conn.get("type") == "SERVICE_MANAGED"
    if managed:
        target = conn.get("hostAddress") or "—"
        where = conn.get("vpcId") or ""
    else:
        target = conn.get("resourceConfigurationId") or "—"
        where = ""
    return {
        "conn": conn,
        "name": conn.get("name", ""),
        "status": status,
        "status_label": STATUS_LABEL.get(status, status.replace("_", " ").capitalize()),
        "tone": STATUS_TONE.get(status, "muted"),
        "pending": status in PENDING,
        "failed": status.endswith("_FAILED"),
        "type_label": TYPE_LABEL.get(str(conn.get("type")), str(conn.get("type") or "")),
        "managed": managed,
        "target": target,
        # ARNs are long: lists show their last part (the id), with the whole ARN as a title.
        "target_short": target.rsplit("/", 1)[-1] if target.startswith("arn:") else target,
        "where": where,
        "dns_label": DNS_LABEL.get(str(conn.get("dnsResolution")), ""),
        "cert": certificate(conn.get("certificateExpiryTime"), now),
        # What an admin may do now (the service answers ConflictException otherwise).
        "can_update_certificate": status == "ACTIVE",
        "can_delete": status not in PENDING,
    }


# --- account usage ---------------------------------------------------------------------------

USAGE_LABELS = {
    "monthlyAccountInvestigationHours": (
        "Investigation",
        "Hours the agent spent investigating incidents.",
    ),
    "monthlyAccountEvaluationHours": (
        "Evaluation",
        "Hours of evaluations: the agent checking its readiness against past incidents.",
    ),
    "monthlyAccountSystemLearningHours": (
        "System learning",
        "Hours the agent spent learning the topology of your agent spaces.",
    ),
    "monthlyAccountOnDemandHours": (
        "On-demand",
        "Hours of work people asked for on demand (reviews, risk analyses).",
    ),
    "monthlyAccountGraderHours": ("Grading", "Hours spent grading evaluation results."),
}


def _label(metric: str) -> tuple[str, str]:
    if metric in USAGE_LABELS:
        return USAGE_LABELS[metric]
    # A metric a newer API added: make its name readable rather than hide it.
    words = metric.removeprefix("monthlyAccount").removesuffix("Hours")
    spaced = "".join(f" {c}" if c.isupper() else c for c in words).strip()
    return spaced.capitalize() or metric, ""


def _hours(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def usage_metric(metric: str, value: dict[str, Any]) -> dict[str, Any]:
    label, help_text = _label(metric)
    used = float(value.get("usage") or 0.0)
    limit = int(value.get("limit") if value.get("limit") is not None else -1)
    unlimited = limit < 0
    if unlimited:
        percent = None
    elif limit == 0:
        percent = 100.0 if used > 0 else 0.0
    else:
        percent = used / limit * 100
    over = percent is not None and percent >= 100
    return {
        "metric": metric,
        "label": label,
        "help": help_text,
        "used": used,
        "used_text": _hours(used),
        "limit": limit,
        "limit_text": "no limit" if unlimited else _hours(limit),
        "unlimited": unlimited,
        "percent": percent,
        "percent_text": "" if percent is None else f"{percent:.0f} %",
        # The bar stops at its end; the text says by how much a limit was passed.
        "bar": 0.0 if percent is None else round(min(percent, 100.0), 2),
        "warn": percent is not None and percent > USAGE_WARNING_PERCENT,
        "over": over,
        "remaining_text": "" if unlimited else _hours(max(limit - used, 0.0)),
    }


# The pace is said once a day of the period has gone by (before, one busy hour reads as a
# month's overrun).
PACE_AFTER = dt.timedelta(days=1)


def pace(
    row: dict[str, Any], start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> dict[str, Any]:
    """Where a limited metric ends the period at its pace so far: the hours projected at the
    end, and when it reaches its limit if that comes first ("runs_out", else None)."""
    out: dict[str, Any] = {"runs_out": None, "projected_text": ""}
    elapsed = (now - start).total_seconds()
    if row["unlimited"] or row["over"] or row["used"] <= 0 or now - start < PACE_AFTER:
        return out
    rate = row["used"] / elapsed  # hours per second so far
    projected = row["used"] + rate * max((end - now).total_seconds(), 0.0)
    out["projected_text"] = _hours(projected)
    # Compared in seconds first: a tiny use against a large limit runs out thousands of years
    # on, beyond what a datetime can hold.
    seconds_left = (row["limit"] - row["used"]) / rate
    if seconds_left < (end - now).total_seconds():
        out["runs_out"] = now + dt.timedelta(seconds=seconds_left)
    return out


def usage(answer: dict[str, Any], now: dt.datetime | None = None) -> dict[str, Any]:
    """GetAccountUsage as rows of bars, in the model's order, plus the period and, for each
    limited metric, its pace (a warning when the pace reaches the limit before the end)."""
    now = now or timezone.now()
    rows = []
    for metric, value in answer.items():
        if isinstance(value, dict) and "usage" in value:
            rows.append(usage_metric(metric, value))
    order = list(USAGE_LABELS)
    rows.sort(key=lambda r: order.index(r["metric"]) if r["metric"] in order else len(order))
    start = answer.get("usagePeriodStartTime")
    end = answer.get("usagePeriodEndTime")
    period: dict[str, Any] = {"start": start, "end": end}
    if isinstance(start, dt.datetime) and isinstance(end, dt.datetime):
        # The API's end is the first instant of the next period: show the last day.
        period["last_day"] = end - dt.timedelta(seconds=1)
        period["days_left"] = max(0, math.ceil((end - now).total_seconds() / 86400))
        total = (end - start).total_seconds()
        period["elapsed_percent"] = (
            round(min(max((now - start).total_seconds() / total * 100, 0), 100), 1)
            if total > 0
            else 0
        )
        for row in rows:
            row.update(pace(row, start, end, now))
    return {
        "rows": rows,
        "period": period,
        "warnings": [r for r in rows if r["warn"]],
        "pace_warnings": [r for r in rows if r.get("runs_out") and not r["warn"]],
        "threshold": USAGE_WARNING_PERCENT,
    }


# --- asset files -----------------------------------------------------------------------------


def _looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


def hexdump(data: bytes, limit: int = HEX_PREVIEW_BYTES) -> list[str]:
    """Lines of offset, hex bytes and printable ASCII (dots for the rest)."""
    lines = []
    for offset in range(0, min(len(data), limit), 16):
        chunk = data[offset : offset + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset:08x}  {hexes:<47}  {text}")
    return lines


def file_preview(content: dict[str, Any], limit: int | None = None) -> dict[str, Any]:
    """How a file's content ({"text"} or {"bytes"}) is shown: as text (escaped by the
    template, cut at `limit` characters, PREVIEW_CHARS by default) or, for binary data, as a
    hex dump of its start."""
    limit = limit or PREVIEW_CHARS
    if content.get("text") is not None:
        text = str(content["text"])
        size = len(text.encode())
        encoding = "text"
    else:
        raw = bytes(content.get("bytes") or b"")
        size = len(raw)
        if _looks_binary(raw):
            return {
                "kind": "binary",
                "size": size,
                "hex": hexdump(raw),
                "truncated": size > HEX_PREVIEW_BYTES,
            }
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            return {
                "kind": "binary",
                "size": size,
                "hex": hexdump(raw),
                "truncated": size > HEX_PREVIEW_BYTES,
            }
        encoding = "bytes"
    truncated = len(text) > limit
    return {
        "kind": "text",
        "encoding": encoding,
        "size": size,
        "text": text[:limit],
        "truncated": truncated,
        "lines": text.count("\n") + (0 if text.endswith("\n") or not text else 1),
        "shown_chars": min(len(text), limit),
    }


def file_bytes(content: dict[str, Any]) -> bytes:
    """A file's content as bytes (for the download)."""
    if content.get("text") is not None:
        return str(content["text"]).encode()
    return bytes(content.get("bytes") or b"")
