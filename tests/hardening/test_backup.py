"""Backups: scripts/backup.sh then scripts/restore.sh into a NEW database and media directory give back every
dataset version (its checksum still verifies), every item and the exact media bytes."""

import base64
import hashlib
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from annotation.models import Item, ItemStatus
from datasets.models import DatasetVersion
from tests.conftest import ROOT, database_url_for_test_db
from tests.datasets.builders import freeze, labelled_items
from tests.factories import make_project
from tests.ingress.ingress_fixtures import png_bytes

SCRIPTS = ROOT / "scripts"


def run(args: list, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(arg) for arg in args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{args[:2]} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def script_env(*, database_url: str, media_root: Path, var_dir: Path) -> dict:
    env = os.environ.copy()
    env.update(
        DATABASE_URL=database_url,
        MEDIA_ROOT=str(media_root),
        LABELGATE_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return env


def media_digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def seed() -> list[int]:
    """A text project with two frozen versions and an image project (real PNG files in MEDIA_ROOT) with one.
    Returns the version ids."""
    from ingress.services.bulk import item_bulk_create

    text = make_project(name="Backed-up text")
    labelled_items(text, {"pos": 4, "neg": 3}, prefix="t")
    first = freeze(text, name="first")
    labelled_items(text, {"neutral": 2}, prefix="u")
    second = freeze(text, name="second")
    images = make_project(name="Backed-up images", task_type="image_classification", labels=("cat", "dog"))
    rows = [
        {
            "external_id": f"img{i}",
            "file_b64": base64.b64encode(png_bytes(pattern=i + 2)).decode(),
            "file_name": f"{i}.png",
        }
        for i in range(3)
    ]
    result = item_bulk_create(project=images, rows=rows)
    assert not result.errors and result.created == 3, result.errors
    Item.objects.filter(project=images).update(
        status=ItemStatus.LABELLED, consensus_label="cat", consensus_confidence=0.9
    )
    third = freeze(images, name="images")
    assert all(version.n_entries > 0 for version in (first, second, third))
    return [first.pk, second.pk, third.pk]


@pytest.fixture
def new_database(transactional_db):
    """An empty database on the test server (CREATE DATABASE through psql), dropped afterwards."""
    source = urlsplit(database_url_for_test_db())
    name = f"lg_restore_{uuid.uuid4().hex[:10]}"
    admin_url = urlunsplit(("postgresql", source.netloc, "/postgres", "", ""))
    env = os.environ.copy()
    run(["psql", "-XAtq", f"--dbname={admin_url}", "-c", f'CREATE DATABASE "{name}"'], env)
    yield urlunsplit(("postgres", source.netloc, f"/{name}", "", ""))
    run(
        ["psql", "-XAtq", f"--dbname={admin_url}", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
        env,
    )


@pytest.mark.postgres
def test_backup_then_restore_into_a_new_database_keeps_every_version_verifiable_and_every_media_byte(
    new_database, media_roots
):
    # Given projects with items, image files and frozen dataset versions, committed to the test database
    version_ids = seed()
    n_items = Item.objects.count()
    original_media = media_digests(media_roots["media"])
    assert len(original_media) >= 3
    tmp = media_roots["tmp"]
    backup_dir = tmp / "backup"

    # When backup.sh dumps the test database and its media
    run(
        ["bash", SCRIPTS / "backup.sh", backup_dir],
        script_env(
            database_url=database_url_for_test_db(), media_root=media_roots["media"], var_dir=tmp / "var"
        ),
    )
    # And restore.sh loads it into a new, empty database and a new media directory
    restored_media = tmp / "restored-media"
    restored = script_env(database_url=new_database, media_root=restored_media, var_dir=tmp / "var2")
    run(["bash", SCRIPTS / "restore.sh", backup_dir], restored)

    # Then every dataset version verifies against the RESTORED database
    out = run([sys.executable, "manage.py", "verify_dataset_checksums"], restored).stdout
    lines = [line for line in out.splitlines() if line.startswith("project ")]
    assert sorted(int(line.split("(id ")[1].split(")")[0]) for line in lines) == sorted(version_ids), out
    assert all(line.endswith(": ok") for line in lines), out
    assert f"{len(version_ids)} versions verified." in out
    # And the restored database holds every item
    count = run(
        [
            "psql",
            "-XAtq",
            f"--dbname={new_database.replace('postgres://', 'postgresql://', 1)}",
            "-c",
            f"SELECT count(*) FROM {Item._meta.db_table}",
        ],
        restored,
    ).stdout.strip()
    assert int(count) == n_items
    # And the media bytes are identical, file for file
    assert media_digests(restored_media) == original_media
    assert DatasetVersion.objects.count() == len(version_ids)  # the source database is untouched


def test_restore_refuses_a_non_empty_target_and_a_damaged_backup(tmp_path):
    # Given an embedded-style SQLite database (WAL, as the app runs it) and media, backed up
    source_db = tmp_path / "var" / "labelgate.sqlite3"
    source_db.parent.mkdir()
    with sqlite3.connect(source_db) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (x INTEGER)")
        db.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(50)])
    media = tmp_path / "media"
    (media / "projects" / "1").mkdir(parents=True)
    (media / "projects" / "1" / "a.png").write_bytes(png_bytes(pattern=3))
    source_env = script_env(database_url=f"sqlite:///{source_db}", media_root=media, var_dir=tmp_path / "var")
    run(["bash", SCRIPTS / "backup.sh", tmp_path / "backup"], source_env)

    # When it is restored into a fresh location, it comes back whole
    target_db = tmp_path / "restored" / "labelgate.sqlite3"
    target_env = script_env(
        database_url=f"sqlite:///{target_db}", media_root=tmp_path / "media2", var_dir=tmp_path / "var2"
    )
    run(["bash", SCRIPTS / "restore.sh", tmp_path / "backup"], target_env)
    with sqlite3.connect(target_db) as db:
        assert db.execute("SELECT count(*), sum(x) FROM t").fetchone() == (50, sum(range(50)))
    assert media_digests(tmp_path / "media2") == media_digests(media)

    # Then restoring again over the now non-empty target is refused, and nothing changes
    again = subprocess.run(
        ["bash", str(SCRIPTS / "restore.sh"), str(tmp_path / "backup")],
        env=target_env,
        capture_output=True,
        text=True,
    )
    assert again.returncode != 0 and "not empty" in again.stderr
    # And a damaged backup is refused before anything is written
    with open(tmp_path / "backup" / "media.tar", "ab") as tar:
        tar.write(b"x")
    fresh_env = script_env(
        database_url=f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        media_root=tmp_path / "media3",
        var_dir=tmp_path / "var3",
    )
    damaged = subprocess.run(
        ["bash", str(SCRIPTS / "restore.sh"), str(tmp_path / "backup")],
        env=fresh_env,
        capture_output=True,
        text=True,
    )
    assert damaged.returncode != 0 and "damaged" in damaged.stderr
    assert not (tmp_path / "fresh.sqlite3").exists() and not (tmp_path / "media3").exists()
