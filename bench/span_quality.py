"""Span quality run on a large simulated project: 100,000 documents × 3 annotators, about 10 spans each.

Times the span kind's whole run (``kinds.spans.spans_quality.Spans.run``: token encoding, token α/κ, pairwise
span F1, Dawid–Skene consensus decoded to spans, annotators against consensus, reasons per item) on answers held
in memory as the adapter hands them over (``ProjectAnswers``: stored span dicts), i.e. without the database
read and write. Reports wall time per step and the process's peak resident memory (input included).

Run: /work/main/.venv/bin/python bench/span_quality.py [n_docs] [method]
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

django.setup()

import numpy as np  # noqa: E402

from kinds.spans.spans_quality import SPANS  # noqa: E402
from quality.adapters import ProjectAnswers  # noqa: E402

LABELS = ["PER", "ORG", "LOC", "MISC", "DATE"]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def simulate(n_docs: int, seed: int = 0) -> ProjectAnswers:
    """Documents of 40 tokens with 10 true spans of 1–2 tokens; three annotators, each missing 8 % of spans,
    confusing the type of 6 %, shifting a boundary on 8 %."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(1000)]
    texts: list[str] = []
    items: list[int] = []
    users: list[int] = []
    values: list[list[dict]] = []
    n_tok = 40
    for d in range(n_docs):
        chosen = rng.integers(0, 1000, size=n_tok)
        tokens = [words[c] for c in chosen]
        starts = np.cumsum([0] + [len(t) + 1 for t in tokens[:-1]])
        ends = starts + np.array([len(t) for t in tokens])
        texts.append(" ".join(tokens))
        # 10 spans: token positions 0, 4, 8, ... each 1–2 tokens long.
        first = np.arange(0, n_tok, 4)
        length = rng.integers(1, 3, size=first.size)
        label = rng.integers(0, len(LABELS), size=first.size)
        for a in range(3):
            miss = rng.random(first.size) < 0.08
            confuse = rng.random(first.size) < 0.06
            shift = rng.random(first.size) < 0.08
            lab = np.where(confuse, (label + 1) % len(LABELS), label)
            last = np.minimum(first + length - 1 + shift, n_tok - 1)
            spans = [
                {"start": int(starts[f]), "end": int(ends[e]), "label": LABELS[la]}
                for f, e, la, m in zip(
                    first.tolist(), last.tolist(), lab.tolist(), miss.tolist(), strict=True
                )
                if not m
            ]
            items.append(d)
            users.append(a)
            values.append(spans)
    n = n_docs
    return ProjectAnswers(
        item_ids=np.arange(1, n + 1),
        item_status=np.full(n, "labelled", dtype=object),
        item_text=texts,
        item_metadata=[{}] * n,
        gold=[None] * n,
        flagged=np.zeros(n, dtype=bool),
        unsure_count=np.zeros(n, dtype=np.int64),
        unusable_count=np.zeros(n, dtype=np.int64),
        answer_item=np.asarray(items),
        answer_user=np.asarray(users),
        answer_value=values,
        user_ids=np.array([11, 12, 13]),
        label_values=LABELS,
        task_type="text_spans",
    )


def main() -> None:
    n_docs = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    method = sys.argv[2] if len(sys.argv) > 2 else "dawid_skene"
    baseline = _peak_mb()
    started = time.perf_counter()
    answers = simulate(n_docs)
    n_spans = sum(len(v) for v in answers.answer_value)
    print(
        f"simulated {n_docs:,} docs, {answers.n_answers:,} annotations, {n_spans:,} spans in "
        f"{time.perf_counter() - started:.1f} s; peak RSS so far {_peak_mb():.0f} MB (after imports {baseline:.0f} MB)"
    )
    steps: list[tuple[str, float]] = []
    last = [time.perf_counter()]
    current = ["start"]

    def progress(fraction: float, message: str) -> None:
        # Each step is named by the message that opened it and timed until the next message.
        now = time.perf_counter()
        steps.append((current[0], now - last[0]))
        last[0], current[0] = now, message

    started = time.perf_counter()
    result = SPANS.run(
        answers=answers, method=method, review_threshold=0.6, route_profile_flags=True, progress=progress
    )
    total = time.perf_counter() - started
    progress(1.0, "end")
    print(f"quality run ({method}): {total:.1f} s; peak RSS {_peak_mb():.0f} MB")
    print("  steps: " + ", ".join(f"{m} {s:.1f} s" for m, s in steps[1:]))
    figures = result.kind_figures
    print(
        f"  mean pairwise span F1 {figures['mean_pairwise_span_f1']:.4f}, token α "
        f"{figures['token_krippendorff_alpha']:.4f}, {figures['n_tokens']:,} tokens, "
        f"{int(result.items.route.sum()):,} items routed"
    )


if __name__ == "__main__":
    main()
