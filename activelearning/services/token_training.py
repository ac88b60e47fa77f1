"""The training job for kinds labelled per token (spans): the built-in token model (``activelearning.tokenmodel``)
cross-fitted on the items' reference spans (final label, else consensus) → cleanlab's token label issues and the
model's out-of-sample F1 → the model fitted on every reference → held-out F1 on gold items → pool scores (mean/max
token entropy, margin, BALD from MC dropout) and priorities with the diverse batch → a ModelVersion, the items'
token predictions and the model's label-issue flags on the items.

Deterministic for a seed. A retried job rewrites the same rows: predictions are replaced per item, the version row
is written last, in one transaction with the items' flags.
"""

from __future__ import annotations

import importlib
from dataclasses import asdict

import numpy as np
from django.db import transaction
from django.db.models import Max

from activelearning import adapters, priority
from activelearning.adapters.token_docs import (
    TokenItems,
    TokenPredictionRows,
    items_model_check_write,
    token_items_load,
    token_predictions_write,
)
from activelearning.models import ModelVersion
from activelearning.token_checks import model_f1, token_label_issues
from activelearning.token_scores import STRATEGY_MEASURE, doc_scores, score_range
from activelearning.tokenmodel import TokenModel, TokenModelConfig, encode, out_of_sample_proba
from annotation.models import Project
from annotation.selectors import label_schema_for
from annotation.services import item_state
from annotation.services.projects import project_lock
from core.jobs import JobContext
from core.models import Job

MIN_TRAIN = 10  # documents with reference spans before the token model replaces the cold-start order
N_FOLDS = 5
N_MC_SAMPLES = 10
BATCH_SIZE = 50
CANDIDATES_PER_BATCH = 4
EXTRACTOR = "token-ngram-cnn/1"
MODEL_REASON = "model_disagrees"
# The spans kind's other reasons that make an item a label issue (``quality.metrics.review_routing.label_issue``).
ISSUE_REASONS = frozenset({"gold_mismatch", "low_consensus_confidence"})
MODEL_SEVERITY = 0.9
# A token model raises label issues only when it is good enough to disagree with people: the class side replaces
# the base model's probabilities with the quality model at 30 labelled items (``QUALITY_MODEL_MIN_ITEMS``), and a
# model that finds fewer than half of the consensus spans out of sample flags mostly its own mistakes.
MIN_FLAG_ITEMS = 30
MIN_FLAG_SPAN_F1 = 0.5
WORST_TOKENS_NAMED = 3


def _ranges(ptr: np.ndarray, docs: np.ndarray) -> np.ndarray:
    lengths = np.diff(ptr)[docs]
    if not lengths.sum():
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(ptr[docs], lengths) + np.arange(int(lengths.sum())) - offsets


def _class_name(code: int, label_values: list[str]) -> str:
    return "outside any span" if code == 0 else label_values[code - 1]


def _issue_detail(
    strings: list[str], labels: np.ndarray, proba: np.ndarray, flagged: list[int], label_values: list[str]
) -> tuple[list[dict], str]:
    """The flagged tokens (worst first) as rows, and a sentence naming the worst of them."""
    rows = [
        {
            "token": strings[t],
            "index": int(t),
            "given": _class_name(int(labels[t]), label_values),
            "predicted": _class_name(int(proba[t].argmax()), label_values),
            "probability_of_given": round(float(proba[t, labels[t]]), 4),
        }
        for t in flagged
    ]
    named = ", ".join(
        f"'{row['token']}' ({row['given']}; the model says {row['predicted']})"
        for row in rows[:WORST_TOKENS_NAMED]
    )
    more = len(rows) - WORST_TOKENS_NAMED
    sentence = (
        f"The model disagrees on token{'s' if len(rows) != 1 else ''} {named}"
        + (f" and {more} more" if more > 0 else "")
        + "."
    )
    return rows, sentence


def _f1_figures(result, *, against: str) -> dict:
    return {
        "span_f1": result.span_f1,
        "token_f1": result.token_f1,
        "against": against,
        "n_items": result.n_docs,
    }


def token_model_train_run(
    *, job: Job, context: JobContext, project: Project, strategy: str, seed: int, space, encoding: str
) -> dict | None:
    """The work of a train job for a project whose kind names a token encoding; None when there are too few
    reference documents (the caller falls back to the cold-start order)."""
    codec = importlib.import_module(encoding)
    label_values = label_schema_for(project=project).values
    n_classes = len(label_values) + 1
    context.progress(0.32, "loading items")
    items = token_items_load(project=project)
    train = np.flatnonzero([value is not None for value in items.reference])
    if len(train) < MIN_TRAIN:
        return None
    config = TokenModelConfig(seed=seed)
    docs = codec.token_docs(items.texts)
    encoded = encode(docs.strings, config=config)
    codes = codec.io_codes(
        docs,
        [r if r is not None else g for r, g in zip(items.reference, items.gold, strict=True)],
        label_values,
    )
    train_rows = _ranges(encoded.ptr, train)
    context.progress(0.4, f"out-of-sample token probabilities for {len(train)} items")
    oos, _ = out_of_sample_proba(
        encoded.subset(train), codes[train_rows], n_classes=n_classes, n_folds=N_FOLDS, config=config
    )
    train_labels = [codes[encoded.ptr[d] : encoded.ptr[d + 1]] for d in train.tolist()]
    oos_docs = oos.docs()
    context.progress(0.55, "label issues (cleanlab, token classification)")
    issues = token_label_issues(labels=train_labels, pred_probs=oos_docs)
    oos_pred = [p.argmax(axis=1) for p in oos_docs]
    vs_consensus = model_f1(predicted=oos_pred, reference=train_labels, n_labels=len(label_values))
    too_weak = flag_gate(n_train=len(train), span_f1=vs_consensus.span_f1)
    is_issue = np.zeros_like(issues.is_issue) if too_weak else issues.is_issue
    context.progress(0.6, "training the token model")
    model = TokenModel(config=config).fit(encoded.subset(train), codes[train_rows], n_classes=n_classes)
    gold_docs = np.flatnonzero([g is not None for g in items.gold])
    vs_gold = None
    gold_proba = None
    if len(gold_docs):
        gold_proba = model.predict_proba(encoded.subset(gold_docs))
        vs_gold = model_f1(
            predicted=[p.argmax(axis=1) for p in gold_proba.docs()],
            reference=[codes[encoded.ptr[d] : encoded.ptr[d + 1]] for d in gold_docs.tolist()],
            n_labels=len(label_values),
        )
    context.progress(0.7, "scoring the pool")
    pool = np.flatnonzero(items.pool)
    pool_encoded = encoded.subset(pool)
    pool_proba = model.predict_proba(pool_encoded)
    samples = model.mc_dropout_proba(pool_encoded, n_samples=N_MC_SAMPLES, seed=seed)
    scores = doc_scores(proba=pool_proba.values, ptr=pool_proba.ptr, samples=samples)
    del samples
    chosen, n_batch = _priorities(project, items, pool, scores, strategy, seed, n_classes, space)

    context.progress(0.85, "storing predictions")
    train_spans = [
        codec.spans_from_codes(docs, d, p, label_values)
        for d, p in zip(train.tolist(), oos_pred, strict=True)
    ]
    checks = []
    for position, d in enumerate(train.tolist()):
        rows, sentence = (
            _issue_detail(
                docs.strings[d],
                train_labels[position],
                oos_docs[position],
                issues.flagged[position],
                label_values,
            )
            if is_issue[position]
            else ([], "")
        )
        quality = issues.quality[position]
        checks.append(
            {
                "checked_spans": items.reference[d],
                "is_issue": bool(is_issue[position]),
                "label_quality": float(quality) if np.isfinite(quality) else None,
                "flagged_tokens": rows,
                "reason": sentence,
            }
        )
    token_predictions_write(
        project=project,
        job_id=job.pk,
        n_classes=n_classes,
        rows=TokenPredictionRows(
            item_ids=items.item_ids[train],
            probs=oos_docs,
            predicted_spans=train_spans,
            out_of_sample=True,
            checks=checks,
        ),
    )
    if gold_proba is not None:
        token_predictions_write(
            project=project,
            job_id=job.pk,
            n_classes=n_classes,
            rows=TokenPredictionRows(
                item_ids=items.item_ids[gold_docs],
                probs=gold_proba.docs(),
                predicted_spans=[
                    codec.spans_from_codes(docs, d, p.argmax(axis=1), label_values)
                    for d, p in zip(gold_docs.tolist(), gold_proba.docs(), strict=True)
                ],
                out_of_sample=True,
            ),
        )
    token_predictions_write(
        project=project,
        job_id=job.pk,
        n_classes=n_classes,
        rows=TokenPredictionRows(
            item_ids=items.item_ids[pool],
            probs=pool_proba.docs(),
            predicted_spans=[
                codec.spans_from_codes(docs, d, p.argmax(axis=1), label_values)
                for d, p in zip(pool.tolist(), pool_proba.docs(), strict=True)
            ],
            out_of_sample=False,
            score=chosen,
            scores=scores,
        ),
    )
    figures_consensus = _f1_figures(vs_consensus, against="consensus")
    figures_gold = None if vs_gold is None else _f1_figures(vs_gold, against="gold")
    token_accuracy = float(
        np.mean(np.concatenate(oos_pred) == np.concatenate(train_labels)) if len(train_rows) else np.nan
    )
    per_label = {
        value: {
            "support": int(vs_consensus.per_label[i]["support"]),
            "recall": _finite(vs_consensus.per_label[i]["span_recall"]),
            "precision": _finite(vs_consensus.per_label[i]["span_precision"]),
        }
        for i, value in enumerate(label_values)
    }
    with transaction.atomic():
        project_lock(project_id=project.pk)
        existing = ModelVersion.objects.filter(job=job).first()
        number = (
            existing.version
            if existing is not None
            else (ModelVersion.objects.filter(project=project).aggregate(n=Max("version"))["n"] or 0) + 1
        )
        headline = figures_gold or figures_consensus
        model_figures = {
            "model_f1": {**headline, "model_version": number},
            "model_f1_consensus": {**figures_consensus, "model_version": number},
            "model_f1_gold": None if figures_gold is None else {**figures_gold, "model_version": number},
            "n_label_issues": int(is_issue.sum()),
            "n_model_disagreements": int(issues.is_issue.sum()),
            "label_issue_gate": {
                "min_span_f1": MIN_FLAG_SPAN_F1,
                "min_items": MIN_FLAG_ITEMS,
                "too_weak": too_weak,
            },
            "token_classes": ["O", *label_values],
            "encoding": "IO",
        }
        fields = {
            "extractor": EXTRACTOR,
            "extractor_name": "token-ngram-cnn",
            "extractor_version": "1",
            "seed": seed,
            "strategy": strategy,
            "label_values": ["O", *label_values],
            "config": asdict(config),
            "n_train": len(train),
            "n_labelled": items.n_labelled,
            "n_pool": len(pool),
            "n_folds": min(N_FOLDS, len(train)),
            "cv_accuracy": token_accuracy,
            "per_label": per_label,
            "learning_curve": [],
            "projection": {},
            "stability": None,
            "summary": _summary(
                number, len(train), figures_consensus, figures_gold, int(is_issue.sum()), too_weak
            ),
            "worth_labelling": None,
            "overlap": {},
            "figures": model_figures,
        }
        if existing is not None:
            for name, value in fields.items():
                setattr(existing, name, value)
            existing.save()
            version = existing
        else:
            version = ModelVersion.objects.create(project=project, job=job, version=number, **fields)
        items_model_check_write(
            checks=item_state.ItemModelChecks(
                item_ids=items.item_ids[train],
                flagged=is_issue,
                model_labels=train_spans,
                flag_model=f"token model v{number}",
                reason=MODEL_REASON,
                issue_reasons=ISSUE_REASONS,
                severity=MODEL_SEVERITY,
            )
        )
    return {
        "mode": "model",
        "model": "token",
        "version": version.version,
        "model_version": version.pk,
        "strategy": strategy,
        "extractor": EXTRACTOR,
        "n_train": len(train),
        "cv_accuracy": token_accuracy,
        "n_pool": len(pool),
        "n_scored": int(np.isfinite(chosen).sum()),
        "n_batch": n_batch,
        "n_label_issues": int(is_issue.sum()),
        "label_issue_gate_too_weak": too_weak,
        "model_f1": model_figures["model_f1"],
        "summary": version.summary,
    }


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _fmt(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.2f}"


def flag_gate(*, n_train: int, span_f1: float) -> str:
    """Why the token model is too weak to raise label issues, in words ("" when it may flag)."""
    reasons = []
    if not (np.isfinite(span_f1) and span_f1 >= MIN_FLAG_SPAN_F1):
        reasons.append(f"span F1 {_fmt(span_f1)} < {MIN_FLAG_SPAN_F1:.2f}")
    if n_train < MIN_FLAG_ITEMS:
        reasons.append(f"{n_train:,} labelled items < {MIN_FLAG_ITEMS}")
    return "; ".join(reasons)


def _summary(
    number: int, n_train: int, consensus: dict, gold: dict | None, n_issues: int, too_weak: str = ""
) -> str:
    text = (
        f"Token model v{number}, trained on {n_train:,} labelled items: out of sample it finds the consensus spans "
        f"with span F1 {_fmt(consensus['span_f1'])} (token F1 {_fmt(consensus['token_f1'])})"
    )
    if gold is not None:
        text += f", and the gold spans with span F1 {_fmt(gold['span_f1'])}"
    if too_weak:
        return text + f"; too weak to flag label issues ({too_weak})."
    return text + f"; it disagrees with the consensus on {n_issues:,} item{'s' if n_issues != 1 else ''}."


def _priorities(
    project: Project,
    items: TokenItems,
    pool: np.ndarray,
    scores: dict[str, np.ndarray],
    strategy: str,
    seed: int,
    n_classes: int,
    space,
) -> tuple[np.ndarray, int]:
    """Write the pool's priorities: the band of each open item, by the chosen measure within it, and a diverse
    batch from the top candidates lifted to the BATCH band (random sampling: no batch). Returns the chosen
    scores and the batch size."""
    from activelearning import strategies  # lazy: scipy, as in the class scoring

    rng = np.random.default_rng(seed)
    if strategy == "random":
        chosen = rng.random(len(pool))
        within = chosen.copy()
    else:
        measure = STRATEGY_MEASURE[strategy]
        chosen = scores[measure]
        within = np.clip(
            np.nan_to_num(chosen / score_range(measure=measure, n_classes=n_classes)), 0.0, priority.TOP
        )
    band = priority.bands(
        annotation_count=items.annotation_count[pool],
        target=items.target[pool],
        k=project.annotations_per_item,
        current=items.priority[pool],
    )
    n_batch = 0
    in_pool = band == priority.BAND_POOL
    if strategy != "random" and in_pool.any():
        candidates = strategies.top_candidates(
            chunks=iter([(0, np.where(in_pool, chosen, np.nan))]), m=BATCH_SIZE * CANDIDATES_PER_BATCH
        ).indices
        if len(candidates):
            features = adapters.features_for_items(
                key=space.key, item_ids=items.item_ids[pool][candidates], dim=space.dim
            )
            usable = np.isfinite(features).all(axis=1)
            picked = (
                candidates[usable][
                    strategies.diverse_batch(
                        features=features[usable],
                        candidates=np.arange(int(usable.sum())),
                        batch_size=min(BATCH_SIZE, int(usable.sum())),
                        seed=seed,
                    )
                ]
                if usable.any()
                else candidates[:BATCH_SIZE]
            )
            band[picked] = priority.BAND_BATCH
            within[picked] = priority.rank_within(len(picked))
            n_batch = len(picked)
    adapters.priorities_write(
        item_ids=items.item_ids[pool], priority=priority.priorities(band=band, within=within)
    )
    return chosen, n_batch
