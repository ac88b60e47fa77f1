"""A text row → a new item (``annotation.services.item_create.NewItem``).

The one construction the bulk API, file imports and Label Studio rows share (as ``media_rows.media_item`` is
for files), so the same text gets the same profile, flags, hashes and status — routed to review or left for
annotators — whichever way it arrived.
"""

from annotation.models import ItemStatus, Project
from annotation.services.item_create import NewItem
from ingress.profiling_hooks import routed_to_review, text_profile_normalised
from ingress.services.media_rows import MediaRowError
from ingress.services.text_sketches import normalised_key

MAX_TEXT_CHARS = 1_000_000


def text_item(
    *,
    project: Project,
    external_id: str,
    text: str,
    metadata: dict,
    tags: list[str],
    gold: object,
    thresholds=None,
) -> tuple[NewItem, str]:
    """(the new item, normalised text for near-duplicate sketches).

    An empty ``external_id`` becomes one derived from the text (``sha256:<32 hex>``), so re-sending the same
    text finds it again. Pass ``thresholds`` (``profiling_hooks.thresholds_for``) when building many rows.
    Raises MediaRowError (field ``text``) when ``text`` is longer than MAX_TEXT_CHARS.
    """
    from ingress import dedup  # lazy: scipy (keeps web/worker startup free of the ML stack)

    if len(text) > MAX_TEXT_CHARS:
        raise MediaRowError("text", f"text is longer than {MAX_TEXT_CHARS} characters.")
    profile, flags, normalised = text_profile_normalised(project=project, text=text, thresholds=thresholds)
    sha = dedup.sha256_text(text)
    item = NewItem(
        project_id=project.pk,
        external_id=external_id or f"sha256:{sha[:32]}",
        text=text,
        sha256=sha,
        near_dup_key=normalised_key(normalised),
        metadata=metadata,
        tags=tags,
        gold_label=gold,
        is_gold=gold is not None,
        profile=profile,
        flags=flags,
        status=ItemStatus.NEEDS_REVIEW if routed_to_review(project=project, flags=flags) else ItemStatus.NEW,
        target_annotations=project.annotations_per_item,
    )
    return item, normalised
