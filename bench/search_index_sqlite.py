"""On the embedded default (SQLite), the cost of the first search after an import, which indexes every item
imported since the previous search, and of the search after it (nothing new to index).

    python bench/search_index_sqlite.py [--rows 10000 100000]

For each size, a fresh child process migrates a fresh SQLite file (``DATABASE_URL`` unset, ``LABELGATE_VAR_DIR`` a
temporary directory), imports that many rows from ``bench/import_scale.py``'s generator through
``item_bulk_create`` (10,000 at a time, as the bulk API allows), then times two searches for one word of the
text. ``uptime``'s load average is printed before each size. Not a test: numbers are printed.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(rows: int, var_dir: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from annotation.selectors import item_list
    from annotation.services.projects import LabelSpec, project_create
    from bench.import_scale import write_text_csv
    from ingress.services.bulk import item_bulk_create

    call_command("migrate", verbosity=0)
    project = project_create(
        user=get_user_model().objects.create_user("bench-search"),
        name="bench search",
        task_type="text_classification",
        labels=[LabelSpec(value="a"), LabelSpec(value="b")],
    )
    path = Path(var_dir) / "texts.csv"
    write_text_csv(path, rows)
    with open(path, encoding="utf-8", newline="") as handle:
        items = [{"external_id": r["external_id"], "text": r["text"]} for r in csv.DictReader(handle)]
    for offset in range(0, len(items), 10_000):
        item_bulk_create(project=project, rows=items[offset : offset + 10_000])
    word = next(text.split()[0] for text in (item["text"] for item in items) if text.strip())
    out: dict = {"rows": rows, "word": word}
    for name in ("first_search_s", "second_search_s"):
        start = time.perf_counter()
        out["found"] = item_list(project=project, q=word).count()
        out[name] = round(time.perf_counter() - start, 3)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM annotation_item_fts")
        out["fts_rows"] = cursor.fetchone()[0]
    print("RESULT " + json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--var-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.var_dir)
        return
    for rows in args.rows:
        print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)
        with tempfile.TemporaryDirectory() as var_dir:
            env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
            env.update(LABELGATE_VAR_DIR=var_dir, CELERY_BROKER_URL="filesystem://")
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(rows), "--var-dir", var_dir],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode:
                sys.exit(done.stderr[-4000:])
            print(next(line for line in done.stdout.splitlines() if line.startswith("RESULT ")), flush=True)


if __name__ == "__main__":
    main()
