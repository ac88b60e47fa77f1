"""Geometry for the SVG bar charts on the version page; the templates only draw what this computes."""

from datasets.splits import SPLIT_NAMES

BAR_WIDTH = 520
SPLIT_COLOURS = {"train": "#2f6fed", "dev": "#f0a202", "test": "#1f9d55"}


def stacked_label_bars(*, split_label_counts: dict, label_distribution: dict) -> list[dict]:
    """One row per label: its total and a rect per split, scaled so the largest label fills the width."""
    largest = max(label_distribution.values(), default=0) or 1
    rows = []
    for index, (label, total) in enumerate(label_distribution.items()):
        x, rects = 0.0, []
        for split in SPLIT_NAMES:
            count = split_label_counts.get(split, {}).get(label, 0)
            width = BAR_WIDTH * count / largest
            if count:
                rects.append(
                    {
                        "split": split,
                        "count": count,
                        "x": round(x, 2),
                        "width": round(width, 2),
                        "colour": SPLIT_COLOURS[split],
                    }
                )
            x += width
        rows.append({"label": label, "total": total, "y": index * 26, "rects": rects})
    return rows


def split_bar(*, split_counts: dict) -> list[dict]:
    """The version's split as one stacked bar. Each split's caption sits in its own slot of a legend under the
    bar (``legend_x``), not under its segment: a small split's segment is too narrow to hold its caption."""
    total = sum(split_counts.values()) or 1
    slot = BAR_WIDTH / len(SPLIT_NAMES)
    x = 0.0
    rects: list[dict] = []
    for split in SPLIT_NAMES:
        count = split_counts.get(split, 0)
        width = BAR_WIDTH * count / total
        if count:
            rects.append(
                {
                    "split": split,
                    "count": count,
                    "share": round(100 * count / total, 1),
                    "x": round(x, 2),
                    "width": round(width, 2),
                    "colour": SPLIT_COLOURS[split],
                    "legend_x": round(len(rects) * slot),
                    "legend_text_x": round(len(rects) * slot) + 14,
                }
            )
        x += width
    return rects
