"""Reads that explain items' flags: the profile value and threshold behind each profile flag, and for a
duplicate flag the other item and how close it is (see ``annotation.flag_text``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

from django.urls import NoReverseMatch, reverse

from annotation.flag_text import FlagExplanation, explain_profile_flag, flag_words
from annotation.item_flags import (
    DEFAULT_HAMMING,
    DEFAULT_JACCARD,
    DUP_FLAGS,
    DUPLICATE_FLAG,
    SKETCH_BYTES,
)
from annotation.models import Item, Project
from annotation.profile_thresholds import thresholds_from
from kinds.registry import item_media


def item_flag_explanations(*, project: Project, items: Iterable[Item]) -> dict[int, list[FlagExplanation]]:
    """Per item id, one explanation per flag, in the item's flag order. One query for all duplicate groups
    among ``items``, none otherwise. Items need ``flags``, ``profile``, ``near_dup_group``, ``sha256``,
    ``near_dup_key`` and, for text projects, ``minhash``."""
    items = list(items)
    thresholds = thresholds_from(project.profile_thresholds)
    groups = {
        i.near_dup_group for i in items if i.near_dup_group is not None and DUP_FLAGS & set(i.flags or [])
    }
    members: dict[int | None, list[tuple]] = defaultdict(list)
    if groups:
        rows = Item.objects.filter(project=project, near_dup_group__in=groups).order_by("id")
        for row in rows.values_list("id", "near_dup_group", "sha256", "near_dup_key", "minhash"):
            members[row[1]].append(row)
    out = {}
    for item in items:
        explained = []
        for flag in item.flags or []:
            if flag in DUP_FLAGS:
                found = _duplicate(project, item, flag, members.get(item.near_dup_group, []))
                if found.other_id is not None:
                    found = replace(found, other_url=item_link(project.pk, found.other_id))
                explained.append(found)
            else:
                explained.append(explain_profile_flag(flag, item.profile, thresholds))
        out[item.pk] = explained
    return out


def flag_rules(*, project: Project, flags: Iterable[str]) -> dict[str, str]:
    """The rule behind each flag under the project's thresholds, for pages that show flag counts."""
    from annotation.flag_text import flag_rule

    thresholds = thresholds_from(project.profile_thresholds)
    limits = project.profile_thresholds or {}
    rules = {flag: flag_rule(flag, thresholds) for flag in flags}
    if "near_duplicate" in rules:
        media = item_media(project)
        if media == "text":
            rules["near_duplicate"] = (
                f"same text after normalisation, or estimated similarity ≥ {limits.get('text_jaccard', DEFAULT_JACCARD)}"
            )
        elif media == "image":
            rules["near_duplicate"] = f"pHash distance ≤ {limits.get('phash_distance', DEFAULT_HAMMING)}"
    return rules


def item_link(project_id: int, item_id: int) -> str | None:
    """The review page of an item, when the review screens are installed."""
    try:
        return reverse("review-item", kwargs={"pid": project_id, "item_id": item_id})
    except NoReverseMatch:
        return None


def _duplicate(project: Project, item: Item, flag: str, group: list[tuple]) -> FlagExplanation:
    others = [row for row in group if row[0] != item.pk]
    words = flag_words(flag)
    if flag == DUPLICATE_FLAG:
        same = [row for row in others if row[2] == item.sha256]
        if same:
            return FlagExplanation(flag=flag, words=words, detail="(identical content)", other_id=same[0][0])
    if not others:
        return FlagExplanation(flag=flag, words=words, detail="")
    limits = project.profile_thresholds or {}
    media = item_media(project)
    if media == "image" and _is_hex(item.near_dup_key):
        limit = int(limits.get("phash_distance", DEFAULT_HAMMING))
        scored = [(_hamming(item.near_dup_key, row[3]), row[0]) for row in others if _is_hex(row[3])]
        if scored:
            distance, other = min(scored)
            relation = "≤" if distance <= limit else ">"
            via = "" if distance <= limit else ", grouped through a chain of similar items"
            return FlagExplanation(
                flag=flag,
                words=words,
                detail=f"(pHash distance {distance} {relation} {limit}{via})",
                other_id=other,
            )
    if media == "text":
        same_key = [row for row in others if item.near_dup_key and row[3] == item.near_dup_key]
        if same_key:
            return FlagExplanation(
                flag=flag, words=words, detail="(same text after normalisation)", other_id=same_key[0][0]
            )
        text_limit = float(limits.get("text_jaccard", DEFAULT_JACCARD))
        ranked = [(-score, row[0]) for row in others if (score := _jaccard(item.minhash, row[4])) is not None]
        if ranked:
            similarity, other = -min(ranked)[0], min(ranked)[1]
            relation = "≥" if similarity >= text_limit else "<"
            via = "" if similarity >= text_limit else ", grouped through a chain of similar items"
            return FlagExplanation(
                flag=flag,
                words=words,
                detail=f"(estimated similarity {similarity:.2f} {relation} {text_limit:.2f}{via})",
                other_id=other,
            )
    return FlagExplanation(flag=flag, words=words, detail="(same group)", other_id=others[0][0])


def _is_hex(key: str | None) -> bool:
    try:
        int(key or "", 16)
    except ValueError:
        return False
    return True


def _hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _jaccard(a: bytes | memoryview | None, b: bytes | memoryview | None) -> float | None:
    """MinHash estimate of the Jaccard similarity: the share of the 32 slots where the two sketches agree."""
    if a is None or b is None or len(a) != SKETCH_BYTES or len(b) != SKETCH_BYTES:
        return None
    a, b = bytes(a), bytes(b)
    slots = range(0, SKETCH_BYTES, 4)
    return sum(a[i : i + 4] == b[i : i + 4] for i in slots) / len(slots)
