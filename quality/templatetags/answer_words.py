from django import template

register = template.Library()


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@register.filter
def answer_words(value: object, order: str = "") -> object:
    """A structured answer (a list of parts, each carrying a ``label``: spans, boxes…) as pages say it:
    ``PER (start 0, end 3); LOC (start 13, end 17)``, the part's fields in ``order`` (comma-separated names, the
    kind's own order: a JSON column keeps no key order), others after them. Anything else (a class name, a list
    of them, an empty answer) is returned as it is, so pages of one-class answers read as before."""
    if not (isinstance(value, list) and value and all(isinstance(part, dict) for part in value)):
        return value
    rank = {name: position for position, name in enumerate(order.split(",")) if name}
    words = []
    for part in value:
        keys = sorted((key for key in part if key != "label"), key=lambda key: rank.get(key, len(rank)))
        rest = ", ".join(f"{key} {_number(part[key])}" for key in keys)
        words.append(f"{part.get('label', '?')} ({rest})" if rest else str(part.get("label", "?")))
    return "; ".join(words)


@register.filter
def answer_text(value: object, order: str = "") -> str:
    """An annotation's stored answer as one line: its parts in words (:func:`answer_words`) or its class names
    joined by commas."""
    words = answer_words(value, order)
    if isinstance(words, list):
        return ", ".join(map(str, words))
    return "" if words is None else str(words)


@register.filter
def answer_compact(value: object, order: str = "") -> str:
    """An answer as few words as a narrow table cell holds: a span as its label and offsets (``PER 0–7``), other
    parts as :func:`answer_words` says them, class names joined by commas."""
    if isinstance(value, list) and value and all(isinstance(part, dict) for part in value):
        return "; ".join(
            f"{part.get('label', '?')} {_number(part['start'])}–{_number(part['end'])}"
            if "start" in part and "end" in part
            else str(answer_words([part], order))
            for part in value
        )
    return answer_text(value, order)
