"""Ingress core throughput: read + hash + profile + summarise (no database).

Text: 100,000 CSV rows streamed from a temporary file. Images: 5,000 PNGs (scikit-learn's bundled 8x8
digits, scaled to 64x64 with noise) in a zip. Near-duplicate grouping of both runs afterwards. Peak RSS
is the process maximum (ru_maxrss), imports included.
"""

import io
import os
import random
import resource
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from ingress import dedup, phash, profile_summary, profiling  # noqa: E402
from ingress.readers import RawRow, read_csv, read_zip  # noqa: E402

N_TEXT = 100_000
N_IMAGES = 5_000


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _write_csv(path: str) -> None:
    rng = random.Random(0)
    words = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
        for _ in range(5000)
    ]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("external_id,text,tags,gold_label,source\n")
        for i in range(N_TEXT):
            text = " ".join(rng.choice(words) for _ in range(rng.randint(8, 30)))
            handle.write(f'r{i},"{text}",a;b,{"pos" if i % 2 else "neg"},web\n')


def _write_zip(path: str) -> None:
    digits = load_digits().images
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for i in range(N_IMAGES):
            small = (digits[i % len(digits)] * 255 / 16).astype(np.uint8)
            big = np.asarray(Image.fromarray(small).resize((64, 64), Image.Resampling.BILINEAR), dtype=float)
            noisy = np.clip(big + rng.normal(0, 6, big.shape), 0, 255).astype(np.uint8)
            buffer = io.BytesIO()
            Image.fromarray(noisy).save(buffer, format="PNG")
            zf.writestr(f"digits/{i:05d}.png", buffer.getvalue())


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def bench_text(path: str):
    texts: list[str] = []

    def run():
        builder = profile_summary.SummaryBuilder()
        errors = 0
        with open(path, "rb") as handle:
            for row in read_csv(handle):
                if not isinstance(row, RawRow):
                    errors += 1
                    continue
                dedup.sha256_text(row.text or "")
                profile = profiling.profile_text(row.text or "")
                profiling.flags_for(profile)
                builder.add(profile)
                texts.append(row.text or "")
        return builder.build(), errors

    (_, errors), wall, cpu = _timed(run)
    groups, g_wall, g_cpu = _timed(lambda: dedup.near_duplicate_text_groups(texts))
    return errors, wall, cpu, g_wall, g_cpu, len(groups)


def bench_images(path: str):
    hashes: list[int] = []

    def run():
        builder = profile_summary.SummaryBuilder()
        errors = 0
        for row in read_zip(path):
            if not isinstance(row, RawRow):
                errors += 1
                continue
            dedup.sha256_bytes(row.file_bytes or b"")
            profile = profiling.profile_image(row.file_bytes or b"")
            profiling.flags_for(profile)
            builder.add(profile)
            hashes.append(int(profile["phash"], 16))
        return builder.build(), errors

    (_, errors), wall, cpu = _timed(run)
    arr = np.array(hashes, dtype=np.uint64)
    groups, g_wall, g_cpu = _timed(lambda: phash.hamming_groups(arr, max_distance=6))
    return errors, wall, cpu, g_wall, g_cpu, len(groups)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        csv_path, zip_path = os.path.join(tmp, "rows.csv"), os.path.join(tmp, "images.zip")
        _write_csv(csv_path)
        _write_zip(zip_path)
        rss_before = _rss_mb()
        t = bench_text(csv_path)
        i = bench_images(zip_path)
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.1f} during run; peak RSS {_rss_mb():.0f} MB "
          f"(after setup {rss_before:.0f} MB)")  # fmt: skip
    print(
        f"{'stage':42} {'items':>8} {'wall s':>8} {'cpu s':>8} {'items/s (wall)':>15} {'items/s (cpu)':>14}"
    )
    rows = [
        ("text CSV: read+sha256+profile+flags+drift", N_TEXT, t[1], t[2]),
        ("text near-duplicate groups (MinHash/LSH)", N_TEXT, t[3], t[4]),
        ("PNG zip: read+sha256+profile+pHash+drift", N_IMAGES, i[1], i[2]),
        ("image near-duplicate groups (Hamming<=6)", N_IMAGES, i[3], i[4]),
    ]
    for name, n, wall, cpu in rows:
        print(f"{name:42} {n:>8} {wall:>8.2f} {cpu:>8.2f} {n / wall:>15,.0f} {n / max(cpu, 1e-9):>14,.0f}")
    print(f"row errors: text {t[0]}, images {i[0]}; groups: text {t[5]}, images {i[5]}")


if __name__ == "__main__":
    main()
