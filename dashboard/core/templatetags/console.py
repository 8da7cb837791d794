"""Template filters shared by the console's pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def human(value: object) -> str:
    """An API enum as words: PENDING_CUSTOMER_APPROVAL → Pending customer approval."""
    text = str(value or "")
    return text.replace("_", " ").capitalize() if text else ""


@register.filter
def is_web_url(value: object) -> bool:
    """Only http(s) links are rendered as links (no javascript: or data: from API data)."""
    text = str(value or "").strip().lower()
    return text.startswith("https://") or text.startswith("http://")
