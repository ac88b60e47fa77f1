"""Import a file into a project from the shell, in this process, with a progress bar.

Same work function and Job record as an upload through the API, so the batch, report and drift appear in the
app; the file is read in place (it is not copied into MEDIA_ROOT).
"""

import json
import os
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotation.models import Project
from core.errors import ValidationFailed
from core.models import JobStatus
from ingress.services.imports import import_local_file


def _read(path: str | None) -> str:
    if not path:
        return ""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


class _BarContext:
    """Forwards progress to the Job (throttled there) and to a tqdm bar."""

    def __init__(self, inner, bar: tqdm):
        self.inner = inner
        self.bar = bar

    def progress(self, fraction: float, message: str = "") -> None:
        self.bar.n = round(fraction * 1000)
        self.bar.set_postfix_str(message[:60], refresh=False)
        self.bar.refresh()
        self.inner.progress(fraction, message)


class Command(BaseCommand):
    help = "Import a CSV, JSONL, JSON, Label Studio export or zip of media into a project (runs here, not on a worker)."

    def add_arguments(self, parser):
        parser.add_argument("project", type=int, help="project id")
        parser.add_argument("path", help="file to import")
        parser.add_argument("--user", help="username recorded as the job's creator")
        parser.add_argument(
            "--labelstudio-annotations", choices=["annotations", "metadata", "gold"], default="annotations"
        )
        parser.add_argument("--labelstudio-config", help="Label Studio labelling config (XML file)")
        parser.add_argument("--data-key", default="", help="task data key holding the text or media")
        parser.add_argument("--labelstudio-users", help="JSON file mapping Label Studio user ids to e-mails")

    def handle(self, *args, **options):
        project = Project.objects.filter(pk=options["project"]).first()
        if project is None:
            raise CommandError(f"No project with id {options['project']}.")
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user named {options['user']}.")
        with tqdm(total=1000, desc="import", unit="‰", file=sys.stderr) as bar:
            try:
                job = import_local_file(
                    project=project,
                    path=os.path.realpath(options["path"]),
                    user=user,
                    labelstudio_annotations=options["labelstudio_annotations"],
                    labelstudio_config=_read(options["labelstudio_config"]),
                    data_key=options["data_key"],
                    labelstudio_users=json.loads(_read(options["labelstudio_users"]) or "{}"),
                    wrap_context=lambda context: _BarContext(context, bar),
                )
            except ValidationFailed as exc:
                raise CommandError(exc.message) from exc
        result = job.result
        if job.status != JobStatus.SUCCEEDED:
            for row in (result or {}).get("report", [])[:20]:
                self.stdout.write(f"  line {row['line']}: {row['field']}: {row['message']}")
            raise CommandError(f"Import failed: {job.error}")
        style = self.style.WARNING if result["errors"] else self.style.SUCCESS
        batch = f"batch {result['batch']}" if result["batch"] else "no new batch"
        self.stdout.write(
            style(
                f"{result['rows']} rows: {result['created']} created, {result['duplicates']} duplicates, "
                f"{result['errors']} errors, {result['routed_to_review']} routed to review ({batch}, job {job.pk})."
            )
        )
        if result["file_error"]:
            self.stdout.write(self.style.ERROR(f"  Reading stopped early: {result['file_error']}"))
        for row in result["report"][:20]:
            self.stdout.write(f"  line {row['line']}: {row['field']}: {row['message']}")
        if result["report_truncated"] or len(result["report"]) > 20:
            self.stdout.write(f"  … the full report is in GET /api/jobs/{job.pk}/")
        for sentence in result["drift"]:
            self.stdout.write(self.style.WARNING(f"  {sentence}"))
