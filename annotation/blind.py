"""Blind labelling: what an annotator may see of an item.

An annotator sees the content (text or media), the item id to submit against and the data owner's external id,
which API clients and simulated crowds use to join the served item to their own records. Nothing else: tags and
metadata come from whoever made the data and often name the answer (a tag ``module:math``, a clip tagged
``clipped``, earlier annotators' choices an importer kept as ``ls_choices``), and whether an item is gold is
only worth measuring while the annotator cannot tell. Media go out under a neutral file name for the same reason
(annotation.media). Reviewers and managers read tags, metadata and gold status on the item endpoints.

The external id is the data owner's to choose: docs/API.md asks them not to put answers into it.
"""

# The fields of ``ItemAnnotatorSerializer`` and of the hand-built item bodies (annotation.api.labelling_bodies).
ANNOTATOR_ITEM_FIELDS = ("id", "external_id", "text", "media_url", "content_type")


def media_name_for_annotator(*, item_id: int, file_name: str) -> str:
    """``item-<id>.<ext>``: the stored name's extension (players and downloads need it), never its stem."""
    stem, dot, ext = file_name.rpartition(".")
    ext = ext.lower() if dot and stem and ext.isalnum() and len(ext) <= 5 else ""
    return f"item-{item_id}.{ext}" if ext else f"item-{item_id}"
