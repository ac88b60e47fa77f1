"""Each hand-written hot-path statement (annotation/hotpath_sql.py) returns what its ORM twin returns, for a
generated set of projects, items, leases, votes and times.

The suite runs this on PostgreSQL; on SQLite (the embedded default) run the same file without DATABASE_URL:
``DATABASE_URL= python -m pytest tests/annotation/test_hotpath_sql.py``."""

import ast
import random
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework.authtoken.models import Token

from annotation import hotpath_sql
from annotation.models import (
    Annotation,
    Assignment,
    AssignmentState,
    Guideline,
    Item,
    ItemStatus,
    Label,
    Membership,
    Project,
    Role,
)
from annotation.models.item import OPEN_STATUSES
from annotation.services.projects import guideline_create
from tests.factories import UserFactory, add_items, add_member, make_project

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
NOW = timezone.now()
TIMES = [NOW + timedelta(seconds=offset) for offset in (-7200, -60, 0, 30, 3600)]


def world(seed: int) -> dict:
    """Two projects with members, items in every status, leases in every state and time, live and superseded
    votes, client ids, guideline versions and retired labels; a third project without any guideline."""
    rng = random.Random(seed)
    projects, users = [], []
    for _p in range(2):
        project = make_project(k=rng.choice([1, 2, 3]))
        add_items(project, 30)
        members = [add_member(project, role=rng.choice(list(Role))) for _ in range(4)]
        users.extend(members)
        for _ in range(rng.randint(0, 2)):
            guideline_create(project=project, author=project.created_by, body="b", change_note="n")
        Label.objects.filter(project=project, value="neutral").update(is_active=rng.random() < 0.5)
        for item in Item.objects.filter(project=project):
            Item.objects.filter(pk=item.pk).update(
                status=rng.choice(list(ItemStatus)),
                is_gold=rng.random() < 0.2,
                priority=rng.choice([0.0, 0.5, 1.0]),
                target_annotations=rng.randint(1, 3),
                annotation_count=rng.randint(0, 3),
            )
            for user in members:
                if rng.random() < 0.4:
                    assignment = Assignment.objects.create(
                        project=project,
                        item=item,
                        annotator=user,
                        state=rng.choice(list(AssignmentState)),
                        expires_at=rng.choice(TIMES),
                    )
                    Assignment.objects.filter(pk=assignment.pk).update(created_at=rng.choice(TIMES[:3]))
                    for live in [False, True] if rng.random() < 0.3 else [rng.random() < 0.8]:
                        Annotation.objects.create(
                            project=project,
                            item=item,
                            annotator=user,
                            assignment=assignment,
                            labels=["pos"],
                            is_live=live,
                            client_id=uuid.uuid4() if rng.random() < 0.5 else None,
                        )
        projects.append(project)
    bare = make_project()
    Guideline.objects.filter(project=bare).delete()
    add_items(bare, 5)
    users.append(add_member(bare))
    projects.append(bare)
    return {"rng": rng, "projects": projects, "users": users + [UserFactory()]}


def row_values(instance, names) -> dict:
    return {name: getattr(instance, instance._meta.get_field(name).attname) for name in names}


@pytest.mark.parametrize("seed", [1, 2])
def test_the_pick_and_the_slot_recount_match_their_orm_twins(seed):
    # Given a generated project state
    w = world(seed)
    rng = w["rng"]
    checked = 0
    for project in w["projects"]:
        for user in w["users"]:
            for now in TIMES:
                for gold in (False, True):
                    open_ids = list(Item.objects.filter(project=project).values_list("id", flat=True))
                    passed_over = rng.sample(open_ids, k=rng.choice([0, 0, 1, 3]))
                    # When the hand-written pick runs, and its ORM twin
                    item = hotpath_sql.pick(
                        project_id=project.pk, user_id=user.pk, now=now, gold=gold, passed_over=passed_over
                    )
                    seen = Assignment.objects.filter(item=OuterRef("pk"), annotator_id=user.pk)
                    twin = (
                        Item.objects.filter(project=project, status__in=OPEN_STATUSES, is_gold=gold)
                        .exclude(Exists(seen))
                        .exclude(pk__in=passed_over)
                    )
                    if not gold:
                        twin = with_room(twin, now)
                    expected = twin.order_by("-priority", "id").values(*hotpath_sql.SERVED_FIELDS).first()
                    # Then they serve the same item with the same values
                    got = None if item is None else row_values(item, hotpath_sql.SERVED_FIELDS)
                    assert got == expected
                    checked += expected is not None
        for item_id in Item.objects.filter(project=project).values_list("id", flat=True):
            now = rng.choice(TIMES)
            assert (
                hotpath_sql.item_has_room(item_id=item_id, now=now)
                == with_room(Item.objects.filter(pk=item_id), now).exists()
            )
    assert checked > 20  # the generated cases serve items, not only "nothing left"


def with_room(items, now):
    leases = (
        Assignment.objects.filter(item=OuterRef("pk"), state=AssignmentState.ACTIVE, expires_at__gt=now)
        .order_by()
        .values("item")
        .annotate(n=Count("*"))
        .values("n")
    )
    return items.annotate(leases=Coalesce(Subquery(leases), Value(0))).filter(
        target_annotations__gt=F("annotation_count") + F("leases")
    )


@pytest.mark.parametrize("seed", [3])
def test_the_active_lease_matches_its_orm_twin(seed):
    w = world(seed)
    found = 0
    for project in w["projects"]:
        for user in w["users"]:
            for now in TIMES:
                lease = hotpath_sql.lease_active(project_id=project.pk, user_id=user.pk, now=now)
                expected = (
                    Assignment.objects.filter(
                        project=project,
                        annotator_id=user.pk,
                        state=AssignmentState.ACTIVE,
                        expires_at__gt=now,
                        item__status__in=OPEN_STATUSES,
                    )
                    .order_by("created_at", "id")
                    .values_list("id", flat=True)
                    .first()
                )
                assert (lease.pk if lease else None) == expected
                found += expected is not None
    assert found > 5


@pytest.mark.parametrize("seed", [4])
def test_the_submission_reads_match_their_orm_twins(seed):
    w = world(seed)
    rng = w["rng"]
    client_ids = list(Annotation.objects.exclude(client_id=None).values_list("client_id", flat=True))
    for project in w["projects"]:
        item_ids = list(Item.objects.filter(project=project).values_list("id", flat=True))
        other = list(Item.objects.exclude(project=project).values_list("id", flat=True)[:3])
        for item_id in item_ids + other:
            # The locked item: only within its project
            item = hotpath_sql.item_locked(project_id=project.pk, item_id=item_id)
            expected = (
                Item.objects.filter(project=project, pk=item_id)
                .values(*hotpath_sql.LOCKED_ITEM_FIELDS)
                .first()
            )
            assert (None if item is None else row_values(item, hotpath_sql.LOCKED_ITEM_FIELDS)) == expected
            for user in w["users"]:
                # The caller's own assignment and annotations (with a client id of theirs, someone else's, or none)
                assignment = hotpath_sql.assignment_own(item_id=item_id, user_id=user.pk)
                twin = Assignment.objects.filter(item_id=item_id, annotator_id=user.pk).values_list(
                    "id", flat=True
                )
                assert (assignment.pk if assignment else None) == twin.first()
                client_id = rng.choice([None, uuid.uuid4(), *client_ids])
                rows = hotpath_sql.annotations_own(user_id=user.pk, item_id=item_id, client_id=client_id)
                match = Q(item_id=item_id) | Q(client_id=client_id) if client_id else Q(item_id=item_id)
                twin = Annotation.objects.filter(match, annotator_id=user.pk).order_by("-is_live", "-id")
                assert [row.pk for row in rows] == list(twin.values_list("id", flat=True))


@pytest.mark.parametrize("seed", [5])
def test_the_membership_and_label_reads_match_their_orm_twins(seed):
    w = world(seed)
    project_fields = [field.name for field in Project._meta.concrete_fields]
    members = 0
    for project in w["projects"]:
        assert hotpath_sql.label_values(project_id=project.pk) == set(
            Label.objects.filter(project=project, is_active=True).values_list("value", flat=True)
        )
        for user in w["users"]:
            found = hotpath_sql.membership_row(user_id=user.pk, project_id=project.pk)
            membership = (
                Membership.objects.filter(user=user, project=project).select_related("project").first()
            )
            if membership is None:
                assert found is None
                continue
            members += 1
            latest = (
                Guideline.objects.filter(project=project)
                .order_by("-version")
                .values_list("id", "version")
                .first()
            )
            got_project, extra = found
            assert row_values(got_project, project_fields) == row_values(membership.project, project_fields)
            assert extra == {
                "membership_id": membership.pk,
                "membership_role": membership.role,
                "membership_acknowledged": membership.acknowledged_guideline_version,
                "latest_guideline_id": latest[0] if latest else None,
                "latest_guideline_version": latest[1] if latest else None,
            }
    assert members >= 9


def test_the_token_read_matches_its_orm_twin():
    from django.contrib.auth import get_user_model

    users = [UserFactory() for _ in range(3)]
    keys = [Token.objects.create(user=user).key for user in users] + ["0" * 40]
    user_model = get_user_model()
    sql = hotpath_sql.token_user_sql(Token, user_model, "default")
    fields = [field.name for field in user_model._meta.concrete_fields]
    for key in keys:
        got = next(iter(user_model.objects.raw(sql, [key])), None)
        token = Token.objects.select_related("user").filter(key=key).first()
        assert (None if got is None else row_values(got, fields)) == (
            None if token is None else row_values(token.user, fields)
        )


def same_as_orm(got, model, names=None) -> None:
    """``got`` holds, for every concrete field in ``names`` (all when None), the value the ORM loads for its row
    (converted: aware datetimes, UUIDs, booleans, JSON), and defers exactly the other fields."""
    expected = model._default_manager.get(pk=got.pk)
    fields = [f for f in model._meta.concrete_fields if names is None or f.name in names]
    for field in fields:
        value = getattr(got, field.attname)
        assert value == getattr(expected, field.attname), field.name
        assert type(value) is type(getattr(expected, field.attname)), field.name
    assert got.get_deferred_fields() == {f.attname for f in model._meta.concrete_fields} - {
        f.attname for f in fields
    }
    assert got._state.adding is False and got._state.db == "default"


@pytest.mark.parametrize("seed", [6])
def test_the_hot_path_rows_are_loaded_as_the_orm_loads_them(seed):
    # Given a generated project state with leases, votes (client ids, JSON labels) and tokens
    w = world(seed)
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    for user in w["users"][:3]:
        Token.objects.create(user=user)
    checked = {"assignment": 0, "annotation": 0, "item": 0, "lease": 0}
    # When each read's rows become instances, then every loaded field is what the ORM loads for that row
    for assignment in Assignment.objects.all():
        got = hotpath_sql.assignment_own(item_id=assignment.item_id, user_id=assignment.annotator_id)
        same_as_orm(got, Assignment)
        checked["assignment"] += 1
        for now in TIMES:
            lease = hotpath_sql.lease_active(
                project_id=assignment.project_id, user_id=assignment.annotator_id, now=now
            )
            if lease is not None:
                same_as_orm(lease, Assignment)
                checked["lease"] += 1
    for annotation in Annotation.objects.all():
        for row in hotpath_sql.annotations_own(
            user_id=annotation.annotator_id, item_id=annotation.item_id, client_id=annotation.client_id
        ):
            same_as_orm(row, Annotation)
            checked["annotation"] += 1
    for item in Item.objects.all():
        locked = hotpath_sql.item_locked(project_id=item.project_id, item_id=item.pk)
        same_as_orm(locked, Item, hotpath_sql.LOCKED_ITEM_FIELDS)
        checked["item"] += 1
    for project in w["projects"]:
        for user in w["users"]:
            for gold in (False, True):
                picked = hotpath_sql.pick(project_id=project.pk, user_id=user.pk, now=NOW, gold=gold)
                if picked is not None:
                    same_as_orm(picked, Item, hotpath_sql.SERVED_FIELDS)
    for token in Token.objects.all():
        got = hotpath_sql.user_for_token(
            token_model=Token, user_model=user_model, using="default", key=token.key
        )
        same_as_orm(got, user_model)
    for project in w["projects"]:
        for user in w["users"]:
            found = hotpath_sql.membership_row(user_id=user.pk, project_id=project.pk)
            if found is not None:
                same_as_orm(found[0], Project)
    assert all(n > 0 for n in checked.values()), checked


# The hot path (next, submit, token auth, access): its hand-written SQL belongs in annotation/hotpath_sql.py.
# selectors.py only for its label-set read: its other reads are not on the hot path.
HOT_PATH = {
    "core/api/authentication.py": None,
    "core/permissions.py": None,
    "annotation/services/annotations.py": None,
    "annotation/services/queue.py": None,
    "annotation/api/annotating.py": None,
    "annotation/selectors.py": "label_choices",
}
SQL_CALLS = {"raw", "execute", "executemany", "RawSQL", "extra", "cursor"}


def test_hand_written_hot_path_sql_lives_only_in_the_statement_module():
    # Given the hot-path modules (or the one function of a module); then none runs SQL of its own
    offenders = []
    for path, function in HOT_PATH.items():
        tree = ast.parse((ROOT / path).read_text())
        if function is not None:
            tree = next(
                node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == function
            )
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                if name in SQL_CALLS:
                    offenders.append(f"{path}:{node.lineno} {name}()")
    assert offenders == []


def test_the_statements_name_no_table_literally():
    # Then every table comes from model metadata: no string in the module names one
    from django.apps import apps

    tables = {model._meta.db_table for model in apps.get_models()}
    source = (ROOT / "annotation/hotpath_sql.py").read_text()
    named = [
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and tables & set(re.findall(r"\w+", node.value))
    ]
    assert named == []
