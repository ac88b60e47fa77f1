import sys
from collections.abc import Iterator
from typing import Protocol

from django.core.management.base import BaseCommand, CommandError

from datasets.archive import stream_zip
from datasets.exporters import FORMATS, stream_csv, stream_jsonl, stream_labelstudio, stream_parquet
from datasets.models import DatasetVersion
from datasets.splits import SPLIT_NAMES


class _Exporter(Protocol):
    def __call__(self, *, version: DatasetVersion, split: str | None = ...) -> Iterator[bytes]: ...


EXPORTERS: dict[str, _Exporter] = {
    "jsonl": stream_jsonl,
    "csv": stream_csv,
    "parquet": stream_parquet,
    "labelstudio": stream_labelstudio,
}


class Command(BaseCommand):
    help = "Stream a dataset version to a file (or stdout): JSONL, CSV, Parquet, Label Studio JSON or a zip."

    def add_arguments(self, parser):
        parser.add_argument(
            "version", type=int, help="dataset version id (as in /api/dataset-versions/{id}/)"
        )
        parser.add_argument("--format", default="jsonl", choices=list(FORMATS))
        parser.add_argument("--split", choices=list(SPLIT_NAMES), default=None)
        parser.add_argument("--output", "-o", default="-", help="file path, or - for stdout (default)")

    def handle(self, *args, version: int, format: str, split: str | None, output: str, **options):
        found = DatasetVersion.objects.select_related("project").filter(pk=version).first()
        if found is None:
            raise CommandError(f"Dataset version {version} does not exist.")
        if format == "zip":
            if split:
                raise CommandError("--split does not apply to the zip format (it holds every split).")
            chunks = stream_zip(version=found)
        else:
            chunks = EXPORTERS[format](version=found, split=split)
        target = sys.stdout.buffer if output == "-" else open(output, "wb")  # noqa: SIM115 - closed below
        written = 0
        try:
            for chunk in chunks:
                target.write(chunk)
                written += len(chunk)
        finally:
            if target is not sys.stdout.buffer:
                target.close()
        if output != "-":
            self.stderr.write(f"wrote {written} bytes to {output} (version checksum {found.checksum})")
