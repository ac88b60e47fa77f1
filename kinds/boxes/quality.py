"""Placeholder so the boxes kind registers: the box quality engine (matching, consensus, agreement, label issues)
replaces this module. Until then a quality run or per-item pass on a box project fails with this message."""


def encoding(*, multi_label: bool):
    raise NotImplementedError("The quality engine for boxes is not installed yet.")
