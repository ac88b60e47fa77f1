"""The job-progress component's attributes: ``<tr{% job_watch job %}>`` marks the element that shows a job, and
``{% include "core/job_progress.html" %}`` inside it renders the parts static/js/job-progress.js keeps current."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def job_watch(job, refresh: str = "") -> SafeString:
    """``data-job``, ``data-status`` and ``data-outcome`` always; while the job is queued or running also
    ``data-job-progress`` (the script polls it) and ``data-job-refresh`` (the page parts to swap in when it ends;
    default the whole ``<main>``). Starts with a space, to follow the tag name."""
    attrs = format_html(
        ' data-job="{}" data-status="{}" data-outcome="{}"', job.pk, job.status, job.outcome or ""
    )
    if not job.is_terminal:
        attrs += format_html(' data-job-progress="{}"', job.pk)
        if refresh:
            attrs += format_html(' data-job-refresh="{}"', refresh)
    return attrs
