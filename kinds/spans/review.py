"""What the review item page shows of a span item: the text once per row (the consensus, each annotator, gold)
cut into the pieces its spans cover, and each span's disagreement with the consensus in the engine's words.

The reasons follow the quality run's rules (``kinds.spans.spans_quality._item_reasons``) span by span, on
characters rather than tokens: a span of an annotator that equals a consensus span has none; one overlapping a
consensus span of its label with other offsets is a boundary disagreement; one overlapping only consensus spans
of other labels a type confusion; one overlapping none is spurious; a consensus span the annotator left untouched
is missed by them. Consensus spans that gold does not hold (and gold spans the consensus lacks) are gold
mismatches. Pure: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: height of one span's underline on the page, in pixels; overlapping spans stack their underlines
LANE_PX = 3


@dataclass
class Part:
    """One span of a row, with what the page says about it."""

    start: int
    end: int
    label: str
    colour: str
    quote: str
    confidence: float | None = None
    reasons: list[str] = field(default_factory=list)
    #: the consensus span a reason compares it with (``start``, ``end``, ``label``), None when none does
    against: dict | None = None


@dataclass
class Segment:
    text: str
    start: int
    style: str = ""
    title: str = ""
    flagged: bool = False
    labels: str = ""


@dataclass
class Row:
    """``kind``: ``consensus``, ``annotator`` or ``gold``; ``missed``: consensus spans this annotator left out."""

    kind: str
    name: str
    parts: list[Part]
    segments: list[Segment]
    missed: list[Part] = field(default_factory=list)
    superseded: bool = False

    @property
    def notes(self) -> list[Part]:
        """The parts the page explains beside the row: those with a reason, then the missed ones."""
        return [part for part in self.parts if part.reasons] + self.missed


def tint(hex_colour: str, alpha: float) -> str:
    n = int(hex_colour[1:7], 16)
    return f"rgba({(n >> 16) & 255}, {(n >> 8) & 255}, {n & 255}, {alpha})"


def _overlap(a: dict | Part, b: dict | Part) -> bool:
    return _get(a, "start") < _get(b, "end") and _get(b, "start") < _get(a, "end")


def _get(span: dict | Part, name: str):
    return span[name] if isinstance(span, dict) else getattr(span, name)


def _key(span: dict | Part) -> tuple:
    return (_get(span, "start"), _get(span, "end"), _get(span, "label"))


def _part(span: dict, text: str, colours: dict[str, str]) -> Part:
    start, end = int(span["start"]), int(span["end"])
    return Part(
        start=start,
        end=end,
        label=str(span["label"]),
        colour=colours.get(str(span["label"]), "#888888"),
        quote=text[start:end],
        confidence=span.get("confidence"),
    )


def _judge(part: Part, consensus: list[dict]) -> None:
    if any(_key(part) == _key(c) for c in consensus):
        return
    overlapping = [c for c in consensus if _overlap(part, c)]
    same = [c for c in overlapping if c["label"] == part.label]
    if same:
        part.reasons.append("boundary_disagreement")
        part.against = {name: same[0][name] for name in ("start", "end", "label")}
    elif overlapping:
        part.reasons.append("type_confusion")
        part.against = {name: overlapping[0][name] for name in ("start", "end", "label")}
    else:
        part.reasons.append("spurious_entity")


def segments(text: str, parts: list[Part]) -> list[Segment]:
    """``text`` cut at every span edge; each covered piece tinted in its first span's colour with one underline
    per span (a span keeps its underline level along its whole length, so overlapping spans stay apart)."""
    ordered = sorted(parts, key=lambda p: (p.start, p.end, p.label))
    lanes: dict[int, int] = {}
    lane_ends: list[int] = []
    for part in ordered:
        lane = next((i for i, end in enumerate(lane_ends) if end <= part.start), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(0)
        lane_ends[lane] = part.end
        lanes[id(part)] = lane
    cuts = sorted({0, len(text), *(p.start for p in parts), *(p.end for p in parts)})
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        if b <= a or a >= len(text):
            continue
        here = [p for p in ordered if p.start <= a and p.end >= b]
        if not here:
            out.append(Segment(text=text[a:b], start=a))
            continue
        top = max(lanes[id(p)] for p in here)
        shadows = []
        for lane in range(top + 1):
            on_lane = next((p for p in here if lanes[id(p)] == lane), None)
            colour = on_lane.colour if on_lane else "transparent"
            shadows.append(f"inset 0 -{(lane + 1) * LANE_PX}px 0 0 {colour}")
        out.append(
            Segment(
                text=text[a:b],
                start=a,
                style=f"background: {tint(here[0].colour, 0.22)}; box-shadow: {', '.join(shadows)}",
                title="\n".join(f"{p.label} {p.start}–{p.end}: {p.quote}" for p in here),
                flagged=any(p.reasons for p in here),
                labels=" ".join(p.label for p in here),
            )
        )
    return out


def review_rows(
    *,
    text: str,
    consensus: list[dict] | None,
    annotations: list[tuple[str, list[dict] | None, bool]],
    gold: list[dict] | None,
    colours: dict[str, str],
) -> list[Row]:
    """The consensus row (when the item has one), one row per annotation (``(username, spans, is_live)``; spans
    None for an answer with none, e.g. unusable) judged against the consensus, and the gold row when the item
    has gold spans."""
    cons = [span for span in consensus or [] if isinstance(span, dict)]
    rows = []
    if consensus is not None:
        parts = [_part(span, text, colours) for span in cons]
        if gold is not None:
            gold_keys = {_key(span) for span in gold}
            for part in parts:
                if _key(part) not in gold_keys:
                    part.reasons.append("gold_mismatch")
        rows.append(Row(kind="consensus", name="Consensus", parts=parts, segments=segments(text, parts)))
    for name, spans, is_live in annotations:
        parts = [_part(span, text, colours) for span in spans or [] if isinstance(span, dict)]
        missed = []
        if consensus is not None:
            for part in parts:
                _judge(part, cons)
            for span in cons:
                if not any(_overlap(span, part) for part in parts):
                    gone = _part(span, text, colours)
                    gone.reasons.append("missed_entity")
                    missed.append(gone)
        rows.append(
            Row(
                kind="annotator",
                name=name,
                parts=parts,
                segments=segments(text, parts),
                missed=missed,
                superseded=not is_live,
            )
        )
    if gold is not None:
        parts = [_part(span, text, colours) for span in gold if isinstance(span, dict)]
        cons_keys = {_key(span) for span in cons}
        for part in parts:
            if consensus is not None and _key(part) not in cons_keys:
                part.reasons.append("gold_mismatch")
        rows.append(Row(kind="gold", name="Gold", parts=parts, segments=segments(text, parts)))
    return rows
