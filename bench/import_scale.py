"""Import throughput and peak memory, end to end: reading, profiling, hashing, inserting, duplicate groups,
batch summary and drift.

    DATABASE_URL=postgres://... python bench/import_scale.py [--rows 100000] [--images 5000] [--big-mb 0]

Each import runs the import job's work function (``import_local_file``) in a fresh child process, so the peak
RSS reported (``ru_maxrss`` of the child) is that of a process doing exactly one import, as a worker would.
The parent only generates the input files (in a temporary directory) and prints a table. ``--big-mb`` adds a
CSV of that size with long rows, to show memory does not grow with the file. Not a test: numbers are printed.
"""

import argparse
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _vocabulary(size: int = 20_000, seed: int = 0) -> tuple[list[str], list[float]]:
    """Pseudo-words from syllables with Zipf frequencies: text statistics closer to real prose than a short
    word list (whose texts share so many shingles that everything looks like a near duplicate)."""
    rng = random.Random(seed)
    syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou", "ee")]
    words = sorted(
        {"".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))) for _ in range(size * 2)}
    )
    rng.shuffle(words)
    words = words[:size]
    return words, [1.0 / (rank + 1) for rank in range(len(words))]


def write_text_csv(path: Path, rows: int, *, words=(8, 40), seed: int = 1) -> None:
    """A CSV of ``rows`` texts: ~1% exact copies under new ids, ~1% one-word edits, ~0.5% blank."""
    rng = random.Random(seed)
    vocabulary, weights = _vocabulary()
    recent: list[str] = []
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("external_id,text,tags,gold_label\n")
        for i in range(rows):
            roll = rng.random()
            if roll < 0.01 and recent:
                text = rng.choice(recent)
            elif roll < 0.02 and recent:
                parts = rng.choice(recent).split()
                parts[rng.randrange(len(parts))] = rng.choice(vocabulary)
                text = " ".join(parts)
            elif roll < 0.025:
                text = "   "
            else:
                text = " ".join(rng.choices(vocabulary, weights, k=rng.randint(*words)))
                if len(recent) < 500:
                    recent.append(text)
                else:
                    recent[rng.randrange(500)] = text
            tags = rng.choice(("web", "mobile", "web;mobile", ""))
            out.write(f'row-{i},"{text}",{tags},\n')


def write_image_zip(path: Path, images: int, *, seed: int = 2) -> None:
    """A zip of PNG images, 64-256 px, smooth random patterns (distinct), ~1% exact copies."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    kept: list[bytes] = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for i in range(images):
            if kept and rng.random() < 0.01:
                data = kept[int(rng.integers(len(kept)))]
            else:
                side = int(rng.choice([64, 96, 128, 192, 256]))
                coarse = rng.random((6, 6, 3)) * 255
                img = Image.fromarray(coarse.astype(np.uint8), mode="RGB").resize(
                    (side, side), Image.Resampling.BICUBIC
                )
                buffer = io.BytesIO()
                img.save(buffer, format="PNG")
                data = buffer.getvalue()
                if len(kept) < 200:
                    kept.append(data)
            archive.writestr(f"images/{i:06d}.png", data)


def child(kind: str, path: str) -> None:
    """Run one import in this (fresh) process and print a JSON line with the measurements."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from annotation.services.projects import LabelSpec, project_create
    from ingress.services.imports import import_local_file

    user, _ = get_user_model().objects.get_or_create(username="bench-import")
    task = "text_classification" if kind != "images" else "image_classification"
    project = project_create(
        user=user,
        name=f"bench import {kind} {time.time():.0f}",
        task_type=task,
        labels=[LabelSpec(value="a"), LabelSpec(value="b")],
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start, cpu = time.perf_counter(), time.process_time()
    job = import_local_file(project=project, path=path, user=user)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    result = job.result or {}
    print(
        json.dumps(
            {
                "kind": kind,
                "status": job.status,
                "error": job.error[:300],
                "seconds": seconds,
                "cpu_seconds": cpu,
                "rows": result.get("rows"),
                "created": result.get("created"),
                "errors": result.get("errors"),
                "duplicates": result.get("duplicates"),
                "near_duplicates": result.get("near_duplicates"),
                "flags": result.get("flags"),
                "file_mb": os.path.getsize(path) / 2**20,
                "rss_after_setup_mb": rss_before,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "database": connection.vendor,
            }
        )
    )


def run_child(kind: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode or not lines:
        raise SystemExit(f"child {kind} failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--images", type=int, default=5_000)
    parser.add_argument("--big-mb", type=int, default=0, help="also import a CSV of about this many MB")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="labelgate-bench-import-") as tmp:
        work = Path(tmp)
        if args.rows:
            write_text_csv(work / "texts.csv", args.rows)
            results.append(run_child("text", work / "texts.csv"))
        if args.images:
            write_image_zip(work / "images.zip", args.images)
            results.append(run_child("images", work / "images.zip"))
        if args.big_mb:
            rows = args.big_mb * 2**20 // 3000  # long rows: ~3 KB each
            write_text_csv(work / "big.csv", rows, words=(300, 420), seed=3)
            results.append(run_child("big-text", work / "big.csv"))
    print(
        f"\n{'import':<10} {'file MB':>8} {'rows':>8} {'created':>8} {'seconds':>8} {'rows/s':>8} "
        f"{'CPU s':>7} {'rows/CPU-s':>10} {'RSS setup':>10} {'peak RSS':>9}  database"
    )
    for r in results:
        if r["status"] != "succeeded":
            print(f"{r['kind']}: FAILED {r['error']}")
            continue
        print(
            f"{r['kind']:<10} {r['file_mb']:>8.1f} {r['rows']:>8} {r['created']:>8} {r['seconds']:>8.1f} "
            f"{r['rows'] / r['seconds']:>8.0f} {r['cpu_seconds']:>7.1f} {r['rows'] / r['cpu_seconds']:>10.0f} "
            f"{r['rss_after_setup_mb']:>9.0f}M {r['peak_rss_mb']:>8.0f}M  {r['database']}"
        )
        print(
            f"{'':<10} duplicates {r['duplicates']}, errors {r['errors']}, groups {r['near_duplicates']}, flags {r['flags']}"
        )


if __name__ == "__main__":
    main()
