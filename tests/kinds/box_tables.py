"""The box metric and consensus tests' one way to build a ``BoxTable`` from hand-written answers."""

import numpy as np

from kinds.boxes.metrics import BoxTable


def box_table(
    answers: dict[tuple[int, int], list[tuple]], n_items: int, n_annotators: int, n_labels: int
) -> BoxTable:
    """``answers`` maps (item, annotator) to that answer's boxes as (x, y, w, h, label index) tuples; an empty
    list is an answer of no boxes."""
    keys = sorted(answers)
    boxes = [(i, a, *box) for (i, a) in keys for box in answers[(i, a)]]
    return BoxTable(
        n_items=n_items,
        n_annotators=n_annotators,
        n_labels=n_labels,
        answer_item=np.array([i for i, _ in keys], dtype=np.int64),
        answer_annotator=np.array([a for _, a in keys], dtype=np.int64),
        item=np.array([b[0] for b in boxes], dtype=np.int64),
        annotator=np.array([b[1] for b in boxes], dtype=np.int64),
        label=np.array([b[6] for b in boxes], dtype=np.int64),
        xywh=np.array([b[2:6] for b in boxes], dtype=np.float64).reshape(-1, 4),
    )
