"""Bridge from item creation to the pure profiling module (filled in by the ingress work)."""

import hashlib
import re
import unicodedata

from annotation.models import Project

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_SPACE = re.compile(r"\s+")


def normalised_text_key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = _SPACE.sub(" ", _PUNCT.sub(" ", folded)).strip()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()[:32]


def text_profile(*, project: Project, text: str) -> tuple[dict, list[str], str]:
    stripped = text.strip()
    profile = {"length": len(text), "empty": not stripped}
    flags = ["empty"] if not stripped else []
    return profile, flags, normalised_text_key(text)
