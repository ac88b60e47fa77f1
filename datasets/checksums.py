"""Re-verifying a version's checksum: sha256 of its canonical export, recomputed from the database."""

import hashlib

from datasets.exporters import stream_jsonl
from datasets.models import DatasetVersion


def version_checksum_compute(*, version: DatasetVersion) -> str:
    digest = hashlib.sha256()
    for chunk in stream_jsonl(version=version):
        digest.update(chunk)
    return digest.hexdigest()


def version_checksum_verify(*, version: DatasetVersion) -> dict:
    """``{"checksum", "computed", "ok", "n_entries"}``; reads every entry once (streamed)."""
    computed = version_checksum_compute(version=version)
    return {
        "checksum": version.checksum,
        "computed": computed,
        "ok": computed == version.checksum,
        "n_entries": version.n_entries,
    }
