from django import template

from quality.metrics.reason_codes import REASON_WORDS

register = template.Library()

_WORDS = {**REASON_WORDS, "comment": "annotator comment", "escalated": "escalated"}


@register.filter
def reason_words(code) -> str:
    """A review reason code as pages say it: "model_disagrees" → "model disagrees".

    Pages keep the code itself in ``data-reason`` attributes, for scripts and tests."""
    if code is None:
        return ""
    return _WORDS.get(str(code), str(code).replace("_", " "))
