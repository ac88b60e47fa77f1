from django import template

from annotation.models import ItemStatus
from core.models import JobStatus

register = template.Library()

_WORDS = {choice.value: choice.label.lower() for choices in (ItemStatus, JobStatus) for choice in choices}


@register.filter
def status_words(code) -> str:
    """An item or job status code as pages say it: "needs_review" → "needs review", "in_progress" → "in progress".

    Pages keep the code itself in ``data-status`` attributes, for scripts and tests."""
    if code is None:
        return ""
    return _WORDS.get(str(code), str(code).replace("_", " "))
