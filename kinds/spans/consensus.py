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
from scipy import sparse
from scipy.special import logsumexp

from kinds.spans.metrics import SpanTable, TokenValues, concatenated_ranges, span_token_ranges, token_values
from quality.metrics.consensus_dawid_skene import (
    CLASS_PRIOR_FACTOR,
    DEFAULT_PRIOR_STRENGTH,
    MIN_ANNOTATOR_ITEMS,
)

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
    if method == "dawid_skene":
        k = max(c, 2)
        unit_pattern, pattern_rows, weights = token_patterns(values, n_units, k)
        posteriors, quality = weighted_dawid_skene(
            pattern_rows=pattern_rows, weights=weights, n_annotators=max(table.n_annotators, 1), k=k
        )
        coded = unit_pattern >= 0
        label = np.full(n_units, -1, dtype=np.int64)
        confidence = np.full(n_units, np.nan)
        if posteriors.size:
            top = np.argmax(posteriors, axis=1)
            label[coded] = top[unit_pattern[coded]]
            pattern_confidence = _capped_without_majority(
                posteriors[np.arange(top.size), top], top, pattern_rows, k
            )
            confidence[coded] = pattern_confidence[unit_pattern[coded]]
        return label, confidence, quality
    if method != "majority_vote":
        raise ValueError(f"unknown span consensus method {method!r}; choose one of {METHODS}")
    counts = np.bincount(values.unit.astype(np.int64) * c + values.value, minlength=n_units * c).reshape(
        n_units, c
    )
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


def _capped_without_majority(
    posterior: np.ndarray, top: np.ndarray, pattern_rows: np.ndarray, k: int
) -> np.ndarray:
    """A pattern's confidence is its posterior, except where no value has a strict majority of the votes: there
    only the fitted confusion matrices decide, and with few voters (two annotators split one against one) they
    fit themselves to whichever side the first step tilted to, reaching 0.96–0.99 on a coin toss. Such a token
    is as certain as the share of votes for the chosen value, so a one-against-one split reads 0.5 and goes to
    review; unanimous tokens and real majorities keep Dawid–Skene's posterior."""
    votes = np.zeros((posterior.size, k))
    np.add.at(votes, (pattern_rows[0], pattern_rows[1] % k), 1.0)
    voters = votes.sum(axis=1)
    no_majority = votes.max(axis=1) * 2 <= voters
    share = votes[np.arange(posterior.size), top] / np.maximum(voters, 1)
    return np.where(no_majority, np.minimum(posterior, share), posterior)


def token_patterns(values: TokenValues, n_units: int, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tokens grouped by their vote pattern (which annotator gave which value): most tokens of a project share a
    handful of patterns ("everyone said O"), so the aggregation runs once per pattern. Returns each unit's
    pattern (-1 for units nobody coded), and per pattern the ``(pattern, annotator * c + value)`` rows as one
    sparse-ready pair of arrays (``rows``: pattern index, ``cols``: annotator-value code) plus pattern weights
    (how many units share it), packed as ``(unit_pattern, (rows, cols), weights)``."""
    code = values.annotator.astype(np.int64) * c + values.value
    order = np.lexsort((code, values.unit))
    code = code[order]
    per_unit = np.bincount(values.unit, minlength=n_units)
    del order
    unit_pattern = np.full(n_units, -1, dtype=np.int64)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    next_pattern = 0
    starts = np.concatenate([[0], np.cumsum(per_unit)])
    for m in np.unique(per_unit[per_unit > 0]).tolist():
        units_m = np.flatnonzero(per_unit == m)
        if units_m.size * m == code.size:
            # Every coded unit has m values (each document has the same annotators' count): no gather needed.
            block = code.reshape(-1, m)
        else:
            block = code[concatenated_ranges(starts[units_m], np.full(units_m.size, m))].reshape(-1, m)
        base = int(code.max(initial=0)) + 1
        if m * np.log2(base) < 62:
            # One integer per pattern: a 1-D unique is many times faster than unique over rows.
            key = block @ (base ** np.arange(m, dtype=np.int64))
            _, first, inverse, counts = np.unique(
                key, return_index=True, return_inverse=True, return_counts=True
            )
            patterns = block[first]
        else:
            patterns, inverse, counts = np.unique(block, axis=0, return_inverse=True, return_counts=True)
        unit_pattern[units_m] = next_pattern + inverse.ravel()
        rows.append(np.repeat(np.arange(patterns.shape[0]) + next_pattern, m))
        cols.append(patterns.ravel())
        weights.append(counts)
        next_pattern += patterns.shape[0]
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return unit_pattern, np.stack([empty, empty]), empty
    return unit_pattern, np.stack([np.concatenate(rows), np.concatenate(cols)]), np.concatenate(weights)


def weighted_dawid_skene(
    *,
    pattern_rows: np.ndarray,
    weights: np.ndarray,
    n_annotators: int,
    k: int,
    max_iter: int = 100,
    tol: float = 1e-6,
    smoothing: float = 0.01,
    prior_strength: float = DEFAULT_PRIOR_STRENGTH,
    min_annotator_items: int = MIN_ANNOTATOR_ITEMS,
) -> tuple[np.ndarray, np.ndarray]:
    """Dawid–Skene on vote patterns each standing for ``weights[p]`` identical units: the fit of
    ``quality.metrics.consensus_dawid_skene.dawid_skene`` (same priors, smoothing and pooled matrix for thin
    annotators) on the table that repeats each pattern that many times, at the cost of the patterns alone.
    Returns the posteriors per pattern and each annotator's expected accuracy."""
    n_patterns = int(weights.size)
    x = sparse.csr_matrix(
        (np.ones(pattern_rows.shape[1]), (pattern_rows[0], pattern_rows[1])),
        shape=(n_patterns, n_annotators * k),
    )
    xt = x.T.tocsr()
    w = weights.astype(np.float64)
    per_annotator = np.bincount(pattern_rows[1] // k, weights=w[pattern_rows[0]], minlength=n_annotators)
    thin = per_annotator < min_annotator_items
    votes = np.zeros((n_patterns, k))
    np.add.at(votes, (pattern_rows[0], pattern_rows[1] % k), 1.0)
    posteriors = votes / np.maximum(votes.sum(axis=1, keepdims=True), 1)
    log_lik = -np.inf
    confusion = np.full((n_annotators, k, k), 1.0 / k)
    priors = np.full(k, 1.0 / k)
    for _ in range(max_iter):
        soft = np.asarray(xt @ (posteriors * w[:, None])).reshape(n_annotators, k, k).transpose(0, 2, 1)
        total = soft.sum()
        pooled = float(np.einsum("akk->", soft) / total) if total > 0 else 1.0 / k
        pooled = min(max(pooled, 1.0 / k), 1.0)
        symmetric = np.full((k, k), (1.0 - pooled) / max(k - 1, 1))
        np.fill_diagonal(symmetric, pooled)
        confusion = soft + smoothing
        if prior_strength > 0 and k > 1:
            confusion += prior_strength * symmetric
        confusion /= confusion.sum(axis=2, keepdims=True)
        if thin.any() and k > 1:
            confusion[thin] = (symmetric + smoothing) / (1.0 + k * smoothing)
        priors = (posteriors * w[:, None]).sum(axis=0) + smoothing + CLASS_PRIOR_FACTOR * prior_strength
        priors = priors / priors.sum()
        log_joint = (
            x @ np.log(confusion).transpose(0, 2, 1).reshape(n_annotators * k, k) + np.log(priors)[None, :]
        )
        log_norm = logsumexp(log_joint, axis=1)
        posteriors = np.exp(log_joint - log_norm[:, None])
        new_log_lik = float((log_norm * w).sum())
        if abs(new_log_lik - log_lik) <= tol * abs(new_log_lik):
            break
        log_lik = new_log_lik
    quality = np.einsum("k,akk->a", priors, confusion)
    quality[per_annotator == 0] = np.nan
    return posteriors, quality
