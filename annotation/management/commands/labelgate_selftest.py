from django.core.management.base import BaseCommand
from django.db import transaction

from annotation.job_kinds import SELFTEST_JOB
from core import jobs


class Command(BaseCommand):
    help = "Enqueue a self-test job (checks that a worker and the broker are running) and print its id."

    def add_arguments(self, parser):
        parser.add_argument("--steps", type=int, default=3)
        parser.add_argument("--echo", default="hi")

    def handle(self, *args, **options):
        # The job is sent to the broker when this transaction commits, never before.
        with transaction.atomic():
            job = jobs.job_create(
                kind=SELFTEST_JOB,
                task_name="annotation.selftest",
                params={"steps": options["steps"], "echo": options["echo"]},
            )
        self.stdout.write(str(job.pk))
