"""The quality figures a version froze with, in words for its page."""

from __future__ import annotations


def _pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def accuracy_rows(metrics: dict) -> list[dict]:
    """Rows of "HLP and model vs <reference>" for ``DatasetVersion.metrics``: both figures on the same
    judgements with their counts and the model's name. A version frozen before the reference was recorded shows
    its bare figures and says the reference is unknown."""
    metrics = metrics or {}
    if "accuracy_by_reference" not in metrics:
        return [
            {
                "key": "hlp",
                "name": "HLP at freeze",
                "text": _pct(metrics.get("hlp")),
                "reading": "reference not recorded (frozen before it was)",
            },
            {
                "key": "model",
                "name": "Model accuracy at freeze",
                "text": _pct(metrics.get("model_accuracy")),
                "reading": "reference not recorded (frozen before it was)",
            },
        ]
    rows = []
    for row in metrics["accuracy_by_reference"] or []:
        items = row.get("n_items") or 0
        judgements = row.get("n_judgements") or 0
        on = f"{judgements:,} judgement{'s' if judgements != 1 else ''} on {items:,} item{'s' if items != 1 else ''}"
        if row.get("model_accuracy") is None:
            text, reading = f"HLP {_pct(row.get('hlp'))}", f"on {on}; no model prediction on these items"
        else:
            text = f"HLP {_pct(row.get('hlp'))} · {row.get('model') or 'model'} {_pct(row['model_accuracy'])}"
            reading = f"both on the same {on}"
        rows.append(
            {
                "key": f"reference-{row.get('reference')}",
                "name": f"HLP and model vs {row.get('reference')} at freeze",
                "text": text,
                "reading": reading,
            }
        )
    if not rows and metrics.get("kind_hlp"):
        rows = _kind_hlp_rows(metrics["kind_hlp"])
    if not rows:
        rows.append(
            {
                "key": "hlp",
                "name": "HLP at freeze",
                "text": "—",
                "reading": "no quality run before the freeze",
            }
        )
    return rows


def _f1(value, interval) -> str:
    if value is None:
        return "—"
    if not interval or None in interval:
        return f"F1 {value:.2f}"
    return f"F1 {value:.2f} ({interval[0]:.2f}–{interval[1]:.2f})"


def _kind_hlp_rows(hlp: dict) -> list[dict]:
    """A span or box version's HLP at freeze: each answer's F1 against the others' majority and against gold,
    beside the model's F1 (or "no model yet")."""
    model = hlp.get("model_f1")
    beside = "no model yet" if model is None else f"model F1 {model:.2f}"
    rows = []
    for reference, what in (("consensus", "the other annotators' majority"), ("gold", "gold")):
        row = hlp.get(reference)
        if not row or row.get("f1") is None:
            continue
        items = row.get("n_items") or 0
        rows.append(
            {
                "key": f"kind-hlp-{reference}",
                "name": f"HLP vs {reference} at freeze",
                "text": _f1(row["f1"], row.get("ci")),
                "reading": f"F1 of each answer against {what}, {row.get('n_judgements') or 0:,} judgement{'s' if row.get('n_judgements') != 1 else ''} on "
                f"{items:,} item{'s' if items != 1 else ''}; {beside}",
            }
        )
    return rows
