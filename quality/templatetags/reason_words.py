from django import template

from kinds.registry import kinds
from quality.metrics.reason_codes import REASON_WORDS

register = template.Library()

_WORDS = {**REASON_WORDS, "comment": "annotator comment", "escalated": "escalated"}


def _words() -> dict[str, str]:
    # Read per call: kinds may be registered after this module is imported.
    words = dict(_WORDS)
    for kind in kinds():
        for code, text in kind.reason_words.items():
            words.setdefault(code, text)
    return words


@register.filter
def reason_words(code) -> str:
    """A review reason code as pages say it: "model_disagrees" → "model disagrees"; a kind's own codes
    ("missed_entity") as the kind names them.

    Pages keep the code itself in ``data-reason`` attributes, for scripts and tests."""
    if code is None:
        return ""
    return _words().get(str(code), str(code).replace("_", " "))
