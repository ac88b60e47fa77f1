from django.core.management.base import BaseCommand, CommandError

from datasets.checksums import version_checksum_verify
from datasets.models import DatasetVersion


class Command(BaseCommand):
    help = (
        "Recompute the checksum of dataset versions from the database and compare; exits 1 on any mismatch."
    )

    def add_arguments(self, parser):
        parser.add_argument("versions", nargs="*", type=int, help="version ids (default: every version)")
        parser.add_argument("--project", type=int, help="only this project's versions")

    def handle(self, *args, versions: list[int], project: int | None, **options):
        queryset = DatasetVersion.objects.select_related("project").order_by("project_id", "number")
        if versions:
            queryset = queryset.filter(pk__in=versions)
        if project:
            queryset = queryset.filter(project_id=project)
        bad = 0
        checked = 0
        for version in queryset.iterator(chunk_size=100):
            result = version_checksum_verify(version=version)
            checked += 1
            state = "ok" if result["ok"] else f"MISMATCH (computed {result['computed']})"
            self.stdout.write(f"project {version.project_id} v{version.number} (id {version.pk}): {state}")
            bad += not result["ok"]
        if versions and checked < len(set(versions)):
            raise CommandError(f"Only {checked} of the {len(set(versions))} versions asked for exist.")
        if bad:
            raise CommandError(f"{bad} of {checked} versions failed verification.")
        self.stdout.write(f"{checked} versions verified.")
