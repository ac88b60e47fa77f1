"""Exports describe their labels: class list in project order with stable ids, in manifest, Parquet and card."""

import io
import json
import zipfile

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from annotation.models import Item, ItemStatus, Label
from datasets.archive import stream_zip
from datasets.exporters import stream_csv, stream_jsonl, stream_parquet
from datasets.labelschema import ProjectLabel, label_schema_build
from datasets.models import DatasetVersion
from tests.datasets.builders import body, freeze, labelled_items
from tests.factories import make_project


def test_first_schema_follows_the_project_order_and_keeps_retired_labels_and_unseen_values():
    # Given labels in project order, one retired into another, and a value on the entries that is no label
    labels = [
        ProjectLabel("zeta", "the last letter"),
        ProjectLabel("alpha"),
        ProjectLabel("old", is_active=False, replaced_by="alpha"),
        ProjectLabel("mid"),
    ]
    # When the first version's schema is built
    schema = label_schema_build(
        project_labels=labels, multi_label=False, parent=None, seen=["alpha", "zz", "legacy"]
    )
    # Then ids are project positions (the retired label keeps its own), unknown values come last, sorted
    assert schema == {
        "multi_label": False,
        "labels": [
            {"id": 0, "value": "zeta", "description": "the last letter", "active": True, "replaced_by": None},
            {"id": 1, "value": "alpha", "description": "", "active": True, "replaced_by": None},
            {"id": 2, "value": "old", "description": "", "active": False, "replaced_by": "alpha"},
            {"id": 3, "value": "mid", "description": "", "active": True, "replaced_by": None},
            {"id": 4, "value": "legacy", "description": "", "active": False, "replaced_by": None},
            {"id": 5, "value": "zz", "description": "", "active": False, "replaced_by": None},
        ],
    }


def test_a_later_schema_keeps_the_parents_ids_even_when_the_project_reorders_and_appends_new_labels():
    parent = label_schema_build(
        project_labels=[ProjectLabel("a"), ProjectLabel("b")], multi_label=True, parent=None, seen=[]
    )
    # When the project puts b first and adds c, and the next version is built
    child = label_schema_build(
        project_labels=[ProjectLabel("b"), ProjectLabel("c"), ProjectLabel("a")],
        multi_label=True,
        parent=parent,
        seen=["b"],
    )
    assert [(label["id"], label["value"]) for label in child["labels"]] == [(0, "a"), (1, "b"), (2, "c")]
    assert child["multi_label"] is True


@pytest.fixture
def project():
    return make_project(labels=("zeta", "alpha", "mid"), name="Letters")


def _parquet_labels(version) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(body(stream_parquet(version=version))))


def _card_features(version) -> dict:
    card = zipfile.ZipFile(io.BytesIO(body(stream_zip(version=version)))).read("README.md").decode()
    front = yaml.safe_load(card.split("---")[1])
    return {feature["name"]: feature for feature in front["dataset_info"]["features"]}


@pytest.mark.django_db
def test_pandas_reads_the_parquet_label_as_a_categorical_in_project_order(project):
    # Given items labelled alpha and zeta (mid has none)
    labelled_items(project, {"alpha": 3, "zeta": 2})
    version = freeze(project)
    # When pandas reads the Parquet export
    frame = _parquet_labels(version)
    # Then label is a Categorical with every class in project order, and its codes are the class ids
    assert isinstance(frame["label"].dtype, pd.CategoricalDtype)
    assert list(frame["label"].cat.categories) == ["zeta", "alpha", "mid"]
    assert list(frame["label"].cat.codes) == [1, 1, 1, 0, 0]
    # and the schema metadata carries the label schema and says metadata is JSON text
    schema = pq.read_schema(io.BytesIO(body(stream_parquet(version=version))))
    described = json.loads(schema.metadata[b"labelgate"])
    assert [label["value"] for label in described["label_schema"]["labels"]] == ["zeta", "alpha", "mid"]
    assert described["label_schema"]["multi_label"] is False and described["version"] == 1
    assert schema.field("metadata").metadata == {b"labelgate.encoding": b"json"}


@pytest.mark.django_db
def test_the_zip_card_and_manifest_declare_the_classes_in_project_order(project):
    Label.objects.filter(project=project, value="alpha").update(description="first letter")
    labelled_items(project, {"alpha": 3, "zeta": 2})
    version = freeze(project)
    archive = zipfile.ZipFile(io.BytesIO(body(stream_zip(version=version))))
    features = _card_features(version)
    assert features["label"]["dtype"]["class_label"]["names"] == {"0": "zeta", "1": "alpha", "2": "mid"}
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["label_schema"]["labels"][1] == {
        "id": 1,
        "value": "alpha",
        "description": "first letter",
        "active": True,
        "replaced_by": None,
    }
    assert manifest["label_schema"]["multi_label"] is False


@pytest.mark.django_db
def test_a_multi_label_card_declares_a_sequence_of_class_labels():
    project = make_project(labels=("b", "a"), multi_label=True)
    ids = labelled_items(project, {"x": 2})
    Item.objects.filter(pk=ids[0]).update(consensus_label=["a", "b"])
    Item.objects.filter(pk=ids[1]).update(consensus_label=["a"])
    features = _card_features(freeze(project))
    assert features["label"]["sequence"]["class_label"]["names"] == {"0": "b", "1": "a"}


@pytest.mark.django_db
def test_class_ids_stay_the_same_when_a_label_has_no_rows_in_the_next_version(project):
    # Given a first version with rows of all three labels
    ids = labelled_items(project, {"zeta": 2, "alpha": 2, "mid": 2})
    first = freeze(project)
    # When alpha's items are discarded, the project reorders its labels, and a second version is frozen
    Item.objects.filter(pk__in=ids[2:4]).update(status=ItemStatus.DISCARDED)
    Label.objects.filter(project=project, value="mid").update(order=0)
    Label.objects.filter(project=project, value="zeta").update(order=5)
    second = freeze(project)
    # Then alpha still has id 1 and mid id 2 in every self-description of the second version
    for version in (first, second):
        frame = _parquet_labels(version)
        assert list(frame["label"].cat.categories) == ["zeta", "alpha", "mid"]
        codes = dict(zip(frame["label"].astype(str), frame["label"].cat.codes, strict=True))
        assert codes.get("zeta") == 0 and codes.get("mid") == 2
        assert _card_features(version)["label"]["dtype"]["class_label"]["names"] == {
            "0": "zeta",
            "1": "alpha",
            "2": "mid",
        }
    assert "alpha" not in set(_parquet_labels(second)["label"].astype(str))


@pytest.mark.django_db
def test_metadata_is_the_same_json_object_in_every_format(project):
    ids = labelled_items(project, {"alpha": 1})
    Item.objects.filter(pk=ids[0]).update(metadata={"n": 3, "nested": {"ok": True}})
    version = freeze(project)
    expected = {"n": 3, "nested": {"ok": True}}
    assert json.loads(body(stream_jsonl(version=version)))["metadata"] == expected
    assert json.loads(pd.read_csv(io.BytesIO(body(stream_csv(version=version))))["metadata"][0]) == expected
    assert json.loads(_parquet_labels(version)["metadata"][0]) == expected
    archive = zipfile.ZipFile(io.BytesIO(body(stream_zip(version=version))))
    (member,) = [name for name in archive.namelist() if name.startswith("data/")]
    assert json.loads(json.loads(archive.read(member))["metadata"]) == expected


@pytest.mark.django_db
def test_the_database_refuses_to_change_a_frozen_versions_label_schema(project):
    labelled_items(project, {"alpha": 1})
    version = freeze(project)
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        DatasetVersion.objects.filter(pk=version.pk).update(label_schema={"multi_label": False, "labels": []})


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_versions_frozen_before_it_a_schema_with_stable_ids():
    # Given a project with labels zeta, alpha, mid, and the datasets app as it was before label schemas
    project = make_project(labels=("zeta", "alpha", "mid"), name="Old")
    before, latest = (
        [("datasets", "0002_immutability_triggers")],
        [("datasets", "0003_datasetversion_label_schema")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("datasets", "DatasetVersion")
    # two frozen versions: the first with alpha rows, the second with zeta only
    common = {"project_id": project.pk, "counts": {}, "split_counts": {}, "policy": {}, "metrics": {}}
    first = old.objects.create(
        number=1, label_distribution={"zeta": 1, "alpha": 2}, checksum="a" * 64, **common
    )
    second = old.objects.create(
        number=2, parent_id=first.pk, label_distribution={"zeta": 3}, checksum="b" * 64, **common
    )
    # When the migration runs
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(latest)
    # Then both versions have the classes in project order, alpha kept where it has no rows
    for pk in (first.pk, second.pk):
        schema = DatasetVersion.objects.get(pk=pk).label_schema
        assert [(label["id"], label["value"]) for label in schema["labels"]] == [
            (0, "zeta"),
            (1, "alpha"),
            (2, "mid"),
        ]
    # and the frozen-version trigger covers the new column
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        DatasetVersion.objects.filter(pk=first.pk).update(label_schema={})
