"""What out-of-sample token probabilities say about the labels: cleanlab's token-classification label issues per
document, and the model's token and span F1 against a reference.

Labels are IO codes per token (0 = outside, ``1 + label`` inside a span of that label, see
``activelearning.tokenmodel``); a span is a maximal run of tokens with the same non-zero code. Both F1s count only
the entity classes: token F1 is micro-averaged over tokens (a token is right when its code equals the reference's,
counted where either side is inside a span), span F1 matches spans on exact (first token, last token, label).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from cleanlab.token_classification.filter import find_label_issues
from cleanlab.token_classification.rank import get_label_quality_scores


@dataclass(frozen=True)
class TokenIssues:
    """Per document: ``is_issue``, ``quality`` (cleanlab's sentence score: the worst token's self-confidence) and
    the flagged tokens (indices within the document, worst first)."""

    is_issue: np.ndarray
    quality: np.ndarray
    flagged: list[list[int]]


def token_label_issues(*, labels: list[np.ndarray], pred_probs: list[np.ndarray]) -> TokenIssues:
    """cleanlab's ``find_label_issues`` and ``get_label_quality_scores`` on the documents that have tokens (the
    others are no issue, quality NaN). Probabilities have one column per IO code and rows summing to 1."""
    n = len(labels)
    flagged: list[list[int]] = [[] for _ in range(n)]
    quality = np.full(n, np.nan)
    used = [d for d in range(n) if len(labels[d])]
    if used:
        sub_labels = [np.asarray(labels[d], dtype=np.int64).tolist() for d in used]
        sub_probs = [np.asarray(pred_probs[d], dtype=np.float64) for d in used]
        # One process: a Celery worker's process is daemonic and may not fork cleanlab's pool.
        for i, j in find_label_issues(sub_labels, sub_probs, n_jobs=1):
            flagged[used[i]].append(int(j))
        scores, _ = get_label_quality_scores(sub_labels, sub_probs)
        quality[used] = scores
    return TokenIssues(
        is_issue=np.asarray([bool(f) for f in flagged], dtype=bool), quality=quality, flagged=flagged
    )


def io_spans(codes: np.ndarray) -> list[tuple[int, int, int]]:
    """(first token, last token + 1, label) of each maximal run of one non-zero code."""
    codes = np.asarray(codes, dtype=np.int64)
    if not codes.size:
        return []
    change = np.flatnonzero(np.diff(codes)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [codes.size]])
    return [(int(s), int(e), int(codes[s]) - 1) for s, e in zip(starts, ends, strict=True) if codes[s] > 0]


@dataclass(frozen=True)
class ModelF1:
    token_f1: float
    span_f1: float
    n_docs: int
    per_label: dict[int, dict[str, float | int]]


def _f1(tp: int, n_pred: int, n_ref: int) -> float:
    return float(2 * tp / (n_pred + n_ref)) if n_pred + n_ref else float("nan")


def model_f1(*, predicted: list[np.ndarray], reference: list[np.ndarray], n_labels: int) -> ModelF1:
    """Token and exact-span F1 of ``predicted`` IO codes against ``reference`` ones, document by document, with
    per label ``{span_precision, span_recall, span_f1, support}`` (support: reference spans)."""
    tp_tok = n_pred_tok = n_ref_tok = 0
    tp = np.zeros(n_labels, dtype=np.int64)
    n_pred = np.zeros(n_labels, dtype=np.int64)
    n_ref = np.zeros(n_labels, dtype=np.int64)
    for pred, ref in zip(predicted, reference, strict=True):
        pred, ref = np.asarray(pred), np.asarray(ref)
        tp_tok += int(((pred == ref) & (ref > 0)).sum())
        n_pred_tok += int((pred > 0).sum())
        n_ref_tok += int((ref > 0).sum())
        p_spans, r_spans = set(io_spans(pred)), set(io_spans(ref))
        for spans, counter in ((p_spans, n_pred), (r_spans, n_ref)):
            for _, _, label in spans:
                counter[label] += 1
        for _, _, label in p_spans & r_spans:
            tp[label] += 1
    per_label = {
        label: {
            "span_precision": float(tp[label] / n_pred[label]) if n_pred[label] else float("nan"),
            "span_recall": float(tp[label] / n_ref[label]) if n_ref[label] else float("nan"),
            "span_f1": _f1(int(tp[label]), int(n_pred[label]), int(n_ref[label])),
            "support": int(n_ref[label]),
        }
        for label in range(n_labels)
    }
    return ModelF1(
        token_f1=_f1(tp_tok, n_pred_tok, n_ref_tok),
        span_f1=_f1(int(tp.sum()), int(n_pred.sum()), int(n_ref.sum())),
        n_docs=len(reference),
        per_label=per_label,
    )
