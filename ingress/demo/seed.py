"""Demo content for the run command: users, a text project with real data, and simulated annotators.

Idempotent: an existing demo project is left alone, so restarting the app never duplicates anything.
"""

import random
import uuid

from django.contrib.auth import get_user_model
from django.db import transaction

from annotation.models import Project
from annotation.services.annotations import AnnotationInput, annotation_submit
from annotation.services.projects import LabelSpec, annotators_ensure, project_create
from ingress.demo.stdlib_corpus import TOPIC_MODULES, stdlib_rows
from ingress.services.batch_summaries import bulk_batches_summarise
from ingress.services.bulk import item_bulk_create
from ingress.services.near_duplicates import near_dup_refresh

DEMO_PASSWORD = "labelgate-demo"
TEXT_PROJECT = "Demo · Python docs by topic"
LABEL_HELP = {
    "files": "Files, paths, directories, processes and the operating system",
    "network": "Sockets, protocols, URLs, e-mail and HTTP",
    "text": "Strings, regular expressions, encodings and localisation",
    "math": "Numbers, arithmetic, statistics, randomness and ordering",
    "concurrency": "Threads, processes, async, queues and signals",
    "formats": "Serialisation and file formats: JSON, CSV, XML, archives, compression",
}
GUIDELINE = """# Which part of Python is this about?

Each item is the first sentence of a standard-library docstring. Choose the **topic the sentence is about**,
not the module it happens to live in.

* If a sentence mentions both a format and files (e.g. *"Open a gzip-compressed file"*), choose **formats**.
* Process management (`spawn`, `kill`, `wait`) is **concurrency**; process *identity* (user ids) is **files**.
* Flag **unsure** when two topics fit equally; flag **input unusable** when the sentence says nothing.
"""
SIMULATED = (
    ("sim-ann", 0.92),
    ("sim-ben", 0.85),
    ("sim-cat", 0.78),
    ("sim-dan", 0.70),
    ("sim-eve", 0.62),
    ("sim-spam", 0.2),
)


def demo_user(username: str, *, staff: bool = False):
    users = get_user_model()
    user = users.objects.filter(username=username).first()
    if user is None:
        user = users.objects.create_user(
            username=username, password=DEMO_PASSWORD, is_staff=staff, is_superuser=staff
        )
    return user


def seed_text_project(*, seed: int = 7, simulate_fraction: float = 0.45) -> Project | None:
    if Project.objects.filter(name=TEXT_PROJECT).exists():
        return None
    manager = demo_user("manager", staff=True)
    annotators = [demo_user(name) for name in ("alice", "bob", "carol")]
    rows = stdlib_rows(seed=seed)
    rng = random.Random(seed)
    with transaction.atomic():
        project = project_create(
            user=manager,
            name=TEXT_PROJECT,
            task_type="text_classification",
            labels=[LabelSpec(value=topic, description=LABEL_HELP[topic]) for topic in TOPIC_MODULES],
            annotations_per_item=3,
            gold_rate=0.05,
            guidelines=GUIDELINE,
            description="Real docstrings from the Python standard library; the label is the topic.",
        )
        annotators_ensure(project=project, users=annotators)
        gold_ids = {row["external_id"] for row in rng.sample(rows, 25)}
        bulk = [
            {key: row[key] for key in ("external_id", "text", "tags", "metadata")}
            | ({"gold_label": row["label"]} if row["external_id"] in gold_ids else {})
            for row in rows
        ]
        item_bulk_create(project=project, rows=bulk, source="python stdlib docstrings")
    # What the refresh job does after a bulk-API call, run here (the items are committed): without it the
    # batches page would say "No duplicates found" until some later import happened to trigger the scan.
    near_dup_refresh(project=project)
    bulk_batches_summarise(project=project)
    with transaction.atomic():
        simulate_votes(
            project=project,
            truth=[(row["external_id"], row["label"]) for row in rows],
            rng=rng,
            fraction=simulate_fraction,
        )
    return project


def simulate_votes(
    *,
    project: Project,
    truth: list[tuple[str, str]],
    rng: random.Random,
    fraction: float,
    confusable: dict[str, tuple[str, ...]] | None = None,
) -> None:
    """Label a share of the items with simulated annotators of known accuracy, three each.

    ``truth`` pairs each item's external id with its real label. A mistake picks one of ``confusable[label]``
    when given (the labels a person really mixes up with it), else any other label of the project.
    """
    labels = list(project.labels.filter(is_active=True).values_list("value", flat=True))
    sims = [(demo_user(name), accuracy) for name, accuracy in SIMULATED]
    annotators_ensure(project=project, users=[user for user, _ in sims])
    ids = dict(project.items.values_list("external_id", "id"))
    chosen = [pair for pair in truth if rng.random() < fraction]
    for external_id, true_label in chosen:
        wrong = list((confusable or {}).get(true_label) or [value for value in labels if value != true_label])
        for user, accuracy in rng.sample(sims, 3):
            label = true_label if rng.random() < accuracy else rng.choice(wrong)
            annotation_submit(
                project=project,
                user=user,
                data=AnnotationInput(
                    item_id=ids[external_id],
                    labels=[label],
                    unsure=rng.random() < 0.03,
                    lead_time_ms=rng.randint(1500, 9000),
                    client_id=uuid.uuid4(),
                ),
            )


# Other demo projects (image, audio) register a callable returning a status line.
EXTRA_SEEDERS: list = []

from ingress.demo import media as _media_demos  # noqa: E402,F401 - registers the image and audio demos
