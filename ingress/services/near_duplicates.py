"""Project-wide exact and near-duplicate groups, recomputed in bulk at the end of an import, and by a
refresh job after items arrive through the bulk API.

Exact duplicates share a sha256 (same bytes / same text under another external id): both are kept, flagged
``duplicate`` and put in one group. Near duplicates — images within a pHash Hamming distance, texts equal
after normalisation or with MinHash-estimated Jaccard similarity over a threshold — are flagged
``near_duplicate``. Similarity is chained (connected components), and a group's id is the smallest item id
in it, so ids are stable across runs without a counter. Hashes are streamed with ``values_list`` into compact
numpy arrays (about 16 bytes per item plus 128 bytes per text sketch), never whole rows.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice

import numpy as np
from django.db import connection, transaction

from annotation.item_flags import (
    DEFAULT_HAMMING,
    DEFAULT_JACCARD,
    DUP_FLAGS,
    DUPLICATE_FLAG,
    NEAR_DUPLICATE_FLAG,
    SKETCH_BYTES,
    SKETCH_PERM,
)
from annotation.models import Item, Project
from annotation.services.item_duplicates import item_dup_groups_set, item_sketches_set
from core import jobs
from core.models import Job, JobStatus
from ingress.job_kinds import NEAR_DUPLICATES_JOB
from ingress.services.batch_summaries import bulk_batches_summarise
from ingress.services.text_sketches import text_sketches
from kinds.registry import item_media

READ_CHUNK = 5000
LSH_WINDOW = 16
VERIFY_BLOCK = 50_000
WRITE_CHUNK = 2000
REFRESH_TASK = "annotation.near_dup_refresh"
# High 32 bits of the refresh's pg_advisory_xact_lock key (the low 32 are the project id); datasets' freeze
# lock uses the two-int form, a separate key space.
REFRESH_LOCK_NAMESPACE = 7_002


def _fill_missing_sketches(project: Project) -> int:
    """Sketch text items created outside the import job (bulk API), chunk by chunk."""
    from ingress import dedup  # lazy: scipy (keeps web/worker startup free of the ML stack)

    filled = 0
    pending = Item.objects.filter(project=project, minhash__isnull=True).order_by("id")
    last = 0
    while True:
        rows = list(pending.filter(id__gt=last).values_list("id", "text")[:WRITE_CHUNK])
        if not rows:
            return filled
        last = rows[-1][0]
        sketches = text_sketches([dedup.normalise_text(text) for _, text in rows])
        item_sketches_set(
            sketches=[(item_id, sketch) for (item_id, _), sketch in zip(rows, sketches, strict=True)]
        )
        filled += len(rows)


_NO_SKETCH = bytes(SKETCH_BYTES)


def _hex64(keys: tuple) -> np.ndarray:
    """The first 64 bits of each hex key as uint64 (an empty or missing key gives 0)."""
    text = "".join((key or "")[:16].rjust(16, "0") for key in keys)
    return np.frombuffer(bytes.fromhex(text), dtype=">u8").astype(np.uint64)


def _chain_edges(keys: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges linking equal keys (each index to the first with its key), among ``valid`` indices."""
    index = np.flatnonzero(valid)
    if len(index) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    _, first, inverse = np.unique(keys[index], return_index=True, return_inverse=True)
    left, right = index, index[first[inverse]]
    keep = left != right
    return left[keep], right[keep]


def refresh_lock_key(project_id: int) -> int:
    """The bigint advisory-lock key of (near-duplicate refresh, project). A project id past 2**32 shares its key
    with a smaller one: two such projects' refreshes wait for each other, which is slower, never wrong."""
    return (REFRESH_LOCK_NAMESPACE << 32) | (project_id & 0xFFFFFFFF)


@contextmanager
def _refresh_serialised(project_id: int) -> Iterator[None]:
    """One transaction holding the project's refresh lock, on PostgreSQL.

    Without it, a refresh that read the project before a newer one wrote could write its older groups over
    the newer ones (an item that became an exact duplicate went back to ``near_duplicate``). A second refresh
    waits at the lock and then reads what the first committed. On SQLite this is a no-op: a transaction there
    takes the database's one write lock at BEGIN (transaction_mode IMMEDIATE), so a whole-project refresh in
    one would block every other writer for its duration.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [refresh_lock_key(project_id)])
        yield


def near_dup_refresh(*, project: Project) -> dict:
    """Recompute duplicate groups for the whole project and store ``near_dup_group`` and dup flags.

    Only items whose group or dup flags change are written (bulk_update in chunks). Refreshes of one project
    are serialised (see ``_refresh_serialised``). Returns counts.
    """
    if item_media(project) == "text":
        # Before the lock: idempotent (only empty sketches are filled, with the same values by any refresh),
        # committed chunk by chunk so the new rows are not held locked for the whole refresh.
        _fill_missing_sketches(project)
    with _refresh_serialised(project.pk):
        return _refresh(project)


def _refresh(project: Project) -> dict:
    from ingress import dedup, phash  # lazy: scipy (keeps web/worker startup free of the ML stack)

    thresholds = project.profile_thresholds or {}
    media = item_media(project)
    is_text = media == "text"
    total = Item.objects.filter(project=project).count()
    ids = np.zeros(total, np.int64)
    sha = np.zeros(total, np.uint64)
    near = np.zeros(total, np.uint64)
    old_group = np.full(total, -1, np.int64)
    sketches = np.zeros((total, SKETCH_PERM), np.uint32) if is_text else None
    has_sketch = np.zeros(total, bool)
    fields = ["id", "sha256", "near_dup_key", "near_dup_group"] + (["minhash"] if is_text else [])
    n = 0
    rows = (
        Item.objects.filter(project=project)
        .order_by("id")
        .values_list(*fields)
        .iterator(chunk_size=READ_CHUNK)
    )
    # Converted a chunk at a time with whole-array operations: per-row numpy assignments and hashing were most of
    # the refresh's Python time.
    while n < total and (chunk := list(islice(rows, min(READ_CHUNK, total - n)))):
        end = n + len(chunk)  # rows added while reading are left to the next refresh
        columns = list(zip(*chunk, strict=True))
        ids[n:end] = columns[0]
        sha[n:end] = _hex64(columns[1])
        # Text keys are sha256 hex already: their first 64 bits are key enough (made non-zero, as 0 means no key).
        # Image/audio keys are 64-bit hex.
        keys = _hex64(columns[2])
        if is_text:
            keys |= np.uint64(1)
        keys[[not key for key in columns[2]]] = 0
        near[n:end] = keys
        old_group[n:end] = [-1 if group is None else group for group in columns[3]]
        if is_text:
            ok = np.array([m is not None and len(m) == SKETCH_BYTES for m in columns[4]], bool)
            packed = b"".join(
                bytes(m) if good else _NO_SKETCH for m, good in zip(columns[4], ok, strict=True)
            )
            sketches[n:end] = np.frombuffer(packed, dtype="<u4").reshape(-1, SKETCH_PERM)
            has_sketch[n:end] = ok
        n = end
    ids, sha, near, old_group, has_sketch = ids[:n], sha[:n], near[:n], old_group[:n], has_sketch[:n]
    exact_l, exact_r = _chain_edges(sha, np.ones(n, bool))
    lefts, rights = [exact_l], [exact_r]
    if media in ("text", "audio"):
        near_l, near_r = _chain_edges(near, near != 0)
        lefts.append(near_l)
        rights.append(near_r)
    else:
        valid = np.flatnonzero(near != 0)
        for group in phash.hamming_groups(
            near[valid], max_distance=int(thresholds.get("phash_distance", DEFAULT_HAMMING))
        ):
            members = valid[group]
            lefts.append(members[1:])
            rights.append(np.full(len(members) - 1, members[0]))
    if is_text and has_sketch.sum() > 1:
        lefts_s, rights_s = _minhash_edges(
            sketches[:n], has_sketch, float(thresholds.get("text_jaccard", DEFAULT_JACCARD))
        )
        lefts.append(lefts_s)
        rights.append(rights_s)
    del sketches
    new_group = np.full(n, -1, np.int64)
    for members in dedup.groups_from_pairs(n, np.concatenate(lefts), np.concatenate(rights)):
        new_group[members] = ids[members].min()
    exact = np.zeros(n, bool)
    exact[exact_l] = True
    exact[exact_r] = True
    return _store(ids, old_group, new_group, exact)


def near_dup_refresh_schedule(*, project: Project) -> Job:
    """A refresh job for the project that has not started yet: the one already queued, or a new one enqueued
    after commit. ``near_dup_refresh`` reads the whole project, so callers that add items often (the bulk API)
    share one waiting job instead of queueing a scan each.

    Precondition: the caller's new items are committed (call it from ``transaction.on_commit``); otherwise a
    queued job could start, and read the project, before they are visible. Two concurrent callers may both
    create a job; the later run then finds nothing to change.
    """
    waiting = (
        Job.objects.filter(project=project, kind=NEAR_DUPLICATES_JOB, status=JobStatus.QUEUED)
        .order_by("created_at", "id")
        .first()
    )
    if waiting is not None:
        return waiting
    return jobs.job_create(kind=NEAR_DUPLICATES_JOB, task_name=REFRESH_TASK, project=project)


def near_dup_refresh_run(job: Job, context: jobs.JobContext) -> dict:
    """Work function of the ``annotation.near_dup_refresh`` task: ``near_dup_refresh``'s counts, then the
    profile summary and drift of the bulk-API batches not summarised yet (``batches_summarised``: how many)."""
    project = Project.objects.get(pk=job.project_id)
    context.progress(0.05, "finding duplicates")
    result = near_dup_refresh(project=project)
    context.progress(0.9, "summarising bulk batches")
    # The bulk API schedules this job after each call that creates items: its batches are summarised here,
    # not only at the next file import.
    result["batches_summarised"] = bulk_batches_summarise(project=project)
    return result


def _minhash_edges(sketches: np.ndarray, has: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Verified near-duplicate edges between sketched texts, in memory bounded by the sketches themselves.

    ``dedup.lsh_candidate_pairs`` returns every candidate pair at once (up to 16 x bands x n of them, gigabytes
    for a big project of similar texts), so the banding is done here instead: per band, rows are sorted by
    band key and each is compared with its next ``LSH_WINDOW`` neighbours in the same bucket; candidates are
    verified (share of equal sketch entries >= ``threshold``) block by block and only verified edges are kept.
    """
    from ingress import dedup  # lazy: scipy (keeps web/worker startup free of the ML stack)

    index = np.flatnonzero(has)
    # A view when every item is sketched (the usual case): a copy would double the largest array of the refresh.
    sig = sketches if index.size == has.size else sketches[index]
    n = len(index)
    bands, rows = dedup.lsh_bands(SKETCH_PERM, threshold)
    lefts: list[np.ndarray] = []
    rights: list[np.ndarray] = []
    for band in range(bands):
        block = sig[:, band * rows : (band + 1) * rows].astype(np.uint64)
        key = np.zeros(n, np.uint64)
        for col in range(rows):
            key = (key ^ block[:, col]) * np.uint64(0x100000001B3) + np.uint64(col + 1)
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        for d in range(1, min(LSH_WINDOW, n - 1) + 1):
            same = np.flatnonzero(sorted_key[d:] == sorted_key[:-d])
            if not len(same):
                break
            for start in range(0, len(same), VERIFY_BLOCK):
                part = same[start : start + VERIFY_BLOCK]
                a, b = order[part], order[part + d]
                keep = (sig[a] == sig[b]).mean(axis=1) >= threshold
                lefts.append(a[keep])
                rights.append(b[keep])
    if not lefts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return index[np.concatenate(lefts)], index[np.concatenate(rights)]


def _store(ids: np.ndarray, old_group: np.ndarray, new_group: np.ndarray, exact: np.ndarray) -> dict:
    # Items in a group now or before may need their flags changed; nothing else is touched.
    touched = np.flatnonzero((new_group >= 0) | (old_group >= 0))
    position = {int(item_id): i for i, item_id in zip(touched, ids[touched], strict=True)}
    updated = 0
    touched_ids = list(position)
    for start in range(0, len(touched_ids), WRITE_CHUNK):
        chunk = touched_ids[start : start + WRITE_CHUNK]
        changes = []
        for item_id, flags in Item.objects.filter(id__in=chunk).values_list("id", "flags"):
            i = position[item_id]
            kept = [flag for flag in (flags or []) if flag not in DUP_FLAGS]
            if new_group[i] >= 0:
                kept.append(DUPLICATE_FLAG if exact[i] else NEAR_DUPLICATE_FLAG)
            group = int(new_group[i]) if new_group[i] >= 0 else None
            old = int(old_group[i]) if old_group[i] >= 0 else None
            if kept != (flags or []) or group != old:
                changes.append((item_id, kept, group))
        if changes:
            item_dup_groups_set(changes=changes)
            updated += len(changes)
    grouped = new_group[new_group >= 0]
    return {
        "groups": int(len(np.unique(grouped))),
        "items_in_groups": int(len(grouped)),
        "exact_duplicates": int(exact.sum()),
        "updated": updated,
    }
