"""Demo image and audio projects, loaded through the real import pipeline (zip + manifest → import job).

External ids and file names are neutral (``digit-0001.png``, ``clip-0001.wav``) and numbered in a shuffled
order; the source reference (load_digits index, generator kind) is kept in the metadata, which annotators never
receive (annotation.blind).
Images: scikit-learn's bundled handwritten digits (8x8, 1,797 of them), rendered as 64x64 PNGs, in two batches;
the second batch is "scanned" darker so the batches page shows a brightness drift. A few exact copies show up
as duplicate groups. As in the text demo, a share of the digits is labelled three times by simulated annotators
from the real classes (with the mix-ups people make), and a few carry their class as gold. Audio: generated
one-second clips — pure tones, noise, chirps — with some silent, clipped, noisy and too-short ones so the
profiling flags (and routing to review) are visible.
Idempotent: a demo project that exists is left alone.
"""

import io
import json
import os
import random
import tempfile
import zipfile

import numpy as np
from django.db import transaction

from annotation.models import Project
from annotation.services.projects import LabelSpec, annotators_ensure, project_create
from ingress.demo.seed import EXTRA_SEEDERS, demo_user, simulate_votes
from ingress.services.imports import import_local_file

IMAGE_PROJECT = "Demo · Handwritten digits"
AUDIO_PROJECT = "Demo · Tones, noise and chirps"
RATE = 16_000
IMAGE_GUIDELINE = """# Which digit is this?

Each image is one handwritten digit, scanned at 8x8 pixels and enlarged. Press the digit's key.

* Judge the shape, not the stroke width: a thick **1** is still a 1.
* A **7** with a crossbar is a 7; an open-topped **4** is a 4.
* Flag **unsure** when two digits fit equally; **input unusable** when the image is blank or not a digit.
* Press **+** / **-** or use the mouse wheel to zoom, drag or the arrow keys to pan, **Home** to fit; the
  brightness and contrast sliders help with faint strokes (they change only your view).
"""
AUDIO_GUIDELINE = """# What kind of sound is this?

* **tone** — a steady pitch (a hum, a whistle, a beep), possibly with harmonics.
* **noise** — hiss or rumble with no pitch.
* **chirp** — a pitch that clearly rises or falls during the clip.

Listen (space plays/pauses, comma restarts, the arrow keys seek 5 s, a click on the picture jumps there); the waveform and spectrogram help: a tone is a flat line in the
spectrogram, a chirp a slanted one, noise a smear. Flag **input unusable** for silent clips.
"""


def _members(project: Project) -> None:
    annotators_ensure(project=project, users=[demo_user(name) for name in ("alice", "bob", "carol")])


def _zip(members: dict[str, bytes], manifest: list[dict]) -> str:
    """Write a zip with a manifest.csv to a temporary file; returns its path (the caller removes it)."""
    import csv

    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=["file", "external_id", "gold_label", "tags", "metadata"])
    writer.writeheader()
    writer.writerows(manifest)
    handle = tempfile.NamedTemporaryFile(prefix="labelgate-demo-", suffix=".zip", delete=False)  # noqa: SIM115
    with handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.csv", text.getvalue())
        for name, data in members.items():
            archive.writestr(name, data)
    return handle.name


def _import(project: Project, user, members: dict[str, bytes], manifest: list[dict], name: str) -> dict:
    path = os.path.join(tempfile.mkdtemp(prefix="labelgate-demo-"), name)
    os.replace(_zip(members, manifest), path)
    try:
        job = import_local_file(project=project, path=path, user=user)
    finally:
        os.remove(path)
        os.rmdir(os.path.dirname(path))
    if job.status != "succeeded" or job.result is None:
        raise RuntimeError(f"demo import failed: {job.error}")
    return job.result


def digit_png(pixels: np.ndarray, *, gain: float = 1.0, side: int = 64) -> bytes:
    """8x8 digit (0-16, ink high) → dark ink on paper, enlarged to ``side`` px; ``gain`` < 1 darkens the paper."""
    from PIL import Image

    paper = 255.0 * gain
    grey = np.clip(paper - pixels / 16.0 * paper * 0.95, 0, 255).astype(np.uint8)
    image = Image.fromarray(grey, mode="L").resize((side, side), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


# The digits a reader takes a badly written one for: the simulated annotators' mistakes come from these.
DIGIT_CONFUSIONS: dict[str, tuple[str, ...]] = {
    "0": ("6", "8", "9"),
    "1": ("7", "4", "2"),
    "2": ("7", "3", "1"),
    "3": ("8", "5", "9"),
    "4": ("9", "1", "7"),
    "5": ("6", "3", "9"),
    "6": ("5", "0", "8"),
    "7": ("1", "2", "9"),
    "8": ("3", "9", "0"),
    "9": ("4", "7", "8"),
}


def seed_image_project(
    *, seed: int = 11, n_images: int | None = None, simulate_fraction: float = 0.25
) -> str | None:
    if Project.objects.filter(name=IMAGE_PROJECT).exists():
        return None
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images[:n_images] if n_images else digits.images
    rng = np.random.default_rng(seed)
    manager = demo_user("manager", staff=True)
    with transaction.atomic():
        project = project_create(
            user=manager,
            name=IMAGE_PROJECT,
            task_type="image_classification",
            labels=[LabelSpec(value=str(d), hotkey=str(d)) for d in range(10)],
            annotations_per_item=3,
            gold_rate=0.05,
            guidelines=IMAGE_GUIDELINE,
            description="scikit-learn's handwritten digits (UCI optdigits), 8x8 scans enlarged to 64x64.",
            # 8x8 scans leave little detail for a perceptual hash: at the default distance (6) many merely
            # similar-looking digits would group, so only near-identical scans count here.
            profile_thresholds={"phash_distance": 2},
        )
        _members(project)
    gold = set(rng.choice(len(images), size=max(2, len(images) // 45), replace=False).tolist())
    split = len(images) * 2 // 3
    lines = []
    truth: list[tuple[str, str]] = []
    parts = ((0, split, 1.0, "scanner-a"), (split, len(images), 0.62, "scanner-b"))
    # Neutral ids and file names (digit-0001.png), numbered in a shuffled order: load_digits runs through the
    # classes in turn, so its index (or an id that follows it, as the item id follows insertion order) would tell
    # an annotator the digit. The index stays in the metadata, which only reviewers see.
    order = random.Random(seed)
    number = 0
    for part, (start, stop, gain, scanner) in enumerate(parts):
        members: dict[str, bytes] = {}
        manifest: list[dict] = []
        # Two exact re-scans under ids of their own: they appear as duplicate groups whose labels must agree.
        sources = [(index, False) for index in range(start, stop)] + [(start, True), (start + 1, True)]
        order.shuffle(sources)
        for index, rescan in sources:
            number += 1
            external_id = f"digit-{number:04d}"
            name = f"digits/{external_id}.png"
            members[name] = digit_png(images[index], gain=gain)
            metadata = {
                "source": "sklearn load_digits",
                "index": index,
                **({"rescan": True} if rescan else {}),
            }
            manifest.append(
                {
                    "file": name,
                    "external_id": external_id,
                    "gold_label": str(digits.target[index]) if index in gold and not rescan else "",
                    "tags": scanner,
                    "metadata": json.dumps(metadata),
                }
            )
            truth.append((external_id, str(digits.target[index])))
        result = _import(project, manager, members, manifest, f"digits-part{part + 1}.zip")
        lines.append(f"{result['created']} images in batch {result['batch']}")
        lines.extend(f"  {sentence}" for sentence in result["drift"])
    # As in the text demo: a share of the digits labelled three times by the simulated crowd, from the real
    # classes, so a quality run has votes to weigh against the gold digits. A quarter of 1,797 digits is already
    # more votes than the text demo's; each vote is a real submit, and they all run when the app first starts.
    with transaction.atomic():
        simulate_votes(
            project=project,
            truth=truth,
            rng=random.Random(seed),
            fraction=simulate_fraction,
            confusable=DIGIT_CONFUSIONS,
        )
    return f"Demo image project '{IMAGE_PROJECT}' loaded: " + "\n".join(lines)


def _wav(signal: np.ndarray) -> bytes:
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, signal.astype(np.float32), RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _clip(kind: str, rng: np.random.Generator, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.02)  # 20 ms fades: no clicks at the ends
    if kind == "tone":
        f0 = rng.uniform(180, 900)
        signal = sum(rng.uniform(0.2, 1.0) / h * np.sin(2 * np.pi * f0 * h * t) for h in (1, 2, 3))
    elif kind == "chirp":
        f_start, f_end = (rng.uniform(200, 500), rng.uniform(1500, 3500))
        if rng.random() < 0.5:
            f_start, f_end = f_end, f_start
        phase = 2 * np.pi * (f_start * t + (f_end - f_start) * t**2 / (2 * seconds))
        signal = np.sin(phase)
    else:
        white = rng.standard_normal(len(t))
        signal = np.cumsum(white) if rng.random() < 0.3 else white  # some brown noise among the white
        signal = signal - signal.mean()
    signal = signal / (np.max(np.abs(signal)) + 1e-9)
    return signal * rng.uniform(0.3, 0.8) * fade


def seed_audio_project(*, seed: int = 5, per_label: int = 30) -> str | None:
    if Project.objects.filter(name=AUDIO_PROJECT).exists():
        return None
    rng = np.random.default_rng(seed)
    manager = demo_user("manager", staff=True)
    with transaction.atomic():
        project = project_create(
            user=manager,
            name=AUDIO_PROJECT,
            task_type="audio_classification",
            labels=[
                LabelSpec(value="tone", hotkey="1", description="A steady pitch"),
                LabelSpec(value="noise", hotkey="2", description="Hiss or rumble, no pitch"),
                LabelSpec(value="chirp", hotkey="3", description="A rising or falling pitch"),
            ],
            annotations_per_item=3,
            gold_rate=0.05,
            guidelines=AUDIO_GUIDELINE,
            description="Generated one-second clips; some are silent, clipped, noisy or too short on purpose.",
        )
        _members(project)
    clips: list[tuple[bytes, str, dict]] = []
    for kind in ("tone", "noise", "chirp"):
        for i in range(per_label):
            signal, condition = _clip(kind, rng), "clean"
            if i == 0:
                # Not digital zero: a -80 dBFS hiss, so the silent clips are not byte-identical copies.
                signal, condition = 1e-4 * rng.standard_normal(len(signal)), "silent"
            elif i == 1:
                signal, condition = np.clip(signal * 4.0, -1.0, 1.0), "clipped"
            elif i == 2 and kind != "noise":
                signal, condition = signal * 0.15 + 0.12 * rng.standard_normal(len(signal)), "noisy"
            elif i == 3:
                signal, condition = _clip(kind, rng, seconds=0.3), "short"
            metadata = {"generator": "labelgate demo", "kind": kind, "variant": i, "condition": condition}
            clips.append((_wav(signal), kind if i in (5, 6) else "", metadata))
    # Neutral ids and file names (clip-0001.wav) in a shuffled order, as for the digits: "tone-08.wav", or a run
    # of item ids per kind, would give the answer away. The kind stays in the metadata, for reviewers only.
    random.Random(seed).shuffle(clips)
    members: dict[str, bytes] = {}
    manifest: list[dict] = []
    for number, (data, gold_label, metadata) in enumerate(clips, start=1):
        name = f"clips/clip-{number:04d}.wav"
        members[name] = data
        manifest.append(
            {
                "file": name,
                "external_id": f"clip-{number:04d}",
                "gold_label": gold_label,
                "tags": metadata["condition"],
                "metadata": json.dumps(metadata),
            }
        )
    result = _import(project, manager, members, manifest, "clips.zip")
    return (
        f"Demo audio project '{AUDIO_PROJECT}' loaded: {result['created']} clips, "
        f"{result['routed_to_review']} routed to review, flags {result['flags']}."
    )


for _seeder in (seed_image_project, seed_audio_project):
    if _seeder not in EXTRA_SEEDERS:
        EXTRA_SEEDERS.append(_seeder)
