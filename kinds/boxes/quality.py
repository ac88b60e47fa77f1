"""The boxes kind's quality part. Box answers are structured (no class per answer), so a quality run and the
per-item update read and measure them here (``kinds.boxes.quality_run``) rather than through the class encoding."""

from kinds.boxes.quality_run import structured_item_consensus, structured_run


def encoding(*, multi_label: bool):
    raise NotImplementedError("Box answers have no class encoding; see structured_run.")


__all__ = ["encoding", "structured_item_consensus", "structured_run"]
