"""A streamed zip of a dataset version in a layout Hugging Face ``datasets`` reads as it is.

Projects whose items are text (``kinds.registry.item_media``): ``data/{split}.jsonl`` (``load_dataset("json",
data_dir=...)`` or the dataset card's configs). Image/audio items: ``{split}/metadata.jsonl`` plus
``{split}/{item_id}{ext}`` media files, the ``imagefolder``/``audiofolder`` layout (``file_name`` links a row to
its file). The dataset card (README.md) declares the features, ``label`` as the project's kind declares it (for
classification a ``ClassLabel`` with the version's classes in id order, a sequence of them when multi-label), so
``load_dataset`` on the unzipped folder gives class ids, not strings. ``manifest.json``
lists every member with its row count and sha256, the label schema and the version's checksum. The rows are the
JSONL rows with ``metadata`` as JSON text (one column type whatever the items hold, as in CSV and Parquet); split
names are the rows' own (train, dev, test). Member timestamps are the version's creation time, so a version's
zip has the same bytes every time. The zip is written to a sink that is drained after every chunk, so neither
the rows nor the media are ever held in memory whole.
"""

import hashlib
import json
import os
import zipfile
from collections.abc import Generator, Iterable, Iterator
from datetime import UTC

from django.core.files.storage import default_storage

from datasets.exporters import DrainableSink, canonical_json, export_description, read_snapshot
from datasets.labelschema import hf_features_yaml
from datasets.models import DatasetEntry, DatasetVersion
from datasets.splits import SPLIT_NAMES
from kinds.registry import item_media, kind_for

COPY_CHUNK = 256 * 1024
# The rows' columns in file order (keys sorted, as in every JSONL line), as dataset-card feature kinds.
CARD_COLUMNS = [
    ("confidence", "float64"),
    ("external_id", "string"),
    ("file_url", "string"),
    ("item_id", "int64"),
    ("label", "label"),
    ("metadata", "string"),
    ("sha256", "string"),
    ("split", "string"),
    ("tags", "list:string"),
    ("text", "string"),
]


def _card(version: DatasetVersion, splits: list[str], media: str) -> str:
    label_feature = kind_for(version.project).export_part.card_label_feature(version=version)
    columns = [(name, label_feature if name == "label" else kind) for name, kind in CARD_COLUMNS]
    if media != "text":
        # The folder builders turn each row's file_name into this column, holding the media file.
        columns.append((media, media))
    features = hf_features_yaml(schema=version.label_schema, columns=columns)
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split in splits:
        path = f"{split}/**" if media != "text" else f"data/{split}.jsonl"
        lines += [f"  - split: {split}", f"    path: {path}"]
    # In the config too, not only in dataset_info: imagefolder/audiofolder infer their features from the
    # metadata files unless the config names them, which would leave label a plain string.
    lines += ["  features:", *features]
    lines += ["dataset_info:", "  config_name: default", "  features:", *features]
    lines += [
        "---",
        f"# {version.project.name} — dataset version {version.number}",
        "",
        f"Frozen {version.created_at.isoformat()} by Labelgate; checksum (sha256 of the canonical JSONL) "
        f"`{version.checksum}`. See manifest.json for the selection policy, counts, quality figures and the label "
        "schema (class ids, descriptions, retired labels).",
        "",
        "`label` is a ClassLabel whose ids stay the same in every version of this project. `metadata` is JSON "
        "text (`json.loads` it).",
        "",
    ]
    return "\n".join(lines)


def _media_name(item_id: int, file_name: str) -> str:
    return f"{item_id}{os.path.splitext(file_name)[1].lower()}"


def member_info(version: DatasetVersion, path: str, *, stored: bool = False) -> zipfile.ZipInfo:
    """A member stamped with the version's creation time (not the clock), so the zip's bytes are reproducible."""
    created = version.created_at.astimezone(UTC)
    info = zipfile.ZipInfo(path, date_time=max(created.timetuple()[:6], (1980, 1, 1, 0, 0, 0)))
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def write_lines(
    *, archive: zipfile.ZipFile, sink: DrainableSink, info: zipfile.ZipInfo, lines: Iterable[str]
) -> Generator[bytes, None, dict]:
    """Write ``lines`` (each ending in a newline) into a new member of ``archive``, yielding the zip's bytes every
    2,000 lines; returns the member's ``{"rows", "sha256"}`` for the manifest."""
    digest, rows = hashlib.sha256(), 0
    with archive.open(info, "w", force_zip64=True) as member:
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            rows += 1
            if len(batch) >= 2000:
                data = "".join(batch).encode()
                digest.update(data)
                member.write(data)
                batch = []
                yield sink.drain()
        data = "".join(batch).encode()
        digest.update(data)
        member.write(data)
    return {"rows": rows, "sha256": digest.hexdigest()}


def _zip_line(line: str, file_name: str | None) -> str:
    row = json.loads(line)
    row["metadata"] = canonical_json(row["metadata"])
    if file_name:
        row["file_name"] = _media_name(row["item_id"], file_name)
    return canonical_json(row) + "\n"


def stream_zip(*, version: DatasetVersion) -> Iterator[bytes]:
    media_type = item_media(version.project)
    media = media_type != "text"
    splits = [name for name in SPLIT_NAMES if version.split_counts.get(name)]
    sink = DrainableSink()
    members: dict[str, dict] = {}
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        archive.writestr(member_info(version, "README.md"), _card(version, splits, media_type))
        for split in splits:
            path = f"{split}/metadata.jsonl" if media else f"data/{split}.jsonl"
            entries = DatasetEntry.objects.filter(version=version, split=split).order_by("item_id")
            rows = entries.values_list("line", "item__file").iterator(chunk_size=2000)
            with read_snapshot():
                members[path] = yield from write_lines(
                    archive=archive,
                    sink=sink,
                    info=member_info(version, path),
                    lines=(_zip_line(line, file_name if media else None) for line, file_name in rows),
                )
            yield sink.drain()
            if media:
                yield from _write_media(
                    archive=archive, sink=sink, version=version, split=split, members=members
                )
        manifest = {
            **export_description(version=version, split=None),
            "splits": splits,
            "name": version.name,
            "created_at": version.created_at.isoformat(),
            "policy": version.policy,
            "counts": version.counts,
            "split_counts": version.split_counts,
            "label_distribution": version.label_distribution,
            "metrics": version.metrics,
            "guideline_version": version.guideline_version,
            "members": members,
        }
        archive.writestr(
            member_info(version, "manifest.json"),
            json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True),
        )
    yield sink.drain()


def _write_media(
    *,
    archive: zipfile.ZipFile,
    sink: DrainableSink,
    version: DatasetVersion,
    split: str,
    members: dict,
    prefix: str = "",
):
    files = (
        DatasetEntry.objects.filter(version=version, split=split)
        .exclude(item__file="")
        .order_by("item_id")
        .values_list("item_id", "item__file")
    )
    with read_snapshot():
        for item_id, file_name in files.iterator(chunk_size=500):
            path = f"{prefix}{split}/{_media_name(item_id, file_name)}"
            digest = hashlib.sha256()
            try:
                source = default_storage.open(file_name, "rb")
            except OSError:
                members[path] = {
                    "missing": True
                }  # reported in the manifest rather than breaking the download
                continue
            # Media are already compressed (PNG/JPEG/FLAC...): store them, deflate buys nothing.
            with (
                source,
                archive.open(member_info(version, path, stored=True), "w", force_zip64=True) as member,
            ):
                while chunk := source.read(COPY_CHUNK):
                    digest.update(chunk)
                    member.write(chunk)
                    yield sink.drain()
            members[path] = {"sha256": digest.hexdigest()}
