"""Schemathesis against the served OpenAPI schema: every operation, a bounded number of generated cases.

The schema is loaded from ``/api/schema/`` of the WSGI application itself, so it is the schema clients see.
Each operation runs as the manager of a seeded project (Token header). Path parameters of valid (positive)
cases are pointed at real objects so the handlers run rather than answer 404; invalid (negative) path values
are sent as generated. Every case runs in a savepoint that is rolled back, so one case's write never changes
the next case's world. Checks: no 5xx (hostile, schema-violating input included), and response bodies and
content types match the schema for documented statuses. Not checked: ``status_code_conformance`` (4xx answers
follow the contract's ``{"detail"}`` convention and are not listed per operation), ``positive_data_acceptance``
(schema-valid input may still break a business rule, e.g. a label the project does not have) and
``negative_data_rejection`` (DRF's documented leniencies: a blank optional query value means "not given",
strings are trimmed before ``max_length``, an unparsable ``page_size`` falls back to the default, and the bulk
endpoint reports bad rows inside a 2xx by contract).
"""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from rest_framework.authtoken.models import Token
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
    status_code_conformance,
)

from config.wsgi import application
from tests.hardening.world import build_world

# Bounded: ~8 fuzzed cases per generation mode and operation, reproducible, no shrinking (a failure prints
# its curl command instead).
CONFIG = schemathesis.Config.from_dict(
    {
        "suppress-health-check": ["all"],
        "generation": {
            "mode": "all",
            "max-examples": 8,
            "deterministic": True,
            "no-shrink": True,
            "database": "none",
            "with-security-parameters": False,
        },
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)

EXCLUDED_CHECKS = [status_code_conformance, positive_data_acceptance, negative_data_rejection]
# Report endpoints answer 404 until a quality run / model training has stored something: those operations
# get a world with a stored quality report and a trained model.
NEEDS_REPORTS = ("/quality/]", "/annotators/]", "/model/]", "/queue/]")


def add_reports(world) -> None:
    """Three votes on each plain item, a stored quality report, and a trained base model."""
    from activelearning import services as al_services
    from activelearning.job_kinds import TRAIN_JOB
    from annotation.models import Item
    from core.jobs import JobContext, job_create
    from core.models import Job, JobStatus
    from quality import services as quality_services
    from quality.job_kinds import QUALITY_JOB
    from tests.datasets.builders import labelled_items
    from tests.factories import add_member
    from tests.quality.vote_builders import annotate

    project = world.project
    voters = [world.users["annotator"], add_member(project), add_member(project)]
    plain = Item.objects.filter(project=project, external_id__startswith="t").order_by("id")
    for index, item in enumerate(plain):
        for position, user in enumerate(voters):
            annotate(project, item, user, "pos" if (index + position) % 3 else "neg")
    labelled_items(project, {"pos": 4, "neg": 4}, prefix="m")  # ten or more labelled items: a real model
    job = quality_services.quality_run_create(project=project, user=world.users["manager"], n_boot=10)
    quality_services.quality_run(job=job, context=JobContext(job))
    job = job_create(
        kind=TRAIN_JOB,
        task_name=al_services.TRAIN_TASK,
        project=project,
        params={"strategy": "margin", "seed": 0},
    )
    al_services.model_train_run(job=job, context=JobContext(job))
    Job.objects.filter(kind__in=(QUALITY_JOB, TRAIN_JOB), project=project).update(status=JobStatus.SUCCEEDED)


@pytest.fixture
def fuzz_world(request, media_roots):
    """The hardening world; its manager is the caller. Django's per-request connection recycling is switched
    off (as django.test.Client does) so the in-process WSGI calls share the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        world = build_world()
        if request.node.name.endswith(NEEDS_REPORTS):
            add_reports(world)
        token = Token.objects.get_or_create(user=world.users["manager"])[0]
        yield world, {"Authorization": f"Token {token.key}"}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _valid(case, location: ParameterLocation) -> bool:
    component = case.meta.components.get(location) if case.meta is not None else None
    return component is None or component.mode is GenerationMode.POSITIVE


def point_at_real_objects(case, ids: dict) -> None:
    """Point valid path parameters (and a diff's ``against``) at the world's objects; negated ones are sent
    as generated."""
    if case.query and "against" in case.query and _valid(case, ParameterLocation.QUERY):
        case.query = {**case.query, "against": ids["vid"]}
    if case.path_parameters and _valid(case, ParameterLocation.PATH):
        real = {name: ids.get(name, value) for name, value in case.path_parameters.items()}
        # Integers stay integers (the schema's type); a job's UUID travels as its string form.
        case.path_parameters = {
            name: value if isinstance(value, int) else str(value) for name, value in real.items()
        }


@pytest.mark.django_db
@schema.parametrize()
def test_operation_never_errors_and_answers_per_schema(case, fuzz_world):
    # Given the seeded world and its manager's token
    world, headers = fuzz_world
    point_at_real_objects(case, world.ids)
    cache.clear()  # login and API throttles count per caller; a throttled 429 would hide the handler
    # When the generated case is sent (its writes rolled back afterwards)
    with transaction.atomic():
        try:
            # Then no 5xx, and the answer matches the schema
            case.call_and_validate(headers=headers, excluded_checks=EXCLUDED_CHECKS)
        finally:
            transaction.set_rollback(True)


@pytest.mark.django_db
def test_bulk_row_with_a_nul_character_is_reported_and_the_other_rows_land(api):
    # Given a project (found by this fuzz test: a NUL inside tags/metadata made the bulk call a 500)
    world = build_world()
    rows = [
        {"external_id": "ok-1", "text": "fine"},
        {"external_id": "nul-tag", "text": "x", "tags": ["a\x00b"]},
        {"external_id": "nul-meta", "text": "x", "metadata": {"k": ["\x00"]}},
        {"external_id": "nul-text", "text": "a\x00"},
    ]
    # When the rows are posted
    response = api(world.users["manager"]).post(
        f"/api/projects/{world.project.pk}/items/bulk/", rows, format="json"
    )
    # Then the good row lands and each NUL row is reported on its field
    assert response.status_code in (200, 201), response.content
    body = response.json()
    assert body["created"] == 1
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, "tags"), (2, "metadata"), (3, "text")]
