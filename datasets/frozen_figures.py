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
        on = f"{row.get('n_judgements') or 0:,} judgements on {items:,} item{'s' if items != 1 else ''}"
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
