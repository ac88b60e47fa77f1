"""The built-in token model on a simulated span corpus: training (5-fold cross-fitting + the final fit) and scoring
(probabilities + 10 MC-dropout passes → mean/max token entropy, margin, BALD), plus cleanlab's token label-issue
check, on documents held in memory as the training job hands them over (no database read or write).

The corpus: sentences of 8–40 words drawn from a 2,000-word vocabulary; 300 city names are LOC, 300 person names
PER, 200 organisation names ORG (multi-token spans: "Acme Corp"); 2 % of the documents get one entity relabelled
(the label-issue check should find them). Half the documents are labelled, half are the pool.

Run: /work/main/.venv/bin/python bench/token_model.py [n_docs]
"""

from __future__ import annotations

import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()  # the spans kind's package declares Django choices

import numpy as np  # noqa: E402

from activelearning.token_checks import model_f1, token_label_issues  # noqa: E402
from activelearning.token_scores import doc_scores  # noqa: E402
from activelearning.tokenmodel import TokenModel, TokenModelConfig, encode, out_of_sample_proba  # noqa: E402
from kinds.spans.token_encoding import io_codes, token_docs  # noqa: E402

LABELS = ["LOC", "PER", "ORG"]


def _word(rng: np.random.Generator, length: int, capital: bool) -> str:
    letters = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), size=length))
    return letters.capitalize() if capital else letters


def corpus(n_docs: int, seed: int = 0) -> tuple[list[str], list[list[dict]], np.ndarray]:
    rng = np.random.default_rng(seed)
    filler = [_word(rng, int(rng.integers(2, 9)), bool(rng.random() < 0.05)) for _ in range(2000)]
    names = {
        "LOC": [_word(rng, int(rng.integers(4, 10)), True) for _ in range(300)],
        "PER": [_word(rng, int(rng.integers(3, 8)), True) for _ in range(300)],
        "ORG": [f"{_word(rng, int(rng.integers(3, 8)), True)} Corp" for _ in range(200)],
    }
    texts, spans = [], []
    corrupted = np.zeros(n_docs, dtype=bool)
    for d in range(n_docs):
        words, doc_spans, position = [], [], 0
        for _ in range(int(rng.integers(8, 41))):
            r = rng.random()
            label = "LOC" if r < 0.05 else "PER" if r < 0.09 else "ORG" if r < 0.11 else None
            word = str(rng.choice(names[label])) if label else str(rng.choice(filler))
            if label:
                doc_spans.append({"start": position, "end": position + len(word), "label": label})
            words.append(word)
            position += len(word) + 1
        if doc_spans and rng.random() < 0.02:
            i = int(rng.integers(len(doc_spans)))
            doc_spans[i] = {**doc_spans[i], "label": LABELS[(LABELS.index(doc_spans[i]["label"]) + 1) % 3]}
            corrupted[d] = True
        texts.append(" ".join(words))
        spans.append(doc_spans)
    return texts, spans, corrupted


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(n_docs: int) -> None:
    texts, spans, corrupted = corpus(n_docs)
    n_train = n_docs // 2
    config = TokenModelConfig(seed=0)
    started = time.perf_counter()
    docs = token_docs(texts)
    encoded = encode(docs.strings, config=config)
    codes = io_codes(docs, spans, LABELS)
    n_tokens = int(encoded.ptr[-1])
    t_encode = time.perf_counter() - started
    train = np.arange(n_train)
    pool = np.arange(n_train, n_docs)
    train_enc, pool_enc = encoded.subset(train), encoded.subset(pool)
    train_codes = codes[: int(encoded.ptr[n_train])]

    started = time.perf_counter()
    oos, _ = out_of_sample_proba(train_enc, train_codes, n_classes=4, n_folds=5, config=config)
    t_oos = time.perf_counter() - started
    started = time.perf_counter()
    labels = [train_codes[train_enc.ptr[d] : train_enc.ptr[d + 1]] for d in range(n_train)]
    issues = token_label_issues(labels=labels, pred_probs=oos.docs())
    t_issues = time.perf_counter() - started
    started = time.perf_counter()
    model = TokenModel(config=config).fit(train_enc, train_codes, n_classes=4)
    t_fit = time.perf_counter() - started
    started = time.perf_counter()
    proba = model.predict_proba(pool_enc)
    samples = model.mc_dropout_proba(pool_enc, n_samples=10)
    scores = doc_scores(proba=proba.values, ptr=proba.ptr, samples=samples)
    t_score = time.perf_counter() - started

    f1 = model_f1(predicted=[p.argmax(axis=1) for p in oos.docs()], reference=labels, n_labels=3)
    flagged = issues.is_issue
    truth = corrupted[:n_train]
    recall = (flagged & truth).sum() / max(truth.sum(), 1)
    precision = (flagged & truth).sum() / max(flagged.sum(), 1)
    print(f"{n_docs:,} documents ({n_train:,} labelled, {len(pool):,} pool), {n_tokens:,} tokens")
    print(
        f"encode {t_encode:.1f} s · 5-fold cross-fit {t_oos:.1f} s · cleanlab token issues {t_issues:.1f} s · "
        f"final fit {t_fit:.1f} s · pool scoring (1 + 10 MC passes) {t_score:.1f} s · "
        f"training + scoring total {t_encode + t_oos + t_issues + t_fit + t_score:.1f} s; peak RSS {_peak_mb():.0f} MB"
    )
    print(
        f"out of sample: span F1 {f1.span_f1:.3f}, token F1 {f1.token_f1:.3f} (against the given labels, 2 % "
        f"corrupted); label issues flagged {int(flagged.sum())}, precision {precision:.2f}, recall {recall:.2f} "
        f"on the {int(truth.sum())} corrupted documents; mean BALD {np.nanmean(scores['bald']):.4f}"
    )
    print(f"load average {os.getloadavg()}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
