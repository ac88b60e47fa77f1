from django.core.management.base import BaseCommand, CommandError

from annotation.services.projects import user_create
from core.errors import ApplicationError


class Command(BaseCommand):
    help = "Create a user (staff-only operation; the API equivalent is POST /api/users/)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--staff", action="store_true", help="allow creating users and managing every project"
        )

    def handle(self, *args, **options):
        try:
            user = user_create(
                username=options["username"],
                password=options["password"],
                email=options["email"],
                is_staff=options["staff"],
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        self.stdout.write(self.style.SUCCESS(f"Created user {user.username} (id {user.pk})."))
