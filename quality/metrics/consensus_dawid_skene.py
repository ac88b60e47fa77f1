"""Dawid–Skene consensus: EM over per-annotator confusion matrices, in log space, on the long format.

The long table is turned once into a sparse items × (annotator, label) one-hot matrix ``X``. Both EM steps are
then one sparse product each, so an iteration costs O(n_annotations × n_classes) with no Python loop over
items or annotators:

* E-step: ``log p(y_i = k) ∝ log prior_k + (X @ L)[i, k]`` with ``L[a·K + l, k] = log π_a[k, l]``.
* M-step: ``counts[a·K + l, k] = (Xᵀ @ posteriors)[a·K + l, k]``, then
  ``π_a[k, l] ∝ counts + prior_strength · S[k, l] + smoothing``.

The M-step is a MAP estimate under a Dirichlet prior on each confusion row, centred on ``S``: the symmetric
matrix with the pooled accuracy of all annotators on its diagonal (how often, over every annotation, the label
matches the current posterior) and the rest spread evenly. Plain maximum likelihood on a few items per annotator
finds degenerate fits (one annotator "perfect", the others noise) whose posteriors read 1.00 on a two-to-one
split or a three-way tie. With ``prior_strength`` pseudo-annotations per row, an annotator with few items stays
near the pool's behaviour and the posterior near what equally reliable annotators would give; with hundreds of
items the data outweighs the prior. The class prevalences get ``CLASS_PRIOR_FACTOR × prior_strength``
pseudo-items per class for the same reason. Below ``min_annotator_items`` annotations an annotator's own
matrix is not estimated at all (the pooled one stands in), so on a small project the posterior is the one for equally reliable annotators: a
three-way split among three of them reads 1/3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.special import logsumexp

from quality.metrics.consensus_result import ConsensusResult, require_pred_probs, require_single_label
from quality.metrics.table import AnnotationTable

__all__ = ["DEFAULT_PRIOR_STRENGTH", "DawidSkeneResult", "dawid_skene"]

#: Pseudo-annotations per confusion row; see the module docstring. Small: annotators with very few items are
#: handled by ``MIN_ANNOTATOR_ITEMS``, and a stronger pull cost accuracy where annotators really differ
#: (bench/results/quality_shipped.md).
DEFAULT_PRIOR_STRENGTH = 2.0
#: Pseudo-items per class for the prevalences, as a multiple of ``prior_strength``.
CLASS_PRIOR_FACTOR = 5.0
#: Below this many annotations an annotator's own confusion matrix is not estimated at all: they share the
#: pooled symmetric matrix (a "one-coin" model), so their votes count like an average annotator's. A plug-in
#: estimate from a few items reads one lucky streak as perfection and makes the posterior overconfident.
MIN_ANNOTATOR_ITEMS = 20

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
    prior_strength: float = DEFAULT_PRIOR_STRENGTH,
    min_annotator_items: int = MIN_ANNOTATOR_ITEMS,
    item_prior: np.ndarray | None = None,
) -> DawidSkeneResult:
    """Fit Dawid–Skene by EM, initialised from vote shares (a soft majority vote).

    Args:
        table: single-label annotations.
        max_iter: maximum EM iterations (≥ 1).
        tol: stop when the relative change of the log-likelihood is below this.
        smoothing: Laplace pseudo-count added to every confusion-matrix cell and class count (> 0); it keeps
            an annotator who never used a class from having probability 0 for it.
        prior_strength: pseudo-annotations (≥ 0) per confusion row pulling it towards the pooled symmetric
            matrix, and (× ``CLASS_PRIOR_FACTOR``) pseudo-items per class pulling the prevalences towards uniform;
            0 gives the plain maximum-likelihood fit.
        min_annotator_items: annotators with fewer annotations share the pooled symmetric matrix instead of
            their own (``MIN_ANNOTATOR_ITEMS``); 0 estimates every annotator's own.
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
    if not prior_strength >= 0:
        raise ValueError("prior_strength must be non-negative")
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

    thin = np.bincount(table.annotator, minlength=n_annotators) < min_annotator_items
    log_lik = -np.inf
    converged = False
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        confusion, priors = _m_step(xt, posteriors, annotated, n_annotators, k, smoothing, prior_strength)
        if thin.any() and k > 1:
            soft = np.asarray(xt @ posteriors).reshape(n_annotators, k, k).transpose(0, 2, 1)
            confusion[thin] = (_symmetric(_pooled_accuracy(soft, k), k) + smoothing) / (1.0 + k * smoothing)
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
    prior_strength: float,
) -> tuple[np.ndarray, np.ndarray]:
    # Unannotated items have empty columns in xt, so they drop out of the confusion counts by themselves;
    # the prior must skip them explicitly or it would partly re-estimate itself from itself.
    soft = np.asarray(xt @ posteriors).reshape(n_annotators, k, k).transpose(0, 2, 1)
    confusion = soft + smoothing
    if prior_strength > 0 and k > 1:
        confusion += prior_strength * _symmetric(_pooled_accuracy(soft, k), k)
    confusion /= confusion.sum(axis=2, keepdims=True)
    # Prevalences estimated from a handful of sharpened posteriors swing a tie towards whichever class happened
    # to lead, so they are held harder than the confusion rows.
    priors = posteriors[annotated].sum(axis=0) + smoothing + CLASS_PRIOR_FACTOR * prior_strength
    return confusion, priors / priors.sum()


def _symmetric(accuracy: float, k: int) -> np.ndarray:
    centre = np.full((k, k), (1.0 - accuracy) / (k - 1))
    np.fill_diagonal(centre, accuracy)
    return centre


def _pooled_accuracy(soft: np.ndarray, k: int) -> float:
    """Every annotator's soft agreement with the posterior, pooled; kept at or above chance (a pool below chance
    would make the prior itself say "annotators invert labels"), chance when there is nothing to pool."""
    total = soft.sum()
    accuracy = float(np.einsum("akk->", soft) / total) if total > 0 else 1.0 / k
    return min(max(accuracy, 1.0 / k), 1.0)


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
