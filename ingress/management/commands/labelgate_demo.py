from django.core.management.base import BaseCommand

from ingress.demo import seed


class Command(BaseCommand):
    help = "Load the demo projects and users (idempotent: existing demo projects are kept as they are)."

    def handle(self, *args, **options):
        project = seed.seed_text_project()
        if project is None:
            self.stdout.write("Demo text project already present.")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo text project '{project.name}' loaded ({project.items.count()} items)."
                )
            )
        for extra in seed.EXTRA_SEEDERS:
            message = extra()
            if message:
                self.stdout.write(message)
