"""Reads for the ingress pages and API: import jobs, batches, flagged items, duplicate groups.

Every function runs a bounded number of queries whatever the project size (per flag at most, and flags are
a fixed vocabulary).
"""

from django.db import connection
from django.db.models import Count, QuerySet

from annotation.flag_selectors import flag_rules, item_flag_explanations
from annotation.flag_text import flag_words
from annotation.models import Item, Project
from annotation.selectors import item_list
from core.models import Job
from ingress.job_kinds import IMPORT_JOB
from ingress.models import ImportBatch

FLAG_SAMPLE = 12


def import_jobs(*, project: Project) -> QuerySet[Job]:
    return Job.objects.filter(project=project, kind=IMPORT_JOB).order_by("-created_at", "id")


def import_job_get(*, project: Project, job_id) -> Job | None:
    return import_jobs(project=project).filter(pk=job_id).first()


def batch_list(*, project: Project) -> QuerySet[ImportBatch]:
    # The mergeable summary (reservoir samples) is only needed to compute drift, never to show a batch.
    return ImportBatch.objects.filter(project=project).defer("summary_state").order_by("-number")


def _media_url(item_id: int, has_file: bool) -> str | None:
    return f"/media/items/{item_id}/" if has_file else None


def near_duplicate_groups(*, project: Project, limit: int = 50) -> list[dict]:
    """The largest duplicate groups with their members' labels (two queries)."""
    heads = list(
        Item.objects.filter(project=project, near_dup_group__isnull=False)
        .order_by()
        .values("near_dup_group")
        .annotate(n=Count("id"))
        .order_by("-n", "near_dup_group")[:limit]
    )
    sizes = {row["near_dup_group"]: row["n"] for row in heads if row["near_dup_group"] is not None}
    members: dict[int, list[dict]] = {group: [] for group in sizes}
    rows = (
        Item.objects.filter(project=project, near_dup_group__in=list(sizes))
        .order_by("near_dup_group", "id")
        .values("id", "external_id", "flags", "final_label", "consensus_label", "file", "near_dup_group")
    )
    for row in rows[: limit * 20]:
        group = row["near_dup_group"]
        # Always set here (the filter is on the groups found above); the model allows items outside any group.
        if group is not None and len(members[group]) < 20:
            members[group].append(
                {
                    "id": row["id"],
                    "external_id": row["external_id"],
                    "flags": row["flags"],
                    "final_label": row["final_label"],
                    "consensus_label": row["consensus_label"],
                    "media_url": _media_url(row["id"], bool(row["file"])),
                }
            )
    groups = []
    for group, size in sizes.items():
        labels = {
            repr(m["final_label"] if m["final_label"] is not None else m["consensus_label"])
            for m in members[group]
            if m["final_label"] is not None or m["consensus_label"] is not None
        }
        groups.append(
            {"group": group, "size": size, "labels_disagree": len(labels) > 1, "members": members[group]}
        )
    return groups


def flag_counts(*, project: Project, flags: list[str]) -> dict[str, int]:
    """Items per flag. One scan on PostgreSQL (jsonb_array_elements_text); one count per flag elsewhere."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Item._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT flag, count(*) FROM {table}, jsonb_array_elements_text(flags) AS flag "
                "WHERE project_id = %s GROUP BY flag",
                [project.pk],
            )
            found = dict(cursor.fetchall())
        return {flag: found[flag] for flag in flags if found.get(flag)}
    counts = {flag: item_list(project=project, flag=flag).count() for flag in flags}
    return {flag: n for flag, n in counts.items() if n}


def flagged_by_flag(*, project: Project, flags: list[str]) -> list[dict]:
    """Per flag present in the project: how many items carry it, the flag in words and the rule that raises it
    under the project's thresholds, and a few examples, each with the value that raised its flag."""
    out = []
    counts = flag_counts(project=project, flags=flags)
    rules = flag_rules(project=project, flags=counts)
    for flag, count in counts.items():
        items = list(item_list(project=project, flag=flag).only(*_EXPLAIN_FIELDS)[:FLAG_SAMPLE])
        explained = item_flag_explanations(project=project, items=items)
        sample = []
        for item in items:
            sample.append(
                {
                    "id": item.pk,
                    "external_id": item.external_id,
                    "status": item.status,
                    "media_url": _media_url(item.pk, bool(item.file)),
                    "explanations": [e for e in explained[item.pk] if e.flag == flag],
                }
            )
        out.append(
            {"flag": flag, "words": flag_words(flag), "rule": rules[flag], "count": count, "items": sample}
        )
    return out


def flag_count_rows(*, project: Project, counts: dict[str, int]) -> list[dict]:
    """A batch's flag counts with each flag in words and its rule under the project's thresholds."""
    rules = flag_rules(project=project, flags=counts)
    return [
        {"flag": flag, "words": flag_words(flag), "rule": rules[flag], "count": n}
        for flag, n in counts.items()
    ]


_EXPLAIN_FIELDS = (
    "id",
    "external_id",
    "file",
    "status",
    "flags",
    "profile",
    "near_dup_group",
    "sha256",
    "near_dup_key",
    "minhash",
)


def ingress_panel_context(*, project: Project, user, role: str) -> dict:
    batches = list(batch_list(project=project)[:3])
    jobs = list(import_jobs(project=project)[:3])
    return {"project": project, "can_upload": role == "manager", "batches": batches, "jobs": jobs}
