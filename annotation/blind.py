"""Blind labelling: what an annotator may see of an item's metadata.

Importers keep earlier labels as metadata so reviewers can compare them (a Label Studio export's annotations
become ``ls_choices``; a CSV/JSON column named ``label`` or ``prediction`` is kept as a metadata key). An
annotator must never see them: another person's (or a model's) label anchors their own and inflates agreement.
Reviewers and managers read the full metadata through the item detail and item list endpoints.

The labelling page (static/js/label.js) goes further and shows the content alone: no external id, tag or
metadata. Those come from whoever made the data and often name the answer (a file ``cat_01.jpg``, a tag
``module:math``, a clip ``tone-01`` tagged ``clipped``). The next-item endpoint still returns them, for API
clients that join the served item to their own records.
"""

from typing import Any

# Compared case-insensitively. ``ls_choices`` is what annotation.ingress.labelstudio stores; the others are the
# names a foreign export or a hand-made CSV uses for labels, votes and predictions.
LABEL_BEARING_KEYS = frozenset(
    {
        "ls_choices",
        "ls_predictions",
        "annotations",
        "annotation",
        "predictions",
        "prediction",
        "label",
        "labels",
        "choices",
        "gold",
        "gold_label",
        "consensus",
        "consensus_label",
        "final_label",
        "predicted_label",
    }
)


def metadata_for_annotator(metadata: Any) -> dict[str, Any]:
    """The metadata without label-bearing keys; a non-dict (bad legacy row) shows as empty."""
    if not isinstance(metadata, dict):
        return {}
    return {key: value for key, value in metadata.items() if str(key).lower() not in LABEL_BEARING_KEYS}
