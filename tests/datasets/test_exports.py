"""Exports parse back with pandas/pyarrow (and Hugging Face datasets when available) and stream in flat memory."""

import hashlib
import io
import json
import os
import subprocess
import sys
import tracemalloc
import zipfile

import pandas as pd
import pyarrow.parquet as pq
import pytest

from annotation.models import Item, ItemStatus
from datasets import exporters
from datasets.archive import stream_zip
from datasets.exporters import stream_csv, stream_jsonl, stream_labelstudio, stream_parquet
from datasets.models import DatasetEntry
from ingress.readers.labelstudio import task_to_row
from tests.datasets.builders import body, bulk_labelled_items, freeze, labelled_items
from tests.factories import make_project
from tests.ingress.ingress_fixtures import png_bytes, run_import, tone, wav_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    project = make_project(labels=("pos", "neg"), name="Reviews")
    ids = labelled_items(project, {"pos": 6, "neg": 4}, confidence=0.75)
    Item.objects.filter(pk__in=ids).update(metadata={"source": "web", "score": 3}, tags=["en", "short"])
    Item.objects.filter(pk=ids[0]).update(
        status=ItemStatus.ACCEPTED, final_label="neg", text='Ünïcode, "quoted"\nline'
    )
    return freeze(project, splits={"train": 0.6, "dev": 0.2, "test": 0.2})


def test_jsonl_rows_carry_the_documented_fields(version):
    rows = [json.loads(line) for line in body(stream_jsonl(version=version)).decode().splitlines()]
    assert len(rows) == 10
    first = rows[0]
    assert set(first) == {
        "item_id",
        "external_id",
        "label",
        "split",
        "confidence",
        "metadata",
        "tags",
        "sha256",
        "text",
        "file_url",
    }
    assert (first["external_id"], first["label"], first["confidence"]) == ("t0", "neg", 1.0)
    assert first["text"] == 'Ünïcode, "quoted"\nline' and first["file_url"] is None
    assert first["metadata"] == {"score": 3, "source": "web"} and first["tags"] == ["en", "short"]
    assert [row["item_id"] for row in rows] == sorted(row["item_id"] for row in rows)


def test_per_split_exports_partition_the_version(version):
    parts = {
        split: pd.read_json(io.BytesIO(body(stream_jsonl(version=version, split=split))), lines=True)
        for split in ("train", "dev", "test")
    }
    assert (
        {split: len(frame) for split, frame in parts.items()}
        == version.split_counts
        == {"train": 6, "dev": 2, "test": 2}
    )
    assert all((frame["split"] == split).all() for split, frame in parts.items())


def test_csv_reads_back_with_pandas(version):
    frame = pd.read_csv(io.BytesIO(body(stream_csv(version=version))), keep_default_na=False)
    assert list(frame.columns) == exporters.CSV_COLUMNS
    assert len(frame) == 10
    assert frame.loc[0, "text"] == 'Ünïcode, "quoted"\nline'
    assert json.loads(frame.loc[0, "metadata"]) == {"score": 3, "source": "web"}
    assert Counter_of(frame["label"]) == {"pos": 5, "neg": 5}
    assert set(frame["confidence"]) == {0.75, 1.0}


def Counter_of(series):  # noqa: N802 - reads like the collections.Counter it wraps
    from collections import Counter

    return dict(Counter(series))


def test_parquet_reads_back_with_pyarrow_and_pandas(version, monkeypatch):
    monkeypatch.setattr(exporters, "PARQUET_ROW_GROUP", 4)
    data = body(stream_parquet(version=version))
    parquet = pq.ParquetFile(io.BytesIO(data))
    assert parquet.metadata.num_rows == 10
    assert parquet.metadata.num_row_groups == 3  # 4 + 4 + 2 rows: written group by group
    frame = pd.read_parquet(io.BytesIO(data))
    assert frame.loc[0, "label"] == "neg" and list(frame.loc[0, "tags"]) == ["en", "short"]
    assert json.loads(frame.loc[0, "metadata"]) == {"score": 3, "source": "web"}
    only_dev = pd.read_parquet(io.BytesIO(body(stream_parquet(version=version, split="dev"))))
    assert len(only_dev) == 2 and set(only_dev["split"]) == {"dev"}


def test_parquet_of_an_empty_split_is_a_valid_empty_file(version):
    project = version.project
    Item.objects.filter(project=project).update(status=ItemStatus.DISCARDED)
    empty = freeze(project)
    frame = pd.read_parquet(io.BytesIO(body(stream_parquet(version=empty))))
    assert len(frame) == 0 and "label" in frame.columns


def test_multi_label_parquet_has_a_list_label_column():
    project = make_project(labels=("a", "b"), multi_label=True)
    ids = labelled_items(project, {"x": 2})
    Item.objects.filter(pk=ids[0]).update(consensus_label=["a", "b"])
    Item.objects.filter(pk=ids[1]).update(consensus_label=["b"])
    frame = pd.read_parquet(io.BytesIO(body(stream_parquet(version=freeze(project)))))
    assert [list(value) for value in frame["label"]] == [["a", "b"], ["b"]]


def test_label_studio_export_imports_back_through_our_label_studio_reader(version):
    tasks = json.loads(body(stream_labelstudio(version=version, base_url="http://testserver/")))
    assert len(tasks) == 10
    rows = [task_to_row(task, line=index, annotations_as="gold") for index, task in enumerate(tasks)]
    assert rows[0].external_id == "t0" and rows[0].gold_label == "neg" and rows[0].text.startswith("Ünïcode")
    assert rows[0].tags == ["en", "short"]
    assert rows[0].metadata["labelgate"]["split"] in ("train", "dev", "test")
    assert [row.gold_label for row in rows].count("pos") == 5


def test_zip_has_hugging_face_layout_manifest_and_matching_rows(version):
    archive = zipfile.ZipFile(io.BytesIO(body(stream_zip(version=version))))
    names = set(archive.namelist())
    assert {"README.md", "manifest.json", "data/train.jsonl", "data/dev.jsonl", "data/test.jsonl"} <= names
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["checksum"] == version.checksum
    assert manifest["members"]["data/train.jsonl"]["rows"] == 6
    train = [json.loads(line) for line in archive.read("data/train.jsonl").decode().splitlines()]
    assert {row["split"] for row in train} == {"train"} and len(train) == 6
    # The card names the splits as the rows do, and metadata is JSON text as in CSV and Parquet
    card = archive.read("README.md").decode()
    assert "split: dev" in card and "validation" not in card
    assert all(json.loads(row["metadata"]) == {"score": 3, "source": "web"} for row in train)


def test_zip_of_an_image_project_holds_each_media_file_byte_identical_at_its_manifest_path(media_roots):
    # Given an image project whose PNGs came in through the real import (stored in media storage), labelled
    project = make_project(task_type="image_classification", labels=("cat", "dog"), name="Pets")
    originals = {f"img{n}.png": png_bytes(pattern=n + 1) for n in range(10)}
    upload = io.BytesIO()
    with zipfile.ZipFile(upload, "w") as archive:
        for name, data in originals.items():
            archive.writestr(name, data)
    job = run_import(project, "pets.zip", upload.getvalue())
    assert job.result["created"] == 10, job.result
    for n, name in enumerate(originals):
        Item.objects.filter(project=project, external_id=name).update(
            status=ItemStatus.LABELLED, consensus_label="cat" if n % 2 else "dog", consensus_confidence=0.9
        )
    version = freeze(project, splits={"train": 0.6, "dev": 0.2, "test": 0.2})
    entries = {
        entry.item_id: entry for entry in DatasetEntry.objects.filter(version=version).select_related("item")
    }
    assert len(entries) == 10 and all(entry.item.file for entry in entries.values())
    # When the zip is streamed and read back
    archive = zipfile.ZipFile(io.BytesIO(body(stream_zip(version=version))))
    manifest = json.loads(archive.read("manifest.json"))
    # Then each split folder has a metadata.jsonl whose rows name their media file and carry the frozen label
    splits = [split for split in ("train", "dev", "test") if version.split_counts[split]]
    assert len(splits) == 3
    media_paths = set()
    for split in splits:
        rows = [json.loads(line) for line in archive.read(f"{split}/metadata.jsonl").decode().splitlines()]
        assert (
            manifest["members"][f"{split}/metadata.jsonl"]["rows"] == len(rows) == version.split_counts[split]
        )
        for row in rows:
            entry = entries[row["item_id"]]
            assert (row["split"], row["label"], row["external_id"]) == (split, entry.label, entry.external_id)
            assert entry.split == split
            # and the file it names sits next to it, byte-identical to the upload, with the manifest's sha256
            path = f"{split}/{row['file_name']}"
            data = archive.read(path)
            assert data == originals[entry.external_id]
            assert manifest["members"][path] == {"sha256": hashlib.sha256(data).hexdigest()}
            media_paths.add(path)
    # and the archive holds nothing else, every manifest member is in it, the labels add up
    metadata = {f"{split}/metadata.jsonl" for split in splits}
    assert set(archive.namelist()) == {"README.md", "manifest.json"} | metadata | media_paths
    assert set(manifest["members"]) == metadata | media_paths
    assert manifest["checksum"] == version.checksum and manifest["split_counts"] == version.split_counts
    assert manifest["label_distribution"] == {"cat": 5, "dog": 5}
    assert "path: train/**" in archive.read("README.md").decode()


def _hf_python() -> str | None:
    """An interpreter that has Hugging Face ``datasets`` (the name clashes with this app, so run it apart)."""
    for candidate in (os.environ.get("LABELGATE_HF_PYTHON"), sys.executable):
        if not candidate or not os.path.exists(candidate):
            continue
        probe = subprocess.run(
            [candidate, "-I", "-c", "import datasets; datasets.load_dataset"],
            capture_output=True,
            cwd="/",
            timeout=120,
        )
        if probe.returncode == 0:
            return candidate
    return None


HF_CLASSES = ["zeta", "alpha", "mid"]  # project order, deliberately not alphabetical; "mid" gets no rows


def _media_version(task_type: str, files: dict[str, bytes]):
    """A media project imported through the real import, every item labelled zeta or alpha by consensus."""
    project = make_project(task_type=task_type, labels=HF_CLASSES, name=task_type)
    upload = io.BytesIO()
    with zipfile.ZipFile(upload, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    job = run_import(project, "media.zip", upload.getvalue())
    assert job.result["created"] == len(files), job.result
    expected = {}
    for n, name in enumerate(files):
        expected[name] = "alpha" if n % 3 else "zeta"
        Item.objects.filter(project=project, external_id=name).update(
            status=ItemStatus.LABELLED, consensus_label=expected[name], consensus_confidence=0.9
        )
    return freeze(project, splits={"train": 0.6, "dev": 0.2, "test": 0.2}), expected


def _require_hf_python() -> str:
    python = _hf_python()
    if python is None:
        why = "Hugging Face datasets is not installed (set LABELGATE_HF_PYTHON to an interpreter that has it)"
        # scripts/test.sh builds that interpreter, so in CI a missing one is a broken setup, not a reason to skip.
        if os.environ.get("CI") == "true" or os.environ.get("LABELGATE_REQUIRE_HF") == "1":
            pytest.fail(f"{why}; scripts/hf_venv.sh creates .venv-hf and exports it")
        pytest.skip(why)
    return python


HF_SCRIPT = """
import json, sys
import datasets, pandas as pd
d = sys.argv[1]
try:
    import torchcodec  # noqa: F401
except ImportError:
    # datasets>=4 refuses to even store an audio file's path without torchcodec (and torch), the extra the
    # README names for audio. What is checked here is the card and layout, so only that import check is
    # bypassed: for a path the real encoder returns exactly this.
    from datasets.features import audio as hf_audio
    hf_audio.Audio.encode_example = lambda self, value: {"bytes": None, "path": value}
out = {}
j = datasets.load_dataset("json", data_files={s: f"{d}/{s}.jsonl" for s in ("train", "dev", "test")}, cache_dir=f"{d}/cache")
p = datasets.load_dataset("parquet", data_files=f"{d}/all.parquet", cache_dir=f"{d}/cache")
out["json"] = {k: v.num_rows for k, v in j.items()}
out["parquet"] = {"rows": p["train"].num_rows, "label0": p["train"][0]["label"],
                  "pandas_categories": list(pd.read_parquet(f"{d}/all.parquet")["label"].cat.categories)}
for kind in ("text", "image", "audio"):
    z = datasets.load_dataset(f"{d}/{kind}", cache_dir=f"{d}/cache")
    media = [c for c in ("image", "audio") if c in z["train"].column_names]
    out[kind] = {
        "splits": {k: v.num_rows for k, v in z.items()},
        "names": z["train"].features["label"].names,
        "media": [type(z["train"].features[c]).__name__ for c in media],
        "ids": {r["external_id"]: r["label"] for v in z.values() for r in v.remove_columns(media)},
    }
print(json.dumps(out))
"""


def test_hugging_face_datasets_loads_the_exports(version, tmp_path, media_roots):
    # Given the text fixture's plain exports, and zips of a text, an image and an audio project whose labels are
    # zeta, alpha, mid in that order (mid without rows)
    python = _require_hf_python()
    for split in ("train", "dev", "test"):
        (tmp_path / f"{split}.jsonl").write_bytes(body(stream_jsonl(version=version, split=split)))
    (tmp_path / "all.parquet").write_bytes(body(stream_parquet(version=version)))
    text_project = make_project(labels=HF_CLASSES, name="Text")
    ids = labelled_items(text_project, {"alpha": 4, "zeta": 3})
    text_expected = {f"t{n}": "alpha" if n < 4 else "zeta" for n in range(7)}
    assert len(ids) == 7
    versions = {"text": (freeze(text_project, splits={"train": 0.6, "dev": 0.2, "test": 0.2}), text_expected)}
    versions["image"] = _media_version(
        "image_classification", {f"img{n}.png": png_bytes(pattern=n + 1) for n in range(6)}
    )
    versions["audio"] = _media_version(
        "audio_classification", {f"clip{n}.wav": wav_bytes(tone(0.2, freq=220.0 * (n + 1))) for n in range(6)}
    )
    for kind, (frozen, _) in versions.items():
        zipfile.ZipFile(io.BytesIO(body(stream_zip(version=frozen)))).extractall(tmp_path / kind)
    # When Hugging Face datasets (and its pandas) load them in their own interpreter
    result = subprocess.run(
        [python, "-I", "-c", HF_SCRIPT, str(tmp_path)], capture_output=True, text=True, cwd="/", timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    # Then the plain files load as before, and pandas reads the Parquet label as the project's categories
    assert loaded["json"] == {"train": 6, "dev": 2, "test": 2}
    assert loaded["parquet"] == {"rows": 10, "label0": "neg", "pandas_categories": ["pos", "neg"]}
    # and every zip gives a ClassLabel in project order, ids by that order, split names as the rows say them
    for kind, (frozen, expected) in versions.items():
        got = loaded[kind]
        assert got["names"] == HF_CLASSES, kind
        assert got["splits"] == {split: n for split, n in frozen.split_counts.items() if n}, kind
        assert got["ids"] == {name: HF_CLASSES.index(label) for name, label in expected.items()}, kind
    assert loaded["image"]["media"] == ["Image"] and loaded["audio"]["media"] == ["Audio"]


def _peak_while_streaming(stream) -> tuple[int, int]:
    tracemalloc.start()
    tracemalloc.reset_peak()
    size = 0
    for chunk in stream:
        size += len(chunk)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, size


def test_memory_stays_flat_while_streaming(monkeypatch):
    # Given versions of 1,000 and 10,000 entries, with chunks and row groups small enough that both stream several
    monkeypatch.setattr(exporters, "CHUNK_ROWS", 250)
    monkeypatch.setattr(exporters, "PARQUET_ROW_GROUP", 500)
    project = make_project(labels=("pos", "neg"))
    bulk_labelled_items(project, 1000, prefix="s")
    small = freeze(project)
    bulk_labelled_items(project, 9000, prefix="l")
    large = freeze(project)
    for exporter in (stream_jsonl, stream_csv, stream_parquet):
        # When each is streamed through the exporter
        small_peak, small_size = _peak_while_streaming(exporter(version=small))
        large_peak, large_size = _peak_while_streaming(exporter(version=large))
        # Then 10x the rows (and bytes) costs far less than 10x the peak memory
        assert large_size > 9 * small_size, exporter.__name__
        assert large_peak < 2 * small_peak, (exporter.__name__, small_peak, large_peak)


def test_entry_line_is_one_json_line_with_sorted_keys_whatever_the_text_holds():
    from datasets.exporters import entry_line

    line = entry_line(
        item_id=7,
        external_id='ext "7"\\',
        label_json='"pos"',
        split="dev",
        confidence=None,
        metadata_json='{\n  "b": 1,\n  "a": "x"\n}',
        tags_json='["t1", "t2"]',
        sha256="ab",
        text="line1\nline2\u2028 é\t",
        has_file=True,
    )
    assert line.endswith("\n") and line.count("\n") == 1
    row = json.loads(line)
    assert list(row) == sorted(row)
    assert row == {
        "confidence": None,
        "external_id": 'ext "7"\\',
        "file_url": "/media/items/7/",
        "item_id": 7,
        "label": "pos",
        "metadata": {"a": "x", "b": 1},
        "sha256": "ab",
        "split": "dev",
        "tags": ["t1", "t2"],
        "text": "line1\nline2\u2028 é\t",
    }
    assert json.loads(
        entry_line(
            item_id=1,
            external_id="e",
            label_json='["a", "b"]',
            split="train",
            confidence=1.0,
            metadata_json="{}",
            tags_json="[]",
            sha256="",
            text="",
            has_file=False,
        )
    ) == {
        "confidence": 1.0,
        "external_id": "e",
        "file_url": None,
        "item_id": 1,
        "label": ["a", "b"],
        "metadata": {},
        "sha256": "",
        "split": "train",
        "tags": [],
        "text": None,
    }
