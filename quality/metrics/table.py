"""The canonical annotation table every quality metric takes as input.

One row per live annotation (superseded edits already dropped by the adapter). Items, annotators and classes
are dense indices; mapping them back to database ids is the adapter's job, not this module's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AnnotationTable"]


def _as_index_array(name: str, values: object) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integers, got dtype {array.dtype}")
    return array.astype(np.int64, copy=False)


def _check_range(name: str, values: np.ndarray, upper: int) -> None:
    if values.size and (values.min() < 0 or values.max() >= upper):
        raise ValueError(
            f"{name} values must lie in [0, {upper - 1}], got range [{values.min()}, {values.max()}]"
        )


@dataclass(frozen=True)
class AnnotationTable:
    """Annotations in long form: ``item[i]`` was labelled ``label[i]`` by ``annotator[i]``.

    Single-label: ``label`` is int64 ``(n,)`` with classes ``0..n_classes-1``.
    Multi-label: ``label`` is uint8 ``(n, n_classes)`` of 0/1 flags.
    ``group`` optionally tags each annotation with a guideline-version index.

    Array fields are coerced to their canonical dtype on construction (lists are accepted).

    Raises:
        ValueError: on mismatched lengths, wrong dimensionality or dtype, indices out of range, non-0/1
            multi-label flags, or more than one annotation for the same (item, annotator) pair.
    """

    item: np.ndarray
    annotator: np.ndarray
    label: np.ndarray
    n_items: int
    n_annotators: int
    n_classes: int
    multi_label: bool = False
    group: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in ("n_items", "n_annotators", "n_classes"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if self.n_classes < 1:
            raise ValueError("n_classes must be at least 1")
        item = _as_index_array("item", self.item)
        annotator = _as_index_array("annotator", self.annotator)
        n = item.shape[0]
        if annotator.shape[0] != n:
            raise ValueError(f"annotator has {annotator.shape[0]} rows, item has {n}")
        _check_range("item", item, self.n_items)
        _check_range("annotator", annotator, self.n_annotators)
        label = self._validated_label(np.asarray(self.label), n)
        group = None
        if self.group is not None:
            group = _as_index_array("group", self.group)
            if group.shape[0] != n:
                raise ValueError(f"group has {group.shape[0]} rows, item has {n}")
            if group.size and group.min() < 0:
                raise ValueError("group values must be non-negative")
        # Duplicates would silently double-count a person in every metric, so they are refused outright.
        if n > 1:
            keys = np.sort(item * max(self.n_annotators, 1) + annotator)
            duplicate = np.flatnonzero(keys[1:] == keys[:-1])
            if duplicate.size:
                key = int(keys[duplicate[0]])
                raise ValueError(
                    f"more than one annotation for item {key // max(self.n_annotators, 1)} "
                    f"by annotator {key % max(self.n_annotators, 1)}"
                )
        object.__setattr__(self, "item", item)
        object.__setattr__(self, "annotator", annotator)
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "group", group)
        object.__setattr__(self, "n_items", int(self.n_items))
        object.__setattr__(self, "n_annotators", int(self.n_annotators))
        object.__setattr__(self, "n_classes", int(self.n_classes))

    def _validated_label(self, label: np.ndarray, n: int) -> np.ndarray:
        if self.multi_label:
            if label.ndim != 2 or label.shape != (n, self.n_classes):
                raise ValueError(
                    f"multi-label label must have shape ({n}, {self.n_classes}), got {label.shape}"
                )
            if label.size and not np.isin(label, (0, 1)).all():
                raise ValueError("multi-label label must hold only 0 and 1")
            return label.astype(np.uint8, copy=False)
        label = _as_index_array("label", label)
        if label.shape[0] != n:
            raise ValueError(f"label has {label.shape[0]} rows, item has {n}")
        _check_range("label", label, self.n_classes)
        return label

    @property
    def n_annotations(self) -> int:
        return int(self.item.shape[0])

    def annotations_per_item(self) -> np.ndarray:
        """Number of annotations on each item, int64 ``(n_items,)``."""
        return np.bincount(self.item, minlength=self.n_items)

    def counts(self) -> np.ndarray:
        """Vote counts, int64 ``(n_items, n_classes)``.

        Single-label: how many annotators chose each class. Multi-label: how many flagged each class.
        """
        if self.multi_label:
            out = np.empty((self.n_items, self.n_classes), dtype=np.int64)
            for c in range(self.n_classes):
                out[:, c] = np.bincount(self.item, weights=self.label[:, c], minlength=self.n_items)
            return out
        flat = np.bincount(self.item * self.n_classes + self.label, minlength=self.n_items * self.n_classes)
        return flat.reshape(self.n_items, self.n_classes)

    def dense(self, *, fill: int = -1) -> np.ndarray:
        """Items × annotators matrix of labels with ``fill`` where an annotator did not label an item.

        Raises:
            ValueError: for multi-label tables (use :meth:`one_vs_rest` per class first).
        """
        if self.multi_label:
            raise ValueError("dense() needs a single-label table; call one_vs_rest(c) first")
        out = np.full((self.n_items, self.n_annotators), fill, dtype=np.int64)
        out[self.item, self.annotator] = self.label
        return out

    def restrict(self, mask: np.ndarray) -> AnnotationTable:
        """The table keeping only annotations where ``mask`` (bool ``(n,)``) is true; index spaces unchanged."""
        mask = np.asarray(mask)
        if mask.dtype != np.bool_ or mask.shape != (self.n_annotations,):
            raise ValueError(f"mask must be bool of shape ({self.n_annotations},)")
        return AnnotationTable(
            item=self.item[mask],
            annotator=self.annotator[mask],
            label=self.label[mask],
            n_items=self.n_items,
            n_annotators=self.n_annotators,
            n_classes=self.n_classes,
            multi_label=self.multi_label,
            group=None if self.group is None else self.group[mask],
        )

    def one_vs_rest(self, cls: int) -> AnnotationTable:
        """Single-label binary table (1 = ``cls`` chosen/flagged, 0 = not) over the same annotations.

        Raises:
            ValueError: if ``cls`` is not a valid class index.
        """
        if not 0 <= cls < self.n_classes:
            raise ValueError(f"class {cls} out of range [0, {self.n_classes - 1}]")
        binary = self.label[:, cls] if self.multi_label else (self.label == cls)
        return AnnotationTable(
            item=self.item,
            annotator=self.annotator,
            label=binary.astype(np.int64),
            n_items=self.n_items,
            n_annotators=self.n_annotators,
            n_classes=2,
            group=self.group,
        )

    @classmethod
    def from_dense(cls, matrix: np.ndarray, *, n_classes: int, missing: int = -1) -> AnnotationTable:
        """Build a single-label table from an items × annotators matrix with ``missing`` for gaps.

        Raises:
            ValueError: if ``matrix`` is not two-dimensional integer data, or labels are out of range.
        """
        matrix = np.asarray(matrix)
        if matrix.ndim != 2:
            raise ValueError(f"matrix must be two-dimensional, got shape {matrix.shape}")
        item, annotator = np.nonzero(matrix != missing)
        return cls(
            item=item,
            annotator=annotator,
            label=matrix[item, annotator],
            n_items=matrix.shape[0],
            n_annotators=matrix.shape[1],
            n_classes=n_classes,
        )
