"""Dawid–Skene consensus: EM over per-annotator confusion matrices, in log space, on the long format.

The long table is turned once into a sparse items × (annotator, label) one-hot matrix ``X``. Both EM steps are
then one sparse product each, so an iteration costs O(n_annotations × n_classes) with no Python loop over
items or annotators:

* E-step: ``log p(y_i = k) ∝ log prior_k + (X @ L)[i, k]`` with ``L[a·K + l, k] = log π_a[k, l]``.
* M-step: ``counts[a·K + l, k] = (Xᵀ @ posteriors)[a·K + l, k]``, then ``π_a[k, l] ∝ counts + smoothing``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.special import logsumexp

from quality.metrics.consensus_result import ConsensusResult, require_pred_probs, require_single_label
from quality.metrics.table import AnnotationTable

__all__ = ["DawidSkeneResult", "dawid_skene"]

# Floor for probabilities before taking logs, so a zero prior or model probability cannot veto the annotators.
_PROB_FLOOR = 1e-12


@dataclass(frozen=True)
class DawidSkeneResult:
    """Dawid–Skene fit.

    Attributes:
        consensus: labels, max-posterior confidence, posteriors and annotator quality (expected accuracy
            ``Σ_k prior_k π_a[k, k]``; NaN for annotators without annotations).
        confusion: float ``(n_annotators, n_classes, n_classes)``; ``confusion[a, k, l]`` = P(annotator ``a``
            says ``l`` | true class ``k``); rows sum to 1. Annotators without annotations get the
            annotation-weighted mean of the others, so a newcomer's vote counts like an average one in
            :func:`quality.metrics.consensus.consensus_single_item`.
        priors: float ``(n_classes,)`` class prevalence estimate.
        n_iter: EM iterations run.
        converged: whether the relative log-likelihood change fell below ``tol`` before ``max_iter``.
        log_likelihood: marginal log-likelihood of the annotations at the final parameters.
    """

    consensus: ConsensusResult
    confusion: np.ndarray
    priors: np.ndarray
    n_iter: int
    converged: bool
    log_likelihood: float


def dawid_skene(
    *,
    table: AnnotationTable,
    max_iter: int = 100,
    tol: float = 1e-6,
    smoothing: float = 0.01,
    item_prior: np.ndarray | None = None,
) -> DawidSkeneResult:
    """Fit Dawid–Skene by EM, initialised from vote shares (a soft majority vote).

    Args:
        table: single-label annotations.
        max_iter: maximum EM iterations (≥ 1).
        tol: stop when the relative change of the log-likelihood is below this.
        smoothing: Laplace pseudo-count added to every confusion-matrix cell and class count (> 0); it keeps
            an annotator who never used a class from having probability 0 for it.
        item_prior: optional ``(n_items, n_classes)`` per-item prior replacing the class priors in the E-step,
            e.g. out-of-sample model probabilities; it makes the fit model-aware.

    Returns:
        :class:`DawidSkeneResult`. Items without annotations get label ``-1``, confidence NaN and posteriors
        equal to their prior.

    Raises:
        ValueError: on a multi-label table, bad ``max_iter``/``tol``/``smoothing``, or a malformed
            ``item_prior``.
    """
    require_single_label(table)
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    if not tol > 0:
        raise ValueError("tol must be positive")
    if not smoothing > 0:
        raise ValueError("smoothing must be positive")
    n_items, n_annotators, k = table.n_items, table.n_annotators, table.n_classes
    log_item_prior = None
    if item_prior is not None:
        prior_probs = require_pred_probs(item_prior, n_rows=n_items, n_classes=k, name="item_prior")
        log_item_prior = np.log(np.maximum(prior_probs, _PROB_FLOOR))

    ones = np.ones(table.n_annotations)
    x = sparse.csr_matrix(
        (ones, (table.item, table.annotator * k + table.label)), shape=(n_items, n_annotators * k)
    )
    xt = x.T.tocsr()
    counts = table.counts().astype(np.float64)
    n_per_item = counts.sum(axis=1)
    annotated = n_per_item > 0
    posteriors = counts / np.maximum(n_per_item, 1)[:, None]

    log_lik = -np.inf
    converged = False
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        confusion, priors = _m_step(xt, posteriors, annotated, n_annotators, k, smoothing)
        log_joint = x @ np.log(confusion).transpose(0, 2, 1).reshape(n_annotators * k, k)
        log_joint += np.log(priors)[None, :] if log_item_prior is None else log_item_prior
        log_norm = logsumexp(log_joint, axis=1)
        posteriors = np.exp(log_joint - log_norm[:, None])
        new_log_lik = float(log_norm[annotated].sum())
        if abs(new_log_lik - log_lik) <= tol * abs(new_log_lik):
            converged = True
            log_lik = new_log_lik
            break
        log_lik = new_log_lik

    return _result(table, confusion, priors, posteriors, annotated, n_iter, converged, log_lik)


def _m_step(
    xt: sparse.csr_matrix,
    posteriors: np.ndarray,
    annotated: np.ndarray,
    n_annotators: int,
    k: int,
    smoothing: float,
) -> tuple[np.ndarray, np.ndarray]:
    # Unannotated items have empty columns in xt, so they drop out of the confusion counts by themselves;
    # the prior must skip them explicitly or it would partly re-estimate itself from itself.
    soft = np.asarray(xt @ posteriors)
    confusion = soft.reshape(n_annotators, k, k).transpose(0, 2, 1) + smoothing
    confusion /= confusion.sum(axis=2, keepdims=True)
    priors = posteriors[annotated].sum(axis=0) + smoothing
    return confusion, priors / priors.sum()


def _result(
    table: AnnotationTable,
    confusion: np.ndarray,
    priors: np.ndarray,
    posteriors: np.ndarray,
    annotated: np.ndarray,
    n_iter: int,
    converged: bool,
    log_lik: float,
) -> DawidSkeneResult:
    seen = np.bincount(table.annotator, minlength=table.n_annotators)
    confusion = confusion.copy()
    if seen.any() and not seen.all():
        confusion[seen == 0] = np.average(confusion[seen > 0], axis=0, weights=seen[seen > 0])
    quality = np.einsum("k,akk->a", priors, confusion)
    quality[seen == 0] = np.nan
    label = np.argmax(posteriors, axis=1).astype(np.int64)
    label[~annotated] = -1
    confidence = np.where(annotated, posteriors.max(axis=1), np.nan)
    consensus = ConsensusResult(
        label=label,
        confidence=confidence,
        is_tie=None,
        posteriors=posteriors,
        annotator_quality=quality,
        method="dawid_skene",
    )
    return DawidSkeneResult(
        consensus=consensus,
        confusion=confusion,
        priors=priors,
        n_iter=n_iter,
        converged=converged,
        log_likelihood=log_lik,
    )
