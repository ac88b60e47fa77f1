"""Agreement between span annotations: arrays in, figures out (no Django).

A :class:`SpanTable` holds every live annotation of a project flattened: annotation ``a`` is annotator
``annotator[a]``'s answer on document ``doc[a]``, and span ``j`` (``start[j]``, ``end[j]``, ``label[j]``,
character offsets, end exclusive) belongs to annotation ``owner[j]``. Labels are indices ``0..n_labels-1``.

Two views of the same answers:

* **spans**: two spans match exactly when their (start, end, label) are equal, and overlap when their labels
  are equal and their character ranges intersect. A pair of annotators' F1 over the documents both annotated is
  ``2 × exact matches ÷ (spans of one + spans of the other)``; the partial-overlap F1 counts, on each side, the
  spans that overlap a span of the other side: ``(overlapping of one + overlapping of the other) ÷ (spans of one
  + spans of the other)``.
* **tokens**: tokens are maximal runs of non-whitespace (``\\S+``); an annotation gives each token of its
  document the value ``1 + label`` of the span covering the token's first character (the first such span in
  (start, end, label) order when spans of different labels overlap), else ``0`` ("O"). Every token of a document
  with at least two annotations is a unit; annotators are the coders. Nominal Krippendorff's α, Fleiss' κ and
  Cohen's κ per annotator pair are computed on these values, overall and per label (one-vs-rest: the label
  against everything else, "O" included).

Precondition for the span matching: spans of the same label within one annotation do not overlap (the API
refuses them), so within (annotation, label) the spans are ordered by start and by end alike.

Everything is vectorised over all documents at once: no Python loop over documents, annotations or spans.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter

import numpy as np

__all__ = [
    "PairwiseSpanF1",
    "SpanTable",
    "TokenAgreement",
    "Tokens",
    "annotation_pairs",
    "concatenated_ranges",
    "pairwise_span_f1",
    "reference_scores",
    "span_matches",
    "span_table",
    "token_agreement",
    "token_values",
    "tokenize",
]


@dataclass(frozen=True)
class Tokens:
    """Token character ranges of every document: document ``d``'s tokens are ``ptr[d]:ptr[d + 1]``."""

    start: np.ndarray
    end: np.ndarray
    ptr: np.ndarray

    @property
    def n_docs(self) -> int:
        return int(self.ptr.size - 1)

    @property
    def count(self) -> np.ndarray:
        return np.diff(self.ptr)


# What ``\s`` matches in a ``str`` pattern: the characters ``str.isspace`` calls whitespace.
_SPACE_CODES = np.array([c for c in range(0x3001) if chr(c).isspace()], dtype=np.uint32)


def tokenize(texts: Iterable[str]) -> Tokens:
    """The ``\\S+`` tokens of each text, found over all texts at once on their code points."""
    texts = [text or "" for text in texts]
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    # One space between texts so that no token runs across two of them.
    joined = " ".join(texts)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    solid = ~np.isin(codes, _SPACE_CODES)
    edges = np.diff(np.concatenate([[False], solid, [False]]).astype(np.int8))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    text_start = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]) if texts else np.zeros(0, dtype=np.int64)
    doc = np.searchsorted(text_start, starts, side="right") - 1
    ptr = np.concatenate([[0], np.cumsum(np.bincount(doc, minlength=len(texts)))]).astype(np.int64)
    return Tokens(
        start=(starts - text_start[doc]).astype(np.int64),
        end=(ends - text_start[doc]).astype(np.int64),
        ptr=ptr,
    )


@dataclass(frozen=True)
class SpanTable:
    """Span annotations in long form; see the module docstring."""

    doc: np.ndarray
    annotator: np.ndarray
    owner: np.ndarray
    start: np.ndarray
    end: np.ndarray
    label: np.ndarray
    n_docs: int
    n_annotators: int
    n_labels: int
    tokens: Tokens

    @property
    def n_annotations(self) -> int:
        return int(self.doc.size)

    @property
    def n_spans(self) -> int:
        return int(self.owner.size)

    def spans_per_annotation(self) -> np.ndarray:
        return np.bincount(self.owner, minlength=self.n_annotations)


def span_table(
    *,
    texts: Sequence[str],
    annotations: Iterable[tuple[int, int, list[dict]]],
    label_values: Sequence[str],
    n_annotators: int | None = None,
    tokens: Tokens | None = None,
) -> SpanTable:
    """A :class:`SpanTable` from ``(doc index, annotator index, spans)`` triples (spans as stored:
    ``{"start", "end", "label"}`` dicts). Spans with a label not in ``label_values`` are left out."""
    index = {value: i for i, value in enumerate(label_values)}
    rows = list(annotations)
    doc = [row[0] for row in rows]
    annotator = [row[1] for row in rows]
    answers = [row[2] or () for row in rows]
    flat = list(chain.from_iterable(answers))
    n = len(flat)
    owner_all = np.repeat(
        np.arange(len(rows), dtype=np.int64), np.fromiter(map(len, answers), np.int64, len(rows))
    )
    start_all = np.fromiter(map(itemgetter("start"), flat), np.int64, n)
    end_all = np.fromiter(map(itemgetter("end"), flat), np.int64, n)
    label_all = np.fromiter((index.get(value, -1) for value in map(itemgetter("label"), flat)), np.int64, n)
    known = label_all >= 0
    owner, start, end, label = owner_all[known], start_all[known], end_all[known], label_all[known]
    annotator_array = np.asarray(annotator, dtype=np.int64)
    return SpanTable(
        doc=np.asarray(doc, dtype=np.int64),
        annotator=annotator_array,
        owner=np.asarray(owner, dtype=np.int64),
        start=np.asarray(start, dtype=np.int64),
        end=np.asarray(end, dtype=np.int64),
        label=np.asarray(label, dtype=np.int64),
        n_docs=len(texts),
        n_annotators=int(n_annotators if n_annotators is not None else (annotator_array.max(initial=-1) + 1)),
        n_labels=len(label_values),
        tokens=tokens if tokens is not None else tokenize(texts),
    )


def span_parts(value: object, index: dict[str, int]):
    """The spans of one stored answer that :func:`span_table` keeps, as ``(label code, start, end)``: those with a
    label in the project (the rows of ``quality.adapters.answers.AnswerParts`` for spans)."""
    for span in value or ():  # type: ignore[attr-defined]
        code = index.get(span["label"], -1)
        if code >= 0:
            yield (code, int(span["start"]), int(span["end"]))


def span_table_from_columns(
    *,
    texts: Sequence[str],
    answer_item: np.ndarray,
    answer_user: np.ndarray,
    columns,
    n_labels: int,
    n_annotators: int,
    tokens: Tokens | None = None,
) -> SpanTable:
    """The :class:`SpanTable` of :func:`span_table` from answers read as ``AnswerColumns`` (rows of
    :func:`span_parts`)."""
    return SpanTable(
        doc=np.asarray(answer_item, dtype=np.int64),
        annotator=np.asarray(answer_user, dtype=np.int64),
        owner=columns.owner(),
        start=columns.numbers[:, 0].astype(np.int64),
        end=columns.numbers[:, 1].astype(np.int64),
        label=columns.label.astype(np.int64),
        n_docs=len(texts),
        n_annotators=int(n_annotators),
        n_labels=n_labels,
        tokens=tokens if tokens is not None else tokenize(texts),
    )


# --- span matching --------------------------------------------------------------------------------------------


def span_matches(
    a: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    b: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    *,
    n_labels: int,
    partial: bool = False,
) -> np.ndarray:
    """For each span of ``a`` (``(group, start, end, label)`` arrays), whether ``b`` holds a span of the same
    group and label with the same offsets (or, ``partial``, an overlapping one). Precondition: ``b``'s spans of one
    (group, label) do not overlap."""
    a_group, a_start, a_end, a_label = a
    b_group, b_start, b_end, b_label = b
    if a_group.size == 0 or b_group.size == 0:
        return np.zeros(a_group.size, dtype=bool)
    width = int(max(a_end.max(), b_end.max())) + 2
    bucket = max(n_labels, 1)
    b_key = (b_group * bucket + b_label) * width + b_end
    order = np.argsort(b_key, kind="stable")
    sorted_key = b_key[order]
    a_bucket = (a_group * bucket + a_label) * width
    if partial:
        # The first span of b in the bucket ending after a starts is the only one that can overlap it.
        pos = np.searchsorted(sorted_key, a_bucket + a_start, side="right")
        inside = pos < sorted_key.size
        pos = np.minimum(pos, sorted_key.size - 1)
        hit = order[pos]
        return inside & (sorted_key[pos] // width == a_bucket // width) & (b_start[hit] < a_end)
    query = a_bucket + a_end
    pos = np.minimum(np.searchsorted(sorted_key, query), sorted_key.size - 1)
    return (sorted_key[pos] == query) & (b_start[order[pos]] == a_start)


def annotation_pairs(doc: np.ndarray, annotator: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of annotations on the same document, as ``(first, second)`` annotation indices with
    ``annotator[first] < annotator[second]``."""
    order = np.lexsort((annotator, doc))
    sorted_doc = doc[order]
    firsts: list[np.ndarray] = []
    seconds: list[np.ndarray] = []
    shift = 1
    while shift < order.size:
        same = sorted_doc[shift:] == sorted_doc[:-shift]
        if not same.any():
            break
        firsts.append(order[:-shift][same])
        seconds.append(order[shift:][same])
        shift += 1
    if not firsts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(firsts), np.concatenate(seconds)


@dataclass(frozen=True)
class PairwiseSpanF1:
    """Span F1 per annotator pair (``annotator_a < annotator_b``) over the documents both annotated."""

    annotator_a: np.ndarray
    annotator_b: np.ndarray
    n_overlap: np.ndarray
    n_spans: np.ndarray
    exact_matches: np.ndarray
    partial_matched: np.ndarray
    #: ``(n_pairs, n_labels)``: spans of both sides and exact matches, per label
    label_spans: np.ndarray
    label_matches: np.ndarray
    label_partial: np.ndarray
    min_overlap: int
    #: per (document, annotator pair, label) with a span on either side: the spans of both sides, exact matches
    #: and overlapping spans there (the item-level sums the bootstrap resamples)
    item_doc: np.ndarray | None = None
    item_pair: np.ndarray | None = None
    item_label: np.ndarray | None = None
    item_spans: np.ndarray | None = None
    item_exact: np.ndarray | None = None
    item_partial: np.ndarray | None = None

    @property
    def kept(self) -> np.ndarray:
        return self.n_overlap >= self.min_overlap

    def f1(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n_spans > 0, 2 * self.exact_matches / self.n_spans, np.nan)

    def partial_f1(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n_spans > 0, self.partial_matched / self.n_spans, np.nan)

    def _mean(self, values: np.ndarray, present: np.ndarray) -> float:
        keep = self.kept & present
        return float(values[keep].mean()) if keep.any() else float("nan")

    @property
    def mean_f1(self) -> float:
        """Mean over kept pairs with any span (the report's ``mean_pairwise_span_f1``)."""
        return self._mean(self.f1(), self.n_spans > 0)

    @property
    def mean_partial_f1(self) -> float:
        return self._mean(self.partial_f1(), self.n_spans > 0)

    def per_label_f1(self) -> np.ndarray:
        """Mean exact F1 per label over kept pairs where either side has a span of that label."""
        out = np.full(self.label_spans.shape[1], np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = 2 * self.label_matches / self.label_spans
        for c in range(out.size):
            out[c] = self._mean(f1[:, c], self.label_spans[:, c] > 0)
        return out

    def per_label_partial_f1(self) -> np.ndarray:
        out = np.full(self.label_spans.shape[1], np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            partial = self.label_partial / self.label_spans
        for c in range(out.size):
            out[c] = self._mean(partial[:, c], self.label_spans[:, c] > 0)
        return out


def pairwise_span_f1(table: SpanTable, *, min_overlap: int = 5) -> PairwiseSpanF1:
    """Exact and partial-overlap span F1 for every annotator pair sharing documents; pairs sharing fewer than
    ``min_overlap`` documents are kept in the arrays but left out of the means.

    Raises:
        ValueError: if ``min_overlap < 1``.
    """
    if min_overlap < 1:
        raise ValueError("min_overlap must be at least 1")
    first, second = annotation_pairs(table.doc, table.annotator)
    n_ann, m, k = table.n_annotations, max(table.n_annotators, 1), max(table.n_labels, 1)
    pair_code = table.annotator[first] * m + table.annotator[second]
    codes, pair = np.unique(pair_code, return_inverse=True)
    n_pairs = codes.size
    per_ann = table.spans_per_annotation()
    per_ann_label = np.bincount(table.owner * k + table.label, minlength=n_ann * k).reshape(n_ann, k)

    span_order = np.argsort(table.owner, kind="stable")
    span_ptr = np.concatenate([[0], np.cumsum(per_ann)])
    label_matches = np.zeros((n_pairs, k), dtype=np.int64)
    label_partial = np.zeros((n_pairs, k), dtype=np.int64)
    item_rows: list[tuple[np.ndarray, ...]] = []
    # A chunk of document pairs at a time: every span is repeated once per pair and side, so the whole
    # project at once would hold several arrays of four times the spans.
    for begin in range(0, first.size, PAIR_CHUNK):
        chunk = slice(begin, begin + PAIR_CHUNK)
        exact, partial = _chunk_matches(table, first[chunk], second[chunk], per_ann, span_order, span_ptr, k)
        label_matches += _pair_label_sum(pair[chunk], exact, n_pairs)
        label_partial += _pair_label_sum(pair[chunk], partial, n_pairs)
        spans = per_ann_label[first[chunk]] + per_ann_label[second[chunk]]
        row, label = np.nonzero(spans)
        item_rows.append(
            (
                table.doc[first[chunk]][row],
                pair[chunk][row],
                label,
                spans[row, label],
                exact[row, label],
                partial[row, label],
            )
        )
    columns = (
        [np.concatenate(parts) for parts in zip(*item_rows, strict=True)]
        if item_rows
        else [np.zeros(0, dtype=np.int64)] * 6
    )
    return PairwiseSpanF1(
        annotator_a=codes // m,
        annotator_b=codes % m,
        n_overlap=np.bincount(pair, minlength=n_pairs),
        n_spans=np.bincount(pair, weights=per_ann[first] + per_ann[second], minlength=n_pairs).astype(
            np.int64
        ),
        exact_matches=label_matches.sum(axis=1),
        partial_matched=label_partial.sum(axis=1),
        label_spans=_pair_label_sum(pair, per_ann_label[first] + per_ann_label[second], n_pairs),
        label_matches=label_matches,
        label_partial=label_partial,
        min_overlap=min_overlap,
        item_doc=columns[0],
        item_pair=columns[1],
        item_label=columns[2],
        item_spans=columns[3],
        item_exact=columns[4],
        item_partial=columns[5],
    )


PAIR_CHUNK = 100_000


def _chunk_matches(
    table: SpanTable,
    first: np.ndarray,
    second: np.ndarray,
    per_ann: np.ndarray,
    span_order: np.ndarray,
    span_ptr: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact matches (counted once) and overlapping spans (counted on both sides) per document pair and label
    (``(len(first), k)`` each), over the document pairs ``(first, second)``."""
    # Each span of each annotation appears once per pair its annotation is in, grouped by that doc-pair.
    sides = np.concatenate([first, second])
    partner = np.concatenate([second, first])
    # One group per doc-pair and direction: a span is only looked up among its own partner's spans.
    doc_pair = np.concatenate([2 * np.arange(first.size), 2 * np.arange(first.size) + 1])
    counts = per_ann[sides]
    spans = span_order[concatenated_ranges(span_ptr[sides], counts)]
    group = np.repeat(doc_pair, counts)
    partner_counts = per_ann[partner]
    partner_rows = span_order[concatenated_ranges(span_ptr[partner], partner_counts)]
    partner_group = np.repeat(doc_pair, partner_counts)
    a = (group, table.start[spans], table.end[spans], table.label[spans])
    b = (partner_group, table.start[partner_rows], table.end[partner_rows], table.label[partner_rows])
    exact = span_matches(a, b, n_labels=k)
    partial = span_matches(a, b, n_labels=k, partial=True)
    # Exact matches are one-to-one, so counting them on the first side of each doc-pair counts each once.
    first_side = np.repeat(np.arange(2) == 0, [int(per_ann[first].sum()), int(per_ann[second].sum())])
    key = (group // 2) * k + table.label[spans]
    size = first.size * k
    return (
        np.bincount(key[exact & first_side], minlength=size).reshape(first.size, k),
        np.bincount(key[partial], minlength=size).reshape(first.size, k),
    )


def _pair_label_sum(pair: np.ndarray, values: np.ndarray, n_pairs: int) -> np.ndarray:
    out = np.zeros((n_pairs, values.shape[1]), dtype=np.int64)
    for column in range(values.shape[1]):
        out[:, column] = np.rint(np.bincount(pair, weights=values[:, column], minlength=n_pairs))
    return out


def concatenated_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(s, s + n)`` for each (s, n)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(np.asarray(starts, dtype=np.int64) - offsets, lengths) + np.arange(total)


@dataclass(frozen=True)
class ReferenceScores:
    """Each annotator's spans against reference spans (consensus or gold) on the documents both have."""

    n_docs: np.ndarray
    n_spans: np.ndarray
    n_reference: np.ndarray
    matches: np.ndarray

    def precision(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n_spans > 0, self.matches / self.n_spans, np.nan)

    def recall(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n_reference > 0, self.matches / self.n_reference, np.nan)

    def f1(self) -> np.ndarray:
        total = self.n_spans + self.n_reference
        with np.errstate(invalid="ignore", divide="ignore"):
            # No span on either side over the annotator's documents is full agreement ("no entities" twice).
            return np.where(total > 0, 2 * self.matches / total, np.where(self.n_docs > 0, 1.0, np.nan))


def reference_scores(
    table: SpanTable,
    *,
    reference: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    has_reference: np.ndarray,
) -> ReferenceScores:
    """Exact-span precision, recall and F1 of each annotator against ``reference`` spans (``(doc, start, end,
    label)`` arrays) on the documents where ``has_reference`` (bool per document) is true."""
    m, k = max(table.n_annotators, 1), max(table.n_labels, 1)
    scored = has_reference[table.doc]
    span_scored = scored[table.owner]
    a = (
        table.doc[table.owner][span_scored],
        table.start[span_scored],
        table.end[span_scored],
        table.label[span_scored],
    )
    matched = span_matches(a, reference, n_labels=k)
    ref_per_doc = np.bincount(reference[0], minlength=table.n_docs)
    who = table.annotator[table.owner][span_scored]
    return ReferenceScores(
        n_docs=np.bincount(table.annotator[scored], minlength=m),
        n_spans=np.bincount(who, minlength=m),
        n_reference=np.bincount(
            table.annotator[scored], weights=ref_per_doc[table.doc[scored]], minlength=m
        ).astype(np.int64),
        matches=np.bincount(who[matched], minlength=m),
    )


# --- token encoding ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenValues:
    """Every annotation's value for every token of its document: rows ``ptr[a]:ptr[a + 1]`` are annotation
    ``a``'s, in token order. ``value`` is ``0`` ("O") or ``1 + label``; ``begins`` marks the first token of a span;
    ``span`` is the covering span's index (-1 for "O")."""

    unit: np.ndarray
    annotator: np.ndarray
    value: np.ndarray
    begins: np.ndarray
    span: np.ndarray
    ptr: np.ndarray

    def bio(self) -> np.ndarray:
        """BIO codes: 0 = O, ``1 + 2 × label`` = B-label, ``2 + 2 × label`` = I-label."""
        value = self.value.astype(np.int64)
        return np.where(value == 0, 0, 2 * value - self.begins.astype(np.int64))


def span_token_ranges(table: SpanTable) -> tuple[np.ndarray, np.ndarray]:
    """Each span's tokens as global token indices ``[lo, hi)``: the tokens whose first character it covers."""
    tokens = table.tokens
    if tokens.start.size == 0 or table.n_spans == 0:
        empty = np.zeros(table.n_spans, dtype=np.int64)
        return empty, empty
    width = int(max(tokens.end.max(initial=0), table.end.max(initial=0))) + 1
    token_doc = np.repeat(np.arange(tokens.n_docs), tokens.count)
    key = token_doc * width + tokens.start
    span_doc = table.doc[table.owner] * width
    lo = np.searchsorted(key, span_doc + table.start, side="left")
    hi = np.searchsorted(key, span_doc + table.end, side="left")
    return lo, hi


def token_values(table: SpanTable) -> TokenValues:
    """The token encoding of every annotation (see the module docstring)."""
    tokens = table.tokens
    n_tok = tokens.count[table.doc]
    ptr = np.concatenate([[0], np.cumsum(n_tok)]).astype(np.int64)
    total = int(ptr[-1])
    # Narrow columns: a large project has tens of millions of token values, held for the whole run.
    index_type: type[np.signedinteger] = (
        np.int32 if max(int(table.tokens.start.size), table.n_spans) < 2**31 else np.int64
    )
    unit = concatenated_ranges(tokens.ptr[table.doc], n_tok).astype(index_type)
    cover = np.full(total, -1, dtype=index_type)
    lo, hi = span_token_ranges(table)
    lengths = np.maximum(hi - lo, 0)
    # Positions of each span's tokens among its annotation's rows; spans written last to first so that where
    # spans of different labels overlap the first one in (start, end, label) order wins (the last write does).
    rank = np.lexsort((table.label, table.end, table.start, table.owner))[::-1]
    base = ptr[table.owner] + lo - tokens.ptr[table.doc[table.owner]]
    rows = concatenated_ranges(base[rank], lengths[rank])
    cover[rows] = np.repeat(rank, lengths[rank])
    del rows
    covered = cover >= 0
    value = np.zeros(total, dtype=np.int16 if table.n_labels < 16_000 else np.int32)
    value[covered] = table.label[cover[covered]] + 1
    begins = np.zeros(total, dtype=bool)
    begins[1:] = covered[1:] & (cover[1:] != cover[:-1])
    if total:
        begins[0] = covered[0]
    return TokenValues(
        unit=unit,
        annotator=np.repeat(table.annotator.astype(np.int32), n_tok),
        value=value,
        begins=begins,
        span=cover,
        ptr=ptr,
    )


# --- token agreement --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenAgreement:
    """Token-level agreement, overall and per label (arrays of length ``n_labels``, one-vs-rest)."""

    krippendorff_alpha: float
    fleiss_kappa: float
    mean_pairwise_cohen_kappa: float
    percent_agreement: float
    per_label_krippendorff_alpha: np.ndarray
    per_label_fleiss_kappa: np.ndarray
    per_label_cohen_kappa: np.ndarray
    n_units: int
    #: per document: pairable values, the α numerator's agreeing pairs, the values per class and the one-vs-rest
    #: agreeing pairs per label (``(n_docs, 2 + (n_labels + 1) + n_labels)``, see :func:`token_alpha_from_sums`)
    doc_stats: np.ndarray | None = None


def _alpha(n: float, diagonal: float, expected: float) -> float:
    return (
        float("nan") if not expected > 1e-12 * max(n, 1) ** 2 else 1.0 - (n - 1) * (n - diagonal) / expected
    )


def _kappa(observed: float, chance: float) -> float:
    return float("nan") if not chance < 1 - 1e-12 else (observed - chance) / (1 - chance)


def _cohen(confusion: np.ndarray) -> float:
    total = confusion.sum()
    if total == 0:
        return float("nan")
    observed = np.trace(confusion) / total
    chance = float((confusion.sum(axis=0) * confusion.sum(axis=1)).sum()) / total**2
    return _kappa(observed, chance)


def token_agreement(
    table: SpanTable, values: TokenValues | None = None, *, min_overlap: int = 5
) -> TokenAgreement:
    """Krippendorff's α (nominal), Fleiss' κ (pooled shares, mean per-unit agreement), percent agreement and the
    mean over annotator pairs sharing at least ``min_overlap`` documents of Cohen's κ, on the token values."""
    values = token_values(table) if values is None else values
    c = table.n_labels + 1
    n_units = int(table.tokens.start.size)
    counts = np.bincount(values.unit.astype(np.int64) * c + values.value, minlength=n_units * c).reshape(
        n_units, c
    )
    m = counts.sum(axis=1)
    eligible = m >= 2
    unit_doc = np.repeat(np.arange(table.tokens.n_docs), table.tokens.count)[eligible]
    counts, m = counts[eligible], m[eligible].astype(np.float64)
    same = counts * (counts - 1)
    class_n = counts.sum(axis=0)
    n = float(class_n.sum())
    diagonal = float((same.sum(axis=1) / (m - 1)).sum())
    units = float(eligible.sum())
    per_unit = same.sum(axis=1) / (m * (m - 1))
    percent = float(per_unit.mean()) if units else float("nan")
    share = class_n / n if n else class_n
    alpha = _alpha(n, diagonal, n * n - float((class_n**2).sum()))
    fleiss = _kappa(percent, float((share**2).sum())) if units else float("nan")
    label_alpha = np.full(table.n_labels, np.nan)
    label_fleiss = np.full(table.n_labels, np.nan)
    n_docs = table.tokens.n_docs
    doc_stats = np.zeros((n_docs, 2 + c + table.n_labels))
    doc_stats[:, 0] = np.bincount(unit_doc, weights=m, minlength=n_docs)
    doc_stats[:, 1] = np.bincount(unit_doc, weights=same.sum(axis=1) / (m - 1), minlength=n_docs)
    for value in range(c):
        doc_stats[:, 2 + value] = np.bincount(unit_doc, weights=counts[:, value], minlength=n_docs)
    for label in range(table.n_labels):
        x = counts[:, label + 1]
        y = m - x
        binary_same = x * (x - 1) + y * (y - 1)
        doc_stats[:, 2 + c + label] = np.bincount(unit_doc, weights=binary_same / (m - 1), minlength=n_docs)
        n1 = float(x.sum())
        label_alpha[label] = _alpha(n, float((binary_same / (m - 1)).sum()), n * n - n1 * n1 - (n - n1) ** 2)
        if units:
            p1 = n1 / n
            label_fleiss[label] = _kappa(float((binary_same / (m * (m - 1))).mean()), p1 * p1 + (1 - p1) ** 2)
    del counts, same
    mean_cohen, label_cohen = _pairwise_cohen(table, values, c, min_overlap)
    return TokenAgreement(
        krippendorff_alpha=alpha,
        fleiss_kappa=fleiss,
        mean_pairwise_cohen_kappa=mean_cohen,
        percent_agreement=percent,
        per_label_krippendorff_alpha=label_alpha,
        per_label_fleiss_kappa=label_fleiss,
        per_label_cohen_kappa=label_cohen,
        n_units=int(units),
        doc_stats=doc_stats,
    )


def token_alpha_from_sums(sums: np.ndarray, n_labels: int) -> np.ndarray:
    """Token α overall and per label (``(b, 1 + n_labels)``) from ``(b, ·)`` sums of
    :attr:`TokenAgreement.doc_stats` over (resampled) documents; the same formulas as :func:`token_agreement`."""
    c = n_labels + 1
    n, diagonal = sums[:, 0], sums[:, 1]
    class_n = sums[:, 2 : 2 + c]
    out = np.full((sums.shape[0], 1 + n_labels), np.nan)
    for row in range(sums.shape[0]):
        total = float(n[row])
        out[row, 0] = _alpha(total, float(diagonal[row]), total * total - float((class_n[row] ** 2).sum()))
        for label in range(n_labels):
            n1 = float(class_n[row, label + 1])
            out[row, 1 + label] = _alpha(
                total, float(sums[row, 2 + c + label]), total * total - n1 * n1 - (total - n1) ** 2
            )
    return out


def _pairwise_cohen(
    table: SpanTable, values: TokenValues, c: int, min_overlap: int
) -> tuple[float, np.ndarray]:
    first, second = annotation_pairs(table.doc, table.annotator)
    m = max(table.n_annotators, 1)
    codes, pair = np.unique(table.annotator[first] * m + table.annotator[second], return_inverse=True)
    kept = np.bincount(pair, minlength=codes.size) >= min_overlap
    lengths = values.ptr[first + 1] - values.ptr[first]
    # One int64 key array built in place: the rows are every token of every annotation pair (tens of millions).
    key = np.repeat(pair, lengths)
    key *= c
    key += values.value[concatenated_ranges(values.ptr[first], lengths)]
    key *= c
    key += values.value[concatenated_ranges(values.ptr[second], lengths)]
    confusion = np.bincount(key, minlength=codes.size * c * c).reshape(codes.size, c, c)
    del key
    kappas = np.array([_cohen(confusion[p]) for p in range(codes.size)])
    keep = kept & np.isfinite(kappas)
    mean = float(kappas[keep].mean()) if keep.any() else float("nan")
    per_label = np.full(table.n_labels, np.nan)
    for label in range(table.n_labels):
        v = label + 1
        label_kappas = []
        for p in np.flatnonzero(kept).tolist():
            conf = confusion[p]
            both = conf[v, v]
            only_left = conf[v].sum() - both
            only_right = conf[:, v].sum() - both
            neither = conf.sum() - both - only_left - only_right
            kappa = _cohen(np.array([[neither, only_right], [only_left, both]]))
            if np.isfinite(kappa):
                label_kappas.append(kappa)
        if label_kappas:
            per_label[label] = float(np.mean(label_kappas))
    return mean, per_label
