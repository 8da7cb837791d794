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


@register.filter
def get_item(mapping: object, key: object) -> object:
    """mapping[key] in a template ({{ targets|get_item:entry.pk }}); None when absent."""
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def moment(value: object) -> str:
    """A time as "4 minutes ago" with the exact moment on hover and focus (one format for the
    whole console; see dashboard/core/moments.py)."""
    from dashboard.core.moments import moment_html

    return moment_html(value)


@register.filter
def markdown(value: object) -> str:
    """Untrusted Markdown (agent output) as sanitized HTML; see dashboard/core/markdown.py."""
    from dashboard.core.markdown import render_markdown

    return render_markdown(str(value) if value is not None else "")


@register.inclusion_tag("includes/space_tabs.html", takes_context=True)
def space_tabs(context: template.Context, space_id: str) -> dict[str, object]:
    """The tabs of one agent space's pages (registered by each app, see dashboard/core/nav.py)."""
    from dashboard.core.nav import space_entries

    request = context.get("request")
    return {"tabs": space_entries(request, space_id) if request is not None and space_id else []}


@register.inclusion_tag("includes/space_tabs.html", takes_context=True)
def section_tabs(context: template.Context, section: str) -> dict[str, object]:
    """The tabs of an area such as "agentcore" (see dashboard/core/nav.py)."""
    from dashboard.core.nav import section_entries

    request = context.get("request")
    return {
        "tabs": section_entries(request, section) if request is not None else [],
        "label": section,
    }
