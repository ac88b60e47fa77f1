"""Consensus spans from several annotators: token-level aggregation decoded back to spans (no Django).

1. Every annotation gives each token of its document a value (``kinds.spans.metrics``: "O" or the label of the
   span covering the token's first character). The values of all tokens form one items × annotators table, and
   the project's consensus method aggregates it: Dawid–Skene (each annotator's confusion between labels and
   "O" estimated over every token they coded, so a careful annotator outweighs a careless one, and a spammer's
   votes count for little) or majority vote.
2. Boundaries: a token whose consensus label continues the previous token's starts a new span when most of the
   annotators who gave it that label started a span there (two adjacent entities of the same label stay two).
3. Offsets: the span runs from its first token's start to its last token's end, unless annotators marked spans
   of that label over exactly those tokens, in which case the offsets most of them used are kept (so a span
   that leaves out a trailing comma, or starts inside a token, keeps the offsets people gave it).
4. Confidence of a span: the mean posterior (vote share for majority vote) of its label over its tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kinds.spans.metrics import SpanTable, TokenValues, span_token_ranges, token_values
from quality.metrics.consensus_dawid_skene import dawid_skene
from quality.metrics.table import AnnotationTable

__all__ = ["METHODS", "SpanConsensus", "span_consensus", "token_consensus"]

METHODS = ("dawid_skene", "majority_vote")


@dataclass(frozen=True)
class SpanConsensus:
    """Consensus spans of every document (sorted by document, then start) and the token-level result.

    ``token_label`` is per global token (``0`` = "O", ``1 + label``; ``-1`` on documents nobody annotated);
    ``token_confidence`` the posterior of that value; ``doc_confidence`` the least certain token of each
    annotated document (1.0 for an annotated document without tokens, NaN for an unannotated one);
    ``annotator_quality`` each annotator's expected token accuracy (Dawid–Skene) or agreement with the
    consensus (majority vote)."""

    doc: np.ndarray
    start: np.ndarray
    end: np.ndarray
    label: np.ndarray
    confidence: np.ndarray
    token_label: np.ndarray
    token_confidence: np.ndarray
    doc_confidence: np.ndarray
    annotated: np.ndarray
    annotator_quality: np.ndarray
    method: str

    def spans(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.doc, self.start, self.end, self.label

    def as_values(self, label_values: list[str]) -> list[list[dict] | None]:
        """Per document: its spans as ``{start, end, label, confidence}`` dicts (None where nobody annotated)."""
        out: list[list[dict] | None] = [[] if seen else None for seen in self.annotated.tolist()]
        for d, s, e, lab, conf in zip(
            self.doc.tolist(),
            self.start.tolist(),
            self.end.tolist(),
            self.label.tolist(),
            self.confidence.tolist(),
            strict=True,
        ):
            row = out[d]
            if row is not None:
                row.append({"start": s, "end": e, "label": label_values[lab], "confidence": round(conf, 6)})
        return out


def token_consensus(
    table: SpanTable, values: TokenValues, *, method: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per global token: consensus value (-1 where nobody annotated the document), its posterior, and the
    annotator quality of the method."""
    n_units = int(table.tokens.start.size)
    c = table.n_labels + 1
    token_table = AnnotationTable(
        item=values.unit,
        annotator=values.annotator,
        label=values.value,
        n_items=n_units,
        n_annotators=max(table.n_annotators, 1),
        n_classes=max(c, 2),
    )
    if method == "dawid_skene":
        result = dawid_skene(table=token_table).consensus
        posteriors = result.posteriors
        assert posteriors is not None  # Dawid–Skene always has them
        label = result.label
        confidence = np.where(label >= 0, posteriors[np.arange(n_units), np.maximum(label, 0)], np.nan)
        return label, confidence, result.annotator_quality
    if method != "majority_vote":
        raise ValueError(f"unknown span consensus method {method!r}; choose one of {METHODS}")
    counts = np.bincount(values.unit * c + values.value, minlength=n_units * c).reshape(n_units, c)
    total = counts.sum(axis=1)
    # Ties go to "O" (the lowest value): a span half the annotators marked is not asserted.
    label = np.where(total > 0, np.argmax(counts, axis=1), -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.where(total > 0, counts.max(axis=1) / np.maximum(total, 1), np.nan)
    agree = label[values.unit] == values.value
    quality = np.bincount(values.annotator, weights=agree, minlength=table.n_annotators) / np.maximum(
        np.bincount(values.annotator, minlength=table.n_annotators), 1
    )
    return label, confidence, quality


def span_consensus(
    table: SpanTable, *, method: str = "dawid_skene", values: TokenValues | None = None
) -> SpanConsensus:
    """Consensus spans of every annotated document (see the module docstring).

    Raises:
        ValueError: for an unknown ``method``.
    """
    values = token_values(table) if values is None else values
    tokens = table.tokens
    n_units = int(tokens.start.size)
    label, confidence, quality = token_consensus(table, values, method=method)
    token_doc = np.repeat(np.arange(tokens.n_docs), tokens.count)

    # A token starts a new span of its label when most annotators who gave it that label started one there.
    agrees = label[values.unit] == values.value
    label_votes = np.bincount(values.unit[agrees], minlength=n_units)
    begin_votes = np.bincount(values.unit[agrees & values.begins], minlength=n_units)
    entity = label > 0
    new_span = entity.copy()
    if n_units > 1:
        continues = (label[1:] == label[:-1]) & (token_doc[1:] == token_doc[:-1])
        new_span[1:] &= ~continues | (2 * begin_votes[1:] > label_votes[1:])
    span_of_token = np.cumsum(new_span) - 1
    units = np.flatnonzero(entity)
    span_id = span_of_token[units]
    n_spans = int(new_span.sum())
    first = np.flatnonzero(new_span)
    last = np.zeros(n_spans, dtype=np.int64)
    last[span_id] = units  # units ascend, so each span keeps its last token
    span_label = label[first] - 1
    length = np.bincount(span_id, minlength=n_spans)
    span_conf = np.bincount(span_id, weights=confidence[units], minlength=n_spans) / np.maximum(length, 1)
    start = tokens.start[first].copy()
    end = tokens.end[last].copy()
    _keep_annotated_offsets(table, first, last, span_label, start, end, n_units)

    annotated = np.zeros(tokens.n_docs, dtype=bool)
    annotated[table.doc] = True
    doc_conf = np.full(tokens.n_docs, np.nan)
    doc_conf[annotated] = 1.0
    if n_units:
        seen = label >= 0
        lowest = np.full(tokens.n_docs, np.inf)
        np.minimum.at(lowest, token_doc[seen], confidence[seen])
        doc_conf = np.where(np.isfinite(lowest), lowest, doc_conf)
    return SpanConsensus(
        doc=token_doc[first],
        start=start,
        end=end,
        label=span_label,
        confidence=span_conf,
        token_label=label,
        token_confidence=confidence,
        doc_confidence=doc_conf,
        annotated=annotated,
        annotator_quality=np.asarray(quality, dtype=np.float64),
        method=method,
    )


def _keep_annotated_offsets(
    table: SpanTable,
    first: np.ndarray,
    last: np.ndarray,
    label: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    n_units: int,
) -> None:
    """Replace token-boundary offsets, in place, by the offsets most annotators used for a span of the same label
    over exactly the same tokens."""
    lo, hi = span_token_ranges(table)
    real = hi > lo
    if not real.any() or first.size == 0:
        return
    k = max(table.n_labels, 1)
    width = n_units + 1
    key = (lo[real] * width + (hi[real] - 1)) * k + table.label[real]
    s, e = table.start[real], table.end[real]
    order = np.lexsort((e, s, key))
    key, s, e = key[order], s[order], e[order]
    # Runs of identical (key, start, end), then the longest run per key (first one on a tie).
    boundary = np.r_[True, (key[1:] != key[:-1]) | (s[1:] != s[:-1]) | (e[1:] != e[:-1])]
    run_start = np.flatnonzero(boundary)
    run_len = np.diff(np.r_[run_start, key.size])
    run_key = key[run_start]
    pick = np.lexsort((-run_len, run_key))
    best = np.r_[True, run_key[pick][1:] != run_key[pick][:-1]]
    chosen = run_start[pick[best]]
    best_key = key[chosen]
    wanted = (first * width + last) * k + label
    pos = np.minimum(np.searchsorted(best_key, wanted), best_key.size - 1)
    found = best_key[pos] == wanted
    start[found] = s[chosen[pos[found]]]
    end[found] = e[chosen[pos[found]]]
