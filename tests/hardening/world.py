"""A project with one caller of every kind and one object of every routed kind, for the hardening tests."""

from dataclasses import dataclass

from django.contrib.auth.tokens import default_token_generator
from django.core.files.base import ContentFile
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.services import invite_create
from annotation.media import media_link_sign
from annotation.models import Item, Label, Role
from annotation.services.queue import assignment_next_for_annotator
from core.models import Job
from datasets.delivery import export_filename
from datasets.links import export_link_sign
from ingress.tasks import IMPORT_TASK
from tests.datasets.builders import freeze, labelled_items
from tests.factories import UserFactory, add_items, add_member, make_project
from tests.ingress.ingress_fixtures import png_bytes, tone, wav_bytes

ROLES = ("anonymous", "other_annotator", "annotator", "reviewer", "manager", "staff")


@dataclass
class World:
    project: object
    users: dict
    ids: dict  # URL kwarg name -> value


def build_world() -> World:
    """Callers: anonymous, an annotator of ANOTHER project, annotator, reviewer, manager (creator), staff."""
    from quality.models import LabelExample, SavedItemFilter

    manager = UserFactory()
    project = make_project(manager=manager, k=3)
    add_items(project, 6)
    labelled_items(project, {"pos": 3, "neg": 3}, prefix="l")
    version = freeze(project)
    other = make_project(name="Elsewhere")
    users = {
        "other_annotator": add_member(other, Role.ANNOTATOR),
        "annotator": add_member(project, Role.ANNOTATOR),
        "reviewer": add_member(project, Role.REVIEWER),
        "manager": manager,
        "staff": UserFactory(is_staff=True),
    }
    assignment = assignment_next_for_annotator(project=project, user=users["annotator"])
    # One item carries an audio file so the media and waveform routes have something to serve.
    media_item = Item.objects.filter(project=project).order_by("id").first()
    media_item.file.save("tone.wav", ContentFile(wav_bytes(tone(seconds=0.3))), save=False)
    media_item.content_type, media_item.file_name = "audio/wav", "tone.wav"
    media_item.save(update_fields=["file", "content_type", "file_name"])
    # And one an image, for the thumbnail route.
    image_item = Item.objects.filter(project=project).order_by("id")[1]
    image_item.file.save("photo.png", ContentFile(png_bytes()), save=False)
    image_item.content_type, image_item.file_name = "image/png", "photo.png"
    image_item.save(update_fields=["file", "content_type", "file_name"])
    saved_filter = SavedItemFilter.objects.create(
        project=project, name="flagged", query="has_issue=true", created_by=manager
    )
    example = LabelExample.objects.create(
        label=Label.objects.get(project=project, value="pos"), item=media_item, added_by=manager
    )
    # An import job, so that both the job API and the import page have one to show.
    job = Job.objects.create(kind="import", task_name=IMPORT_TASK, project=project, created_by=manager)
    # A signed export link made by the manager: the token is the credential, so anyone holding it may download.
    token, _ = export_link_sign(version=version, user_id=manager.pk, fmt="jsonl", split=None, max_age=3600)
    # An open invite link (the token is the credential) and a password-reset link of the reviewer.
    _, invite_token = invite_create(
        project=project, actor=manager, role=Role.ANNOTATOR, accept_url_for=lambda token: token
    )
    ids = {
        "pid": project.pk,
        # A member the member routes act on.
        "uid": users["reviewer"].pk,
        "invite_token": invite_token,
        "reset_uidb64": urlsafe_base64_encode(force_bytes(users["reviewer"].pk)),
        "reset_token": default_token_generator.make_token(users["reviewer"]),
        "item_id": media_item.pk,
        "aid": assignment.pk,
        "vid": version.pk,
        "example_id": example.pk,
        "image_item_id": image_item.pk,
        "filter_id": saved_filter.pk,
        "job_id": job.pk,
        "token": token,
        "filename": export_filename(version=version, fmt="jsonl", split=None),
        # A signed media link (what a Label Studio export hands out): the token is the credential.
        "media_token": media_link_sign(item_id=media_item.pk, max_age=3600),
        # A label the label routes name by value.
        "label_value": "pos",
    }
    return World(project=project, users=users, ids=ids)
