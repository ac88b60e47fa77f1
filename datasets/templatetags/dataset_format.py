from django import template

from datasets.frozen_figures import accuracy_rows

register = template.Library()


@register.filter
def thousands(value) -> str:
    """1532 → "1,532" (django.contrib.humanize is not installed)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "" if value is None else str(value)


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)


@register.filter
def as_number(value, digits: int = 3) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.{int(digits)}f}"
    return "—" if value is None else str(value)


@register.filter
def frozen_accuracy(metrics) -> list[dict]:
    """``DatasetVersion.metrics`` as "HLP and model vs <reference>" rows (datasets.frozen_figures)."""
    return accuracy_rows(metrics)
