"""One writer per table: no app writes another app's tables.

An app owns the tables of the models it declares (``Model._meta.app_label``); every other app hands the owner
arrays or dataclasses through the owner's services. Two checks:

- on the source: ORM write calls (``Model.objects….update()``, ``bulk_create``, ``.delete()``, …) on a model
  another app declares, and raw SQL (``UPDATE``, ``INSERT INTO``, ``DELETE FROM``, ``COPY … FROM``) naming
  another app's table, literally or as ``{Model._meta.db_table}``;
- at run time: a representative flow (submit votes, per-item consensus pass, quality run, review decisions, a
  label merge, active-learning training and overlap) runs with a ``connection.execute_wrapper`` that attributes
  every INSERT/UPDATE/DELETE to the innermost frame of application code on the stack, so an instance ``save()``
  or a write hidden behind a helper is caught too.

The apps are found from the Django app registry (every installed app whose package lives in this repository), so
an app added later (``core``, ``ingress``, …) is held to the same rule without editing this file. Django's own apps
(auth, sessions, admin) are out of scope: the project writes them only through their public APIs.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps

from activelearning.job_kinds import TRAIN_JOB

ROOT = Path(__file__).resolve().parents[2]
WRITE_METHODS = {
    "update",
    "delete",
    "bulk_create",
    "bulk_update",
    "create",
    "get_or_create",
    "update_or_create",
}
SQL_WRITE = re.compile(
    r"\b(?:UPDATE|INSERT\s+INTO|DELETE\s+FROM|COPY)\s+(?:ONLY\s+)?\"?([A-Za-z_][A-Za-z0-9_]*)?", re.IGNORECASE
)
SQL_WRITE_AT_END = re.compile(
    r"\b(?:UPDATE|INSERT\s+INTO|DELETE\s+FROM|COPY)\s+(?:ONLY\s+)?\"?$", re.IGNORECASE
)

# Writes a non-owner may issue: (module path from the repository root, owning app label) → the reason. Empty on
# purpose: add an entry only with a reason that holds up in review, never to make a failure go away.
ALLOWED: dict[tuple[str, str], str] = {}


def project_apps() -> dict[str, str]:
    """{top-level package in this repository: app label} for every installed app of the project."""
    found = {}
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        package = config.module.__name__.split(".")[0]
        # A top-level package of the repository: not an installed library in a virtualenv inside it (.venv/…)
        if ROOT in path.parents and path.relative_to(ROOT).parts[0] == package and package != "tests":
            found[package] = config.label
    return found


def table_owners() -> dict[str, str]:
    """{table name: app label} for every table of a project app (auto-created M2M tables included)."""
    labels = set(project_apps().values())
    owners = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label in labels:
            owners[model._meta.db_table.lower()] = model._meta.app_label
    return owners


def app_of_path(path: Path) -> str | None:
    packages = project_apps()
    parts = path.resolve().relative_to(ROOT).parts
    return packages.get(parts[0]) if parts else None


def source_files() -> Iterator[Path]:
    for package in sorted(project_apps()):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


# ---- the source check ------------------------------------------------------------------------------------------


def _model_label(value: object) -> str | None:
    meta = getattr(value, "_meta", None)
    if inspect.isclass(value) and meta is not None and hasattr(meta, "db_table") and not meta.abstract:
        return meta.app_label
    return None


def _imported_names(tree: ast.Module) -> dict[str, object]:
    """{local name: the object} for imports (any scope) of project modules already loaded — Django's start-up
    loads every models module, which is where models are imported from; nothing is imported here."""
    packages = project_apps()
    names: dict[str, object] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            module = sys.modules.get(node.module)
            if node.module.split(".")[0] not in packages or module is None:
                continue
            for alias in node.names:
                value = getattr(module, alias.name, None)
                if value is None:
                    value = sys.modules.get(f"{node.module}.{alias.name}")
                if value is not None:
                    names[alias.asname or alias.name] = value
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in packages and alias.name in sys.modules:
                    local = alias.asname or alias.name.split(".")[0]
                    names[local] = sys.modules[alias.name if alias.asname else local]
    return names


def _resolve(node: ast.AST, names: dict[str, object]) -> object | None:
    """The object a ``Name`` or dotted ``Attribute`` chain refers to, when it starts at an imported name."""
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, names)
        return None if base is None else getattr(base, node.attr, None)
    return None


def _manager_model(node: ast.AST, names: dict[str, object]) -> object | None:
    """The model of a ``<Model>.objects[.chain…]`` receiver, else None."""
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            if node.attr in ("objects", "_default_manager", "_base_manager"):
                model = _resolve(node.value, names)
                return model if _model_label(model) else None
            node = node.value
        else:
            return None


def _table_of(node: ast.AST, names: dict[str, object], table_names: dict[str, str]) -> str | None:
    """The owner of the table an expression names: ``Model._meta.db_table``, ``quote_name(…)`` of it, or a
    variable assigned one of those."""
    if isinstance(node, ast.Call) and node.args:
        node = node.args[0]
    if isinstance(node, ast.Name):
        return table_names.get(node.id)
    if (
        isinstance(node, ast.Attribute)
        and node.attr == "db_table"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "_meta"
    ):
        return _model_label(_resolve(node.value.value, names))
    return None


def _literal_targets(text: str, owners: dict[str, str]) -> Iterator[str]:
    for match in SQL_WRITE.finditer(text):
        table = (match.group(1) or "").lower()
        if table in owners:
            yield owners[table]


def _sql_targets(
    node: ast.AST, names: dict[str, object], owners: dict[str, str], table_names: dict[str, str]
) -> Iterator[str]:
    """App labels of the tables a string literal or f-string writes to."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield from _literal_targets(node.value, owners)
    elif isinstance(node, ast.JoinedStr):
        text = ""
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                text += part.value
                yield from _literal_targets(part.value, owners)
            elif isinstance(part, ast.FormattedValue):
                owner = _table_of(part.value, names, table_names)
                if owner and SQL_WRITE_AT_END.search(text):
                    yield owner
                text += "{}"


@dataclass(frozen=True)
class Write:
    where: str
    writer: str
    owner: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.writer} writes {self.owner}'s table ({self.what})"


def writes_in_source(source: str, *, where: str, writer: str) -> list[Write]:
    """Writes to tables of apps other than ``writer`` in one module's source."""
    owners = table_owners()
    tree = ast.parse(source, filename=where)
    names = _imported_names(tree)
    table_names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            owner = _table_of(node.value, names, {})
            if owner:
                table_names[node.targets[0].id] = owner
    found: dict[tuple[int, str, str], Write] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in WRITE_METHODS
        ):
            model = _manager_model(node.func.value, names)
            owner = _model_label(model) if model is not None else None
            if owner and owner != writer:
                what = f"{model.__name__}….{node.func.attr}()"
                found[(node.lineno, owner, what)] = Write(f"{where}:{node.lineno}", writer, owner, what)
        elif isinstance(node, ast.Constant | ast.JoinedStr):
            for owner in set(_sql_targets(node, names, owners, table_names)):
                if owner != writer:
                    found[(node.lineno, owner, "raw SQL")] = Write(
                        f"{where}:{node.lineno}", writer, owner, "raw SQL"
                    )
    return [write for _key, write in sorted(found.items(), key=lambda pair: pair[0][:1] + pair[0][2:])]


def static_writes() -> list[Write]:
    found = []
    for path in source_files():
        where = str(path.relative_to(ROOT))
        found += [
            write
            for write in writes_in_source(path.read_text(), where=where, writer=app_of_path(path))
            if (where, write.owner) not in ALLOWED
        ]
    return found


def test_the_source_check_sees_the_project_apps():
    # The rule is only as good as the app list: it must find the apps that own tables.
    assert {"annotation", "activelearning", "quality", "datasets"} <= set(project_apps().values())
    assert table_owners()["annotation_item"] == "annotation"


def test_no_app_writes_another_apps_tables_in_the_source():
    # Given every module of every project app; when its ORM write calls and SQL strings are read;
    # then each writes only tables its own app declares
    offenders = static_writes()
    assert not offenders, "\n".join(map(str, offenders))


PROBE = """
from django.db import connection
from annotation.models import Item, Label


def probe(cursor):
    Item.objects.filter(pk=1).update(priority=1)
    Item.objects.bulk_update([], ["priority"])
    Label.objects.create(value="x")
    Item.objects.filter(pk=1).exists()
    cursor.execute(f"UPDATE {Item._meta.db_table} AS i SET priority = 0")
    table = Item._meta.db_table
    cursor.execute(f"DELETE FROM {table} WHERE id = 0")
    cursor.execute("INSERT INTO annotation_label (value) VALUES ('x')")
    cursor.execute("SELECT * FROM annotation_item")
    {"a": 1}.update(b=2)
"""


def test_the_source_check_catches_each_kind_of_write():
    # Given a quality module that writes annotation's tables in each way the check knows, and reads them
    offenders = writes_in_source(PROBE, where="quality/probe.py", writer="quality")
    # Then each write is reported (lines 7-9, 11, 13, 14), and neither the reads nor a dict's update
    assert [(write.where, write.owner, write.what) for write in offenders] == [
        ("quality/probe.py:7", "annotation", "Item….update()"),
        ("quality/probe.py:8", "annotation", "Item….bulk_update()"),
        ("quality/probe.py:9", "annotation", "Label….create()"),
        ("quality/probe.py:11", "annotation", "raw SQL"),
        ("quality/probe.py:13", "annotation", "raw SQL"),
        ("quality/probe.py:14", "annotation", "raw SQL"),
    ]
    # and the owner itself may write them
    assert writes_in_source(PROBE, where="annotation/probe.py", writer="annotation") == []


# ---- the run-time check ----------------------------------------------------------------------------------------


SQL_TARGET = re.compile(
    r"^\s*(?:UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+\"?([A-Za-z_][A-Za-z0-9_]*)\"?", re.IGNORECASE
)
DJANGO_DELETION = str(Path("django") / "db" / "models" / "deletion.py")


class WriteRecorder:
    """A ``connection.execute_wrapper`` recording writes to project tables by an app other than the owner.

    The writer is the innermost frame of application code (a project app's module, not a test) on the stack.
    A cascade Django's deletion collector runs for a foreign key's ``on_delete`` is the declaring model's
    rule, not a write by the app that deleted the parent row, so it is not counted."""

    def __init__(self) -> None:
        self.owners = table_owners()
        self.packages = project_apps()
        self.writes: list[Write] = []
        self.seen: set[tuple[str, str]] = set()

    def __call__(self, execute, sql, params, many, context):
        match = SQL_TARGET.match(sql or "")
        owner = self.owners.get(match.group(1).lower()) if match else None
        if owner:
            self._check(owner, sql)
        return execute(sql, params, many, context)

    def _check(self, owner: str, sql: str) -> None:
        cascade = False
        frame = sys._getframe(2)
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename.endswith(DJANGO_DELETION):
                cascade = True
            parts = _repo_parts(filename)
            if parts and parts[0] == "tests":
                return  # a test setting up data writes wherever it needs to
            writer = self.packages.get(parts[0]) if parts else None
            if writer is not None:
                where = f"{Path(*parts)}:{frame.f_lineno}"
                if (
                    writer != owner
                    and not cascade
                    and (str(Path(*parts)), owner) not in ALLOWED
                    and (where, owner) not in self.seen
                ):
                    self.seen.add((where, owner))
                    self.writes.append(Write(where, writer, owner, " ".join(sql.split())[:90]))
                return
            frame = frame.f_back


def _repo_parts(filename: str) -> tuple[str, ...]:
    path = Path(filename)
    if not path.is_absolute():
        return ()
    try:
        return path.resolve().relative_to(ROOT).parts
    except ValueError:
        return ()


@pytest.fixture
def recorder():
    from django.db import connection

    recording = WriteRecorder()
    with connection.execute_wrapper(recording):
        yield recording


@pytest.mark.django_db
def test_the_run_time_check_attributes_a_write_to_the_module_that_issued_it(recorder):
    # Given a project; when a function compiled as if it lived in the quality app updates an item itself (the
    # frame's file name is what attributes a write)
    from annotation.models import Item
    from tests.factories import add_items, make_project

    project = make_project()
    add_items(project, 1)
    namespace: dict = {"Item": Item}
    code = compile(
        "def write(pk):\n    Item.objects.filter(pk=pk).update(priority=2.0)\n",
        str(ROOT / "quality" / "probe.py"),
        "exec",
    )
    exec(code, namespace)  # a frame whose file name says quality
    namespace["write"](Item.objects.get(project=project).pk)
    # Then the write is reported as quality writing annotation's table
    assert [(write.writer, write.owner) for write in recorder.writes] == [("quality", "annotation")]


@pytest.mark.django_db
def test_a_representative_flow_writes_only_through_the_owning_app(recorder, monkeypatch):
    # Given a project with votes; when the flows that change item state run inline (per-item pass, quality run,
    # review decisions, a label merge, active-learning training and overlap)
    from activelearning import services as al_services
    from activelearning.services import scoring
    from activelearning.services.targets import item_overlap_update
    from annotation.models import Item, ItemStatus
    from core.jobs import JobContext, job_create
    from quality import services as quality_services
    from quality.review import services as review_services
    from quality.services.items import items_consensus_update
    from tests.activelearning.al_helpers import al_project, vote
    from tests.factories import add_member

    monkeypatch.setattr(scoring, "BATCH_SIZE", 4)
    project, labelled, pool = al_project(n_labelled_per_label=4, n_pool_per_label=4, k=2)
    annotators = [add_member(project) for _ in range(3)]
    vote(project, pool[0], ["pos", "neg"], annotators=annotators[:2])
    vote(project, pool[1], ["neg", "neg"], annotators=annotators[:2])
    vote(project, pool[2], ["neutral", "pos"], annotators=annotators[:2])
    items_consensus_update(project_id=project.pk, item_ids=[pool[0].pk, pool[1].pk, pool[2].pk])
    job = quality_services.quality_run_create(project=project, user=project.created_by, n_boot=0)
    quality_services.quality_run(job=job, context=JobContext(job))
    manager = project.created_by
    review_services.review_decide(
        project=project, reviewer=manager, item_id=pool[1].pk, action="accept", label="neg"
    )
    review_services.review_decide(project=project, reviewer=manager, item_id=pool[0].pk, action="relabel")
    review_services.review_bulk_decide(
        project=project,
        reviewer=manager,
        item_ids=[pool[2].pk],
        action="escalate",
        reason="which label for mixed reviews?",
    )
    train = job_create(
        kind=TRAIN_JOB,
        task_name=al_services.TRAIN_TASK,
        project=project,
        params={"strategy": "margin", "seed": 1},
    )
    al_services.model_train_run(job=train, context=JobContext(train))
    Item.objects.filter(pk=labelled[0].pk).update(status=ItemStatus.LABELLED, final_label=None)
    item_overlap_update(project=project, item_id=labelled[0].pk, confidence=0.1)
    review_services.label_add(project=project, author=manager, value="mixed")
    review_services.label_merge(project=project, author=manager, labels=["neutral"], into="mixed")
    review_services.label_rename(project=project, author=manager, label="mixed", to="other")
    # Then every write to a table was issued by the app that owns it
    assert not recorder.writes, "\n".join(map(str, recorder.writes))
