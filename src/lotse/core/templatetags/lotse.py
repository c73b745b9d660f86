from __future__ import annotations

from typing import Any

from django import template
from django.http import QueryDict

register = template.Library()


@register.filter
def can(membership: Any, perm: str) -> bool:
    """`{% if acting|can:"case.create" %}` — the acting membership's role permission."""
    return bool(membership is not None and membership.has_perm(perm))


@register.simple_tag(takes_context=True)
def query_with(context: Any, **changes: Any) -> str:
    """The current query string with some parameters replaced (for pagination links)."""
    params: QueryDict = context["request"].GET.copy()
    for key, value in changes.items():
        params[key] = value
    return params.urlencode()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """`{{ labels|get_item:code }}` — look up a dict entry by a variable key."""
    return mapping.get(key, key) if hasattr(mapping, "get") else key
