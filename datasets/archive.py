"""A streamed zip of a dataset version in a layout Hugging Face ``datasets`` reads as it is.

Text projects: ``data/{split}.jsonl`` (``load_dataset("json", data_dir=...)`` or the dataset card's configs).
Image/audio projects: ``{split}/metadata.jsonl`` plus ``{split}/{item_id}{ext}`` media files, the
``imagefolder``/``audiofolder`` layout (``file_name`` links a row to its file). ``manifest.json`` lists every
member with its row count and sha256, and the version's checksum. The zip is written to a sink that is
drained after every chunk, so neither the rows nor the media are ever held in memory whole.
"""

import hashlib
import json
import os
import zipfile
from collections.abc import Iterator

from django.core.files.storage import default_storage

from datasets.exporters import DrainableSink, canonical_json, read_snapshot
from datasets.models import DatasetEntry, DatasetVersion
from datasets.splits import SPLIT_NAMES

COPY_CHUNK = 256 * 1024
HF_SPLIT_NAMES = {"train": "train", "dev": "validation", "test": "test"}


def _card(version: DatasetVersion, splits: list[str], media: bool) -> str:
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split in splits:
        path = f"{split}/**" if media else f"data/{split}.jsonl"
        lines += [f"  - split: {HF_SPLIT_NAMES[split]}", f"    path: {path}"]
    lines += [
        "---",
        f"# {version.project.name} — dataset version {version.number}",
        "",
        f"Frozen {version.created_at.isoformat()} by Labelgate; checksum (sha256 of the canonical JSONL) "
        f"`{version.checksum}`. See manifest.json for the selection policy, counts and quality figures.",
        "",
    ]
    return "\n".join(lines)


def _media_name(item_id: int, file_name: str) -> str:
    return f"{item_id}{os.path.splitext(file_name)[1].lower()}"


def stream_zip(*, version: DatasetVersion) -> Iterator[bytes]:
    media = version.project.task_type != "text_classification"
    splits = [name for name in SPLIT_NAMES if version.split_counts.get(name)]
    sink = DrainableSink()
    members: dict[str, dict] = {}
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        archive.writestr("README.md", _card(version, splits, media))
        for split in splits:
            path = f"{split}/metadata.jsonl" if media else f"data/{split}.jsonl"
            digest, rows = hashlib.sha256(), 0
            entries = DatasetEntry.objects.filter(version=version, split=split).order_by("item_id")
            with read_snapshot(), archive.open(path, "w", force_zip64=True) as member:
                batch: list[str] = []
                for line, file_name in entries.values_list("line", "item__file").iterator(chunk_size=2000):
                    if media and file_name:
                        row = json.loads(line)
                        row["file_name"] = _media_name(row["item_id"], file_name)
                        line = canonical_json(row) + "\n"
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
            members[path] = {"rows": rows, "sha256": digest.hexdigest()}
            yield sink.drain()
            if media:
                yield from _write_media(archive=archive, sink=sink, version=version, split=split, members=members)
        manifest = {
            "project": {"id": version.project_id, "name": version.project.name, "task_type": version.project.task_type},
            "version": version.number,
            "version_id": version.pk,
            "name": version.name,
            "created_at": version.created_at.isoformat(),
            "checksum": version.checksum,
            "policy": version.policy,
            "counts": version.counts,
            "split_counts": version.split_counts,
            "label_distribution": version.label_distribution,
            "metrics": version.metrics,
            "guideline_version": version.guideline_version,
            "members": members,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True))
    yield sink.drain()


def _write_media(*, archive: zipfile.ZipFile, sink: DrainableSink, version: DatasetVersion, split: str, members: dict):
    files = (
        DatasetEntry.objects.filter(version=version, split=split)
        .exclude(item__file="")
        .order_by("item_id")
        .values_list("item_id", "item__file")
    )
    with read_snapshot():
        for item_id, file_name in files.iterator(chunk_size=500):
            path = f"{split}/{_media_name(item_id, file_name)}"
            digest = hashlib.sha256()
            try:
                source = default_storage.open(file_name, "rb")
            except OSError:
                members[path] = {"missing": True}  # reported in the manifest rather than breaking the download
                continue
            # Media are already compressed (PNG/JPEG/FLAC...): store them, deflate buys nothing.
            with source, archive.open(zipfile.ZipInfo(path), "w", force_zip64=True) as member:
                while chunk := source.read(COPY_CHUNK):
                    digest.update(chunk)
                    member.write(chunk)
                    yield sink.drain()
            members[path] = {"sha256": digest.hexdigest()}
