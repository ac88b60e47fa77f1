"""Label colours: a label's own ``#rrggbb``, or the palette colour of its place in the label set."""

import re

# Distinguishable on white and under text (Okabe–Ito-like hues, then darker and lighter variants).
PALETTE = (
    "#e69f00",
    "#56b4e9",
    "#009e73",
    "#d55e00",
    "#cc79a7",
    "#0072b2",
    "#f0e442",
    "#8c564b",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#9467bd",
)
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def colour_problem(value: object) -> str | None:
    """Why ``value`` is not a colour a label may have ("" is: it means the palette's)."""
    if value == "":
        return None
    if not isinstance(value, str) or not _COLOUR.fullmatch(value):
        return f"A colour is written #rrggbb (six hex digits), not {value!r}."
    return None


def label_colour(colour: str, position: int) -> str:
    """The colour a label shows in: its own, else the palette's for its ``position`` (0-based) in the label set."""
    return colour.lower() if colour else PALETTE[position % len(PALETTE)]
