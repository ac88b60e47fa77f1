"""Span exports of a dataset version: JSONL rows with ``spans``, CoNLL (token-per-line BIO) and a zip that
Hugging Face ``datasets`` loads as ``tokens`` + ``ner_tags``.

An entry's ``label`` is the item's final spans (a reviewer's, else the accepted consensus spans with their
confidences) as frozen. Tokens are the text's ``\\S+`` runs; a token's tag is ``B-<label>`` on the first token
whose first character a span covers, ``I-<label>`` on the span's further tokens, else ``O`` (the token encoding
of the quality figures, ``kinds.spans.metrics``). Tag ids (``ner_tags``): ``O`` = 0, ``B-<label k>`` = 1 + 2k,
``I-<label k>`` = 2 + 2k, with k the label's id in the version's label schema (the project's label order).
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator, Sequence

from datasets.archive import member_info, write_lines
from datasets.exporters import DrainableSink, canonical_json, entry_lines, export_description, read_snapshot
from datasets.labelschema import class_names, hf_features_yaml
from datasets.models import DatasetVersion
from datasets.splits import SPLIT_NAMES

_TOKEN = re.compile(r"\S+")
CHUNK = 2000


def tag_names(labels: Sequence[str]) -> list[str]:
    """The ``ner_tags`` class names in id order: O, then B- and I- of each label in label order."""
    return ["O", *(f"{prefix}-{label}" for label in labels for prefix in ("B", "I"))]


def plain_spans(label: object) -> list[dict]:
    """An entry's label as ``{start, end, label}`` spans sorted by offsets (confidences dropped)."""
    if not isinstance(label, list):
        return []
    spans = [
        {"start": int(s["start"]), "end": int(s["end"]), "label": str(s["label"])}
        for s in label
        if isinstance(s, dict) and {"start", "end", "label"} <= s.keys()
    ]
    return sorted(spans, key=lambda s: (s["start"], s["end"], s["label"]))


def bio_tokens(text: str, spans: list[dict]) -> list[tuple[str, str]]:
    """``(token, tag)`` for every ``\\S+`` token of ``text``; where spans overlap, the first in (start, end,
    label) order tags the token."""
    out = []
    previous = None
    for match in _TOKEN.finditer(text or ""):
        covering = next(
            (i for i, s in enumerate(spans) if s["start"] <= match.start() < s["end"]),
            None,
        )
        if covering is None:
            out.append((match.group(), "O"))
        else:
            prefix = "I" if covering == previous else "B"
            out.append((match.group(), f"{prefix}-{spans[covering]['label']}"))
        previous = covering
    return out


def _rows(version: DatasetVersion, split: str | None) -> Iterator[dict]:
    with read_snapshot():
        for line in entry_lines(version=version, split=split):
            row = json.loads(line)
            row["spans"] = plain_spans(row.get("label"))
            yield row


def stream_jsonl(*, version: DatasetVersion, split: str | None = None) -> Iterator[bytes]:
    """The frozen rows, each with ``spans`` added (the label's spans without confidences)."""
    batch: list[str] = []
    for row in _rows(version, split):
        batch.append(canonical_json(row) + "\n")
        if len(batch) >= CHUNK:
            yield "".join(batch).encode()
            batch = []
    if batch:
        yield "".join(batch).encode()


def stream_conll(*, version: DatasetVersion, split: str | None = None) -> Iterator[bytes]:
    """Token-per-line BIO: ``token<TAB>tag``, each item opened by ``# item_id`` / ``# external_id`` comment
    lines and closed by a blank line (CoNLL-U's comment form, so ``conllu.parse(text, fields=("form",
    "tag"))`` reads it)."""
    batch: list[str] = []
    for row in _rows(version, split):
        lines = [f"# item_id = {row['item_id']}", f"# external_id = {_one_line(row['external_id'])}"]
        lines += [f"{token}\t{tag}" for token, tag in bio_tokens(row.get("text") or "", row["spans"])]
        batch.append("\n".join(lines) + "\n\n")
        if len(batch) >= CHUNK:
            yield "".join(batch).encode()
            batch = []
    if batch:
        yield "".join(batch).encode()


def _one_line(value: str) -> str:
    return " ".join(str(value).split())


CARD_COLUMNS = [
    ("item_id", "int64"),
    ("external_id", "string"),
    ("text", "string"),
    ("tokens", "list:string"),
    ("ner_tags", "list:label"),
    ("split", "string"),
    ("confidence", "float64"),
]


def _card(version: DatasetVersion, splits: list[str], tags: list[str]) -> str:
    features = hf_features_yaml(schema={"labels": [{"value": tag} for tag in tags]}, columns=CARD_COLUMNS)
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split in splits:
        lines += [f"  - split: {split}", f"    path: data/{split}.jsonl"]
    lines += ["  features:", *features, "dataset_info:", "  config_name: default", "  features:", *features]
    lines += [
        "---",
        f"# {version.project.name} — dataset version {version.number} (entities)",
        "",
        "`tokens` are the text's whitespace-separated tokens; `ner_tags` their BIO tags as a ClassLabel: O = 0, "
        "B-<label k> = 1 + 2k, I-<label k> = 2 + 2k, labels in the project's order.",
        "",
    ]
    return "\n".join(lines)


def _zip_row(row: dict, tag_id: dict[str, int]) -> dict:
    pairs = bio_tokens(row.get("text") or "", row["spans"])
    return {
        "item_id": row["item_id"],
        "external_id": row["external_id"],
        "text": row.get("text") or "",
        "tokens": [token for token, _ in pairs],
        # A retired label's tag is not in the schema; its tokens read as O.
        "ner_tags": [tag_id.get(tag, 0) for _, tag in pairs],
        "split": row["split"],
        "confidence": row.get("confidence"),
    }


def stream_zip(*, version: DatasetVersion) -> Iterator[bytes]:
    """``data/{split}.jsonl`` rows of ``tokens`` + ``ner_tags`` (tag ids), a dataset card declaring
    ``ner_tags`` a sequence of ClassLabel (:func:`tag_names`), and ``manifest.json``."""
    tags = tag_names(class_names(version.label_schema))
    tag_id = {tag: i for i, tag in enumerate(tags)}
    splits = [name for name in SPLIT_NAMES if version.split_counts.get(name)]
    sink = DrainableSink()
    members: dict[str, dict] = {}
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        archive.writestr(member_info(version, "README.md"), _card(version, splits, tags))
        for split in splits:
            path = f"data/{split}.jsonl"
            members[path] = yield from write_lines(
                archive=archive,
                sink=sink,
                info=member_info(version, path),
                lines=(canonical_json(_zip_row(row, tag_id)) + "\n" for row in _rows(version, split)),
            )
            yield sink.drain()
        manifest = {
            **export_description(version=version, split=None),
            "splits": splits,
            "ner_tags": tags,
            "counts": version.counts,
            "split_counts": version.split_counts,
            "metrics": version.metrics,
            "members": members,
        }
        archive.writestr(
            member_info(version, "manifest.json"),
            json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True),
        )
    yield sink.drain()
