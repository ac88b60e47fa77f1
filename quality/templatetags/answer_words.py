from django import template

register = template.Library()


# The parts' own field order when a page passes none: a jsonb column hands keys back shortest first, which would
# put a span's end before its start.
DEFAULT_ORDER = ("start", "end")
BOX_FIELDS = ("x", "y", "w", "h")


def _number(key: str, value: object) -> str:
    # Confidences to 2 decimals as every other figure on the pages; coordinates to 6 significant digits, which
    # also drops float noise such as 59.51000000000002.
    if key == "confidence" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.2f}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _pixels(value: object) -> str:
    # One decimal at most, as the box review table shows coordinates.
    return f"{round(value, 1):g}" if isinstance(value, float) else str(value)


def _part_words(part: dict, rank: dict[str, int]) -> str:
    label = str(part.get("label", "?"))
    if all(isinstance(part.get(name), (int, float)) for name in BOX_FIELDS):
        x, y, w, h = (_pixels(part[name]) for name in BOX_FIELDS)
        words = f"{label} {w}×{h} at ({x}, {y})"
        others = [key for key in part if key not in BOX_FIELDS and key != "label"]
        rest = ", ".join(
            f"{key} {_number(key, part[key])}" for key in sorted(others, key=lambda k: rank.get(k, len(rank)))
        )
        return f"{words}, {rest}" if rest else words
    keys = sorted((key for key in part if key != "label"), key=lambda key: rank.get(key, len(rank)))
    rest = ", ".join(f"{key} {_number(key, part[key])}" for key in keys)
    return f"{label} ({rest})" if rest else label


@register.filter
def answer_words(value: object, order: str = "") -> object:
    """A structured answer (a list of parts, each carrying a ``label``: spans, boxes…) as pages say it:
    ``PER (start 0, end 3); LOC (start 13, end 17)``, the part's fields in ``order`` (comma-separated names, the
    kind's own order: a JSON column keeps no key order), others after them; a box as ``car 60×50 at (89, 61)``;
    a confidence to 2 decimals. Anything else (a class name, a list of them, an empty answer) is returned as it
    is, so pages of one-class answers read as before."""
    if not (isinstance(value, list) and value and all(isinstance(part, dict) for part in value)):
        return value
    names = [name for name in order.split(",") if name] or list(DEFAULT_ORDER)
    rank = {name: position for position, name in enumerate(names)}
    return "; ".join(_part_words(part, rank) for part in value)


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
            f"{part.get('label', '?')} {_number('start', part['start'])}–{_number('end', part['end'])}"
            if "start" in part and "end" in part
            else str(answer_words([part], order))
            for part in value
        )
    return answer_text(value, order)
